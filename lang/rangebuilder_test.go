package lang

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"go4.org/netipx"
)

// rangeBuilder merges exactly as netipx.IPSetBuilder does.
func TestRangeBuilderMatchesIPSetBuilder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var rb rangeBuilder
		var ib netipx.IPSetBuilder
		for i := r.IntN(300); i > 0; i-- {
			var p netip.Prefix
			if r.IntN(4) == 0 {
				var a [16]byte
				a[0], a[1], a[15] = 0x20, 0x01, byte(r.IntN(256))
				a[14] = byte(r.IntN(4))
				p = netip.PrefixFrom(netip.AddrFrom16(a), 112+r.IntN(17)).Masked()
			} else {
				a := [4]byte{byte(r.IntN(2) * 255), 0, byte(r.IntN(3)), byte(r.IntN(256))}
				p = netip.PrefixFrom(netip.AddrFrom4(a), 22+r.IntN(11)).Masked()
			}
			rb.AddPrefix(p)
			ib.AddPrefix(p)
		}
		got, err1 := rb.IPSet()
		want, err2 := ib.IPSet()
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		g, w := got.Ranges(), want.Ranges()
		if len(g) != len(w) {
			t.Fatalf("round %d: %d ranges, IPSetBuilder %d", round, len(g), len(w))
		}
		for i := range g {
			if g[i] != w[i] {
				t.Fatalf("round %d: range %d %v, IPSetBuilder %v", round, i, g[i], w[i])
			}
		}
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
			rb.IPSet()
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
