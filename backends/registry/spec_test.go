package registry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// Each target's spec is the one place its attributes and capability gaps
// are declared: every attribute is documented in docs/targets-<name>.md,
// every gap class is one lang knows, and lang reads exactly these targets.
func TestSpecsDeclared(t *testing.T) {
	_, diags := LoadSource("p.hcl", []byte(`target "nope" {}`))
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Targets are: "+strings.Join(Names(), ", ")+".") {
		t.Fatalf("a policy loaded through the registry should know exactly its targets: %v", diags)
	}
	for _, tg := range Targets {
		if _, diags := LoadSource("p.hcl", []byte(`target "`+tg.Name+`" {}`)); diags.HasErrors() {
			t.Errorf("%s: a policy naming the target does not load: %v", tg.Name, diags)
		}
		if tg.Name == "" || tg.File == "" || tg.Compile == nil || tg.ReadDevice == nil || tg.WAN == "" || tg.LAN == "" {
			t.Errorf("%s: incomplete spec %+v", tg.Name, tg)
		}
		doc, err := os.ReadFile(filepath.Join(root, "docs", "targets-"+tg.Name+".md"))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range tg.Attrs {
			if !strings.Contains(string(doc), "`"+a.Name+"`") {
				t.Errorf("%s: attribute %s is not documented in docs/targets-%s.md", tg.Name, a.Name, tg.Name)
			}
		}
		for g, why := range tg.Gaps {
			if _, ok := lang.GapNames[g]; !ok || g == lang.GapInternal || why == "" {
				t.Errorf("%s: capability table entry %q (%q) is not a gap accept_gaps can name, or says no why", tg.Name, g, why)
			}
		}
	}
}

// A Bool target attribute (pfSense provider_conn_rate) takes true or false
// only, and reaches the backend as "true"/"false".
func TestBoolTargetAttr(t *testing.T) {
	dir := t.TempDir()
	base := "provider \"p\" {\n  signaling  = [\"192.0.2.10\"]\n  media      = [\"192.0.2.0/26\"]\n  transports = [\"tls\"]\n}\n"
	for _, c := range []struct{ val, want string }{{"true", "true"}, {"false", "false"}, {`"yes"`, ""}} {
		src := base + "target \"pfsense\" {\n  provider_conn_rate = " + c.val + "\n}\n"
		if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		p, diags := Load(dir)
		if c.want == "" {
			if !diags.HasErrors() || !strings.Contains(diags.Error(), "p.hcl:7") {
				t.Errorf("provider_conn_rate = %s: want an error at p.hcl:7, got %v", c.val, diags)
			}
			continue
		}
		if diags.HasErrors() {
			t.Fatalf("provider_conn_rate = %s: %s", c.val, diags.Error())
		}
		if got := p.Targets["pfsense"].Extra["provider_conn_rate"]; got != c.want {
			t.Errorf("provider_conn_rate = %s: Extra %q, want %q", c.val, got, c.want)
		}
	}
}

// A voice VLAN with providers = [] sends no SIP or RTP to the WAN, so no
// marked flow can leave: no target reports a DSCP gap for it (DrayTek and
// pfSense, which cannot mark, compile it without accept_gaps).
func TestNoDSCPGapWithoutEgress(t *testing.T) {
	dir := t.TempDir()
	src := `provider "carrier" {
  signaling  = ["203.0.113.10"]
  media      = ["203.0.113.64/26"]
  transports = ["tls"]
}
pbx "pbx" {
  address   = "10.40.0.5"
  providers = ["carrier"]
}
voice_vlan "phones" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = []
  dscp      = "ef"
}
log {}
`
	if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, r := range p.Rules {
		if r.Kind == lang.RuleDSCP {
			t.Errorf("mark rule %s for a VLAN that sends nothing to the WAN", r.ID)
		}
	}
	for _, tg := range Targets {
		_, diags := tg.Compile(p, backends.Options{})
		for _, d := range diags {
			if strings.Contains(strings.ToLower(d.Summary+d.Detail), "dscp") {
				t.Errorf("%s: %s: %s", tg.Name, d.Summary, d.Detail)
			}
		}
	}
}
