package live

import (
	"testing"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

// secondEdition uses the rule kinds the examples may not: allow_out,
// symmetric RTP, the egress default.
const secondEdition = `
provider "carrier" {
  signaling  = ["192.0.2.10/32"]
  media      = ["192.0.2.0/24"]
  transports = ["udp", "tls"]
}
provider "flow" {
  signaling     = ["198.51.100.8/29"]
  transports    = ["udp"]
  symmetric_rtp = true
}
pbx "office" {
  address   = "10.0.0.5"
  providers = ["carrier"]
}
voice_vlan "phones" {
  id         = 20
  subnet     = "10.20.0.0/24"
  providers  = ["carrier", "flow"]
  management = ["10.0.0.0/24"]
  allow_out  = ["53/udp", "203.0.113.99:443/tcp"]
  dscp       = "ef"
}
blocklist "scanners" {
  addresses = ["203.0.113.0/25"]
}
rate_limit {
  sip = "10/second"
}
close {
  ports = ["2000/tcp"]
}
log {
  dropped = true
}
`

// Without a policy, status learns a rule's kind from its key (the kernel
// holds nothing else). That mapping must agree with the kind lang gave
// every rule voicewall compiles, for every kind lowering makes.
func TestKindFromKeyAgreesWithPolicy(t *testing.T) {
	var policies []*lang.Policy
	for _, ex := range testenv.Examples(t, "../../..") {
		p, d := lang.Load(ex.Dir)
		if d.HasErrors() {
			t.Fatalf("%s: %v", ex.Name, d)
		}
		policies = append(policies, p)
	}
	p, d := lang.LoadSource("second.hcl", []byte(secondEdition))
	if d.HasErrors() {
		t.Fatal(d)
	}
	policies = append(policies, p)
	seen := map[lang.RuleKind]bool{}
	for _, p := range policies {
		for _, c := range vw.Build(p).Chains {
			for _, r := range c.Rules {
				if r.Source == nil || !counts(r) {
					continue
				}
				seen[r.Source.Kind] = true
				if got := kindFromKey(r.Key); got != string(r.Source.Kind) {
					t.Errorf("%s: kind %s from the key, %s in the policy", r.Key, got, r.Source.Kind)
				}
			}
		}
	}
	for _, k := range []lang.RuleKind{lang.RuleAllowOut, lang.RuleEgressDefault, lang.RulePhoneRTPSymmetric, lang.RuleMgmt} {
		if !seen[k] {
			t.Errorf("no rule of kind %s was checked", k)
		}
	}
}

func counts(r *vw.Rule) bool {
	for _, s := range r.Stmts {
		if _, ok := s.(vw.Counter); ok {
			return true
		}
	}
	return false
}
