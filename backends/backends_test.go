package backends

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/lang"
)

func TestTargetFindingIDs(t *testing.T) {
	o := lang.Origin{Kind: "rate_limit", Range: hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: 3, Column: 1}}}
	for _, c := range []struct {
		d    *hcl.Diagnostic
		want string
	}{
		{Diag(hcl.DiagError, "draytek", o, "not expressible", "x"), lang.IDCapabilityGap},
		{Diag(hcl.DiagWarning, "fortigate", o, "emulated", "x"), lang.IDTargetNote},
		{Gap(Options{}, "pfsense", o, "no DSCP"), lang.IDCapabilityGap},
		{Gap(Options{AllowDegraded: true}, "pfsense", o, "no DSCP"), lang.IDCapabilityGap},
	} {
		if got := lang.FindingID(c.d); got != c.want {
			t.Errorf("%s: %s, want %s", c.d.Summary, got, c.want)
		}
		if c.d.Subject == nil || c.d.Subject.Start.Line != 3 {
			t.Errorf("%s: not located at the block", c.d.Summary)
		}
	}
}
