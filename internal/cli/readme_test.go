package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMECommands runs every `go run ./cmd/voicewall ...` line of the
// README's shell blocks as written (from the repository root; `-o DIR`
// goes to a temporary directory) and requires exit 0 with no error
// diagnostics: the quick start must work for a new user, without
// --allow-degraded.
func TestREADMECommands(t *testing.T) {
	repo := vcRepo(t)
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	var cmds []string
	for _, b := range blocks {
		for _, line := range strings.Split(b[1], "\n") {
			line = strings.TrimSpace(line)
			if rest, ok := strings.CutPrefix(line, "go run ./cmd/voicewall "); ok {
				cmds = append(cmds, rest)
			}
		}
	}
	if len(cmds) < 3 {
		t.Fatalf("found %d voicewall commands in README.md's sh blocks, want the quick start's 3 at least", len(cmds))
	}
	t.Chdir(repo)
	for _, c := range cmds {
		var args []string
		for _, a := range strings.Fields(c) {
			if strings.Contains(a, "*") { // the shell would expand it
				m, _ := filepath.Glob(a)
				if len(m) == 0 {
					t.Errorf("voicewall %s: %s matches nothing", c, a)
				}
				args = append(args, m...)
				continue
			}
			args = append(args, a)
		}
		outDir := ""
		for i := range args {
			if (args[i] == "-o" || args[i] == "--output") && i+1 < len(args) {
				outDir = filepath.Join(t.TempDir(), args[i+1])
				args[i+1] = outDir
			}
		}
		r := vcRun(args...)
		if r.code != 0 || strings.Contains(r.stderr, "error[") {
			t.Errorf("voicewall %s: exit %d\n%s", c, r.code, r.stderr)
		}
		if outDir != "" && strings.Contains(c, "--target all") {
			for _, f := range []string{"nftables.nft", "fortigate.conf", "pfsense.xml", "draytek.txt"} {
				if _, err := os.Stat(filepath.Join(outDir, f)); err != nil {
					t.Errorf("voicewall %s: %v", c, err)
				}
			}
		}
	}
}
