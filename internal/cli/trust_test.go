package cli

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/nftables/live"
)

// The attack on an untrusted state dir: someone who can write the state dir sets
// the cache entry's generation to the current one after an element went
// missing in the kernel. In a dir only root can write, that takes root
// (control); in a writable dir plan refuses the cache, says why, reads
// the kernel and shows the missing element.
func TestWritableStateDirNotTrusted(t *testing.T) {
	ns := gwNS(t, true)
	dir, _ := fastPolicy(t)
	state := os.Getenv("VOICEWALL_STATE_DIR")
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := ns.Run("nft", "delete element inet voicewall blocklist_scanners_v4 { 11.0.0.2 }"); err != nil {
		t.Fatal(err)
	}
	forge := func() {
		t.Helper()
		_, _, gen, err := live.TableIdentity(mustOpen(t, ns.Name))
		if err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(state, "cache", "*.bin"))
		if len(files) != 1 {
			t.Fatalf("cache files: %q", files)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		binary.BigEndian.PutUint32(b[20:24], gen) // the recorded generation
		if err := os.WriteFile(files[0], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Control: the forged entry fools plan (only root could write it here).
	forge()
	if r := vw1("", "plan", dir, "--netns", ns.Name, "--detailed-exitcode"); r.code != 0 {
		t.Fatalf("control: the forged cache entry did not fool plan (exit %d): the test no longer reproduces the attack\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, mode := range []os.FileMode{0o777, 0o770} {
		if err := os.Chmod(state, mode); err != nil {
			t.Fatal(err)
		}
		forge()
		// apply puts the element back; it is removed again for the next round.
		for _, args := range [][]string{{"plan", dir, "--detailed-exitcode"}, {"apply", dir, "--auto-approve"}} {
			r := vw1("", append(args, "--netns", ns.Name)...)
			if args[0] == "plan" && r.code != 2 {
				t.Errorf("plan with a state dir of mode %v: exit %d, want 2 (changes)", mode, r.code)
			}
			if !strings.Contains(r.stdout, "11.0.0.2") || !strings.Contains(r.stdout, "writable") {
				t.Errorf("%s with a state dir of mode %v: the missing element or the distrust is not shown (exit %d)\n%s%s", args[0], mode, r.code, r.stdout, r.stderr)
			}
		}
		if _, err := ns.Run("nft", "delete element inet voicewall blocklist_scanners_v4 { 11.0.0.2 }"); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(state, 0o700)
	if testing.Verbose() {
		forge()
		os.Chmod(state, 0o777)
		r := vw1("", "plan", dir, "--netns", ns.Name)
		t.Log(r.stdout)
		os.Chmod(state, 0o700)
	}
}
