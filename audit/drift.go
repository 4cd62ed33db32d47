package audit

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/lang"
	"go4.org/netipx"
)

// Probe is one packet of the drift check and where it comes from.
type Probe struct {
	What   string // in words: "provider carrier signaling over udp"
	Packet lang.Packet
	Expect *lang.Expect // set for the policy's own expect blocks
}

// Probes is the probe set of a policy: its expect blocks, every
// provider's signaling and media addresses (the first and last of each
// range, per family) on every transport port and the RTP range's ends, a
// stranger on every voice port and closed port, blocklist samples,
// management sources and strangers towards each voice VLAN's phones, and
// each voice VLAN's egress to its providers and to a stranger.
func Probes(p *lang.Policy) []Probe {
	var out []Probe
	add := func(what string, pkt lang.Packet) { out = append(out, Probe{What: what, Packet: pkt}) }
	for _, x := range p.Expects {
		if x.Trusted || x.Banned {
			// Run-time state (a trusted phone, a timed ban): a configuration
			// holds none, so the device cannot be asked. The namespace
			// tests check these against the kernel.
			continue
		}
		out = append(out, Probe{What: "expect " + fmt.Sprintf("%q", x.Name), Packet: x.Packet(), Expect: x})
	}
	rtp := p.RTPRanges()
	var rtpPorts []uint16
	for _, r := range rtp {
		rtpPorts = append(rtpPorts, r.First, r.Last)
	}
	for _, pr := range p.Providers {
		for _, a := range samples(pr.Signaling) {
			for _, s := range pr.SIPServices() {
				add(fmt.Sprintf("provider %s signaling %s to %s", pr.Name, a, s), lang.Packet{Src: a, Zone: lang.ZoneWAN, Proto: s.Proto, DstPort: s.Ports.First})
			}
		}
		for _, a := range samples(pr.Media) {
			for _, port := range rtpPorts {
				add(fmt.Sprintf("provider %s media %s to %d/udp", pr.Name, a, port), lang.Packet{Src: a, Zone: lang.ZoneWAN, Proto: lang.UDP, DstPort: port})
			}
		}
	}
	voicePorts := map[lang.Service]bool{}
	for _, s := range p.SIPPorts() {
		voicePorts[lang.Service{Proto: s.Proto, Ports: lang.PortRange{First: s.Ports.First, Last: s.Ports.First}}] = true
	}
	for _, port := range rtpPorts {
		voicePorts[lang.Service{Proto: lang.UDP, Ports: lang.PortRange{First: port, Last: port}}] = true
	}
	for _, c := range p.Closed {
		voicePorts[lang.Service{Proto: c.Service.Proto, Ports: lang.PortRange{First: c.Service.Ports.First, Last: c.Service.Ports.First}}] = true
	}
	svcs := make([]lang.Service, 0, len(voicePorts))
	for s := range voicePorts {
		svcs = append(svcs, s)
	}
	lang.SortServices(svcs)
	// inside addresses a stranger could reach when they are routed rather
	// than NATed: the PBXes and a phone of each voice VLAN
	var inside []netip.Addr
	for _, x := range p.PBXes {
		inside = append(inside, x.Address)
	}
	for _, v := range p.VoiceVLANs {
		inside = append(inside, phones(v)...)
	}
	for _, st := range strangers(p) {
		for _, s := range svcs {
			add(fmt.Sprintf("stranger %s to %s", st, s), lang.Packet{Src: st, Zone: lang.ZoneWAN, Proto: s.Proto, DstPort: s.Ports.First})
			for _, in := range inside {
				if in.Is4() == st.Is4() {
					add(fmt.Sprintf("stranger %s to %s %s", st, in, s), lang.Packet{Src: st, Zone: lang.ZoneWAN, Dst: in, Proto: s.Proto, DstPort: s.Ports.First})
				}
			}
		}
	}
	for _, b := range p.Blocklists {
		for i, a := range samples(b.Addresses) {
			if i >= 4 {
				break
			}
			for _, s := range svcs {
				add(fmt.Sprintf("blocklist %s address %s to %s", b.Name, a, s), lang.Packet{Src: a, Zone: lang.ZoneWAN, Proto: s.Proto, DstPort: s.Ports.First})
				for _, in := range inside {
					if in.Is4() == a.Is4() {
						add(fmt.Sprintf("blocklist %s address %s to %s %s", b.Name, a, in, s), lang.Packet{Src: a, Zone: lang.ZoneWAN, Dst: in, Proto: s.Proto, DstPort: s.Ports.First})
					}
				}
			}
		}
	}
	for _, v := range p.VoiceVLANs {
		for _, phone := range phones(v) {
			var sources []netip.Addr
			for _, a := range samples(v.Management) {
				if a.Is4() == phone.Is4() {
					sources = append(sources, a)
				}
			}
			for _, s := range v.ManagementPorts {
				for _, src := range sources {
					add(fmt.Sprintf("management %s of voice_vlan %s to phone %s %s", src, v.Name, phone, s),
						lang.Packet{Src: src, Zone: lang.ZoneLAN, Dst: phone, Proto: s.Proto, DstPort: s.Ports.First})
				}
				for _, st := range strangers(p) {
					if st.Is4() == phone.Is4() {
						add(fmt.Sprintf("stranger %s to phone %s %s of voice_vlan %s", st, phone, s, v.Name),
							lang.Packet{Src: st, Zone: lang.ZoneWAN, Dst: phone, Proto: s.Proto, DstPort: s.Ports.First})
						add(fmt.Sprintf("LAN host %s outside management to phone %s %s of voice_vlan %s", st, phone, s, v.Name),
							lang.Packet{Src: st, Zone: lang.ZoneLAN, Dst: phone, Proto: s.Proto, DstPort: s.Ports.First})
					}
				}
			}
			for _, pr := range v.Providers {
				for _, a := range samples(pr.Signaling) {
					if a.Is4() != phone.Is4() {
						continue
					}
					for _, s := range pr.SIPServices() {
						add(fmt.Sprintf("phone %s of voice_vlan %s to provider %s signaling %s %s", phone, v.Name, pr.Name, a, s),
							lang.Packet{Src: phone, Zone: v.Name, Dst: a, Proto: s.Proto, DstPort: s.Ports.First})
					}
				}
				for _, a := range samples(pr.Media) {
					if a.Is4() != phone.Is4() || len(rtp) == 0 {
						continue
					}
					add(fmt.Sprintf("phone %s of voice_vlan %s RTP to provider %s media %s", phone, v.Name, pr.Name, a),
						lang.Packet{Src: phone, SrcPort: rtp[0].First, Zone: v.Name, Dst: a, Proto: lang.UDP, DstPort: 20000})
				}
			}
			for _, st := range strangers(p) {
				if st.Is4() != phone.Is4() {
					continue
				}
				for _, s := range p.SIPPorts() {
					add(fmt.Sprintf("phone %s of voice_vlan %s to stranger %s %s", phone, v.Name, st, s),
						lang.Packet{Src: phone, Zone: v.Name, Dst: st, Proto: s.Proto, DstPort: s.Ports.First})
				}
				for _, s := range []lang.Service{{Proto: lang.TCP, Ports: lang.PortRange{First: 443, Last: 443}}, {Proto: lang.UDP, Ports: lang.PortRange{First: 53, Last: 53}}} {
					add(fmt.Sprintf("phone %s of voice_vlan %s to stranger %s %s (other egress)", phone, v.Name, st, s),
						lang.Packet{Src: phone, Zone: v.Name, Dst: st, Proto: s.Proto, DstPort: s.Ports.First})
				}
				for _, r := range rtp {
					add(fmt.Sprintf("phone %s of voice_vlan %s RTP to stranger %s", phone, v.Name, st),
						lang.Packet{Src: phone, SrcPort: r.First, Zone: v.Name, Dst: st, Proto: lang.UDP, DstPort: 20000})
				}
			}
		}
	}
	return out
}

// samples are the first and last address of every range of a set (at most
// 8 ranges per family).
func samples(s lang.AddrSet) []netip.Addr {
	var out []netip.Addr
	for _, v6 := range []bool{false, true} {
		for i, r := range s.Ranges(v6) {
			if i >= 8 {
				break
			}
			out = append(out, r.From())
			if r.To() != r.From() {
				out = append(out, r.To())
			}
		}
	}
	return out
}

// phones is one address inside each subnet of a voice VLAN (not the
// network or gateway address).
func phones(v *lang.VoiceVLAN) []netip.Addr {
	var out []netip.Addr
	for _, p := range v.SubnetPrefixes {
		a := p.Masked().Addr()
		for i := 0; i < 21; i++ {
			a = a.Next()
		}
		if p.Contains(a) {
			out = append(out, a)
		}
	}
	return out
}

// strangers are an IPv4 and an IPv6 address in no provider, blocklist,
// management or local set of the policy.
func strangers(p *lang.Policy) []netip.Addr {
	var known netipx.IPSetBuilder
	for _, pr := range p.Providers {
		known.AddSet(pr.Signaling.IPSet())
		known.AddSet(pr.Media.IPSet())
	}
	for _, b := range p.Blocklists {
		known.AddSet(b.Addresses.IPSet())
	}
	for _, v := range p.VoiceVLANs {
		known.AddSet(v.Management.IPSet())
		known.AddSet(v.Subnets.IPSet())
	}
	ks, _ := known.IPSet()
	var out []netip.Addr
	for _, cands := range [][]string{{"198.51.100.254", "192.0.2.254", "203.0.113.254", "100.64.7.7", "8.8.4.4"}, {"2001:db8:ffff::7", "2001:db8:eeee::7", "2606:4700::7"}} {
		for _, c := range cands {
			a := netip.MustParseAddr(c)
			if !ks.Contains(a) {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// zoneIf names the device interface of a policy zone: the target's WAN and
// LAN, and for a voice VLAN the device's interface on that VLAN (by parent
// and tag) or the target's naming of it.
func zoneIf(d *devmodel.Device, p *lang.Policy, zone string) string {
	t := deviceTarget(p, d.Target)
	switch zone {
	case "", lang.ZoneWAN:
		return t.WAN
	case lang.ZoneLAN:
		return t.LAN
	}
	v := p.VoiceVLAN(zone)
	if v == nil {
		return zone
	}
	parent := t.LAN
	if v.Parent == lang.ZoneWAN {
		parent = t.WAN
	}
	parentDev := parent
	if i := d.Interface(parent); i != nil && i.Device != "" {
		parentDev = i.Device
	}
	for _, i := range d.Interfaces {
		if i.VLAN == v.ID && (i.Parent == parent || i.Parent == parentDev) {
			return i.Name
		}
	}
	return t.VLANInterface(v)
}

type driftKey struct {
	policy, device string
	want           lang.Verdict
}

// drift evaluates the probe set on the policy and on the device and
// reports every disagreement, grouped by policy block and config line.
func drift(d *devmodel.Device, p *lang.Policy) ([]Finding, int, int) {
	probes := append(Probes(p), deviceProbes(d, p)...)
	compared := 0
	route := func(dst netip.Addr, in string) string {
		zone := lang.ZoneLAN
		for _, z := range p.Zones() {
			if zoneIf(d, p, z) == in {
				zone = z
				break
			}
		}
		return zoneIf(d, p, p.OutZone(dst, zone))
	}
	type group struct {
		loc     devmodel.Loc
		policy  string
		want    lang.Verdict
		device  string
		n       int
		example string
		expect  *lang.Expect
	}
	groups := map[driftKey]*group{}
	var order []driftKey
	for _, pr := range probes {
		want := p.Evaluate(pr.Packet)
		verdict := want.Verdict
		if !want.Managed {
			continue // the rest of the firewall decides; voicewall does not
		}
		compared++
		got := d.Evaluate(devPacket(d, p, pr.Packet), route)
		// A probe addressed to the very host the policy forwards it to (an
		// expect's to = "PBX:5060/udp") already has its destination: a
		// device that accepts it routed is right, and one that drops it
		// routed is asked about the packet as the provider sends it,
		// addressed to the gateway, whose forward must reach that host.
		routed := want.DNAT.IsValid() && pr.Packet.Dst.Unmap() == want.DNAT.Unmap()
		if routed && got.Verdict != devmodel.Accept {
			arriving := pr.Packet
			arriving.Dst = netip.Addr{}
			got = d.Evaluate(devPacket(d, p, arriving), route)
			routed = false
		}
		gotVerdict := strings.ToLower(got.Verdict.String())
		sameDst := !want.DNAT.IsValid() || got.Forward != nil && got.Dst == want.DNAT.Unmap() || verdict == lang.Drop || routed && got.Forward == nil
		if !sameDst && got.Forward == nil && want.DNAT.Is6() {
			// The policy accepted this target's IPv6-forward gap
			// (accept_gaps = ["address6"]); the output's header states it.
			if t, ok := registry.Lookup(d.Target); ok {
				_, sameDst = p.Target(t.TargetSpec).Accepts(lang.GapAddress6)
			}
		}
		if (got.Verdict == devmodel.Accept) == (verdict == lang.Accept) && sameDst {
			continue
		}
		if verdict == lang.Accept && got.Verdict != devmodel.Accept && want.Rule != nil && want.Rule.Origin.Kind == "remote_phones" {
			// remote phones' SIP on a target without a per-source limit is
			// not forwarded; the policy accepted that gap (responsive) and
			// the output's header states it. Stricter than the policy.
			if t, ok := registry.Lookup(d.Target); ok {
				if _, accepted := p.Target(t.TargetSpec).Accepts(lang.GapResponsive); accepted {
					continue
				}
			}
		}
		if !sameDst && got.Verdict == devmodel.Accept {
			gotVerdict = "accept without forwarding it to " + want.DNAT.String()
			if got.Forward != nil {
				gotVerdict = "forward it to " + got.Dst.String() + " instead of " + want.DNAT.String()
			}
		}
		policy := want.Source()
		if pr.Expect != nil {
			policy = pr.Expect.Origin.String()
		}
		if policy == "" {
			policy = "the policy (not managed)"
		}
		loc := devmodel.Loc{File: d.File}
		if got.Rule != nil {
			loc = got.Rule.Loc
		} else if got.Forward != nil {
			loc = got.Forward.Loc
		}
		k := driftKey{policy, got.Where(), verdict}
		g := groups[k]
		if g == nil {
			g = &group{loc: loc, policy: policy, want: verdict, device: got.Where(), expect: pr.Expect,
				example: fmt.Sprintf("%s: the policy says %s, the device %s", pr.What, verdict, gotVerdict)}
			if pr.Expect == nil && want.Rule != nil {
				g.example += " (policy rule: " + lang.RuleName(want.Rule) + ")"
			}
			groups[k] = g
			order = append(order, k)
		}
		g.n++
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].policy < order[j].policy })
	var out []Finding
	for _, k := range order {
		g := groups[k]
		id := IDDrift
		if g.expect != nil {
			id = IDDriftExpect
		}
		msg := fmt.Sprintf("%s disagrees with %s on %d probe(s), e.g. %s; the device's verdict comes from %s", d.Target, g.policy, g.n, g.example, g.device)
		fix := "Compile the policy again (voicewall compile --target " + d.Target + ") and apply the output, or change the policy if the device is right."
		out = append(out, Finding{ID: id, Severity: SevError, Title: Titles[id], Message: msg, Fix: fix, Loc: g.loc, Policy: g.policy})
	}
	return out, len(probes), compared
}

// deviceProbes come from the device: every source a WAN accept or forward
// of the device admits (the ends of its ranges) on the first port of each
// of its services, addressed to the device. They find what the device
// admits that the policy does not (a provider address replaced by another).
func deviceProbes(d *devmodel.Device, p *lang.Policy) []Probe {
	var out []Probe
	wan := deviceTarget(p, d.Target).WAN
	add := func(ref string, src devmodel.Addr, svcs []devmodel.Service) {
		if src.Any || src.Set == nil || wide(src) {
			return
		}
		for i, r := range src.Set.Ranges() {
			if i >= 4 {
				break
			}
			for _, a := range []netip.Addr{r.From(), r.To()} {
				for _, s := range svcs {
					if (s.Proto != devmodel.TCP && s.Proto != devmodel.UDP) || len(s.DstPorts) == 0 {
						continue
					}
					out = append(out, Probe{What: fmt.Sprintf("%s admits %s to %d/%s", ref, a, s.DstPorts[0].Lo, devmodel.ProtoName(s.Proto)),
						Packet: lang.Packet{Src: a, Zone: lang.ZoneWAN, Proto: lang.Proto(s.Proto), DstPort: s.DstPorts[0].Lo}})
				}
			}
		}
	}
	byName := map[string][]*devmodel.Forward{}
	for _, f := range d.Forwards {
		byName[f.Name] = append(byName[f.Name], f)
	}
	for _, r := range d.Rules {
		if r.Disabled || r.Action != devmodel.Accept || r.Dir == devmodel.DirOut {
			continue
		}
		if (len(r.In) > 0 && !slices.Contains(r.In, wan) && !anyWAN(d, r.In)) || r.InRole == "lan" {
			continue
		}
		add(r.Ref, r.Src, r.Services)
		// a policy to a VIP matches its service on the mapped port: what it
		// admits arrives on the outside port that reaches it
		var fwds []*devmodel.Forward
		for _, n := range dedup(r.DstForwards) {
			fwds = append(fwds, byName[n]...)
		}
		var moved []devmodel.Service
		for _, a := range r.Admits(fwds) {
			if a.Proto != 0 && a.Moved() {
				moved = append(moved, devmodel.Service{Proto: a.Proto, DstPorts: devmodel.Ports{a.Out}})
			}
		}
		add(r.Ref, r.Src, moved)
	}
	for _, f := range d.Forwards {
		if svc := fwdServices(f); !f.Disabled && svc != nil {
			add(f.Ref, f.Src, svc)
		}
	}
	return out
}

func anyWAN(d *devmodel.Device, ifs []string) bool {
	for _, i := range ifs {
		if d.IsWAN(i) {
			return true
		}
	}
	return false
}

// devPacket turns a policy packet into the packet the device sees.
func devPacket(d *devmodel.Device, p *lang.Policy, pkt lang.Packet) devmodel.Packet {
	return devmodel.Packet{In: zoneIf(d, p, pkt.Zone), Src: pkt.Src, SrcPort: pkt.SrcPort, Dst: pkt.Dst, Proto: uint8(pkt.Proto), DstPort: pkt.DstPort}
}

// deviceTarget is the policy's target block for the device's kind (its
// WAN and LAN interface names), with the target's defaults.
func deviceTarget(p *lang.Policy, name string) *lang.Target {
	if t, ok := registry.Lookup(name); ok {
		return p.Target(t.TargetSpec)
	}
	return &lang.Target{Name: name, Extra: map[string]string{}}
}
