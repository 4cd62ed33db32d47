package audit

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead: no configuration, however broken, makes a reader or the
// checks panic or hang; an error is an error, never a half-read model.
func FuzzRead(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*")
	golden, _ := filepath.Glob("../golden/*/*")
	for _, s := range append(seeds, golden...) {
		if b, err := os.ReadFile(s); err == nil && len(b) < 1<<16 {
			f.Add(uint8(len(s)), b)
		}
	}
	f.Add(uint8(0), []byte("config vdom\nedit root\nconfig firewall policy\nedit 1\nset srcaddr \"a b\" 'c'\nnext\nend\nend\n"))
	f.Fuzz(func(t *testing.T, which uint8, src []byte) {
		all := Targets
		target := all[int(which)%len(all)]
		d, err := Read(target, "fuzz", src)
		if err != nil {
			if d != nil {
				t.Fatal("a model beside an error")
			}
			return
		}
		Check(d, src, Options{Target: target})
	})
}
