package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/lang"
)

// policyWarnings are the warnings of a loaded policy (nil: not loaded).
func policyWarnings(l *lang.Loaded) hcl.Diagnostics {
	if l == nil {
		return nil
	}
	var ws hcl.Diagnostics
	for _, d := range l.Diags {
		if d.Severity == hcl.DiagWarning {
			ws = append(ws, d)
		}
	}
	return ws
}

// shownWarnings is how plan and apply repeat the policy's warnings: as
// validate prints them, and as validate --format json lists them.
type shownWarnings struct {
	Digest string     `json:"digest"` // the compiled table they belong to
	Count  int        `json:"count"`
	Text   string     `json:"text"`
	JSON   []jsonDiag `json:"json"`
}

// warningsPath keeps the warnings of the last apply on a target. The no-op
// fast path does not load the policy; it rests on that apply (same inputs
// byte for byte, same compiled-table digest), so it shows the warnings
// that apply showed.
func warningsPath(t *live.Target) string {
	return filepath.Join(live.StateDir(), "warnings", t.ID()+".json")
}

// planWarnings returns the policy's warnings for a plan: from the loaded
// policy (saved when applying), or on the fast path from the last apply.
func planWarnings(lp *livePlan, applying bool) *shownWarnings {
	if lp.Loaded != nil {
		ws := policyWarnings(lp.Loaded)
		sw := &shownWarnings{Digest: lp.Digest(), Count: len(ws), JSON: []jsonDiag{}}
		if len(ws) > 0 {
			var b strings.Builder
			_ = lang.WriteDiagnostics(&b, lp.Loaded.Files, ws, lp.Loaded.Root)
			sw.Text = strings.TrimRight(b.String(), "\n")
			sw.JSON = diagsJSON(&lang.Loaded{Root: lp.Loaded.Root, Files: lp.Loaded.Files, Diags: ws}).Diagnostics
		}
		if applying && lp.Target != nil {
			if b, err := json.Marshal(sw); err == nil {
				// Kept only in a trusted state dir (plan and apply say
				// when it is not).
				_ = live.WriteState(warningsPath(lp.Target), b)
			}
		}
		return sw
	}
	if lp.Fast && lp.Target != nil {
		b, err := live.ReadState(warningsPath(lp.Target))
		sw := &shownWarnings{}
		if err == nil && json.Unmarshal(b, sw) == nil && sw.Digest == lp.FastDigest && sw.JSON != nil {
			return sw
		}
	}
	return nil
}

// printPolicyWarnings repeats the policy's warnings in plan and apply
// output, where the change is reviewed.
func printPolicyWarnings(w io.Writer, sw *shownWarnings) {
	if sw == nil || sw.Count == 0 {
		return
	}
	fmt.Fprintf(w, "\nThe policy has %s:\n\n%s\n", plural(sw.Count, "warning", "warnings"), sw.Text)
}

func policyWarningsJSON(sw *shownWarnings) []jsonDiag {
	if sw == nil {
		return []jsonDiag{}
	}
	return sw.JSON
}
