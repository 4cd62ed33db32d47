package semdiff

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/voicewall/voicewall/lang"
	"go4.org/netipx"
)

// crossCheck proves a report against the evaluator itself:
//   - every change line: sample packets of its class (the corners of its
//     address ranges and port ranges, every zone) evaluated in both
//     policies give exactly the line's old and new outcomes and deciders;
//   - random packets (addresses drawn from every set's boundaries and
//     their neighbours, and at random; every zone; boundary and random
//     ports): a packet whose outcome differs is covered by exactly one
//     line, with that line's outcomes; a packet whose outcome does not
//     differ is covered by none.
func crossCheck(t *testing.T, old, new *lang.Policy, rep *Report, n int) {
	t.Helper()
	pol := [2]*lang.Policy{old, new}
	eval := func(side int, pkt lang.Packet) (Outcome, Decider) {
		return outcome(pol[side], pol[side].Evaluate(pkt))
	}
	for i := range rep.Changes {
		c := &rep.Changes[i]
		checked := 0
		for _, zone := range c.Zones {
			for _, w := range c.When {
				for _, src := range corners(c.Src) {
					dsts := corners(c.Dst)
					if c.Gateway {
						dsts = append(dsts, netip.Addr{})
					}
					for _, dst := range dsts {
						if dst.IsValid() && dst.Is4() != src.Is4() {
							continue
						}
						for _, s := range c.Services {
							for _, pkt := range servicePackets(s, src, dst, zone) {
								pkt.Trusted, pkt.Banned = w.Trusted, w.Banned
								if !c.Covers(pkt) {
									t.Fatalf("line %q does not cover its own sample %+v", c.Kind, pkt)
								}
								o0, d0 := eval(0, pkt)
								o1, d1 := eval(1, pkt)
								if o0 != c.Old || o1 != c.New || d0 != c.OldBy || d1 != c.NewBy {
									t.Fatalf("sample %+v of line %+v: evaluates to %+v (%v) → %+v (%v)", pkt, lineOf(old, new, c), o0, d0, o1, d1)
								}
								checked++
							}
						}
					}
				}
			}
		}
		if checked == 0 {
			t.Errorf("line %s has no sample packet", lineOf(old, new, c))
		}
	}
	rnd := rand.New(rand.NewPCG(1, uint64(n)))
	addrs := interestingAddrs(old, new)
	ports := interestingPorts(old, new)
	sp := newSpace(old, new)
	zones, dyns := sp.zones, sp.dyns
	pick := func(v6 bool) netip.Addr {
		if rnd.IntN(6) == 0 {
			return randomAddr(rnd, v6)
		}
		for {
			a := addrs[rnd.IntN(len(addrs))]
			if a.Is6() == v6 {
				return a
			}
		}
	}
	port := func() uint16 {
		if rnd.IntN(6) == 0 {
			return uint16(1 + rnd.IntN(65535))
		}
		return ports[rnd.IntN(len(ports))]
	}
	differ := 0
	for range n {
		v6 := rnd.IntN(3) == 0
		var pkt lang.Packet
		if len(rep.Changes) > 0 && rnd.IntN(4) == 0 {
			// inside a line's class, anywhere: its whole class is uniform
			pkt = insideLine(rnd, &rep.Changes[rnd.IntN(len(rep.Changes))])
		} else {
			dyn := dyns[rnd.IntN(len(dyns))]
			pkt = lang.Packet{Src: pick(v6), SrcPort: port(), Zone: zones[rnd.IntN(len(zones))], DstPort: port(), Trusted: dyn.Trusted, Banned: dyn.Banned}
			if rnd.IntN(4) > 0 {
				pkt.Dst = pick(v6)
			}
			switch rnd.IntN(5) {
			case 0:
				pkt.Proto = 1
			case 1, 2:
				pkt.Proto = lang.TCP
			default:
				pkt.Proto = lang.UDP
			}
			if pkt.Proto == 1 {
				pkt.SrcPort, pkt.DstPort = 0, 0
			}
		}
		o0, d0 := eval(0, pkt)
		o1, d1 := eval(1, pkt)
		var covering []*Change
		for i := range rep.Changes {
			if rep.Changes[i].Covers(pkt) {
				covering = append(covering, &rep.Changes[i])
			}
		}
		if o0.same(o1) {
			if len(covering) > 0 {
				t.Fatalf("packet %+v means the same in both (%+v) but line %s covers it", pkt, o0, lineOf(old, new, covering[0]))
			}
			continue
		}
		differ++
		if len(covering) != 1 {
			t.Fatalf("packet %+v: %+v (%v) → %+v (%v), covered by %d lines, want 1", pkt, o0, d0, o1, d1, len(covering))
		}
		c := covering[0]
		if c.Old != o0 || c.New != o1 || c.OldBy != d0 || c.NewBy != d1 {
			t.Fatalf("packet %+v: %+v → %+v, but its line says %s", pkt, o0, o1, lineOf(old, new, c))
		}
	}
	if len(rep.Changes) > 0 && differ == 0 {
		t.Errorf("no random packet hit a change: the random check proves nothing here")
	}
}

// insideLine is a random packet of a line's class.
func insideLine(rnd *rand.Rand, c *Change) lang.Packet {
	src := randomIn(rnd, c.Src)
	w := c.When[rnd.IntN(len(c.When))]
	pkt := lang.Packet{Src: src, Zone: c.Zones[rnd.IntN(len(c.Zones))], Trusted: w.Trusted, Banned: w.Banned}
	var dsts []netipx.IPRange
	for _, r := range c.Dst {
		if r.From().Is4() == src.Is4() {
			dsts = append(dsts, r)
		}
	}
	if len(dsts) > 0 && (!c.Gateway || rnd.IntN(2) == 0) {
		pkt.Dst = randomIn(rnd, Addrs{dsts[rnd.IntN(len(dsts))]})
	}
	s := c.Services[rnd.IntN(len(c.Services))]
	pkt.Proto = s.Proto
	if s.Other {
		return pkt
	}
	pick := func(rs []lang.PortRange) uint16 {
		r := rs[rnd.IntN(len(rs))]
		return r.First + uint16(rnd.IntN(r.Size()))
	}
	pkt.DstPort = pick(s.DstPorts)
	if s.SrcPorts != nil {
		pkt.SrcPort = pick(s.SrcPorts)
	} else {
		pkt.SrcPort = uint16(1 + rnd.IntN(65535))
	}
	return pkt
}

// randomIn is a random address of a random range of s.
func randomIn(rnd *rand.Rand, rs Addrs) netip.Addr {
	r := rs[rnd.IntN(len(rs))]
	a := r.From()
	for range rnd.IntN(64) {
		if b := a.Next(); b.IsValid() && b.Compare(r.To()) <= 0 && rnd.IntN(2) == 0 {
			a = b
		}
	}
	// jump by a random offset in the low 32 bits when the range is wide
	if n := netipx.IPRangeFrom(a, r.To()); n.IsValid() {
		b := a.As16()
		off := rnd.Uint32()
		for i := 15; i >= 12; i-- {
			b[i] += byte(off)
			off >>= 8
		}
		c := netip.AddrFrom16(b)
		if a.Is4() {
			c = c.Unmap()
		}
		if c.Is4() == a.Is4() && r.Contains(c) {
			a = c
		}
	}
	return a
}

func lineOf(old, new *lang.Policy, c *Change) string { return NewRenderer(old, new).Line(c) }

// corners are a set's first and last addresses, and its ranges' ends
// and middles (at most a few dozen).
func corners(rs Addrs) []netip.Addr {
	var out []netip.Addr
	add := func(a netip.Addr) {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	step := max(1, len(rs)/8)
	for i := 0; i < len(rs); i += step {
		add(rs[i].From())
		add(rs[i].To())
	}
	if n := len(rs); n > 0 {
		add(rs[n-1].From())
		add(rs[n-1].To())
	}
	return out
}

func servicePackets(s Service, src, dst netip.Addr, zone string) []lang.Packet {
	base := lang.Packet{Src: src, Dst: dst, Zone: zone, Proto: s.Proto}
	if s.Other {
		return []lang.Packet{base}
	}
	var out []lang.Packet
	sports := s.SrcPorts
	if sports == nil {
		sports = []lang.PortRange{{First: 1, Last: 65535}}
	}
	for _, d := range s.DstPorts {
		for _, dp := range []uint16{d.First, d.Last} {
			for _, sp := range sports {
				for _, spp := range []uint16{sp.First, sp.Last} {
					p := base
					p.DstPort, p.SrcPort = dp, spp
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// interestingAddrs: every boundary of every address set of both policies
// and the addresses just outside it, plus the PBXes' and the defaults.
func interestingAddrs(old, new *lang.Policy) []netip.Addr {
	var out []netip.Addr
	add := func(a netip.Addr) {
		if a.IsValid() {
			out = append(out, a)
		}
	}
	addSet := func(s lang.AddrSet) {
		for _, v6 := range []bool{false, true} {
			rs := s.Ranges(v6)
			step := max(1, len(rs)/200)
			for i := 0; i < len(rs); i += step {
				r := rs[i]
				add(r.From())
				add(r.From().Prev())
				add(r.To())
				add(r.To().Next())
			}
		}
	}
	for _, p := range []*lang.Policy{old, new} {
		for _, ref := range p.Sets() {
			addSet(ref.Set)
		}
		for _, v := range p.VoiceVLANs {
			addSet(v.Subnets)
		}
		for _, x := range p.PBXes {
			for _, a := range x.Addresses() {
				add(a)
				add(a.Next())
			}
		}
	}
	add(netip.MustParseAddr("0.0.0.0"))
	add(netip.MustParseAddr("255.255.255.255"))
	add(netip.MustParseAddr("::"))
	add(netip.MustParseAddr("2001:db8::1"))
	return out
}

func interestingPorts(old, new *lang.Policy) []uint16 {
	out := []uint16{1, 65535, 32768, 40000}
	for _, p := range []*lang.Policy{old, new} {
		for _, r := range p.Rules {
			for _, s := range append(slices.Clone(r.Services), r.SrcServices...) {
				for _, x := range []int{int(s.Ports.First) - 1, int(s.Ports.First), int(s.Ports.Last), int(s.Ports.Last) + 1} {
					if x >= 1 && x <= 65535 {
						out = append(out, uint16(x))
					}
				}
			}
		}
	}
	return out
}

func randomAddr(rnd *rand.Rand, v6 bool) netip.Addr {
	if v6 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rnd.IntN(256))
		}
		if rnd.IntN(2) == 0 {
			b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8 // the documentation prefix the examples use
		}
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{byte(rnd.IntN(256)), byte(rnd.IntN(256)), byte(rnd.IntN(256)), byte(rnd.IntN(256))})
}
