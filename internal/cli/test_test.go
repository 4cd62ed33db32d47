package cli

import (
	"bytes"
	"encoding/json"
	"github.com/voicewall/voicewall/internal/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(args, strings.NewReader(""), &o, &e)
	return code, o.String(), e.String()
}

func writePolicy(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gw.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const testPolicy = `provider "carrier" {
  signaling  = ["203.0.113.10"]
  media      = ["203.0.113.64/26"]
  transports = ["udp"]
}

rate_limit {
  sip = "10/second"
}

log {
  dropped = true
}

expect "carrier sip" {
  from    = "203.0.113.10"
  to      = "5060/udp"
  verdict = "accept"
}

expect "scanner is dropped" {
  from    = "198.51.100.1"
  to      = "5060/udp"
  verdict = "drop"
}

expect "wrong on purpose" {
  from    = "198.51.100.1"
  to      = "15000/udp"
  verdict = "accept"
}
`

// exampleDirs lists the example policies (relative to the working directory).
func exampleDirs(t *testing.T) []string {
	t.Helper()
	dirs := testenv.ExampleDirs(t, "../..")
	if len(dirs) == 0 {
		t.Fatal("no examples")
	}
	return dirs
}

func TestTestCommandExamples(t *testing.T) {
	for _, dir := range exampleDirs(t) {
		code, out, errOut := run(t, "test", dir)
		if code != 0 || !strings.Contains(out, "ok: all ") || strings.Contains(out, "FAIL") {
			t.Errorf("%s: exit %d\n%s%s", dir, code, out, errOut)
		}
	}
}

func TestTestCommandFailure(t *testing.T) {
	dir := writePolicy(t, testPolicy)
	code, out, _ := run(t, "test", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	file := filepath.ToSlash(filepath.Join(dir, "gw.hcl"))
	for _, want := range []string{
		// The expect and the deciding rule are located the same way: from here.
		"PASS  carrier sip (" + file + ":15): accept by SIP over udp from provider carrier (" + file + ":1)",
		`from provider "carrier" (` + file + `:1)`,
		"PASS  scanner is dropped (" + file + ":21): drop by SIP from anyone but a provider (built in)",
		"FAIL  wrong on purpose (" + file + ":27): expected accept, got drop",
		"packet: 198.51.100.1 (zone wan) -> the gateway 15000/udp",
		"drop by RTP from anyone but provider media",
		"FAILED: 1 of 3 expectations do not hold.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "FAIL  "); n != 1 {
		t.Errorf("%d failures printed:\n%s", n, out)
	}

	code, out, _ = run(t, "test", dir, "--format", "json")
	if code != 1 {
		t.Fatalf("json exit %d", code)
	}
	var rep jsonTestReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Total != 3 || rep.Passed != 2 || rep.Failed != 1 {
		t.Fatalf("%+v", rep)
	}
	f := rep.Results[2]
	if f.Pass || f.Line != 27 || f.Expected != "accept" || f.Actual != "drop" || f.RuleID != "rtp_drop" || len(f.Trace) == 0 {
		t.Errorf("%+v", f)
	}
	if r := rep.Results[0]; r.RuleID != "provider_carrier_sip_udp" || r.Source != `provider "carrier" (`+file+`:1)` || r.File+":1" != file+":1" {
		t.Errorf("%+v", r)
	}
}

func TestTestCommandNoExpects(t *testing.T) {
	dir := writePolicy(t, strings.Split(testPolicy, "expect")[0])
	code, out, errOut := run(t, "test", dir)
	if code != 0 || !strings.Contains(out, "no expect blocks") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, "test", dir, "--format", "json")
	if code != 0 || !strings.Contains(out, `"total": 0`) {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestTestCommandInvalid(t *testing.T) {
	dir := writePolicy(t, testPolicy+`
expect "bad" {
  from    = "203.0.113.10"
  to      = "5060/udp"
  verdict = "allow"
}
`)
	code, out, errOut := run(t, "test", dir)
	if code != 1 || !strings.Contains(errOut, "gw.hcl:36:") || !strings.Contains(errOut, "Bad verdict") || strings.Contains(out, "PASS") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, out, _ = run(t, "test", dir, "--format", "json")
	if code != 1 || !strings.Contains(out, `"valid": false`) || !strings.Contains(out, "VW040") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if code, _, _ := run(t, "test", dir, "--format", "xml"); code != 1 {
		t.Fatalf("bad format: exit %d", code)
	}
}

func TestExplainCommand(t *testing.T) {
	dir := writePolicy(t, testPolicy)
	code, out, errOut := run(t, "explain", dir, "--from", "203.0.113.10", "--to", "5060/udp")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{
		"packet: 203.0.113.10 (zone wan) -> the gateway 5060/udp",
		"wan chain",
		"checked SIP rate limit 10/second per source (gw.hcl:7): continue",
		"checked replies of SIP/RTP flows already allowed (built in): no match",
		"SIP over udp from provider carrier (gw.hcl:1): accept (source 203.0.113.10 in provider_carrier_signaling",
		"verdict: accept by SIP over udp from provider carrier (gw.hcl:1)",
		`decided by rule provider_carrier_sip_udp from provider "carrier" (gw.hcl:1)`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, "explain", dir, "--from", "198.51.100.1", "--to", "443/tcp")
	if code != 0 || !strings.Contains(out, "not managed by voicewall") {
		t.Errorf("exit %d\n%s", code, out)
	}
	code, out, _ = run(t, "explain", dir, "--from", "2001:db8::1", "--from-port", "5060", "--to", "[2001:db8::2]:5060/udp", "--zone", "wan", "--format", "json")
	var j jsonExplain
	if err := json.Unmarshal([]byte(out), &j); code != 0 || err != nil || j.Verdict != "drop" || j.RuleID != "sip_drop" || j.OutZone != "lan" || len(j.Trace) == 0 {
		t.Errorf("exit %d %v\n%s", code, err, out)
	}
	for _, bad := range [][]string{
		{"--from", "nope", "--to", "5060/udp"},
		{"--from", "1.2.3.4", "--to", "5060/icmp"},
		{"--from", "1.2.3.4", "--to", "[2001:db8::1]:5060/udp"},
		{"--from", "1.2.3.4", "--to", "5060/udp", "--zone", "dmz"},
		{"--to", "5060/udp"},
	} {
		if code, _, errOut := run(t, append([]string{"explain", dir}, bad...)...); code != 1 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errOut)
		}
	}
}

// validate is the CI gate: a gap that compile reports for a target the
// policy declares is the same VW201 error in validate (text and JSON);
// without the target block, or with the gap accepted, validate passes.
func TestValidateReportsDeclaredTargetGaps(t *testing.T) {
	base := `provider "carrier" {
  signaling  = ["203.0.113.10"]
  media      = ["203.0.113.64/26"]
  transports = ["tls"]
}
rate_limit {
  sip = "10/second"
}
log {}
`
	dir := writePolicy(t, base+"target \"draytek\" {\n  wan = \"WAN1\"\n}\n")
	code, _, stderr := run(t, "validate", dir)
	if code != 1 || !strings.Contains(stderr, "gw.hcl:6:1: error[VW201]: draytek:") {
		t.Fatalf("validate with target draytek: exit %d, want 1 and the VW201 compile reports:\n%s", code, stderr)
	}
	ccode, _, cerr := run(t, "compile", dir, "--target", "draytek")
	if ccode != 1 || !strings.Contains(cerr, "gw.hcl:6:1: error[VW201]: draytek:") {
		t.Fatalf("compile disagrees: exit %d\n%s", ccode, cerr)
	}
	code, stdout, _ := run(t, "validate", dir, "--format", "json")
	if code != 1 || !strings.Contains(stdout, `"rule_id": "VW201"`) {
		t.Errorf("validate --format json: exit %d\n%s", code, stdout)
	}
	for name, src := range map[string]string{
		"no target block": base,
		"gap accepted":    base + "target \"draytek\" {\n  accept_gaps = [\"rate_limit\"]\n}\n",
	} {
		if code, _, stderr := run(t, "validate", writePolicy(t, src)); code != 0 || strings.Contains(stderr, "VW201") {
			t.Errorf("%s: exit %d\n%s", name, code, stderr)
		}
	}
}

// fmt on a fleet root (policies only in subdirectories) names -recursive.
func TestFmtFleetRootSuggestsRecursive(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sites", "hq"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sites", "hq", "site.hcl"), []byte("rtp {\n  ports = \"10000-20000\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "fmt", "-check", dir)
	if code != 1 || !strings.Contains(stderr, "voicewall fmt -recursive") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, "fmt", "-check", "-recursive", dir); code != 0 {
		t.Errorf("-recursive: exit %d: %s", code, stderr)
	}
}

// A fleet compile: a warning located in a shared file (common/) names the
// site it is about; the site's own warnings need no name.
func TestFleetCompileNamesTheSite(t *testing.T) {
	root := filepath.Join("..", "..", "examples", "fleet", "sites")
	code, _, stderr := run(t, "compile", filepath.Join(root, "hq-linux"), filepath.Join(root, "store-pfsense"), "--target", "declared", "-o", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"providers.hcl:10:17: warning[VW101]: Cleartext SIP transport (site hq-linux)", "Cleartext SIP transport (site store-pfsense)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "hq-linux/site.hcl:25:1: warning[VW117]: Voice VLAN egress open besides SIP and RTP (site") {
		t.Errorf("a site's own warning is named again:\n%s", stderr)
	}
}
