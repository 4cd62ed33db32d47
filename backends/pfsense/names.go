package pfsense

import (
	"fmt"

	"github.com/voicewall/voicewall/backends"
	"hash/fnv"
	"regexp"
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

// namer hands out alias names: "VW_" + the upper-cased model name, cut to 31
// characters with a hash of the full name when too long, and made unique
// deterministically (a collision gets a counter folded into the hash).
// Names already taken (the base config's own aliases, interface
// descriptions) are never reused.
type namer struct {
	taken map[string]bool // lower-cased
	byKey map[string]string
}

func newNamer() *namer { return &namer{taken: map[string]bool{}, byKey: map[string]string{}} }

func (n *namer) reserve(name string) { n.taken[strings.ToLower(name)] = true }

// name returns the alias name for key (stable: the same key gives the same
// name within one compile).
func (n *namer) name(key string) string {
	if v, ok := n.byKey[key]; ok {
		return v
	}
	base := "VW_" + strings.ToUpper(sanitize(key))
	cand := base
	for i := 0; ; i++ {
		if i > 0 || len(cand) > MaxAliasLen {
			h := fnv.New32a()
			fmt.Fprintf(h, "%s#%d", key, i)
			suffix := fmt.Sprintf("_%06X", h.Sum32()&0xffffff)
			cut := base
			if len(cut) > MaxAliasLen-len(suffix) {
				cut = cut[:MaxAliasLen-len(suffix)]
			}
			cand = strings.TrimRight(cut, "_") + suffix
		}
		if !n.taken[strings.ToLower(cand)] && ValidAliasName(cand) {
			break
		}
		if i > 1000 { // unreachable in practice; keep the loop finite
			panic("pfsense: cannot allocate alias name for " + key)
		}
	}
	n.reserve(cand)
	n.byKey[key] = cand
	return cand
}

// sanitize keeps [A-Za-z0-9_]; '-' and anything else become '_'.
func sanitize(s string) string { return backends.CleanName(s, "") }
