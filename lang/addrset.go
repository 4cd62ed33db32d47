package lang

import (
	"net/netip"
	"slices"
	"sort"
	"sync"

	"go4.org/netipx"
)

// AddrSet is a merged, overlap-free, non-adjacent set of addresses.
// Ranges are what backends render (nft prints a range that is exactly a
// prefix as that prefix); Prefixes are there for targets that need CIDRs.
// The ranges are computed once; slices returned are shared, read-only.
// Contains and Overlaps search the sorted ranges; the netipx form is built
// only when a caller asks for it (IPSet): for a million-entry blocklist that
// build costs more than reading the file, and compile and apply never need it.
type AddrSet struct {
	rs    []netipx.IPRange // sorted: IPv4 first, then IPv6
	split int              // index of the first IPv6 range
	set   *lazyIPSet
}

// lazyIPSet is an AddrSet's netipx form, built on first use and shared by
// the AddrSet's copies.
type lazyIPSet struct {
	once sync.Once
	set  *netipx.IPSet
}

// NewAddrSet merges prefixes with netipx (overlaps and adjacency removed).
func NewAddrSet(prefixes ...netip.Prefix) AddrSet {
	var b netipx.IPSetBuilder
	for _, p := range prefixes {
		b.AddPrefix(p)
	}
	s, _ := b.IPSet() // only errors on invalid prefixes, which lang never passes in
	return AddrSetOf(s)
}

// AddrSetOf wraps an already built IPSet.
func AddrSetOf(s *netipx.IPSet) AddrSet {
	if s == nil {
		return AddrSet{}
	}
	a := addrSetOfRanges(s.Ranges())
	a.set.once.Do(func() { a.set.set = s })
	return a
}

// addrSetOfRanges wraps ranges that are already sorted, merged and
// non-adjacent (IPv4 before IPv6, as netip.Addr.Compare orders them).
func addrSetOfRanges(rs []netipx.IPRange) AddrSet {
	split := sort.Search(len(rs), func(i int) bool { return rs[i].From().Is6() })
	return AddrSet{rs: rs, split: split, set: &lazyIPSet{}}
}

// IPSet is the underlying netipx set (never nil).
func (a AddrSet) IPSet() *netipx.IPSet {
	if a.set == nil {
		return &netipx.IPSet{}
	}
	a.set.once.Do(func() {
		var b netipx.IPSetBuilder
		for _, r := range a.rs {
			b.AddRange(r)
		}
		a.set.set, _ = b.IPSet() // valid ranges only
	})
	return a.set.set
}

func (a AddrSet) Empty() bool { return len(a.rs) == 0 }

// Contains reports whether ip (an IPv4-mapped IPv6 address counts as IPv4)
// is in the set.
func (a AddrSet) Contains(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return false
	}
	i := sort.Search(len(a.rs), func(i int) bool { return a.rs[i].To().Compare(ip) >= 0 })
	return i < len(a.rs) && a.rs[i].From().Compare(ip) <= 0
}

// OverlapsPrefix reports whether the set holds an address of p.
func (a AddrSet) OverlapsPrefix(p netip.Prefix) bool {
	if !p.IsValid() {
		return false
	}
	p = p.Masked()
	from, to := p.Addr(), netipx.PrefixLastIP(p)
	i := sort.Search(len(a.rs), func(i int) bool { return a.rs[i].To().Compare(from) >= 0 })
	return i < len(a.rs) && a.rs[i].From().Compare(to) <= 0
}

// Ranges returns the merged ranges of one family (v6=false: IPv4). The
// slice is shared: do not modify it.
func (a AddrSet) Ranges(v6 bool) []netipx.IPRange {
	if v6 {
		return a.rs[a.split:len(a.rs):len(a.rs)]
	}
	return a.rs[:a.split:a.split]
}

// Prefixes returns the minimal CIDR cover of one family.
func (a AddrSet) Prefixes(v6 bool) []netip.Prefix {
	var out []netip.Prefix
	for _, r := range a.Ranges(v6) {
		out = r.AppendPrefixes(out)
	}
	return out
}

// Equal reports whether the two sets hold the same addresses: the ranges
// are merged and sorted, so equal sets have equal range lists.
func (a AddrSet) Equal(b AddrSet) bool { return slices.Equal(a.rs, b.rs) }

// Has reports whether the set has addresses of that family.
func (a AddrSet) Has(v6 bool) bool { return len(a.Ranges(v6)) > 0 }

// Count is the number of merged ranges of one family.
func (a AddrSet) Count(v6 bool) int { return len(a.Ranges(v6)) }

// Overlaps reports whether the two sets share an address: one walk over
// both sorted range lists.
func (a AddrSet) Overlaps(b AddrSet) bool {
	x, y := a.rs, b.rs
	for len(x) > 0 && len(y) > 0 {
		switch {
		case x[0].To().Compare(y[0].From()) < 0:
			x = x[1:]
		case y[0].To().Compare(x[0].From()) < 0:
			y = y[1:]
		default:
			return true
		}
	}
	return false
}
