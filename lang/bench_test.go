package lang_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/internal/bench"
	"github.com/voicewall/voicewall/lang"
)

func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("blocklist=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			if err := bench.WritePolicy(dir, n); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p, diags := registry.Load(dir)
				if diags.HasErrors() || p.Blocklists[0].Addresses.Count(false) != n {
					b.Fatalf("load: %v", diags)
				}
			}
		})
	}
}

// BenchmarkMerge is the netipx merge alone: n prefixes (every other /32,
// plus a covering /16 every 1,000 entries so overlaps fold) into one set.
func BenchmarkMerge(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			prefixes := make([]netip.Prefix, 0, n)
			for i := 0; i < n; i++ {
				a := uint32(11<<24) + uint32(i)*2
				bits := 32
				if i%1000 == 999 {
					bits = 16
				}
				prefixes = append(prefixes, netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), bits).Masked())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if s := lang.NewAddrSet(prefixes...); s.Empty() {
					b.Fatal("empty")
				}
			}
		})
	}
}
