package audit

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

// compile renders an example for a target the way the golden test does:
// as written, or degraded for a fleet site's undeclared target.
func compile(t *testing.T, p *lang.Policy, target string) []byte {
	t.Helper()
	tgt, ok := registry.Lookup(target)
	if !ok {
		t.Fatalf("no target %s", target)
	}
	out, diags := tgt.Compile(p, backends.Options{})
	if diags.HasErrors() {
		out, diags = tgt.Compile(p, backends.Options{AllowDegraded: true})
		if diags.HasErrors() {
			t.Fatalf("compile: %v", diags)
		}
	}
	return out.Main().Data
}

// TestTranslationValidation is the proof that the renderings mean what the
// policy says: every example is compiled for every target (nftables too,
// read back from its text), read back with the device readers into the device model, and
// every probe (the policy's expect blocks, every provider address on every
// transport port, strangers, blocklist samples, management, VLAN egress,
// and every source the device itself admits) gets the verdict, and the
// forwarding address, that lang's evaluator gives. The output must also
// have no finding of its own.
func TestTranslationValidation(t *testing.T) {
	for _, ex := range testenv.Examples(t, "..") {
		p, diags := registry.Load(ex.Dir)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", ex.Name, diags)
		}
		for _, target := range Targets {
			t.Run(ex.Name+"/"+target, func(t *testing.T) {
				src := compile(t, p, target)
				d, err := Read(target, target+".out", src)
				if err != nil {
					t.Fatalf("the device reader cannot read voicewall's own output: %v", err)
				}
				r := Check(d, src, Options{Target: target, Policy: p})
				if r.Failed() {
					var b bytes.Buffer
					r.WriteText(&b)
					t.Errorf("voicewall's own output does not audit clean:\n%s", b.String())
				}
				if r.Compared < len(p.Providers)*2 {
					t.Errorf("only %d of %d probes compared", r.Compared, r.Probes)
				}
				t.Logf("%s/%s: %d probes, %d compared", ex.Name, target, r.Probes, r.Compared)
			})
		}
	}
}

// TestDriftNamesTheProvider: an output edited so that one provider
// address is replaced audits as drift naming that provider, on every
// vendor target.
func TestDriftNamesTheProvider(t *testing.T) {
	p, diags := registry.Load("../examples/asterisk-udp-trunk")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, target := range Targets {
		t.Run(target, func(t *testing.T) {
			src := bytes.ReplaceAll(compile(t, p, target), []byte("203.0.113.10"), []byte("198.18.0.10"))
			d, err := Read(target, "edited", src)
			if err != nil {
				t.Fatal(err)
			}
			r := Check(d, src, Options{Target: target, Policy: p})
			var b bytes.Buffer
			r.WriteText(&b)
			named, admitted := false, false
			for _, f := range r.Findings {
				if f.ID == IDDrift && strings.HasPrefix(f.Policy, `provider "carrier"`) && f.Loc.Line > 0 {
					named = true
				}
				if f.ID == IDDrift && strings.Contains(f.Message, "198.18.0.10") && strings.Contains(f.Message, "the device accept") {
					admitted = true
				}
			}
			if !named || !admitted || !r.Failed() {
				t.Errorf("want drift naming provider carrier and the admitted stranger:\n%s", b.String())
			}
		})
	}
}

// TestTranslationValidationMergedPfSense: the pfSense output merged into an
// exported config.xml (--base) with the site's own rules (the stock "allow
// LAN net" only) audits clean too. Management from a source outside LAN
// net (a VPN subnet, a routed admin network) was blocked on its way in:
// voicewall's management pass was a floating rule out to the phones only.
func TestTranslationValidationMergedPfSense(t *testing.T) {
	base, err := os.ReadFile("../backends/pfsense/testdata/base-config.xml")
	if err != nil {
		t.Fatal(err)
	}
	tgt, _ := registry.Lookup("pfsense")
	for _, ex := range testenv.Examples(t, "..") {
		if strings.Contains(ex.Name, "/") {
			continue // fleet sites
		}
		t.Run(ex.Name, func(t *testing.T) {
			p, diags := registry.Load(ex.Dir)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			out, diags := tgt.Compile(p, backends.Options{AllowDegraded: true, Base: base})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			src := out.Main().Data
			d, err := Read("pfsense", "merged.xml", src)
			if err != nil {
				t.Fatal(err)
			}
			if r := Check(d, src, Options{Target: "pfsense", Policy: p}); r.Failed() {
				var b bytes.Buffer
				r.WriteText(&b)
				t.Errorf("the merged config.xml does not audit clean:\n%s", b.String())
			}
		})
	}
}
