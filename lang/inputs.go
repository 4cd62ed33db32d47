package lang

import (
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
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
func InputFiles(path string) ([]string, hcl.Diagnostics) {
	if path == "" {
		path = "."
	}
	files, root, err := PolicyFiles(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read policy", Detail: err.Error(), Extra: Finding{IDSyntax}}}
	}
	var diags hcl.Diagnostics
	bodies := make([]parsedFile, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read policy file", Detail: err.Error(), Extra: Finding{IDSyntax}}}
		}
		s := source{name: displayName(root, f), path: f, src: b}
		hf, ds := hclsyntax.ParseConfig(s.src, s.name, hcl.Pos{Line: 1, Column: 1, Byte: 0})
		diags = append(diags, ds...)
		if hf != nil && !ds.HasErrors() {
			bodies = append(bodies, parsedFile{source: s, file: hf})
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	d := &decoder{files: Files{}}
	raw := d.decode(bodies)
	out := append([]string(nil), files...)
	for _, b := range raw {
		if b.typ != "blocklist" {
			continue
		}
		// The same attribute readers, in the same order, as
		// (*decoder).blocklist.
		var names []strItem
		if a := b.attrs["file"]; a != nil {
			if s, ok := d.str(a); ok {
				names = append(names, s)
			}
		}
		if a := b.attrs["files"]; a != nil {
			if items, ok := d.strList(a); ok {
				names = append(names, items...)
			}
		}
		for _, n := range names {
			out = append(out, resolveRelative(b.file, n.s))
		}
	}
	if d.diags.HasErrors() {
		return nil, d.diags
	}
	return out, nil
}
