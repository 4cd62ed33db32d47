package pfsense

import (
	"bytes"
	"github.com/voicewall/voicewall/internal/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// TestExamples compiles every example under examples/ (via lang.Load) and
// checks the output with the strict reader. Gaps are expected on pfSense
// (DSCP, UDP SIP rate limit), so examples compile with --allow-degraded and
// every gap must also be an error without it.
func TestExamples(t *testing.T) {
	dirs := testenv.ExampleDirs(t, "../..")
	if len(dirs) == 0 {
		t.Skip("no examples yet")
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			p, diags := lang.Load(dir)
			if diags.HasErrors() {
				t.Fatalf("lang.Load: %s", diags.Error())
			}
			out, diags := Compile(p, backends.Options{AllowDegraded: true})
			if diags.HasErrors() {
				t.Fatalf("compile: %s", diags.Error())
			}
			d, err := readFragment(out.Main().Data)
			if err != nil {
				t.Fatalf("strict reader: %v\n%s", err, out.Main().Data)
			}
			checkFacts(t, p, d)
			again, _ := Compile(p, backends.Options{AllowDegraded: true})
			if !bytes.Equal(again.Main().Data, out.Main().Data) {
				t.Fatal("not deterministic")
			}
			var warned bool
			for _, dg := range diags {
				if dg.Severity == hcl.DiagWarning && strings.Contains(dg.Detail, "allow-degraded") {
					warned = true
				}
			}
			if _, strict := Compile(p, backends.Options{}); warned != strict.HasErrors() {
				t.Errorf("degraded warnings (%v) and strict errors (%v) disagree", warned, strict.HasErrors())
			}
		})
	}
}
