package audit

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

// VW307 (rate limit), VW304 (cleartext beside TLS) and VW305 (outbound
// NAT) judge a forward by the SIP it reaches on the inside host as well as
// by its outside port: each case in the target's own syntax, read back
// with its reader.

// expectFindings: every want ("VW307 text") is a finding of that ID whose
// message holds the text (any severity); no finding is one of absent
// ("VW307" or "VW307 text").
func expectFindings(t *testing.T, what, target string, src []byte, pol *lang.Policy, absent []string, want ...string) *Report {
	t.Helper()
	d, err := Read(target, what, src)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	r := Check(d, src, Options{Target: target, Policy: pol})
	for _, w := range want {
		id, msg, _ := strings.Cut(w, " ")
		found := false
		for _, f := range r.Findings {
			found = found || f.ID == id && strings.Contains(f.Message, msg)
		}
		if !found {
			t.Errorf("%s: no %s %q\n%s", what, id, msg, text(r))
		}
	}
	for _, a := range absent {
		id, msg, _ := strings.Cut(a, " ")
		for _, f := range r.Findings {
			if f.ID == id && strings.Contains(f.Message, msg) {
				t.Errorf("%s: unexpected %s on line %d\n%s", what, id, f.Loc.Line, text(r))
			}
		}
	}
	return r
}

// fixOf is the fix of the first finding of id whose message holds msg.
func fixOf(r *Report, id, msg string) string {
	for _, f := range r.Findings {
		if f.ID == id && strings.Contains(f.Message, msg) {
			return f.Fix
		}
	}
	return ""
}

const fgChecks = fgWANAndLAN + `config firewall service custom
    edit "SIP-ALT"
        set udp-portrange 5080
    next
end
config firewall vip
    edit "pbx-alt"
        set extip 192.0.2.10
        set mappedip "10.20.0.10"
        set extintf "wan1"
        set portforward enable
        set protocol udp
        set extport 5080
        set mappedport 5060
    next
    edit "pbx-tls"
        set extip 192.0.2.10
        set mappedip "10.20.0.10"
        set extintf "wan1"
        set portforward enable
        set protocol tcp
        set src-filter "203.0.113.10/32"
        set extport 5061
        set mappedport 5061
    next
end
config firewall policy
    edit 1
        set srcintf "wan1"
        set dstintf "internal"
        set srcaddr "all"
        set dstaddr "pbx-alt" "pbx-tls"
        set action accept
        set schedule "always"
        set service "ALL"
    next
end
DOS`

const fgDoS = `config firewall DoS-policy
    edit 1
        set interface "wan1"
        set srcaddr "all"
        set dstaddr "all"
        set service "SERVICE"
        config anomaly
            edit "tcp_src_session"
                set status enable
                set action block
                set threshold 20
            next
            edit "udp_src_session"
                set status enable
                set action block
                set threshold 20
            next
        end
    next
end
`

func TestInsideChecksFortiGate(t *testing.T) {
	moved := "WAN 5080/udp is forwarded to 10.20.0.10:5060 (SIP)"
	r := expectFindings(t, "fortigate no DoS policy", "fortigate", fill(fgChecks, "DOS", ""), nil, nil,
		"VW307 "+moved+" with no per-source rate limit",
		"VW304 admits cleartext SIP ("+moved+") from the WAN")
	// a DoS policy sees the packet before the VIP: one of SIP (5060) does
	// not cover the VIP of 5080, one of 5080 does
	r = expectFindings(t, "fortigate DoS policy of SIP", "fortigate", fill(fgChecks, "DOS", fgDoS, "SERVICE", "SIP"), nil, nil,
		"VW307 "+moved+" with no per-source rate limit")
	if fix := fixOf(r, IDNoRateLimit, "5080"); !strings.Contains(fix, "match the outside port, 5080/udp") {
		t.Errorf("the fix does not name the outside port: %q", fix)
	}
	expectFindings(t, "fortigate DoS policy of 5080", "fortigate", fill(fgChecks, "DOS", fgDoS, "SERVICE", "SIP-ALT"), nil, []string{"VW307 5080"})
	// the same ports outside and inside: the message of a forward of 5060
	expectFindings(t, "fortigate 5060", "fortigate", fill(fgChecks, "DOS", "", "set extport 5080", "set extport 5060"), nil, nil,
		"VW307 firewall vip pbx-alt forwards SIP 5060/udp with no per-source rate limit",
		"VW304 firewall vip pbx-alt admits cleartext SIP (5060) from the WAN")
	// restricted to the trunk's addresses: a cleartext trunk, no VW304
	expectFindings(t, "fortigate restricted", "fortigate", fill(fgChecks, "DOS", "",
		"        set extport 5080\n", "        set extport 5080\n        set src-filter \"203.0.113.10/32\"\n"), nil, []string{IDCleartextBeside},
		"VW307 "+moved)
}

func TestInsideChecksPfSense(t *testing.T) {
	any := "<any/>"
	moved := "WAN 5080/udp is forwarded to 10.20.0.10:5060 (SIP)"
	// pfInside has no <outbound>: automatic outbound NAT, pfSense's default
	expectFindings(t, "pfsense 5080/udp to 5060", "pfsense", fill(pfInside, "PROTO", "udp", "SOURCE", any, "EXTPORT", "5080", "MAPPEDPORT", "5060"), nil, nil,
		"VW307 "+moved+" with no per-source rate limit",
		"VW305 the source ports of the voice hosts (10.20.0.10) are rewritten")
	// the outside port stays a reason: providers and scanners send SIP to 5060
	expectFindings(t, "pfsense 5060/udp to 8080", "pfsense", fill(pfInside, "PROTO", "udp", "SOURCE", any, "EXTPORT", "5060", "MAPPEDPORT", "8080"), nil, nil,
		"VW307 WAN 5060/udp (SIP) is forwarded to 10.20.0.10:8080 with no per-source rate limit",
		"VW305 (10.20.0.10)")
	// a forward of another service to another port: no voice host
	expectFindings(t, "pfsense https", "pfsense", fill(pfInside, "PROTO", "tcp", "SOURCE", any, "EXTPORT", "8443", "MAPPEDPORT", "443"), nil,
		[]string{IDNoRateLimit, IDAutoOutboundNAT, IDCleartextBeside})
	// max-src-conn-rate on the pass rule: the rule sees the inside port
	pass := func(port string) string {
		return "</nat>\n<filter><rule><type>pass</type><interface>wan</interface><protocol>tcp</protocol><source><any/></source><destination><address>10.20.0.10</address><port>" + port + "</port></destination><max-src-conn-rate>10</max-src-conn-rate><max-src-conn-rates>1</max-src-conn-rates></rule></filter>\n"
	}
	tcp := []string{"PROTO", "tcp", "SOURCE", any, "EXTPORT", "15060", "MAPPEDPORT", "5060", "<associated-rule-id>pass</associated-rule-id>", ""}
	expectFindings(t, "pfsense rate on 5060", "pfsense", fill(pfInside, append(tcp, "</nat>\n", pass("5060"))...), nil, []string{IDNoRateLimit})
	expectFindings(t, "pfsense rate on 15060", "pfsense", fill(pfInside, append(tcp, "</nat>\n", pass("15060"))...), nil, nil,
		"VW307 WAN 15060/tcp is forwarded to 10.20.0.10:5060 (SIP) with no per-source rate limit")
	// a TLS trunk forwarded from its address, cleartext SIP from anyone on 5080
	tls := `<rule><interface>wan</interface><protocol>tcp</protocol><source><address>203.0.113.10</address></source><destination><network>wanip</network><port>5061</port></destination><target>10.20.0.10</target><local-port>5061</local-port><associated-rule-id>pass</associated-rule-id></rule>
</nat>`
	expectFindings(t, "pfsense TLS trunk", "pfsense", fill(pfInside, "PROTO", "udp", "SOURCE", any, "EXTPORT", "5080", "MAPPEDPORT", "5060", "</nat>", tls), nil, nil,
		"VW304 admits cleartext SIP ("+moved+") from the WAN although the only SIP trunk forwarded is TLS")
}

func TestInsideChecksDrayTek(t *testing.T) {
	moved := "WAN 5080/udp is forwarded to 10.20.0.10:5060 (SIP)"
	vigor := fill(vigorInside, "EXTPORT", "5080", "MAPPEDPORT", "5060", "SRCIDX", "0")
	r := expectFindings(t, "vigor 5080/udp to 5060", "draytek", vigor, nil, nil,
		"VW307 "+moved+" with no per-source rate limit")
	if !strings.Contains(text(r), "warning[VW307]") {
		t.Errorf("from any source, VW307 is a warning\n%s", text(r))
	}
	// the Vigor's flood defence covers every UDP port, outside and inside
	expectFindings(t, "vigor udpflood", "draytek", append(vigor, "dos -s udpflood\n"...), nil, []string{IDNoRateLimit})
	tls := append(vigor, "srv nat portmap add 2 tls tcp 5061 0 5 10.20.0.10 5061 wan1 1\n"...)
	expectFindings(t, "vigor TLS trunk", "draytek", tls, nil, nil,
		"VW304 srv nat portmap 1 (alt) admits cleartext SIP ("+moved+") from the WAN although the only SIP trunk forwarded is TLS")
}

// nftRuleset is a hand-written ruleset in the reader's dialect: a TLS trunk
// forwarded from its address, and RULES.
const nftRuleset = `table inet gw {
	set trunk_v4 {
		type ipv4_addr
		elements = { 203.0.113.10 }
	}
	chain wan_in {
		type filter hook prerouting priority PRIO; policy accept;
		iifname "eth0" ct state new udp dport 5060 update @trunk_v4 { ip saddr limit rate over 10/second burst 30 packets } counter drop
	}
	chain nat_pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "eth0" ip saddr @trunk_v4 tcp dport 5061 dnat ip to 10.20.0.10
		RULES
	}
}
`

func TestInsideChecksNftables(t *testing.T) {
	moved := "WAN 5080/udp is forwarded to 10.20.0.10:5060 (SIP)"
	rule := `iifname "eth0" udp dport 5080 counter dnat ip to 10.20.0.10:5060`
	// the limit in a prerouting chain before dstnat sees 5080, not 5060
	r := expectFindings(t, "nftables mangle limit", "nftables", fill(nftRuleset, "PRIO", "mangle", "RULES", rule), nil, nil,
		"VW306 "+moved+" from any source",
		"VW307 "+moved+" with no per-source rate limit",
		"VW304 admits cleartext SIP ("+moved+")")
	if fix := fixOf(r, IDNoRateLimit, "5080"); !strings.Contains(fix, "match the outside port, 5080/udp") {
		t.Errorf("the fix does not name the outside port: %q", fix)
	}
	// after dstnat (priority filter) it sees 5060, what the PBX gets
	expectFindings(t, "nftables filter-priority limit", "nftables", fill(nftRuleset, "PRIO", "filter", "RULES", rule), nil, []string{"VW307 5080"})
	expectFindings(t, "nftables limit of 5080", "nftables", fill(nftRuleset, "PRIO", "mangle", "udp dport 5060 update", "udp dport { 5060, 5080 } update", "RULES", rule), nil, []string{"VW307 5080"})
	// dnat to a range: the kernel picks a port of it for each connection,
	// so 5080 reaches 5060 among others
	pick := `iifname "eth0" udp dport 5080 dnat ip to 10.20.0.10:5060-5062`
	picked := "WAN 5080/udp is forwarded to 10.20.0.10:5060-5062, a port picked for each connection (5060 is SIP)"
	expectFindings(t, "nftables dnat to a range", "nftables", fill(nftRuleset, "PRIO", "mangle", "RULES", pick), nil, nil,
		"VW306 "+picked+" from any source",
		"VW307 "+picked+" with no per-source rate limit")
	// picks the filter drops are no exposure: 5080 reaches 5061 and 5062
	// (not SIP) but never 5060 (a note)
	drop := "\n\tchain fwd {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tudp dport 5060 drop\n\t}\n}\n"
	r = expectFindings(t, "nftables dnat to a range, 5060 dropped", "nftables", fill(nftRuleset, "PRIO", "mangle", "RULES", pick, "\n}\n", drop), nil,
		[]string{"VW306"}, "VW312 admits 5080/udp to 10.20.0.10:5060-5062, a port picked for each connection (5060 is SIP) from any source on the WAN, but no packet")
	// and one that reaches it: 5061 dropped, 5060 reached
	expectFindings(t, "nftables dnat to a range, 5061 dropped", "nftables", fill(nftRuleset, "PRIO", "mangle", "RULES", pick, "\n}\n", strings.Replace(drop, "5060", "5061", 1)), nil, nil,
		"VW306 "+picked+" from any source, with no source restriction: scanners sweep every port, find SIP answering on 5080 and brute-force it (toll fraud) (e.g. eth0 from 198.51.100.77 to the device's address, 5080/udp, gets through when the forward picks port 5060)")
	// SIP outside and inside: one finding, naming the range; a limit after
	// NAT covers it when it covers where SIP lands (5060 of 5060-5062)
	to5060 := `iifname "eth0" udp dport 5060 dnat ip to 10.20.0.10:5060-5062`
	expectFindings(t, "nftables 5060 to a range", "nftables", fill(nftRuleset, "PRIO", "filter", "udp dport 5060 update", "udp dport 5061 update", "RULES", to5060), nil, nil,
		"VW307 WAN 5060/udp (SIP) is forwarded to 10.20.0.10:5060-5062, a port picked for each connection with no per-source rate limit")
	expectFindings(t, "nftables 5060 to a range, limited after NAT", "nftables", fill(nftRuleset, "PRIO", "filter", "RULES", to5060), nil, []string{"VW307 5060/udp"})
	expectFindings(t, "nftables 5060 to a range, limited before NAT", "nftables", fill(nftRuleset, "PRIO", "mangle", "RULES", to5060), nil, []string{"VW307 5060/udp"})
	// one outside port onto the RTP range of the PBX: RTP from anyone
	p, diags := registry.Load("../examples/asterisk-udp-trunk") // PBX 10.20.0.10, RTP 10000-20000
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rtp := `iifname "eth0" udp dport 40000 dnat ip to 10.20.0.10:10000-20000`
	expectFindings(t, "nftables dnat to the RTP range", "nftables", fill(nftRuleset, "PRIO", "mangle", "RULES", rtp), p, nil,
		"VW302 WAN 40000/udp is forwarded to 10.20.0.10:10000-20000, a port picked for each connection (10000-20000 is RTP) from any source")
	// restricted to the trunk: neither VW306 nor VW304
	expectFindings(t, "nftables restricted", "nftables", fill(nftRuleset, "PRIO", "mangle", "RULES", `iifname "eth0" ip saddr @trunk_v4 udp dport 5080 dnat ip to 10.20.0.10:5060-5062`), nil,
		[]string{IDForwardAnySrc, IDCleartextBeside}, "VW307 "+picked)
}

// TestMovedSIPForwardRateLimited: every SIP forward of every example's
// output on every target, as written (its source kept), moved 20000 ports
// up outside and still reaching the same inside port, gets VW307 naming
// both ports, with and without the policy: a limit before destination NAT
// (voicewall's FortiOS DoS policy, its nftables prerouting limit) matches
// the old outside port, not the new one, and none covers the PBX's SIP
// whatever the port. Cases a limit of every port covers (the Vigor's flood
// defence) or a rate-limited pass to the host are left out. With the
// inside judgement switched off every case goes unreported; with the
// limits read as seeing the inside port (Limit.PreNAT off), the ones
// voicewall's rate_limit covers on the old port.
func TestMovedSIPForwardRateLimited(t *testing.T) {
	total, _ := movedRateCases(t, true, nil)
	t.Logf("%d moved SIP forwards, every one VW307 (by target: %v)", total, movedByTarget)
	if total < 50 {
		t.Errorf("only %d moved SIP forwards", total)
	}
	_, missed := movedRateCases(t, false, func(d *devmodel.Device) {
		for _, l := range d.Limits {
			l.PreNAT = false
		}
	})
	t.Logf("with every limit read as after NAT: %d of %d without VW307", missed, total)
	if missed == 0 {
		t.Error("no case depends on where the limit sees the packet")
	}
	judgeInside = false
	defer func() { judgeInside = true }()
	_, missed = movedRateCases(t, false, nil)
	t.Logf("without the inside judgement: %d of %d without VW307", missed, total)
	if missed == 0 {
		t.Error("every moved SIP forward gets VW307 without the inside judgement: the cases prove nothing about it")
	}
}

var movedByTarget = map[string]int{}

func movedRateCases(t *testing.T, fail bool, mutate func(*devmodel.Device)) (total, missed int) {
	t.Helper()
	clear(movedByTarget)
	eachOutput(t, func(ex testenv.Example, p *lang.Policy, target string, src []byte, d0 *devmodel.Device) {
		for i, f0 := range d0.Forwards {
			if f0.Disabled || len(f0.Ports) != 1 || f0.Ports[0].Hi > 45535 || everyPortLimited(d0, f0) {
				continue
			}
			var want []string
			for _, s := range sipPorts {
				if (f0.Proto == 0 || f0.Proto == s.proto) && f0.Ports.Contains(s.port) {
					want = append(want, fmt.Sprintf("WAN %d/%s is forwarded to %s:%d (SIP) with no per-source rate limit", s.port+20000, devmodel.ProtoName(s.proto), hostText(f0.To), f0.MapPort(s.port)))
				}
			}
			if len(want) == 0 {
				continue
			}
			for _, pol := range []*lang.Policy{nil, p} {
				d, _ := Read(target, "out", src)
				if !moveForwards(d, d.Forwards[i].Loc.Line) {
					continue
				}
				if mutate != nil {
					mutate(d)
				}
				r := Check(d, src, Options{Target: target, Policy: pol})
				for _, w := range want {
					total++
					movedByTarget[target]++
					found := false
					for _, g := range r.Findings {
						found = found || g.ID == IDNoRateLimit && g.Loc == f0.Loc && strings.Contains(g.Message, w)
					}
					if !found {
						missed++
						if fail {
							t.Errorf("%s/%s: %s moved 20000 up (policy %v): no VW307 %q\n%s", ex.Name, target, f0.Ref, pol != nil, w, text(r))
						}
					}
				}
			}
		}
	})
	return total, missed
}

// everyPortLimited: a limit of every port of the forward's protocol (the
// Vigor's flood defence), or a rate-limited accept to its host, covers it
// wherever it is moved.
func everyPortLimited(d *devmodel.Device, f *devmodel.Forward) bool {
	for _, l := range d.Limits {
		if l.Services == nil {
			return true
		}
		for _, s := range l.Services {
			if s.Proto == 0 || (f.Proto == 0 || s.Proto == f.Proto) && s.DstPorts == nil {
				return true
			}
		}
	}
	for _, r := range d.Rules {
		if r.RateLimited && r.Action == devmodel.Accept && (r.Dst.Contains(f.To) || slices.Contains(r.DstForwards, f.Name)) {
			return true
		}
	}
	return false
}
