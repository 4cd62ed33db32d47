package audit

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/voicewall/voicewall/devmodel"
	"go4.org/netipx"
)

// A rule or forward "from any" is only open to any source when a packet
// from some source that earlier rules do not already decide gets through
// it: a WAN pass from any below voicewall's drops (a pfSense or FortiGate
// --base merge) is unreachable for strangers and is a note, not VW302 or
// VW306. reach decides that on the device model's own evaluator, with one
// probe source per class of sources the device can tell apart (every
// boundary of every address set it has), so that no source is missed.

// maxReachProbes bounds the probes of one suspect: past it the suspect is
// reported as open (never silenced by a probe set cut short).
const maxReachProbes = 50000

// reach is the outcome for one suspect.
type reach struct {
	open      bool
	example   devmodel.Packet // a stranger's packet that gets through (open)
	shadowers []string        // what decides the packets instead (not open)
}

// sourceClasses is one source address per class of sources no address set
// of the device tells apart: the first address of every range of every set
// and the address after its end, plus the first address of each family.
func (c *checker) sourceClasses() []netip.Addr {
	if c.srcs != nil {
		return c.srcs
	}
	seen := map[netip.Addr]bool{}
	add := func(a netip.Addr) {
		if a.IsValid() && !seen[a] {
			seen[a] = true
			c.srcs = append(c.srcs, a)
		}
	}
	add(netip.IPv4Unspecified())
	add(netip.IPv6Unspecified())
	// documentation addresses first: the example a message names
	strangers := []netip.Addr{netip.MustParseAddr("198.51.100.77"), netip.MustParseAddr("2001:db8::77")}
	addSet := func(x devmodel.Addr) {
		if x.Set == nil {
			return
		}
		for _, r := range x.Set.Ranges() {
			add(r.From())
			add(r.To().Next())
		}
	}
	for _, r := range c.d.Rules {
		addSet(r.Src)
	}
	for _, f := range c.d.Forwards {
		addSet(f.Src)
	}
	slices.SortFunc(c.srcs, func(a, b netip.Addr) int { return a.Compare(b) })
	for _, a := range strangers {
		if !seen[a] {
			c.srcs = slices.Insert(c.srcs, 0, a)
		}
	}
	return c.srcs
}

// portClasses is one port per class of ports of a protocol the device tells
// apart within ps.
func (c *checker) portClasses(proto uint8, ps devmodel.Ports) []uint16 {
	if ps == nil {
		ps = devmodel.PortsOf(0, 65535)
	}
	seen := map[uint16]bool{}
	var out []uint16
	add := func(p uint32) {
		if p <= 65535 && ps.Contains(uint16(p)) && !seen[uint16(p)] {
			seen[uint16(p)] = true
			out = append(out, uint16(p))
		}
	}
	for _, r := range ps {
		add(uint32(r.Lo))
	}
	bounds := func(x devmodel.Ports) {
		for _, r := range x {
			add(uint32(r.Lo))
			add(uint32(r.Hi) + 1)
		}
	}
	for _, r := range c.d.Rules {
		for _, s := range r.Services {
			if s.Proto == proto {
				bounds(s.DstPorts)
			}
		}
	}
	for _, f := range c.d.Forwards {
		if f.Proto == proto {
			bounds(f.Ports)
		}
	}
	slices.Sort(out)
	return out
}

// wanIfs are the interfaces a WAN suspect listens on.
func (c *checker) wanIfs(in []string) []string {
	if len(in) > 0 {
		var out []string
		for _, i := range in {
			if c.onWAN([]string{i}, "") {
				out = append(out, i)
			}
		}
		return out
	}
	out := c.d.WANs()
	for w := range c.wan {
		if w != "" && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		out = []string{"wan"}
	}
	return out
}

// inward: the interfaces a stranger's packet could leave by (every
// interface not in the WAN role): probing each over-approximates what gets
// through, the safe side for a check that may only silence a finding.
func (c *checker) inward() []string {
	var out []string
	for _, i := range c.d.Interfaces {
		if !c.onWAN([]string{i.Name}, "") {
			out = append(out, i.Name)
		}
	}
	if len(out) == 0 {
		out = []string{"lan"}
	}
	return out
}

// routeVia: a destination on a configured subnet leaves by that interface,
// any other by out.
func (c *checker) routeVia(out string) devmodel.Route {
	return func(dst netip.Addr, in string) string {
		for _, i := range c.d.Interfaces {
			for _, s := range i.Subnets {
				if s.Contains(dst) && i.Name != in {
					return i.Name
				}
			}
		}
		return out
	}
}

// extAddrs are the addresses a forward is reached at (the invalid address:
// the device's own), one per class.
func (c *checker) extAddrs(x devmodel.Addr) []netip.Addr {
	if x.Any {
		return []netip.Addr{{}} // the device's own WAN address
	}
	return c.within(x)
}

type target struct {
	dst   netip.Addr
	proto uint8
	ports []uint16
	fam   int // 4 or 6: sources of that family only (a forward to an IPv4 host); 0 both
}

// probe evaluates packets from every source class of src to every target
// on every interface and reports whether one gets through (passes).
func (c *checker) probe(src devmodel.Addr, ifs []string, targets []target, passes func(devmodel.Result) bool) reach {
	var out reach
	n, drops := 0, 0
	for _, via := range c.inward() {
		route := c.routeVia(via)
		for _, in := range ifs {
			for _, t := range targets {
				for _, s := range c.sourceClasses() {
					if !src.Contains(s) || t.dst.IsValid() && t.dst.Is4() != s.Is4() || t.fam == 4 && !s.Is4() || t.fam == 6 && !s.Is6() {
						continue
					}
					for _, port := range t.ports {
						for _, sport := range c.srcPortClasses() {
							if n++; n > maxReachProbes {
								return reach{open: true}
							}
							pkt := devmodel.Packet{In: in, Src: s, SrcPort: sport, Dst: t.dst, Proto: t.proto, DstPort: port}
							res := c.d.Evaluate(pkt, route)
							if passes(res) {
								return reach{open: true, example: pkt}
							}
							w := decider(res)
							switch {
							case slices.Contains(out.shadowers, w):
							case res.Verdict == devmodel.Drop:
								out.shadowers = slices.Insert(out.shadowers, drops, w)
								drops++ // the drops first: they keep the strangers out
							default:
								out.shadowers = append(out.shadowers, w)
							}
						}
					}
				}
			}
		}
	}
	return out
}

// dstClasses is one destination address per class of destinations no
// address set, forward or subnet of the device tells apart.
func (c *checker) dstClasses() []netip.Addr {
	if c.dsts != nil {
		return c.dsts
	}
	var b []netip.Addr
	addSet := func(x devmodel.Addr) {
		if x.Set != nil {
			for _, r := range x.Set.Ranges() {
				b = append(b, r.From(), r.To().Next())
			}
		}
	}
	for _, r := range c.d.Rules {
		addSet(r.Dst)
	}
	for _, f := range c.d.Forwards {
		addSet(f.Ext)
		if f.To.IsValid() {
			b = append(b, f.To.Unmap(), f.To.Unmap().Next())
		}
	}
	for _, i := range c.d.Interfaces {
		for _, p := range i.Subnets {
			r := netipx.RangeOfPrefix(p.Masked())
			b = append(b, r.From(), r.To().Next())
		}
	}
	b = append(b, netip.IPv4Unspecified(), netip.IPv6Unspecified(), netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("2001:db8::1"))
	for _, a := range b {
		if a.IsValid() && !slices.Contains(c.dsts, a) {
			c.dsts = append(c.dsts, a)
		}
	}
	slices.SortFunc(c.dsts, func(a, b netip.Addr) int { return a.Compare(b) })
	return c.dsts
}

// within is the destination classes in x; the invalid address (the device
// itself) first when x holds it.
func (c *checker) within(x devmodel.Addr) []netip.Addr {
	if x.Any {
		return append([]netip.Addr{{}}, c.dstClasses()...)
	}
	var out []netip.Addr
	if x.Self {
		out = append(out, netip.Addr{})
	}
	for _, a := range c.dstClasses() {
		if x.Set != nil && x.Set.Contains(a) {
			out = append(out, a)
		}
	}
	return out
}

// srcPortClasses: the ephemeral source port (0) and one port per class of
// source ports the device's rules tell apart.
func (c *checker) srcPortClasses() []uint16 {
	if c.sports != nil {
		return c.sports
	}
	out := []uint16{0}
	for _, r := range c.d.Rules {
		for _, s := range r.Services {
			for _, x := range s.SrcPorts {
				for _, p := range []uint32{uint32(x.Lo), uint32(x.Hi) + 1} {
					if p > 0 && p <= 65535 && !slices.Contains(out, uint16(p)) {
						out = append(out, uint16(p))
					}
				}
			}
		}
	}
	c.sports = out
	return out
}

// ruleReach: does a packet that the rule decides get accepted? Its targets
// are the forwards it admits and its own destinations, on the services it
// was suspected for.
func (c *checker) ruleReach(r *devmodel.Rule, svcs []devmodel.Service) reach {
	var targets []target
	for _, f := range c.d.Forwards {
		if f.Disabled || !(slices.Contains(r.DstForwards, f.Name) || r.MatchForwarded && r.Dst.Contains(f.To)) {
			continue
		}
		for _, s := range svcs {
			if f.Proto != 0 && f.Proto != s.Proto {
				continue
			}
			ps := c.portClasses(s.Proto, intersect(f.Ports, s.DstPorts))
			for _, e := range c.extAddrs(f.Ext) {
				targets = append(targets, target{e, s.Proto, ps, 0})
			}
		}
	}
	dsts := c.within(r.Dst)
	for _, d := range dsts {
		for _, s := range svcs {
			targets = append(targets, target{d, s.Proto, c.portClasses(s.Proto, s.DstPorts), 0})
		}
	}
	// a packet the default accepts gets through too, whichever rule is
	// suspected; one another rule accepts is that rule's finding (or a
	// trusted source's)
	return c.probe(r.Src, c.wanIfs(r.In), targets, func(res devmodel.Result) bool {
		return res.Verdict == devmodel.Accept && (res.Rule == r || res.InRule == r || res.InRule == nil)
	})
}

// forwardReach: does a packet the forward rewrites get through the device?
func (c *checker) forwardReach(f *devmodel.Forward, svcs []devmodel.Service) reach {
	fam := 0
	if f.To.IsValid() {
		fam = 6
		if f.To.Unmap().Is4() {
			fam = 4
		}
	}
	var targets []target
	for _, s := range svcs {
		for _, e := range c.extAddrs(f.Ext) {
			targets = append(targets, target{e, s.Proto, c.portClasses(s.Proto, s.DstPorts), fam})
		}
	}
	return c.probe(f.Src, c.wanIfs(f.In), targets, func(res devmodel.Result) bool {
		return res.Verdict == devmodel.Accept && res.Forward == f
	})
}

// decider names what decided a packet that did not get through.
func decider(res devmodel.Result) string {
	switch {
	case res.Rule != nil:
		return res.Rule.Ref + " (" + res.Rule.Loc.String() + ")"
	case res.Verdict == devmodel.Drop:
		return "the device's default drop"
	}
	return res.Where()
}

// intersect is the ports in both lists (nil: every port).
func intersect(a, b devmodel.Ports) devmodel.Ports {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	out := devmodel.Ports{}
	for _, x := range a {
		for _, y := range b {
			if lo, hi := max(x.Lo, y.Lo), min(x.Hi, y.Hi); lo <= hi {
				out = append(out, devmodel.PortRange{Lo: lo, Hi: hi})
			}
		}
	}
	return out
}

// eg names the stranger's packet that got through, for the message.
func (x reach) eg() string {
	p := x.example
	if !p.Src.IsValid() {
		return ""
	}
	dst := "the device's address"
	if p.Dst.IsValid() {
		dst = p.Dst.String()
	}
	return fmt.Sprintf(" (e.g. %s from %s to %s, %d/%s, gets through)", p.In, p.Src, dst, p.DstPort, devmodel.ProtoName(p.Proto))
}
