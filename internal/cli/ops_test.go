package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/netnstest"
)

func TestVersion(t *testing.T) {
	r := vw1("", "version")
	if r.code != 0 {
		t.Fatalf("version: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"voicewall " + Version + "\n", "commit: ", "built: ", "go: " + runtime.Version() + "\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version output lacks %q:\n%s", want, r.stdout)
		}
	}
	if flag := vw1("", "--version"); flag.code != 0 || flag.stdout != r.stdout {
		t.Errorf("--version (exit %d) differs from the version command:\n%s\nvs\n%s", flag.code, flag.stdout, r.stdout)
	}
	j := vw1("", "version", "--format", "json")
	var b buildInfo
	if err := json.Unmarshal([]byte(j.stdout), &b); err != nil || b.Version != Version || b.GoVersion != runtime.Version() {
		t.Errorf("version --format json = %q (%v)", j.stdout, err)
	}
}

// TestVersionLdflags builds the binary the way scripts/package.sh does and
// checks that the commit and date it was given are what it reports.
func TestVersionLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "voicewall")
	pkg := "github.com/voicewall/voicewall/internal/cli"
	ld := "-X " + pkg + ".Version=9.8.7 -X " + pkg + ".Commit=0123abc -X " + pkg + ".Date=2026-01-02T03:04:05Z"
	if out, err := exec.Command("go", "build", "-ldflags", ld, "-o", bin, "../../cmd/voicewall").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "voicewall 9.8.7\ncommit: 0123abc\nbuilt: 2026-01-02T03:04:05Z\ngo: " + runtime.Version() + "\n"
	if string(out) != want {
		t.Errorf("version = %q, want %q", out, want)
	}
}

// TestJSONNotHTMLEscaped: explain's packet line has "->"; JSON output must
// print it as is, not as \u003e.
func TestJSONNotHTMLEscaped(t *testing.T) {
	r := vw1("", "explain", example("hosted-tls-vlan"), "--from", "198.51.100.7", "--to", "5060/udp", "--format", "json")
	if r.code != 0 && r.code != 2 {
		t.Fatalf("explain: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "->") || strings.Contains(r.stdout, `\u003e`) {
		t.Errorf("JSON output is HTML-escaped or lacks the arrow:\n%s", r.stdout)
	}
}

func TestUnknownTargetSuggests(t *testing.T) {
	r := vw1("", "compile", example("asterisk-udp-trunk"), "--target", "fortigat")
	if r.code != 1 || !strings.Contains(r.stderr, "did you mean fortigate?") {
		t.Errorf("--target fortigat: exit %d, stderr %q", r.code, r.stderr)
	}
	r = vw1("", "compile", example("asterisk-udp-trunk"), "--target", "cisco")
	if r.code != 1 || strings.Contains(r.stderr, "did you mean") || !strings.Contains(r.stderr, "nftables, fortigate, pfsense, draytek, all or declared") {
		t.Errorf("--target cisco: exit %d, stderr %q", r.code, r.stderr)
	}
	for in, want := range map[string]string{"nftable": "nftables", "pfsens": "pfsense", "draytec": "draytek", "FortiGate": "fortigate", "al": "all", "juniper": ""} {
		if got := didYouMean(in, targetChoices()); got != want {
			t.Errorf("didYouMean(%q) = %q, want %q", in, got, want)
		}
	}
}

// complete runs cobra's completion entry point (what the shell scripts
// call) and returns the candidates.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	r := vw1("", append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("__complete %q: exit %d: %s", args, r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	return lines[:len(lines)-1] // the last line is the directive
}

func TestCompleteValues(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"compile", "--target", ""}, []string{"nftables", "fortigate", "pfsense", "draytek", "all", "declared"}},
		{[]string{"compile", "-t", ""}, []string{"nftables", "fortigate", "pfsense", "draytek", "all", "declared"}},
		{[]string{"validate", "--format", ""}, []string{"text", "json", "sarif"}},
		{[]string{"status", "--format", ""}, []string{"text", "json", "prometheus"}},
		{[]string{"plan", "--format", ""}, []string{"text", "json"}},
		{[]string{"explain", example("hosted-tls-vlan"), "--zone", ""}, []string{"wan", "lan", "phones"}},
		{[]string{"explain", "--zone", ""}, []string{"wan", "lan"}}, // no policy here: the fixed zones
	}
	for _, c := range cases {
		if got := complete(t, c.args...); !slices.Equal(got, c.want) {
			t.Errorf("complete %q = %q, want %q", c.args, got, c.want)
		}
	}
}

func TestCompleteNetns(t *testing.T) {
	netnstest.Require(t, "root", "ip")
	ns := netnstest.NewNS(t, "complete")
	for _, cmd := range []string{"plan", "apply", "status", "confirm"} {
		if got := complete(t, cmd, "--netns", ""); !slices.Contains(got, ns.Name) {
			t.Errorf("%s --netns completes %q, lacking %s", cmd, got, ns.Name)
		}
	}
}

// TestBashCompletion sources the generated bash script into a real bash,
// sets up the line as readline would, and reads COMPREPLY.
func TestBashCompletion(t *testing.T) {
	netnstest.Require(t, "bash")
	// cobra's script builds on the bash-completion package, as on any
	// Debian system where completion works (scripts/test.sh installs it).
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(bashCompletion); err != nil {
		t.Skip("bash-completion is not installed")
	}
	bin := voicewallBinary(t)
	script := `source ` + bashCompletion + `
source <(voicewall completion bash)
# compopt (display options such as nospace) only works inside a real
# completion call; outside one it is a no-op here.
compopt() { :; }
complete_line() {
  COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
  read -r -a COMP_WORDS <<<"$COMP_LINE"
  [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  COMPREPLY=()
  __start_voicewall voicewall "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  echo "$1|${COMPREPLY[*]}"
}
complete_line "voicewall compile --target fortig"
complete_line "voicewall compile --target "
complete_line "voicewall status --format pro"
complete_line "voicewall vers"
`
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	want := "voicewall compile --target fortig|fortigate\n" +
		"voicewall compile --target |nftables fortigate pfsense draytek all declared\n" +
		"voicewall status --format pro|prometheus\n" +
		"voicewall vers|version\n"
	if string(out) != want {
		t.Errorf("bash completion:\n%s\nwant:\n%s", out, want)
	}
}
