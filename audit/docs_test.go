package audit

import (
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"
)

// TestFindingsDocumented: every audit finding ID has its section in
// docs/rules.md with the title audit uses and the four fields, and every
// VW3xx section there is an audit finding.
func TestFindingsDocumented(t *testing.T) {
	doc, sections := testenv.RuleDocs(t, "..")
	for id, title := range Titles {
		if _, ok := testenv.CheckRuleDoc(t, sections, id, title, "audit"); !ok {
			continue
		}
		if !strings.Contains(doc, `<a id="`+strings.ToLower(id)+`"></a>`) {
			t.Errorf("docs/rules.md: no anchor for %s (SARIF helpUri)", id)
		}
	}
	for id := range sections {
		if _, ok := Titles[id]; !ok && strings.HasPrefix(id, "VW3") {
			t.Errorf("docs/rules.md documents %s, which audit does not define", id)
		}
	}
}
