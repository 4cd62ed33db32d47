package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

// Forwards judged by the port they reach on the inside host, whatever the
// outside port: each snippet is in the target's own syntax and read back
// with its reader.

const fgInside = fgWANAndLAN + `config firewall vip
    edit "pbx-alt"
        set extip 192.0.2.10
        set mappedip "10.20.0.10"
        set extintf "wan1"
        set portforward enable
        set protocol PROTO
        set extport EXTPORT
        set mappedport MAPPEDPORT
    next
end
config firewall policy
    edit 1
        set srcintf "wan1"
        set dstintf "internal"
        set srcaddr "all"
        set dstaddr "pbx-alt"
        set action accept
        set schedule "always"
        set service "ALL"
    next
end
`

const pfInside = `<?xml version="1.0"?>
<pfsense>
<interfaces><wan><if>em0</if><ipaddr>dhcp</ipaddr></wan><lan><if>em1</if><ipaddr>10.20.0.1</ipaddr><subnet>24</subnet></lan></interfaces>
<aliases><alias><name>altports</name><type>port</type><address>5080 5090</address></alias></aliases>
<nat>
<rule><interface>wan</interface><protocol>PROTO</protocol><source>SOURCE</source><destination><network>wanip</network><port>EXTPORT</port></destination><target>10.20.0.10</target><local-port>MAPPEDPORT</local-port><associated-rule-id>pass</associated-rule-id></rule>
</nat>
</pfsense>
`

const vigorInside = `sys sip_alg -e 0
object ip obj 5 -n TRUNK
object ip obj 5 -a 0 203.0.113.10 255.255.255.254
srv nat portmap add 1 alt udp EXTPORT 0 SRCIDX 10.20.0.10 MAPPEDPORT wan1 1
srv nat openport 1 1 -a 1 -c media -i 10.20.0.10 -w 1 1 -p UDP -s 10000 -e 10050 -l SRCIDX -g 0
`

func fill(s string, kv ...string) []byte {
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, kv[i], kv[i+1])
	}
	return []byte(s)
}

// failing lists the failing findings of a report as "ID message".
func failing(r *Report) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity != SevNote {
			out = append(out, f.ID+" "+f.Message)
		}
	}
	return out
}

func checkInside(t *testing.T, what, target string, src []byte, pol *lang.Policy, want ...string) {
	t.Helper()
	d, err := Read(target, what, src)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	r := Check(d, src, Options{Target: target, Policy: pol})
	got := failing(r)
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w[:5]) && strings.Contains(g, w[6:])
		}
		if !found {
			t.Errorf("%s: no %q\n%s", what, w, text(r))
		}
	}
	for _, g := range got {
		ok := false
		for _, w := range want {
			ok = ok || strings.HasPrefix(g, w[:5]) && strings.Contains(g, w[6:])
		}
		if !ok && (strings.HasPrefix(g, IDOpenVoice) || strings.HasPrefix(g, IDForwardAnySrc)) {
			t.Errorf("%s: unexpected %s\n%s", what, g, text(r))
		}
	}
}

func TestInsideFortiGate(t *testing.T) {
	// the policy of ALL to the VIP accepts what the VIP reaches: FortiOS
	// matches its service on the mapped port
	checkInside(t, "fortigate 5080/udp to 5060", "fortigate", fill(fgInside, "PROTO", "udp", "EXTPORT", "5080", "MAPPEDPORT", "5060"), nil,
		"VW306 WAN 5080/udp is forwarded to 10.20.0.10:5060 (SIP) from any source",
		"VW302 firewall policy 1 accepts 5060/udp (firewall vip pbx-alt: WAN 5080/udp is forwarded to 10.20.0.10:5060) from any source")
	// a range onto a range: 15060 reaches 5060, 15061 reaches 5061
	checkInside(t, "fortigate 15060-15061/tcp to 5060-5061", "fortigate", fill(fgInside, "PROTO", "tcp", "EXTPORT", "15060-15061", "MAPPEDPORT", "5060-5061"), nil,
		"VW306 WAN 15060/tcp is forwarded to 10.20.0.10:5060 (SIP) from any source",
		"VW302 WAN 15061/tcp is forwarded to 10.20.0.10:5061 (SIP) from any source",
		"VW302 firewall policy 1 accepts 5060/tcp, 5061/tcp (firewall vip pbx-alt: WAN 15060-15061/tcp is forwarded to 10.20.0.10:5060-5061) from any source")
	// restricted to the provider's addresses: fine
	checkInside(t, "fortigate restricted", "fortigate", fill(fgInside, "PROTO", "udp", "EXTPORT", "5080", "MAPPEDPORT", "5060",
		"        set portforward enable\n", "        set portforward enable\n        set src-filter \"203.0.113.10/31\"\n"), nil)
	// a non-VoIP service to a non-VoIP port: silent
	checkInside(t, "fortigate https", "fortigate", fill(fgInside, "PROTO", "tcp", "EXTPORT", "8443", "MAPPEDPORT", "443"), nil)
}

func TestInsidePfSense(t *testing.T) {
	any := "<any/>"
	checkInside(t, "pfsense 5080/udp to 5060", "pfsense", fill(pfInside, "PROTO", "udp", "SOURCE", any, "EXTPORT", "5080", "MAPPEDPORT", "5060"), nil,
		"VW306 WAN 5080/udp is forwarded to 10.20.0.10:5060 (SIP) from any source")
	// filter.inc: a range goes onto the range from the local port
	checkInside(t, "pfsense 15060-15061/tcp to 5060", "pfsense", fill(pfInside, "PROTO", "tcp", "SOURCE", any, "EXTPORT", "15060-15061", "MAPPEDPORT", "5060"), nil,
		"VW306 WAN 15060/tcp is forwarded to 10.20.0.10:5060 (SIP) from any source",
		"VW302 WAN 15061/tcp is forwarded to 10.20.0.10:5061 (SIP) from any source")
	// a port alias: every port to the local port
	checkInside(t, "pfsense alias to 5060", "pfsense", fill(pfInside, "PROTO", "udp", "SOURCE", any, "EXTPORT", "altports", "MAPPEDPORT", "5060"), nil,
		"VW306 WAN 5080/udp is forwarded to 10.20.0.10:5060 (SIP) from any source",
		"VW306 WAN 5090/udp is forwarded to 10.20.0.10:5060 (SIP) from any source")
	checkInside(t, "pfsense restricted", "pfsense", fill(pfInside, "PROTO", "udp", "SOURCE", "<address>203.0.113.10</address>", "EXTPORT", "5080", "MAPPEDPORT", "5060"), nil)
	checkInside(t, "pfsense https", "pfsense", fill(pfInside, "PROTO", "tcp", "SOURCE", any, "EXTPORT", "8443", "MAPPEDPORT", "443"), nil)
}

func TestInsideDrayTek(t *testing.T) {
	p, diags := registry.Load("../examples/asterisk-udp-trunk") // PBX 10.20.0.10, RTP 10000-20000
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	checkInside(t, "vigor 5080/udp to 5060", "draytek", fill(vigorInside, "EXTPORT", "5080", "MAPPEDPORT", "5060", "SRCIDX", "0"), nil,
		"VW306 WAN 5080/udp is forwarded to 10.20.0.10:5060 (SIP) from any source")
	// with the policy, the open port of 51 ports lies in the PBX's RTP range
	checkInside(t, "vigor 5080/udp to 5060, policy", "draytek", fill(vigorInside, "EXTPORT", "5080", "MAPPEDPORT", "5060", "SRCIDX", "0"), p,
		"VW306 WAN 5080/udp is forwarded to 10.20.0.10:5060 (SIP) from any source",
		"VW302 WAN 10000-10050/udp is forwarded to 10.20.0.10:10000-10050 (RTP) from any source")
	checkInside(t, "vigor restricted", "draytek", fill(vigorInside, "EXTPORT", "5080", "MAPPEDPORT", "5060", "SRCIDX", "5"), p)
	checkInside(t, "vigor https", "draytek", fill(vigorInside, "EXTPORT", "8443", "MAPPEDPORT", "443", "SRCIDX", "0", "-s 10000 -e 10050", "-s 8000 -e 8000"), nil)
}

// TestInsideNftables: voicewall's own nftables output with its SIP dnat
// moved to outside port 5080 (dnat to the PBX's 5060), from the provider
// and from any source.
func TestInsideNftables(t *testing.T) {
	p, diags := registry.Load("../examples/asterisk-udp-trunk")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	src := string(compile(t, p, "nftables"))
	const dnat = `ip saddr @provider_carrier_signaling_v4 udp dport 5060 counter packets 0 bytes 0 dnat ip to 10.20.0.10 `
	if !strings.Contains(src, dnat) {
		t.Fatalf("the output has no %q", dnat)
	}
	restricted := strings.Replace(src, dnat, `ip saddr @provider_carrier_signaling_v4 udp dport 5080 counter packets 0 bytes 0 dnat ip to 10.20.0.10:5060 `, 1)
	open := strings.Replace(src, dnat, `udp dport 5080 counter packets 0 bytes 0 dnat ip to 10.20.0.10:5060 `, 1)
	for _, pol := range []*lang.Policy{nil, p} {
		checkInside(t, "nftables restricted", "nftables", []byte(restricted), pol)
		checkInside(t, "nftables open", "nftables", []byte(open), pol,
			"VW306 WAN 5080/udp is forwarded to 10.20.0.10:5060 (SIP) from any source")
	}
}

// TestInsideShiftedFilter: a pfSense forward of 15060-15061/tcp onto the
// PBX's 5060-5061, filtered by a pass of 5061 only: the filter sees the
// mapped port, so 15061 gets through (VW302) and 15060 does not (a note,
// not VW306).
func TestInsideShiftedFilter(t *testing.T) {
	src := fill(pfInside, "PROTO", "tcp", "SOURCE", "<any/>", "EXTPORT", "15060-15061", "MAPPEDPORT", "5060",
		"<associated-rule-id>pass</associated-rule-id>", "",
		"</nat>\n", "</nat>\n<filter><rule><type>pass</type><interface>wan</interface><protocol>tcp</protocol><source><any/></source><destination><address>10.20.0.10</address><port>5061</port></destination></rule></filter>\n")
	checkInside(t, "pfsense shifted, 5061 passed", "pfsense", src, nil,
		"VW302 WAN 15061/tcp is forwarded to 10.20.0.10:5061 (SIP) from any source",
		"VW302 filter rule 1 accepts 5061/tcp from any source")
	d, _ := Read("pfsense", "x", src)
	r := Check(d, src, Options{Target: "pfsense"})
	if n := ids(r, IDShadowedOpen); len(n) != 1 || !strings.Contains(text(r), "admits 15060/tcp to 10.20.0.10:5060 (SIP) from any source") {
		t.Errorf("want the note VW312 for 15060 -> 5060\n%s", text(r))
	}
}

// TestShiftedRangeProbed: a pfSense forward of 40000-40999/udp onto the
// PBX's 10000-10999, the filter passing 10500-10600 only: the probes take
// the outside ports of the inside classes (40500 reaches 10500), so the
// forward is open, not "shadowed" (probing 40000 alone reached 10000,
// which the filter drops).
func TestShiftedRangeProbed(t *testing.T) {
	src := fill(pfInside, "PROTO", "udp", "SOURCE", "<any/>", "EXTPORT", "40000-40999", "MAPPEDPORT", "10000",
		"<associated-rule-id>pass</associated-rule-id>", "",
		"</nat>\n", "</nat>\n<filter><rule><type>pass</type><interface>wan</interface><protocol>udp</protocol><source><address>203.0.113.10</address></source><destination><address>10.20.0.10</address><port>10500-10600</port></destination></rule><rule><type>pass</type><interface>wan</interface><protocol>udp</protocol><source><any/></source><destination><address>10.20.0.10</address><port>10500-10600</port></destination></rule></filter>\n")
	d, err := Read("pfsense", "x", src)
	if err != nil {
		t.Fatal(err)
	}
	r := Check(d, src, Options{Target: "pfsense"})
	if !slices.Contains(ids(r, IDOpenVoice), 6) || len(ids(r, IDShadowedOpen)) != 0 {
		t.Errorf("want VW302 on the forward (line 6), no VW312\n%s", text(r))
	}
}

// TestMovedForwardIsReported: every example's output for every target,
// each SIP/RTP forward opened to any source (with every accept admitting
// it) and moved to outside ports 20000 above, still reaching the same
// inside ports, is reported with VW302 or VW306 on an opened line, with
// and without the policy: the outside port hides nothing. With the inside
// judgement switched off, cases go unreported: the test has teeth.
func TestMovedForwardIsReported(t *testing.T) {
	total, _ := movedOpenCases(t, true)
	t.Logf("%d moved forwards, every one reported", total)
	if total < 50 {
		t.Errorf("only %d moved forwards", total)
	}
	judgeInside = false
	defer func() { judgeInside = true }()
	_, missed := movedOpenCases(t, false)
	t.Logf("without the inside judgement: %d of %d unreported", missed, total)
	if missed == 0 {
		t.Error("every moved forward is reported without the inside judgement: the cases prove nothing about it")
	}
}

// movedOpenCases runs the cases of TestMovedForwardIsReported; fail:
// each one unreported is an error.
func movedOpenCases(t *testing.T, fail bool) (total, missed int) {
	t.Helper()
	eachOutput(t, func(ex testenv.Example, p *lang.Policy, target string, src []byte, d0 *devmodel.Device) {
		names, opens, svcs := openings(d0)
		for k, open := range opens {
			if !strings.HasPrefix(names[k], "forward ") {
				continue
			}
			for _, pol := range []*lang.Policy{nil, p} {
				if askedFor(pol, svcs[k]) {
					continue
				}
				d, _ := Read(target, "out", src)
				lines := open(d)
				if !moveForwards(d, lines[0]) {
					continue
				}
				r := Check(d, src, Options{Target: target, Policy: pol})
				total++
				if !reported(r, lines) {
					missed++
					if fail {
						t.Errorf("%s/%s: %s opened to any and moved 20000 up (policy %v): no finding on lines %v\n%s", ex.Name, target, names[k], pol != nil, lines, text(r))
					}
				}
			}
		}
	})
	return total, missed
}

// moveForwards moves the forwards at line (of one port range, below 45536)
// 20000 ports up outside, still reaching the same inside ports.
func moveForwards(d *devmodel.Device, line int) bool {
	moved := false
	for _, f := range d.Forwards {
		if f.Loc.Line != line || len(f.Ports) != 1 || f.Ports[0].Hi > 45535 {
			continue
		}
		if f.ToPort == 0 {
			f.ToPort = f.Ports[0].Lo
		}
		f.Ports = devmodel.Ports{{Lo: f.Ports[0].Lo + 20000, Hi: f.Ports[0].Hi + 20000}}
		moved = true
	}
	return moved
}
