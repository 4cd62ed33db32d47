package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProvidersListShow(t *testing.T) {
	t.Setenv("VOICEWALL_LIB_DIR", t.TempDir())
	code, out, errOut := run(t, "providers", "list")
	if code != 0 || !strings.Contains(out, "twilio-all") || !strings.Contains(out, "microsoft-teams") {
		t.Fatalf("list: %d %s %s", code, out, errOut)
	}
	// A filter: Teams's three entries by provider name, nothing else.
	code, out, errOut = run(t, "providers", "list", "Teams")
	if code != 0 || strings.Count(out, "microsoft-teams") != 3 || strings.Contains(out, "twilio") {
		t.Errorf("list Teams: %d %s %s", code, out, errOut)
	}
	if code, _, errOut = run(t, "providers", "list", "nosuch"); code != 1 || !strings.Contains(errOut, `contains "nosuch"`) {
		t.Errorf("list with a filter that matches nothing: %d %s", code, errOut)
	}
	code, out, _ = run(t, "providers", "show", "twilio-all")
	if code != 0 || !strings.Contains(out, "168.86.128.0/18") || !strings.Contains(out, "https://www.twilio.com/docs/sip-trunking/ip-addresses") || !strings.Contains(out, "verified:    2026-12-05") {
		t.Errorf("show: %s", out)
	}
	code, out, _ = run(t, "providers", "show", "telnyx-eu", "--format", "json")
	var e struct {
		Name    string
		Sources []struct{ URL string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &e) != nil || e.Name != "telnyx-eu" || len(e.Sources) == 0 {
		t.Errorf("show json: %d %s", code, out)
	}
	code, _, errOut = run(t, "providers", "show", "twilo-all")
	if code != 1 || !strings.Contains(errOut, `Did you mean "twilio-all"?`) {
		t.Errorf("unknown entry: %d %s", code, errOut)
	}
}

const checkPolicy = `target "nftables" {
  wan = "eth0"
  lan = "eth1"
}
provider "twilio" {
  # copied before 2023: signaling and the old per-region media ranges
  signaling  = ["54.172.60.0/30", "54.244.51.0/30", "177.71.206.192/30", "54.171.127.192/30", "35.156.191.128/30", "54.65.63.192/30", "54.169.127.128/30", "54.252.254.64/30"]
  media      = ["54.172.60.0/23", "54.244.51.0/24"]
  transports = ["tls"]
}
provider "teams" {
  catalog = "microsoft-teams"
  MEDIA
}
pbx "sbc" {
  address   = "10.20.0.20"
  providers = ["twilio", "teams"]
}
`

func TestProvidersCheck(t *testing.T) {
	t.Setenv("VOICEWALL_LIB_DIR", t.TempDir())
	t.Setenv("VOICEWALL_CATALOG_MAX_AGE", "0") // ages are asserted below, with --max-age
	dir := t.TempDir()
	write := func(src string) {
		if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Twilio written by hand with its pre-2023 media: told about
	// 168.86.128.0/18 by overlap; teams pins a range its entry lacks.
	write(strings.Replace(checkPolicy, "MEDIA", `media = ["13.107.64.0/18"]`, 1))
	code, out, errOut := run(t, "providers", "check", dir)
	if code != 2 {
		t.Fatalf("want exit 2, got %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{`provider "twilio" (p.hcl:5): DRIFT`, "overlap twilio-all", "missing  + 168.86.128.0/18", "stale    - 54.172.60.0/23", "stale    - 54.244.51.0/24",
		`provider "teams" (p.hcl:11): DRIFT`, "stale    - 13.107.64.0/18"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, "providers", "check", dir, "--format", "json")
	var res struct {
		Drift     bool
		Providers []struct {
			Provider string
			Drift    []struct {
				Kind, Entry    string
				Missing, Stale []string
			}
		}
	}
	if code != 2 || json.Unmarshal([]byte(out), &res) != nil || !res.Drift || len(res.Providers) != 2 {
		t.Fatalf("json: %d %s", code, out)
	}
	// Current: Twilio on today's media, teams from the catalog alone.
	fixed := strings.Replace(checkPolicy, `media      = ["54.172.60.0/23", "54.244.51.0/24"]`, `media      = ["168.86.128.0/18"]`, 1)
	write(strings.Replace(fixed, "MEDIA", "", 1))
	if code, out, errOut = run(t, "providers", "check", dir); code != 0 || !strings.Contains(out, "All 2 providers are current") {
		t.Errorf("want exit 0: %d %s %s", code, out, errOut)
	}
	// The same current policy, with entries older than --max-age: drift by
	// age, each provider naming its entry and the day it was verified.
	code, out, errOut = run(t, "providers", "check", dir, "--max-age", "1s")
	if code != 2 || !strings.Contains(out, "  age microsoft-teams:") || !strings.Contains(out, "  age twilio-all:") || !strings.Contains(out, "was last verified on 20") {
		t.Errorf("want exit 2 with age drift: %d %s %s", code, out, errOut)
	}
	if code, _, errOut = run(t, "providers", "check", dir, "--max-age", "soon"); code != 1 || !strings.Contains(errOut, "--max-age") {
		t.Errorf("a bad --max-age: want exit 1 naming the flag: %d %s", code, errOut)
	}
	t.Setenv("VOICEWALL_CATALOG_MAX_AGE", "1s")
	if code, out, _ = run(t, "providers", "check", dir); code != 2 || !strings.Contains(out, "  age twilio-all:") {
		t.Errorf("VOICEWALL_CATALOG_MAX_AGE: want age drift: %d %s", code, out)
	}
	t.Setenv("VOICEWALL_CATALOG_MAX_AGE", "0")
	// An unknown catalog entry: exit 1 with the located error.
	write(strings.Replace(strings.Replace(fixed, "MEDIA", "", 1), `"microsoft-teams"`, `"microsoft-team"`, 1))
	if code, _, errOut = run(t, "providers", "check", dir); code != 1 || !strings.Contains(errOut, "p.hcl:12") || !strings.Contains(errOut, `"microsoft-teams"`) {
		t.Errorf("want exit 1 with a located did-you-mean: %d %s", code, errOut)
	}
}

// audit --policy carries the same drift (VW313), located at the policy's
// provider block.
func TestAuditCarriesProviderDrift(t *testing.T) {
	t.Setenv("VOICEWALL_LIB_DIR", t.TempDir())
	t.Setenv("VOICEWALL_CATALOG_MAX_AGE", "0") // only the ranges' drift; the embedded entries' age grows with the clock
	dir, out := t.TempDir(), t.TempDir()
	src := strings.Replace(checkPolicy, "MEDIA", "", 1)
	if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "compile", dir, "--target", "fortigate", "-o", out); code != 0 {
		t.Fatalf("compile: %s", errOut)
	}
	code, stdout, stderr := run(t, "audit", "--target", "fortigate", filepath.Join(out, "fortigate.conf"), "--policy", dir)
	if code != 2 || !strings.Contains(stdout, "VW313") || !strings.Contains(stdout, "policy p.hcl:5") || !strings.Contains(stdout, "missing 168.86.128.0/18") {
		t.Errorf("audit: %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, `provider "teams"`) && strings.Contains(stdout, "VW313]: Provider ranges drifted") && strings.Count(stdout, "VW313") != 1 {
		t.Errorf("a current provider was reported:\n%s", stdout)
	}
}
