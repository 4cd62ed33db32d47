package semdiff

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/internal/bench"
	"github.com/voicewall/voicewall/lang"
)

// blocklistRevisions writes the benchmark policy twice: with an n-entry
// blocklist, and with the same list minus every 200th entry plus `added`
// new ones (a feed refresh: some scanners gone, some new).
func blocklistRevisions(tb testing.TB, n, added int) (oldDir, newDir string) {
	oldDir, newDir = tb.TempDir(), tb.TempDir()
	if err := bench.WritePolicy(oldDir, n); err != nil {
		tb.Fatal(err)
	}
	if err := bench.WritePolicy(newDir, n); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(newDir, "blocklist.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	var out strings.Builder
	for i, line := range strings.Split(string(b), "\n") {
		if i%200 == 199 && !strings.HasPrefix(line, "#") {
			continue
		}
		out.WriteString(line + "\n")
	}
	for i := range added {
		fmt.Fprintf(&out, "45.%d.%d.1\n", 100+i/256, i%256)
	}
	if err := os.WriteFile(filepath.Join(newDir, "blocklist.txt"), []byte(out.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return oldDir, newDir
}

func mustLoad(tb testing.TB, dir string) *lang.Policy {
	p, diags := registry.Load(dir)
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	return p
}

// BenchmarkDiffBlocklist is the diff of a 100,000-entry blocklist refresh
// (500 entries gone, 1,000 new): compare alone, and load both revisions,
// compare and render the text as `voicewall diff` does.
func BenchmarkDiffBlocklist(b *testing.B) {
	oldDir, newDir := blocklistRevisions(b, 100_000, 1000)
	old, new := mustLoad(b, oldDir), mustLoad(b, newDir)
	b.Run("compare", func(b *testing.B) {
		for b.Loop() {
			if rep := Compare(old, new, Options{Targets: registry.Targets}); len(rep.Changes) != 4 {
				b.Fatalf("%d changes, want 4", len(rep.Changes))
			}
		}
	})
	b.Run("load+compare+render", func(b *testing.B) {
		for b.Loop() {
			old, new := mustLoad(b, oldDir), mustLoad(b, newDir)
			rep := Compare(old, new, Options{Targets: registry.Targets})
			var sb strings.Builder
			if err := NewRenderer(old, new).Text(&sb, rep); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDiffExamples diffs every example with itself edited (the pairs
// of the tests): the cost of a typical pull request's diff.
func BenchmarkDiffExamples(b *testing.B) {
	for _, c := range pairs {
		b.Run(c.example+"/"+strings.ReplaceAll(c.name, " ", "_"), func(b *testing.B) {
			orig, edited := b.TempDir(), b.TempDir()
			copyTree(b, c.example, orig)
			copyTree(b, c.example, edited)
			for _, e := range c.edits {
				e(b, edited)
			}
			old, new := load(b, filepath.Join(orig, c.policy), orig), load(b, filepath.Join(edited, c.policy), edited)
			for b.Loop() {
				rep := Compare(old, new, Options{Targets: registry.Targets})
				var sb strings.Builder
				_ = NewRenderer(old, new).Text(&sb, rep)
			}
		})
	}
}

// manyProviders is a policy with n providers (four signaling /28s and four
// media /26s each, at addresses drawn from a fixed seed), half of them a
// PBX's and half a voice VLAN's, and a VLAN allow_out of 20 destinations:
// many address sets on both sides of the packet.
func manyProviders(n int, extraAllowOut string) string {
	rnd := rand.New(rand.NewPCG(7, 7))
	octet := func(lo int) int { return lo + rnd.IntN(223-lo) }
	var b strings.Builder
	var names []string
	for i := range n {
		name := fmt.Sprintf("p%d", i)
		names = append(names, `"`+name+`"`)
		var sig, med []string
		for range 4 {
			sig = append(sig, fmt.Sprintf(`"%d.%d.%d.0/28"`, octet(1), rnd.IntN(256), rnd.IntN(256)))
			med = append(med, fmt.Sprintf(`"%d.%d.%d.0/26"`, octet(1), rnd.IntN(256), rnd.IntN(256)))
		}
		fmt.Fprintf(&b, "provider %q {\n  signaling  = [%s]\n  media      = [%s]\n  transports = [\"udp\", \"tls\"]\n}\n\n", name, strings.Join(sig, ", "), strings.Join(med, ", "))
	}
	var allow []string
	for i := range 20 {
		allow = append(allow, fmt.Sprintf(`"198.18.%d.1:%d/tcp"`, i, 1000+i))
	}
	fmt.Fprintf(&b, `pbx "pbx" {
  address   = "10.20.0.10"
  providers = [%s]
}

voice_vlan "phones" {
  id         = 20
  subnet     = "10.30.0.0/24"
  providers  = [%s]
  management = ["10.0.0.0/24"]
  allow_out  = ["53/udp", "123/udp", %s%s]
}

rtp {
  ports = "10000-20000"
}

rate_limit {
  sip   = "10/second"
  burst = 20
}

log {
  dropped = true
}
`, strings.Join(names[:n/2], ", "), strings.Join(names[n/2:], ", "), strings.Join(allow, ", "), extraAllowOut)
	return b.String()
}

// BenchmarkDiffManyProviders: 30 providers, 240 address ranges, 20
// allow_out destinations; the change opens 443/tcp to the phones.
func BenchmarkDiffManyProviders(b *testing.B) {
	oldDir, newDir := b.TempDir(), b.TempDir()
	for dir, extra := range map[string]string{oldDir: "", newDir: `, "443/tcp"`} {
		if err := os.WriteFile(filepath.Join(dir, "policy.hcl"), []byte(manyProviders(30, extra)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	old, new := mustLoad(b, oldDir), mustLoad(b, newDir)
	for b.Loop() {
		if rep := Compare(old, new, Options{Targets: registry.Targets}); len(rep.Changes) != 1 {
			b.Fatalf("%d changes, want 1", len(rep.Changes))
		}
	}
}
