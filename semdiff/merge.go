package semdiff

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"github.com/voicewall/voicewall/lang"
)

// Kind sorts changes for a reviewer: what the new policy lets in first.
type Kind string

const (
	Opened  Kind = "opened"  // dropped before, passes now
	Shut    Kind = "shut"    // passed before, dropped now
	Changed Kind = "changed" // passes in both, differently (forwarding, managed, DSCP, rate limit)
)

// Service is a protocol with the destination ports (and, when not every
// port, the source ports) of a change. With Other it is every protocol
// but the ones in Except (those voicewall's rules name: tcp, udp), which
// have no ports; Proto is then the one evaluated for them.
type Service struct {
	Proto    lang.Proto
	Other    bool
	Except   []lang.Proto
	SrcPorts []lang.PortRange // nil: any source port
	DstPorts []lang.PortRange
}

// Change is one line of the diff: packets from Src arriving on one of
// Zones, to Dst, with one of Services, had Old and now have New.
type Change struct {
	Kind  Kind
	Zones []string
	// When are the run-time set memberships (banned, trusted remote phone)
	// of the sources the line is about; AllWhen: every one either policy
	// tells apart (the line holds whatever the run-time sets hold).
	When     []Dynamic
	AllWhen  bool
	Src      Addrs
	Gateway  bool  // the destination includes the gateway itself
	Dst      Addrs // destination addresses beyond it (forwarded traffic)
	Services []Service
	Old, New Outcome
	OldBy    Decider // deciding block in the old policy ("" not managed)
	NewBy    Decider // in the new policy
	// OldByGone: the old decider's block has no rules in the new policy.
	OldByGone bool
}

// Covers reports whether the packet is in the change's class.
func (c *Change) Covers(pkt lang.Packet) bool {
	zone := pkt.Zone
	if zone == "" {
		zone = lang.ZoneWAN
	}
	if !slices.Contains(c.Zones, zone) || !c.Src.Contains(pkt.Src.Unmap()) || !slices.Contains(c.When, Dynamic{pkt.Trusted, pkt.Banned}) {
		return false
	}
	if pkt.Dst.IsValid() && !c.Dst.Contains(pkt.Dst.Unmap()) || !pkt.Dst.IsValid() && !c.Gateway {
		return false
	}
	for _, s := range c.Services {
		if s.Other {
			if !slices.Contains(s.Except, pkt.Proto) {
				return true
			}
			continue
		}
		if s.Proto != pkt.Proto || !inRanges(s.DstPorts, pkt.DstPort) {
			continue
		}
		if s.SrcPorts == nil || inRanges(s.SrcPorts, pkt.SrcPort) {
			return true
		}
	}
	return false
}

func inRanges(rs []lang.PortRange, p uint16) bool {
	for _, r := range rs {
		if r.Contains(p) {
			return true
		}
	}
	return false
}

// merge folds the differing classes into the fewest lines it can find:
// adjacent port classes first, then source ports, then every protocol of
// one source/destination pair into one service list, then sources with
// the same change and services, then destinations, then zones.
func (s *space) merge(cells []cell, changes []change, newBlocks map[string]bool) []Change {
	// 1. destination ports.
	type k1 struct{ zone, src, dst, proto, sp, ch int }
	dps := map[k1][]int{}
	var order1 []k1
	for _, c := range cells {
		k := k1{c.zone, c.src, c.dst, c.proto, c.sp, c.ch}
		if _, ok := dps[k]; !ok {
			order1 = append(order1, k)
		}
		dps[k] = append(dps[k], c.dp)
	}
	// 2. source ports with the same destination ports.
	type k2 struct {
		zone, src, dst, proto, ch int
		dports                    string
	}
	type v2 struct {
		dports []lang.PortRange
		sps    []int
	}
	m2 := map[k2]*v2{}
	var order2 []k2
	for _, k := range order1 {
		rs := joinClasses(s.dports[k.proto], dps[k])
		key := k2{k.zone, k.src, k.dst, k.proto, k.ch, rangesKey(rs)}
		v, ok := m2[key]
		if !ok {
			v = &v2{dports: rs}
			m2[key] = v
			order2 = append(order2, key)
		}
		v.sps = append(v.sps, k.sp)
	}
	// 3. every service of one (zone, source, destination, change).
	type k3 struct{ zone, src, dst, ch int }
	svcs := map[k3][]Service{}
	var order3 []k3
	for _, k := range order2 {
		v := m2[k]
		sv := Service{Proto: s.protos[k.proto], Other: k.proto == s.other, DstPorts: v.dports}
		if sv.Other {
			sv.DstPorts, sv.Except = nil, s.protos[:s.other]
		} else if srs := joinClasses(s.sports[k.proto], v.sps); !(len(srs) == 1 && srs[0] == lang.PortRange{First: 1, Last: 65535}) {
			sv.SrcPorts = srs
		}
		key := k3{k.zone, k.src, k.dst, k.ch}
		if _, ok := svcs[key]; !ok {
			order3 = append(order3, key)
		}
		svcs[key] = append(svcs[key], sv)
	}
	// 4. sources with the same destination, change and services.
	type k4 struct {
		zone, dst, ch int
		svc           string
	}
	srcs := map[k4][]int{}
	svcOf := map[string][]Service{}
	var order4 []k4
	for _, k := range order3 {
		list := svcs[k]
		sortServices(list)
		sk := servicesKey(list)
		svcOf[sk] = list
		key := k4{k.zone, k.dst, k.ch, sk}
		if _, ok := srcs[key]; !ok {
			order4 = append(order4, key)
		}
		srcs[key] = append(srcs[key], k.src)
	}
	// 5. destinations with the same sources, change and services.
	type k5 struct {
		zone, ch int
		src, svc string
	}
	dsts := map[k5][]int{}
	srcOf := map[string][]int{}
	var order5 []k5
	for _, k := range order4 {
		var ids []int
		for _, g := range srcs[k] {
			ids = append(ids, s.srcGroups[k.zone][g]...)
		}
		slices.Sort(ids)
		sk := joinInts(ids)
		srcOf[sk] = ids
		key := k5{k.zone, k.ch, sk, k.svc}
		if _, ok := dsts[key]; !ok {
			order5 = append(order5, key)
		}
		dsts[key] = append(dsts[key], k.dst)
	}
	// 6. the two families' halves of one change: sources of each family
	// meet destinations of their own family only, so a v4 half and a v6
	// half with the same services are one line, exactly, when both or
	// neither reach the gateway itself.
	type half struct {
		k5
		dsts    []int
		v6, gw  bool
		srcIDs  []int
		removed bool
	}
	type k6a struct {
		zone, ch int
		svc      string
	}
	halves := map[k6a][]*half{}
	var order6a []k6a
	for _, k := range order5 {
		var ids []int
		for _, g := range dsts[k] {
			if g < 0 {
				ids = append(ids, g)
				continue
			}
			ids = append(ids, s.dstGroups[k.zone][g]...)
		}
		slices.Sort(ids)
		h := &half{k5: k, dsts: ids, srcIDs: srcOf[k.src]}
		h.v6 = s.src.classes[h.srcIDs[0]].v6
		h.gw = ids[0] < 0
		key := k6a{k.zone, k.ch, k.svc}
		if _, ok := halves[key]; !ok {
			order6a = append(order6a, key)
		}
		halves[key] = append(halves[key], h)
	}
	// 7. run-time memberships (banned, trusted), then zones, with the same
	// everything else.
	type k7 struct {
		ch, zone      int
		src, dst, svc string
	}
	dynsOf := map[k7][]int{}
	srcOf2, dstOf := map[string][]int{}, map[string][]int{}
	var order7 []k7
	addLine := func(zone, ch int, svc string, srcIDs, dstIDs []int) {
		srcIDs, dstIDs = slices.Clone(srcIDs), slices.Clone(dstIDs)
		slices.Sort(srcIDs)
		slices.Sort(dstIDs)
		sk, dk := joinInts(srcIDs), joinInts(dstIDs)
		srcOf2[sk], dstOf[dk] = srcIDs, dstIDs
		key := k7{ch, zone / len(s.dyns), sk, dk, svc}
		if _, ok := dynsOf[key]; !ok {
			order7 = append(order7, key)
		}
		dynsOf[key] = append(dynsOf[key], zone%len(s.dyns))
	}
	for _, key := range order6a {
		hs := halves[key]
		for _, a := range hs {
			if a.removed || a.v6 {
				continue
			}
			for _, b := range hs {
				if !b.removed && b.v6 && b.gw == a.gw {
					b.removed, a.removed = true, true
					addLine(key.zone, key.ch, key.svc, append(slices.Clone(a.srcIDs), b.srcIDs...), append(slices.Clone(a.dsts), b.dsts...))
					break
				}
			}
		}
		for _, h := range hs {
			if !h.removed {
				addLine(key.zone, key.ch, key.svc, h.srcIDs, h.dsts)
			}
		}
	}
	type k6 struct {
		ch                  int
		dyns, src, dst, svc string
	}
	zones := map[k6][]int{}
	dynOf := map[string][]int{}
	var order6 []k6
	for _, k := range order7 {
		ds := dynsOf[k]
		slices.Sort(ds)
		dk := joinInts(ds)
		dynOf[dk] = ds
		key := k6{k.ch, dk, k.src, k.dst, k.svc}
		if _, ok := zones[key]; !ok {
			order6 = append(order6, key)
		}
		zones[key] = append(zones[key], k.zone)
	}
	out := make([]Change, 0, len(order6))
	for _, k := range order6 {
		ch := changes[k.ch]
		c := Change{Old: ch.Old, New: ch.New, OldBy: ch.OldBy, NewBy: ch.NewBy, Services: svcOf[k.svc]}
		c.OldByGone = ch.OldBy.Pos != "" && !newBlocks[ch.OldBy.Block]
		switch {
		case !ch.Old.passes() && ch.New.passes():
			c.Kind = Opened
		case ch.Old.passes() && !ch.New.passes():
			c.Kind = Shut
		default:
			c.Kind = Changed
		}
		zs := zones[k]
		slices.Sort(zs)
		for _, z := range zs {
			c.Zones = append(c.Zones, s.zones[z])
		}
		for _, d := range dynOf[k.dyns] {
			c.When = append(c.When, s.dyns[d])
		}
		c.AllWhen = len(c.When) == len(s.dyns)
		c.Src = s.src.union(srcOf2[k.src])
		var dids []int
		for _, d := range dstOf[k.dst] {
			if d < 0 {
				c.Gateway = true
			} else {
				dids = append(dids, d)
			}
		}
		c.Dst = s.dst.union(dids)
		out = append(out, c)
	}
	sortChanges(out, s.zones)
	return out
}

// joinClasses merges the port classes at the given indices into ranges
// (classes are consecutive: neighbouring indices are adjacent ranges).
func joinClasses(classes []lang.PortRange, idx []int) []lang.PortRange {
	idx = slices.Clone(idx)
	slices.Sort(idx)
	var out []lang.PortRange
	for _, i := range idx {
		r := classes[i]
		if n := len(out); n > 0 && int(out[n-1].Last)+1 == int(r.First) {
			out[n-1].Last = r.Last
			continue
		}
		out = append(out, r)
	}
	return out
}

func rangesKey(rs []lang.PortRange) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.String())
		b.WriteByte(' ')
	}
	return b.String()
}

func servicesKey(list []Service) string {
	var b strings.Builder
	for _, s := range list {
		b.WriteString(s.Proto.String())
		b.WriteByte(':')
		b.WriteString(rangesKey(s.SrcPorts))
		b.WriteByte('>')
		b.WriteString(rangesKey(s.DstPorts))
		b.WriteByte(';')
	}
	return b.String()
}

func sortServices(list []Service) {
	slices.SortFunc(list, func(a, b Service) int {
		if a.Other != b.Other {
			if a.Other {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), strings.Compare(rangesKey(a.SrcPorts), rangesKey(b.SrcPorts)))
	})
}

func kindRank(k Kind) int {
	switch k {
	case Opened:
		return 0
	case Shut:
		return 1
	}
	return 2
}

// sortChanges: openings first, then what is shut, then the rest; within a
// kind by zone, source, destination.
func sortChanges(cs []Change, zones []string) {
	first := func(s Addrs) netip.Addr {
		if len(s) > 0 {
			return s[0].From()
		}
		return netip.Addr{}
	}
	slices.SortStableFunc(cs, func(a, b Change) int {
		return cmp.Or(
			cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)),
			cmp.Compare(zoneIndex(zones, a.Zones[0]), zoneIndex(zones, b.Zones[0])),
			boolRank(a.AllWhen, b.AllWhen),
			boolRank(!a.When[0].Banned, !b.When[0].Banned),
			boolRank(!a.When[0].Trusted, !b.When[0].Trusted),
			first(a.Src).Compare(first(b.Src)),
			boolRank(a.Gateway, b.Gateway),
			first(a.Dst).Compare(first(b.Dst)),
			strings.Compare(servicesText(a.Services), servicesText(b.Services)),
		)
	})
}

func boolRank(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}
