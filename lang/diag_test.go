package lang

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestSchemaFindingIDs(t *testing.T) {
	for src, want := range map[string]string{
		"provider {\n  signaling = [\"192.0.2.1\"]\n}\n":                  IDSchema, // missing label
		"provider \"a\" {\n  signalling = [\"192.0.2.1\"]\n}\n":           IDSchema, // unknown attribute
		"provider \"a\" {\n  signaling = [\"192.0.2.1\"\n}\n":             IDSyntax,
		"rate_limit {\n  burst = 3\n}\nprovider \"a\" { signaling = [] }": IDSchema, // missing required
	} {
		_, diags := LoadSource("p.hcl", []byte(src))
		if !diags.HasErrors() {
			t.Fatalf("no error for %q", src)
		}
		if got := FindingID(diags[0]); got != want {
			t.Errorf("%q: first finding %s (%s), want %s", src, got, diags[0].Summary, want)
		}
	}
}

// HCL's own diagnostics carry their finding ID in Extra, set where lang
// receives them; the Extra HCL attached stays reachable by unwrapping.
func TestHCLDiagnosticsTagged(t *testing.T) {
	_, diags := LoadSource("p.hcl", []byte("provider \"a\" {\n  signaling = [\"192.0.2.1\"]\n  sip_port = upper(\"x\")\n}\n"))
	var call *hcl.Diagnostic
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			call = d
		}
	}
	if call == nil || FindingID(call) != IDSyntax || !strings.Contains(call.Detail, "literal values") {
		t.Fatalf("function call: %v", diags)
	}
	type inner struct{ n int }
	d := tagHCL(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unsupported argument", Extra: inner{7}}}, IDSchema)[0]
	if FindingID(d) != IDSchema {
		t.Errorf("tagged ID %s", FindingID(d))
	}
	if x, ok := hcl.DiagnosticExtra[inner](d); !ok || x.n != 7 {
		t.Errorf("HCL's own extra lost: %#v", d.Extra)
	}
	// Tagging is by origin, not by message: a summary lang does not know
	// is still a schema finding when the schema step reported it.
	if d := tagHCL(hcl.Diagnostics{{Summary: "Some future HCL wording"}}, IDSchema)[0]; FindingID(d) != IDSchema {
		t.Errorf("untagged by wording: %s", FindingID(d))
	}
}
