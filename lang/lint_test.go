package lang

import (
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/voicewall/voicewall/internal/testenv"
)

const lintBase = `
provider "carrier" {
  signaling  = ["203.0.113.10"]
  media      = ["203.0.113.64/26"]
  transports = ["udp"]
}
log {
  dropped = true
}
`

func lintOf(t *testing.T, src string) hcl.Diagnostics {
	t.Helper()
	p, diags := LoadSource("lint.hcl", []byte(lintBase+src))
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	return lint(p)
}

func findingLines(ds hcl.Diagnostics) []string {
	var out []string
	for _, d := range ds {
		line := 0
		if d.Subject != nil {
			line = d.Subject.Start.Line
		}
		out = append(out, FindingID(d)+":"+strconv.Itoa(line)+":"+d.Summary)
	}
	return out
}

func TestLint(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // ID:line:summary
	}{
		{"clean", `
rate_limit {
  sip = "10/second"
}
rtp {
  ports = "10000-20000"
}
voice_vlan "phones" {
  id         = 20
  subnet     = "10.20.0.0/24"
  providers  = ["carrier"]
  management = ["10.0.0.0/24"]
}
expect "scanner" {
  from    = "198.51.100.1"
  to      = "5060/udp"
  verdict = "drop"
}
`, nil},
		{"rtp covers sip", `
rtp {
  ports = "5000-6000"
}
`, []string{"VW112:11:RTP range includes a SIP port"}},
		{"pbx rtp covers sip", `
pbx "pbx" {
  address   = "10.40.0.5"
  providers = ["carrier"]
  rtp_ports = "5060-5070"
}
`, []string{"VW112:11:RTP range includes a SIP port"}},
		{"management from phones", `
voice_vlan "phones" {
  id         = 20
  subnet     = "10.20.0.0/24"
  providers  = ["carrier"]
  management = ["10.0.0.0/8"]
}
voice_vlan "lobby" {
  id         = 21
  subnet     = "10.21.0.0/24"
  providers  = ["carrier"]
  management = ["10.0.0.0/24"]
}
`, []string{
			"VW113:11:Phone management reachable from a voice VLAN",
			"VW113:11:Phone management reachable from a voice VLAN",
		}},
		{"allow_out entries without effect", `
voice_vlan "phones" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = ["carrier"]
  allow_out = ["53/udp", "5060/udp", "[2001:db8::53]:53/udp", "5060-5070/udp", "203.0.113.99:443/tcp"]
}
`, []string{
			"VW118:15:allow_out entry without effect",
			"VW118:15:allow_out entry without effect",
		}},
		{"sip in allow_out of a vlan without a provider list is its only sip", `
voice_vlan "phones" {
  id        = 20
  subnet    = "10.20.0.0/24"
  allow_out = ["5060/udp"]
}
`, nil},
		{"loose rate", `
rate_limit {
  sip = "6000/minute"
}
`, []string{"VW114:11:SIP rate limit too loose"}},
		{"rate per minute is fine", `
rate_limit {
  sip = "600/minute"
}
`, nil},
		{"unmanaged drop expectation", `
expect "https is closed" {
  from    = "198.51.100.1"
  to      = "443/tcp"
  verdict = "drop"
}
expect "https passes" {
  from    = "198.51.100.1"
  to      = "443/tcp"
  verdict = "accept"
}
`, []string{"VW115:11:Expectation not decided by voicewall"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := lintOf(t, tc.src)
			got := findingLines(ds)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			for _, d := range ds {
				if d.Severity != hcl.DiagWarning || FindingTitle(FindingID(d)) == "" {
					t.Errorf("%s: severity %v, title %q", FindingID(d), d.Severity, FindingTitle(FindingID(d)))
				}
			}
		})
	}
}

// The examples are what users copy: the review checks find nothing there.
func TestLintExamples(t *testing.T) {
	dirs := testenv.ExampleDirs(t, "..")
	for _, dir := range dirs {
		p, diags := Load(dir)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if ds := lint(p); len(ds) > 0 {
			t.Errorf("%s: %v", dir, findingLines(ds))
		}
	}
}

// Every finding ID has a section in docs/rules.md ("## VWxxx: title") that
// names its title, what it checks and a source; and every section there is
// a finding lang knows.
func TestRulesDocumented(t *testing.T) {
	_, sections := testenv.RuleDocs(t, "..")
	known := map[string]bool{}
	for _, id := range FindingIDs() {
		known[id] = true
		s, ok := testenv.CheckRuleDoc(t, sections, id, FindingTitle(id), "lang")
		if !ok {
			continue
		}
		sev := "error"
		if id >= "VW100" && id != IDCapabilityGap {
			sev = "warning"
		}
		if !strings.Contains(s.Text, "**Severity:** "+sev) {
			t.Errorf("docs/rules.md: %s should say **Severity:** %s", id, sev)
		}
	}
	for id := range sections {
		if !known[id] && !(id >= "VW300" && id < "VW400") { // VW3xx: voicewall audit's, checked in package audit
			t.Errorf("docs/rules.md documents %s, which lang does not define", id)
		}
	}
}
