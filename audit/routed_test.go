package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/lang"
)

// TestExpectAddressedToThePBX: an expect written as the user thinks of it,
// from a provider to the PBX's own address (to = "10.20.0.10:5060/udp",
// and the IPv6 PBX of pbx.address6), holds in `voicewall test`, and
// voicewall's own output for that policy audits clean on every target:
// the provider reaches the PBX through the gateway's forward.
func TestExpectAddressedToThePBX(t *testing.T) {
	policy := `
target "fortigate" {
  accept_gaps = ["address6"]
}
target "pfsense" {
  accept_gaps = ["rate_limit"]
}
target "draytek" {
  accept_gaps = ["rate_limit", "address6"]
}
provider "carrier" {
  signaling  = ["198.51.100.20", "2001:db8:10::/48"]
  media      = ["198.51.100.0/26", "2001:db8:11::/48"]
  transports = ["udp"]
}
provider "flowroute" {
  signaling     = ["34.226.36.32/28"]
  transports    = ["udp"]
  symmetric_rtp = true
}
pbx "asterisk" {
  address   = "10.20.0.10"
  address6  = "2001:db8:20::10"
  providers = ["carrier", "flowroute"]
}
rate_limit {
  sip   = "10/second"
  burst = 20
}
log {
  dropped = true
}
expect "carrier reaches the pbx" {
  from    = "198.51.100.20"
  to      = "10.20.0.10:5060/udp"
  verdict = "accept"
}
expect "flowroute reaches the pbx" {
  from    = "34.226.36.33"
  to      = "10.20.0.10:5060/udp"
  verdict = "accept"
}
expect "carrier media reaches the pbx" {
  from    = "198.51.100.7"
  to      = "10.20.0.10:15000/udp"
  verdict = "accept"
}
expect "v6 carrier reaches the v6 pbx" {
  from    = "2001:db8:10::1"
  to      = "[2001:db8:20::10]:5060/udp"
  verdict = "accept"
}
expect "a stranger does not reach the pbx" {
  from    = "203.0.113.50"
  to      = "10.20.0.10:5060/udp"
  verdict = "drop"
}
`
	p := loadPolicy(t, policy)
	for _, x := range p.Expects {
		if got := p.Evaluate(x.Packet()); got.Verdict != x.Verdict {
			t.Fatalf("expect %q: the policy says %v", x.Name, got.Verdict)
		}
	}
	auditsCleanOnEveryTarget(t, p)
}

// A PBX whose rtp_ports are a part of rtp.ports (VW105's case): provider
// media to the rest of the range is accepted to the gateway itself, not
// forwarded. Every target's output says the same (FortiGate once denied
// it in local-in, as if all of it were forwarded).
func TestPBXRTPNarrowerThanRTP(t *testing.T) {
	policy := `
target "pfsense" {
  accept_gaps = ["rate_limit"]
}
target "draytek" {
  accept_gaps = ["rate_limit"]
}
provider "carrier" {
  signaling = ["198.51.100.10"]
  media     = ["198.51.100.128/25"]
}
pbx "freepbx" {
  address   = "10.1.1.5"
  providers = ["carrier"]
  rtp_ports = "10000-10999"
}
rtp {
  ports = "10000-20000"
}
rate_limit {
  sip   = "10/second"
  burst = 20
}
log {
  dropped = true
}
expect "media outside the pbx range reaches the gateway" {
  from    = "198.51.100.200"
  to      = "15000/udp"
  verdict = "accept"
}
expect "media in the pbx range is forwarded" {
  from    = "198.51.100.200"
  to      = "10500/udp"
  verdict = "accept"
}
`
	p := loadPolicy(t, policy)
	auditsCleanOnEveryTarget(t, p)
}

// loadPolicy loads policy text from a file gw.hcl in a temporary directory.
func loadPolicy(t *testing.T, policy string) *lang.Policy {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gw.hcl"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := registry.Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

// auditsCleanOnEveryTarget: voicewall's own output for p, read back by
// each target's device reader, audits clean against p.
func auditsCleanOnEveryTarget(t *testing.T, p *lang.Policy) {
	t.Helper()
	for _, target := range Targets {
		t.Run(target, func(t *testing.T) {
			src := compile(t, p, target)
			d, err := Read(target, target+".out", src)
			if err != nil {
				t.Fatal(err)
			}
			if r := Check(d, src, Options{Target: target, Policy: p}); r.Failed() {
				var b bytes.Buffer
				r.WriteText(&b)
				t.Errorf("voicewall's own output does not audit clean:\n%s", b.String())
			}
		})
	}
}
