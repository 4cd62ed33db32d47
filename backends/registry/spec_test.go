package registry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/lang"
)

// Each target's spec is the one place its attributes and capability gaps
// are declared: every attribute is documented in docs/targets-<name>.md,
// every gap class is one lang knows, and lang reads exactly these targets.
func TestSpecsDeclared(t *testing.T) {
	if got, want := strings.Join(lang.TargetNames(), " "), strings.Join(Names(), " "); got != want {
		t.Fatalf("lang knows targets %q, the registry %q", got, want)
	}
	for _, tg := range Targets {
		if tg.Name == "" || tg.File == "" || tg.Compile == nil || tg.WAN == "" || tg.LAN == "" {
			t.Errorf("%s: incomplete spec %+v", tg.Name, tg)
		}
		doc, err := os.ReadFile(filepath.Join(root, "docs", "targets-"+tg.Name+".md"))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range tg.Attrs {
			if !strings.Contains(string(doc), "`"+a.Name+"`") {
				t.Errorf("%s: attribute %s is not documented in docs/targets-%s.md", tg.Name, a.Name, tg.Name)
			}
		}
		for g, why := range tg.Gaps {
			if _, ok := lang.GapNames[g]; !ok || g == lang.GapInternal || why == "" {
				t.Errorf("%s: capability table entry %q (%q) is not a gap accept_gaps can name, or says no why", tg.Name, g, why)
			}
		}
	}
}
