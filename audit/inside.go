package audit

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/lang"
)

// A forward is judged by what it reaches: the port on the inside host,
// whatever the outside port. WAN 5080/udp forwarded to the PBX's 5060 is
// SIP open to the Internet like a forward of 5060 (scanners sweep every
// port, find SIP answering on 5080 in minutes and brute-force it).

// judgeInside: forwards are judged by the inside ports they reach as well
// as by their outside ports. Only tests switch it off, to prove that the
// cases they build are found by it and by nothing else.
var judgeInside = true

// insideHit is a part of a forward whose mapped ports are SIP or RTP.
type insideHit struct {
	proto     uint8
	out, in   devmodel.PortRange // outside ports and the inside ports they reach
	what      string             // "SIP" or "RTP"
	cleartext bool               // SIP 5060 (udp or tcp): VW306 as a forward of 5060
	// pick: the range a forward that picks a port for each connection
	// picks from (in lies within it); zero otherwise
	pick devmodel.PortRange
}

// hostText names the host a forward reaches; the invalid address is the
// device itself (an nftables redirect, Forward.ToSelf).
func hostText(to netip.Addr) string {
	if !to.IsValid() {
		return "the device itself"
	}
	if to.Is6() {
		return "[" + to.String() + "]"
	}
	return to.String()
}

// hostPort names the host and ports a forward reaches:
// "10.20.0.10:5060", "[2001:db8::10]:5061", "the device itself, port 5060".
func hostPort(to netip.Addr, ports devmodel.PortRange) string {
	if !to.IsValid() {
		return "the device itself, port " + ports.String()
	}
	return hostText(to) + ":" + ports.String()
}

func (h insideHit) String(to netip.Addr) string {
	if h.pick != (devmodel.PortRange{}) {
		return fmt.Sprintf("WAN %s/%s is forwarded to %s, a port picked for each connection (%s is %s)", h.out, devmodel.ProtoName(h.proto), hostPort(to, h.pick), h.in, h.what)
	}
	return fmt.Sprintf("WAN %s/%s is forwarded to %s (%s)", h.out, devmodel.ProtoName(h.proto), hostPort(to, h.in), h.what)
}

// short is the part for a note: "15060/tcp to 10.20.0.10:5060 (SIP)".
func (h insideHit) short(to netip.Addr) string {
	return strings.TrimPrefix(strings.Replace(h.String(to), " is forwarded to ", " to ", 1), "WAN ")
}

// insideSIP are the SIP services on an inside host: the standard ports,
// and with a policy every provider's sip_port and tls_port.
func (c *checker) insideSIP() []lang.Service {
	if c.p != nil {
		return c.p.SIPPorts()
	}
	return lang.StandardSIP
}

// sipIn is one SIP service's ports within a forward's inside range.
type sipIn struct {
	svc lang.Service
	in  devmodel.PortRange
}

// insideSIPIn are the SIP services of protocol proto whose ports fall in
// the inside range r, each cut to r.
func (c *checker) insideSIPIn(proto uint8, r devmodel.PortRange) []sipIn {
	var out []sipIn
	for _, s := range c.insideSIP() {
		if uint8(s.Proto) != proto {
			continue
		}
		if lo, hi := max(r.Lo, s.Ports.First), min(r.Hi, s.Ports.Last); lo <= hi {
			out = append(out, sipIn{s, devmodel.PortRange{Lo: lo, Hi: hi}})
		}
	}
	return out
}

// insideRTP is the RTP range of the PBX at to (with a policy), or nil.
func (c *checker) insideRTP(to netip.Addr) []devmodel.PortRange {
	if c.p == nil {
		return nil
	}
	var out []devmodel.PortRange
	for _, x := range c.p.PBXes {
		if x.HasAddress(to) {
			out = append(out, devmodel.PortRange{Lo: x.RTPPorts.First, Hi: x.RTPPorts.Last})
		}
	}
	return out
}

// insideHits: the parts of f whose inside ports are SIP or RTP that the
// outside check (touchesSIP, rtpRange on the outside ports) does not
// already report.
func (c *checker) insideHits(f *devmodel.Forward) []insideHit {
	if !f.To.IsValid() && !f.ToSelf {
		return nil
	}
	var protos []uint8
	switch {
	case f.Proto != 0:
		protos = []uint8{f.Proto}
	case f.Ports == nil:
		return nil // every protocol and port: VW302 ("every port") already
	default:
		protos = []uint8{devmodel.TCP, devmodel.UDP}
	}
	outRTP := rtpRange(fwdServices(f)) != ""
	var hits []insideHit
	for _, proto := range protos {
		for _, m := range f.Mapping() {
			for _, x := range c.insideSIPIn(proto, m.In) {
				h := insideHit{proto: proto, what: "SIP", cleartext: x.svc.Ports == (lang.PortRange{First: 5060, Last: 5060})}
				h.out, h.in, h.pick = outsideOf(f, m, x.in.Lo, x.in.Hi), x.in, pickOf(f)
				if h.out == h.in && len(touchesSIP([]devmodel.Service{{Proto: proto, DstPorts: devmodel.Ports{h.out}}}, false)) > 0 {
					continue // the outside check reports the same port
				}
				if len(c.notAsked([]string{fmt.Sprintf("%s/%s", h.in, devmodel.ProtoName(proto))}, f.To)) == 0 {
					continue // remote_phones asks for it
				}
				hits = append(hits, h)
			}
			if proto != devmodel.UDP || outRTP {
				continue
			}
			rtp := c.insideRTP(f.To)
			if len(rtp) == 0 && int(m.In.Hi)-int(max(m.In.Lo, 1024))+1 >= rtpSized {
				rtp = append(rtp, devmodel.PortRange{Lo: max(m.In.Lo, 1024), Hi: m.In.Hi}) // an RTP-sized range
			}
			for _, r := range rtp {
				lo, hi := max(m.In.Lo, r.Lo), min(m.In.Hi, r.Hi)
				if lo > hi {
					continue
				}
				h := insideHit{proto: proto, what: "RTP", in: devmodel.PortRange{Lo: lo, Hi: hi}, out: outsideOf(f, m, lo, hi), pick: pickOf(f)}
				if !slices.Contains(hits, h) {
					hits = append(hits, h)
				}
			}
		}
	}
	return hits
}

// pickOf is the range a forward picks a port from, or zero.
func pickOf(f *devmodel.Forward) devmodel.PortRange {
	if f.Picks() {
		return devmodel.PortRange{Lo: f.ToPort, Hi: f.ToLast}
	}
	return devmodel.PortRange{}
}

// outsideOf: the outside ports of mapping m that reach inside lo..hi.
func outsideOf(f *devmodel.Forward, m devmodel.PortMap, lo, hi uint16) devmodel.PortRange {
	if f.ToPort != 0 && (f.ToFixed || f.Picks()) {
		return m.Out // every port of it reaches the one inside port, or may reach any of the range
	}
	return devmodel.PortRange{Lo: m.Out.Lo + (lo - m.In.Lo), Hi: m.Out.Lo + (hi - m.In.Lo)}
}

// openInside reports forwards from any source on the WAN whose inside
// ports are SIP or RTP, with the same findings as a forward of those
// ports: VW306 for SIP 5060, VW302 for the rest.
func (c *checker) openInside() {
	if !judgeInside {
		return
	}
	for _, f := range c.d.Forwards {
		if f.Disabled || !wide(f.Src) || !c.onWAN(f.In, "") {
			continue
		}
		hits := c.insideHits(f)
		if len(hits) == 0 {
			continue
		}
		// each part on its own: only the parts a stranger's packet gets
		// through are reported
		var dead []string
		var by reach
		for _, h := range hits {
			text := h.String(f.To)
			// one space for the protocol, shared by every such forward (each
			// of its own outside port would build one each)
			ifs := c.wanIfs(f.In)
			sp := c.spaceFor(ifs, []devmodel.Service{{Proto: h.proto}})
			var picked devmodel.PortRange
			if h.pick != (devmodel.PortRange{}) {
				picked = h.in // only the picks that land on the SIP or RTP ports
			}
			x := c.forwardReachIn(sp, ifs, f, []devmodel.Service{{Proto: h.proto, DstPorts: devmodel.Ports{h.out}}}, picked)
			if x.restricted {
				continue // the rules admitting it let only the providers' packets through
			}
			if !x.open {
				dead = append(dead, h.short(f.To))
				by.shadowers = append(by.shadowers, x.shadowers...)
				continue
			}
			if h.cleartext {
				c.add(IDForwardAnySrc, SevError, f.Loc, "Restrict the forward to your providers' signaling addresses (FortiOS src-filter, pfSense source alias, DrayTek source IP object), whatever its outside port.",
					"%s: %s from any source, with no source restriction: scanners sweep every port, find SIP answering on %d and brute-force it (toll fraud)%s%s", f.Ref, text, h.out.Lo, x.eg(), c.assumed(f.In))
				continue
			}
			fix := "Restrict the forward to your providers' signaling addresses (FortiOS src-filter, pfSense source alias, DrayTek source IP object), whatever its outside port."
			why := "scanners sweep every port, find SIP answering there and brute-force it (toll fraud)"
			if h.what == "RTP" {
				fix = "Restrict the forward to your providers' media addresses (FortiOS src-filter, pfSense source alias, DrayTek source IP object), whatever its outside port."
				why = "anyone on the Internet can send media to the PBX's RTP ports"
			}
			c.add(IDOpenVoice, SevError, f.Loc, fix, "%s: %s from any source: %s%s%s", f.Ref, text, why, x.eg(), c.assumed(f.In))
		}
		if len(dead) > 0 {
			by.shadowers = dedup(by.shadowers)
			c.shadowedOpen(f.Loc, f.Ref, strings.Join(dead, "; "), by)
		}
	}
}

// SIP on either side of a forward. VW307 (rate limit), VW304 (cleartext
// beside TLS) and VW305 (outbound NAT) take a forward for a SIP forward
// when its outside port is a standard SIP port — the port providers and
// scanners send SIP to, whatever the host behind it listens on, as the
// outside check of VW306 does — or when the port it reaches on the inside
// host is SIP (the standard ports, and with a policy the providers'
// sip_port and tls_port, as for VW306 and VW302): WAN 5080/udp forwarded
// to the PBX's 5060 floods the PBX's SIP as a forward of 5060 does.

// sipPart is a part of a forward with SIP on one side: a protocol, the
// outside ports and the inside ports they reach, and the SIP ports (on
// the outside when outside, else on the inside).
type sipPart struct {
	proto   uint8
	out, in devmodel.PortRange
	sip     devmodel.PortRange
	outside bool
	pick    devmodel.PortRange // as insideHit.pick
}

// moved: the part reaches other ports than its outside ones.
func (p sipPart) moved() bool { return p.out != p.in }

// String names a moved part: "WAN 5080/udp is forwarded to
// 10.20.0.10:5060 (SIP)", "WAN 5060/udp (SIP) is forwarded to
// 10.20.0.10:8080".
func (p sipPart) String(to netip.Addr) string {
	if !p.outside {
		return insideHit{proto: p.proto, out: p.out, in: p.in, what: "SIP", pick: p.pick}.String(to)
	}
	if p.pick != (devmodel.PortRange{}) {
		return fmt.Sprintf("WAN %s/%s (SIP) is forwarded to %s, a port picked for each connection", p.out, devmodel.ProtoName(p.proto), hostPort(to, p.in))
	}
	return fmt.Sprintf("WAN %s/%s (SIP) is forwarded to %s", p.out, devmodel.ProtoName(p.proto), hostPort(to, p.in))
}

// has reports whether the part's SIP ports hold a standard SIP port.
func (p sipPart) has(proto uint8, port uint16) bool {
	return p.proto == proto && p.sip.Lo <= port && port <= p.sip.Hi
}

// sipParts are the parts of f with SIP on the outside or on the inside
// (without judgeInside: on the outside only, each taken to reach its own
// port, as audit judged before).
func (c *checker) sipParts(f *devmodel.Forward) []sipPart {
	var protos []uint8
	if f.Proto != 0 {
		protos = []uint8{f.Proto}
	} else {
		protos = []uint8{devmodel.UDP, devmodel.TCP} // ports exist only there (in sipPorts' order)
	}
	var parts []sipPart
	add := func(p sipPart) {
		if !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	for _, proto := range protos {
		for _, m := range f.Mapping() {
			for _, s := range sipPorts {
				if s.proto != proto || s.port < m.Out.Lo || s.port > m.Out.Hi {
					continue
				}
				one := devmodel.PortRange{Lo: s.port, Hi: s.port}
				p := sipPart{proto: proto, out: one, in: f.MapRange(s.port), sip: one, outside: true, pick: pickOf(f)}
				if !judgeInside {
					p.in, p.pick = one, devmodel.PortRange{}
				}
				add(p)
			}
			if !judgeInside || !f.To.IsValid() && !f.ToSelf {
				continue
			}
			for _, x := range c.insideSIPIn(proto, m.In) {
				p := sipPart{proto: proto, out: outsideOf(f, m, x.in.Lo, x.in.Hi), in: x.in, sip: x.in, pick: pickOf(f)}
				if slices.ContainsFunc(parts, func(q sipPart) bool {
					return q.outside && q.proto == p.proto && q.out == p.out && q.in.Lo <= p.in.Lo && p.in.Hi <= q.in.Hi
				}) {
					continue // SIP on both sides of the same ports: named once, as the outside part
				}
				add(p)
			}
		}
	}
	return parts
}
