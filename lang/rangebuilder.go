package lang

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"go4.org/netipx"
)

// PrefixAdder takes blocklist entries (netipx.IPSetBuilder is one).
type PrefixAdder interface{ AddPrefix(netip.Prefix) }

// rangeBuilder collects a blocklist's entries and merges them itself:
// netipx.IPSetBuilder sorts its input with sort.Slice (reflection, most of
// the load time at a million entries) and copies its ranges again when it
// builds; a typed sort and one merge give the AddrSet's ranges directly.
type rangeBuilder struct {
	v4 []uint64 // from<<32 | to
	v6 []netipx.IPRange
}

func (b *rangeBuilder) AddPrefix(p netip.Prefix) {
	if a := p.Addr(); a.Is4() && p.Bits() >= 0 {
		// The common case, in integers (RangeOfPrefix validates and
		// builds netip.Addrs that would be taken apart again).
		v := a.As4()
		host := uint64(1)<<(32-p.Bits()) - 1
		from := uint64(binary.BigEndian.Uint32(v[:])) &^ host
		b.v4 = append(b.v4, from<<32|(from|host))
		return
	}
	r := netipx.RangeOfPrefix(p)
	switch {
	case !r.IsValid():
	case r.From().Is4():
		f, t := r.From().As4(), r.To().As4()
		b.v4 = append(b.v4, uint64(binary.BigEndian.Uint32(f[:]))<<32|uint64(binary.BigEndian.Uint32(t[:])))
	default:
		b.v6 = append(b.v6, r)
	}
}

// AddrSet merges overlapping and adjacent ranges, as IPSetBuilder does.
// IPv4 ranges are sorted as integers (most blocklists are IPv4, and
// netip.Addr comparisons dominate a generic sort of a million entries).
func (b *rangeBuilder) AddrSet() AddrSet {
	v4, v6 := b.v4, b.v6
	b.v4, b.v6 = nil, nil
	slices.Sort(v4)
	slices.SortFunc(v6, func(x, y netipx.IPRange) int {
		if c := x.From().Compare(y.From()); c != 0 {
			return c
		}
		return x.To().Compare(y.To())
	})
	out := make([]netipx.IPRange, 0, len(v4)+len(v6))
	// IPv4: merge in integer space (to+1 == next from: adjacent).
	var from, to uint64
	for i, k := range v4 {
		f, t := k>>32, k&0xffffffff
		if i > 0 && f <= to+1 {
			to = max(to, t)
			continue
		}
		if i > 0 {
			out = append(out, v4Range(from, to))
		}
		from, to = f, t
	}
	if len(v4) > 0 {
		out = append(out, v4Range(from, to))
	}
	var last netipx.IPRange
	for _, r := range v6 {
		if last.IsValid() && (r.From().Compare(last.To()) <= 0 || last.To().Next() == r.From()) {
			if r.To().Compare(last.To()) > 0 {
				last = netipx.IPRangeFrom(last.From(), r.To())
			}
			continue
		}
		if last.IsValid() {
			out = append(out, last)
		}
		last = r
	}
	if last.IsValid() {
		out = append(out, last)
	}
	return addrSetOfRanges(out)
}

func v4Range(from, to uint64) netipx.IPRange {
	var f, t [4]byte
	binary.BigEndian.PutUint32(f[:], uint32(from))
	binary.BigEndian.PutUint32(t[:], uint32(to))
	return netipx.IPRangeFrom(netip.AddrFrom4(f), netip.AddrFrom4(t))
}
