package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voicewall/voicewall/internal/netnstest"
)

const dnsPolicy = `target "nftables" {
  wan = "eth0"
  lan = "eth1"
}
provider "carrier" {
  signaling_dns = ["sip.carrier.test", "_sips._tcp.carrier.test"]
  media         = ["198.51.100.128/25"]
  transports    = ["tls"]
}
pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["carrier"]
}
`

// dnsLab is a gateway namespace whose resolver is a real dnsmasq answering
// on the namespace's own address, configured for `ip netns exec` through
// /etc/netns/NAME/resolv.conf (removed when the test ends).
type dnsLab struct {
	t       *testing.T
	ns      *netnstest.NS
	hosts   string
	dnsmasq *exec.Cmd
	policy  string
	env     []string
}

func newDNSLab(t *testing.T) *dnsLab {
	netnstest.Require(t, "root", "ip", "nft", "dnsmasq")
	ns := netnstest.NewNS(t, "providers-dns")
	for _, c := range [][]string{
		{"ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"},
		{"ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peer1"},
		{"ip", "addr", "add", "10.99.53.1/24", "dev", "eth1"},
		{"ip", "link", "set", "eth0", "up"},
		{"ip", "link", "set", "eth1", "up"},
		{"ip", "link", "set", "peer0", "up"},
		{"ip", "link", "set", "peer1", "up"},
	} {
		if _, err := ns.Run(c...); err != nil {
			t.Fatal(err)
		}
	}
	etc := filepath.Join("/etc/netns", ns.Name)
	if _, err := os.Stat("/etc/netns"); os.IsNotExist(err) {
		t.Cleanup(func() { os.Remove("/etc/netns") }) // ours, and only when empty again
	}
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	if err := os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte("nameserver 10.99.53.1\noptions timeout:1 attempts:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l := &dnsLab{t: t, ns: ns, hosts: filepath.Join(dir, "hosts"), policy: filepath.Join(dir, "policy")}
	if err := os.Mkdir(l.policy, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.policy, "p.hcl"), []byte(dnsPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	l.env = append(os.Environ(), "VOICEWALL_LIB_DIR="+filepath.Join(dir, "lib"), "VOICEWALL_STATE_DIR="+filepath.Join(dir, "state"), "VOICEWALL_NO_FASTPATH=1")
	return l
}

// startDNS runs dnsmasq in the namespace: sip.carrier.test and the SRV
// target sip2.carrier.test from the hosts file.
func (l *dnsLab) startDNS(hosts string) {
	l.t.Helper()
	l.writeHosts(hosts)
	cmd := l.ns.Command(l.t.Context(), "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
		"--listen-address=10.99.53.1", "--except-interface=lo", "--pid-file=", "--user=root", "--addn-hosts="+l.hosts,
		"--srv-host=_sips._tcp.carrier.test,sip2.carrier.test,5061,10,10", "--log-facility=-")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.dnsmasq = cmd
	l.t.Cleanup(l.stopDNS)
	for i := 0; i < 50; i++ { // until it answers
		if out, err := l.ns.Run("getent", "hosts", "sip.carrier.test"); err == nil && out != "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.t.Fatal("dnsmasq does not answer")
}

func (l *dnsLab) writeHosts(s string) {
	if err := os.WriteFile(l.hosts, []byte(s), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// reload makes dnsmasq read the hosts file again (SIGHUP).
func (l *dnsLab) reload(hosts string) {
	l.writeHosts(hosts)
	if err := l.dnsmasq.Process.Signal(syscall.SIGHUP); err != nil {
		l.t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
}

func (l *dnsLab) stopDNS() {
	if l.dnsmasq != nil && l.dnsmasq.Process != nil {
		_ = l.dnsmasq.Process.Kill() // our own child, by pid
		_ = l.dnsmasq.Wait()
		l.dnsmasq = nil
	}
}

// vw runs voicewall inside the namespace as `ip netns exec NAME voicewall`.
func (l *dnsLab) vw(args ...string) (int, string) {
	l.t.Helper()
	cmd := l.ns.Command(l.t.Context(), append([]string{voicewallBinary(l.t)}, args...)...)
	cmd.Env = l.env
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		l.t.Fatal(err)
	}
	return code, string(out)
}

func TestSignalingDNSThroughRealResolver(t *testing.T) {
	l := newDNSLab(t)
	l.startDNS("198.51.100.11 sip.carrier.test\n198.51.100.21 sip2.carrier.test\n")

	code, out := l.vw("plan", l.policy)
	if code != 0 || !strings.Contains(out, "198.51.100.11") || !strings.Contains(out, "198.51.100.21") {
		t.Fatalf("first plan (%d) lacks the A and the SRV target's answers:\n%s", code, out)
	}
	if code, out = l.vw("apply", l.policy, "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d\n%s", code, out)
	}
	if code, out = l.vw("providers", "check", l.policy); code != 0 {
		t.Fatalf("check right after apply: %d\n%s", code, out)
	}
	kernel, err := l.ns.Run("nft", "list", "table", "inet", "voicewall")
	if err != nil || !strings.Contains(kernel, "198.51.100.11") || !strings.Contains(kernel, "198.51.100.21") {
		t.Fatalf("the kernel's set lacks the answers: %v\n%s", err, kernel)
	}
	// The compiled file's header names the answers and when they were resolved.
	outDir := t.TempDir()
	if code, out = l.vw("compile", l.policy, "--target", "nftables", "-o", outDir); code != 0 {
		t.Fatalf("compile: %s", out)
	}
	if data, _ := os.ReadFile(filepath.Join(outDir, "nftables.nft")); !strings.Contains(string(data), "signaling_dns sip.carrier.test -> 198.51.100.11 (resolved 20") {
		t.Errorf("header lacks the resolution:\n%s", data)
	}

	// The provider adds an address: a plan change, and check drifts.
	l.reload("198.51.100.11 sip.carrier.test\n198.51.100.12 sip.carrier.test\n198.51.100.21 sip2.carrier.test\n")
	code, out = l.vw("plan", l.policy, "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "+ 198.51.100.12") {
		t.Fatalf("changed answer is not a plan change (%d):\n%s", code, out)
	}
	code, out = l.vw("providers", "check", l.policy)
	if code != 2 || !strings.Contains(out, "missing  + 198.51.100.12") {
		t.Fatalf("check does not report the new answer (%d):\n%s", code, out)
	}
	if code, out = l.vw("apply", l.policy, "--auto-approve"); code != 0 {
		t.Fatalf("apply: %s", out)
	}

	// providers update PATH resolves and keeps the answers for units that
	// have no network (VOICEWALL_DNS=kept); its downloads fail here (a closed
	// local port), which it says without losing the DNS answers.
	l.reload("198.51.100.11 sip.carrier.test\n198.51.100.12 sip.carrier.test\n198.51.100.13 sip.carrier.test\n198.51.100.21 sip2.carrier.test\n")
	code, out = l.vw("providers", "update", l.policy, "--source", "zoom-phone=https://127.0.0.1:1/z.txt", "--source", "microsoft-teams=https://127.0.0.1:1/e", "--source", "microsoft-teams.version=https://127.0.0.1:1/v", "--source", "didww=https://127.0.0.1:1/d")
	if !strings.Contains(out, "dns sip.carrier.test: resolved: 198.51.100.11, 198.51.100.12, 198.51.100.13") || !strings.Contains(out, "REFUSED") {
		t.Fatalf("providers update PATH (%d):\n%s", code, out)
	}
	l.stopDNS()
	kept := append(l.env, "VOICEWALL_DNS=kept")
	env := l.env
	l.env = kept
	code, out = l.vw("plan", l.policy, "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "+ 198.51.100.13") || strings.Contains(out, "DNS failed") {
		t.Fatalf("VOICEWALL_DNS=kept: want the kept answer planned without a lookup (%d):\n%s", code, out)
	}
	l.env = env

	// DNS down: the last answers are kept (never an empty set) and said.
	code, out = l.vw("plan", l.policy, "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "DNS failed: last answers kept") || !strings.Contains(out, "sip.carrier.test") || !strings.Contains(out, " old)") {
		t.Fatalf("DNS down: want no change and the kept answer said (%d):\n%s", code, out)
	}
	if strings.Contains(out, "- 198.51.100.") {
		t.Fatalf("DNS down removed addresses:\n%s", out)
	}
	code, out = l.vw("providers", "check", l.policy)
	if code != 2 || !strings.Contains(out, "does not resolve now") {
		t.Errorf("check with DNS down (%d):\n%s", code, out)
	}

	// No answer and none kept: compile stops with a located error.
	l.env = append(l.env, "VOICEWALL_LIB_DIR="+t.TempDir())
	code, out = l.vw("compile", l.policy, "--target", "nftables")
	if code != 1 || !strings.Contains(out, "p.hcl:6") || !strings.Contains(out, "No DNS answer and none kept") {
		t.Errorf("want a located VW051 (%d):\n%s", code, out)
	}
}
