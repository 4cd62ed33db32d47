package citest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"
)

// actionlint is rhysd/actionlint, run with `go run module@version` from a
// directory outside this module: it is a test tool, never a dependency of
// voicewall (go.mod does not name it).
const actionlint = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

// TestActionlint lints the workflow docs/ci.md shows, once as written and
// once using this checkout's action.yml (uses: ./), which makes actionlint
// check every input the workflow passes against action.yml; a workflow
// passing an input action.yml lacks must be reported. The schema check in
// TestActionSchema needs no download; this one fetches actionlint through
// the Go module proxy and skips when it cannot.
func TestActionlint(t *testing.T) {
	testenv.SkipShort(t, "builds actionlint")
	testenv.RequireTools(t, "go", "git")
	root := repoRoot(t)
	dir := t.TempDir()
	wfDir := filepath.Join(dir, ".github", "workflows")
	if err := os.MkdirAll(wfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	var wf string
	for _, b := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		if strings.Contains(b[1], "voicewall/voicewall@") {
			wf = b[1]
		}
	}
	if wf == "" {
		t.Fatal("docs/ci.md shows no workflow using the action")
	}
	local := regexp.MustCompile(`voicewall/voicewall@\S+`).ReplaceAllString(wf, "./")
	for name, text := range map[string]string{"action.yml": string(a), ".github/workflows/docs.yml": wf, ".github/workflows/local.yml": local} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "init", "-q")
	run := func() (string, error) {
		cmd := exec.Command("go", "run", actionlint, "-color=false")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	if err != nil && (strings.Contains(out, "go: ") || strings.Contains(out, "dial tcp")) {
		t.Skipf("actionlint could not be fetched through the module proxy (the schema check still runs):\n%s", out)
	}
	if err != nil {
		t.Fatalf("actionlint reports:\n%s", out)
	}
	bad := strings.Replace(local, "path: sites/hq", "paht: sites/hq", 1)
	if bad == local {
		t.Fatal("the docs workflow no longer passes path: sites/hq; update this test")
	}
	if err := os.WriteFile(filepath.Join(wfDir, "local.yml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(); err == nil || !strings.Contains(out, `input "paht" is not defined`) {
		t.Errorf("actionlint did not check the inputs against action.yml:\n%s", out)
	}
}
