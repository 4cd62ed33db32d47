package fortigate

import (
	"testing"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

// TestHostileFileName: a hostile policy file name reaches the output only
// through the safe writer; hostileCompile runs the strict reader on every
// output.
func TestHostileFileName(t *testing.T) {
	testenv.CheckHostileFileNames(t, "../..", hostileCompile)
}

func hostileCompile(t *testing.T, name string, src []byte) string {
	t.Helper()
	p, diags := lang.LoadSource(name, src)
	if diags.HasErrors() {
		t.Fatalf("%q: %v", name, diags)
	}
	out, _, _ := mustCompile(t, p, backends.Options{AllowDegraded: true})
	return string(out.Main().Data)
}
