package responsive_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/internal/cli"
	"github.com/voicewall/voicewall/internal/netnstest"
	"github.com/voicewall/voicewall/lang"
	"github.com/voicewall/voicewall/responsive"
)

// trunkGateway is a gateway with one UDP trunk to a PBX, the base of the
// end-to-end policies.
const trunkGateway = `
target "nftables" {
  wan = "eth0"
  lan = "eth1"
}
provider "carrier" {
  signaling  = ["203.0.113.10"]
  media      = ["203.0.113.0/26"]
  transports = ["udp"]
}
pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["carrier"]
  rtp_ports = "10000-20000"
}
`

// e2ePolicy adds remote phones speaking UDP SIP (so plain datagrams can
// stand in for REGISTERs). LOG is replaced by the test's security log.
const e2ePolicy = trunkGateway + `remote_phones {
  pbx        = "asterisk"
  transports = ["udp"]
  rate       = "60/minute"
  burst      = 20
  trust_for  = "1h"
}
ban {
  default = "1h"
}
watch "asterisk" {
  log      = "LOG"
  failures = 3
  within   = "10m"
  ban_for  = "1h"
}
log {
  dropped = true
}
`

// secLine is one res_security_log line as Asterisk's logger writes it.
func secLine(event string, remote netip.Addr, extra string) string {
	fam := "IPV4"
	host := remote.String()
	if remote.Is6() {
		fam, host = "IPV6", "["+host+"]"
	}
	return fmt.Sprintf(`[Dec  5 13:00:00] SECURITY[4242] res_security_log.c: SecurityEvent="%s",EventTV="2026-12-05T13:00:00.000+0000",Severity="Error",Service="PJSIP",EventVersion="2",AccountID="100",SessionID="5e1f-call",LocalAddress="IPV4/UDP/10.20.0.10/5060",RemoteAddress="%s/UDP/%s/5060"%s`+"\n", event, fam, host, extra)
}

func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String() + errb.String()
}

// TestE2EResponsive: a remote phone's SIP reaches the PBX from any address,
// its RTP only once a SuccessfulAuth line trusts it; three failed
// registrations ban a stranger (its SIP no longer arrives); a provider's
// failures never ban it; the CLI bans and unbans; a ban survives the apply
// of a changed policy, and plan then says "No changes".
func TestE2EResponsive(t *testing.T) {
	if testing.Short() {
		t.Skip("network namespaces, real traffic: full lane")
	}
	netnstest.Require(t, "root", "ip", "nft")
	tp := netnstest.New(t)
	cfg := tp.Config
	t.Setenv("VOICEWALL_STATE_DIR", t.TempDir())
	t.Setenv("VOICEWALL_LIB_DIR", t.TempDir())
	dir := t.TempDir()
	logPath := filepath.Join(dir, "security")
	if err := os.WriteFile(logPath, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(dir, "policy")
	if err := os.Mkdir(pol, 0o755); err != nil {
		t.Fatal(err)
	}
	writePolicy := func(src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(pol, "gw.hcl"), []byte(strings.Replace(src, "LOG", logPath, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writePolicy(e2ePolicy)
	ns := tp.GW.Name
	if code, out := run(t, "apply", pol, "--netns", ns, "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d\n%s", code, out)
	}

	phone, stranger, provider := cfg.Attacker[0], cfg.Attacker[1], cfg.Provider[0]
	gw := cfg.GWWAN.Addr()
	sip := tp.ListenUDP(t, "pbx", netip.AddrPortFrom(cfg.PBX, 5060))
	rtp := tp.ListenUDP(t, "pbx", netip.AddrPortFrom(cfg.PBX, 15000))
	port := uint16(40000)
	send := func(label string, src netip.Addr, dport uint16) {
		t.Helper()
		port++
		if err := netnstest.SendUDPNative(tp.NS(label), netip.AddrPortFrom(src, port), netip.AddrPortFrom(gw, dport), 3, 200); err != nil {
			t.Fatal(err)
		}
	}
	arrives := func(l *netnstest.UDPListener, from netip.Addr, want bool, what string) {
		t.Helper()
		timeout := 2 * time.Second
		if !want {
			timeout = 500 * time.Millisecond
		}
		deadline := time.Now().Add(timeout)
		for time.Now().Before(deadline) && l.CountFrom(from) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
		if got := l.CountFrom(from) > 0; got != want {
			t.Errorf("%s: arrived %v, want %v", what, got, want)
			out, _ := tp.GW.Run("nft", "list", "ruleset")
			t.Log(out)
		}
	}
	check := func(label string, src netip.Addr, dport uint16, l *netnstest.UDPListener, want bool, what string) {
		t.Helper()
		l.Reset()
		send(label, src, dport)
		arrives(l, src, want, what)
	}

	check("attacker", phone, 5060, sip, true, "remote phone's SIP (untrusted, rate-limited) to the PBX")
	check("attacker", phone, 15000, rtp, false, "untrusted remote phone's RTP")

	p, diags := lang.Load(pol)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tg, err := live.Open(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	// The watcher records its bans as voicewall watch does.
	k := &responsive.Kernel{Target: tg, Policy: p, Store: responsive.StoreFor(ns)}
	decided := make(chan responsive.Decision, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- responsive.Watch(ctx, k, p.Watches[0], responsive.WatchOptions{Poll: 50 * time.Millisecond, Decided: func(d responsive.Decision, err error) {
			if err != nil {
				t.Errorf("%s %s: %v", d.Action, d.Addr, err)
			}
			decided <- d
		}})
	}()
	defer func() { cancel(); <-done }()
	time.Sleep(150 * time.Millisecond) // the follower is at the end of the log
	appendLog := func(lines ...string) time.Time {
		t.Helper()
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, l := range lines {
			if _, err := f.WriteString(l); err != nil {
				t.Fatal(err)
			}
		}
		return time.Now()
	}
	await := func(want responsive.Action, addr netip.Addr) time.Duration {
		t.Helper()
		start := time.Now()
		for {
			select {
			case d := <-decided:
				if d.Action == want && d.Addr == addr {
					return time.Since(start)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no %s of %s within 5s", want, addr)
			}
		}
	}

	// A successful registration trusts the phone: its RTP now reaches the PBX.
	appendLog(secLine("SuccessfulAuth", phone, `,UsingPassword="1"`))
	await(responsive.ActTrust, phone)
	check("attacker", phone, 15000, rtp, true, "trusted remote phone's RTP")

	// Three failed registrations ban the stranger.
	check("attacker", stranger, 5060, sip, true, "stranger's SIP before its failures")
	wrote := appendLog(secLine("InvalidPassword", stranger, ""), secLine("ChallengeResponseFailed", stranger, ""), secLine("InvalidAccountID", stranger, ""))
	await(responsive.ActBan, stranger)
	t.Logf("events to ban: %v from the third failure written to the ban in the kernel (log polled every 50ms)", time.Since(wrote).Round(time.Millisecond))
	check("attacker", stranger, 5060, sip, false, "banned stranger's SIP")
	check("attacker", phone, 5060, sip, true, "the trusted phone's SIP after the stranger's ban")

	// The provider's failures never ban it.
	appendLog(secLine("InvalidPassword", provider, ""), secLine("InvalidPassword", provider, ""), secLine("InvalidPassword", provider, ""))
	await(responsive.ActRefused, provider)
	check("provider", provider, 5060, sip, true, "provider's SIP after its own failed authentications")

	// The CLI: bans, lists, refuses a provider, unbans.
	if code, out := run(t, "ban", "198.51.100.128/25", "--for", "30m", "--netns", ns, "--policy", pol); code != 0 {
		t.Fatalf("ban: %s", out)
	}
	if code, out := run(t, "ban", provider.String(), "--netns", ns, "--policy", pol); code != 1 || !strings.Contains(out, `provider "carrier" signaling (gw.hcl:`) {
		t.Errorf("ban of the provider: exit %d\n%s", code, out)
	}
	code, out := run(t, "bans", "--netns", ns, "--format", "json")
	if code != 0 || !strings.Contains(out, `"address": "198.51.100.128/25"`) || !strings.Contains(out, `"reason": "watch"`) || !strings.Contains(out, `"reason": "cli"`) ||
		strings.Count(out, `"recorded": true`) != 2 {
		t.Errorf("bans: %d\n%s", code, out)
	}
	// Trusted phones are never recorded: trust is earned again.
	if recs, err := k.Store.Load(); err != nil || len(recs) != 2 {
		t.Errorf("recorded: %+v %v", recs, err)
	} else {
		for _, r := range recs {
			if r.Prefix.Addr() == phone {
				t.Errorf("the trusted phone %s is recorded: %+v", phone, r)
			}
		}
	}

	// A changed policy (the remote rate: its meter is recreated, so the
	// table is replaced whole) keeps every ban and trusted phone; plan
	// then has nothing to do.
	writePolicy(strings.Replace(e2ePolicy, `rate       = "60/minute"`, `rate       = "30/minute"`, 1))
	if code, out := run(t, "apply", pol, "--netns", ns, "--auto-approve"); code != 0 {
		t.Fatalf("apply of the changed policy: %d\n%s", code, out)
	}
	if code, out := run(t, "plan", pol, "--netns", ns, "--detailed-exitcode"); code != 0 || !strings.Contains(out, "No changes") {
		t.Errorf("plan after the apply: exit %d\n%s", code, out)
	}
	bans, err := k.Bans()
	if err != nil {
		t.Fatal(err)
	}
	if len(bans) != 2 {
		t.Errorf("bans after the changed apply: %+v", bans)
	}
	check("attacker", stranger, 5060, sip, false, "banned stranger's SIP after the changed apply")
	check("attacker", phone, 15000, rtp, true, "trusted phone's RTP after the changed apply")

	if code, out := run(t, "unban", stranger.String(), "--netns", ns); code != 0 {
		t.Fatalf("unban: %s", out)
	}
	check("attacker", stranger, 5060, sip, true, "unbanned stranger's SIP")
}
