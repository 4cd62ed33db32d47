package audit

import (
	"strings"
	"testing"
)

// VW308 covers local-in policies: an admin's local-in accept from any
// source above a deny of SIP to the FortiGate itself shadows the deny, and
// the fix names the local-in table.
func TestShadowedLocalIn(t *testing.T) {
	src := `config firewall service custom
    edit "vw-sip-udp"
        set udp-portrange 5060
        set comment "voicewall"
    next
end
config firewall local-in-policy
    edit 1
        set intf "wan1"
        set srcaddr "all"
        set dstaddr "all"
        set action accept
        set service "ALL"
        set schedule "always"
    next
    edit 3100
        set intf "wan1"
        set srcaddr "all"
        set dstaddr "all"
        set action deny
        set service "vw-sip-udp"
        set schedule "always"
        set comments "voicewall: SIP from anyone but a provider"
    next
end
`
	d, err := Read("fortigate", "fgt.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r := Check(d, []byte(src), Options{Target: "fortigate"})
	for _, f := range r.Findings {
		if f.ID == IDShadowedDrop && f.Loc.Line == 16 && strings.Contains(f.Fix, "config firewall local-in-policy / move 3100 before 1") {
			return
		}
	}
	t.Errorf("want VW308 at fgt.conf:16 with the local-in move: %+v", r.Findings)
}
