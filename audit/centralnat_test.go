package audit

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/devmodel"
)

// With central NAT (config system settings / set central-nat enable) or in
// NGFW policy-based mode (which turns central NAT on), FortiOS applies every
// VIP before the policy lookup without the VIP being named in a policy, and
// the policies name the mapped (real) address: a policy from all to the
// PBX's own address admits what the VIP forwards to it. Each case is in
// FortiOS syntax, read back with the reader.

const fgCentral = `config system settings
SETTINGS
end
` + fgWANAndLAN + `config firewall address
    edit "carrier"
        set subnet 203.0.113.10 255.255.255.255
    next
    edit "pbx-real"
        set subnet 10.20.0.10 255.255.255.255
    next
end
config firewall vip
    edit "pbx"
        set extip 192.0.2.10
        set mappedip "10.20.0.10"
        set extintf "wan1"
        set portforward enable
        set protocol udp
        set extport 5060
        set mappedport 5060
    next
end
config firewall policy
    edit 1
        set srcintf "wan1"
        set dstintf "internal"
        set srcaddr "SRC"
        set dstaddr "pbx-real"
        set action accept
        set schedule "always"
        set service "SIP"
    next
end
`

func centralConf(settings, src string) []byte {
	return fill(fgCentral, "SETTINGS", settings, "SRC", src)
}

func TestCentralNATVIPs(t *testing.T) {
	const central = "    set central-nat enable"
	// the VIP named in no policy is live: policy 1 from all to the mapped
	// address takes its packets, so the VIP is VW306 (not dead) and the
	// policy VW302
	r := expectFindings(t, "central NAT, policy from all", "fortigate", centralConf(central, "all"), nil,
		[]string{IDShadowedOpen, IDUnmodelled},
		"VW306 firewall vip pbx forwards 5060/udp to 10.20.0.10 with no source restriction",
		"VW302 firewall policy 1 accepts 5060/udp")
	if !strings.Contains(text(r), "from 198.51.100.77 to the device's address, 5060/udp, gets through") {
		t.Errorf("VW306's example is not a stranger's packet to the VIP\n%s", text(r))
	}
	d, err := Read("fortigate", "c.conf", centralConf(central, "all"))
	if err != nil {
		t.Fatal(err)
	}
	p := devmodel.Packet{In: "wan1", Src: netip.MustParseAddr("198.51.100.77"), Dst: netip.MustParseAddr("192.0.2.10"), Proto: devmodel.UDP, DstPort: 5060}
	res := d.Evaluate(p, func(netip.Addr, string) string { return "internal" })
	if res.Verdict != devmodel.Accept || res.Rule == nil || res.Rule.Ref != "firewall policy 1" || res.Forward == nil {
		t.Errorf("central NAT: a stranger's SIP to the VIP: %v by %s, want accept by firewall policy 1 through the VIP", res.Verdict, res.Where())
	}
	// only the carrier: working, not reported
	expectFindings(t, "central NAT, policy from the carrier", "fortigate", centralConf(central, "carrier"), nil,
		[]string{IDForwardAnySrc, IDOpenVoice, IDShadowedOpen, IDUnmodelled})
	// without central NAT a VIP named in no policy is not applied (Fortinet
	// Community ta-p/350101): no finding on it (it was VW312), a reader
	// note; the policy still accepts SIP sent to the PBX's own address
	r = expectFindings(t, "policy NAT, policy from all", "fortigate", centralConf("    set central-nat disable", "all"), nil,
		[]string{IDForwardAnySrc, IDUnmodelled, IDShadowedOpen},
		"VW302 firewall policy 1 accepts 5060/udp")
	if !strings.Contains(text(r), "firewall vip pbx is named in no firewall policy") {
		t.Errorf("no note on the VIP no policy names\n%s", text(r))
	}
	// ... and it does not hide a VIP after it: "old" (named by no policy)
	// before "pbx" (named by a policy from all), both 5060/udp of the same
	// address: strangers reach the PBX through pbx (it was VW312, dead)
	shadow := strings.Replace(string(centralConf("", "all")), "config firewall vip\n", "config firewall vip\n    edit \"old\"\n        set extip 192.0.2.10\n        set mappedip \"10.20.0.99\"\n        set extintf \"wan1\"\n        set portforward enable\n        set protocol udp\n        set extport 5060\n        set mappedport 5060\n    next\n", 1)
	shadow = strings.Replace(shadow, `set dstaddr "pbx-real"`, `set dstaddr "pbx"`, 1)
	expectFindings(t, "unused VIP before a used one", "fortigate", []byte(shadow), nil,
		[]string{IDShadowedOpen, "VW306 firewall vip old"},
		"VW306 firewall vip pbx forwards 5060/udp to 10.20.0.10 with no source restriction")
	// NGFW policy-based mode: central NAT, and the security policies
	// (not read) decide as well: never clean, the mode named
	r = expectFindings(t, "policy-based", "fortigate", centralConf("    set ngfw-mode policy-based", "carrier"), nil,
		[]string{IDForwardAnySrc, IDOpenVoice, IDShadowedOpen},
		"VW314 ngfw-mode policy-based: the security policies (config firewall security-policy) decide")
	if !r.Failed() {
		t.Errorf("a policy-based FortiGate audits clean\n%s", text(r))
	}
	if !strings.Contains(text(r), "c.conf:2") && !strings.Contains(text(r), ":2:") {
		t.Logf("%s", text(r))
	}
}
