package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Example is one policy under examples/: Name is its path below examples/
// (and below golden/), Dir where it is on disk.
type Example struct {
	Name string
	Dir  string
}

// Examples lists the policies under repo/examples, in name order. A fleet
// (a directory with sites/) contributes each of its sites/<name>, since
// its common/ is not a policy by itself.
func Examples(t testing.TB, repo string) []Example {
	t.Helper()
	root := filepath.Join(repo, "examples")
	dirs, err := filepath.Glob(filepath.Join(root, "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples under %s: %v", root, err)
	}
	var out []Example
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		sites, _ := filepath.Glob(filepath.Join(d, "sites", "*"))
		if len(sites) == 0 {
			out = append(out, Example{Name: filepath.Base(d), Dir: d})
			continue
		}
		for _, s := range sites {
			rel, _ := filepath.Rel(root, s)
			out = append(out, Example{Name: filepath.ToSlash(rel), Dir: s})
		}
	}
	return out
}

// ExampleDirs is Examples' directories.
func ExampleDirs(t testing.TB, repo string) []string {
	t.Helper()
	var dirs []string
	for _, ex := range Examples(t, repo) {
		dirs = append(dirs, ex.Dir)
	}
	return dirs
}
