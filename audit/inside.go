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

// insideHit is a part of a forward whose mapped ports are SIP or RTP.
type insideHit struct {
	proto     uint8
	out, in   devmodel.PortRange // outside ports and the inside ports they reach
	what      string             // "SIP" or "RTP"
	cleartext bool               // SIP 5060 (udp or tcp): VW306 as a forward of 5060
}

func (h insideHit) String(to netip.Addr) string {
	host := to.String()
	if to.Is6() {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("WAN %s/%s is forwarded to %s:%s (%s)", h.out, devmodel.ProtoName(h.proto), host, h.in, h.what)
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
	if !f.To.IsValid() {
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
			for _, s := range c.insideSIP() {
				if uint8(s.Proto) != proto {
					continue
				}
				lo, hi := max(m.In.Lo, s.Ports.First), min(m.In.Hi, s.Ports.Last)
				if lo > hi {
					continue
				}
				h := insideHit{proto: proto, what: "SIP", cleartext: s.Proto == lang.UDP && s.Ports == (lang.PortRange{First: 5060, Last: 5060}) || s.Proto == lang.TCP && s.Ports == (lang.PortRange{First: 5060, Last: 5060})}
				h.out, h.in = outsideOf(f, m, lo, hi), devmodel.PortRange{Lo: lo, Hi: hi}
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
				h := insideHit{proto: proto, what: "RTP", in: devmodel.PortRange{Lo: lo, Hi: hi}, out: outsideOf(f, m, lo, hi)}
				if !slices.Contains(hits, h) {
					hits = append(hits, h)
				}
			}
		}
	}
	return hits
}

// outsideOf: the outside ports of mapping m that reach inside lo..hi.
func outsideOf(f *devmodel.Forward, m devmodel.PortMap, lo, hi uint16) devmodel.PortRange {
	if f.ToPort != 0 && f.ToFixed {
		return m.Out // every port of it reaches the one inside port
	}
	return devmodel.PortRange{Lo: m.Out.Lo + (lo - m.In.Lo), Hi: m.Out.Lo + (hi - m.In.Lo)}
}

// openInside reports forwards from any source on the WAN whose inside
// ports are SIP or RTP, with the same findings as a forward of those
// ports: VW306 for SIP 5060, VW302 for the rest.
func (c *checker) openInside() {
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
			x := c.forwardReachIn(sp, ifs, f, []devmodel.Service{{Proto: h.proto, DstPorts: devmodel.Ports{h.out}}})
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
