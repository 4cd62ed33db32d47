package audit

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestFindingsDocumented: every audit finding ID has its section in
// docs/rules.md with the title audit uses and the four fields, and every
// VW3xx section there is an audit finding.
func TestFindingsDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	head := regexp.MustCompile(`(?m)^## (VW3[0-9][0-9]): (.*)$`)
	sections := map[string]string{}
	ms := head.FindAllStringSubmatchIndex(doc, -1)
	for i, m := range ms {
		end := len(doc)
		if i+1 < len(ms) {
			end = ms[i+1][0]
		}
		if next := strings.Index(doc[m[1]:end], "\n## "); next >= 0 {
			end = m[1] + next
		}
		sections[doc[m[2]:m[3]]] = doc[m[0]:end]
	}
	for id, title := range Titles {
		s, ok := sections[id]
		if !ok {
			t.Errorf("docs/rules.md has no section \"## %s: %s\"", id, title)
			continue
		}
		if got := head.FindStringSubmatch(s)[2]; got != title {
			t.Errorf("docs/rules.md: %s is titled %q, audit says %q", id, got, title)
		}
		for _, f := range []string{"**Severity:**", "**Checks:**", "**Practice:**", "**Source:**"} {
			if !strings.Contains(s, f) {
				t.Errorf("docs/rules.md: %s lacks %s", id, f)
			}
		}
		if !strings.Contains(doc, `<a id="`+strings.ToLower(id)+`"></a>`) {
			t.Errorf("docs/rules.md: no anchor for %s (SARIF helpUri)", id)
		}
	}
	for id := range sections {
		if _, ok := Titles[id]; !ok {
			t.Errorf("docs/rules.md documents %s, which audit does not define", id)
		}
	}
}
