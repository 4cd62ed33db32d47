package audit

import (
	"net/netip"
	"testing"

	"github.com/voicewall/voicewall/devmodel"
)

// A one-to-one VIP (no port forwarding) with the optional service filter
// (set service) maps the whole address but lets only those services reach
// the host, ports unchanged. In FortiOS syntax, read back with the reader.

const fgVIPService = fgWANAndLAN + `config firewall vip
    edit "pbx"
        set extip 192.0.2.10
        set mappedip "10.20.0.10"
        set extintf "wan1"
SERVICE    next
end
config firewall policy
    edit 1
        set srcintf "wan1"
        set dstintf "internal"
        set srcaddr "all"
        set dstaddr "pbx"
        set action accept
        set schedule "always"
        set service "ALL"
    next
end
`

func TestVIPServiceFilter(t *testing.T) {
	conf := func(svc string) []byte {
		if svc != "" {
			svc = "        set service " + svc + "\n"
		}
		return fill(fgVIPService, "SERVICE", svc)
	}
	// no filter: every port of the host, SIP and every UDP port
	expectFindings(t, "no filter", "fortigate", conf(""), nil, nil,
		"VW306 firewall vip pbx forwards 5060/udp",
		"VW302 firewall vip pbx forwards 5061/tcp, every port",
		"VW302 firewall policy 1 accepts 5060/udp, 5060/tcp, 5061/tcp, every port")
	// HTTPS only: no SIP, no media reaches the host (was VW306 and VW302)
	expectFindings(t, "HTTPS only", "fortigate", conf(`"HTTPS"`), nil, []string{IDForwardAnySrc, IDOpenVoice, IDShadowedOpen})
	// SIP only: SIP does (the VIP and the policy of ALL to it), media
	// and TLS do not
	expectFindings(t, "SIP only", "fortigate", conf(`"SIP"`), nil, []string{"VW302 every", "VW302 firewall vip", "VW302 5061"},
		"VW306 firewall vip pbx forwards 5060/udp",
		"VW306 firewall vip pbx forwards 5060/tcp",
		"VW302 firewall policy 1 accepts 5060/udp, 5060/tcp from any source")
	d, err := Read("fortigate", "v.conf", conf(`"HTTPS" "SIP"`))
	if err != nil {
		t.Fatal(err)
	}
	route := func(netip.Addr, string) string { return "internal" }
	for _, c := range []struct {
		proto uint8
		port  uint16
		want  bool
	}{{devmodel.TCP, 443, true}, {devmodel.UDP, 5060, true}, {devmodel.TCP, 5060, true}, {devmodel.UDP, 10000, false}, {devmodel.TCP, 3389, false}} {
		p := devmodel.Packet{In: "wan1", Src: netip.MustParseAddr("198.51.100.77"), Dst: netip.MustParseAddr("192.0.2.10"), Proto: c.proto, DstPort: c.port}
		res := d.Evaluate(p, route)
		if got := res.Forward != nil && res.Verdict == devmodel.Accept; got != c.want {
			t.Errorf("%d/%s to the VIP: forwarded and accepted %v, want %v (%s)", c.port, devmodel.ProtoName(c.proto), got, c.want, res.Where())
		}
	}
}
