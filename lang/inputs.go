package lang

import (
	"github.com/hashicorp/hcl/v2"
)

// InputFiles lists every file a policy is compiled from: its .hcl files
// (as PolicyFiles lists them), then every blocklist file they name, in the
// order the loader reads them, resolved as the loader resolves them
// (relative to the policy file that names them). It parses the HCL and
// decodes the blocks with the loader's own schema, but reads only the file
// and files attributes of blocklist blocks and never opens a blocklist
// file. A policy that does not parse or decode gives error diagnostics;
// callers then take the full path (LoadFull), which reports them.
//
// The list is what a digest of the inputs must cover: the compiled table is
// a function of these files' names and contents (and of voicewall itself).
func InputFiles(path string) ([]string, hcl.Diagnostics) { return InputFilesWith(path, nil) }

// InputFilesWith is InputFiles for a policy that may also read readDirs
// (LoadOptions.ReadDirs).
func InputFilesWith(path string, readDirs []string) ([]string, hcl.Diagnostics) {
	if path == "" {
		path = "."
	}
	scope := newReadScope(path, readDirs)
	srcs, _, diags := readSources(path, scope)
	if diags.HasErrors() {
		return nil, diags
	}
	files, bodies, diags := parseSources(srcs)
	if diags.HasErrors() {
		return nil, diags
	}
	d := &decoder{files: files, scope: scope, dnsNames: map[string]bool{}}
	raw := d.uses(d.decode(bodies))
	out := make([]string, 0, len(srcs)+len(d.used))
	for _, s := range append(srcs, d.used...) {
		out = append(out, s.path)
	}
	for _, b := range raw {
		if b.typ != "blocklist" {
			continue
		}
		for _, n := range d.blocklistFiles(b) {
			out = append(out, resolveRelative(b.file, n.s))
		}
	}
	if d.diags.HasErrors() {
		return nil, d.diags
	}
	return out, nil
}
