package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A policy names files voicewall reads as root: a blocklist file/files, a
// use path, a symlink in its own directory. One that resolves outside the
// directories a policy may read (a root-only file, /proc/self/environ) is
// a located error naming the path, and no output format prints any of its
// content.
func TestPolicyCannotPrintFilesOutsideItsScope(t *testing.T) {
	bin := voicewallBinary(t)
	top := t.TempDir()
	secret := filepath.Join(top, "shadow")
	// Lines a blocklist or HCL parser would quote back as bad.
	if err := os.WriteFile(secret, []byte("root:SECRET-MARKER-1:19000:0:99999:7:::\nSECRET-MARKER-2 = [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A directory of .hcl files outside the policy, one a link to the secret.
	usedDir := filepath.Join(top, "elsewhere")
	if err := os.MkdirAll(usedDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(usedDir, "x.hcl")); err != nil {
		t.Fatal(err)
	}
	provider := "provider \"a\" {\n  signaling  = [\"192.0.2.1\"]\n  media      = [\"192.0.2.0/24\"]\n  transports = [\"tls\"]\n}\n"
	cases := []struct {
		name  string
		attr  string // the located attribute's text
		block string
		links map[string]string // policy-dir name → link target
	}{
		{"blocklist file, a root-only file", fmt.Sprintf("%q", secret), "blocklist \"x\" {\n  file = %s\n}\n", nil},
		{"blocklist files, /proc/self/environ", `"/proc/self/environ"`, "blocklist \"x\" {\n  files = [%s]\n}\n", nil},
		{"blocklist file, a link in the policy dir", `"lists/ok.txt"`, "blocklist \"x\" {\n  file = %s\n}\n", map[string]string{"lists/ok.txt": secret}},
		{"use path, a root-only file", fmt.Sprintf("%q", secret), "use \"c\" {\n  path = %s\n}\n", nil},
		{"use path, a directory with a link", fmt.Sprintf("%q", usedDir), "use \"c\" {\n  path = %s\n}\n", nil},
		{"a policy file that is a link", "", "", map[string]string{"z.hcl": secret}},
	}
	markers := regexp.MustCompile(`SECRET-MARKER|ENVIRON-MARKER|root:`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "site")
			src := provider
			if c.block != "" {
				src += fmt.Sprintf(c.block, c.attr)
			}
			vcWriteFiles(t, dir, map[string][]byte{"p.hcl": []byte(src)})
			for name, target := range c.links {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.Symlink(target, p); err != nil {
					t.Fatal(err)
				}
			}
			where := "z.hcl:1:1"
			if c.attr != "" {
				line := strings.Count(src[:strings.Index(src, c.attr)], "\n") + 1
				col := strings.Index(strings.Split(src, "\n")[line-1], c.attr) + 1
				where = fmt.Sprintf("p.hcl:%d:%d", line, col)
			}
			for _, args := range [][]string{
				{"validate", dir},
				{"validate", dir, "--format", "json"},
				{"validate", dir, "--format", "sarif"},
				{"compile", dir, "--target", "nftables"},
				{"compile", dir, "--target", "all", "-o", filepath.Join(t.TempDir(), "out")},
				{"test", dir},
				{"fmt", "-check", dir},
			} {
				cmd := exec.Command(bin, args...)
				// First in the environment: a snippet window or a cut detail would
				// still show it.
				cmd.Env = append([]string{"VOICEWALL_ENV_SECRET=ENVIRON-MARKER"}, os.Environ()...)
				out, err := cmd.CombinedOutput()
				text := string(out)
				if m := markers.FindString(text); m != "" {
					t.Errorf("%s prints the content of a file outside the policy (%q):\n%s", strings.Join(args[:1], " "), m, text)
				}
				if args[0] == "fmt" && c.attr != "" {
					continue // fmt reads only the .hcl files
				}
				if err == nil {
					t.Errorf("%s: exit 0 for a policy naming a file outside it:\n%s", args[0], text)
				}
				if !strings.Contains(text, "outside the directories a policy may read") && !strings.Contains(strings.Join(strings.Fields(text), " "), "outside the directories a policy may read") {
					t.Errorf("%s %v: the error does not say the file is outside:\n%s", args[0], args[1:], text)
				}
				if len(args) == 2 || args[0] == "compile" || args[0] == "test" {
					if !strings.Contains(text, where) {
						t.Errorf("%s: not located at %s:\n%s", args[0], where, text)
					}
				}
			}
		})
	}
}
