package cli_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"
)

func copyExampleTo(t *testing.T, name, dst string) {
	t.Helper()
	testenv.CopyDir(t, filepath.Join(vcRepo(t), "examples", name), dst)
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(b), old) != 1 {
		t.Fatalf("%s: %q not found once", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDiffExitCodesAndFormats(t *testing.T) {
	tmp := t.TempDir()
	old, new := filepath.Join(tmp, "old"), filepath.Join(tmp, "new")
	copyExampleTo(t, "asterisk-udp-trunk", old)
	copyExampleTo(t, "asterisk-udp-trunk", new)

	r := vcRun("diff", old, new)
	if r.code != 0 || r.stdout != "No changes in meaning.\n" {
		t.Fatalf("same policy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	gw := filepath.Join(new, "gateway.hcl")
	editFile(t, gw, `signaling  = ["203.0.113.10", "203.0.113.11"]`, `signaling  = ["203.0.113.10", "203.0.113.11", "198.51.100.7"]`)
	editFile(t, gw, `ports = ["2000/tcp", "5038/tcp", "8088/tcp"]`, `ports = ["2000/tcp", "5038/tcp", "8088/tcp", "5080/udp"]`)
	r = vcRun("diff", old, new)
	want := `2 changes in meaning (1 opened, 1 shut).

Let in now (dropped before):
  198.51.100.7 → anywhere on 5060/udp: drop → accept, forwarded to pbx "asterisk" 10.20.0.10, rate limit 10/second, burst 20 (provider "carrier", gateway.hcl:15)

Dropped now (let in before):
  any → anywhere on 5080/udp: not managed → drop (close, gateway.hcl:37)
`
	if r.code != 2 || r.stdout != want {
		t.Fatalf("exit %d, want 2; stdout:\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, want, r.stderr)
	}

	r = vcRun("diff", old, new, "--format", "markdown")
	md := r.stdout
	if r.code != 2 || !strings.Contains(md, "| | From | To | Traffic | Before | After | Decided by |") ||
		strings.Index(md, "| opened |") > strings.Index(md, "| shut |") || strings.Index(md, "| opened |") < 0 {
		t.Fatalf("markdown: exit %d\n%s", r.code, md)
	}
	if !strings.Contains(md, `| opened | 198.51.100.7 | anywhere | 5060/udp | drop | accept, forwarded to pbx "asterisk" 10.20.0.10, rate limit 10/second, burst 20 | provider "carrier", gateway.hcl:15 |`) {
		t.Errorf("markdown row missing:\n%s", md)
	}

	r = vcRun("diff", old, new, "--format", "json")
	var j struct {
		Same    bool `json:"same"`
		Changes []struct {
			Kind string `json:"kind"`
			Text string `json:"text"`
			From struct {
				Ranges []string `json:"ranges"`
			} `json:"from"`
			New struct {
				Verdict string `json:"verdict"`
				Forward string `json:"forward"`
				Block   string `json:"block"`
			} `json:"new"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil || r.code != 2 {
		t.Fatalf("json: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	if j.Same || len(j.Changes) != 2 || j.Changes[0].Kind != "opened" || j.Changes[0].From.Ranges[0] != "198.51.100.7/32" ||
		j.Changes[0].New.Forward != "10.20.0.10" || j.Changes[0].New.Block != `provider "carrier"` {
		t.Errorf("json report: %+v", j)
	}

	// An invalid side is an error (1), with its diagnostics.
	editFile(t, gw, `sip_port   = 5060`, `sip_port   = 70000`)
	r = vcRun("diff", old, new)
	if r.code != 1 || !strings.Contains(r.stderr, "gateway.hcl:19") || r.stdout != "" {
		t.Fatalf("invalid new policy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := vcRun("diff", old); r.code != 1 {
		t.Errorf("one path without --base: exit %d", r.code)
	}
	if r := vcRun("diff", old, new, "--format", "yaml"); r.code != 1 {
		t.Errorf("bad format: exit %d", r.code)
	}
}

func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=voicewall test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestDiffBase reads the base revision through git: a fleet site whose
// use path reaches ../../common, a blocklist the repository ignores (a
// feed download) and files moved between commits.
func TestDiffBase(t *testing.T) {
	testenv.RequireTools(t, "git")
	repo := filepath.Join(t.TempDir(), "policies")
	copyExampleTo(t, "fleet", repo)
	vcWrite(t, repo, map[string]string{".gitignore": "common/blocklists/\n"})
	gitRun(t, repo, "init", "-q")
	gitRun(t, repo, "add", "-A")
	gitRun(t, repo, "commit", "-q", "-m", "fleet")

	site := filepath.Join(repo, "sites", "hq-linux")
	r := vcRun("diff", "--base", "HEAD", site)
	if r.code != 0 || r.stdout != "No changes in meaning.\n" {
		t.Fatalf("unchanged: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "scanners.txt is not in") {
		t.Errorf("the ignored blocklist should be noted:\n%s", r.stderr)
	}

	// A pull request: the carrier's media grows (in common/), the site's
	// PBX moves, and the site is split into two files.
	editFile(t, filepath.Join(repo, "common", "providers.hcl"), `media      = ["203.0.113.0/26"]`, `media      = ["203.0.113.0/26", "203.0.113.192/27"]`)
	editFile(t, filepath.Join(site, "site.hcl"), `address   = "10.10.0.10"`, `address   = "10.10.0.11"`)
	gitRun(t, repo, "add", "-A")
	gitRun(t, repo, "commit", "-q", "-m", "pr")
	r = vcRun("diff", "--base", "HEAD~1", site)
	want := `3 changes in meaning (1 opened, 2 changed).

Let in now (dropped before):
  203.0.113.192/27 → anywhere on 10000-20000/udp: drop → accept, forwarded to pbx "asterisk" 10.10.0.11 (provider "carrier", ../../common/providers.hcl:7; was rtp, site.hcl:21)

Passes differently:
  203.0.113.0/26 → anywhere on 10000-20000/udp: accept, forwarded to pbx "asterisk" 10.10.0.10 → accept, forwarded to pbx "asterisk" 10.10.0.11 (provider "carrier", ../../common/providers.hcl:7)
  provider "carrier" signaling (203.0.113.10/31) → anywhere on 5060/udp: accept, forwarded to pbx "asterisk" 10.10.0.10 → accept, forwarded to pbx "asterisk" 10.10.0.11 (provider "carrier", ../../common/providers.hcl:7)
`
	if r.code != 2 || r.stdout != want {
		t.Fatalf("exit %d; stdout:\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, want, r.stderr)
	}
	// The working tree against HEAD: nothing since the commit.
	if r := vcRun("diff", "--base", "HEAD", site); r.code != 0 {
		t.Errorf("HEAD vs working tree: exit %d\n%s", r.code, r.stdout)
	}
	for _, bad := range []string{"no-such-branch", "--upload-pack=touch /tmp/x", "HEAD~9"} {
		r := vcRun("diff", "--base", bad, site)
		if r.code != 1 || r.stdout != "" {
			t.Errorf("--base %q: exit %d\n%s%s", bad, r.code, r.stdout, r.stderr)
		}
	}
	if r := vcRun("diff", "--base", "HEAD", t.TempDir()); r.code != 1 || !strings.Contains(r.stderr, "not in a git repository") {
		t.Errorf("outside a repository: exit %d %s", r.code, r.stderr)
	}
}

// TestDiffGapsOnly: a change only to what a target can carry exits 2 and
// says the policy's meaning is the same.
func TestDiffGapsOnly(t *testing.T) {
	tmp := t.TempDir()
	old, new := filepath.Join(tmp, "old"), filepath.Join(tmp, "new")
	copyExampleTo(t, "hosted-tls-vlan", old)
	copyExampleTo(t, "hosted-tls-vlan", new)
	editFile(t, filepath.Join(new, "office.hcl"), `accept_gaps = ["rate_limit", "dscp"]`, `accept_gaps = ["rate_limit"]`)
	r := vcRun("diff", old, new)
	want := `No changes in the policy's meaning; 1 per-target difference from capability gaps.

Per target, from capability gaps only:
  draytek: voice_vlan "phones" (office.hcl:33): dscp gap (DSCP marking of voice traffic not enforced) now not accepted (the compile fails without --allow-degraded); was accepted in accept_gaps
`
	if r.code != 2 || r.stdout != want {
		t.Fatalf("exit %d\n%s\nwant:\n%s\n%s", r.code, r.stdout, want, r.stderr)
	}
}
