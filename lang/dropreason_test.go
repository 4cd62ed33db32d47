package lang

import (
	"path/filepath"
	"testing"
)

// TestDropReasons: in every example, a rule has a drop reason exactly when
// it drops, and the reasons used are the documented ones.
func TestDropReasons(t *testing.T) {
	dirs, err := filepath.Glob("../examples/*/*.hcl")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	known := map[string]bool{}
	for _, r := range DropReasons {
		known[r] = true
	}
	seen := map[string]bool{}
	for _, dir := range dirs {
		dir = filepath.Dir(dir)
		p, diags := Load(dir)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", dir, diags.Error())
		}
		for _, r := range p.Rules {
			reason := r.Kind.DropReason()
			drops := r.Action == ActionDrop || r.Action == ActionDropOverRate
			if drops != (reason != "") || (reason != "" && !known[reason]) {
				t.Errorf("%s: rule %s (kind %s, action %s) has drop reason %q", dir, r.ID, r.Kind, r.Action, reason)
			}
			seen[reason] = true
		}
	}
	for _, r := range DropReasons {
		if !seen[r] {
			t.Errorf("no example has a rule dropping for %s", r)
		}
	}
}
