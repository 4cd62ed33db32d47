package lang_test

import (
	"fmt"
	"testing"

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
				p, diags := lang.Load(dir)
				if diags.HasErrors() || p.Blocklists[0].Addresses.Count(false) != n {
					b.Fatalf("load: %v", diags)
				}
			}
		})
	}
}
