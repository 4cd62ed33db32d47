package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"
)

// copyFleet copies examples/fleet into a temp dir so a test can break a site.
func copyFleet(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "fleet")
	testenv.CopyDir(t, filepath.Join("..", "..", "examples", "fleet"), dst)
	// A fleet is one repository: its sites may read common/ (a copy
	// outside any repository could not).
	if err := os.Mkdir(filepath.Join(dst, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

func fleetSites(t *testing.T, fleet string) []string {
	t.Helper()
	sites, _ := filepath.Glob(filepath.Join(fleet, "sites", "*"))
	if len(sites) < 3 {
		t.Fatalf("fleet has %d sites", len(sites))
	}
	return sites
}

// compile of several sites writes DIR/<site>/, each file equal to the
// site's golden file (golden/ is compiled with --allow-degraded).
func TestCompileSites(t *testing.T) {
	fleet := filepath.Join("..", "..", "examples", "fleet")
	out := t.TempDir()
	args := append([]string{"compile"}, fleetSites(t, fleet)...)
	r := vw1("", append(args, "--target", "all", "--allow-degraded", "-o", out)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	n := 0
	for _, site := range fleetSites(t, fleet) {
		name := filepath.Base(site)
		golden, _ := filepath.Glob(filepath.Join("..", "..", "golden", "fleet", "sites", name, "*"))
		if len(golden) != 4 {
			t.Fatalf("golden files of %s: %v", name, golden)
		}
		for _, g := range golden {
			want, _ := os.ReadFile(g)
			got, err := os.ReadFile(filepath.Join(out, name, filepath.Base(g)))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s/%s differs from %s (err %v)", name, filepath.Base(g), g, err)
			}
			n++
		}
	}
	if n != 12 {
		t.Errorf("compared %d files, want 12", n)
	}

	// --target declared: each site only for the targets it names, strictly
	// (the pfSense site accepts its rate_limit gap in its target block).
	out = t.TempDir()
	r = vw1("", append(args, "--target", "declared", "-o", out)...)
	if r.code != 0 {
		t.Fatalf("--target declared: exit %d\n%s", r.code, r.stderr)
	}
	var files []string
	filepath.Walk(out, func(p string, fi os.FileInfo, _ error) error {
		if !fi.IsDir() {
			rel, _ := filepath.Rel(out, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	want := "branch-fortigate/fortigate.conf hq-linux/nftables.nft store-pfsense/pfsense.xml"
	if got := strings.Join(files, " "); got != want {
		t.Errorf("--target declared wrote %q, want %q", got, want)
	}
}

// One broken site: every site is compiled, the broken one is reported with
// its located error, and nothing is written.
func TestCompileSitesBrokenWritesNothing(t *testing.T) {
	fleet := copyFleet(t)
	site := filepath.Join(fleet, "sites", "hq-linux", "site.hcl")
	b, _ := os.ReadFile(site)
	if err := os.WriteFile(site, bytes.Replace(b, []byte(`address   = "10.10.0.10"`), []byte(`address   = "10.10.0.300"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "build")
	args := append([]string{"compile"}, fleetSites(t, fleet)...)
	r := vw1("", append(args, "--target", "declared", "--allow-degraded", "-o", out)...)
	if r.code != 1 || !strings.Contains(r.stderr, "sites/hq-linux/site.hcl:16:") || !strings.Contains(r.stderr, "1 of 3 policies failed to compile") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed fleet compile created %s (err %v)", out, err)
	}
}

func TestCompileSitesRefusals(t *testing.T) {
	fleet := filepath.Join("..", "..", "examples", "fleet")
	sites := fleetSites(t, fleet)
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"no -o":         {append(append([]string{"compile"}, sites...), "--target", "nftables"), "needs -o DIR"},
		"same name":     {[]string{"compile", sites[0], sites[0], "--target", "nftables", "-o", t.TempDir()}, "would both be written"},
		"base for many": {append(append([]string{"compile"}, sites...), "--target", "pfsense", "--base", "x.xml", "-o", t.TempDir()), "--base is one site's"},
	} {
		if r := vw1("", c.args...); r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q", name, r.code, r.stderr)
		}
	}
}
