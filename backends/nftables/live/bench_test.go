package live

// Benchmarks of the live path against `nft -f` of the compiled text, in
// one run on the same machine (the speed goals are relative to nft's own
// load of the same ruleset, so both are measured together). Every namespace is made
// by the benchmark and deleted after it.
//
//	go test ./backends/nftables/live -run '^$' -bench . -benchtime 5x

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go4.org/netipx"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/internal/bench"
	"github.com/voicewall/voicewall/internal/netnstest"
)

var benchSizes = func() []int {
	if os.Getenv("VOICEWALL_BENCH_1M") != "" {
		return []int{10_000, 100_000, 1_000_000}
	}
	return []int{10_000, 100_000}
}()

func benchPolicy(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	if err := bench.WritePolicy(dir, n); err != nil {
		b.Fatal(err)
	}
	return dir
}

func benchLoad(b *testing.B, dir string) *vw.Table {
	p := loadPolicy(b, dir)
	return vw.Build(p)
}

func benchNS(b *testing.B) (*netnstest.NS, *Target) {
	b.Setenv("VOICEWALL_STATE_DIR", b.TempDir())
	ns := netnstest.NewNS(b, "bench")
	tg, err := Open(ns.Name)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tg.Close() })
	return ns, tg
}

func dropTable(b *testing.B, ns *netnstest.NS) {
	if _, err := ns.Run("nft", "delete", "table", "inet", "voicewall"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkApply: `voicewall apply` into an empty namespace: load and
// compile the policy, read the (empty) table, diff, send one batch.
func BenchmarkApply(b *testing.B) { benchApply(b, true) }

// BenchmarkApplyNetlink is BenchmarkApply without loading the policy:
// read, diff, encode and the kernel's work.
func BenchmarkApplyNetlink(b *testing.B) { benchApply(b, false) }

// benchApply applies the policy into an empty namespace b.N times;
// withLoad loads and compiles it in every iteration too.
func benchApply(b *testing.B, withLoad bool) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := benchPolicy(b, n)
			var tab *vw.Table
			if !withLoad {
				tab = benchLoad(b, dir)
			}
			ns, tg := benchNS(b)
			for i := 0; i < b.N; i++ {
				if withLoad {
					tab = benchLoad(b, dir)
				}
				st, err := Read(tg, ReadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Apply(tg, Diff(st, tab), ApplyOptions{}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				dropTable(b, ns)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkNftF is the anchor: `nft -f` of the compiled text.
func BenchmarkNftF(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			tab := benchLoad(b, benchPolicy(b, n))
			f := filepath.Join(b.TempDir(), "nftables.nft")
			if err := os.WriteFile(f, []byte(vw.Render(tab)), 0o644); err != nil {
				b.Fatal(err)
			}
			ns, _ := benchNS(b)
			for i := 0; i < b.N; i++ {
				if out, err := exec.Command("ip", "netns", "exec", ns.Name, "nft", "-f", f).CombinedOutput(); err != nil {
					b.Fatalf("%v: %s", err, out)
				}
				b.StopTimer()
				dropTable(b, ns)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkPlanForeign: the read behind `voicewall plan` after another
// tool committed in its own table (fail2ban): the structure digest keeps
// the state cache valid, so no set is dumped.
func BenchmarkPlanForeign(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			tab := benchLoad(b, benchPolicy(b, n))
			ns, tg := benchNS(b)
			st, _ := Read(tg, ReadOptions{})
			if _, err := Apply(tg, Diff(st, tab), ApplyOptions{Verify: true}); err != nil {
				b.Fatal(err)
			}
			// A foreign commit (nft add element would dump voicewall's
			// sets for its cache first).
			if out, err := ns.Run("nft", "add table inet f2b"); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st, err := Read(tg, ReadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if !st.CacheHit || !st.Foreign || !Diff(st, tab).Empty() {
					b.Fatalf("cache hit %v foreign %v", st.CacheHit, st.Foreign)
				}
			}
		})
	}
}

// BenchmarkPlanNoop: `voicewall plan` with nothing changed (the state
// cache is valid), and the same with a full read of the sets.
func BenchmarkPlanNoop(b *testing.B) {
	for _, n := range benchSizes {
		for _, mode := range []string{"cache", "dump"} {
			b.Run(fmt.Sprintf("%d/%s", n, mode), func(b *testing.B) {
				dir := benchPolicy(b, n)
				tab := benchLoad(b, dir)
				_, tg := benchNS(b)
				st, _ := Read(tg, ReadOptions{})
				if _, err := Apply(tg, Diff(st, tab), ApplyOptions{}); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					tab := benchLoad(b, dir)
					st, err := Read(tg, ReadOptions{NoCache: mode == "dump"})
					if err != nil {
						b.Fatal(err)
					}
					if p := Diff(st, tab); !p.Empty() {
						b.Fatal("plan not empty")
					}
				}
			})
		}
	}
}

// BenchmarkDelta: plan and apply of ±1,000 entries in the blocklist.
func BenchmarkDelta(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			tab := benchLoad(b, benchPolicy(b, n))
			_, tg := benchNS(b)
			st, _ := Read(tg, ReadOptions{})
			if _, err := Apply(tg, Diff(st, tab), ApplyOptions{}); err != nil {
				b.Fatal(err)
			}
			alt := cloneTable(tab)
			bl := findSet(alt, "blocklist_scanners_v4")
			var sb netipx.IPSetBuilder
			for i, r := range bl.Elements {
				if i%(n/500) != 0 {
					sb.AddRange(r)
				}
			}
			for i := 0; i < 500; i++ {
				sb.Add(bl.Elements[i].To().Next()) // the gap after an entry
			}
			s, _ := sb.IPSet()
			bl.Elements = s.Ranges()
			tables := []*vw.Table{alt, tab}
			var kernel, elems int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st, err := Read(tg, ReadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				res, err := Apply(tg, Diff(st, tables[i%2]), ApplyOptions{})
				if err != nil {
					b.Fatal(err)
				}
				kernel += int64(res.Stats.Kernel)
				elems += int64(res.Stats.Elements)
			}
			b.ReportMetric(float64(kernel)/float64(b.N)/1e6, "kernel-ms/op")
			b.ReportMetric(float64(elems)/float64(b.N), "elements/op")
		})
	}
}
