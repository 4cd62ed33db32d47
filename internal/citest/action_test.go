package citest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"
	"go.yaml.in/yaml/v3"
)

// repoRoot is the repository (the action's own checkout).
func repoRoot(t testing.TB) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type actionInput struct {
	Description string  `yaml:"description"`
	Required    *bool   `yaml:"required"`
	Default     *string `yaml:"default"`
}

type actionStep struct {
	Name  string            `yaml:"name"`
	ID    string            `yaml:"id"`
	If    string            `yaml:"if"`
	Uses  string            `yaml:"uses"`
	With  map[string]string `yaml:"with"`
	Run   string            `yaml:"run"`
	Shell string            `yaml:"shell"`
	Env   map[string]string `yaml:"env"`
}

type action struct {
	Name        string                 `yaml:"name"`
	Description string                 `yaml:"description"`
	Author      string                 `yaml:"author"`
	Branding    map[string]string      `yaml:"branding"`
	Inputs      map[string]actionInput `yaml:"inputs"`
	Outputs     map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

// loadAction reads action.yml strictly: an unknown key is an error.
func loadAction(t testing.TB, path string) action {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var a action
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return a
}

var exprRE = regexp.MustCompile(`\$\{\{(.*?)\}\}`)

// contextRefs lists the context references (inputs.x, steps.y.outputs.z,
// github.event_name, ...) of an expression.
func contextRefs(expr string) []string {
	var out []string
	for _, tok := range tokens(expr) {
		if tok.kind == tokIdent {
			out = append(out, tok.text)
		}
	}
	return out
}

// TestActionSchema checks action.yml against the metadata syntax GitHub
// documents for composite actions (docs.github.com, "Metadata syntax for
// GitHub Actions"): required keys, step shapes, every input, step and
// output an expression names exists, actions pinned to a version, and the
// contexts used are ones composite actions have.
func TestActionSchema(t *testing.T) {
	a := loadAction(t, filepath.Join(repoRoot(t), "action.yml"))
	if a.Name == "" || a.Description == "" {
		t.Error("name and description are required")
	}
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using = %q, want composite", a.Runs.Using)
	}
	for name, in := range a.Inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
	}
	ids := map[string]int{}
	knownContexts := []string{"inputs", "github", "runner", "steps", "env", "job", "strategy", "matrix"}
	check := func(where, expr string, step int) {
		if strings.Count(expr, "${{") != strings.Count(expr, "}}") {
			t.Errorf("%s: unbalanced ${{ }} in %q", where, expr)
		}
		var refs []string
		for _, m := range exprRE.FindAllStringSubmatch(expr, -1) {
			refs = append(refs, contextRefs(m[1])...)
		}
		for _, ref := range refs {
			parts := strings.Split(ref, ".")
			if !slices.Contains(knownContexts, parts[0]) {
				t.Errorf("%s: unknown context %q", where, ref)
				continue
			}
			switch parts[0] {
			case "inputs":
				if _, ok := a.Inputs[parts[1]]; !ok {
					t.Errorf("%s: no input %q", where, parts[1])
				}
			case "steps":
				at, ok := ids[parts[1]]
				if !ok || at >= step {
					t.Errorf("%s: step %q is not an earlier step", where, parts[1])
				}
				if len(parts) < 3 || parts[2] != "outputs" && parts[2] != "outcome" && parts[2] != "conclusion" {
					t.Errorf("%s: %q: a step has outputs, outcome and conclusion", where, ref)
				}
			}
		}
	}
	for i, s := range a.Runs.Steps {
		where := fmt.Sprintf("step %d (%s)", i+1, s.Name)
		if s.ID != "" {
			if _, dup := ids[s.ID]; dup {
				t.Errorf("%s: duplicate id %q", where, s.ID)
			}
			ids[s.ID] = i
		}
		switch {
		case s.Run != "" && s.Uses != "":
			t.Errorf("%s: both run and uses", where)
		case s.Run != "":
			if s.Shell == "" {
				t.Errorf("%s: a composite run step needs shell", where)
			}
			if strings.Contains(s.Run, "${{") {
				t.Errorf("%s: expressions in run are injected into the script; pass them through env", where)
			}
		case s.Uses != "":
			if !regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._/-]+@v[0-9]+$`).MatchString(s.Uses) {
				t.Errorf("%s: uses %q: want owner/repo@vN", where, s.Uses)
			}
		default:
			t.Errorf("%s: neither run nor uses", where)
		}
		check(where+" if", "${{ "+s.If+" }}", i)
		for k, v := range s.Env {
			check(where+" env "+k, v, i)
		}
		for k, v := range s.With {
			check(where+" with "+k, v, i)
		}
	}
	for name, o := range a.Outputs {
		check("output "+name, o.Value, len(a.Runs.Steps))
	}
}

// TestActionWorkflowExample: the workflow docs/ci.md shows uses this
// action with inputs it has and the permissions its steps need.
func TestActionWorkflowExample(t *testing.T) {
	root := repoRoot(t)
	a := loadAction(t, filepath.Join(root, "action.yml"))
	doc, err := os.ReadFile(filepath.Join(root, "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	found := false
	for _, b := range blocks {
		var wf struct {
			On          any               `yaml:"on"`
			Permissions map[string]string `yaml:"permissions"`
			Jobs        map[string]struct {
				RunsOn string `yaml:"runs-on"`
				Steps  []struct {
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal([]byte(b[1]), &wf); err != nil {
			t.Fatalf("docs/ci.md yaml block: %v\n%s", err, b[1])
		}
		for _, j := range wf.Jobs {
			for _, s := range j.Steps {
				if !strings.HasPrefix(s.Uses, "voicewall/voicewall@") {
					continue
				}
				found = true
				for k := range s.With {
					if _, ok := a.Inputs[k]; !ok {
						t.Errorf("docs/ci.md passes input %q, which action.yml does not have", k)
					}
				}
				for _, p := range []string{"contents", "security-events", "pull-requests"} {
					if wf.Permissions[p] == "" {
						t.Errorf("docs/ci.md workflow: permissions lack %s", p)
					}
				}
			}
		}
	}
	if !found {
		t.Error("docs/ci.md has no workflow using voicewall/voicewall@...")
	}
}

// runner runs action.yml's steps the way a GitHub runner does, on this
// machine: each run step as `bash --noprofile --norc -eo pipefail FILE`
// with the step's env (expressions evaluated), a fresh GITHUB_OUTPUT per
// step, GITHUB_PATH added to PATH for the steps after, `if` evaluated, and
// steps after a failure skipped unless their condition says always().
// Steps that use other actions (setup-go, upload-sarif) cannot run here:
// the runner records them and the test checks what they would be given.
type runner struct {
	t       *testing.T
	a       action
	inputs  map[string]string
	github  map[string]string
	env     []string
	temp    string
	outputs map[string]map[string]string
	outcome map[string]string
	path    []string
	failed  bool
	ran     []string
	usesRan []actionStep
}

func (r *runner) lookup(ref string) string {
	parts := strings.Split(ref, ".")
	switch parts[0] {
	case "inputs":
		if v, ok := r.inputs[parts[1]]; ok {
			return v
		}
		if d := r.a.Inputs[parts[1]].Default; d != nil {
			return *d
		}
		return ""
	case "github":
		return r.github[strings.Join(parts[1:], ".")]
	case "runner":
		if parts[1] == "temp" {
			return r.temp
		}
	case "steps":
		if parts[2] == "outcome" || parts[2] == "conclusion" {
			return r.outcome[parts[1]]
		}
		return r.outputs[parts[1]][parts[3]]
	}
	r.t.Fatalf("unknown context %q", ref)
	return ""
}

// interpolate replaces every ${{ expr }} in s.
func (r *runner) interpolate(s string) string {
	return exprRE.ReplaceAllStringFunc(s, func(m string) string {
		return r.eval(exprRE.FindStringSubmatch(m)[1])
	})
}

func (r *runner) run() {
	for i, s := range r.a.Runs.Steps {
		cond := s.If
		if cond == "" {
			cond = "success()"
		}
		usesStatus := strings.Contains(cond, "always()") || strings.Contains(cond, "failure()")
		if r.failed && !usesStatus || !truthy(r.eval(cond)) {
			if s.ID != "" {
				r.outcome[s.ID] = "skipped"
			}
			continue
		}
		if s.Uses != "" {
			s.With = mapValues(s.With, r.interpolate)
			r.usesRan = append(r.usesRan, s)
			if s.ID != "" {
				r.outcome[s.ID] = "success"
			}
			continue
		}
		r.ran = append(r.ran, s.Name)
		outFile := filepath.Join(r.temp, fmt.Sprintf("output-%d", i))
		pathFile := filepath.Join(r.temp, fmt.Sprintf("path-%d", i))
		script := filepath.Join(r.temp, fmt.Sprintf("step-%d.sh", i))
		for _, f := range []string{outFile, pathFile} {
			if err := os.WriteFile(f, nil, 0o644); err != nil {
				r.t.Fatal(err)
			}
		}
		if err := os.WriteFile(script, []byte(s.Run), 0o644); err != nil {
			r.t.Fatal(err)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir = r.github["workspace"]
		env := append(slices.Clone(r.env), "GITHUB_OUTPUT="+outFile, "GITHUB_PATH="+pathFile,
			"PATH="+strings.Join(append(slices.Clone(r.path), os.Getenv("PATH")), ":"))
		for k, v := range s.Env {
			env = append(env, k+"="+r.interpolate(v))
		}
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		r.t.Logf("step %q:\n%s", s.Name, out)
		outcome := "success"
		if err != nil {
			outcome, r.failed = "failure", true
		}
		if s.ID != "" {
			r.outcome[s.ID] = outcome
			r.outputs[s.ID] = readKV(r.t, outFile)
		}
		b, _ := os.ReadFile(pathFile)
		for _, p := range strings.Fields(string(b)) {
			r.path = append([]string{p}, r.path...)
		}
	}
}

func mapValues(m map[string]string, f func(string) string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = f(v)
	}
	return out
}

func readKV(t *testing.T, path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = v
		}
	}
	return out
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=voicewall test", "-c", "user.email=test@example.invalid",
		"-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || strings.Count(string(b), old) != 1 {
		t.Fatalf("%s: %q not found once (%v)", path, old, err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// prRepo makes an "origin" with a base commit on main and a pull request
// branch, and a checkout of the pull request alone (as actions/checkout
// leaves it: the base branch not fetched).
func prRepo(t *testing.T, edit func(dir string)) string {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	testenv.CopyDir(t, filepath.Join(repoRoot(t), "examples", "asterisk-udp-trunk"), filepath.Join(src, "policy"))
	git(t, src, "init", "-q")
	git(t, src, "add", "-A")
	git(t, src, "commit", "-q", "-m", "base")
	git(t, src, "checkout", "-q", "-b", "pr")
	edit(src)
	git(t, src, "commit", "-q", "-am", "pull request")
	origin := filepath.Join(tmp, "origin.git")
	git(t, tmp, "clone", "-q", "--bare", src, origin)
	work := filepath.Join(tmp, "work")
	git(t, tmp, "clone", "-q", "--branch", "pr", "--single-branch", "--depth", "1", "file://"+origin, work)
	return work
}

// ghStub is a gh that records its arguments and answers the comment list
// with the ids in GH_STUB_COMMENTS: the test cannot reach GitHub's API.
const ghStub = `#!/usr/bin/env bash
printf '%s\n' "$*" >>"$GH_STUB_LOG"
for a in "$@"; do case "$a" in body=@*) cp "${a#body=@}" "$GH_STUB_LOG.body" ;; esac; done
case "$*" in *"--paginate"*) [ -n "${GH_STUB_COMMENTS:-}" ] && echo "$GH_STUB_COMMENTS" ;; esac
[ "$GH_TOKEN" = "test-token" ]
`

func newRunner(t *testing.T, work string, inputs map[string]string, extraEnv ...string) *runner {
	root := repoRoot(t)
	temp := t.TempDir()
	summary := filepath.Join(temp, "summary.md")
	if err := os.WriteFile(summary, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	stubDir := filepath.Join(temp, "stub")
	if err := os.MkdirAll(stubDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stubDir, "gh"), []byte(ghStub), 0o755); err != nil {
		t.Fatal(err)
	}
	r := &runner{t: t, a: loadAction(t, filepath.Join(root, "action.yml")), inputs: inputs, temp: temp,
		outputs: map[string]map[string]string{}, outcome: map[string]string{}, path: []string{stubDir},
		github: map[string]string{"event_name": "pull_request", "event.pull_request.number": "7", "action_path": root,
			"workspace": work, "base_ref": "main", "repository": "acme/policies"}}
	r.env = append([]string{
		"HOME=" + os.Getenv("HOME"), "GOPATH=" + os.Getenv("GOPATH"), "GOCACHE=" + goEnv(t, "GOCACHE"), "GOMODCACHE=" + goEnv(t, "GOMODCACHE"),
		"GOFLAGS=" + os.Getenv("GOFLAGS"), "GOPROXY=off", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GITHUB_ACTION_PATH=" + root, "GITHUB_STEP_SUMMARY=" + summary, "RUNNER_TEMP=" + temp, "GITHUB_WORKSPACE=" + work,
		"GITHUB_EVENT_NAME=pull_request", "GITHUB_BASE_REF=main", "GITHUB_HEAD_REF=pr", "GITHUB_REPOSITORY=acme/policies",
		"GH_STUB_LOG=" + filepath.Join(temp, "gh.log"),
	}, extraEnv...)
	return r
}

func goEnv(t *testing.T, key string) string {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestActionRunsLocally runs action.yml's steps on a pull request that adds
// a carrier address, and on one that breaks the policy.
func TestActionRunsLocally(t *testing.T) {
	testenv.SkipShort(t, "builds voicewall as the action's install step does")
	testenv.RequireTools(t, "git", "bash", "go")

	t.Run("change", func(t *testing.T) {
		work := prRepo(t, func(dir string) {
			replaceIn(t, filepath.Join(dir, "policy", "gateway.hcl"), `signaling  = ["203.0.113.10", "203.0.113.11"]`, `signaling  = ["203.0.113.10", "203.0.113.11", "198.51.100.7"]`)
		})
		r := newRunner(t, work, map[string]string{"path": "policy", "token": "test-token"})
		r.run()
		if r.failed {
			t.Fatalf("the action failed on a valid policy; ran %v", r.ran)
		}
		if r.outputs["diff"]["changes"] != "true" || r.outputs["validate"]["validate"] != "0" || r.outputs["test"]["test"] != "0" {
			t.Errorf("outputs: %v", r.outputs)
		}
		summary, _ := os.ReadFile(filepath.Join(r.temp, "summary.md"))
		row := `| opened | 198.51.100.7 | anywhere | 5060/udp | drop | accept, forwarded to pbx "asterisk" 10.20.0.10, rate limit 10/second, burst 20 | provider "carrier", gateway.hcl:15 |`
		if !strings.Contains(string(summary), row) || !strings.Contains(string(summary), "### voicewall diff: policy at origin/main → working tree") ||
			!strings.Contains(string(summary), "every expectation holds") {
			t.Errorf("job summary:\n%s", summary)
		}
		// The SARIF the upload step is given.
		var upload actionStep
		for _, s := range r.usesRan {
			if strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif@") {
				upload = s
			}
		}
		var sarif struct {
			Version string `json:"version"`
			Runs    []struct {
				Tool struct {
					Driver struct {
						Name string `json:"name"`
					} `json:"driver"`
				} `json:"tool"`
			} `json:"runs"`
		}
		b, err := os.ReadFile(upload.With["sarif_file"])
		if err != nil || json.Unmarshal(b, &sarif) != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || sarif.Runs[0].Tool.Driver.Name != "voicewall" {
			t.Errorf("SARIF for upload (%s): %v\n%s", upload.With["sarif_file"], err, b)
		}
		// The comment: a new one, with the marker and the table.
		log, _ := os.ReadFile(filepath.Join(r.temp, "gh.log"))
		body, _ := os.ReadFile(filepath.Join(r.temp, "gh.log.body"))
		if !strings.Contains(string(log), "--method POST repos/acme/policies/issues/7/comments") || !strings.HasPrefix(string(body), "<!-- voicewall-diff -->\n### voicewall diff") || !strings.Contains(string(body), row) {
			t.Errorf("gh calls:\n%s\nbody:\n%s", log, body)
		}

		// A second push: the comment is edited, not repeated.
		r2 := newRunner(t, work, map[string]string{"path": "policy", "token": "test-token", "version": ""}, "GH_STUB_COMMENTS=4242")
		r2.path = append([]string{filepath.Dir(r.lookupBin())}, r2.path...)
		r2.a.Runs.Steps = withoutInstall(r2.a.Runs.Steps)
		r2.run()
		log, _ = os.ReadFile(filepath.Join(r2.temp, "gh.log"))
		if r2.failed || !strings.Contains(string(log), "--method PATCH repos/acme/policies/issues/comments/4242") {
			t.Errorf("second run: failed=%v, gh calls:\n%s", r2.failed, log)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		work := prRepo(t, func(dir string) {
			replaceIn(t, filepath.Join(dir, "policy", "gateway.hcl"), `sip_port   = 5060`, `sip_port   = 70000`)
		})
		r := newRunner(t, work, map[string]string{"path": "policy"})
		r.run() // installs again: go's build cache has it from the run above
		if !r.failed || r.outputs["validate"]["validate"] != "1" {
			t.Fatalf("an invalid policy must fail the job: failed=%v outputs=%v", r.failed, r.outputs)
		}
		summary, _ := os.ReadFile(filepath.Join(r.temp, "summary.md"))
		if !strings.Contains(string(summary), "the policy is invalid") || !strings.Contains(string(summary), "gateway.hcl:19") {
			t.Errorf("summary:\n%s", summary)
		}
		b, _ := os.ReadFile(filepath.Join(r.temp, "voicewall.sarif"))
		if !strings.Contains(string(b), `"ruleId"`) || !strings.Contains(string(b), "gateway.hcl") {
			t.Errorf("SARIF has no result at gateway.hcl:\n%s", b)
		}
		uploaded := false
		for _, s := range r.usesRan {
			uploaded = uploaded || strings.Contains(s.Uses, "upload-sarif")
		}
		if !uploaded {
			t.Error("the SARIF of an invalid policy is not uploaded")
		}
		if log, _ := os.ReadFile(filepath.Join(r.temp, "gh.log")); len(log) > 0 {
			t.Errorf("no token, yet gh was called:\n%s", log)
		}
	})
}

// lookupBin is where the install step put voicewall.
func (r *runner) lookupBin() string { return filepath.Join(r.temp, "voicewall-bin", "voicewall") }

func withoutInstall(steps []actionStep) []actionStep {
	var out []actionStep
	for _, s := range steps {
		if !strings.Contains(s.Run, " install") && !strings.Contains(s.Uses, "setup-go") {
			out = append(out, s)
		}
	}
	return out
}
