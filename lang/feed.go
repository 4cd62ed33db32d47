package lang

import (
	"math/big"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Feed is where `voicewall refresh` downloads a blocklist's file from, and
// the limits a download must keep before it may replace the file. lang only
// records it: it never downloads (the refresh does, then hands the candidate
// back through LoadOptions.Overlay).
type Feed struct {
	// URL is the http(s) address of a plain list; "" for an API feed.
	URL string
	// APIBAN is the APIBAN set ("sip") for feed = "apiban:SET"; "" otherwise.
	APIBAN string
	// KeyFile is the resolved path of the file holding the API key (APIBAN).
	KeyFile string
	// AllowHTTP: the policy accepts a cleartext http URL (a local mirror).
	AllowHTTP bool
	// MaxShare is the largest fraction (0..1] of the address space the list
	// may cover, one entry or all together: of all IPv4, and of IPv6's
	// global unicast space (2000::/3), each family on its own.
	MaxShare float64
	// MaxChange is the factor by which the entry count may grow or shrink
	// against the last good file (growth of a list under MinChangeBase
	// entries is measured from MinChangeBase).
	MaxChange float64
	// File is the blocklist file the feed replaces (resolved path) and
	// Display its name as diagnostics show it.
	File, Display string
	FileRange     hcl.Range // where the file is named
	Range         hcl.Range // the feed attribute
}

// Feed guard defaults. A VoIP scanner feed lists single hosts and a few
// ranges: the 100,000 lines the language treats as normal, every one a
// /24, would still cover only 0.6% of IPv4. A list that covers more than
// 1% is far outside what such a feed publishes and is what cutting a
// gateway off the Internet looks like. A factor of 10 lets a feed double
// or halve between refreshes many times over, yet stops a feed that
// suddenly returns a handful of lines (an error page) or a million.
const (
	DefaultFeedMaxShare  = 0.01
	DefaultFeedMaxChange = 10.0
	// MinChangeBase keeps max_change from refusing a small list's growth
	// for a small absolute change (3 entries growing to 40).
	MinChangeBase = 100
)

// APIBANSets are the sets `feed = "apiban:SET"` may name.
var APIBANSets = []string{"sip"}

// feedAttrs are the blocklist attributes that only a feed may carry.
var feedAttrs = []string{"key_file", "allow_http", "max_share", "max_change"}

// feed decodes a blocklist's feed attributes. files are its file/files.
func (d *decoder) feed(b *rawBlock, files []strItem) *Feed {
	a := b.attrs["feed"]
	if a == nil {
		for _, n := range feedAttrs {
			if x := b.attrs[n]; x != nil {
				d.add(errorf(IDSchema, x.NameRange, "Attribute without a feed", "%s only applies to a blocklist that has feed = \"https://...\"; add the feed or remove %s.", n, n))
			}
		}
		return nil
	}
	s, ok := d.str(a)
	if !ok {
		return nil
	}
	f := &Feed{MaxShare: DefaultFeedMaxShare, MaxChange: DefaultFeedMaxChange, Range: s.rng}
	if x := b.attrs["allow_http"]; x != nil {
		f.AllowHTTP, _ = d.boolean(x)
	}
	if set, isAPI := strings.CutPrefix(s.s, "apiban:"); isAPI {
		if !contains(APIBANSets, set) {
			d.add(errorf(IDBadValue, s.rng, "Unknown APIBAN set", "%q: APIBAN feeds are %s.%s", set, quoteAll("apiban:", APIBANSets), suggest(set, APIBANSets)))
			return nil
		}
		f.APIBAN = set
		k := b.attrs["key_file"]
		if k == nil {
			d.add(errorf(IDSchema, s.rng, "APIBAN feed without a key", "APIBAN needs an API key: add key_file = \"/etc/voicewall/apiban.key\" (a file holding the key, readable by root only)."))
			return nil
		}
		ks, ok := d.str(k)
		if !ok {
			return nil
		}
		if ks.s == "" {
			d.add(errorf(IDBadValue, ks.rng, "Empty key_file", "key_file names the file holding the APIBAN key."))
			return nil
		}
		f.KeyFile = resolveRelative(b.file, ks.s)
		// The key is sent to APIBAN: a key_file naming another file
		// (/etc/shadow) would send that file's first line off the host.
		if err := d.scope.check(f.KeyFile); err != nil {
			d.add(errorf(IDBadValue, ks.rng, "key_file outside what the policy may read", "%s. voicewall reads nothing there.", errText(err)))
			return nil
		}
		if x := b.attrs["allow_http"]; x != nil {
			d.add(errorf(IDSchema, x.NameRange, "allow_http on an APIBAN feed", "APIBAN is always fetched over https; remove allow_http."))
		}
	} else {
		if k := b.attrs["key_file"]; k != nil {
			d.add(errorf(IDSchema, k.NameRange, "key_file without an API feed", "key_file is for feed = \"apiban:sip\"; a list URL carries no key. Remove key_file."))
		}
		if !d.feedURL(f, s) {
			return nil
		}
	}
	if x := b.attrs["max_share"]; x != nil {
		if v, ok := d.str(x); ok {
			share, err := parseShare(v.s)
			if err != "" {
				d.add(errorf(IDBadValue, v.rng, "Bad max_share", "%q: %s; write a percentage of the address space such as \"1%%\" or \"0.5%%\".", v.s, err))
			} else {
				f.MaxShare = share
			}
		}
	}
	if x := b.attrs["max_change"]; x != nil {
		if v, ok := d.value(x, cty.Number); ok {
			n, _ := v.AsBigFloat().Float64()
			if v.AsBigFloat().Cmp(big.NewFloat(1)) <= 0 || n > 1e6 {
				d.add(errorf(IDBadValue, x.Expr.Range(), "Bad max_change", "max_change is the factor a list may grow or shrink by between two refreshes: a number above 1 and at most 1000000 (default %g).", DefaultFeedMaxChange))
			} else {
				f.MaxChange = n
			}
		}
	}
	switch {
	case len(files) != 1 || b.attrs["files"] != nil:
		d.add(errorf(IDSchema, s.rng, "Feed without one file", "A feed is downloaded into the blocklist's file: give exactly one file = \"blocklists/NAME.txt\" (not files = [...])."))
		return nil
	}
	f.File = resolveRelative(b.file, files[0].s)
	f.Display = displayRel(b.file.name, files[0].s)
	f.FileRange = files[0].rng
	return f
}

// feedURL checks a list URL: https (http only with allow_http), a host,
// no credentials (they would show in logs and metrics).
func (d *decoder) feedURL(f *Feed, s strItem) bool {
	u, err := url.Parse(s.s)
	bad := func(why string) bool {
		d.add(errorf(IDBadValue, s.rng, "Bad feed URL", "%q: %s.", s.s, why))
		return false
	}
	switch {
	case err != nil || !printableURL(s.s):
		return bad("not a URL; write feed = \"https://host/path\"")
	case u.Scheme == "http" && !f.AllowHTTP:
		return bad("a cleartext http download can be changed by anyone on the path, and the list decides what the gateway drops; use https, or for a mirror on your own network add allow_http = true")
	case u.Scheme != "https" && u.Scheme != "http":
		return bad("feeds are downloaded over https (or http with allow_http = true); for APIBAN write \"apiban:sip\"")
	case u.Host == "" || u.Hostname() == "":
		return bad("the URL has no host")
	case u.User != nil:
		return bad("credentials in a feed URL end up in logs and metrics; use a URL without user:password")
	}
	if u.Scheme == "https" && f.AllowHTTP {
		d.add(warnf(IDBadValue, s.rng, "allow_http with an https feed", "allow_http = true has no effect on an https URL; remove it."))
		f.AllowHTTP = false
	}
	f.URL = s.s
	return true
}

func printableURL(s string) bool {
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return s != ""
}

// parseShare reads "1%" (or "0.5%") as a fraction; the error is "" when ok.
func parseShare(s string) (float64, string) {
	n, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, "the share needs a % sign"
	}
	v, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return 0, "not a number"
	}
	if !(v > 0 && v <= 100) {
		return 0, "the share must be above 0% and at most 100%"
	}
	return v / 100, ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteAll(prefix string, list []string) string {
	q := make([]string, len(list))
	for i, x := range list {
		q[i] = strconv.Quote(prefix + x)
	}
	return strings.Join(q, ", ")
}

// NamedFeed is a blocklist's feed with the blocklist's name.
type NamedFeed struct {
	Blocklist string
	*Feed
}

// Feeds lists the feeds of the policy at path, in blocklist name order,
// without opening any blocklist file (a feed's file may not exist before its
// first download). Like InputFiles it parses and decodes the HCL with the
// loader's own schema; errors in the feed attributes are reported. The
// Loaded carries the diagnostics and sources (its Policy is always nil).
func Feeds(path string) ([]NamedFeed, *Loaded) {
	if path == "" {
		path = "."
	}
	scope := newReadScope(path, nil)
	srcs, root, diags := readSources(path, scope)
	if diags.HasErrors() {
		return nil, &Loaded{Files: Files{}, Diags: diags}
	}
	files, bodies, diags := parseSources(srcs)
	l := &Loaded{Root: root, Files: files, Diags: diags}
	if diags.HasErrors() {
		return nil, l
	}
	d := &decoder{files: files, scope: scope}
	raw := d.uses(d.decode(bodies))
	var out []NamedFeed
	for _, b := range raw {
		if b.typ != "blocklist" {
			continue
		}
		f := d.feed(b, d.blocklistFiles(b))
		if f == nil {
			continue
		}
		// The refresh writes the download there: never outside what the
		// policy may read (file = "/etc/cron.d/x" would have root write
		// it). The full load reports it when it reads the file.
		if err := d.scope.check(f.File); err != nil {
			d.add(errorf(IDBlocklistFile, f.FileRange, "Feed file outside what the policy may read", "%s. A feed is downloaded into its blocklist's file, which must be inside them too.", errText(err)))
			continue
		}
		out = append(out, NamedFeed{b.label, f})
	}
	l.Diags = append(l.Diags, d.diags...)
	if l.Diags.HasErrors() {
		return nil, l
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Blocklist < out[j].Blocklist })
	return out, l
}
