package backends

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/lang"
)

func TestTargetFindingIDs(t *testing.T) {
	o := lang.Origin{Kind: "rate_limit", Range: hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: 3, Column: 1}}}
	p := &lang.Policy{}
	for _, c := range []struct {
		d    *hcl.Diagnostic
		want string
	}{
		{Diag(hcl.DiagError, "draytek", o, "not expressible", "x"), lang.IDCapabilityGap},
		{Diag(hcl.DiagWarning, "fortigate", o, "emulated", "x"), lang.IDTargetNote},
		{NewGaps(p, testSpec("pfsense"), Options{}).Add(lang.GapDSCP, o, "no DSCP"), lang.IDCapabilityGap},
		{NewGaps(p, testSpec("pfsense"), Options{AllowDegraded: true}).Add(lang.GapDSCP, o, "no DSCP"), lang.IDCapabilityGap},
	} {
		if got := lang.FindingID(c.d); got != c.want {
			t.Errorf("%s: %s, want %s", c.d.Summary, got, c.want)
		}
		if c.d.Subject == nil || c.d.Subject.Start.Line != 3 {
			t.Errorf("%s: not located at the block", c.d.Summary)
		}
	}
}

// TestAcceptGaps: a gap listed in the target's accept_gaps is a warning and
// a header line; an unlisted one stays an error; a listing no gap uses is
// stale; an internal gap is never accepted.
func TestAcceptGaps(t *testing.T) {
	src := `target "draytek" {
  accept_gaps = ["rate_limit", "dscp"]
}
provider "c" {
  signaling = ["192.0.2.1"]
  media     = ["192.0.2.0/28"]
}
`
	p, diags := lang.LoadSource("gw.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	o := lang.Origin{Kind: "rate_limit", Range: hcl.Range{Filename: "gw.hcl", Start: hcl.Pos{Line: 9, Column: 1}}}
	g := NewGaps(p, testSpec("draytek"), Options{})
	d := g.Add(lang.GapRateLimit, o, "no per-source limit")
	if d.Severity != hcl.DiagWarning || lang.FindingID(d) != lang.IDAcceptedGap {
		t.Errorf("accepted gap: severity %v, id %s", d.Severity, lang.FindingID(d))
	}
	if g.Add(lang.GapRateLimit, o, "no per-source limit") != nil {
		t.Error("the same gap is reported twice")
	}
	if len(g.Lines) != 1 || !strings.Contains(g.Lines[0], "accepted rate_limit (accept_gaps, gw.hcl:2)") || !strings.Contains(g.Lines[0], "no per-source limit") {
		t.Errorf("header lines: %q", g.Lines)
	}
	if g.Fatal(lang.GapRateLimit) || !g.Fatal(lang.GapBlocklist) || !g.Fatal(lang.GapInternal) {
		t.Error("Fatal disagrees with accept_gaps")
	}
	if d := g.Add(lang.GapBlocklist, o, "too big"); d.Severity != hcl.DiagError || !strings.Contains(d.Detail, `accept_gaps = ["blocklist"]`) {
		t.Errorf("unlisted gap: %v %s", d.Severity, d.Detail)
	}
	if d := g.Add(lang.GapInternal, o, "no rendering"); d.Severity != hcl.DiagError {
		t.Errorf("internal gap accepted: %v", d.Severity)
	}
	stale := g.Stale()
	if len(stale) != 1 || lang.FindingID(stale[0]) != lang.IDStaleGap || stale[0].Severity != hcl.DiagWarning ||
		!strings.Contains(stale[0].Summary, `"dscp"`) || stale[0].Subject == nil || stale[0].Subject.Start.Line != 2 {
		t.Errorf("stale: %v", stale)
	}
	// A gap the target never has (not in its capability table) was warned
	// when the policy was read; the compile does not warn again.
	noDSCP := testSpec("draytek")
	delete(noDSCP.Gaps, lang.GapDSCP)
	if again := NewGaps(p, noDSCP, Options{}).Stale(); len(again) != 1 || !strings.Contains(again[0].Summary, `"rate_limit"`) {
		t.Errorf("stale with dscp outside the capability table: %v", again)
	}
	// Another target's block accepts nothing here.
	if d := NewGaps(p, testSpec("pfsense"), Options{}).Add(lang.GapRateLimit, o, "x"); d.Severity != hcl.DiagError {
		t.Error("draytek's acceptance applied to pfsense")
	}
}

// testSpec is a target whose capability table lists every gap class.
func testSpec(name string) *lang.TargetSpec {
	s := &lang.TargetSpec{Name: name, Gaps: map[string]string{}}
	for g, what := range lang.GapNames {
		s.Gaps[g] = what
	}
	return s
}

// A gap the target's spec does not declare is a bug, reported as one.
func TestUndeclaredGap(t *testing.T) {
	p := &lang.Policy{Targets: map[string]*lang.Target{}}
	d := NewGaps(p, &lang.TargetSpec{Name: "x", Gaps: map[string]string{lang.GapDSCP: "no marking"}}, Options{AllowDegraded: true}).
		Add(lang.GapRateLimit, lang.Origin{Kind: "rate_limit"}, "no rate limit")
	if d == nil || d.Severity != hcl.DiagError || !strings.Contains(d.Detail, "capability table") {
		t.Fatalf("undeclared gap: %v", d)
	}
}
