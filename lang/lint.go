package lang

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Review findings that need the whole, lowered policy. They are warnings:
// the policy still compiles, but a reviewer should look. docs/rules.md
// explains each one.
const (
	IDRTPOverlapsSIP  = "VW112" // a media range includes a SIP port
	IDMgmtFromVoice   = "VW113" // phones can reach the management of voice VLAN phones
	IDLooseRateLimit  = "VW114" // SIP rate limit too loose to stop a scanner
	IDExpectUnmanaged = "VW115" // an expect whose packet no voicewall rule decides
	IDAllowOutNoop    = "VW118" // an allow_out entry that can never let anything out
)

// LooseSIPRate is the per-source SIP rate above which rate_limit no longer
// slows a scanner: a trunk needs a handful of packets a second per call
// setup, a scanner sends hundreds.
const LooseSIPRate = 50.0

// lint runs the review checks on a valid, lowered policy.
func lint(p *Policy) hcl.Diagnostics {
	var diags hcl.Diagnostics
	diags = append(diags, lintRTPOverlapsSIP(p)...)
	diags = append(diags, lintMgmtFromVoice(p)...)
	diags = append(diags, lintLooseRate(p)...)
	diags = append(diags, lintExpectUnmanaged(p)...)
	diags = append(diags, lintAllowOutNoop(p)...)
	return diags
}

// lintAllowOutNoop: an allow_out entry that no packet can use. SIP from the
// phones goes only to the VLAN's providers (the toll-fraud drop comes
// before allow_out), and a destination of a family the VLAN has no subnet
// of is never reached from it.
func lintAllowOutNoop(p *Policy) hcl.Diagnostics {
	var diags hcl.Diagnostics
	sip := p.SIPPorts()
	for _, v := range p.VoiceVLANs {
		fams := map[bool]bool{}
		for _, s := range v.SubnetPrefixes {
			fams[s.Addr().Is6()] = true
		}
		for _, a := range v.AllowOut {
			switch {
			case v.Providers != nil && ServicesCover(sip, []Service{a.Service}):
				diags = append(diags, warnf(IDAllowOutNoop, a.Range, "allow_out entry without effect",
					"%q is SIP: phones in voice_vlan %q send SIP only to its providers (the toll-fraud guard drops any other SIP before allow_out). Remove the entry, or add the server as a provider of the VLAN.", a.Text, v.Name))
			case a.Dst.IsValid() && !fams[a.Dst.Addr().Is6()]:
				diags = append(diags, warnf(IDAllowOutNoop, a.Range, "allow_out entry without effect",
					"%q is an IPv%s destination, but voice_vlan %q has no IPv%s subnet: no phone can send to it. Remove the entry, or add the subnet.", a.Text, ipv(a.Dst.Addr().Is6()), v.Name, ipv(a.Dst.Addr().Is6())))
			}
		}
	}
	return diags
}

// lintRTPOverlapsSIP: a media range (rtp.ports or a PBX's rtp_ports) that
// includes a UDP SIP port lets every provider media host send to the SIP
// port: the RTP accept comes before the SIP catch-all drop, so the SIP
// whitelist (signaling) no longer decides who may speak SIP over UDP.
func lintRTPOverlapsSIP(p *Policy) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var sip []PortRange
	for _, s := range p.SIPPorts() {
		if s.Proto == UDP {
			sip = append(sip, s.Ports)
		}
	}
	sip = mergePortRanges(sip) // sorted and disjoint: the ports below come out in order, once
	check := func(r PortRange, o Origin, what string) {
		var hit []string
		for _, s := range sip {
			for port := max(int(s.First), int(r.First)); port <= min(int(s.Last), int(r.Last)); port++ {
				hit = append(hit, strconv.Itoa(port))
			}
		}
		if len(hit) == 0 {
			return
		}
		diags = append(diags, warnf(IDRTPOverlapsSIP, o.Range, "RTP range includes a SIP port",
			"%s %s includes the SIP port %s/udp: provider media hosts are then accepted on it as RTP, around the signaling whitelist. Move the media range clear of SIP (e.g. \"10000-20000\").",
			what, r, strings.Join(hit, ", ")))
	}
	if p.RTPSource.Range.Filename != "" {
		check(p.RTP, p.RTPSource, "rtp.ports")
	}
	for _, x := range p.PBXes {
		if x.RTPPorts != p.RTP || p.RTPSource.Range.Filename == "" {
			check(x.RTPPorts, x.Origin, fmt.Sprintf("pbx %q rtp_ports", x.Name))
		}
	}
	return diags
}

// lintMgmtFromVoice: a management list that includes a voice VLAN's own
// subnets lets one hijacked phone reach the web UI, SSH and provisioning of
// the others; management belongs on a separate network.
func lintMgmtFromVoice(p *Policy) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, v := range p.VoiceVLANs {
		if v.Management.Empty() {
			continue
		}
		for _, w := range p.VoiceVLANs {
			if !v.Management.Overlaps(w.Subnets) {
				continue
			}
			whose := fmt.Sprintf("voice_vlan %q (%s)", w.Name, w.Origin.Pos())
			if w == v {
				whose = "its own subnets"
			}
			diags = append(diags, warnf(IDMgmtFromVoice, v.Origin.Range, "Phone management reachable from a voice VLAN",
				"voice_vlan %q lets management include %s: a compromised phone could reach the web UI, SSH and provisioning of these phones. List only your administrators' network.",
				v.Name, whose))
		}
	}
	return diags
}

// lintLooseRate: a per-source SIP rate above LooseSIPRate packets a second
// no longer slows down an extension scanner or a registration flood.
func lintLooseRate(p *Policy) hcl.Diagnostics {
	rl := p.RateLimit
	if rl == nil || rl.SIP.Count == 0 || rl.SIP.PerSecond() <= LooseSIPRate {
		return nil
	}
	return hcl.Diagnostics{warnf(IDLooseRateLimit, rl.Origin.Range, "SIP rate limit too loose",
		"rate_limit sip = %q allows %.0f SIP packets a second per source; a trunk needs a few, a scanner sends hundreds. Use about 10/second with a burst of 20.",
		rl.SIP.String(), rl.SIP.PerSecond())}
}

// lintExpectUnmanaged: an expect whose packet no voicewall rule decides
// tests the rest of the firewall, not this policy; when it expects drop it
// fails, and when it expects accept it holds only because voicewall is not
// involved. Flag the "drop" case: that is the one admins misread.
func lintExpectUnmanaged(p *Policy) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, x := range p.Expects {
		if x.Verdict != Drop || !x.From.IsValid() || x.Service.Proto == 0 {
			continue
		}
		if r := p.Evaluate(x.Packet()); !r.Managed {
			diags = append(diags, warnf(IDExpectUnmanaged, x.Origin.Range, "Expectation not decided by voicewall",
				"expect %q wants drop, but no voicewall rule matches its packet (%s to %s): voicewall only guards SIP, RTP, closed ports, blocklists and phone management, and lets everything else pass to the rest of the firewall. Add the port to close { ports = [...] } or expect accept.",
				x.Name, x.From, expectDst(x)))
		}
	}
	return diags
}

func expectDst(x *Expect) string {
	if !x.To.IsValid() {
		return "the gateway " + x.Service.String()
	}
	return netip.AddrPortFrom(x.To, x.Service.Ports.First).String() + "/" + x.Service.Proto.String()
}
