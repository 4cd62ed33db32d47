package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runWithin runs voicewall in-process and fails if it takes longer than a
// generous bound: these inputs hung or crashed the process before.
func runWithin(t *testing.T, args ...string) liveRun {
	t.Helper()
	done := make(chan liveRun, 1)
	go func() { done <- vw1("", args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(60 * time.Second):
		t.Fatalf("voicewall %v did not finish in 60 s", args)
		return liveRun{}
	}
}

// Hostile files through the commands users run: validate and fmt
// -check refuse a FIFO, /dev/zero and 100,000 nested '[' with a located
// error, and print no raw escape sequence.
func TestHostileInputsThroughCommands(t *testing.T) {
	for name, setup := range map[string]func(dir string) error{
		"fifo.hcl": func(dir string) error { return syscall.Mkfifo(filepath.Join(dir, "fifo.hcl"), 0o644) },
		"zero.hcl": func(dir string) error { return os.Symlink("/dev/zero", filepath.Join(dir, "zero.hcl")) },
		"deep.hcl": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "deep.hcl"), []byte("a = "+strings.Repeat("[", 100000)), 0o644)
		},
		"esc.hcl": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "esc.hcl"), []byte("provider \"p\" {\n  signaling = [\"\x1b]0;pwned\a\x1b[2J\"]\n}\n"), 0o644)
		},
	} {
		dir := t.TempDir()
		if err := setup(dir); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"validate", dir}, {"fmt", "-check", dir}} {
			r := runWithin(t, args...)
			if name == "esc.hcl" && args[0] == "fmt" {
				// Valid HCL, formatted: nothing to say, and its name is
				// printed only if it needed formatting (see below).
			} else if r.code != 1 || !strings.Contains(r.stderr, name+":") {
				t.Errorf("%s: voicewall %s: exit %d, no located error:\n%s", name, args[0], r.code, r.stderr)
			}
			if strings.ContainsAny(r.stderr+r.stdout, "\x1b\a") {
				t.Errorf("%s: voicewall %s prints a raw escape sequence:\n%q", name, args[0], r.stderr)
			}
		}
	}
}

// fmt lists files by name: a name with an escape sequence is printed
// escaped.
func TestFmtPrintsFileNamesEscaped(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "\x1b]0;pwned\a.hcl"), []byte("provider \"p\" {\nsignaling = [\"192.0.2.1\"]\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runWithin(t, "fmt", "-check", dir)
	if r.code != 1 || !strings.Contains(r.stdout, `\x1b]0;pwned\x07.hcl`) || strings.ContainsAny(r.stdout, "\x1b\a") {
		t.Fatalf("exit %d: %q", r.code, r.stdout)
	}
}

// FIFOs and devices for the other files commands read: compile --base and
// apply PLANFILE refuse a FIFO and a device instead of hanging on it or
// reading it forever.
func TestBaseAndPlanFileMustBeRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{fifo, "/dev/zero"} {
		r := runWithin(t, "compile", example("asterisk-udp-trunk"), "--target", "pfsense", "--base", bad, "-o", t.TempDir())
		if r.code != 1 || !strings.Contains(r.stderr, "not a regular file") {
			t.Errorf("--base %s: exit %d\n%s", bad, r.code, r.stderr)
		}
		r = runWithin(t, "apply", bad, "--auto-approve")
		if r.code != 1 || !strings.Contains(r.stderr, "not a regular file") {
			t.Errorf("apply %s: exit %d\n%s", bad, r.code, r.stderr)
		}
	}
}

// An error from the OS names the path it failed on: escaped too.
func TestErrorsPrintPathsEscaped(t *testing.T) {
	r := runWithin(t, "validate", filepath.Join(t.TempDir(), "\x1b]0;pwned\a"))
	if r.code == 0 || !strings.Contains(r.stderr, `\x1b]0;pwned\x07`) || strings.ContainsAny(r.stderr, "\x1b\a") {
		t.Fatalf("exit %d: %q", r.code, r.stderr)
	}
}

// An unreadable $SSH_CONNECTION is said, and the apply
// goes on (the guard is a safety net, not a gate).
func TestUnreadableSSHConnectionWarns(t *testing.T) {
	ns := gwNS(t, false)
	t.Setenv("SSH_CONNECTION", "\x1b[2J198.51.100.23 50022")
	r := vw1("", "apply", example("smb-blocklist"), "--netns", ns.Name, "--auto-approve")
	if r.code != 0 || !strings.Contains(r.stderr, "lock-out guard cannot check") || strings.Contains(r.stderr, "\x1b") {
		t.Fatalf("exit %d\n%q", r.code, r.stderr)
	}
}

// Paths the user typed come back in messages (compile -o's "wrote", the
// policy file each expect and each rule comes from in test and explain):
// an escape sequence in them is printed escaped, never raw.
func TestPathsInMessagesEscaped(t *testing.T) {
	dir := t.TempDir()
	esc := filepath.Join(dir, "d\x1b[31mx")
	if err := os.Mkdir(esc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(esc, "g\x1b[31m.hcl"), []byte(testPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"compile", esc, "--target", "nftables", "-o", filepath.Join(esc, "out")},
		{"compile", esc, "--target", "declared", "-o", filepath.Join(dir, "build")},
		{"test", esc},
		{"explain", esc, "--from", "198.51.100.1", "--to", "5060/udp"},
		{"validate", esc},
	} {
		code, stdout, stderr := run(t, args...)
		if strings.ContainsAny(stdout+stderr, "\x1b") {
			t.Errorf("voicewall %v (exit %d) prints a raw escape sequence:\n%q", args[:2], code, stdout+stderr)
		}
		if !strings.Contains(stdout+stderr, `\x1b[31m`) {
			t.Errorf("voicewall %v (exit %d) does not name the path escaped:\n%q", args[:2], code, stdout+stderr)
		}
	}
}

// compile --base refuses what is not the target's configuration (exit 1,
// saying what it looks like), a base for several targets at once, and
// DrayTek's --base (it was silently ignored).
func TestBaseOfTheWrongKindRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	xml := write("config.xml", "<?xml version=\"1.0\"?>\n<pfsense><interfaces><wan/><lan/></interfaces></pfsense>\n")
	fos := write("fw.conf", "#config-version=FGT60F-7.2.8-FW-build1639-240313:opmode=0\nconfig system global\nend\n")
	empty := write("empty.conf", "")
	for _, c := range []struct {
		target, base, want string
	}{
		{"fortigate", xml, "this looks like a pfSense config.xml"},
		{"fortigate", empty, "this looks like an empty file"},
		{"pfsense", fos, "this looks like a FortiOS configuration"},
		{"draytek", fos, "--base is not supported for DrayTek"},
		{"all", xml, "--base is one device's exported configuration"},
	} {
		r := runWithin(t, "compile", example("asterisk-udp-trunk"), "--target", c.target, "--base", c.base, "-o", filepath.Join(dir, "out"))
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("--target %s --base %s: exit %d, want %q\n%s", c.target, filepath.Base(c.base), r.code, c.want, r.stderr)
		}
	}
}
