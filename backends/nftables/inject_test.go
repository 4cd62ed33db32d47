package nftables

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

// hostileRenders loads the asterisk example from a file with each hostile
// name and renders it.
func hostileRenders(t *testing.T) map[string]string {
	src, err := os.ReadFile("../../examples/asterisk-udp-trunk/gateway.hcl")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range testenv.HostileFileNames {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
		p, diags := lang.Load(dir)
		if diags.HasErrors() {
			t.Fatalf("%q: %v", name, diags)
		}
		out[name] = Render(Build(p))
	}
	return out
}

// TestFileNameStaysInComment: the name stays inside one comment.
func TestFileNameStaysInComment(t *testing.T) {
	for name, text := range hostileRenders(t) {
		if !strings.Contains(text, "("+name[:1]) {
			t.Fatalf("%q: the file name does not reach the comments; the test tests nothing:\n%s", name, text)
		}
		for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			if !strings.HasPrefix(line, "\t") && line != "" && line != "table inet voicewall {" && line != "}" {
				t.Errorf("%q: line %d is outside the table: %q", name, i+1, line)
			}
			if strings.Count(line, `"`)%2 != 0 || strings.ContainsAny(line, "\r\u2028\u202e\\") {
				t.Errorf("%q: line %d carries a raw quote or control character: %q", name, i+1, line)
			}
		}
	}
}

// TestFileNameCannotInjectRules: the kernel loads exactly the compiled
// table: `nft list ruleset` in a throwaway namespace equals Render byte for
// byte, so no extra rule or table exists.
func TestFileNameCannotInjectRules(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTools(t, "nft", "unshare", "sh")
	for name, text := range hostileRenders(t) {
		path := filepath.Join(t.TempDir(), "out.nft")
		if err := writeFile(path, text); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("unshare", "-n", "sh", "-c", `nft -f "$1" && nft list ruleset`, "sh", path).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: nft: %v\n%s", name, err, out)
		}
		if string(out) != text {
			t.Errorf("%q: the kernel holds more or other than the compiled table:\n--- nft list ruleset\n%s\n--- compiled\n%s", name, out, text)
		}
	}
}
