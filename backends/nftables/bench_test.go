package nftables_test

import (
	"fmt"
	"testing"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/internal/bench"
	"github.com/voicewall/voicewall/lang"
)

func BenchmarkCompile(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("blocklist=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			if err := bench.WritePolicy(dir, n); err != nil {
				b.Fatal(err)
			}
			p, diags := lang.Load(dir)
			if diags.HasErrors() {
				b.Fatal(diags)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out, _ := nftables.Compile(p, backends.Options{})
				if len(out.Files[0].Data) == 0 {
					b.Fatal("empty")
				}
			}
		})
	}
}
