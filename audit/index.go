package audit

import (
	"net/netip"
	"slices"

	"github.com/voicewall/voicewall/devmodel"
	"go4.org/netipx"
)

// The device's rules and forwards indexed by destination, built once per
// audit: the checks of one suspect (a rule or forward open to any source)
// look up the few rules and forwards that may concern its packets instead
// of walking every one, so that n suspects cost in proportion to n, not to
// its square.

// stabber answers "which elements have an address range holding a"
// (a segment tree over the classes of addresses the ranges tell apart).
type stabber struct {
	classes []netip.Addr // sorted, unique: the first address of each class
	size    int          // leaves, a power of two
	nodes   [][]int32    // the elements whose ranges cover a node's classes
}

type stabRange struct {
	r  netipx.IPRange
	el int
}

func newStabber(rs []stabRange) *stabber {
	st := &stabber{}
	seen := map[netip.Addr]bool{}
	add := func(a netip.Addr) {
		if a.IsValid() && !seen[a] {
			seen[a] = true
			st.classes = append(st.classes, a)
		}
	}
	for _, x := range rs {
		add(x.r.From())
		add(x.r.To().Next())
	}
	slices.SortFunc(st.classes, func(a, b netip.Addr) int { return a.Compare(b) })
	st.size = 1
	for st.size < len(st.classes) {
		st.size *= 2
	}
	st.nodes = make([][]int32, 2*st.size)
	for _, x := range rs {
		lo := st.class(x.r.From())
		hi := len(st.classes) - 1
		if n := x.r.To().Next(); n.IsValid() {
			hi = st.class(n) - 1
		}
		for l, r := lo+st.size, hi+st.size+1; l < r; l, r = l/2, r/2 {
			if l&1 == 1 {
				st.nodes[l] = append(st.nodes[l], int32(x.el))
				l++
			}
			if r&1 == 1 {
				r--
				st.nodes[r] = append(st.nodes[r], int32(x.el))
			}
		}
	}
	return st
}

// class is the index of the class holding a (-1: below every range).
func (st *stabber) class(a netip.Addr) int {
	i, found := slices.BinarySearchFunc(st.classes, a, func(x, y netip.Addr) int { return x.Compare(y) })
	if found {
		return i
	}
	return i - 1
}

// lists are the node lists on the path to a's class: together the
// elements whose ranges hold a, each list in the elements' order (they
// were inserted in it).
func (st *stabber) lists(a netip.Addr) [][]int32 {
	c := st.class(a)
	if c < 0 || len(st.classes) == 0 {
		return nil
	}
	var out [][]int32
	for n := c + st.size; n >= 1; n /= 2 {
		if len(st.nodes[n]) > 0 {
			out = append(out, st.nodes[n])
		}
	}
	return out
}

// count is how many elements' ranges hold a.
func (st *stabber) count(a netip.Addr) int {
	n := 0
	for _, l := range st.lists(a) {
		n += len(l)
	}
	return n
}

// stab appends the elements whose ranges hold a.
func (st *stabber) stab(a netip.Addr, out []int) []int {
	c := st.class(a)
	if c < 0 || len(st.classes) == 0 {
		return out
	}
	for n := c + st.size; n >= 1; n /= 2 {
		for _, el := range st.nodes[n] {
			out = append(out, int(el))
		}
	}
	return out
}

// addrIndex indexes elements by an address set: the ones that hold every
// address, the ones that hold the device itself, and the rest by range.
type addrIndex struct {
	any, self     []int
	any32, self32 []int32 // the same, for walkMerged
	ranges        *stabber
}

func newAddrIndex(n int, addr func(int) devmodel.Addr) addrIndex {
	var ix addrIndex
	var rs []stabRange
	for i := 0; i < n; i++ {
		x := addr(i)
		if x.Any {
			ix.any = append(ix.any, i)
			continue
		}
		if x.Self {
			ix.self = append(ix.self, i)
		}
		if x.Set != nil {
			for _, r := range x.Set.Ranges() {
				rs = append(rs, stabRange{r, i})
			}
		}
	}
	ix.ranges = newStabber(rs)
	ix.any32, ix.self32 = int32s(ix.any), int32s(ix.self)
	return ix
}

// holding appends the elements whose set holds a (the invalid address: the
// device itself), exactly as devmodel.Addr.Contains decides.
func (ix *addrIndex) holding(a netip.Addr, out []int) []int {
	out = append(out, ix.any...)
	if !a.IsValid() {
		return append(out, ix.self...)
	}
	return ix.ranges.stab(a.Unmap(), out)
}

// portIndex is forwards by port: the ones of every port, and the rest by
// their port ranges (a port p stands as the address 0.p: the stabber
// works on addresses).
type portIndex struct {
	every []int32
	ports *stabber
}

func portAddr(p uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{0, byte(p >> 16), byte(p >> 8), byte(p)})
}

// walkMerged walks sorted lists of element indices together in order (an
// index in several lists once), until fn returns false.
func walkMerged(ls [][]int32, fn func(int) bool) {
	pos := make([]int, len(ls))
	last := -1
	for {
		best := -1
		for i, l := range ls {
			for pos[i] < len(l) && int(l[pos[i]]) <= last {
				pos[i]++
			}
			if pos[i] < len(l) && (best < 0 || l[pos[i]] < ls[best][pos[best]]) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		last = int(ls[best][pos[best]])
		if !fn(last) {
			return
		}
	}
}

func int32s(x []int) []int32 {
	out := make([]int32, len(x))
	for i, v := range x {
		out[i] = int32(v)
	}
	return out
}

// index is the device's rules and forwards by destination and name.
type index struct {
	ruleDst   addrIndex        // rules by destination
	ruleNamed map[string][]int // rules by the forwards (VIPs) they name
	ruleAt    map[*devmodel.Rule]int
	fwdExt    [2]addrIndex     // forwards by external address, taking IPv4 [0] and IPv6 [1]
	fwdPort   [2]portIndex     // and by port
	fwdNamed  map[string][]int // forwards by name
	fwdTo     []int            // forwards with an address, by it
	fwdNoTo   []int            // forwards without one
	fwdAt     map[*devmodel.Forward]int
	rateRules []int // accepts carrying a per-source rate limit
}

func newIndex(d *devmodel.Device) *index {
	ix := &index{ruleNamed: map[string][]int{}, ruleAt: map[*devmodel.Rule]int{}, fwdNamed: map[string][]int{}, fwdAt: map[*devmodel.Forward]int{}}
	ix.ruleDst = newAddrIndex(len(d.Rules), func(i int) devmodel.Addr { return d.Rules[i].Dst })
	for i, r := range d.Rules {
		ix.ruleAt[r] = i
		for _, n := range dedup(r.DstForwards) {
			ix.ruleNamed[n] = append(ix.ruleNamed[n], i)
		}
		if r.RateLimited && r.Action == devmodel.Accept {
			ix.rateRules = append(ix.rateRules, i)
		}
	}
	for k, fam := range []bool{true, false} {
		ix.fwdExt[k] = newAddrIndex(len(d.Forwards), func(i int) devmodel.Addr {
			f := d.Forwards[i]
			if f.To.IsValid() && f.To.Unmap().Is4() != fam {
				return devmodel.Addr{} // a forward to a host of the other family takes none of this one
			}
			return f.Ext
		})
	}
	for k := range ix.fwdPort {
		var rs []stabRange
		for i, f := range d.Forwards {
			if f.To.IsValid() && f.To.Unmap().Is4() != (k == 0) {
				continue
			}
			if f.Ports == nil {
				ix.fwdPort[k].every = append(ix.fwdPort[k].every, int32(i))
				continue
			}
			for _, r := range f.Ports {
				rs = append(rs, stabRange{netipx.IPRangeFrom(portAddr(uint32(r.Lo)), portAddr(uint32(r.Hi))), i})
			}
		}
		ix.fwdPort[k].ports = newStabber(rs)
	}
	for i, f := range d.Forwards {
		ix.fwdAt[f] = i
		ix.fwdNamed[f.Name] = append(ix.fwdNamed[f.Name], i)
		if f.To.IsValid() {
			ix.fwdTo = append(ix.fwdTo, i)
		} else {
			ix.fwdNoTo = append(ix.fwdNoTo, i)
		}
	}
	slices.SortStableFunc(ix.fwdTo, func(a, b int) int { return d.Forwards[a].To.Unmap().Compare(d.Forwards[b].To.Unmap()) })
	return ix
}

// sortedUnique sorts element indices and drops repeats: the device's order.
func sortedUnique(x []int) []int {
	slices.Sort(x)
	return slices.Compact(x)
}

// fwdsNamed: the forwards named (in the device's order).
func (c *checker) fwdsNamed(names []string) []*devmodel.Forward {
	var at []int
	for _, n := range names {
		at = append(at, c.ix.fwdNamed[n]...)
	}
	at = sortedUnique(at)
	out := make([]*devmodel.Forward, len(at))
	for i, k := range at {
		out[i] = c.d.Forwards[k]
	}
	return out
}

// fwdsTo: the forwards whose address x holds (x.Contains(f.To)), in the
// device's order.
func (c *checker) fwdsTo(x devmodel.Addr) []int {
	if x.Any {
		out := make([]int, len(c.d.Forwards))
		for i := range out {
			out[i] = i
		}
		return out
	}
	var out []int
	if x.Self {
		out = append(out, c.ix.fwdNoTo...)
	}
	if x.Set != nil {
		fs := c.d.Forwards
		for _, r := range x.Set.Ranges() {
			i, _ := slices.BinarySearchFunc(c.ix.fwdTo, r.From(), func(k int, a netip.Addr) int { return fs[k].To.Unmap().Compare(a) })
			for ; i < len(c.ix.fwdTo) && fs[c.ix.fwdTo[i]].To.Unmap().Compare(r.To()) <= 0; i++ {
				out = append(out, c.ix.fwdTo[i])
			}
		}
	}
	return sortedUnique(out)
}

// rulesAt: the rules at the indices, in the device's order.
func (c *checker) rulesAt(at []int) []*devmodel.Rule {
	at = sortedUnique(at)
	out := make([]*devmodel.Rule, len(at))
	for i, k := range at {
		out[i] = c.d.Rules[k]
	}
	return out
}

// narrow is the space's device with only the rules and forwards that may
// take one of the targets' packets (before or after destination NAT): a
// rule or forward that can take none of the suspect's packets changes none
// of their verdicts, so evaluating them on it is exact. Of the forwards
// that may take a packet to a destination, the ones after the first that
// takes every such packet of a family are left out (the device applies
// the first forward that takes a packet).
func (c *checker) narrow(sp *space, ifs []string, ts []target) *devmodel.Device {
	type key struct {
		dst netip.Addr
		fam int
	}
	byDst := map[key][]target{}
	var keys []key
	for _, t := range ts {
		fams := []int{t.fam}
		switch {
		case t.dst.IsValid() && t.dst.Unmap().Is4():
			fams = []int{4}
		case t.dst.IsValid():
			fams = []int{6}
		case t.fam == 0:
			fams = []int{4, 6}
		}
		for _, fam := range fams {
			if t.fam != 0 && t.fam != fam {
				continue
			}
			k := key{t.dst, fam}
			if byDst[k] == nil {
				keys = append(keys, k)
			}
			byDst[k] = append(byDst[k], t)
		}
	}
	var fw []int
	for _, k := range keys {
		for _, t := range byDst[k] {
			for _, port := range t.ports {
				one := []target{{k.dst, t.proto, []uint16{port}, k.fam}}
				c.walkFwds(k.dst, k.fam, t.proto, port, func(i int) bool {
					fw = append(fw, i)
					return !c.fwdTakesAll(c.d.Forwards[i], ifs, one)
				})
			}
		}
	}
	fw = sortedUnique(fw)
	sub := *sp.d
	sub.Forwards = make([]*devmodel.Forward, 0, len(fw))
	var rs []int
	done := map[netip.Addr]bool{}
	post := func(a netip.Addr) {
		if !done[a] {
			done[a] = true
			rs = c.ix.ruleDst.holding(a, rs)
		}
	}
	for _, t := range ts {
		post(t.dst)
	}
	for _, k := range fw {
		f := c.d.Forwards[k]
		sub.Forwards = append(sub.Forwards, f)
		post(f.To)
		rs = append(rs, c.ix.ruleNamed[f.Name]...)
	}
	rs = sortedUnique(rs)
	sub.Rules = make([]*devmodel.Rule, 0, len(rs))
	for _, k := range rs {
		if r := c.d.Rules[k]; sp.has[r] {
			sub.Rules = append(sub.Rules, r)
		}
	}
	return &sub
}

// fwdTakesAll: forward f takes every packet of the targets (to one
// destination, of one family) arriving on ifs from any source.
func (c *checker) fwdTakesAll(f *devmodel.Forward, ifs []string, ts []target) bool {
	if f.Disabled || !f.Src.Any {
		return false
	}
	for _, i := range ifs {
		if len(f.In) > 0 && !slices.Contains(f.In, i) && !slices.Contains(f.In, "any") || f.InRole != "" && c.d.IsWAN(i) != (f.InRole == "wan") {
			return false
		}
		if f.InRole != "" && f.InRole != "wan" {
			return false
		}
	}
	for _, t := range ts {
		if f.Proto != 0 && f.Proto != t.proto {
			return false
		}
		for _, p := range t.ports {
			if !f.Ports.Contains(p) {
				return false
			}
		}
	}
	return true
}

// walkFwds calls fn with each forward, in the device's order, that may
// take a packet of the family to dst on proto/port (its external address
// holds dst, its protocol and ports the packet's), until fn returns false.
// It walks the shorter of the forwards by address and by port.
func (c *checker) walkFwds(dst netip.Addr, fam int, proto uint8, port uint16, fn func(int) bool) {
	ext, pi := &c.ix.fwdExt[fam/6], &c.ix.fwdPort[fam/6]
	pa := portAddr(uint32(port))
	var ls [][]int32
	byExt := len(ext.any)
	if dst.IsValid() {
		byExt += ext.ranges.count(dst.Unmap())
	} else {
		byExt += len(ext.self)
	}
	if byExt <= len(pi.every)+pi.ports.count(pa) {
		ls = append(ls, ext.any32)
		if dst.IsValid() {
			ls = append(ls, ext.ranges.lists(dst.Unmap())...)
		} else {
			ls = append(ls, ext.self32)
		}
	} else {
		ls = append(ls, pi.every)
		ls = append(ls, pi.ports.lists(pa)...)
	}
	walkMerged(ls, func(k int) bool {
		f := c.d.Forwards[k]
		if f.Disabled || !f.Ext.Contains(dst) || f.Proto != 0 && f.Proto != proto || !f.Ports.Contains(port) {
			return true
		}
		return fn(k)
	})
}
