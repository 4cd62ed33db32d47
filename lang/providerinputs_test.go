package lang

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

type testCatalog map[string]CatalogEntry

func (c testCatalog) Entry(n string) (CatalogEntry, bool) { e, ok := c[n]; return e, ok }
func (c testCatalog) Names() []string {
	var out []string
	for n := range c {
		out = append(out, n)
	}
	return out
}

var tcat = testCatalog{"carrier-eu": {
	Name: "carrier-eu", Signaling: []netip.Prefix{netip.MustParsePrefix("8.8.8.0/30")},
	Media: []netip.Prefix{netip.MustParsePrefix("8.8.9.0/24")}, Transports: []Transport{TransportTLS}, TLSPort: 5062, Verified: "2026-12-05",
}}

func loadWith(t *testing.T, src string, o LoadOptions) (*Policy, string) {
	t.Helper()
	p, diags := LoadSourceWith("p.hcl", []byte(src), o)
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(FindingID(d) + " " + d.Summary + ": " + d.Detail + "\n")
	}
	return p, b.String()
}

func TestCatalogSuppliesRanges(t *testing.T) {
	p, diags := loadWith(t, `provider "c" { catalog = "carrier-eu" }`, LoadOptions{Catalog: tcat})
	if p == nil {
		t.Fatal(diags)
	}
	pr := p.Providers[0]
	if !pr.Signaling.Contains(netip.MustParseAddr("8.8.8.1")) || !pr.Media.Contains(netip.MustParseAddr("8.8.9.9")) {
		t.Errorf("catalog ranges not applied: %+v", pr)
	}
	if len(pr.Transports) != 1 || pr.Transports[0] != TransportTLS || pr.TLSPort != 5062 || pr.Catalog != "carrier-eu" {
		t.Errorf("catalog defaults not applied: %+v", pr)
	}
	if strings.Contains(diags, IDCleartext) || strings.Contains(diags, IDNoMedia) {
		t.Errorf("unexpected warnings: %s", diags)
	}
	// Literal ranges add to the catalog's, with a warning.
	p, diags = loadWith(t, `provider "c" {
  catalog = "carrier-eu"
  media   = ["9.9.9.0/24"]
}`, LoadOptions{Catalog: tcat})
	if p == nil || !p.Providers[0].Media.Contains(netip.MustParseAddr("9.9.9.9")) || !p.Providers[0].Media.Contains(netip.MustParseAddr("8.8.9.9")) {
		t.Fatalf("literal media not added: %s", diags)
	}
	if !strings.Contains(diags, IDCatalogExtra) {
		t.Errorf("no warning for literal ranges: %s", diags)
	}
}

func TestUnknownCatalogIsLocated(t *testing.T) {
	_, diags := LoadSourceWith("p.hcl", []byte("provider \"c\" {\n  catalog = \"carrier-ue\"\n}\n"), LoadOptions{Catalog: tcat})
	if !diags.HasErrors() {
		t.Fatal("no error")
	}
	d := diags[0]
	if FindingID(d) != IDUnknownCatalog || d.Subject == nil || d.Subject.Start.Line != 2 || !strings.Contains(d.Detail, `"carrier-eu"`) {
		t.Errorf("want a located error with a suggestion, got %v %s", d.Subject, d.Detail)
	}
}

// A provider's name where the catalog has one entry per region: the error
// lists them, and no cascade of warnings (no media, default transport)
// follows from the entry it could not read.
func TestCatalogFamilyNameListsItsEntries(t *testing.T) {
	_, diags := LoadSourceWith("p.hcl", []byte("provider \"c\" {\n  catalog = \"carrier\"\n}\n"), LoadOptions{Catalog: tcat})
	if !diags.HasErrors() {
		t.Fatal("no error")
	}
	var ids []string
	for _, d := range diags {
		ids = append(ids, FindingID(d))
	}
	d := diags[0]
	if FindingID(d) != IDUnknownCatalog || d.Subject == nil || d.Subject.Start.Line != 2 || !strings.Contains(d.Detail, "carrier-eu") || !strings.Contains(d.Detail, "one per region") {
		t.Errorf("want a located error listing the entries, got %v %s", d.Subject, d.Detail)
	}
	if slices.Contains(ids, IDNoMedia) || slices.Contains(ids, IDCleartext) {
		t.Errorf("cascading warnings after the catalog error: %v", ids)
	}
}

func TestSignalingDNS(t *testing.T) {
	src := "provider \"c\" {\n  signaling_dns = [\"sip.example.net\", \"_sips._tcp.example.net\"]\n  media = [\"9.9.9.0/24\"]\n  transports = [\"tls\"]\n}\n"
	// Collecting: no answers asked for, names listed.
	l := loadSourcesWith("p.hcl", []source{{name: "p.hcl", path: "p.hcl", src: []byte(src)}}, LoadOptions{}, newReadScope(".", nil))
	if strings.Join(l.DNSNames, ",") != "_sips._tcp.example.net,sip.example.net" {
		t.Errorf("names: %v", l.DNSNames)
	}
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	ans := map[string]DNSAnswer{
		"sip.example.net":        {Addrs: []netip.Addr{netip.MustParseAddr("8.8.4.4")}, ResolvedAt: at},
		"_sips._tcp.example.net": {Addrs: []netip.Addr{netip.MustParseAddr("8.8.4.5")}, ResolvedAt: at.Add(-3 * time.Hour), Kept: true, Err: "i/o timeout"},
	}
	p, diags := loadWith(t, src, LoadOptions{DNS: ans, Now: at})
	if p == nil {
		t.Fatal(diags)
	}
	if !p.Providers[0].Signaling.Contains(netip.MustParseAddr("8.8.4.4")) || !p.Providers[0].Signaling.Contains(netip.MustParseAddr("8.8.4.5")) {
		t.Errorf("answers not in signaling")
	}
	if !strings.Contains(diags, IDDNSKept) || !strings.Contains(diags, "3h0m0s old") || !strings.Contains(diags, "i/o timeout") {
		t.Errorf("kept answer not said: %s", diags)
	}
	if len(p.DNSUses()) != 2 {
		t.Errorf("uses: %v", p.DNSUses())
	}
	// No answer and none kept: a located error.
	_, d := LoadSourceWith("p.hcl", []byte(src), LoadOptions{DNS: map[string]DNSAnswer{"sip.example.net": ans["sip.example.net"], "_sips._tcp.example.net": {Err: "no such host"}}})
	if !d.HasErrors() || FindingID(d[0]) != IDDNSMissing || d[0].Subject.Start.Line != 2 || !strings.Contains(d[0].Detail, "no such host") {
		t.Errorf("want VW051 at line 2, got %v", d)
	}
	// Answers no provider sends from are never admitted; only those: an error.
	p, diags = loadWith(t, src, LoadOptions{DNS: map[string]DNSAnswer{
		"sip.example.net":        {Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("8.8.4.4")}, ResolvedAt: at},
		"_sips._tcp.example.net": {Addrs: []netip.Addr{netip.MustParseAddr("8.8.4.5")}, ResolvedAt: at},
	}})
	if p == nil || p.Providers[0].Signaling.Contains(netip.MustParseAddr("127.0.0.1")) || !strings.Contains(diags, "DNS answer ignored") {
		t.Errorf("loopback answer: %s", diags)
	}
	_, d = LoadSourceWith("p.hcl", []byte(src), LoadOptions{DNS: map[string]DNSAnswer{
		"sip.example.net":        {Addrs: []netip.Addr{netip.MustParseAddr("0.0.0.0")}, ResolvedAt: at},
		"_sips._tcp.example.net": {Addrs: []netip.Addr{netip.MustParseAddr("8.8.4.5")}, ResolvedAt: at},
	}})
	found := false
	for _, x := range d {
		found = found || x.Summary == "No usable DNS answer"
	}
	if !d.HasErrors() || !found {
		t.Errorf("only an unspecified answer: %v", d)
	}
	// A bad name is refused.
	_, d = LoadSourceWith("p.hcl", []byte("provider \"c\" {\n  signaling_dns = [\"bad name!\"]\n  media = [\"9.9.9.0/24\"]\n}\n"), LoadOptions{DNS: map[string]DNSAnswer{}})
	if !d.HasErrors() || !strings.Contains(d.Error(), "Bad DNS name") {
		t.Errorf("bad name accepted: %v", d)
	}
}

func TestProviderNeedsSomeSignaling(t *testing.T) {
	_, d := LoadSourceWith("p.hcl", []byte("provider \"c\" {\n  media = [\"9.9.9.0/24\"]\n}\n"), LoadOptions{})
	if !d.HasErrors() || !strings.Contains(d.Error(), "Provider without signaling") {
		t.Errorf("got %v", d)
	}
}
