package feeds

import (
	"bytes"
	"testing"
)

// FuzzConvert: any download converts without a panic, and every line the
// candidate holds is a comment or a token that looks like an address.
func FuzzConvert(f *testing.F) {
	for _, s := range []string{
		"198.51.100.1\n", "# c\n2001:db8::/32 ; x\n", "1.2.3.4/33,foo\n", "<html>", "\ufeff10.0.0.1\r\n", ":::\n", "1.2.3.4\x00\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, n, err := Convert(body, "header\nsecond")
		if err != nil {
			return
		}
		lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
		entries := 0
		for _, l := range lines {
			if bytes.HasPrefix(l, []byte("# ")) {
				continue
			}
			if !addrLike.Match(l) {
				t.Fatalf("line %q is not address-like", l)
			}
			entries++
		}
		if entries != n || CountEntries(out) != n {
			t.Fatalf("%d entries, reported %d, counted %d", entries, n, CountEntries(out))
		}
	})
}
