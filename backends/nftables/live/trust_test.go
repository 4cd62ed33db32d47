package live

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A state dir or file that others can write is not trusted: the cache is not used, nothing is written there, pending files
// are refused, and the reason says "writable".
func TestStateDirTrust(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VOICEWALL_STATE_DIR", dir)
	nonce := bytes.Repeat([]byte{9}, 16)
	sets := map[string]*SetContent{"s": {}}
	if !writeCacheInputs(nonce, 7, sets, nil, nil) {
		t.Fatal("cache not written in a private dir")
	}
	if f, err := loadTrustedCache(nonce, 7); f == nil || err != nil {
		t.Fatalf("private dir: %v %v", f, err)
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
		want string
	}{
		{dir, 0o777, "world-writable"},
		{dir, 0o770, "group-writable"},
		{filepath.Join(dir, "cache"), 0o702, "world-writable"},
		{cachePath(nonce), 0o620, "group-writable"},
	} {
		st, _ := os.Stat(c.path)
		if err := os.Chmod(c.path, c.mode); err != nil {
			t.Fatal(err)
		}
		f, err := loadTrustedCache(nonce, 7)
		if f != nil || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s mode %v: cache %v, err %v (want %q)", c.path, c.mode, f != nil, err, c.want)
		}
		if loadInputRecord(nonce, 7) != nil {
			t.Errorf("%s mode %v: input record read", c.path, c.mode)
		}
		if c.path != cachePath(nonce) && writeCacheInputs(nonce, 8, sets, nil, nil) {
			t.Errorf("%s mode %v: cache written into it", c.path, c.mode)
		}
		if c.path != cachePath(nonce) {
			pf := filepath.Join(c.path, "x.json")
			os.WriteFile(pf, []byte("{}"), 0o600)
			if _, err := loadPendingFile(pf); err == nil || !strings.Contains(err.Error(), "writable") {
				t.Errorf("%s mode %v: pending file trusted: %v", c.path, c.mode, err)
			}
			os.Remove(pf)
		}
		os.Chmod(c.path, st.Mode().Perm())
	}
	// Not owned by root (nor by this user).
	if os.Geteuid() == 0 {
		if err := os.Chown(dir, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		if _, err := loadTrustedCache(nonce, 7); err == nil || !strings.Contains(err.Error(), "uid 4242") || !strings.Contains(err.Error(), "writable") {
			t.Errorf("dir of another user: %v", err)
		}
		os.Chown(dir, 0, 0)
	}
	// A symlink in place of the cache file is not followed.
	p := cachePath(nonce)
	os.Rename(p, p+".real")
	os.Symlink(p+".real", p)
	if f, _ := loadTrustedCache(nonce, 7); f != nil {
		t.Error("a symlinked cache file was read")
	}
	// A sticky world-writable ancestor (/tmp) is fine.
	sticky := t.TempDir()
	os.Chmod(sticky, os.ModeSticky|0o777)
	if err := checkStateDir(filepath.Join(sticky, "state")); err != nil {
		t.Errorf("state dir under a sticky dir: %v", err)
	}
	os.Chmod(sticky, 0o777)
	if err := checkStateDir(filepath.Join(sticky, "state")); err == nil {
		t.Error("state dir under a world-writable, non-sticky dir trusted")
	}
}
