package audit

import (
	"encoding/binary"
	"fmt"
	"math/big"
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

// maxReachWork bounds the work of one suspect (probes × the rules each
// may walk): past it the suspect is reported as open (never silenced by a
// probe set cut short).
const maxReachWork = 50_000_000

// reach is the outcome for one suspect.
type reach struct {
	open      bool
	example   devmodel.Packet // a stranger's packet that gets through (open)
	shadowers []string        // what decides the packets instead (not open)
	// blind: no packet audit could build is one the suspect takes (its
	// interfaces or addresses are not in the configuration), so nothing
	// proves earlier rules keep strangers from it: reported, never silent.
	blind bool
	// capped: the probes (this many) ran out before a verdict (reported
	// as open).
	capped int
	// restricted: no stranger's packet gets through the suspect, and a
	// named source's does (the policies admitting a VIP without
	// src-filter are the providers'), or it takes no stranger's packet
	// at all (the VIPs a policy from all leads to are restricted to the
	// providers): not open, and not dead.
	restricted bool
}

// space is the part of the device that can decide a suspect's packets (the
// rules that may match them, in order), with one address and port per
// class those rules tell apart. Probing only it is exact (a rule that can
// match none of the packets changes no verdict) and keeps each suspect's
// work in proportion to the rules that concern it.
type space struct {
	d          *devmodel.Device
	srcs, dsts []netip.Addr
	sports     []uint16
	ports      map[string][]uint16 // portClasses, by protocol and ports
	isNamed    map[netip.Addr]bool
	has        map[*devmodel.Rule]bool // the rules of d
	known      *netipx.IPSet           // knownSources, built once
	bounds     map[uint8][]uint32      // boundaries, by protocol
	fbounds    map[uint8][]uint32      // allBounds, by protocol
}

// spaceFor is the space of packets arriving on ifs with one of the
// services (or, after a forward, its mapped port): the device with only the
// rules that may see one of them. Suspects with the same interfaces and
// services share it.
func (c *checker) spaceFor(ifs []string, svcs []devmodel.Service) *space {
	key := fmt.Sprint(ifs, svcs)
	if sp, ok := c.spaces[key]; ok {
		return sp
	}
	svcs = c.withMappedPorts(svcs)
	sub := *c.d
	sub.Rules = nil
	for _, r := range c.d.Rules {
		if r.Disabled {
			continue
		}
		arrival := r.Dir == devmodel.DirIn && !r.PreNAT
		if arrival && len(r.In) > 0 && !overlapIf(r.In, append(ifs, "any")) {
			continue
		}
		if r.Services != nil && !svcOverlap(r.Services, svcs) {
			continue
		}
		sub.Rules = append(sub.Rules, r)
	}
	sp := newSpace(&sub)
	for _, r := range sub.Rules {
		sp.has[r] = true
	}
	c.spaces[key] = sp
	return sp
}

// withMappedPorts adds the ports forwards rewrite svcs' ports to.
func (c *checker) withMappedPorts(svcs []devmodel.Service) []devmodel.Service {
	out := slices.Clone(svcs)
	for _, f := range c.d.Forwards {
		if f.ToPort == 0 || len(f.Ports) == 0 {
			continue
		}
		for _, s := range svcs {
			if f.Proto != 0 && f.Proto != s.Proto || s.DstPorts == nil {
				continue // s takes every port of its protocol already
			}
			for _, m := range f.Mapping() {
				if portsOverlap(devmodel.Ports{m.Out}, s.DstPorts) {
					out = append(out, devmodel.Service{Proto: s.Proto, DstPorts: devmodel.Ports{m.In}})
				}
			}
		}
	}
	return out
}

func portsOverlap(a, b devmodel.Ports) bool {
	if a == nil || b == nil {
		return true
	}
	for _, r := range a {
		if b.Overlaps(r) {
			return true
		}
	}
	return false
}

// svcOverlap: a packet of one of b's services may match one of a's.
func svcOverlap(a, b []devmodel.Service) bool {
	for _, x := range a {
		if x.Proto == 0 {
			return true
		}
		for _, y := range b {
			if y.Proto == 0 || x.Proto == y.Proto && portsOverlap(x.DstPorts, y.DstPorts) {
				return true
			}
		}
	}
	return false
}

func newSpace(d *devmodel.Device) *space {
	sp := &space{d: d, ports: map[string][]uint16{}, isNamed: map[netip.Addr]bool{}, has: map[*devmodel.Rule]bool{}, bounds: map[uint8][]uint32{}, fbounds: map[uint8][]uint32{}}
	sp.sourceClasses()
	sp.dstClasses()
	sp.srcPortClasses()
	return sp
}

// sourceClasses is one source address per class of sources no address set
// of the space tells apart: the first address of every range of every set
// and the address after its end, plus the first address of each family.
func (sp *space) sourceClasses() {
	seen := map[netip.Addr]bool{}
	add := func(a netip.Addr) {
		if a.IsValid() && !seen[a] {
			seen[a] = true
			sp.srcs = append(sp.srcs, a)
		}
	}
	add(netip.IPv4Unspecified())
	add(netip.IPv6Unspecified())
	addSet := func(x devmodel.Addr) {
		if x.Set == nil {
			return
		}
		for _, r := range x.Set.Ranges() {
			add(r.From())
			add(r.To().Next())
		}
	}
	for _, r := range sp.d.Rules {
		addSet(r.Src)
	}
	for _, f := range sp.d.Forwards {
		addSet(f.Src)
	}
	slices.SortFunc(sp.srcs, func(a, b netip.Addr) int { return a.Compare(b) })
	// a stranger of each family first: the example a message names
	for _, a := range []netip.Addr{sp.stranger(false), sp.stranger(true)} {
		if a.IsValid() {
			if i := slices.Index(sp.srcs, a); i >= 0 {
				sp.srcs = slices.Delete(sp.srcs, i, i+1)
			}
			sp.srcs = slices.Insert(sp.srcs, 0, a)
		}
	}
}

// strangerCandidates are documentation addresses (RFC 5737, RFC 3849),
// which no provider announces.
var strangerCandidates = [2][]netip.Addr{
	{netip.MustParseAddr("198.51.100.77"), netip.MustParseAddr("203.0.113.77"), netip.MustParseAddr("192.0.2.77")},
	{netip.MustParseAddr("2001:db8::77"), netip.MustParseAddr("2001:db8:ffff:ffff::77")},
}

// stranger is a documentation address no source set of the space names
// (no provider's, no trusted host's), so that the packet a finding names
// comes from a stranger; invalid when every candidate is named.
func (sp *space) stranger(v6 bool) netip.Addr {
	k := 0
	if v6 {
		k = 1
	}
	for _, a := range strangerCandidates[k] {
		if !sp.named(a) {
			return a
		}
	}
	return netip.Addr{}
}

// named: a is a source the space's rules and forwards single out
// (knownSources), not a stranger (memoized).
func (sp *space) named(a netip.Addr) bool {
	if v, ok := sp.isNamed[a]; ok {
		return v
	}
	if sp.known == nil {
		sp.known = knownSources(sp.d)
	}
	v := sp.known.Contains(a.Unmap())
	sp.isNamed[a] = v
	return v
}

// A stranger is a source outside every provider and management set: the
// restricted source sets of the rules and forwards (a provider's ranges, a
// partner's network, trusted hosts, a blocklist). A suspect is open to any
// source only when a stranger's packet gets through it: a provider's
// packet that a policy of its own lets through says nothing about anyone
// else's.
//
// A set larger than anyone's own addresses (more than a /8 of IPv4 or a
// /16 of IPv6: "the Internet but the private ranges", "every address but
// the providers'") names no one by its members, which are strangers like
// any; what it leaves out of its family, when that is no larger, is what
// it singles out (a deny from every address but the providers' names the
// providers).
const (
	knownMax4 = 32 - 8   // log2 of the most IPv4 addresses a named set holds
	knownMax6 = 128 - 16 // and IPv6
)

// knownSources are the addresses d's rules and forwards single out.
func knownSources(d *devmodel.Device) *netipx.IPSet {
	var b netipx.IPSetBuilder
	seen := map[*netipx.IPSet]bool{}
	add := func(x devmodel.Addr) {
		if x.Any || x.Set == nil || seen[x.Set] {
			return
		}
		seen[x.Set] = true
		var fams [2][]netipx.IPRange // the set's IPv4 and IPv6 ranges
		for _, r := range x.Set.Ranges() {
			k := 0
			if r.From().Is6() {
				k = 1
			}
			fams[k] = append(fams[k], r)
		}
		for k, rs := range fams {
			if len(rs) == 0 {
				continue
			}
			if small(rs, k == 1) {
				for _, r := range rs {
					b.AddRange(r)
				}
				continue
			}
			var rest netipx.IPSetBuilder
			rest.AddPrefix([]netip.Prefix{all4, all6}[k])
			for _, r := range rs {
				rest.RemoveRange(r)
			}
			if r, _ := rest.IPSet(); small(r.Ranges(), k == 1) {
				b.AddSet(r)
			}
		}
	}
	for _, r := range d.Rules {
		add(r.Src)
	}
	for _, f := range d.Forwards {
		add(f.Src)
	}
	out, _ := b.IPSet()
	return out
}

// small: ranges of one family hold no more addresses than a named set
// may (knownMax4, knownMax6).
func small(rs []netipx.IPRange, v6 bool) bool {
	if !v6 {
		n := uint64(0)
		for _, r := range rs {
			f, t := r.From().As4(), r.To().As4()
			n += uint64(binary.BigEndian.Uint32(t[:])) - uint64(binary.BigEndian.Uint32(f[:])) + 1
		}
		return n <= 1<<knownMax4
	}
	limit := new(big.Int).Lsh(big.NewInt(1), knownMax6)
	n := new(big.Int)
	for _, r := range rs {
		from, to := r.From().As16(), r.To().As16()
		size := new(big.Int).Sub(new(big.Int).SetBytes(to[:]), new(big.Int).SetBytes(from[:]))
		n.Add(n, size.Add(size, big.NewInt(1)))
		if n.Cmp(limit) > 0 {
			return false
		}
	}
	return true
}

// portClasses is one port per class of ports of a protocol the space tells
// apart within ps.
func (sp *space) portClasses(proto uint8, ps devmodel.Ports) []uint16 {
	if ps == nil {
		ps = devmodel.PortsOf(0, 65535)
	}
	key := fmt.Sprint(proto, ps)
	if out, ok := sp.ports[key]; ok {
		return out
	}
	var out []uint16
	bs := sp.allBounds(proto)
	for _, r := range ps {
		out = append(out, r.Lo)
		k, _ := slices.BinarySearch(bs, uint32(r.Lo))
		for ; k < len(bs) && bs[k] <= uint32(r.Hi); k++ {
			out = append(out, uint16(bs[k]))
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	sp.ports[key] = out
	return out
}

// mappedClasses are portClasses within ps, and, for a forward that shifts
// ports, the outside ports it maps onto each boundary of the rules' inside
// ports (the filter sees the mapped port): one port per class either side.
func (sp *space) mappedClasses(f *devmodel.Forward, proto uint8, ps devmodel.Ports) []uint16 {
	out := sp.portClasses(proto, ps)
	if f.ToPort == 0 || f.ToFixed || f.Picks() || len(f.Ports) == 0 {
		return out // a forward that picks its port: probe takes each pick (natPorts)
	}
	bs := sp.boundaries(proto)
	n := len(out)
	for _, m := range f.Mapping() {
		i, _ := slices.BinarySearch(bs, uint32(m.In.Lo))
		for ; i < len(bs) && bs[i] <= uint32(m.In.Hi); i++ {
			if o := uint32(m.Out.Lo) + bs[i] - uint32(m.In.Lo); o <= uint32(m.Out.Hi) && o <= 65535 && (ps == nil || ps.Contains(uint16(o))) && !slices.Contains(out, uint16(o)) {
				out = append(out, uint16(o))
			}
		}
	}
	if len(out) > n {
		out = slices.Clone(out)
		slices.Sort(out)
	}
	return out
}

// natPorts are the inside ports the forward that takes pkt may pick for
// it, one per class of ports the space's rules tell apart (the filter sees
// the picked port); nil when that forward picks none.
func (sp *space) natPorts(dev *devmodel.Device, pkt devmodel.Packet) []uint16 {
	f := dev.ForwardOf(pkt)
	if f == nil || !f.Picks() {
		return nil
	}
	key := fmt.Sprint("pick", pkt.Proto, f.ToPort, f.ToLast)
	if out, ok := sp.ports[key]; ok {
		return out
	}
	out := []uint16{f.ToPort}
	bs := sp.boundaries(pkt.Proto)
	k, _ := slices.BinarySearch(bs, uint32(f.ToPort)+1)
	for ; k < len(bs) && bs[k] <= uint32(f.ToLast); k++ {
		out = append(out, uint16(bs[k]))
	}
	sp.ports[key] = out
	return out
}

// within: the port classes ps (sorted first ports) cut to r, from r.Lo
// (zero r: all of them).
func within(ps []uint16, r devmodel.PortRange) []uint16 {
	if r == (devmodel.PortRange{}) {
		return ps
	}
	out := []uint16{r.Lo}
	for _, p := range ps {
		if p > r.Lo && p <= r.Hi {
			out = append(out, p)
		}
	}
	return out
}

// allBounds are the first ports of the classes of ports of a protocol the
// space's rules and forwards tell apart, sorted.
func (sp *space) allBounds(proto uint8) []uint32 {
	if b, ok := sp.fbounds[proto]; ok {
		return b
	}
	b := slices.Clone(sp.boundaries(proto))
	for _, f := range sp.d.Forwards {
		if f.Proto == proto || f.Proto == 0 {
			for _, x := range f.Ports {
				b = append(b, uint32(x.Lo), uint32(x.Hi)+1)
			}
		}
	}
	slices.Sort(b)
	b = slices.Compact(b)
	sp.fbounds[proto] = b
	return b
}

// boundaries are the first ports of the classes of destination ports of a
// protocol the space's rules tell apart, sorted.
func (sp *space) boundaries(proto uint8) []uint32 {
	if b, ok := sp.bounds[proto]; ok {
		return b
	}
	var b []uint32
	for _, r := range sp.d.Rules {
		for _, s := range r.Services {
			if s.Proto == proto {
				for _, x := range s.DstPorts {
					b = append(b, uint32(x.Lo), uint32(x.Hi)+1)
				}
			}
		}
	}
	slices.Sort(b)
	b = slices.Compact(b)
	sp.bounds[proto] = b
	return b
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
// interface not in the WAN role, and the ones the suspect names, declared
// or not): probing each over-approximates what gets through, the safe side
// for a check that may only silence a finding.
func (c *checker) inward(named []string) []string {
	var out []string
	add := func(n string) {
		if n != "" && n != "any" && !slices.Contains(out, n) && !c.knownWAN(n) {
			out = append(out, n)
		}
	}
	for _, i := range c.d.Interfaces {
		add(i.Name)
	}
	for _, n := range named {
		add(n)
	}
	if len(out) == 0 {
		out = []string{"lan"}
	}
	return out
}

// routeVia: a destination on a configured subnet leaves by that interface,
// any other by out.
func (sp *space) routeVia(out string) devmodel.Route {
	return func(dst netip.Addr, in string) string {
		for _, i := range sp.d.Interfaces {
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
func (sp *space) extAddrs(x devmodel.Addr) []netip.Addr {
	if x.Any {
		return []netip.Addr{{}} // the device's own WAN address
	}
	return sp.within(x)
}

type target struct {
	dst   netip.Addr
	proto uint8
	ports []uint16
	fam   int // 4 or 6: sources of that family only (a forward to an IPv4 host); 0 both
}

// suspect is what a probe run asks about: packets from src arriving on ifs
// to targets, leaving by outs; sees says the suspect itself takes a packet
// (only those count), passes that it got through by the suspect. dev is
// the space narrowed to the rules and forwards that may take them.
type suspect struct {
	dev     *devmodel.Device
	src     devmodel.Addr
	ifs     []string
	outs    []string
	targets []target
	sees    func(devmodel.Packet, devmodel.Route) bool
	passes  func(devmodel.Result) bool
	// picked: only the packets a forward that picks its port sends to
	// these inside ports (zero: every pick)
	picked devmodel.PortRange
}

// probe evaluates packets from every source class of the suspect's source
// to every target on every interface and reports whether one the suspect
// takes gets through.
func (c *checker) probe(sp *space, s suspect) reach {
	var out reach
	n, seen, known, drops := 0, 0, 0, 0
	knownPass := false
	budget := max(1000, maxReachWork/max(1, len(sp.d.Rules)))
	picks := slices.ContainsFunc(s.dev.Forwards, (*devmodel.Forward).Picks)
	none := []uint16{0}
	for _, via := range c.inward(s.outs) {
		route := sp.routeVia(via)
		for _, in := range s.ifs {
			for _, t := range s.targets {
				for _, a := range sp.srcs {
					if !s.src.Contains(a) || t.dst.IsValid() && t.dst.Is4() != a.Is4() || t.fam == 4 && !a.Is4() || t.fam == 6 && !a.Is6() {
						continue
					}
					for _, port := range t.ports {
						for _, sport := range sp.sports {
							pkt := devmodel.Packet{In: in, Src: a, SrcPort: sport, Dst: t.dst, Proto: t.proto, DstPort: port}
							nat := none
							if picks {
								if ps := sp.natPorts(s.dev, pkt); ps != nil {
									nat = within(ps, s.picked) // each port the forward may pick
								}
							}
							for _, np := range nat {
								pkt.NATPort = np
								if n++; n > budget {
									return reach{open: true, capped: budget}
								}
								if !s.sees(pkt, route) {
									continue // not the suspect's packet: says nothing about it
								}
								res := s.dev.Evaluate(pkt, route)
								if sp.named(a) {
									// a provider's or manager's: says nothing about strangers
									known++
									knownPass = knownPass || s.passes(res)
									continue
								}
								seen++
								if s.passes(res) {
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
	}
	switch {
	case knownPass || seen == 0 && known > 0:
		return reach{restricted: true} // it works for named sources only
	case seen == 0:
		return reach{open: true, blind: true}
	}
	return out
}

// dstClasses is one destination address per class of destinations no
// address set, forward or subnet of the space tells apart.
func (sp *space) dstClasses() {
	var b []netip.Addr
	addSet := func(x devmodel.Addr) {
		if x.Set != nil {
			for _, r := range x.Set.Ranges() {
				b = append(b, r.From(), r.To().Next())
			}
		}
	}
	for _, r := range sp.d.Rules {
		addSet(r.Dst)
	}
	for _, f := range sp.d.Forwards {
		addSet(f.Ext)
		if f.To.IsValid() {
			b = append(b, f.To.Unmap(), f.To.Unmap().Next())
		}
	}
	for _, i := range sp.d.Interfaces {
		for _, p := range i.Subnets {
			r := netipx.RangeOfPrefix(p.Masked())
			b = append(b, r.From(), r.To().Next())
		}
	}
	b = append(b, netip.IPv4Unspecified(), netip.IPv6Unspecified(), netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("2001:db8::1"))
	seen := map[netip.Addr]bool{}
	for _, a := range b {
		if a.IsValid() && !seen[a] {
			seen[a] = true
			sp.dsts = append(sp.dsts, a)
		}
	}
	slices.SortFunc(sp.dsts, func(a, b netip.Addr) int { return a.Compare(b) })
}

// within is the destination classes in x; the invalid address (the device
// itself) first when x holds it.
func (sp *space) within(x devmodel.Addr) []netip.Addr {
	if x.Any {
		return append([]netip.Addr{{}}, sp.dsts...)
	}
	var out []netip.Addr
	if x.Self {
		out = append(out, netip.Addr{})
	}
	if x.Set == nil {
		return out
	}
	// the classes are sorted: find each range's by binary search, so a
	// narrow destination costs its own classes, not all of them
	for _, r := range x.Set.Ranges() {
		i, _ := slices.BinarySearchFunc(sp.dsts, r.From(), func(a, b netip.Addr) int { return a.Compare(b) })
		for ; i < len(sp.dsts) && sp.dsts[i].Compare(r.To()) <= 0; i++ {
			out = append(out, sp.dsts[i])
		}
	}
	return out
}

// srcPortClasses: the ephemeral source port (0) and one port per class of
// source ports the space's rules tell apart.
func (sp *space) srcPortClasses() {
	out := []uint16{0}
	for _, r := range sp.d.Rules {
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
	sp.sports = out
}

// ruleReach: does a packet that the rule takes get accepted? Its targets
// are the forwards it admits and its own destinations, on the services it
// was suspected for.
func (c *checker) ruleReach(r *devmodel.Rule, svcs []devmodel.Service) reach {
	return c.ruleReachTo(r, svcs, false)
}

// ruleReachTo is ruleReach; self: only packets to the device itself
// (management).
func (c *checker) ruleReachTo(r *devmodel.Rule, svcs []devmodel.Service, self bool) reach {
	ifs := c.wanIfs(r.In)
	if by := c.covered(r, svcs); by != nil {
		return reach{shadowers: by}
	}
	var targets []target
	var fwds []*devmodel.Forward
	if !self {
		fwds = c.fwdsNamed(r.DstForwards)
		if r.MatchForwarded {
			for _, k := range c.fwdsTo(r.Dst) {
				fwds = append(fwds, c.d.Forwards[k])
			}
			slices.SortFunc(fwds, func(a, b *devmodel.Forward) int { return c.ix.fwdAt[a] - c.ix.fwdAt[b] })
			fwds = slices.Compact(fwds)
		}
	}
	// packets to a forward it admits: the rule's services match the port
	// the forward sends them to (devmodel Forward.PartsTo), so they are
	// sent to the outside ports that reach the suspected ones (and the
	// space holds the rules that see those before the forward)
	type fwdPorts struct {
		f     *devmodel.Forward
		proto uint8
		out   devmodel.Ports
	}
	var outs []fwdPorts
	spSvcs := svcs
	for _, f := range fwds {
		if f.Disabled {
			continue
		}
		for _, s := range svcs {
			var out devmodel.Ports
			for _, m := range f.PartsTo(s.Proto, s.DstPorts) {
				out = append(out, m.Out)
				if !svcCoversRange(spSvcs, s.Proto, m.Out) {
					// every port of the protocol: one space shared by every
					// such suspect (one per outside port would build one each)
					spSvcs = append(slices.Clip(spSvcs), devmodel.Service{Proto: s.Proto})
				}
			}
			if len(out) > 0 {
				outs = append(outs, fwdPorts{f, s.Proto, out})
			}
		}
	}
	sp := c.spaceFor(ifs, spSvcs)
	for _, o := range outs {
		ps := sp.mappedClasses(o.f, o.proto, o.out)
		for _, e := range sp.extAddrs(o.f.Ext) {
			targets = append(targets, target{e, o.proto, ps, 0})
		}
	}
	dsts := sp.within(r.Dst)
	if self {
		dsts = []netip.Addr{{}}
	}
	for _, d := range dsts {
		for _, s := range svcs {
			targets = append(targets, target{d, s.Proto, sp.portClasses(s.Proto, s.DstPorts), 0})
		}
	}
	sub := c.narrow(sp, ifs, targets)
	return c.probe(sp, suspect{dev: sub, src: r.Src, ifs: ifs, outs: r.Out, targets: targets,
		sees: func(p devmodel.Packet, route devmodel.Route) bool { return sub.Sees(r, p, route) },
		passes: func(res devmodel.Result) bool {
			return res.Verdict == devmodel.Accept && (res.Rule == r || res.InRule == r)
		}})
}

// forwardReach: does a packet the forward rewrites get through the device?
func (c *checker) forwardReach(f *devmodel.Forward, svcs []devmodel.Service) reach {
	ifs := c.wanIfs(f.In)
	return c.forwardReachIn(c.spaceFor(ifs, svcs), ifs, f, svcs, devmodel.PortRange{})
}

// forwardReachIn is forwardReach in a space of the caller's; picked: for a
// forward that picks its inside port, only the packets it sends to those
// ports (zero: all).
func (c *checker) forwardReachIn(sp *space, ifs []string, f *devmodel.Forward, svcs []devmodel.Service, picked devmodel.PortRange) reach {
	fam := 0
	if f.To.IsValid() {
		fam = 6
		if f.To.Unmap().Is4() {
			fam = 4
		}
	}
	var targets []target
	for _, s := range svcs {
		ps := sp.mappedClasses(f, s.Proto, s.DstPorts)
		for _, e := range sp.extAddrs(f.Ext) {
			targets = append(targets, target{e, s.Proto, ps, fam})
		}
	}
	// the interfaces the rules admitting it send it out by
	var outs []string
	at := slices.Clone(c.ix.ruleNamed[f.Name])
	for _, k := range c.ix.ruleDst.holding(f.To, nil) {
		if r := c.d.Rules[k]; r.MatchForwarded && r.Action == devmodel.Accept {
			at = append(at, k)
		}
	}
	for _, r := range c.rulesAt(at) {
		outs = append(outs, r.Out...)
	}
	sub := c.narrow(sp, ifs, targets)
	return c.probe(sp, suspect{dev: sub, src: f.Src, ifs: ifs, outs: outs, targets: targets, picked: picked,
		sees: func(p devmodel.Packet, _ devmodel.Route) bool { return sub.Takes(f, p) },
		passes: func(res devmodel.Result) bool {
			return res.Verdict == devmodel.Accept && res.Forward == f
		}})
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

// eg names the stranger's packet that got through, for the message, or
// says why audit reports the suspect without one.
func (x reach) eg() string {
	p := x.example
	switch {
	case x.blind:
		return " (audit cannot tell where its packets go: no packet it can build from the configuration is one this takes, as an interface or address it names is not declared there; so nothing proves that earlier rules keep strangers out)"
	case x.capped > 0:
		return fmt.Sprintf(" (audit stopped after %d probes without proving that earlier rules keep every stranger out)", x.capped)
	case !p.Src.IsValid():
		return ""
	}
	dst := "the device's address"
	if p.Dst.IsValid() {
		dst = p.Dst.String()
	}
	if p.NATPort != 0 {
		return fmt.Sprintf(" (e.g. %s from %s to %s, %d/%s, gets through when the forward picks port %d)", p.In, p.Src, dst, p.DstPort, devmodel.ProtoName(p.Proto), p.NATPort)
	}
	return fmt.Sprintf(" (e.g. %s from %s to %s, %d/%s, gets through)", p.In, p.Src, dst, p.DstPort, devmodel.ProtoName(p.Proto))
}
