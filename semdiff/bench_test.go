package semdiff

import (
	"fmt"
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
