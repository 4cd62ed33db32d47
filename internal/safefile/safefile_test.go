package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteModeOnNewFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.txt")
	if err := Write(p, []byte("a\n"), Options{Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary file left behind: %v", ents)
	}
}

func TestKeepPreservesMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "policy.hcl")
	if err := os.WriteFile(p, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("new"), Options{Keep: true}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640 kept", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("content %q", b)
	}
}

func TestSymlinkRefusedOrFollowed(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.hcl")
	link := filepath.Join(dir, "link.hcl")
	if err := os.WriteFile(real, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.hcl", link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, []byte("x"), Options{}); !errors.Is(err, ErrSymlink) {
		t.Fatalf("want ErrSymlink, got %v", err)
	}
	if err := Write(link, []byte("new"), Options{Keep: true, FollowLink: true}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced by a file")
	}
	b, _ := os.ReadFile(real)
	st, _ := os.Stat(real)
	if string(b) != "new" || st.Mode().Perm() != 0o600 {
		t.Fatalf("target: %q %v", b, st.Mode().Perm())
	}
}

func TestTempNameIsNeverOpenedThroughALink(t *testing.T) {
	// A planted link at a temp-like name must never be followed: the
	// writer only opens names it created with O_EXCL.
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		_ = os.Symlink(victim, filepath.Join(dir, ".out.tmp-planted"+string(rune('a'+i%26))))
	}
	if err := Write(filepath.Join(dir, "out"), []byte("x"), Options{Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(victim)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("victim mode changed to %v", st.Mode().Perm())
	}
}

func TestNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, []byte("x"), Options{}); err == nil {
		t.Fatal("writing over a directory must fail")
	}
}

// A directory on the way that another user swapped for a symlink (their
// textfile directory made a link to /etc) is not followed; root's own
// links are.
func TestForeignDirectoryLinkRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a link to another user")
	}
	top := t.TempDir()
	victimDir := filepath.Join(top, "etc")
	if err := os.Mkdir(victimDir, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(top, "textfile")
	if err := os.Symlink(victimDir, link); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(link, "voicewall.prom"), []byte("x"), Options{}); err != nil {
		t.Fatalf("root's own link: %v", err)
	}
	if err := os.Lchown(link, 4321, 4321); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(victimDir, "voicewall.prom"))
	err := Write(filepath.Join(link, "voicewall.prom"), []byte("x"), Options{})
	if err == nil || !strings.Contains(err.Error(), "owned by uid 4321") {
		t.Fatalf("another user's directory link was followed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(victimDir, "voicewall.prom")); !os.IsNotExist(err) {
		t.Fatalf("a file was written through the link: %v", err)
	}
	if err := MkdirAll(filepath.Join(top, "new", "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(top, "new", "a", "b")); err != nil || !st.IsDir() {
		t.Fatalf("MkdirAll: %v", err)
	}
}

func TestRename(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Rename(dir, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(b); err != nil || string(got) != "x" {
		t.Fatalf("b: %q %v", got, err)
	}
	// An existing target is never replaced.
	if err := os.WriteFile(a, []byte("y"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Rename(dir, "a", "b"); err == nil {
		t.Fatal("replaced an existing file")
	}
	if got, _ := os.ReadFile(b); string(got) != "x" {
		t.Fatalf("b changed: %q", got)
	}
	// A symlink is not moved, nor a name with a slash taken.
	if err := os.Symlink(a, filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	if err := Rename(dir, "l", "m"); err == nil {
		t.Fatal("moved a symlink")
	}
	if err := Rename(dir, "../a", "c"); err == nil {
		t.Fatal("took a path for a name")
	}
}
