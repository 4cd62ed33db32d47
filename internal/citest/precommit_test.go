package citest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"
)

// policyRepo is a git repository whose root is a copy of an example
// policy, with edit applied and committed.
func policyRepo(t *testing.T, edit func(dir string)) string {
	dir := filepath.Join(t.TempDir(), "policies")
	testenv.CopyDir(t, filepath.Join(repoRoot(t), "examples", "asterisk-udp-trunk"), dir)
	if edit != nil {
		edit(dir)
	}
	git(t, dir, "init", "-q")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "policy")
	return dir
}

// tryRepo runs `pre-commit try-repo` of this repository's hooks in repo.
func tryRepo(t *testing.T, repo, hook string, env []string) (string, bool) {
	t.Helper()
	cmd := exec.Command("pre-commit", "try-repo", repoRoot(t), hook, "--all-files")
	cmd.Dir = repo
	cmd.Env = append(append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "PRE_COMMIT_HOME="+filepath.Join(t.TempDir(), "pre-commit")), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("pre-commit: %v", err)
		}
	}
	return string(out), err == nil
}

// TestPreCommitHooks runs .pre-commit-hooks.yaml with the real pre-commit on
// a valid policy and on an invalid, a misformatted and a failing one: the
// -system hooks with a voicewall built here on PATH, and the golang hook
// as pre-commit builds it (offline: the module proxy is this machine's
// module cache, so no test depends on the network).
func TestPreCommitHooks(t *testing.T) {
	testenv.SkipShort(t, "builds voicewall, and pre-commit builds it again for the golang hook")
	testenv.RequireTools(t, "pre-commit", "git", "go")
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "voicewall"), "./cmd/voicewall")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	onPath := []string{"PATH=" + bin + ":" + os.Getenv("PATH")}

	valid := policyRepo(t, nil)
	for _, hook := range []string{"voicewall-fmt-system", "voicewall-validate-system", "voicewall-test-system"} {
		if out, ok := tryRepo(t, valid, hook, onPath); !ok || !strings.Contains(out, "Passed") {
			t.Errorf("%s on a valid policy:\n%s", hook, out)
		}
	}
	for _, c := range []struct {
		hook, want string
		edit       func(dir string)
	}{
		{"voicewall-validate-system", "gateway.hcl:19", func(dir string) {
			replaceIn(t, filepath.Join(dir, "gateway.hcl"), `sip_port   = 5060`, `sip_port   = 70000`)
		}},
		{"voicewall-fmt-system", "gateway.hcl", func(dir string) {
			replaceIn(t, filepath.Join(dir, "gateway.hcl"), `  address   = "10.20.0.10"`, `  address = "10.20.0.10"`)
		}},
		{"voicewall-test-system", "carrier reaches the pbx", func(dir string) {
			replaceIn(t, filepath.Join(dir, "gateway.hcl"), `signaling  = ["203.0.113.10", "203.0.113.11"]`, `signaling  = ["203.0.113.11"]`)
		}},
	} {
		bad := policyRepo(t, c.edit)
		out, ok := tryRepo(t, bad, c.hook, onPath)
		if ok || !strings.Contains(out, "Failed") || !strings.Contains(out, c.want) {
			t.Errorf("%s must fail naming %q:\n%s", c.hook, c.want, out)
		}
	}

	// The golang hook: pre-commit runs `go install ./...` in its copy of
	// this repository. GOPROXY points at the local module cache.
	modcache := goEnv(t, "GOMODCACHE")
	offline := []string{"GOPROXY=file://" + filepath.Join(modcache, "cache", "download"), "GOFLAGS=-mod=mod -buildvcs=false"}
	if out, ok := tryRepo(t, valid, "voicewall-validate", offline); !ok || !strings.Contains(out, "Passed") {
		t.Errorf("golang voicewall-validate on a valid policy:\n%s", out)
	}
}
