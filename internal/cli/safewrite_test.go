package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/voicewall/voicewall/internal/netnstest"
	"github.com/voicewall/voicewall/internal/testenv"
)

// byPath matches a mode or owner change made by name in strace's output
// (chmod, fchmodat, fchmodat2, chown, fchownat, lchown): a name can be
// swapped for a symlink between the create and the change. fchmod/fchown
// on a descriptor are what voicewall uses.
var byPath = regexp.MustCompile(`(?m)^(?:\d+ +)?(chmod|fchmodat2?|chown|fchownat|lchown|chown32|lchown32)\(`)
var onFD = regexp.MustCompile(`(?m)^(?:\d+ +)?(fchmod|fchown)\(\d+`)

// straceModes runs argv under strace, tracing every mode and owner change,
// and returns the trace.
func straceModes(t *testing.T, argv ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "trace")
	calls := "chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown"
	if exec.Command("strace", "-e", "trace=fchmodat2", "true").Run() == nil {
		calls += ",fchmodat2"
	}
	cmd := exec.Command("strace", append([]string{"-f", "-qq", "-e", "signal=none", "-o", out, "-e", "trace=" + calls}, argv...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every file voicewall writes gets its mode (and owner) on the descriptor,
// never by name: compile -o, status --textfile and fmt, traced.
func TestNoModeChangeByPath(t *testing.T) {
	testenv.SkipShort(t, "builds the binary and traces it with strace")
	testenv.RequireTools(t, "strace")
	bin := voicewallBinary(t)

	// The check itself can fail: chmod(1) changes a mode by name.
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if tr := straceModes(t, "chmod", "0644", f); !byPath.MatchString(tr) {
		t.Fatalf("the trace does not catch chmod(1)'s change by name:\n%s", tr)
	}

	out := t.TempDir()
	pol := filepath.Join(t.TempDir(), "p.hcl")
	src, err := os.ReadFile(filepath.Join(example("asterisk-udp-trunk"), "gateway.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	// Unformatted (an extra space), so fmt rewrites it.
	if err := os.WriteFile(pol, bytes.Replace(src, []byte(" = "), []byte("  = "), 1), 0o640); err != nil {
		t.Fatal(err)
	}
	runs := [][]string{
		{bin, "compile", example("asterisk-udp-trunk"), "--target", "all", "-o", out},
		{bin, "fmt", pol},
	}
	if os.Geteuid() == 0 {
		netnstest.Require(t, "root", "ip")
		ns := netnstest.NewNS(t, "writes")
		t.Setenv("VOICEWALL_STATE_DIR", t.TempDir())
		runs = append(runs, []string{bin, "status", "--netns", ns.Name, "--textfile", t.TempDir()})
	} else if testenv.CI() {
		t.Fatal("CI=true: status --textfile needs root (a network namespace)")
	}
	for _, argv := range runs {
		tr := straceModes(t, argv...)
		if m := byPath.FindAllString(tr, -1); len(m) > 0 {
			t.Errorf("%s changes a mode or owner by name (%v):\n%s", argv[1], m, tr)
		}
		if !onFD.MatchString(tr) {
			t.Errorf("%s: no fchmod on a descriptor in the trace (did it write anything?):\n%s", argv[1], tr)
		}
	}
	if st, err := os.Stat(pol); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("fmt changed the policy file's mode: %v %v", st.Mode(), err)
	}
}

// symlinkRacer is the attacker of a directory it can write: it keeps
// replacing every temporary-looking name in dir, and each target name, by a
// symlink to victim.
type symlinkRacer struct {
	stop  atomic.Bool
	swaps atomic.Int64
	wg    sync.WaitGroup
}

func raceSymlinks(dir, victim string, targets []string) *symlinkRacer {
	r := &symlinkRacer{}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for !r.stop.Load() {
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				n := e.Name()
				if !strings.HasPrefix(n, ".") || !strings.Contains(n, "tmp") || e.Type()&os.ModeSymlink != 0 {
					continue
				}
				// A write is under way: swap its temporary file and the
				// name it will be renamed to.
				p := filepath.Join(dir, n)
				if os.Remove(p) == nil && os.Symlink(victim, p) == nil {
					r.swaps.Add(1)
				}
				for _, tg := range targets {
					os.Remove(tg)
					if os.Symlink(victim, tg) == nil {
						r.swaps.Add(1)
					}
				}
			}
		}
	}()
	return r
}

func (r *symlinkRacer) Stop() int64 {
	r.stop.Store(true)
	r.wg.Wait()
	return r.swaps.Load()
}

// victimChanged reports (and undoes) any change of the victim's mode,
// owner or content.
func victimChanged(t *testing.T, victim string, content []byte) string {
	t.Helper()
	st, err := os.Stat(victim)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	b, _ := os.ReadFile(victim)
	what := ""
	switch {
	case st.Mode().Perm() != 0o600:
		what = fmt.Sprintf("mode %v", st.Mode().Perm())
	case int(sys.Uid) != os.Geteuid():
		what = fmt.Sprintf("owner %d", sys.Uid)
	case !bytes.Equal(b, content):
		what = fmt.Sprintf("content %q", b)
	}
	if what != "" {
		os.Chmod(victim, 0o600)
		os.Chown(victim, os.Geteuid(), os.Getegid())
		os.WriteFile(victim, content, 0o600)
	}
	return what
}

// The racing attack on a directory voicewall writes into (a shared output
// dir, a textfile collector's dir another user owns): while a local user
// swaps symlinks to a root-only file at every temporary name and at the
// target, voicewall writes many times; the victim's mode, owner and
// content never change. A write may fail (the directory is the attacker's);
// it never touches another file.
func TestSymlinkRaceOnWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("racing writer against a symlink swapper: full lane")
	}
	victim := filepath.Join(t.TempDir(), "shadow")
	secret := []byte("root:secret-hash:19000:0:99999:7:::\n")
	if err := os.WriteFile(victim, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	const runs = 40
	attack := func(t *testing.T, dir string, targets []string, run func() liveRun) {
		racer := raceSymlinks(dir, victim, targets)
		changed, failed := 0, 0
		var first string
		for i := 0; i < runs; i++ {
			// The admin's side: a link left at a target by the last run
			// would make the next write refuse at once, before the race.
			for _, tg := range targets {
				if st, err := os.Lstat(tg); err == nil && st.Mode()&os.ModeSymlink != 0 {
					os.Remove(tg)
				}
			}
			if r := run(); r.code != 0 {
				failed++
			}
			if what := victimChanged(t, victim, secret); what != "" {
				changed++
				if first == "" {
					first = what
				}
			}
		}
		swaps := racer.Stop()
		t.Logf("%d runs, %d symlink swaps, %d writes refused, victim changed in %d runs", runs, swaps, failed, changed)
		if swaps == 0 {
			t.Fatal("the attacker never swapped a link: the test proves nothing")
		}
		if changed > 0 {
			t.Errorf("the root-only victim was changed in %d of %d runs (first: %s)", changed, runs, first)
		}
	}
	t.Run("compile -o", func(t *testing.T) {
		out := t.TempDir()
		var targets []string
		for _, n := range []string{"nftables.nft", "fortigate.conf", "pfsense.xml", "draytek.txt"} {
			targets = append(targets, filepath.Join(out, n))
		}
		attack(t, out, targets, func() liveRun {
			return vw1("", "compile", example("asterisk-udp-trunk"), "--target", "all", "-o", out)
		})
	})
	t.Run("status --textfile", func(t *testing.T) {
		netnstest.Require(t, "root", "ip")
		ns := netnstest.NewNS(t, "writes")
		t.Setenv("VOICEWALL_STATE_DIR", t.TempDir())
		tf := t.TempDir()
		attack(t, tf, []string{filepath.Join(tf, "voicewall-"+ns.Name+".prom")}, func() liveRun {
			return vw1("", "status", "--netns", ns.Name, "--textfile", tf)
		})
	})
}
