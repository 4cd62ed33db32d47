package lang

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// TestRuleKindWords: every RuleKind constant declared in rules.go has words
// for status's totals (a raw key such as "allow_out" never reaches them).
func TestRuleKindWords(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "rules.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(x ast.Node) bool {
		vs, ok := x.(*ast.ValueSpec)
		if !ok || vs.Type == nil || len(vs.Values) != 1 {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "RuleKind" {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok {
			return true
		}
		k, _ := strconv.Unquote(lit.Value)
		n++
		if _, ok := RuleKinds[RuleKind(k)]; !ok {
			t.Errorf("rule kind %q has no words in RuleKinds", k)
		}
		return true
	})
	if n < 20 {
		t.Fatalf("found only %d rule kinds in rules.go", n)
	}
}
