package pfsense

import (
	"os"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

// TestHostileFileName: a policy file name made to end a comment or a quoted
// string reaches the output only through the safe writer: the strict reader
// accepts the output, it has as many lines as with a plain name, and it
// carries no control character.
func TestHostileFileName(t *testing.T) {
	for _, ex := range []string{"asterisk-udp-trunk/gateway.hcl", "hosted-tls-vlan/office.hcl"} {
		src, err := os.ReadFile("../../examples/" + ex)
		if err != nil {
			t.Fatal(err)
		}
		plain := hostileCompile(t, "gw.hcl", src)
		for _, name := range testenv.HostileFileNames {
			out := hostileCompile(t, name, src)
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

func hostileCompile(t *testing.T, name string, src []byte) string {
	t.Helper()
	p, diags := lang.LoadSource(name, src)
	if diags.HasErrors() {
		t.Fatalf("%q: %v", name, diags)
	}
	out, _ := compileOK(t, p, degraded())
	if _, err := readFragment(out.Main().Data); err != nil {
		t.Fatalf("%q: strict reader rejects the output: %v\n%s", name, err, out.Main().Data)
	}
	return string(out.Main().Data)
}
