package catalog

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
)

func TestEmbeddedCatalogIsValid(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	providers := map[string]bool{}
	for _, e := range c.Entries() {
		providers[e.Family] = true
		if len(e.Sources) == 0 || e.Verified == "" {
			t.Errorf("%s: not sourced or not dated", e.Name)
		}
		for _, p := range append(e.SignalingPrefixes(), e.MediaPrefixes()...) {
			if why := Special(p); why != "" {
				t.Errorf("%s: %s is %s", e.Name, p, why)
			}
		}
		if e.Origin != "embedded" {
			t.Errorf("%s: origin %q", e.Name, e.Origin)
		}
	}
	if len(providers) < 9 {
		t.Errorf("only %d providers in the catalog", len(providers))
	}
	// The facts the story rests on.
	tw, ok := c.Get("twilio-all")
	if !ok || !contains(tw.MediaPrefixes(), "168.86.128.0/18") {
		t.Errorf("twilio-all media: %v", tw)
	}
	if _, ok := c.Get("no-such"); ok {
		t.Error("unknown entry found")
	}
	// RingCentral's phones use a range of SIP ports, not 5060.
	if rc, ok := c.Get("ringcentral"); !ok {
		t.Error("no ringcentral entry")
	} else if lo, hi, ok := rc.SIPPortRange(); !ok || lo != 5090 || hi != 5099 {
		t.Errorf("ringcentral sip ports %d-%d", lo, hi)
	}
	ms, ok := c.Get("microsoft-teams")
	if !ok || len(ms.Transports) != 1 || ms.Transports[0] != "tls" || ms.TLSPort != 5061 {
		t.Errorf("microsoft-teams: %+v", ms)
	}
}

func contains(ps []netip.Prefix, s string) bool {
	for _, p := range ps {
		if p.String() == s {
			return true
		}
	}
	return false
}

func good(name, family string, sig ...string) *Entry {
	return &Entry{Name: name, Provider: "P", Family: family, Signaling: sig, Media: []string{"9.9.9.0/24"},
		Transports: []string{"tls"}, Verified: "2026-12-05",
		Sources: []Source{{URL: "https://example.com/ips", Owner: "provider", Covers: "all"}}}
}

func TestValidateRejects(t *testing.T) {
	cases := map[string]func() []*Entry{
		"private (RFC 1918)": func() []*Entry { return []*Entry{good("a", "a", "10.1.2.3")} },
		"documentation":      func() []*Entry { return []*Entry{good("a", "a", "2001:db8::1")} },
		"loopback":           func() []*Entry { return []*Entry{good("a", "a", "127.0.0.1")} },
		"host bits set":      func() []*Entry { return []*Entry{good("a", "a", "8.8.8.1/24")} },
		"no source of the provider's own": func() []*Entry {
			e := good("a", "a", "8.8.8.8")
			e.Sources[0].Owner = "third-party"
			return []*Entry{e}
		},
		"not an https URL": func() []*Entry {
			e := good("a", "a", "8.8.8.8")
			e.Sources[0].URL = "http://example.com"
			return []*Entry{e}
		},
		"is not a YYYY-MM-DD date": func() []*Entry {
			e := good("a", "a", "8.8.8.8")
			e.Verified = "last week"
			return []*Entry{e}
		},
		"another provider": func() []*Entry { return []*Entry{good("a", "fa", "8.8.8.0/24"), good("b", "fb", "8.8.8.8")} },
		"no media ranges": func() []*Entry {
			e := good("a", "a", "8.8.8.8")
			e.Media = nil
			return []*Entry{e}
		},
		"declared twice": func() []*Entry { return []*Entry{good("a", "a", "8.8.8.8"), good("a", "a", "8.8.4.4")} },
		"sip_ports \"5099-5090\" is not LOW-HIGH": func() []*Entry {
			e := good("a", "a", "8.8.8.8")
			e.SIPPorts = "5099-5090"
			return []*Entry{e}
		},
		"sip_port and sip_ports both set": func() []*Entry {
			e := good("a", "a", "8.8.8.8")
			e.SIPPort, e.SIPPorts = 5060, "5090-5099"
			return []*Entry{e}
		},
	}
	for want, mk := range cases {
		err := Validate(mk())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error with %q, got %v", want, err)
		}
	}
	// One family may share a range (Twilio's one media range).
	if err := Validate([]*Entry{good("a", "f", "8.8.8.0/24"), good("b", "f", "8.8.8.8")}); err != nil {
		t.Errorf("same family: %v", err)
	}
}

func TestOverlayReplacesByName(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	e := good("bolna", "bolna", "13.200.45.62")
	e.Origin = "update"
	o, err := c.Overlay([]*Entry{e})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := o.Get("bolna")
	if got.Origin != "update" || got.SignalingPrefixes()[0].String() != "13.200.45.62/32" {
		t.Errorf("overlay: %+v", got)
	}
	if len(o.Names()) != len(c.Names()) {
		t.Errorf("overlay changed the entry count")
	}
	if _, err := c.Overlay([]*Entry{good("x", "x", "192.168.1.1")}); err == nil {
		t.Error("an overlay with a private range was accepted")
	}
}

// TestDocsListEveryProvider: docs/providers.md's table names every family
// of the embedded catalog (one entry at least) and its count line is the
// catalog's.
func TestDocsListEveryProvider(t *testing.T) {
	doc, err := os.ReadFile("../docs/providers.md")
	if err != nil {
		t.Fatal(err)
	}
	c := MustEmbedded()
	families := map[string]bool{}
	named := map[string]bool{}
	for _, e := range c.Entries() {
		families[e.Family] = true
		if strings.Contains(string(doc), "`"+e.Name+"`") {
			named[e.Family] = true
		}
	}
	for f := range families {
		if !named[f] {
			t.Errorf("docs/providers.md names no entry of family %q", f)
		}
	}
	want := fmt.Sprintf("%d entries from %d providers", len(c.Entries()), len(families))
	if !strings.Contains(string(doc), want) {
		t.Errorf("docs/providers.md does not say %q", want)
	}
}
