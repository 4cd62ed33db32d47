package lang_test

// lang names no target: the targets a policy may name are the ones the
// backends declare, handed to the loader by backends/registry as in the
// program.
import (
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/lang"
)

// An accepted gap the target's capability table does not list is stale
// from the start: warned when the policy is read, not only at compile.
func TestAcceptGapTargetNeverHas(t *testing.T) {
	_, diags := registry.LoadSource("p.hcl", []byte(`
provider "a" {
  signaling = ["192.0.2.1"]
  media     = ["192.0.2.0/24"]
}
target "nftables" {
  accept_gaps = ["dscp"]
}
target "pfsense" {
  accept_gaps = ["dscp"]
}
`))
	var stale []string
	for _, d := range diags {
		if lang.FindingID(d) == lang.IDStaleGap {
			stale = append(stale, d.Subject.String())
		}
	}
	if diags.HasErrors() || len(stale) != 1 || !strings.HasPrefix(stale[0], "p.hcl:7,") {
		t.Fatalf("want one stale warning, on nftables' acceptance (line 7): %v / %v", stale, diags)
	}
}
