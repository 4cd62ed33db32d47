package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/voicewall/voicewall/internal/cli"
)

// vcResult is one run of the CLI.
type vcResult struct {
	code           int
	stdout, stderr string
}

func vcRun(args ...string) vcResult {
	var out, errb bytes.Buffer
	code := cli.Main(args, strings.NewReader(""), &out, &errb)
	return vcResult{code, out.String(), errb.String()}
}

func vcWrite(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// vcRepo is the repository root (for examples/).
func vcRepo(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// vcValid is valid but has warnings: cleartext udp transport.
const vcValid = `provider "telnyx" {
  signaling  = ["192.76.120.10", "64.16.250.0/24"]
  media      = ["36.255.198.128/25"]
  transports = ["udp"]
}

rate_limit {
  sip   = "10/second"
  burst = 20
}

log {
  dropped = true
}
`

const vcInvalid = `provider "telnyx" {
  signaling  = ["192.76.120.10", "0.0.0.0/0"]
  media      = ["36.255.198.128/25"]
  transports = ["tls"]
}

voice_vlan "phones" {
  id        = 4095
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}
`

func TestValidateExitCodes(t *testing.T) {
	dir := t.TempDir()
	vcWrite(t, dir, map[string]string{"ok/gw.hcl": vcValid, "bad/gw.hcl": vcInvalid})

	r := vcRun("validate", filepath.Join(dir, "ok"))
	if r.code != 0 {
		t.Fatalf("valid policy with warnings: exit %d, want 0\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "warning[VW101]") || !strings.Contains(r.stdout, "is valid") {
		t.Errorf("want the warning on stderr and a summary on stdout:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}

	r = vcRun("validate", filepath.Join(dir, "bad"))
	if r.code != 1 {
		t.Fatalf("invalid policy: exit %d, want 1", r.code)
	}
	loc := filepath.ToSlash(filepath.Join(dir, "bad")) + "/gw.hcl"
	for _, s := range []string{
		loc + ":2:34: error[VW012]",
		`    2 |   signaling  = ["192.76.120.10", "0.0.0.0/0"]`,
		"      |                                  ^^^^^^^^^^^",
		loc + ":8:15: error[VW030]",
		"    8 |   id        = 4095",
	} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
	if strings.Contains(r.stdout, "is valid") {
		t.Errorf("invalid policy reported valid: %s", r.stdout)
	}

	// A single file, and a missing path.
	if r := vcRun("validate", filepath.Join(dir, "ok", "gw.hcl")); r.code != 0 {
		t.Errorf("validate FILE: exit %d\n%s", r.code, r.stderr)
	}
	if r := vcRun("validate", filepath.Join(dir, "nope")); r.code != 1 || r.stderr == "" {
		t.Errorf("missing path: exit %d, stderr %q", r.code, r.stderr)
	}
	// Unknown format.
	if r := vcRun("validate", "--format", "yaml", filepath.Join(dir, "ok")); r.code != 1 || !strings.Contains(r.stderr, "yaml") {
		t.Errorf("--format yaml: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestValidateDefaultPathIsCwd(t *testing.T) {
	dir := t.TempDir()
	vcWrite(t, dir, map[string]string{"gw.hcl": vcValid})
	t.Chdir(dir)
	if r := vcRun("validate"); r.code != 0 {
		t.Errorf("validate in a policy directory: exit %d\n%s", r.code, r.stderr)
	}
}

func TestValidateJSON(t *testing.T) {
	dir := t.TempDir()
	vcWrite(t, dir, map[string]string{"gw.hcl": vcInvalid})
	r := vcRun("validate", dir, "--format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	var out struct {
		Valid       bool `json:"valid"`
		Errors      int  `json:"errors"`
		Warnings    int  `json:"warnings"`
		Diagnostics []struct {
			Severity string `json:"severity"`
			RuleID   string `json:"rule_id"`
			Summary  string `json:"summary"`
			File     string `json:"file"`
			Start    struct {
				Line, Column int
			} `json:"start"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if out.Valid || out.Errors != 2 {
		t.Errorf("valid=%v errors=%d, want false and 2", out.Valid, out.Errors)
	}
	found := false
	for _, d := range out.Diagnostics {
		if d.RuleID == "VW012" && d.Severity == "error" && d.File == "gw.hcl" && d.Start.Line == 2 && d.Start.Column == 34 {
			found = true
		}
	}
	if !found {
		t.Errorf("no VW012 error at gw.hcl:2:34 in %s", r.stdout)
	}

	vcWrite(t, dir, map[string]string{"gw.hcl": vcValid})
	r = vcRun("validate", dir, "--format", "json")
	if r.code != 0 {
		t.Fatalf("valid: exit %d", r.code)
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || !out.Valid || out.Warnings == 0 {
		t.Errorf("valid JSON: %v %+v", err, out)
	}
}

const vcUnformatted = `provider "telnyx" {
signaling = ["192.76.120.10"]
    media = ["36.255.198.128/25"]
  transports=["tls"]
}
`

func TestFmt(t *testing.T) {
	for _, flag := range []string{"-check", "--check"} {
		t.Run(flag, func(t *testing.T) {
			dir := t.TempDir()
			vcWrite(t, dir, map[string]string{"a.hcl": vcValid, "b.hcl": vcUnformatted})
			r := vcRun("fmt", flag, dir)
			if r.code != 1 {
				t.Fatalf("fmt %s on an unformatted file: exit %d, want 1\n%s", flag, r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "b.hcl") || strings.Contains(r.stdout, "a.hcl") {
				t.Errorf("fmt %s should list b.hcl only: %q", flag, r.stdout)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "b.hcl")); string(b) != vcUnformatted {
				t.Errorf("fmt %s rewrote the file", flag)
			}
		})
	}

	dir := t.TempDir()
	vcWrite(t, dir, map[string]string{"a.hcl": vcValid, "b.hcl": vcUnformatted})
	if r := vcRun("fmt", dir); r.code != 0 || !strings.Contains(r.stdout, "b.hcl") {
		t.Fatalf("fmt: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "b.hcl"))
	want := `provider "telnyx" {
  signaling  = ["192.76.120.10"]
  media      = ["36.255.198.128/25"]
  transports = ["tls"]
}
`
	if string(b) != want {
		t.Errorf("fmt wrote:\n%s\nwant:\n%s", b, want)
	}
	if r := vcRun("fmt", "-check", dir); r.code != 0 || r.stdout != "" {
		t.Errorf("fmt -check after fmt: exit %d, stdout %q", r.code, r.stdout)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("fmt left extra files: %v", entries)
	}

	// A file that does not parse is reported, never rewritten.
	broken := "provider \"x\" {\nsignaling = [\n"
	vcWrite(t, dir, map[string]string{"c.hcl": broken})
	r := vcRun("fmt", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "c.hcl:") {
		t.Errorf("fmt on a syntax error: exit %d, stderr %q", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "c.hcl")); string(b) != broken {
		t.Errorf("fmt rewrote a file it cannot parse")
	}
}

func TestCompileUnknownTarget(t *testing.T) {
	dir := t.TempDir()
	vcWrite(t, dir, map[string]string{"gw.hcl": vcValid})
	r := vcRun("compile", dir, "--target", "bogus")
	if r.code != 1 || !strings.Contains(r.stderr, `unknown target "bogus"`) || r.stdout != "" {
		t.Errorf("unknown target: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, name := range []string{"nftables", "fortigate", "pfsense", "draytek", "all"} {
		if !strings.Contains(r.stderr, name) {
			t.Errorf("the error should list %q: %s", name, r.stderr)
		}
	}
	r = vcRun("compile", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "--target") || r.stdout != "" {
		t.Errorf("missing --target: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestCompileStdoutAndOutDir(t *testing.T) {
	ex := filepath.Join(vcRepo(t), "examples", "asterisk-udp-trunk")
	r := vcRun("compile", ex, "--target", "nftables")
	if r.code != 0 || !strings.Contains(r.stdout, "table inet voicewall") {
		t.Fatalf("compile to stdout: exit %d\nstderr: %s", r.code, r.stderr)
	}
	again := vcRun("compile", ex, "--target", "nftables")
	if again.stdout != r.stdout {
		t.Errorf("compile is not deterministic")
	}

	for _, flag := range []string{"-o", "--output", "-out", "--out"} {
		t.Run(flag, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out", "nested")
			w := vcRun("compile", ex, "--target", "nftables", flag, out)
			if w.code != 0 {
				t.Fatalf("compile %s: exit %d\n%s", flag, w.code, w.stderr)
			}
			b, err := os.ReadFile(filepath.Join(out, "nftables.nft"))
			if err != nil || string(b) != r.stdout {
				t.Errorf("nftables.nft differs from stdout output (err %v)", err)
			}
			entries, _ := os.ReadDir(out)
			if len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("want only nftables.nft in DIR (no temp files), got %v", names)
			}
		})
	}
}

func TestCompileErrorLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	vcWrite(t, dir, map[string]string{"gw.hcl": vcInvalid})

	// A fresh DIR is not even created.
	out := filepath.Join(t.TempDir(), "out")
	r := vcRun("compile", dir, "--target", "nftables", "-o", out)
	if r.code != 1 || !strings.Contains(r.stderr, "gw.hcl:2:34") {
		t.Fatalf("invalid policy: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("DIR created on error: %v", err)
	}

	// An existing output is left as it was.
	existing := t.TempDir()
	prev := []byte("# the ruleset of yesterday\n")
	if err := os.WriteFile(filepath.Join(existing, "nftables.nft"), prev, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := vcRun("compile", dir, "--target", "nftables", "-o", existing); r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	if b, _ := os.ReadFile(filepath.Join(existing, "nftables.nft")); !bytes.Equal(b, prev) {
		t.Errorf("existing nftables.nft was changed on error")
	}
	if entries, _ := os.ReadDir(existing); len(entries) != 1 {
		t.Errorf("files left behind: %v", entries)
	}

	// Nothing on stdout either.
	if r := vcRun("compile", dir, "--target", "nftables"); r.code != 1 || r.stdout != "" {
		t.Errorf("invalid policy to stdout: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestVersionAndHelp(t *testing.T) {
	if r := vcRun("--version"); r.code != 0 || !strings.Contains(r.stdout, cli.Version) {
		t.Errorf("--version: exit %d, stdout %q", r.code, r.stdout)
	}
	r := vcRun("--help")
	if r.code != 0 {
		t.Errorf("--help: exit %d", r.code)
	}
	for _, c := range []string{"validate", "fmt", "compile"} {
		if !strings.Contains(r.stdout, c) {
			t.Errorf("--help lacks %s", c)
		}
	}
	if r := vcRun("frobnicate"); r.code != 1 {
		t.Errorf("unknown command: exit %d", r.code)
	}
}

// fmt rewrites the admin's file, not a copy of it: a 0600 file stays 0600
// and keeps its owner, and a symlinked policy file stays a symlink whose
// target holds the formatted text.
func TestFmtKeepsModeOwnerAndLinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "site", "shared", "telnyx.hcl")
	vcWrite(t, dir, map[string]string{"site/a.hcl": vcUnformatted, "site/shared/telnyx.hcl": vcUnformatted})
	a := filepath.Join(dir, "site", "a.hcl")
	if err := os.Chmod(a, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(real, 0o640); err != nil {
		t.Fatal(err)
	}
	owner := os.Geteuid()
	if owner == 0 {
		// As root, give the files to another user: fmt must not take them.
		owner = 4321
		for _, f := range []string{a, real} {
			if err := os.Chown(f, owner, owner); err != nil {
				t.Fatal(err)
			}
		}
	}
	link := filepath.Join(dir, "site", "b.hcl")
	if err := os.Symlink("shared/telnyx.hcl", link); err != nil {
		t.Fatal(err)
	}
	if r := vcRun("fmt", filepath.Join(dir, "site")); r.code != 0 {
		t.Fatalf("fmt: %d %s", r.code, r.stderr)
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{a, 0o600}, {real, 0o640}} {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != c.mode {
			t.Errorf("%s: mode %v after fmt, want %v", c.path, st.Mode().Perm(), c.mode)
		}
		if uid := int(st.Sys().(*syscall.Stat_t).Uid); uid != owner {
			t.Errorf("%s: owner %d after fmt, want %d", c.path, uid, owner)
		}
		if b, _ := os.ReadFile(c.path); string(b) == vcUnformatted {
			t.Errorf("%s was not formatted", c.path)
		}
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("fmt replaced the symlink %s with a file: %v", link, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "site", "shared")); len(ents) != 1 {
		t.Errorf("fmt left temporary files: %v", ents)
	}

	// A link to a file outside the policy's directory is neither read
	// (nothing of it is printed) nor rewritten.
	outside := filepath.Join(dir, "outside.hcl")
	secret := "provider \"x\" {\nsignaling = [\"SECRET-LINE\"]\n"
	if err := os.WriteFile(outside, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside.hcl", filepath.Join(dir, "site", "c.hcl")); err != nil {
		t.Fatal(err)
	}
	r := vcRun("fmt", filepath.Join(dir, "site"))
	if r.code != 1 || !strings.Contains(r.stderr, "is outside the directories") || strings.Contains(r.stdout+r.stderr, "SECRET-LINE") {
		t.Errorf("fmt through a link leaving the policy's directory: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(outside); string(b) != secret {
		t.Errorf("fmt rewrote a file outside the policy's directory")
	}
}
