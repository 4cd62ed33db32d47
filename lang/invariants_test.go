package lang_test

import "testing"

// A PBX's address6 is one of its addresses: forwarding v6 there keeps the
// invariants.
func TestInvariantsDualStackPBX(t *testing.T) {
	p := mustLoadSource(t, "v6.hcl", `
provider "carrier" {
  signaling  = ["192.0.2.10/32", "2001:db8:1::10/128"]
  media      = ["192.0.2.0/24", "2001:db8:1::/64"]
  transports = ["udp"]
}
pbx "office" {
  address   = "10.0.0.5"
  address6  = "2001:db8:20::10"
  providers = ["carrier"]
}
`)
	v6 := 0
	for _, r := range p.Rules {
		if r.DNAT.Is6() {
			v6++
		}
	}
	if v6 == 0 {
		t.Fatal("no IPv6 forward to test")
	}
	if errs := p.Invariants(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
