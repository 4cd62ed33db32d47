package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// HostileFileNames are policy file names that try to end a comment or a
// quoted string in a target's output and start a rule, a table or a command
// of their own (a name with `"` and a newline once added an accept rule
// ahead of every drop in the nftables output). Every target's tests
// load a policy from files named so and check that the output has the same
// shape as with a plain name.
var HostileFileNames = []string{
	"a\"\niifname \"eth0\" accept comment \"b.hcl",
	"x\" }\n}\ntable ip evil {\n chain c {\n  type filter hook input priority -500; policy accept;\n }\n}\ntable inet voicewall {\n chain y { comment \"z.hcl",
	"a\\\" accept #\u202e\u2028\r\x1b]0;pwned\a.hcl",
	"n\"\nend\nconfig firewall policy\nedit 1\nset action accept\nnext\nend\n#.hcl",
	"p --><rule><type>pass<!-- ]]><x>&amp;.hcl", // no "/": it cannot be in a file name
	"d\"\nipf rule 2 1 -e 1 -F \"0 0\"\n#.hcl",
}

// CheckHostileFileNames loads two examples under repo/examples from files
// named by each of HostileFileNames and checks what compile (the target's
// compiler followed by its strict reader, which fails t on a rejected
// output) makes of them: a policy file name made to end a comment or a
// quoted string reaches the output only through the target's safe writer,
// so the output has as many lines as with a plain name and carries no
// control character, and the name does reach it (else the check tests
// nothing).
func CheckHostileFileNames(t *testing.T, repo string, compile func(t *testing.T, name string, src []byte) string) {
	t.Helper()
	for _, ex := range []string{"asterisk-udp-trunk/gateway.hcl", "hosted-tls-vlan/office.hcl"} {
		src, err := os.ReadFile(filepath.Join(repo, "examples", ex))
		if err != nil {
			t.Fatal(err)
		}
		plain := compile(t, "gw.hcl", src)
		for _, name := range HostileFileNames {
			out := compile(t, name, src)
			if got, want := strings.Count(out, "\n"), strings.Count(plain, "\n"); got != want {
				t.Errorf("%s as %q: %d lines, %d with a plain name:\n%s", ex, name, got, want, out)
			}
			if i := strings.IndexFunc(out, func(r rune) bool {
				return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r == '\u2028' || r == '\u202e'
			}); i >= 0 {
				t.Errorf("%s as %q: control character %q at byte %d", ex, name, []rune(out[i:])[0], i)
			}
			if out == plain {
				t.Errorf("%s as %q: the name does not reach the output; the test tests nothing", ex, name)
			}
		}
	}
}
