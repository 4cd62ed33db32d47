package semdiff

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/voicewall/voicewall/lang"
	"go4.org/netipx"
)

// addrSet is one address set a rule of either policy matches on, or that
// decides where a packet leaves (a voice VLAN's subnets, a PBX address).
// zones says in which zones a packet can meet it (nil: every zone);
// side is the policy it comes from (0 old, 1 new).
type addrSet struct {
	set   lang.AddrSet
	side  int
	zones map[string]bool
}

// relevant reports whether the set can decide anything for a packet of
// that policy side arriving on zone (side -1: either policy).
func (s *addrSet) relevant(side int, zone string) bool {
	return (side < 0 || s.side == side) && (s.zones == nil || s.zones[zone])
}

// addrClass is a class of addresses no set tells apart: every address in
// it is in exactly the same sets, so the evaluator treats them alike.
type addrClass struct {
	v6     bool
	ranges []netipx.IPRange // sorted; the class's own ranges, never adjacent
	sig    int              // membership signature (index into partition.sigs)
}

// rep is the address the class is evaluated with.
func (c *addrClass) rep() netip.Addr { return c.ranges[0].From() }

// partition splits both address families into classes by membership in
// sets: a sweep over every set's range boundaries (one sorted list of
// events, not a product of sets), so a blocklist of 100,000 ranges gives
// a handful of classes (in it, in the other revision's, in both, in none)
// whose ranges are long lists, never 100,000 classes.
type partition struct {
	sets    []*addrSet
	classes []addrClass
	sigs    [][]uint64 // membership bits per signature, by set index
}

type edge struct {
	at  netip.Addr
	set int32
	in  bool // the set starts here (else it ended just before)
}

func newPartition(sets []*addrSet) *partition {
	p := &partition{sets: sets}
	words := (len(sets) + 63) / 64
	sigIDs := map[string]int{}
	bySig := map[int]int{} // signature → class index (per family: signatures never span families)
	for _, v6 := range []bool{false, true} {
		var edges []edge
		for i, s := range sets {
			for _, r := range s.set.Ranges(v6) {
				edges = append(edges, edge{r.From(), int32(i), true})
				if next := r.To().Next(); next.IsValid() && next.Is6() == v6 {
					edges = append(edges, edge{next, int32(i), false})
				}
			}
		}
		slices.SortFunc(edges, func(a, b edge) int { return a.at.Compare(b.at) })
		bits := make([]uint64, words)
		first, last := netip.IPv4Unspecified(), netip.AddrFrom4([4]byte{255, 255, 255, 255})
		if v6 {
			first, last = netip.IPv6Unspecified(), netip.AddrFrom16([16]byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255})
		}
		clear(bySig)
		cur := first
		emit := func(to netip.Addr) {
			key := sigKey(bits)
			id, ok := sigIDs[key]
			if !ok {
				id = len(p.sigs)
				sigIDs[key] = id
				p.sigs = append(p.sigs, slices.Clone(bits))
			}
			ci, ok := bySig[id]
			if !ok {
				ci = len(p.classes)
				bySig[id] = ci
				p.classes = append(p.classes, addrClass{v6: v6, sig: id})
			}
			c := &p.classes[ci]
			if n := len(c.ranges); n > 0 && c.ranges[n-1].To().Next() == cur {
				c.ranges[n-1] = netipx.IPRangeFrom(c.ranges[n-1].From(), to)
			} else {
				c.ranges = append(c.ranges, netipx.IPRangeFrom(cur, to))
			}
		}
		for i := 0; i < len(edges); {
			at := edges[i].at
			if at.Compare(cur) > 0 {
				emit(at.Prev())
				cur = at
			}
			for ; i < len(edges) && edges[i].at == at; i++ {
				e := edges[i]
				if e.in {
					bits[e.set/64] |= 1 << (e.set % 64)
				} else {
					bits[e.set/64] &^= 1 << (e.set % 64)
				}
			}
		}
		emit(last)
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

// projection maps each class to the id of its signature restricted to the
// sets relevant for (side, zone): classes with one projection are
// evaluated once for that policy and zone.
func (p *partition) projection(side int, zone string) []int {
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
