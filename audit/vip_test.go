package audit

import (
	"strings"
	"testing"
)

// A FortiOS policy to a VIP matches its service against the VIP's mapped
// port (the destination NAT runs before the policy lookup), so VW302 on
// such a policy is about the inside port the VIP reaches, not the outside
// one. Each case is in FortiOS syntax, read back with the reader.

// fgWANAndLAN is the interfaces of the FortiOS test configurations: wan1 in
// the WAN role, internal the LAN with the PBX's subnet.
const fgWANAndLAN = `config system interface
    edit "wan1"
        set role wan
    next
    edit "internal"
        set role lan
        set ip 10.20.0.1 255.255.255.0
    next
end
`

const fgVIP = fgWANAndLAN + `config firewall address
    edit "carrier"
        set subnet 203.0.113.10 255.255.255.255
    next
    edit "internet"
        set type iprange
        set start-ip 1.0.0.0
        set end-ip 223.255.255.255
    next
end
config firewall service custom
    edit "ALT-5080"
        set udp-portrange 5080
    next
end
config firewall vip
    edit "pbx"
        set extip 192.0.2.10
        set mappedip "10.20.0.10"
        set extintf "wan1"
        set portforward enable
        set protocol udp
        set extport EXTPORT
        set mappedport MAPPEDPORT
    next
end
config firewall policy
POLICIES
end
`

// fgPolicy is a policy from wan1 to the VIP pbx.
func fgPolicy(id, src, service, action string, extra ...string) string {
	return "    edit " + id + "\n        set srcintf \"wan1\"\n        set dstintf \"internal\"\n        set srcaddr \"" + src + "\"\n        set dstaddr \"pbx\"\n        set action " + action + "\n        set schedule \"always\"\n        set service \"" + service + "\"\n" + strings.Join(extra, "") + "    next\n"
}

func vipConf(ext, mapped string, policies ...string) []byte {
	return fill(fgVIP, "EXTPORT", ext, "MAPPEDPORT", mapped, "POLICIES", strings.Join(policies, ""))
}

func TestPolicyToVIPByMappedPort(t *testing.T) {
	// 5060 outside onto 8080: the policy accepts 8080, not SIP (the VIP
	// keeps its VW306: providers and scanners send SIP to its 5060)
	expectFindings(t, "ALL to 5060 onto 8080", "fortigate", vipConf("5060", "8080", fgPolicy("1", "all", "ALL", "accept")), nil,
		[]string{"VW302 firewall policy 1"},
		"VW306 firewall vip pbx forwards 5060/udp to 10.20.0.10 with no source restriction")
	// 5080 outside onto 5060: the policy of SIP accepts SIP, naming both ports
	r := expectFindings(t, "SIP to 5080 onto 5060", "fortigate", vipConf("5080", "5060", fgPolicy("1", "all", "SIP", "accept")), nil, nil,
		"VW302 firewall policy 1 accepts 5060/udp (firewall vip pbx: WAN 5080/udp is forwarded to 10.20.0.10:5060) from any source (all, line 40) on the WAN",
		"VW306 firewall vip pbx: WAN 5080/udp is forwarded to 10.20.0.10:5060 (SIP) from any source")
	if !strings.Contains(text(r), "(e.g. wan1 from 198.51.100.77 to the device's address, 5080/udp, gets through)") {
		t.Errorf("the example is not a stranger's packet to the outside port\n%s", text(r))
	}
	// a policy of the outside port 5080 takes nothing through the VIP (the
	// packet has port 5060 when the policy is looked up): no stranger
	// reaches the PBX, the VIP is dead (VW312), the policy admits no SIP
	expectFindings(t, "5080 to 5080 onto 5060", "fortigate", vipConf("5080", "5060", fgPolicy("1", "all", "ALT-5080", "accept")), nil,
		[]string{IDOpenVoice, IDForwardAnySrc},
		"VW312 firewall vip pbx admits 5080/udp to 10.20.0.10:5060 (SIP)")
	// the same port outside and inside: the message as it always was
	expectFindings(t, "SIP to 5060", "fortigate", vipConf("5060", "5060", fgPolicy("1", "all", "SIP", "accept")), nil, []string{"VW302 (firewall vip"},
		"VW302 firewall policy 1 accepts 5060/udp from any source (all, line 40) on the WAN")
}

// The example packet of VW302/VW306 is a stranger's, and a suspect is
// open only when a stranger's packet gets through it: a source outside
// every provider and management set. A provider's packet that its own
// policy lets through says nothing about strangers.
func TestOpenMeansAStrangerGetsThrough(t *testing.T) {
	carrier := "203.0.113.10"
	// the configuration the inside-check tests audit: a policy from all
	// to an open VIP (5080 onto 5060) and a VIP restricted to the carrier
	// (5061/tcp); only the carrier gets 5061 through, so the policy is
	// not "accepting 5061/tcp from any source", and no example is the
	// carrier's
	r := expectFindings(t, "open and TLS VIPs", "fortigate", fill(fgChecks, "DOS", ""), nil, []string{"VW302 5061/tcp"},
		"VW302 firewall policy 1 accepts 5060/udp (firewall vip pbx-alt: WAN 5080/udp is forwarded to 10.20.0.10:5060) from any source")
	if strings.Contains(text(r), "from "+carrier) {
		t.Errorf("an example packet is the carrier's\n%s", text(r))
	}
	// a VIP without src-filter that only a policy from the carrier admits
	// (the usual FortiOS way of restricting a VIP): strangers never get
	// through, the carrier does; not open (it was VW306 with the
	// carrier's packet as the example), not dead
	expectFindings(t, "policy from the carrier", "fortigate", vipConf("5060", "5060", fgPolicy("1", "carrier", "SIP", "accept")), nil,
		[]string{IDForwardAnySrc, IDOpenVoice, IDShadowedOpen})
	// deny from every address but the carrier's, then accept from all:
	// strangers are denied, the carrier gets through (it was VW306 and
	// VW302 with the carrier's packet as the example)
	negated := fgPolicy("1", "carrier", "SIP", "deny", "        set srcaddr-negate enable\n")
	expectFindings(t, "deny all but the carrier", "fortigate", vipConf("5060", "5060", negated, fgPolicy("2", "all", "SIP", "accept")), nil,
		[]string{IDForwardAnySrc, IDOpenVoice, IDShadowedOpen})
	// ... and with no policy letting anyone through, the VIP from any is
	// dead for everyone: VW312, naming what drops the strangers
	expectFindings(t, "deny all but the carrier, nothing else", "fortigate", vipConf("5060", "5060", negated), nil,
		[]string{IDForwardAnySrc, IDOpenVoice},
		"VW312 firewall vip pbx admits 5060/udp from any source on the WAN, but no packet from a source outside what earlier rules decide gets through it: shadowed by firewall policy 1")
	// a set larger than anyone's own names no one: a policy from "the
	// Internet" (1.0.0.0-223.255.255.255) lets strangers through
	r = expectFindings(t, "policy from the Internet", "fortigate", vipConf("5060", "5060", fgPolicy("1", "internet", "SIP", "accept")), nil, nil,
		"VW306 firewall vip pbx forwards 5060/udp to 10.20.0.10 with no source restriction")
	if !strings.Contains(text(r), "from 198.51.100.77 to the device's address, 5060/udp, gets through") {
		t.Errorf("the example is not the documentation stranger\n%s", text(r))
	}
	// a VIP whose src-filter is that large is open too: a policy from all
	// to it accepts SIP from strangers
	big := strings.Replace(string(vipConf("5060", "5060", fgPolicy("1", "all", "SIP", "accept"))), "        set protocol udp\n", "        set protocol udp\n        set src-filter \"1.0.0.0-223.255.255.255\"\n", 1)
	expectFindings(t, "VIP from the Internet", "fortigate", []byte(big), nil, nil,
		"VW302 firewall policy 1 accepts 5060/udp from any source")
}
