package pfsense

import (
	"fmt"

	"github.com/voicewall/voicewall/backends"
	"regexp"
	"strconv"
	"strings"
)

// MaxAliasLen is pfSense's alias name limit: is_validaliasname() rejects
// strlen($name) >= 32 (src/etc/inc/util.inc).
const MaxAliasLen = 31

var aliasRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// reserved are names pfSense rejects besides the character rules: "port",
// "pass" (is_validaliasname), pf keywords ($pf_reserved_keywords in
// globals.inc, case-insensitive). Service and protocol names (getservbyname,
// getprotobyname) never contain '_', and every name voicewall derives
// starts with "VW_", so none of those can be produced; the list is kept for
// ValidAliasName, which the tests and the base merge also use.
var reserved = map[string]bool{
	"port": true, "pass": true, "all": true, "any": true, "log": true, "rule": true, "tos": true,
	"tcp": true, "udp": true, "icmp": true, "sip": true, "sips": true, "http": true, "https": true,
	"ssh": true, "telnet": true, "snmp": true, "table": true, "tag": true, "tagged": true, "in": true,
	"out": true, "on": true, "from": true, "to": true, "block": true, "match": true, "nat": true,
	"rdr": true, "inet": true, "inet6": true, "self": true, "pppoe": true, "label": true,
}

// ValidAliasName reports whether pfSense accepts name as an alias name.
func ValidAliasName(name string) bool {
	if name == "" || len(name) > MaxAliasLen || !aliasRE.MatchString(name) {
		return false
	}
	if strings.Trim(name, "_") == "" || strings.Trim(name, "0123456789") == "" {
		return false
	}
	if reserved[strings.ToLower(name)] {
		return false
	}
	l := strings.ToLower(name)
	return !strings.HasPrefix(l, "pkg_") && !strings.HasPrefix(l, "cpzoneid_")
}

// newNamer hands out alias names: "VW_" + the upper-cased model name, cut
// to 31 characters with a hash of the full name when too long, and made
// unique deterministically (a collision gets a counter folded into the
// hash). Names already taken (the base config's own aliases, interface
// descriptions) are never reused; pfSense compares them case-insensitively.
func newNamer() *namer {
	return &namer{backends.Namer{Max: MaxAliasLen, Trim: "_", Fold: true, Valid: ValidAliasName,
		Tag: func(key, _ string, i int) string {
			return fmt.Sprintf("_%06X", backends.Hash32(key+"#"+strconv.Itoa(i))&0xffffff)
		}}}
}

type namer struct{ backends.Namer }

// name returns the alias name for key (stable: the same key gives the same
// name within one compile).
func (n *namer) name(key string) string { return n.Name(key, "VW_"+strings.ToUpper(sanitize(key))) }

// sanitize keeps [A-Za-z0-9_]; '-' and anything else become '_'.
func sanitize(s string) string { return backends.CleanName(s, "") }
