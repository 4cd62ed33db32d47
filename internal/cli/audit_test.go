package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditExitCodes: 0 clean, 2 findings, 1 for input audit cannot read
// (located), and the text output ends with the one-line summary.
func TestAuditExitCodes(t *testing.T) {
	golden := filepath.Join("..", "..", "golden", "asterisk-udp-trunk", "fortigate.conf")
	if r := vw1("", "audit", "--target", "fortigate", golden, "--policy", example("asterisk-udp-trunk")); r.code != 0 || !strings.Contains(r.stdout, ": clean") {
		t.Errorf("voicewall's own output: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	office := filepath.Join("..", "..", "audit", "testdata", "office-fortigate.conf")
	r := vw1("", "audit", "--target", "fortigate", office)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 2 || !strings.HasPrefix(lines[len(lines)-1], "audit of ") || !strings.Contains(r.stdout, "office-fortigate.conf:37: error[VW301]") {
		t.Errorf("office FortiGate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = vw1("", "audit", "--target", "fortigate", office, "--format", "json")
	var j struct {
		Clean    bool
		Findings []struct {
			ID   string
			Line int
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil || r.code != 2 || j.Clean || len(j.Findings) == 0 {
		t.Errorf("json: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	r = vw1("", "audit", "--target", "fortigate", office, "--format", "sarif")
	if r.code != 2 || !strings.Contains(r.stdout, `"ruleId": "VW301"`) {
		t.Errorf("sarif: exit %d\n%s", r.code, r.stdout)
	}
	bad := filepath.Join(t.TempDir(), "truncated.conf")
	if err := os.WriteFile(bad, []byte("config firewall policy\x1b[31m\n    edit 1\n        set action accept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = vw1("", "audit", "--target", "fortigate", bad)
	if r.code != 1 || !strings.Contains(r.stderr, "truncated.conf:1: config firewall policy\\x1b[31m is never closed") || !strings.Contains(r.stderr, "    1 | config firewall policy") || strings.Contains(r.stderr, "\x1b") {
		t.Errorf("truncated: exit %d\n%q", r.code, r.stderr)
	}
	if r := vw1("", "audit", "--target", "nftables", office); r.code != 1 {
		t.Errorf("unknown target: exit %d", r.code)
	}
	if r := vw1("", "audit", "--target", "pfsense", t.TempDir()); r.code != 1 || !strings.Contains(r.stderr, "not a regular file") {
		t.Errorf("directory: exit %d %s", r.code, r.stderr)
	}
}

// An nftables ruleset that does not say which interface is the WAN (no
// masquerade or snat): audit takes every interface it cannot place for one
// and says how to name it; --wan names it, and voicewall's own output for a
// voice VLAN then audits clean.
func TestAuditNftablesWAN(t *testing.T) {
	file := filepath.Join("..", "..", "golden", "ringcentral-phones", "nftables.nft")
	code, out, errOut := run(t, "audit", "--target", "nftables", file)
	if code != 2 || !strings.Contains(out, "name the WAN with voicewall audit --wan") || strings.Contains(out, "FortiOS") {
		t.Errorf("without --wan: %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut = run(t, "audit", "--target", "nftables", file, "--wan", "eth0"); code != 0 || !strings.Contains(out, "clean") {
		t.Errorf("--wan eth0: %d\n%s%s", code, out, errOut)
	}
	// Naming the voice VLAN's interface the WAN is believed: its phones'
	// SIP to RingCentral, accepted from anywhere on it, is then reported.
	if code, out, _ = run(t, "audit", "--target", "nftables", file, "--wan", "eth1.30"); code != 2 || !strings.Contains(out, "VW302") {
		t.Errorf("--wan eth1.30: %d\n%s", code, out)
	}
}
