package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/internal/netnstest"
)

type liveRun struct {
	code           int
	stdout, stderr string
}

func vw1(stdin string, args ...string) liveRun {
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return liveRun{code, out.String(), errb.String()}
}

func example(name string) string { return filepath.Join("..", "..", "examples", name) }

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// voicewallBinary builds cmd/voicewall once: the rollback helper is a
// separate process (VOICEWALL_EXE points apply at it).
func voicewallBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "voicewall-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "voicewall")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/voicewall").CombinedOutput()
		if err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("build voicewall: %v", binErr)
	}
	return binPath
}

// gwNS is a namespace with the devices the examples name: eth0, eth1 and
// (voice) eth1.20 as a macvlan stand-in.
func gwNS(t *testing.T, voice bool) *netnstest.NS {
	t.Helper()
	netnstest.Require(t, "root", "ip", "nft")
	t.Setenv("VOICEWALL_STATE_DIR", t.TempDir())
	ns := netnstest.NewNS(t, "cli")
	cmds := [][]string{
		{"ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"},
		{"ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peer1"},
	}
	if voice {
		cmds = append(cmds, []string{"ip", "link", "add", "eth1.20", "link", "eth1", "type", "macvlan", "mode", "bridge"})
	}
	for _, c := range cmds {
		if _, err := ns.Run(c...); err != nil {
			t.Fatal(err)
		}
	}
	return ns
}

var counters = regexp.MustCompile(`counter packets \d+ bytes \d+`)

func listed(t *testing.T, ns *netnstest.NS) string {
	t.Helper()
	out, err := ns.Run("nft", "list", "table", "inet", "voicewall")
	if err != nil {
		return ""
	}
	return counters.ReplaceAllString(out, "counter packets 0 bytes 0")
}

func compiled(t *testing.T, path string) string {
	t.Helper()
	p, d := registry.Load(path)
	if d.HasErrors() {
		t.Fatal(d)
	}
	return vw.Render(vw.Build(p))
}

func TestPlanApplyPlan(t *testing.T) {
	for _, ex := range []string{"asterisk-udp-trunk", "smb-blocklist", "hosted-tls-vlan", "dual-stack"} {
		t.Run(ex, func(t *testing.T) {
			ns := gwNS(t, true)
			if ex == "dual-stack" {
				// VLAN 30: a stand-in of that name.
				if _, err := ns.Run("ip", "link", "add", "eth1.30", "link", "eth1", "type", "macvlan", "mode", "bridge"); err != nil {
					t.Fatal(err)
				}
			}
			path := example(ex)
			if r := vw1("", "plan", path, "--netns", ns.Name, "--detailed-exitcode"); r.code != 2 || !strings.Contains(r.stdout, "will be created") {
				t.Fatalf("first plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if r := vw1("", "apply", path, "--netns", ns.Name); r.code != 1 || !strings.Contains(r.stderr, "--auto-approve") {
				t.Fatalf("apply without a terminal: exit %d\n%s", r.code, r.stderr)
			}
			if listed(t, ns) != "" {
				t.Fatal("refused apply changed the kernel")
			}
			r := vw1("", "apply", path, "--netns", ns.Name, "--auto-approve")
			if r.code != 0 || !strings.Contains(r.stdout, "Apply complete!") {
				t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if r := vw1("", "plan", path, "--netns", ns.Name, "--detailed-exitcode"); r.code != 0 || !strings.Contains(r.stdout, "No changes.") {
				t.Fatalf("plan after apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if got, want := listed(t, ns), compiled(t, path); got != want {
				t.Errorf("kernel listing differs from the compiled text")
			}
			if r := vw1("", "apply", path, "--netns", ns.Name, "--auto-approve"); r.code != 0 || !strings.Contains(r.stdout, "No changes.") {
				t.Errorf("unchanged apply: exit %d\n%s", r.code, r.stdout)
			}
		})
	}
}

func TestApplyPrompt(t *testing.T) {
	ns := gwNS(t, false)
	old := stdinIsTerminal
	stdinIsTerminal = func(any) bool { return true }
	defer func() { stdinIsTerminal = old }()
	path := example("asterisk-udp-trunk")
	if r := vw1("no\n", "apply", path, "--netns", ns.Name); r.code != 1 || !strings.Contains(r.stdout, "Apply cancelled.") {
		t.Fatalf("answer no: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if listed(t, ns) != "" {
		t.Fatal("cancelled apply changed the kernel")
	}
	if r := vw1("yes\n", "apply", path, "--netns", ns.Name); r.code != 0 || !strings.Contains(r.stdout, "Only 'yes' will be accepted") {
		t.Fatalf("answer yes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if listed(t, ns) != compiled(t, path) {
		t.Error("apply did not take")
	}
}

func TestSavedPlan(t *testing.T) {
	ns := gwNS(t, false)
	dir := t.TempDir()
	pf := filepath.Join(dir, "gw.plan")
	path := example("asterisk-udp-trunk")
	if r := vw1("", "plan", path, "--netns", ns.Name, "-out", pf); r.code != 0 {
		t.Fatalf("plan -out: %d %s", r.code, r.stderr)
	}
	// Someone changes the ruleset: the saved plan is stale.
	if _, err := ns.Run("nft", "add", "table", "ip", "other"); err != nil {
		t.Fatal(err)
	}
	r := vw1("", "apply", pf)
	if r.code != 1 || !strings.Contains(r.stderr, "changed since the plan was made") || listed(t, ns) != "" {
		t.Fatalf("stale plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := vw1("", "plan", path, "--netns", ns.Name, "-out", pf); r.code != 0 {
		t.Fatal(r.stderr)
	}
	// A saved plan applies without a prompt (it was reviewed).
	if r := vw1("", "apply", pf); r.code != 0 || listed(t, ns) != compiled(t, path) {
		t.Fatalf("fresh plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The policy changes after the plan: refused.
	edited := t.TempDir()
	src, _ := os.ReadFile(filepath.Join(path, "gateway.hcl"))
	os.WriteFile(filepath.Join(edited, "gateway.hcl"), src, 0o644)
	if r := vw1("", "plan", edited, "--netns", ns.Name, "-out", pf); r.code != 0 {
		t.Fatal(r.stderr)
	}
	os.WriteFile(filepath.Join(edited, "gateway.hcl"), bytes.Replace(src, []byte(`sip   = "10/second"`), []byte(`sip   = "12/second"`), 1), 0o644)
	if r := vw1("", "apply", pf); r.code != 1 || !strings.Contains(r.stderr, "no longer compiles") {
		t.Fatalf("edited policy: exit %d\n%s", r.code, r.stderr)
	}
	// The edit as a plan: one kind of rule changes in place.
	r = vw1("", "plan", edited, "--netns", ns.Name, "--format", "json")
	var jp jsonPlan
	if err := json.Unmarshal([]byte(r.stdout), &jp); err != nil {
		t.Fatal(err)
	}
	if jp.Summary["change"] != 4 || jp.Summary["add"] != 0 || jp.Summary["remove"] != 0 || jp.Recreate != "" {
		t.Errorf("rate edit: %+v", jp.Summary)
	}
	for _, c := range jp.Resources {
		if c.Op != "~" || c.Block != "rate_limit" || c.Source != "gateway.hcl:41" || !strings.Contains(c.After, "12/second") {
			t.Errorf("change %+v", c)
		}
	}
}

func TestLockoutGuard(t *testing.T) {
	ns := gwNS(t, false)
	path := example("smb-blocklist")
	t.Setenv("SSH_CONNECTION", "198.51.100.23 50022 192.0.2.1 22")
	r := vw1("", "apply", path, "--netns", ns.Name, "--auto-approve")
	if r.code != 1 || !strings.Contains(r.stderr, "would drop your own connection") || listed(t, ns) != "" {
		t.Fatalf("lock-out not refused: exit %d\n%s", r.code, r.stderr)
	}
	if r := vw1("", "apply", path, "--netns", ns.Name, "--auto-approve", "--force"); r.code != 0 {
		t.Fatalf("--force: exit %d\n%s", r.code, r.stderr)
	}
	t.Setenv("SSH_CONNECTION", "203.0.113.50 50022 192.0.2.1 22")
	if r := vw1("", "apply", example("asterisk-udp-trunk"), "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatalf("admin not blocked: exit %d\n%s", r.code, r.stderr)
	}
}

func TestPlanWarnsAboutSIPHelper(t *testing.T) {
	ns := gwNS(t, false)
	if _, err := ns.Run("nft", `add table ip raw; add ct helper ip raw sip5060 { type "sip" protocol udp; }; add chain ip raw pre { type filter hook prerouting priority raw; }; add rule ip raw pre udp dport 5060 ct helper set "sip5060"`); err != nil {
		t.Fatal(err)
	}
	r := vw1("", "plan", example("asterisk-udp-trunk"), "--netns", ns.Name)
	if r.code != 0 || strings.Count(r.stdout, "Warning: SIP ALG") != 2 {
		t.Errorf("plan: exit %d\n%s", r.code, r.stdout)
	}
}

func TestStatusFormats(t *testing.T) {
	ns := gwNS(t, false)
	path := example("smb-blocklist")
	if r := vw1("", "status", "--netns", ns.Name); r.code != 1 || !strings.Contains(r.stdout, "No table inet voicewall") {
		t.Errorf("status without table: %d %s", r.code, r.stdout)
	}
	vw1("", "apply", path, "--netns", ns.Name, "--auto-approve")
	r := vw1("", "status", path, "--netns", ns.Name, "--format", "prometheus")
	if r.code != 0 || !strings.Contains(r.stdout, `voicewall_packets_total{rule="blocklist_scanners_v4",block="blocklist \"scanners\"",kind="blocklist",reason="blocklist",chain="wan_in",action="drop",netns="`+ns.Name+`"} 0`) {
		t.Errorf("prometheus: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, `voicewall_blocklist_ranges{blocklist="scanners",family="ipv4"`) {
		t.Error("no blocklist sizes")
	}
	r = vw1("", "status", path, "--netns", ns.Name, "--format", "json")
	var js statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil || !js.Present || len(js.Rules) == 0 {
		t.Errorf("json: %v %+v", err, js)
	}
	r = vw1("", "status", path, "--netns", ns.Name)
	if r.code != 0 || !strings.Contains(r.stdout, `blocklist "scanners" (policy.hcl:35)`) || !strings.Contains(r.stdout, "dropped: blocklisted sources") {
		t.Errorf("text:\n%s", r.stdout)
	}
}

// TestVLANLinkCreation: apply creates the parent.id VLAN link. This
// machine kind's kernel has no 802.1Q: the test skips with that reason.
func TestVLANLinkCreation(t *testing.T) {
	ns := gwNS(t, false)
	path := example("hosted-tls-vlan")
	r := vw1("", "plan", path, "--netns", ns.Name)
	want := "+ create VLAN link eth1.20 (802.1Q id 20 on eth1)"
	if !live.VLANSupported() {
		want = "! eth1.20 cannot be created"
	}
	if !strings.Contains(r.stdout, want) {
		t.Fatalf("plan does not show the link (%q):\n%s", want, r.stdout)
	}
	r = vw1("", "apply", path, "--netns", ns.Name, "--auto-approve")
	if r.code != 0 {
		t.Fatalf("apply: %d %s", r.code, r.stderr)
	}
	if !live.VLANSupported() || strings.Contains(r.stderr, "operation not supported") {
		// Without 802.1Q the table is still applied, with a warning.
		if listed(t, ns) == "" {
			t.Error("the table was not applied although only the VLAN link failed")
		}
		if !strings.Contains(r.stderr+r.stdout, "eth1.20 cannot be created") && !strings.Contains(r.stderr, "Warning:") {
			t.Errorf("no warning about the missing VLAN link:\n%s\n%s", r.stdout, r.stderr)
		}
		t.Skipf("no 802.1Q VLAN support in this kernel (EOPNOTSUPP), link creation not testable: %s", strings.TrimSpace(r.stderr))
	}
	out, _ := ns.Run("ip", "-d", "link", "show", "eth1.20")
	if !strings.Contains(out, "vlan protocol 802.1Q id 20") {
		t.Errorf("link: %s", out)
	}
}

func TestConfirmTimeout(t *testing.T) {
	ns := gwNS(t, false)
	t.Setenv("VOICEWALL_EXE", voicewallBinary(t))
	a, b := example("smb-blocklist"), example("asterisk-udp-trunk")
	if r := vw1("", "apply", a, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	before := listed(t, ns)

	// Not confirmed: the helper restores the previous table after the
	// timeout, although the apply process (a real voicewall process here)
	// is long gone.
	out, err := exec.Command(voicewallBinary(t), "apply", b, "--netns", ns.Name, "--auto-approve", "--confirm-timeout", "1s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "unless you run `voicewall confirm --netns "+ns.Name+"`") {
		t.Fatalf("apply --confirm-timeout: %v\n%s", err, out)
	}
	if listed(t, ns) != compiled(t, b) {
		t.Fatal("apply did not take")
	}
	if r := vw1("", "apply", a, "--netns", ns.Name, "--auto-approve"); r.code != 1 || !strings.Contains(r.stderr, "waiting for confirmation") {
		t.Errorf("apply while a rollback is pending: %d %s", r.code, r.stderr)
	}
	waitFor(t, 5*time.Second, func() bool { return listed(t, ns) == before })
	if r := vw1("", "confirm", "--netns", ns.Name); r.code != 1 || !strings.Contains(r.stderr, "not confirmed in time") {
		t.Errorf("confirm after the rollback: %d %s", r.code, r.stderr)
	}
	// The log of a rollback that ran stays: it says what was restored.
	helperLog := live.LogPath(live.PendingPath(mustOpen(t, ns.Name)))
	waitFor(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(helperLog)
		return strings.Contains(string(b), "voicewall rollback at")
	})

	// Confirmed from another shell: the new table stays.
	var r liveRun
	if r := vw1("", "apply", b, "--netns", ns.Name, "--auto-approve", "--confirm-timeout", "1s"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := vw1("", "confirm", "--netns", ns.Name); r.code != 0 {
		t.Fatalf("confirm: %d %s", r.code, r.stderr)
	}
	time.Sleep(1500 * time.Millisecond)
	if listed(t, ns) != compiled(t, b) {
		t.Error("confirmed apply was rolled back")
	}
	if _, err := os.Stat(helperLog); !os.IsNotExist(err) {
		t.Errorf("a confirmed apply's helper log is left behind: %v", err)
	}

	// Typed at the prompt.
	old := stdinIsTerminal
	stdinIsTerminal = func(any) bool { return true }
	defer func() { stdinIsTerminal = old }()
	r = vw1("yes\nconfirm\n", "apply", a, "--netns", ns.Name, "--confirm-timeout", "5s")
	if r.code != 0 || !strings.Contains(r.stdout, "Confirmed: the new configuration stays.") {
		t.Fatalf("typed confirm: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Confirmed at the prompt is confirmed: the table is the last good one
	// boot falls back to, as with voicewall confirm.
	st, err := live.Read(mustOpen(t, ns.Name), live.ReadOptions{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := st.Table()
	if err != nil {
		t.Fatal(err)
	}
	if lg, err := live.LoadLastGood(ns.Name); err != nil || lg.Digest != live.Digest(tab) {
		t.Errorf("a confirm typed at the prompt did not keep the table as the last good one: %v", err)
	}
	// Nothing typed (end of input): the apply waits, the helper restores.
	r = vw1("yes\n", "apply", b, "--netns", ns.Name, "--confirm-timeout", "1s")
	if r.code != 1 || !strings.Contains(r.stdout, "Not confirmed in time: restored the previous voicewall table") {
		t.Fatalf("no confirm typed: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if listed(t, ns) != before {
		t.Error("previous table not restored")
	}
	if p, _ := live.LoadPending(mustOpen(t, ns.Name)); p != nil {
		t.Error("pending file left behind")
	}

	// While an apply awaits confirmation, plan and status both say so, and
	// until when, in text and JSON.
	stdinIsTerminal = old // no prompt: apply returns while the helper waits
	if r := vw1("", "apply", b, "--netns", ns.Name, "--auto-approve", "--confirm-timeout", "2m"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	p, _ := live.LoadPending(mustOpen(t, ns.Name))
	if p == nil {
		t.Fatal("no pending file")
	}
	until := p.Deadline.Local().Format("15:04:05")
	for _, args := range [][]string{{"plan", b}, {"status"}} {
		r := vw1("", append(args, "--netns", ns.Name)...)
		if !strings.Contains(r.stdout, "voicewall confirm --netns "+ns.Name) || !strings.Contains(r.stdout, until) || !strings.Contains(r.stdout, "rollback") {
			t.Errorf("%s during a pending rollback does not say so:\n%s%s", args[0], r.stdout, r.stderr)
		}
		r = vw1("", append(args, "--netns", ns.Name, "--format", "json")...)
		var j struct {
			Pending *struct {
				Deadline time.Time `json:"deadline"`
				Confirm  string    `json:"confirm_command"`
				Alive    bool      `json:"helper_alive"`
			} `json:"pending_confirmation"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &j); err != nil || j.Pending == nil || !j.Pending.Deadline.Equal(p.Deadline) || !j.Pending.Alive || j.Pending.Confirm != "voicewall confirm --netns "+ns.Name {
			t.Errorf("%s --format json during a pending rollback: %v %+v\n%s", args[0], err, j.Pending, r.stdout)
		}
	}
	if r := vw1("", "confirm", "--netns", ns.Name); r.code != 0 {
		t.Fatalf("confirm: %d %s", r.code, r.stderr)
	}
	if r := vw1("", "status", "--netns", ns.Name, "--format", "json"); strings.Contains(r.stdout, "pending_confirmation") {
		t.Errorf("status still shows a pending rollback after confirm:\n%s", r.stdout)
	}
}

func mustOpen(t *testing.T, name string) *live.Target {
	tg, err := live.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
