// Package catalog is voicewall's provider catalog: the signaling and media
// ranges, transports, ports and DNS names that SIP providers publish, each
// entry with the URL of the provider's documentation it came from and the
// date it was verified. The data lives in data/*.hcl (reviewed like code)
// and is embedded in the binary; `voicewall providers update` may overlay
// newer machine-readable copies from the state directory.
//
// The catalog is an input to lang (lang.CatalogOf makes it one), never read
// by lang on its own: the caller chooses which catalog a compile sees.
package catalog

import (
	"embed"
	"fmt"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

//go:embed data/*.hcl
var dataFS embed.FS

// Source is one document an entry's facts come from.
type Source struct {
	URL string `hcl:"url" json:"url"`
	// Owner is "provider" (the provider's own documentation or machine-
	// readable file) or "third-party" (another vendor's list that repeats the
	// provider's ranges; used only where the provider's own copy could not
	// be read, and said so in the entry's notes).
	Owner string `hcl:"owner" json:"owner"`
	// Seen is the date the read copy shows (its "last modified" or version),
	// or "" when the copy shows none.
	Seen string `hcl:"seen,optional" json:"seen,omitempty"`
	// Covers says which of the entry's facts this source gives.
	Covers string `hcl:"covers" json:"covers"`
}

// Entry is one provider (or one region of a provider that publishes ranges
// per region).
type Entry struct {
	Name       string   `hcl:"name,label" json:"name"`
	Provider   string   `hcl:"provider" json:"provider"`
	Region     string   `hcl:"region,optional" json:"region,omitempty"`
	Family     string   `hcl:"family" json:"family"` // entries of one family may share ranges
	Signaling  []string `hcl:"signaling" json:"signaling"`
	Media      []string `hcl:"media,optional" json:"media,omitempty"`
	Transports []string `hcl:"transports" json:"transports"`
	SIPPort    int      `hcl:"sip_port,optional" json:"sip_port,omitempty"`
	// SIPPorts is "LOW-HIGH" for a provider whose udp/tcp SIP uses a range
	// of ports (instead of sip_port).
	SIPPorts     string   `hcl:"sip_ports,optional" json:"sip_ports,omitempty"`
	TLSPort      int      `hcl:"tls_port,optional" json:"tls_port,omitempty"`
	MediaPorts   string   `hcl:"media_ports,optional" json:"media_ports,omitempty"`
	DNS          []string `hcl:"dns,optional" json:"dns,omitempty"`
	SymmetricRTP bool     `hcl:"symmetric_rtp,optional" json:"symmetric_rtp,omitempty"`
	// Partial: the provider sends from more than the entry holds (ranges
	// its pages list that could not be read); notes say which. A range
	// outside a partial entry is not known to be stale.
	Partial  bool     `hcl:"partial,optional" json:"partial,omitempty"`
	Verified string   `hcl:"verified" json:"verified"` // YYYY-MM-DD
	Notes    string   `hcl:"notes,optional" json:"notes,omitempty"`
	Sources  []Source `hcl:"source,block" json:"sources"`
	// Origin is where the entry was read: "embedded" or the overlay file.
	Origin string `hcl:"origin,optional" json:"origin,omitempty"`

	sig, media []netip.Prefix
}

// SIPPortRange is the entry's udp/tcp SIP port or ports (ok false: the
// entry names none, the provider block's default stands).
func (e *Entry) SIPPortRange() (lo, hi int, ok bool) {
	if e.SIPPorts != "" {
		return portRange(e.SIPPorts)
	}
	return e.SIPPort, e.SIPPort, e.SIPPort != 0
}

// SignalingPrefixes and MediaPrefixes are the parsed ranges (Validate
// guarantees they parse).
func (e *Entry) SignalingPrefixes() []netip.Prefix { return e.sig }
func (e *Entry) MediaPrefixes() []netip.Prefix     { return e.media }

// Catalog is a validated set of entries.
type Catalog struct {
	entries map[string]*Entry
}

type dataFile struct {
	Entries []*Entry `hcl:"entry,block"`
}

// Embedded is the catalog compiled into the binary. Its data is validated by
// the package tests, so an error here is a build mistake.
func Embedded() (*Catalog, error) {
	names, err := dataFS.ReadDir("data")
	if err != nil {
		return nil, err
	}
	var all []*Entry
	for _, n := range names {
		b, err := dataFS.ReadFile(path.Join("data", n.Name()))
		if err != nil {
			return nil, err
		}
		es, err := ParseHCL(n.Name(), b)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			e.Origin = "embedded"
		}
		all = append(all, es...)
	}
	return New(all)
}

// MustEmbedded is Embedded for tests and the program's defaults: the
// embedded data is validated by this package's tests.
func MustEmbedded() *Catalog {
	embeddedOnce.Do(func() { embedded, embeddedErr = Embedded() })
	if embeddedErr != nil {
		panic(embeddedErr)
	}
	return embedded
}

var (
	embeddedOnce sync.Once
	embedded     *Catalog
	embeddedErr  error
)

// ParseHCL reads one data file.
func ParseHCL(name string, src []byte) ([]*Entry, error) {
	f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s: %s", name, diags.Error())
	}
	var df dataFile
	if diags := gohcl.DecodeBody(f.Body, nil, &df); diags.HasErrors() {
		return nil, fmt.Errorf("%s: %s", name, diags.Error())
	}
	return df.Entries, nil
}

// New validates entries and makes a catalog of them.
func New(entries []*Entry) (*Catalog, error) {
	if err := Validate(entries); err != nil {
		return nil, err
	}
	c := &Catalog{entries: map[string]*Entry{}}
	for _, e := range entries {
		c.entries[e.Name] = e
	}
	return c, nil
}

// Overlay returns a catalog where the given entries replace (or add to) c's
// entries of the same name; the result is validated as a whole.
func (c *Catalog) Overlay(entries []*Entry) (*Catalog, error) {
	byName := map[string]*Entry{}
	// Copies: Validate fills an entry's parsed ranges, and c's entries may
	// be shared (MustEmbedded).
	for _, e := range c.entries {
		cp := *e
		byName[e.Name] = &cp
	}
	for _, e := range entries {
		cp := *e
		byName[e.Name] = &cp
	}
	all := make([]*Entry, 0, len(byName))
	for _, e := range byName {
		all = append(all, e)
	}
	return New(all)
}

// Names lists the entries, sorted.
func (c *Catalog) Names() []string {
	out := make([]string, 0, len(c.entries))
	for n := range c.entries {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Get returns one entry.
func (c *Catalog) Get(name string) (*Entry, bool) {
	e, ok := c.entries[name]
	return e, ok
}

// Matching are the entries whose name, provider or family contains filter,
// case-insensitively ("twilio", "teams", "chime").
func (c *Catalog) Matching(filter string) []*Entry {
	f := strings.ToLower(strings.TrimSpace(filter))
	var out []*Entry
	for _, e := range c.Entries() {
		if strings.Contains(e.Name, f) || strings.Contains(strings.ToLower(e.Provider), f) || strings.Contains(e.Family, f) {
			out = append(out, e)
		}
	}
	return out
}

// Entries lists every entry, sorted by name.
func (c *Catalog) Entries() []*Entry {
	var out []*Entry
	for _, n := range c.Names() {
		out = append(out, c.entries[n])
	}
	return out
}

// Validate checks entries: names, ranges that parse and are public (no
// private, loopback, documentation or other special-purpose range), at least
// one source of the provider's own, https URLs, dates, and no range claimed
// by two entries of different families.
func Validate(entries []*Entry) error {
	var errs []string
	bad := func(e *Entry, f string, a ...any) {
		errs = append(errs, fmt.Sprintf("catalog entry %q: %s", e.Name, fmt.Sprintf(f, a...)))
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if !validName(e.Name) {
			bad(e, "the name must be 1-40 lowercase letters, digits and dashes")
		}
		if seen[e.Name] {
			bad(e, "declared twice")
		}
		seen[e.Name] = true
		if strings.TrimSpace(e.Provider) == "" || strings.TrimSpace(e.Family) == "" {
			bad(e, "provider and family must be set")
		}
		var err error
		if e.sig, err = parseRanges(e.Signaling); err != nil {
			bad(e, "signaling: %v", err)
		}
		if e.media, err = parseRanges(e.Media); err != nil {
			bad(e, "media: %v", err)
		}
		if len(e.sig) == 0 {
			bad(e, "no signaling ranges")
		}
		if len(e.media) == 0 && !e.SymmetricRTP {
			bad(e, "no media ranges: list them, or set symmetric_rtp = true and say why in notes")
		}
		if len(e.Transports) == 0 {
			bad(e, "no transports")
		}
		for _, t := range e.Transports {
			if t != "udp" && t != "tcp" && t != "tls" {
				bad(e, "transport %q is not udp, tcp or tls", t)
			}
		}
		for _, p := range []int{e.SIPPort, e.TLSPort} {
			if p < 0 || p > 65535 {
				bad(e, "port %d out of range", p)
			}
		}
		if e.SIPPorts != "" {
			lo, _, ok := portRange(e.SIPPorts)
			if !ok || lo < 1 {
				bad(e, "sip_ports %q is not LOW-HIGH (1-65535)", e.SIPPorts)
			}
			if e.SIPPort != 0 {
				bad(e, "sip_port and sip_ports both set: keep one")
			}
		}
		if e.MediaPorts != "" {
			if _, _, ok := portRange(e.MediaPorts); !ok {
				bad(e, "media_ports %q is not LOW-HIGH", e.MediaPorts)
			}
		}
		if !validDate(e.Verified) {
			bad(e, "verified %q is not a YYYY-MM-DD date", e.Verified)
		}
		own := false
		for _, s := range e.Sources {
			if !strings.HasPrefix(s.URL, "https://") {
				bad(e, "source %q is not an https URL", s.URL)
			}
			switch s.Owner {
			case "provider":
				own = true
			case "third-party":
			default:
				bad(e, "source %q: owner must be \"provider\" or \"third-party\"", s.URL)
			}
			if s.Seen != "" && !validDate(s.Seen) {
				bad(e, "source %q: seen %q is not a YYYY-MM-DD date", s.URL, s.Seen)
			}
			if strings.TrimSpace(s.Covers) == "" {
				bad(e, "source %q: covers must say what it gives", s.URL)
			}
		}
		if !own {
			bad(e, "no source of the provider's own (owner = \"provider\")")
		}
		for _, d := range e.DNS {
			if !validDNSName(d) {
				bad(e, "dns name %q is not a host name", d)
			}
		}
	}
	// A range claimed by two families is a data mistake (or a shared host that
	// must be explained): both would be admitted as either provider.
	type claim struct {
		p netip.Prefix
		e *Entry
	}
	var claims []claim
	for _, e := range entries {
		for _, p := range append(append([]netip.Prefix{}, e.sig...), e.media...) {
			claims = append(claims, claim{p, e})
		}
	}
	for i := range claims {
		for j := i + 1; j < len(claims); j++ {
			a, b := claims[i], claims[j]
			if a.e.Family != b.e.Family && a.p.Overlaps(b.p) {
				bad(a.e, "%s overlaps %s of entry %q (another provider)", a.p, b.p, b.e.Name)
			}
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

func parseRanges(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		p, err := ParseRange(s)
		if err != nil {
			return nil, err
		}
		if why := Special(p); why != "" {
			return nil, fmt.Errorf("%s is %s, not a provider's public address", s, why)
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseRange reads an address or a CIDR prefix whose host bits are zero.
func ParseRange(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR range", s)
		}
		if p.Masked() != p {
			return netip.Prefix{}, fmt.Errorf("%q has host bits set (did you mean %s?)", s, p.Masked())
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-map[bool]int{true: 96, false: 0}[p.Addr().Is4In6()]), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// specialRanges are the IANA special-purpose ranges (RFC 6890 and its
// updates) no provider's public SIP service is in.
var specialRanges = []struct {
	p   netip.Prefix
	why string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\""},
	{netip.MustParsePrefix("10.0.0.0/8"), "private (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared carrier-grade NAT space"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation (TEST-NET-1)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation (TEST-NET-2)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation (TEST-NET-3)"},
	{netip.MustParsePrefix("224.0.0.0/3"), "multicast or reserved"},
	{netip.MustParsePrefix("::/8"), "reserved IPv6 (loopback, unspecified, mapped)"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001::/23"), "IETF protocol assignments"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("2002::/16"), "6to4"},
	{netip.MustParsePrefix("fc00::/7"), "unique local"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// Special says which special-purpose range p overlaps, or "".
func Special(p netip.Prefix) string {
	for _, s := range specialRanges {
		if s.p.Overlaps(p) {
			return s.why + " " + s.p.String()
		}
	}
	if p.Bits() < 8 {
		return "wider than any provider's network"
	}
	return ""
}

func portRange(s string) (int, int, bool) {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, false
	}
	l, err1 := strconv.Atoi(lo)
	h, err2 := strconv.Atoi(hi)
	return l, h, err1 == nil && err2 == nil && l >= 1 && l <= h && h <= 65535
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func validDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, e1 := strconv.Atoi(s[:4])
	m, e2 := strconv.Atoi(s[5:7])
	d, e3 := strconv.Atoi(s[8:])
	return e1 == nil && e2 == nil && e3 == nil && y >= 2000 && m >= 1 && m <= 12 && d >= 1 && d <= 31
}

func validDNSName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if len(l) == 0 || len(l) > 63 {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
