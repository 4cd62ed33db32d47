package inputs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestBuildID(t *testing.T) {
	id, err := BuildID()
	if err != nil || id == "" {
		t.Fatalf("BuildID() = %q, %v", id, err)
	}
	if _, err := readBuildID("/etc/hostname"); err == nil {
		t.Error("readBuildID of a text file: no error")
	}
}

func writeInputs(t *testing.T, dir, list string) string {
	t.Helper()
	p := filepath.Join(dir, "p.hcl")
	if err := os.WriteFile(p, []byte("blocklist \"b\" {\n  file = \"list.txt\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "list.txt"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTake(t *testing.T) {
	dir := t.TempDir()
	p := writeInputs(t, dir, "11.0.0.1\n")
	time.Sleep(150 * time.Millisecond)
	id := []byte("voicewall test")
	a, err := Take(id, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Files) != 2 || !a.Unchanged() {
		t.Fatalf("files %q, unchanged %v", a.Files, a.Unchanged())
	}
	b, _ := Take(id, p, false)
	if a.Digest != b.Digest {
		t.Error("same inputs, different digests")
	}
	if c, _ := Take([]byte("voicewall other"), p, false); c.Digest == a.Digest {
		t.Error("the identity is not in the digest")
	}
	if c, _ := Take(id, dir, false); c.Digest == a.Digest {
		t.Error("the policy path is not in the digest")
	}

	// Same size, same mtime, other content.
	list := filepath.Join(dir, "list.txt")
	st, _ := os.Stat(list)
	if err := os.WriteFile(list, []byte("11.0.0.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(list, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if a.Unchanged() {
		t.Error("Unchanged after a content change")
	}
	c, err := Take(id, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Digest == a.Digest {
		t.Error("content change kept the digest")
	}
	// Freshly written: not trusted to be unchanged.
	if c.Unchanged() {
		t.Error("Unchanged true for files written within the settle time")
	}
	// Apply's snapshot waits for the files to settle, then trusts them.
	if c, err := Take(id, p, true); err != nil || !c.Unchanged() {
		t.Errorf("settled snapshot: err %v, unchanged %v", err, err == nil && c.Unchanged())
	}
	// A missing blocklist file or a broken policy: no snapshot.
	os.Remove(list)
	if _, err := Take(id, p, false); err == nil {
		t.Error("missing blocklist: no error")
	}
	if err := os.WriteFile(p, []byte("blocklist {"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Take(id, p, false); err == nil {
		t.Error("broken HCL: no error")
	}
}

// A FIFO named as a blocklist file is refused without hanging: the
// digest stats before it opens.
func TestTakeRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	p := writeInputs(t, dir, "")
	list := filepath.Join(dir, "list.txt")
	os.Remove(list)
	if err := syscall.Mkfifo(list, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Take([]byte("voicewall test"), p, false)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a FIFO was digested")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Take hangs on a FIFO")
	}
}
