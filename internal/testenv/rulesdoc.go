package testenv

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// RuleDoc is one finding's section of docs/rules.md ("## VWxxx: title"),
// its text running to the next "## " heading.
type RuleDoc struct {
	Title, Text string
}

var ruleHead = regexp.MustCompile(`(?m)^## (VW\d{3}): (.+)$`)

// RuleDocs reads the finding sections of repo/docs/rules.md by ID; a
// finding with two sections fails t.
func RuleDocs(t testing.TB, repo string) (doc string, sections map[string]RuleDoc) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc = string(b)
	sections = map[string]RuleDoc{}
	ms := ruleHead.FindAllStringSubmatchIndex(doc, -1)
	for i, m := range ms {
		end := len(doc)
		if i+1 < len(ms) {
			end = ms[i+1][0]
		}
		if next := strings.Index(doc[m[1]:end], "\n## "); next >= 0 {
			end = m[1] + next
		}
		id := doc[m[2]:m[3]]
		if _, dup := sections[id]; dup {
			t.Errorf("docs/rules.md: %s has two sections", id)
		}
		sections[id] = RuleDoc{Title: doc[m[4]:m[5]], Text: doc[m[0]:end]}
	}
	return doc, sections
}

// CheckRuleDoc checks that sections documents finding id under the title
// its package (who) gives it, with the four fields every section has, and
// returns the section.
func CheckRuleDoc(t testing.TB, sections map[string]RuleDoc, id, title, who string) (RuleDoc, bool) {
	t.Helper()
	s, ok := sections[id]
	if !ok {
		t.Errorf("docs/rules.md has no section \"## %s: %s\"", id, title)
		return s, false
	}
	if s.Title != title {
		t.Errorf("docs/rules.md: %s is titled %q, %s says %q", id, s.Title, who, title)
	}
	for _, field := range []string{"**Severity:**", "**Checks:**", "**Practice:**", "**Source:**"} {
		if !strings.Contains(s.Text, field) {
			t.Errorf("docs/rules.md: %s lacks %s", id, field)
		}
	}
	return s, true
}
