package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicewall/voicewall/responsive"
)

const rollbackBanPolicy = `
target "nftables" {
  wan = "eth0"
  lan = "eth1"
}
provider "carrier" {
  signaling  = ["203.0.113.10"]
  media      = ["203.0.113.0/26"]
  transports = ["tls"]
}
pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["carrier"]
}
ban {
  default = "1h"
}
`

// TestRollbackRestoresRecordedBans: a rollback (an apply not confirmed in
// time) recreates the previous table with empty ban sets; the helper puts
// the recorded bans back, with what is left of their time.
func TestRollbackRestoresRecordedBans(t *testing.T) {
	ns := gwNS(t, false)
	t.Setenv("VOICEWALL_LIB_DIR", t.TempDir())
	t.Setenv("VOICEWALL_EXE", voicewallBinary(t))
	pol := t.TempDir()
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(pol, "gw.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(rollbackBanPolicy)
	if r := vw1("", "apply", pol, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := vw1("", "ban", "198.51.100.7", "--for", "2h", "--netns", ns.Name, "--policy", pol); r.code != 0 {
		t.Fatalf("ban: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	before := listed(t, ns)
	// A change the previous table differs from; not confirmed.
	write(strings.Replace(rollbackBanPolicy, `["203.0.113.10"]`, `["203.0.113.10", "203.0.113.20"]`, 1))
	if r := vw1("", "apply", pol, "--netns", ns.Name, "--auto-approve", "--confirm-timeout", "1s"); r.code != 0 {
		t.Fatalf("apply --confirm-timeout: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var bans []responsive.Ban
	deadline := time.Now().Add(15 * time.Second)
	for {
		if listed(t, ns) != "" && !strings.Contains(listed(t, ns), "203.0.113.20") {
			r := vw1("", "bans", "--netns", ns.Name, "--format", "json")
			bans = nil
			if r.code == 0 && json.Unmarshal([]byte(r.stdout), &bans) == nil && len(bans) == 1 {
				break
			}
		}
		if time.Now().After(deadline) {
			logs, _ := filepath.Glob(filepath.Join(os.Getenv("VOICEWALL_STATE_DIR"), "pending", "*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", l, b)
			}
			t.Fatalf("no rollback with the ban restored within 15s; bans %+v\n%s", bans, listed(t, ns))
		}
		time.Sleep(200 * time.Millisecond)
	}
	b := bans[0]
	if b.Address != "198.51.100.7" || !b.Recorded || b.Timeout > 7200 || b.Timeout < 7200-30 {
		t.Errorf("after the rollback: %+v", b)
	}
	if got := listed(t, ns); !strings.Contains(got, "198.51.100.7") || strings.Count(got, "\n") != strings.Count(before, "\n") {
		t.Errorf("after the rollback the table is not the previous one with its ban:\nbefore\n%s\nafter\n%s", before, got)
	}
}
