package lang

import "testing"

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
