package responsive

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicewall/voicewall/lang"
)

// Lines as res_security_log writes them (the format of
// res/res_security_log.c: SecurityEvent="NAME" then the event's required
// and optional fields as ,Key="value"; addresses as main/json.c's
// ast_json_ipaddr writes them: IPV4|IPV6 / transport / address / port).
const (
	pjsipInvalidPassword  = `[Dec  5 13:00:01] SECURITY[1234] res_security_log.c: SecurityEvent="InvalidPassword",EventTV="2026-12-05T13:00:01.123+0000",Severity="Error",Service="PJSIP",EventVersion="2",AccountID="100",SessionID="abc@203.0.113.5",LocalAddress="IPV4/UDP/10.0.0.1/5060",RemoteAddress="IPV4/UDP/203.0.113.5/5060",Challenge="1f2e",ReceivedChallenge="1f2e",ReceivedHash="9a8b"`
	chanSIPInvalidAccount = `[Dec  5 13:00:02] SECURITY[1234] res_security_log.c: SecurityEvent="InvalidAccountID",EventTV="2026-12-05T13:00:02.000+0000",Severity="Error",Service="SIP",EventVersion="1",AccountID="sip:1000@192.0.2.1",SessionID="0x7f2c",LocalAddress="IPV4/UDP/192.0.2.1/5060",RemoteAddress="IPV4/UDP/198.51.100.7/5062"`
	pjsipSuccessV6        = `[Dec  5 13:00:03] SECURITY[1234] res_security_log.c: SecurityEvent="SuccessfulAuth",EventTV="2026-12-05T13:00:03.000+0000",Severity="Informational",Service="PJSIP",EventVersion="1",AccountID="201",SessionID="x",LocalAddress="IPV6/TLS/[2001:db8::1]/5061",RemoteAddress="IPV6/TLS/[2001:db8:77::9]/40212",UsingPassword="1"`
	noTransport           = `SecurityEvent="FailedACL",EventTV="t",Severity="Error",Service="AMI",EventVersion="1",AccountID="admin",SessionID="1",LocalAddress="IPV4/127.0.0.1/5038",RemoteAddress="IPV4/203.0.113.9/40000",ACLName="local"`
	forgedAccount         = `[Dec  5 13:00:04] SECURITY[1234] res_security_log.c: SecurityEvent="InvalidPassword",EventTV="t",Severity="Error",Service="PJSIP",EventVersion="2",AccountID="x",RemoteAddress="IPV4/UDP/203.0.113.10/5060",SessionID="s",LocalAddress="IPV4/UDP/10.0.0.1/5060",RemoteAddress="IPV4/UDP/198.51.100.9/5060"`
)

func TestParseAsterisk(t *testing.T) {
	for _, c := range []struct {
		line      string
		kind      EventKind
		service   string
		remote    string
		ok, ambig bool
	}{
		{pjsipInvalidPassword, EventInvalidPassword, "PJSIP", "203.0.113.5", true, false},
		{chanSIPInvalidAccount, EventInvalidAccountID, "SIP", "198.51.100.7", true, false},
		{pjsipSuccessV6, EventSuccessfulAuth, "PJSIP", "2001:db8:77::9", true, false},
		{noTransport, EventFailedACL, "AMI", "203.0.113.9", true, false},
		{forgedAccount, "", "", "", false, true},
		{`[Dec  5 13:00:05] NOTICE[1234] chan_sip.c: Registration from '<sip:100@x>' failed for '203.0.113.5:5060' - Wrong password`, "", "", "", false, false},
		{`SecurityEvent="InvalidPassword",RemoteAddress="IPV4/UDP/2001:db8::1/5060"`, "", "", "", false, true},
		{`SecurityEvent="InvalidPassword",RemoteAddress="IPV4/UDP/not-an-address/5060"`, "", "", "", false, true},
	} {
		ev, ok, ambig := ParseAsterisk(c.line)
		if ok != c.ok || ambig != c.ambig {
			t.Errorf("%.60s: ok %v ambiguous %v, want %v %v", c.line, ok, ambig, c.ok, c.ambig)
			continue
		}
		if ok && (ev.Kind != c.kind || ev.Service != c.service || ev.Remote.String() != c.remote) {
			t.Errorf("%.60s: got %+v", c.line, ev)
		}
	}
}

const trackerPolicy = `
provider "carrier" {
  signaling  = ["203.0.113.10"]
  media      = ["203.0.113.0/26"]
  transports = ["tls"]
}
pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["carrier"]
}
remote_phones {
  pbx       = "asterisk"
  trust_for = "90m"
}
ban {
  never = ["192.0.2.0/24"]
}
watch "asterisk" {
  failures = 3
  within   = "1m"
  ban_for  = "2h"
}
rate_limit {
  sip = "10/second"
}
log {
  dropped = true
}
`

func policy(t *testing.T) *lang.Policy {
	t.Helper()
	p, diags := lang.LoadSource("gw.hcl", []byte(trackerPolicy))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

func line(kind, addr string) string {
	return `SecurityEvent="` + kind + `",Service="PJSIP",AccountID="100",LocalAddress="IPV4/UDP/10.0.0.1/5060",RemoteAddress="IPV4/UDP/` + addr + `/5060"`
}

func TestTracker(t *testing.T) {
	p := policy(t)
	tr := NewTracker(p, p.Watches[0])
	t0 := time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)
	// Failures spread wider than the window never ban.
	for i := 0; i < 5; i++ {
		if d := tr.Line(line("InvalidPassword", "198.51.100.5"), t0.Add(time.Duration(i)*31*time.Second)); d.Action != ActNone {
			t.Fatalf("failure %d spread over minutes: %+v", i, d)
		}
	}
	// Three within a minute do.
	var d Decision
	for i := 0; i < 3; i++ {
		d = tr.Line(line("ChallengeResponseFailed", "198.51.100.6"), t0.Add(time.Duration(i)*10*time.Second))
	}
	if d.Action != ActBan || d.Addr.String() != "198.51.100.6" || d.For != 2*time.Hour {
		t.Fatalf("third failure: %+v", d)
	}
	// A success in between starts the count again, and trusts.
	tr.Line(line("InvalidPassword", "198.51.100.7"), t0)
	tr.Line(line("InvalidPassword", "198.51.100.7"), t0.Add(time.Second))
	if d := tr.Line(line("SuccessfulAuth", "198.51.100.7"), t0.Add(2*time.Second)); d.Action != ActTrust || d.For != 90*time.Minute {
		t.Fatalf("success: %+v", d)
	}
	if d := tr.Line(line("InvalidPassword", "198.51.100.7"), t0.Add(3*time.Second)); d.Action != ActNone {
		t.Fatalf("first failure after a success: %+v", d)
	}
	// The provider and ban.never are never banned.
	for _, a := range []string{"203.0.113.10", "203.0.113.20", "192.0.2.50", "10.20.0.10"} {
		for i := 0; i < 3; i++ {
			d = tr.Line(line("InvalidAccountID", a), t0)
		}
		if d.Action != ActRefused || !strings.Contains(d.Why, "never banned") {
			t.Errorf("%s: %+v", a, d)
		}
	}
	// ChallengeSent is not a failure.
	for i := 0; i < 5; i++ {
		if d := tr.Line(line("ChallengeSent", "198.51.100.8"), t0); d.Action != ActNone {
			t.Fatalf("ChallengeSent: %+v", d)
		}
	}
	m := string(tr.Metrics())
	for _, want := range []string{`voicewall_watch_events_total{event="InvalidPassword"} 8`, "voicewall_watch_bans_total 1", "voicewall_watch_trusts_total 1", "voicewall_watch_refused_total 4"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
}

func TestTrackerBounded(t *testing.T) {
	p := policy(t)
	tr := NewTracker(p, p.Watches[0])
	t0 := time.Now()
	for i := 0; i < 3*maxTracked; i++ {
		a := netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)})
		tr.Observe(Event{Kind: EventInvalidPassword, Remote: a}, t0.Add(time.Duration(i)*time.Millisecond))
	}
	if n := tr.Tracked(); n > maxTracked {
		t.Errorf("%d sources tracked, bound %d", n, maxTracked)
	}
}

// TestFollowRotation: the follower starts at the end, reads appended
// lines, finishes a renamed file and continues in the new one, and starts
// over after copytruncate.
func TestFollowRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "security")
	write := func(p, s string, flag int) {
		t.Helper()
		f, err := os.OpenFile(p, flag|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	write(path, "old history\n", os.O_CREATE|os.O_TRUNC)
	var mu sync.Mutex
	var got []string
	f := &Follower{Path: path, Poll: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- f.Run(ctx, func(l string) {
			mu.Lock()
			got = append(got, l)
			mu.Unlock()
		})
	}()
	wait := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			k := len(got)
			mu.Unlock()
			if k >= n {
				return
			}
		}
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("got %q, want %d lines", got, n)
	}
	time.Sleep(50 * time.Millisecond)
	write(path, "one\ntw", os.O_APPEND)
	write(path, "o\r\n", os.O_APPEND)
	wait(2)
	// logrotate's rename + create: a last line still goes to the old file.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write(path+".1", "three\n", os.O_APPEND)
	write(path, "four\n", os.O_CREATE|os.O_EXCL)
	wait(4)
	// copytruncate: the file is emptied in place.
	write(path, "", os.O_TRUNC)
	time.Sleep(50 * time.Millisecond)
	write(path, "five\n", os.O_APPEND)
	wait(5)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []string{"one", "two", "three", "four", "five"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("lines %q, want %q", got, want)
	}
}

// TestWatchMetricsDocumented: every family the watcher writes is in
// docs/monitoring.md, and the alert rule uses the events family.
func TestWatchMetricsDocumented(t *testing.T) {
	p := policy(t)
	tr := NewTracker(p, p.Watches[0])
	tr.Line(line("InvalidPassword", "198.51.100.5"), time.Now())
	docs, err := os.ReadFile("../docs/monitoring.md")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile("../contrib/prometheus/voicewall.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(tr.Metrics()), "\n") {
		if name, ok := strings.CutPrefix(l, "# TYPE "); ok {
			n++
			name = strings.Fields(name)[0]
			if !strings.Contains(string(docs), "`"+name+"`") {
				t.Errorf("%s is not documented in docs/monitoring.md", name)
			}
		}
	}
	if n < 5 || !strings.Contains(string(rules), "voicewall_watch_events_total") {
		t.Errorf("%d families; alert rule on the events: %v", n, strings.Contains(string(rules), "voicewall_watch_events_total"))
	}
}
