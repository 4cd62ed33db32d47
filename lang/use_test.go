package lang_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/lang"
)

// A fleet in miniature: sites/a uses ../../common.
const (
	commonProviders = `provider "carrier" {
  signaling  = ["203.0.113.10"]
  media      = ["203.0.113.0/26"]
  transports = ["udp"]
}

provider "spare" {
  signaling = ["192.0.2.10"]
}
`
	commonProtection = `blocklist "scanners" {
  file = "lists/scanners.txt"
}

rate_limit {
  sip   = "10/second"
  burst = 20
}
`
	siteUse = `use "common" {
  path = "../../common"
}

pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["carrier"]
}
`
)

func fleetFiles(site string, extra map[string]string) map[string]string {
	files := map[string]string{
		"common/providers.hcl":      commonProviders,
		"common/protection.hcl":     commonProtection,
		"common/lists/scanners.txt": "198.51.100.0/24\n",
		"sites/a/site.hcl":          site,
		// A fleet is one repository: its sites may read common/.
		".git/HEAD": "ref: refs/heads/main\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	return files
}

func loadSite(t *testing.T, files map[string]string) (*lang.Loaded, string) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	return registry.LoadFull(filepath.Join(dir, "sites", "a")), dir
}

func TestUseMergesCommon(t *testing.T) {
	l, _ := loadSite(t, fleetFiles(siteUse, nil))
	if l.Diags.HasErrors() {
		t.Fatalf("load:%s", fmtDiags(l.Diags))
	}
	p := l.Policy
	if p.Provider("carrier") == nil || len(p.Blocklists) != 1 || p.RateLimit == nil {
		t.Fatalf("shared blocks missing: providers %d, blocklists %d, rate limit %v", len(p.Providers), len(p.Blocklists), p.RateLimit)
	}
	// A shared provider no pbx or voice_vlan names is not opened at this site.
	if p.Provider("spare") != nil {
		t.Errorf("provider \"spare\" is named by nothing at this site, yet it is in the policy")
	}
	// Origins name the common file as seen from the site directory.
	if got := p.Provider("carrier").Origin.Range.Filename; got != "../../common/providers.hcl" {
		t.Errorf("carrier's origin file = %q, want ../../common/providers.hcl", got)
	}
	if _, ok := l.Files["../../common/protection.hcl"]; !ok {
		t.Errorf("Files lacks the common file (diagnostics could not show its source): %v", keys(l.Files))
	}
	if got := len(p.Blocklists[0].Addresses.Prefixes(false)); got != 1 {
		t.Errorf("blocklist file of common (relative to common's file) not read: %d prefixes", got)
	}
}

func keys(f lang.Files) []string {
	var out []string
	for k := range f {
		out = append(out, k)
	}
	return out
}

func TestUseInputFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, fleetFiles(siteUse, nil))
	got, diags := lang.InputFiles(filepath.Join(dir, "sites", "a"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	// The digest of a site must cover the common files and their blocklists.
	want := []string{
		filepath.Join(dir, "sites/a/site.hcl"),
		filepath.Join(dir, "common/protection.hcl"),
		filepath.Join(dir, "common/providers.hcl"),
		filepath.Join(dir, "common/lists/scanners.txt"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("InputFiles = %q, want %q", got, want)
	}
}

func TestUseErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		site  string
		extra map[string]string
		file  string // where the error is; default the site file
		at    string
		text  string
	}{
		{name: "site redefines a shared provider",
			site: siteUse + `
provider "Carrier" {
  signaling = ["198.51.100.1"]
}
`, at: `provider "Carrier"`, text: `is also defined in ../../common/providers.hcl:1:1, which this policy takes through use "common" (site.hcl:1:1)`},
		{name: "site redefines a shared singleton",
			site: siteUse + `
rate_limit {
  sip = "50/second"
}
`, at: "rate_limit {", text: `list "rate_limit" in the override of use "common"`},
		{name: "override of nothing",
			site: strings.Replace(siteUse, `path = "../../common"`, `path = "../../common"
  override = ["provider.carier"]`, 1), at: `"provider.carier"`, text: `use "common" defines no provider "carier"`},
		{name: "override without a replacement",
			site: strings.Replace(siteUse, `path = "../../common"`, `path = "../../common"
  override = ["log", "rate_limit"]`, 1), at: `"rate_limit"`, text: "defines no rate_limit block to replace it with"},
		{name: "error inside a common file points there",
			site:  siteUse,
			extra: map[string]string{"common/log.hcl": "log {\n  rate = \"many\"\n}\n"},
			file:  "../../common/log.hcl", at: `"many"`, text: ""},
		{name: "missing directory",
			site: strings.Replace(siteUse, `"../../common"`, `"../../comon"`, 1),
			at:   `"../../comon"`, text: `use "common"`},
		{name: "nested use",
			site:  siteUse,
			extra: map[string]string{"common/more.hcl": "use \"more\" {\n  path = \"../other\"\n}\n"},
			file:  "../../common/more.hcl", at: `use "more"`, text: "a used directory may not use another"},
		{name: "own directory",
			site: strings.Replace(siteUse, `"../../common"`, `"."`, 1),
			at:   `"."`, text: "names the directory this policy is in"},
		{name: "duplicate use",
			site: siteUse + `
use "Common" {
  path = "../../common"
}
`, at: `use "Common"`, text: "second use"},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := fleetFiles(c.site, c.extra)
			l, _ := loadSite(t, files)
			file := c.file
			if file == "" {
				file = "site.hcl"
			}
			src := files["sites/a/site.hcl"]
			if c.file != "" {
				src = files[strings.TrimPrefix(c.file, "../../")]
			}
			line, col := locate(t, src, c.at)
			for _, d := range l.Diags {
				if d.Severity == hcl.DiagError && d.Subject != nil && d.Subject.Filename == file &&
					d.Subject.Start.Line == line && d.Subject.Start.Column == col &&
					strings.Contains(d.Summary+" "+d.Detail, c.text) {
					if _, ok := l.Files[file]; !ok {
						t.Errorf("the error's file %s is not in Files: its source line cannot be shown", file)
					}
					return
				}
			}
			t.Errorf("want an error at %s:%d:%d containing %q; got:%s", file, line, col, c.text, fmtDiags(l.Diags))
		})
	}
}

func TestUseOverrideReplaces(t *testing.T) {
	site := strings.Replace(siteUse, `path = "../../common"`, `path     = "../../common"
  override = ["rate_limit", "provider.carrier"]`, 1) + `
rate_limit {
  sip = "5/second"
}

provider "carrier" {
  signaling = ["192.0.2.99"]
}
`
	l, _ := loadSite(t, fleetFiles(site, nil))
	if l.Diags.HasErrors() {
		t.Fatalf("load:%s", fmtDiags(l.Diags))
	}
	if r := l.Policy.RateLimit; r == nil || r.Origin.Range.Filename != "site.hcl" {
		t.Errorf("the site's rate_limit must replace the shared one: %+v", r)
	}
	if pr := l.Policy.Provider("carrier"); pr == nil || pr.Origin.Range.Filename != "site.hcl" {
		t.Errorf("the site's provider must replace the shared one: %+v", pr)
	}
}

// A used "file" that is not a regular file is refused before it is opened,
// at the use block's path.
func TestUseRefusesNonRegularFile(t *testing.T) {
	t.Setenv(lang.ReadPathEnv, "/dev") // allowed, so the file's kind is what refuses it
	site := strings.Replace(siteUse, `path = "../../common"`, `path = "/dev/zero"`, 1)
	l, _ := loadSite(t, fleetFiles(site, nil))
	line, col := locate(t, site, `"/dev/zero"`)
	for _, d := range l.Diags {
		if d.Severity == hcl.DiagError && d.Subject != nil && d.Subject.Filename == "site.hcl" &&
			d.Subject.Start.Line == line && d.Subject.Start.Column == col && strings.Contains(d.Detail, `use "common" reads /dev/zero`) {
			return
		}
	}
	t.Errorf("want an error at site.hcl:%d:%d; got:%s", line, col, fmtDiags(l.Diags))
}
