package semdiff

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"

	"github.com/voicewall/voicewall/lang"
	"go4.org/netipx"
)

// addrSet is one address set a rule of either policy matches on, or that
// decides where a packet leaves (a voice VLAN's subnets, a PBX address).
// zones says in which zones a packet can meet it (nil: every zone);
// side is the policy it comes from (0 old, 1 new; -1 both).
type addrSet struct {
	set   lang.AddrSet
	side  int
	zones map[string]bool
}

// relevant reports whether the set can decide anything for a packet of
// that policy side arriving on zone (side -1: either policy).
func (s *addrSet) relevant(side int, zone string) bool {
	return (side < 0 || s.side < 0 || s.side == side) && (s.zones == nil || s.zones[zone])
}

// addrClass is a class of addresses no set tells apart: every address in
// it is in exactly the same sets, so the evaluator treats them alike.
type addrClass struct {
	v6  bool
	rep netip.Addr // its first address: the one it is evaluated with
	sig int        // membership signature (index into partition.sigs)
}

// partition splits both address families into classes by membership in
// sets: a sweep over every set's range boundaries (one sorted list of
// boundaries, not a product of sets), so a blocklist of 100,000 ranges
// gives a handful of classes (in it, in the other revision's, in both, in
// none), never 100,000. The classes' addresses are kept as one list of
// elementary intervals, each naming its class.
type partition struct {
	sets    []*addrSet
	classes []addrClass
	sigs    [][]uint64 // membership bits per signature, by set index
	elems   []elem     // sorted, covering both families: v4 first
}

// elem is an interval from `from` up to the next elem's from (or the end
// of its family), all of one class.
type elem struct {
	from  netip.Addr
	class int32
}

// edge is a set's range starting (in) or having ended just before (out)
// at an address, as a 128-bit number: cheap to sort by.
type edge struct {
	hi, lo uint64
	set    int32
	in     bool
}

func u128(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

func addrOf(hi, lo uint64, v6 bool) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	a := netip.AddrFrom16(b)
	if !v6 {
		a = a.Unmap()
	}
	return a
}

func newPartition(sets []*addrSet) *partition {
	p := &partition{sets: sets}
	words := (len(sets) + 63) / 64
	sigIDs := map[string]int{}
	bySig := map[int]int32{} // signature → class (per family: signatures never span families)
	var edges []edge
	for _, v6 := range []bool{false, true} {
		n := 0
		for _, s := range sets {
			n += 2 * len(s.set.Ranges(v6))
		}
		edges = slices.Grow(edges[:0], n)
		for i, s := range sets {
			for _, r := range s.set.Ranges(v6) {
				hi, lo := u128(r.From())
				edges = append(edges, edge{hi, lo, int32(i), true})
				if next := r.To().Next(); next.IsValid() {
					hi, lo := u128(next)
					edges = append(edges, edge{hi, lo, int32(i), false})
				}
			}
		}
		slices.SortFunc(edges, func(a, b edge) int { return cmp.Or(cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo)) })
		bits := make([]uint64, words)
		first := netip.IPv4Unspecified()
		if v6 {
			first = netip.IPv6Unspecified()
		}
		clear(bySig)
		p.elems = slices.Grow(p.elems, len(edges)+1)
		start := func(at netip.Addr) {
			key := sigKey(bits)
			id, ok := sigIDs[key]
			if !ok {
				id = len(p.sigs)
				sigIDs[key] = id
				p.sigs = append(p.sigs, slices.Clone(bits))
			}
			ci, ok := bySig[id]
			if !ok {
				ci = int32(len(p.classes))
				bySig[id] = ci
				p.classes = append(p.classes, addrClass{v6: v6, rep: at, sig: id})
			}
			if n := len(p.elems); n > 0 && p.elems[n-1].class == ci && p.elems[n-1].from.Is6() == v6 {
				return // the same class goes on
			}
			p.elems = append(p.elems, elem{at, ci})
		}
		cur := first
		chi, clo := u128(first)
		for i := 0; i < len(edges); {
			hi, lo := edges[i].hi, edges[i].lo
			if hi != chi || lo != clo {
				start(cur)
				cur, chi, clo = addrOf(hi, lo, v6), hi, lo
			}
			for ; i < len(edges) && edges[i].hi == hi && edges[i].lo == lo; i++ {
				e := edges[i]
				if e.in {
					bits[e.set/64] |= 1 << (e.set % 64)
				} else {
					bits[e.set/64] &^= 1 << (e.set % 64)
				}
			}
		}
		start(cur)
	}
	return p
}

func sigKey(bits []uint64) string {
	var b strings.Builder
	for _, w := range bits {
		for i := 0; i < 8; i++ {
			b.WriteByte(byte(w >> (8 * i)))
		}
	}
	return b.String()
}

// union is the addresses of the given classes, as sorted, merged ranges.
func (p *partition) union(ids []int) Addrs {
	in := make([]bool, len(p.classes))
	for _, i := range ids {
		in[i] = true
	}
	var out Addrs
	for i, e := range p.elems {
		if !in[e.class] {
			continue
		}
		to := lastOf(e.from)
		if i+1 < len(p.elems) && p.elems[i+1].from.Is6() == e.from.Is6() {
			to = p.elems[i+1].from.Prev()
		}
		if n := len(out); n > 0 && out[n-1].To().Next() == e.from {
			out[n-1] = netipx.IPRangeFrom(out[n-1].From(), to)
			continue
		}
		out = append(out, netipx.IPRangeFrom(e.from, to))
	}
	return out
}

func lastOf(a netip.Addr) netip.Addr {
	if a.Is4() {
		return allV4.To()
	}
	return allV6.To()
}

// projection maps each class to the id of its signature restricted to the
// sets relevant for (side, zone), plus what extra says about the class
// (nil: nothing): classes with one projection are evaluated once for that
// policy and zone.
func (p *partition) projection(side int, zone string, extra func(*addrClass) string) []int {
	var mask []int
	for i, s := range p.sets {
		if s.relevant(side, zone) {
			mask = append(mask, i)
		}
	}
	ids := map[string]int{}
	out := make([]int, len(p.classes))
	key := make([]byte, 0, len(mask)+1)
	for ci, c := range p.classes {
		key = key[:0]
		if c.v6 {
			key = append(key, 6)
		} else {
			key = append(key, 4)
		}
		bits := p.sigs[c.sig]
		for _, i := range mask {
			key = append(key, byte(bits[i/64]>>(i%64)&1))
		}
		if extra != nil {
			key = append(key, extra(&p.classes[ci])...)
		}
		id, ok := ids[string(key)]
		if !ok {
			id = len(ids)
			ids[string(key)] = id
		}
		out[ci] = id
	}
	return out
}

// portClasses splits 1-65535 at every boundary of ranges: each class is
// one range no rule tells apart.
func portClasses(ranges []lang.PortRange) []lang.PortRange {
	cuts := map[int]bool{1: true}
	for _, r := range ranges {
		cuts[int(r.First)] = true
		cuts[int(r.Last)+1] = true
	}
	var starts []int
	for c := range cuts {
		if c >= 1 && c <= 65535 {
			starts = append(starts, c)
		}
	}
	slices.Sort(starts)
	out := make([]lang.PortRange, len(starts))
	for i, s := range starts {
		end := 65535
		if i+1 < len(starts) {
			end = starts[i+1] - 1
		}
		out[i] = lang.PortRange{First: uint16(s), Last: uint16(end)}
	}
	return out
}
