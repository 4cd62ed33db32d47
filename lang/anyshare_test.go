package lang_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/lang"
)

// "Any" spelled in pieces is VW012 too, with every piece located: one
// provider's ranges, several providers' together, IPv4 and IPv6, and more
// than a sane share (a /8's worth of IPv4). A real provider's widest range
// (Twilio's media /18) stays valid.
func TestAnyInPieces(t *testing.T) {
	prov := func(name, sig, media string) string {
		return fmt.Sprintf("provider %q {\n  signaling  = [%s]\n  media      = [%s]\n  transports = [\"tls\"]\n}\n", name, sig, media)
	}
	tail := "rate_limit {\n  sip = \"10/second\"\n}\nlog {\n  dropped = true\n}\n"
	for _, c := range []struct {
		name   string
		src    string
		errors int      // VW012 errors
		pieces []string // every piece must be located in an error: `"RANGE"` at its file:line:col
		text   string
	}{
		{"two /1 in one signaling", prov("a", `"0.0.0.0/1", "128.0.0.0/1"`, `"192.0.2.0/24"`), 1,
			[]string{"0.0.0.0/1", "128.0.0.0/1"}, "covers all of IPv4"},
		{"::/1 and 8000::/1 in media", prov("a", `"192.0.2.1"`, `"::/1", "8000::/1"`), 1,
			[]string{"::/1", "8000::/1"}, "covers all of IPv6"},
		{"a /1 in each of two providers", prov("a", `"0.0.0.0/1"`, `"192.0.2.0/24"`) + prov("b", `"128.0.0.0/1"`, `"192.0.2.0/24"`), 2,
			[]string{"0.0.0.0/1", "128.0.0.0/1"}, "covers 50% of IPv4"},
		{"three providers, a /9 each: more than a /8 together",
			prov("a", `"11.0.0.0/9"`, `"192.0.2.0/24"`) + prov("b", `"11.128.0.0/9"`, `"192.0.2.0/24"`) + prov("c", `"192.0.2.1"`, `"13.0.0.0/9"`), 1,
			[]string{"11.0.0.0/9", "11.128.0.0/9", "13.0.0.0/9"}, "all providers together"},
		{"a single /7", prov("a", `"10.0.0.0/7"`, `"192.0.2.0/24"`), 1, []string{"10.0.0.0/7"}, "more than a /8's worth"},
		{"IPv6 beyond a /16's worth", prov("a", `"2001:db8::1"`, `"2000::/15"`), 1, []string{"2000::/15"}, "more than a /16's worth"},
		{"Twilio's media /18 is fine", prov("twilio", `"54.172.60.0/30"`, `"168.86.128.0/18"`), 0, nil, ""},
		{"two /9 are a /8's worth: not more", prov("a", `"11.0.0.0/9"`, `"11.0.0.1"`) + prov("b", `"11.128.0.0/9"`, `"11.128.0.1"`), 0, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src := c.src + tail
			if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			l := lang.LoadFull(filepath.Join(dir, "p.hcl"))
			var errs []*hcl.Diagnostic
			for _, d := range l.Diags {
				if lang.FindingID(d) == lang.IDAnyWhitelist {
					errs = append(errs, d)
				}
				if lang.FindingID(d) == lang.IDBroadProvider && c.errors > 0 {
					t.Errorf("a range already in the VW012 error is also warned about: %s", d.Detail)
				}
			}
			if len(errs) != c.errors {
				t.Fatalf("%d VW012 errors, want %d: %v", len(errs), c.errors, l.Diags)
			}
			if c.errors == 0 {
				if l.Diags.HasErrors() {
					t.Fatalf("valid policy has errors: %v", l.Diags)
				}
				return
			}
			all := ""
			for _, d := range errs {
				if d.Severity != hcl.DiagError || d.Subject == nil {
					t.Errorf("not a located error: %+v", d)
				}
				all += d.Summary + " " + d.Detail + "\n"
			}
			if !strings.Contains(all, c.text) {
				t.Errorf("errors do not say %q:\n%s", c.text, all)
			}
			lines := strings.Split(src, "\n")
			for _, pc := range c.pieces {
				q := `"` + pc + `"`
				loc := ""
				for i, ln := range lines {
					if col := strings.Index(ln, q); col >= 0 {
						loc = fmt.Sprintf("p.hcl:%d:%d: %s", i+1, col+1, q)
						break
					}
				}
				if !strings.Contains(all, loc) {
					t.Errorf("piece %s is not located as %q in:\n%s", pc, loc, all)
				}
			}
		})
	}
}
