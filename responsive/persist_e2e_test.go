package responsive_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/internal/netnstest"
	"github.com/voicewall/voicewall/responsive"
)

const persistPolicy = trunkGateway + `ban {
  default = "1h"
}
`

// TestE2EBansSurviveReboot: bans are recorded; after the table is gone (a
// reboot) apply, and the boot unit's fallback to the last good table, put
// back the unexpired ones with what is left of their time, not the
// expired one; a ban the policy now protects is not put back (and leaves
// the record), nor kept in the kernel when the table stays.
func TestE2EBansSurviveReboot(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft")
	tp := netnstest.New(t)
	lib := t.TempDir()
	t.Setenv("VOICEWALL_LIB_DIR", lib)
	t.Setenv("VOICEWALL_STATE_DIR", t.TempDir())
	pol := filepath.Join(t.TempDir(), "policy")
	if err := os.Mkdir(pol, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(pol, "gw.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ns := tp.GW.Name
	apply := func(want int, extra ...string) string {
		t.Helper()
		code, out := run(t, append([]string{"apply", pol, "--netns", ns, "--auto-approve"}, extra...)...)
		if code != want {
			t.Fatalf("apply %v: exit %d, want %d\n%s", extra, code, want, out)
		}
		return out
	}
	reboot := func() {
		t.Helper()
		if out, err := tp.GW.Run("nft", "delete", "table", "inet", "voicewall"); err != nil {
			t.Fatalf("nft delete table: %v\n%s", err, out)
		}
		t.Setenv("VOICEWALL_STATE_DIR", t.TempDir()) // /run is a tmpfs
	}
	tg, err := live.Open(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	bans := func() map[string]responsive.Ban {
		t.Helper()
		code, out := run(t, "bans", "--netns", ns, "--format", "json")
		if code != 0 {
			t.Fatalf("bans: %d\n%s", code, out)
		}
		var list []responsive.Ban
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("bans: %v\n%s", err, out)
		}
		m := map[string]responsive.Ban{}
		for _, b := range list {
			m[b.Address] = b
		}
		return m
	}
	record := func() string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(lib, "bans", ns+".json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	write(persistPolicy)
	apply(0)
	const long, short, other, v6 = "198.51.100.7", "198.51.100.8", "198.51.100.64/26", "2001:db8:77::/48"
	banned := time.Now()
	for _, b := range [][]string{{long, "--for", "2h"}, {short, "--for", "3s"}, {other, "--for", "3h", "--reason", "fail2ban"}, {v6, "--for", "1h"}} {
		if code, out := run(t, append([]string{"ban", "--netns", ns, "--policy", pol}, b...)...); code != 0 {
			t.Fatalf("ban %v: %d\n%s", b, code, out)
		}
	}
	if code, out := run(t, "ban", "203.0.113.10", "--netns", ns, "--policy", pol); code != 1 {
		t.Fatalf("ban of the provider: %d\n%s", code, out)
	}
	if m := bans(); len(m) != 4 || !m[long].Recorded || !m[short].Recorded || !m[other].Recorded || !m[v6].Recorded {
		t.Fatalf("bans before the reboot: %+v", m)
	}
	if st, err := os.Stat(filepath.Join(lib, "bans", ns+".json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("record: %v %v", st, err)
	}
	if r := record(); strings.Contains(r, "203.0.113.10") || !strings.Contains(r, `"reason":"fail2ban"`) {
		t.Fatalf("record:\n%s", r)
	}

	// The reboot: the table is gone; the short ban expires meanwhile.
	reboot()
	time.Sleep(time.Until(banned.Add(3500 * time.Millisecond)))
	out := apply(0)
	if !strings.Contains(out, "Restored 3 recorded bans") {
		t.Errorf("apply after the reboot says:\n%s", out)
	}
	checkBack := func(when string, want ...string) {
		t.Helper()
		m := bans()
		if len(m) != len(want) {
			t.Errorf("%s: bans %+v, want %v", when, m, want)
		}
		for _, a := range want {
			b, ok := m[a]
			if !ok || !b.Recorded {
				t.Errorf("%s: %s not back (or not recorded): %+v", when, a, m)
			}
		}
		if _, ok := m[short]; ok {
			t.Errorf("%s: the expired ban of %s is back", when, short)
		}
		if b := m[long]; b.Timeout > 7200 || b.ExpiresIn > b.Timeout+1 || float64(b.Timeout) < 7200-time.Since(banned).Seconds()-2 {
			t.Errorf("%s: %s back with timeout %ds, %ds left (banned %v ago for 2h)", when, long, b.Timeout, b.ExpiresIn, time.Since(banned).Round(time.Second))
		}
	}
	checkBack("after the reboot's apply", long, other, v6)
	if strings.Contains(record(), short) {
		t.Errorf("the expired ban is still recorded:\n%s", record())
	}

	// A reboot whose policy does not load: the boot unit's fallback to the
	// last good table puts the bans back too, and still fails.
	reboot()
	write("provider {")
	out = apply(1, "--fallback-last-good")
	if !strings.Contains(out, "LAST GOOD TABLE") || !strings.Contains(out, "Restored 3 recorded bans") {
		t.Errorf("fallback says:\n%s", out)
	}
	checkBack("after the fallback", long, other, v6)

	// The long ban's address becomes a provider's, after a reboot: not
	// put back, named, and no longer recorded.
	reboot()
	write(strings.Replace(persistPolicy, `pbx "asterisk"`, "provider \"second\" {\n  signaling  = [\""+long+"\"]\n  media      = [\"198.51.100.0/28\"]\n  transports = [\"udp\"]\n}\npbx \"asterisk\"", 1) + "\n")
	out = apply(0)
	if !strings.Contains(out, "not restoring the ban of "+long) || !strings.Contains(out, `provider "second" signaling (gw.hcl:`) {
		t.Errorf("apply with the address protected says:\n%s", out)
	}
	if m := bans(); len(m) != 2 || m[long].Address != "" {
		t.Errorf("bans with %s protected: %+v", long, m)
	}
	if strings.Contains(record(), long) {
		t.Errorf("still recorded:\n%s", record())
	}

	// Without a reboot: a ban the kernel holds is lifted when the policy
	// comes to protect it.
	write(strings.Replace(persistPolicy, "default = \"1h\"", "default = \"1h\"\n  never   = [\"198.51.100.64/26\"]", 1))
	out = apply(0)
	if !strings.Contains(out, "not restoring the ban of "+other) {
		t.Errorf("apply protecting %s says:\n%s", other, out)
	}
	if m := bans(); len(m) != 1 || m[v6].Address == "" {
		t.Errorf("bans after protecting %s: %+v", other, m)
	}

	// unban removes it from both.
	if code, out := run(t, "unban", v6, "--netns", ns); code != 0 {
		t.Fatalf("unban: %s", out)
	}
	if m := bans(); len(m) != 0 || strings.Contains(record(), "2001:db8:77") {
		t.Errorf("after unban: %+v\n%s", m, record())
	}
	// A ban only the record holds is unbanned too.
	if code, out := run(t, "ban", "198.51.100.9", "--netns", ns, "--policy", pol); code != 0 {
		t.Fatalf("ban: %s", out)
	}
	reboot()
	if code, out := run(t, "unban", "198.51.100.9", "--netns", ns); code != 0 || !strings.Contains(out, "not banned in the kernel") {
		t.Errorf("unban of a recorded-only ban: %d\n%s", code, out)
	}
	if strings.Contains(record(), "198.51.100.9") {
		t.Errorf("still recorded:\n%s", record())
	}
}
