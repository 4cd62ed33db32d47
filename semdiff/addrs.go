package semdiff

import (
	"net/netip"
	"slices"
	"sort"

	"go4.org/netipx"
)

// Addrs is a set of addresses as sorted, merged, non-adjacent ranges
// (IPv4 before IPv6). Every operation is one walk over the lists: a
// blocklist's 100,000 ranges are never rebuilt into another structure.
type Addrs []netipx.IPRange

// Contains reports whether a is in the set.
func (s Addrs) Contains(a netip.Addr) bool {
	a = a.Unmap()
	i := sort.Search(len(s), func(i int) bool { return s[i].To().Compare(a) >= 0 })
	return i < len(s) && s[i].From().Compare(a) <= 0
}

// Family is the set's ranges of one family.
func (s Addrs) Family(v6 bool) Addrs {
	i := sort.Search(len(s), func(i int) bool { return s[i].From().Is6() })
	if v6 {
		return s[i:]
	}
	return s[:i]
}

// Equal reports whether both hold the same addresses.
func (s Addrs) Equal(t Addrs) bool {
	return slices.Equal(s, t)
}

// Subset reports whether every address of s is in t.
func (s Addrs) Subset(t Addrs) bool {
	j := 0
	for _, r := range s {
		for j < len(t) && t[j].To().Compare(r.From()) < 0 {
			j++
		}
		if j == len(t) || t[j].From().Compare(r.From()) > 0 || t[j].To().Compare(r.To()) < 0 {
			return false
		}
	}
	return true
}

// Union is the addresses of s and t.
func (s Addrs) Union(t Addrs) Addrs {
	out := make(Addrs, 0, len(s)+len(t))
	add := func(r netipx.IPRange) {
		if n := len(out); n > 0 && out[n-1].From().Is6() == r.From().Is6() {
			last := out[n-1]
			if next := last.To().Next(); next.IsValid() && next.Compare(r.From()) >= 0 || last.To().Compare(r.From()) >= 0 {
				if r.To().Compare(last.To()) > 0 {
					out[n-1] = netipx.IPRangeFrom(last.From(), r.To())
				}
				return
			}
		}
		out = append(out, r)
	}
	i, j := 0, 0
	for i < len(s) || j < len(t) {
		if j == len(t) || i < len(s) && s[i].From().Compare(t[j].From()) <= 0 {
			add(s[i])
			i++
		} else {
			add(t[j])
			j++
		}
	}
	return out
}

// complement is what a family's full range holds that rs (of that family) does not.
func complement(rs Addrs, all netipx.IPRange) Addrs {
	var out Addrs
	next := all.From()
	for _, r := range rs {
		if r.From().Compare(next) > 0 {
			out = append(out, netipx.IPRangeFrom(next, r.From().Prev()))
		}
		next = r.To().Next()
		if !next.IsValid() || r.To() == all.To() {
			return out
		}
	}
	return append(out, netipx.IPRangeFrom(next, all.To()))
}

// addrsOf is an address set's ranges as Addrs.
func addrsOf(v4, v6 []netipx.IPRange) Addrs {
	out := make(Addrs, 0, len(v4)+len(v6))
	return append(append(out, v4...), v6...)
}

// size is how many addresses the set holds, roughly (a float: IPv6 sets
// outgrow every integer type); for ordering sets by size.
func (s Addrs) size() float64 {
	var n float64
	for _, r := range s {
		fh, fl := u128(r.From())
		th, tl := u128(r.To())
		n += (float64(th)-float64(fh))*(1<<64) + float64(tl) - float64(fl) + 1
	}
	return n
}
