package fortigate

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/devmodel"
)

// A FortiOS policy whose dstaddr is a VIP matches its service against the
// VIP's mapped (inside) port: the VIP's destination NAT runs at ingress,
// before the policy lookup (FortiOS Handbook, Life of a Packet: ingress
// "Destination NAT", then the stateful inspection engine's "Policy
// lookup"), and Fortinet's "Technical Tip: How to use virtual IPs with
// non-standard external ports" (FortiOS 5.6 and later) shows a policy of
// the external port 8080 to a VIP of 8080 onto 80 matching only the
// implicit deny. The model read back from the configuration must do the
// same, in both directions.

const vipServiceConf = `config system interface
    edit "wan1"
        set role wan
    next
    edit "internal"
        set role lan
        set ip 10.20.0.1 255.255.255.0
    next
end
config firewall service custom
    edit "ALT-8080"
        set udp-portrange 8080
    next
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
    edit 1
        set srcintf "wan1"
        set dstintf "internal"
        set srcaddr "all"
        set dstaddr "pbx"
        set action accept
        set schedule "always"
        set service "SERVICE"
    next
end
`

func TestVIPPolicyMatchesMappedPort(t *testing.T) {
	stranger := netip.MustParseAddr("198.51.100.77")
	ext := netip.MustParseAddr("192.0.2.10")
	route := func(netip.Addr, string) string { return "internal" }
	for _, c := range []struct {
		name          string
		ext, mapped   string
		service       string
		send          uint16 // the outside port the packet is sent to
		accept        bool
		admitIn       string // what Admits says the policy lets through: "OUT>IN", "" nothing
		reachesInside uint16
	}{
		// outside 5060 onto 8080: SIP does not match 8080, its own 8080 does
		{name: "5060 onto 8080, service SIP", ext: "5060", mapped: "8080", service: "SIP", send: 5060, accept: false},
		{name: "5060 onto 8080, service 8080", ext: "5060", mapped: "8080", service: "ALT-8080", send: 5060, accept: true, admitIn: "5060>8080", reachesInside: 8080},
		{name: "5060 onto 8080, service ALL", ext: "5060", mapped: "8080", service: "ALL", send: 5060, accept: true, admitIn: "5060>8080", reachesInside: 8080},
		// outside 5080 onto 5060: SIP matches, the outside 5080 does not
		{name: "5080 onto 5060, service SIP", ext: "5080", mapped: "5060", service: "SIP", send: 5080, accept: true, admitIn: "5080>5060", reachesInside: 5060},
		{name: "5080 onto 5060, service 5080", ext: "5080", mapped: "5060", service: "ALT-5080", send: 5080, accept: false},
		// a range onto a range: SIP takes only the part reaching 5060
		{name: "5080-5081 onto 5060-5061, service SIP", ext: "5080-5081", mapped: "5060-5061", service: "SIP", send: 5080, accept: true, admitIn: "5080>5060", reachesInside: 5060},
		{name: "5080-5081 onto 5060-5061, 5081", ext: "5080-5081", mapped: "5060-5061", service: "SIP", send: 5081, accept: false, admitIn: "5080>5060"},
	} {
		src := strings.NewReplacer("EXTPORT", c.ext, "MAPPEDPORT", c.mapped, "SERVICE", c.service).Replace(vipServiceConf)
		d, err := ReadDevice("vip.conf", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		res := d.Evaluate(devmodel.Packet{In: "wan1", Src: stranger, Dst: ext, Proto: devmodel.UDP, DstPort: c.send}, route)
		if got := res.Verdict == devmodel.Accept; got != c.accept {
			t.Errorf("%s: packet to %d: accept=%v (%s), want %v", c.name, c.send, got, res.Where(), c.accept)
		}
		if c.accept && (res.Forward == nil || res.Forward.MapPort(c.send) != c.reachesInside || res.Rule == nil || res.Rule.Ref != "firewall policy 1") {
			t.Errorf("%s: want it accepted by firewall policy 1 through the VIP onto %d, got %s", c.name, c.reachesInside, res.Where())
		}
		var got []string
		for _, a := range d.Rules[0].Admits(d.Forwards) {
			got = append(got, a.Out.String()+">"+a.In.String())
		}
		if strings.Join(got, " ") != c.admitIn {
			t.Errorf("%s: the policy admits %q, want %q", c.name, got, c.admitIn)
		}
		// Sees (the rule itself takes the packet) agrees with Evaluate
		if sees := d.Sees(d.Rules[0], devmodel.Packet{In: "wan1", Src: stranger, Dst: ext, Proto: devmodel.UDP, DstPort: c.send}, route); sees != c.accept {
			t.Errorf("%s: Sees=%v, want %v", c.name, sees, c.accept)
		}
	}
}
