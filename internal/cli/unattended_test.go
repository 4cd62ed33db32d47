package cli

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live"
)

// --confirm-timeout outside 1s..1h is refused before anything happens,
// with a message that says the bounds; 0s given explicitly is a mistake,
// not "no rollback".
func TestConfirmTimeoutBounds(t *testing.T) {
	t.Setenv("VOICEWALL_STATE_DIR", t.TempDir())
	for _, c := range []struct{ d, want string }{
		{"0s", "must be at least 1s"},
		{"500ms", "must be at least 1s"},
		{"-5s", "must be at least 1s"},
		{"2h", "must be at most 1h0m0s"},
	} {
		r := vw1("", "apply", example("asterisk-udp-trunk"), "--netns", "voicewall-writes-none", "--auto-approve", "--confirm-timeout", c.d)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "--confirm-timeout") {
			t.Errorf("--confirm-timeout %s: exit %d, stderr %q (want %q)", c.d, r.code, r.stderr, c.want)
		}
	}
	for _, d := range []time.Duration{time.Second, time.Hour} {
		if err := live.CheckConfirmTimeout(d); err != nil {
			t.Errorf("%v refused: %v", d, err)
		}
	}
}

// `voicewall confirm` from another shell ends an apply waiting at its
// confirm prompt with success, and the new table stays.
func TestConfirmFromAnotherShell(t *testing.T) {
	ns := gwNS(t, false)
	bin := voicewallBinary(t)
	t.Setenv("VOICEWALL_EXE", bin)
	a, b := example("smb-blocklist"), example("asterisk-udp-trunk")
	if r := vw1("", "apply", a, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	old := stdinIsTerminal
	stdinIsTerminal = func(any) bool { return true }
	defer func() { stdinIsTerminal = old }()

	// The admin answers yes and then types nothing: the apply waits.
	in, typed := io.Pipe()
	defer typed.Close()
	done := make(chan liveRun)
	go func() {
		var out, errb bytes.Buffer
		code := Main([]string{"apply", b, "--netns", ns.Name, "--confirm-timeout", "20s"}, in, &out, &errb)
		done <- liveRun{code, out.String(), errb.String()}
	}()
	go typed.Write([]byte("yes\n"))
	tg := mustOpen(t, ns.Name)
	waitFor(t, 15*time.Second, func() bool {
		p, _ := live.LoadPending(tg)
		return p != nil && p.Applied != 0
	})
	out, err := exec.Command(bin, "confirm", "--netns", ns.Name).CombinedOutput()
	if err != nil {
		t.Fatalf("confirm from another shell: %v\n%s", err, out)
	}
	var r liveRun
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting apply did not end after confirm from another shell")
	}
	if r.code != 0 || !strings.Contains(r.stdout, "Confirmed from another shell") || strings.Contains(r.stdout+r.stderr, "not confirmed") {
		t.Fatalf("waiting apply after confirm from another shell: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if listed(t, ns) != compiled(t, b) {
		t.Error("the confirmed table does not stay")
	}
	if r := vw1("", "confirm", "--netns", ns.Name); r.code != 1 || !strings.Contains(r.stderr, "already confirmed") {
		t.Errorf("a second confirm: %d %s", r.code, r.stderr)
	}
}

// An untrusted state dir (world-writable) gets nothing: no warnings/, no
// applied/, no cache, no pending rollback; plan and apply say so, every
// time.
func TestUntrustedStateDirKeepsNothing(t *testing.T) {
	ns := gwNS(t, false)
	t.Setenv("VOICEWALL_EXE", voicewallBinary(t))
	dir := os.Getenv("VOICEWALL_STATE_DIR")
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	notice := dir + " is not trusted: world-writable; nothing is kept there"
	path := example("smb-blocklist")
	for _, args := range [][]string{
		{"plan", path, "--netns", ns.Name},
		{"apply", path, "--netns", ns.Name, "--auto-approve"},
		{"plan", path, "--netns", ns.Name},
		{"apply", path, "--netns", ns.Name, "--auto-approve"},
	} {
		r := vw1("", args...)
		if r.code != 0 || !strings.Contains(r.stdout, notice) {
			t.Errorf("%s: exit %d, does not say %q:\n%s%s", args[0], r.code, notice, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, "could not record") {
			t.Errorf("%s: the notice is repeated as a warning: %s", args[0], r.stderr)
		}
	}
	r := vw1("", "plan", path, "--netns", ns.Name, "--format", "json")
	if !strings.Contains(r.stdout, notice) {
		t.Errorf("plan --format json does not say it:\n%s", r.stdout)
	}
	r = vw1("", "apply", example("asterisk-udp-trunk"), "--netns", ns.Name, "--auto-approve", "--confirm-timeout", "30s")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot arm the rollback") {
		t.Errorf("apply --confirm-timeout into an untrusted state dir: exit %d %s", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("written into the untrusted state dir: %v", names)
	}
}
