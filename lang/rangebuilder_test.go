package lang

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"go4.org/netipx"
)

// randomPrefix: IPv4 near both ends of the space, or IPv6 in 2001::/16.
func randomPrefix(r *rand.Rand) netip.Prefix {
	if r.IntN(4) == 0 {
		var a [16]byte
		a[0], a[1], a[15] = 0x20, 0x01, byte(r.IntN(256))
		a[14] = byte(r.IntN(4))
		return netip.PrefixFrom(netip.AddrFrom16(a), 112+r.IntN(17)).Masked()
	}
	a := [4]byte{byte(r.IntN(2) * 255), 0, byte(r.IntN(3)), byte(r.IntN(256))}
	return netip.PrefixFrom(netip.AddrFrom4(a), 22+r.IntN(11)).Masked()
}

// rangeBuilder merges exactly as netipx.IPSetBuilder does, and the
// AddrSet it gives answers Contains, Overlaps and IPSet as netipx does.
func TestRangeBuilderMatchesIPSetBuilder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var prev *netipx.IPSet
	var prevSet AddrSet
	for round := 0; round < 200; round++ {
		var rb rangeBuilder
		var ib netipx.IPSetBuilder
		for i := r.IntN(300); i > 0; i-- {
			p := randomPrefix(r)
			rb.AddPrefix(p)
			ib.AddPrefix(p)
		}
		got := rb.AddrSet()
		want, err := ib.IPSet()
		if err != nil {
			t.Fatal(err)
		}
		g, w := append(got.Ranges(false), got.Ranges(true)...), want.Ranges()
		if len(g) != len(w) {
			t.Fatalf("round %d: %d ranges, IPSetBuilder %d", round, len(g), len(w))
		}
		for i := range g {
			if g[i] != w[i] {
				t.Fatalf("round %d: range %d %v, IPSetBuilder %v", round, i, g[i], w[i])
			}
		}
		if built := got.IPSet().Ranges(); !slices.Equal(built, w) {
			t.Fatalf("round %d: IPSet() %v, IPSetBuilder %v", round, built, w)
		}
		for i := 0; i < 50; i++ {
			p := randomPrefix(r)
			for _, a := range []netip.Addr{p.Addr(), netip.AddrFrom16(p.Addr().As16())} {
				if got.Contains(a) != want.Contains(a.Unmap()) {
					t.Fatalf("round %d: Contains(%v) = %v, netipx %v", round, a, got.Contains(a), want.Contains(a.Unmap()))
				}
			}
			if got.OverlapsPrefix(p) != want.OverlapsPrefix(p) {
				t.Fatalf("round %d: OverlapsPrefix(%v) = %v, netipx %v", round, p, !want.OverlapsPrefix(p), want.OverlapsPrefix(p))
			}
		}
		if prev != nil && got.Overlaps(prevSet) != want.Overlaps(prev) {
			t.Fatalf("round %d: Overlaps = %v, netipx %v", round, !want.Overlaps(prev), want.Overlaps(prev))
		}
		prev, prevSet = want, got
	}
	if (AddrSet{}).Contains(netip.MustParseAddr("10.0.0.1")) || (AddrSet{}).Overlaps(prevSet) || len((AddrSet{}).IPSet().Ranges()) != 0 {
		t.Fatal("the empty AddrSet holds something")
	}
}

// A million IPv4 /32 entries, a few out of order (a refreshed feed).
func benchPrefixes() []netip.Prefix {
	ps := make([]netip.Prefix, 1_000_000)
	for i := range ps {
		a := uint32(11<<24) + uint32(i)*2
		if i < 500 {
			a += 1 << 24
		}
		ps[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), 32)
	}
	return ps
}

func BenchmarkBlocklistMerge(b *testing.B) {
	ps := benchPrefixes()
	b.Run("rangeBuilder", func(b *testing.B) {
		for b.Loop() {
			var rb rangeBuilder
			for _, p := range ps {
				rb.AddPrefix(p)
			}
			rb.AddrSet()
		}
	})
	b.Run("IPSetBuilder", func(b *testing.B) {
		for b.Loop() {
			var ib netipx.IPSetBuilder
			for _, p := range ps {
				ib.AddPrefix(p)
			}
			ib.IPSet()
		}
	})
}
