package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Every command loads a policy as the program does (registry.Load*, through
// loadPolicy): lang's own loaders read target blocks without the targets'
// checks, and without the catalog and DNS answers.
var langLoaders = map[string]bool{"Load": true, "LoadFull": true, "LoadFullWith": true, "LoadSource": true, "LoadSourceWith": true}

func TestCommandsLoadThroughRegistry(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "lang" && langLoaders[sel.Sel.Name] {
				t.Errorf("%s: lang.%s: load through loadPolicy (registry.LoadFullWith) so the targets, the catalog and DNS answers apply", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}
