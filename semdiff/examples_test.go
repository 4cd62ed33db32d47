package semdiff

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

const repo = ".."

// edit is one realistic change to a copy of an example.
type edit func(t testing.TB, dir string)

// replace changes the one occurrence of old in file (relative to dir).
func replace(file, old, new string) edit {
	return func(t testing.TB, dir string) {
		t.Helper()
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), old); n != 1 {
			t.Fatalf("%s: %q occurs %d times, want 1", file, old, n)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// appendTo adds text at the end of file.
func appendTo(file, text string) edit {
	return func(t testing.TB, dir string) {
		t.Helper()
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, append(b, text...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// split moves the blocks starting at each marker (up to the next blank
// line followed by a block or comment at column 0... simply: from the
// marker to the end of that block) of file into a new file, reversing
// their order: the policy is split and reordered, its meaning unchanged.
func split(file, into string, markers ...string) edit {
	return func(t testing.TB, dir string) {
		t.Helper()
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		var moved []string
		for _, m := range markers {
			i := strings.Index(src, m)
			if i < 0 {
				t.Fatalf("%s: no %q", file, m)
			}
			j := strings.Index(src[i:], "\n}\n")
			if j < 0 {
				t.Fatalf("%s: block %q does not end", file, m)
			}
			block := src[i : i+j+3]
			src = src[:i] + src[i+j+3:]
			moved = append([]string{block}, moved...)
		}
		// Reformatted too: the moved blocks lose their alignment.
		out := strings.Join(moved, "\n")
		for strings.Contains(out, "  =") {
			out = strings.ReplaceAll(out, "  =", " =")
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(filepath.Dir(p), into), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type pairCase struct {
	name    string
	example string // below examples/
	policy  string // the policy below the copy ("" the copy itself)
	edits   []edit
}

// copyExample copies examples/<name> (a fleet whole) into a temp dir.
func copyExample(t testing.TB, name string) string {
	dir := filepath.Join(t.TempDir(), filepath.Base(name))
	copyTree(t, name, dir)
	return dir
}

func copyTree(t testing.TB, name, dir string) {
	testenv.CopyDir(t, filepath.Join(repo, "examples", name), dir)
}

// load reads a policy of a copy: root is the copy, which a fleet site's
// use path reaches into (a checkout's repository would be found by its .git).
func load(t testing.TB, path, root string) *lang.Policy {
	t.Helper()
	l := registry.LoadFullWith(path, lang.LoadOptions{ReadDirs: []string{root}})
	if l.Diags.HasErrors() {
		t.Fatalf("%s: %v", path, l.Diags)
	}
	return l.Policy
}

// report runs the diff of examples/<example> against an edited copy and
// returns its change and gap lines.
func report(t *testing.T, c pairCase) (old, new *lang.Policy, rep *Report, lines, gaps []string) {
	t.Helper()
	orig := copyExample(t, c.example)
	edited := copyExample(t, c.example)
	for _, e := range c.edits {
		e(t, edited)
	}
	old, new = load(t, filepath.Join(orig, c.policy), orig), load(t, filepath.Join(edited, c.policy), edited)
	rep = Compare(old, new, Options{Targets: registry.Targets})
	r := NewRenderer(old, new)
	for i := range rep.Changes {
		lines = append(lines, r.Line(&rep.Changes[i]))
	}
	j := r.JSON(rep)
	for _, g := range j.Gaps {
		gaps = append(gaps, g.Text)
	}
	return old, new, rep, lines, gaps
}
