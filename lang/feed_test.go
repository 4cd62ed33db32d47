package lang_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/lang"
)

func writePolicy(t *testing.T, src string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(base+src), 0o644); err != nil {
		t.Fatal(err)
	}
	for n, c := range files {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFeedAttributes(t *testing.T) {
	dir := writePolicy(t, `
blocklist "voipbl" {
  file       = "blocklists/voipbl.txt"
  feed       = "https://voipbl.example/update/"
  max_share  = "0.5%"
  max_change = 4
}
blocklist "apiban" {
  file     = "blocklists/apiban.txt"
  feed     = "apiban:sip"
  key_file = "apiban.key"
}
`, map[string]string{"blocklists/voipbl.txt": "198.51.100.1\n", "blocklists/apiban.txt": "198.51.100.2\n"})
	l := lang.LoadFull(dir)
	if l.Diags.HasErrors() {
		t.Fatal(l.Diags)
	}
	var got []*lang.Feed
	for _, b := range l.Policy.Blocklists {
		got = append(got, b.Feed)
	}
	ap, vb := got[0], got[1]
	if ap.APIBAN != "sip" || ap.KeyFile != filepath.Join(dir, "apiban.key") || ap.MaxShare != lang.DefaultFeedMaxShare || ap.MaxChange != lang.DefaultFeedMaxChange {
		t.Errorf("apiban feed: %+v", ap)
	}
	if vb.URL != "https://voipbl.example/update/" || vb.MaxShare != 0.005 || vb.MaxChange != 4 || vb.File != filepath.Join(dir, "blocklists/voipbl.txt") || vb.Display != "blocklists/voipbl.txt" {
		t.Errorf("voipbl feed: %+v", vb)
	}
}

func TestFeedErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`feed = "http://mirror.example/x"`, "use https, or for a mirror on your own network add allow_http = true"},
		{`feed = "ftp://mirror.example/x"`, "feeds are downloaded over https"},
		{`feed = "https://u:p@mirror.example/x"`, "credentials in a feed URL"},
		{`feed = "https:///x"`, "no host"},
		{`feed = "apiban:web"`, `Unknown APIBAN set`},
		{`feed = "apiban:sip"`, "APIBAN needs an API key"},
		{`max_share = "1%"`, "only applies to a blocklist that has feed"},
		{`feed = "https://a.example/"` + "\n  max_share = \"150%\"", "at most 100%"},
		{`feed = "https://a.example/"` + "\n  max_share = \"2\"", "needs a % sign"},
		{`feed = "https://a.example/"` + "\n  max_change = 1", "a number above 1"},
		{`feed = "https://a.example/"` + "\n  key_file = \"k\"", "key_file is for feed"},
	} {
		dir := writePolicy(t, "\nblocklist \"b\" {\n  file = \"l.txt\"\n  "+c.src+"\n}\n", map[string]string{"l.txt": "198.51.100.1\n"})
		_, diags := lang.Load(dir)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.src, diags, c.want)
		}
	}
	// allow_http opts a mirror in.
	dir := writePolicy(t, "\nblocklist \"b\" {\n  file = \"l.txt\"\n  feed = \"http://10.0.0.5/l.txt\"\n  allow_http = true\n}\n", map[string]string{"l.txt": "198.51.100.1\n"})
	if _, diags := lang.Load(dir); diags.HasErrors() {
		t.Errorf("http mirror with allow_http: %v", diags)
	}
	// A feed needs exactly one file.
	dir = writePolicy(t, "\nblocklist \"b\" {\n  files = [\"l.txt\"]\n  feed = \"https://a.example/\"\n}\n", map[string]string{"l.txt": "198.51.100.1\n"})
	if _, diags := lang.Load(dir); !strings.Contains(diags.Error(), "exactly one file") {
		t.Errorf("feed with files: %v", diags)
	}
	// A feed's missing file says how it gets there.
	dir = writePolicy(t, "\nblocklist \"b\" {\n  file = \"l.txt\"\n  feed = \"https://a.example/\"\n}\n", nil)
	if _, diags := lang.Load(dir); !strings.Contains(diags.Error(), "voicewall refresh") {
		t.Errorf("missing feed file: %v", diags)
	}
}

// The overlay stands in for a blocklist file: the candidate is validated
// with the whole policy without being written, and its bad line is located
// in the candidate.
func TestLoadOverlay(t *testing.T) {
	dir := writePolicy(t, "\nblocklist \"b\" {\n  file = \"l.txt\"\n}\n", map[string]string{"l.txt": "198.51.100.1\n"})
	path := filepath.Join(dir, "l.txt")
	l := lang.LoadFullWith(dir, lang.LoadOptions{Overlay: map[string][]byte{path: []byte("# new\n203.0.113.0/24\n")}})
	if l.Diags.HasErrors() {
		t.Fatal(l.Diags)
	}
	if b := l.Policy.Blocklists[0]; b.Addresses.Contains(mustAddr(t, "198.51.100.1")) || !b.Addresses.Contains(mustAddr(t, "203.0.113.9")) {
		t.Errorf("overlay not used: %v", b.Addresses.Prefixes(false))
	}
	l = lang.LoadFullWith(dir, lang.LoadOptions{Overlay: map[string][]byte{path: []byte("1.2.3.4\n1.2.3.4/33\n")}})
	if !l.Diags.HasErrors() {
		t.Fatal("a /33 passed")
	}
	d := l.Diags[0]
	if d.Subject == nil || d.Subject.Filename != "l.txt" || d.Subject.Start.Line != 2 || l.Files["l.txt"] == nil {
		t.Errorf("diagnostic not located in the candidate: %v %+v", d, d.Subject)
	}
	if b, _ := os.ReadFile(path); string(b) != "198.51.100.1\n" {
		t.Errorf("the file on disk changed: %q", b)
	}
	// A provider's address in the candidate is the usual VW014.
	l = lang.LoadFullWith(dir, lang.LoadOptions{Overlay: map[string][]byte{path: []byte("64.16.250.0/23\n")}})
	if !strings.Contains(l.Diags.Error(), "blocks a provider") {
		t.Errorf("provider overlap in the candidate: %v", l.Diags)
	}
}
