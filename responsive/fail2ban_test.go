package responsive_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/internal/netnstest"
	"github.com/voicewall/voicewall/lang"
	"github.com/voicewall/voicewall/responsive"
)

// TestFail2banAction: the real fail2ban (Debian's package) runs a jail on
// a test log with contrib/fail2ban/action.d/voicewall.conf: two failures
// ban the source through voicewall ban (reason fail2ban) in the gateway's
// namespace, and fail2ban's unban lifts it.
func TestFail2banAction(t *testing.T) {
	if testing.Short() {
		t.Skip("fail2ban and network namespaces: full lane")
	}
	netnstest.Require(t, "root", "ip", "nft", "fail2ban-client")
	tp := netnstest.New(t)
	t.Setenv("VOICEWALL_STATE_DIR", t.TempDir())
	t.Setenv("VOICEWALL_LIB_DIR", t.TempDir())
	dir := t.TempDir()
	bin := filepath.Join(dir, "voicewall")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/voicewall").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	pol := filepath.Join(dir, "policy")
	if err := os.Mkdir(pol, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pol, "gw.hcl"), []byte(strings.Replace(e2ePolicy, "LOG", filepath.Join(dir, "security"), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	ns := tp.GW.Name
	if code, out := run(t, "apply", pol, "--netns", ns, "--auto-approve"); code != 0 {
		t.Fatalf("apply: %s", out)
	}

	// A fail2ban configuration of its own: server socket, pid and log in
	// the test's directory, one jail on a test log, the contrib action.
	conf := filepath.Join(dir, "f2b")
	for _, d := range []string{"action.d", "filter.d", "jail.d"} {
		if err := os.MkdirAll(filepath.Join(conf, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	action, err := os.ReadFile("../contrib/fail2ban/action.d/voicewall.conf")
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "auth.log")
	files := map[string]string{
		"action.d/voicewall.conf": string(action),
		"fail2ban.conf": fmt.Sprintf("[Definition]\nloglevel = INFO\nlogtarget = %s\nsocket = %s\npidfile = %s\ndbfile = :memory:\n",
			filepath.Join(dir, "fail2ban.log"), filepath.Join(dir, "f2b.sock"), filepath.Join(dir, "f2b.pid")),
		"filter.d/vwtest.conf": "[Definition]\nfailregex = ^auth failure from <HOST>$\n",
		"jail.conf":            fmt.Sprintf("[DEFAULT]\nbackend = polling\ndatepattern = {NONE}\n\n[vwtest]\nenabled = true\nfilter = vwtest\nlogpath = %s\nmaxretry = 2\nfindtime = 600\nbantime = 900\naction = voicewall[voicewall=%q, policy=%q, netns_opt=\"--netns %s\"]\n", logPath, bin, pol, ns),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(conf, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	client := func(args ...string) (string, error) {
		out, err := exec.Command("fail2ban-client", append([]string{"-c", conf}, args...)...).CombinedOutput()
		return string(out), err
	}
	ctx, cancel := context.WithCancel(context.Background())
	server := exec.CommandContext(ctx, "fail2ban-client", "-c", conf, "-x", "-f", "start")
	server.Env = append(os.Environ(), "PATH="+os.Getenv("PATH"))
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		client("stop")
		cancel()
		_ = server.Wait()
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if out, err := client("status", "vwtest"); err == nil && strings.Contains(out, "Currently banned") {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "fail2ban.log"))
			t.Fatalf("fail2ban did not start the jail:\n%s", log)
		}
		time.Sleep(200 * time.Millisecond)
	}

	tg, err := live.Open(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	p, diags := lang.Load(pol)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	k := &responsive.Kernel{Target: tg, Policy: p, Store: responsive.StoreFor(ns)}
	banned := func(addr string) *responsive.Ban {
		bans, err := k.Bans()
		if err != nil {
			t.Fatal(err)
		}
		for i := range bans {
			if bans[i].Address == addr {
				return &bans[i]
			}
		}
		return nil
	}
	stranger := tp.Config.Attacker[1]
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "auth failure from %s\nauth failure from %s\n", stranger, stranger)
	f.Close()
	var b *responsive.Ban
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if b = banned(stranger.String()); b != nil {
			break
		}
	}
	if b == nil {
		log, _ := os.ReadFile(filepath.Join(dir, "fail2ban.log"))
		t.Fatalf("fail2ban's actionban did not ban %s:\n%s", stranger, log)
	}
	if b.Reason != "fail2ban" || b.Timeout != 900 || !b.Recorded {
		t.Errorf("ban %+v: want reason fail2ban, timeout 900, recorded", b)
	}
	sip := tp.ListenUDP(t, "pbx", netip.AddrPortFrom(tp.Config.PBX, 5060))
	if err := netnstest.SendUDPNative(tp.Attacker, netip.AddrPortFrom(stranger, 41000), netip.AddrPortFrom(tp.Config.GWWAN.Addr(), 5060), 3, 200); err != nil {
		t.Fatal(err)
	}
	if sip.Wait(1, 500*time.Millisecond) != 0 {
		t.Error("SIP of the source fail2ban banned arrived")
	}

	if out, err := client("set", "vwtest", "unbanip", stranger.String()); err != nil {
		t.Fatalf("unbanip: %v %s", err, out)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && banned(stranger.String()) != nil; time.Sleep(200 * time.Millisecond) {
	}
	if banned(stranger.String()) != nil {
		t.Error("fail2ban's actionunban did not lift the ban")
	}
	if recs, err := k.Store.Load(); err != nil || len(recs) != 0 {
		t.Errorf("the record after fail2ban's unban: %+v %v", recs, err)
	}
}
