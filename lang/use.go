package lang

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// A use block takes the blocks of another directory (or file) into the
// policy, the way a fleet's sites share providers, blocklists, rate limits
// and logging from one common directory:
//
//	use "common" {
//	  path     = "../../common"
//	  override = ["rate_limit"]
//	}
//
// The used blocks are merged as if they were written in the site: no
// attribute-level merging, no evaluation. A site that defines a block the
// used directory also defines is an error unless the use block lists it in
// override, in which case the site's block replaces the shared one whole.
// Used directories may not use further directories: one level keeps the
// question "where does this block come from" answerable at a glance.
type useRef struct {
	name     string
	block    *rawBlock
	path     string // directory or file on disk
	override map[string]strItem
	matched  map[string]bool
}

// blockKey names a block for override lists and conflict detection:
// "rate_limit" for the singleton blocks, "provider.carrier" for labelled
// ones (labels compared as the duplicate check compares them).
func blockKey(b *rawBlock) string {
	if b.label == "" {
		return b.typ
	}
	if b.typ == "expect" {
		return b.typ + "." + b.label
	}
	return b.typ + "." + normName(b.label)
}

func normKey(k string) string {
	typ, label, ok := strings.Cut(k, ".")
	if !ok || typ == "expect" {
		return k
	}
	return typ + "." + normName(label)
}

// uses reads the directories named by the policy's use blocks, decodes
// their blocks and merges them with the policy's own. It returns every
// block except the use blocks themselves.
func (d *decoder) uses(raw []*rawBlock) []*rawBlock {
	var own []*rawBlock
	var refs []*useRef
	seen := map[string]*rawBlock{}
	for _, b := range raw {
		if b.typ != "use" {
			own = append(own, b)
			continue
		}
		if b.file.use != nil {
			d.add(errorf(IDDuplicate, b.rng, "Nested use",
				"%s is read through use %q (%s), and a used directory may not use another. Move this use block into the site, next to use %q.",
				b.file.name, b.file.use.name, pos(b.file.use.block.rng), b.file.use.name))
			continue
		}
		if prev, ok := seen[normName(b.label)]; ok {
			d.add(errorf(IDDuplicate, b.rng, "Duplicate use block", "This is a second use %q; the first is at %s. Rename one or remove it.", b.label, pos(prev.rng)))
			continue
		}
		seen[normName(b.label)] = b
		if r := d.useRef(b); r != nil {
			refs = append(refs, r)
		}
	}
	if len(refs) == 0 {
		return own
	}
	ownKeys := map[string]*rawBlock{}
	for _, b := range own {
		ownKeys[blockKey(b)] = b
	}
	var shared []*rawBlock
	for _, r := range refs {
		for _, b := range d.readUsed(r) {
			if b.typ == "use" {
				d.add(errorf(IDDuplicate, b.rng, "Nested use",
					"%s is read through use %q (%s), and a used directory may not use another. Move this use block into the site, next to use %q.",
					b.file.name, r.name, pos(r.block.rng), r.name))
				continue
			}
			key := blockKey(b)
			site, clash := ownKeys[key]
			if _, ok := r.override[key]; ok {
				r.matched[key] = true
				if clash {
					continue // the site's block replaces the shared one
				}
			}
			if clash {
				d.add(errorf(IDDuplicate, site.rng, "Site redefines a shared block",
					"%s is also defined in %s, which this policy takes through use %q (%s). A site may not change a shared definition by accident: change it there for every site, or list %q in the override of use %q to replace it here.",
					describe(b), pos(b.rng), r.name, pos(r.block.rng), key, r.name))
				continue
			}
			shared = append(shared, b)
		}
		d.checkOverrides(r, ownKeys)
	}
	return append(own, namedProviders(own, shared)...)
}

// namedProviders drops the shared providers no pbx or voice_vlan of the
// policy names. A used directory is a library of providers: each site
// opens its WAN to the providers it calls through, not to every provider
// the fleet knows.
func namedProviders(own, shared []*rawBlock) []*rawBlock {
	named := map[string]bool{}
	for _, b := range append(own[:len(own):len(own)], shared...) {
		if b.typ != "pbx" && b.typ != "voice_vlan" {
			continue
		}
		a, ok := b.attrs["providers"]
		if !ok {
			continue
		}
		exprs, diags := hcl.ExprList(a.Expr)
		if diags.HasErrors() {
			continue // reported when the block is validated
		}
		for _, e := range exprs {
			if v, diags := e.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
				named[normName(v.AsString())] = true
			}
		}
	}
	out := shared[:0]
	for _, b := range shared {
		if b.typ != "provider" || named[normName(b.label)] {
			out = append(out, b)
		}
	}
	return out
}

// useRef reads a use block's attributes.
func (d *decoder) useRef(b *rawBlock) *useRef {
	if !d.checkName("use", b.label, b.labelR) {
		return nil
	}
	p, ok := d.str(b.attrs["path"])
	if !ok {
		return nil
	}
	if p.s == "" {
		d.add(errorf(IDBadValue, p.rng, "Empty path", "path names the directory (or .hcl file) whose blocks this policy uses, relative to this file, e.g. \"../../common\"."))
		return nil
	}
	r := &useRef{name: b.label, block: b, path: resolveRelative(b.file, p.s), override: map[string]strItem{}, matched: map[string]bool{}}
	if a, ok := b.attrs["override"]; ok {
		items, ok := d.strList(a)
		if !ok {
			return nil
		}
		for _, it := range items {
			k := normKey(it.s)
			if prev, dup := r.override[k]; dup {
				d.add(errorf(IDDuplicate, it.rng, "Duplicate override", "%q is listed twice (first at %s); remove one.", it.s, pos(prev.rng)))
				continue
			}
			r.override[k] = it
		}
	}
	return r
}

// readUsed reads, parses and decodes the files of a used directory.
func (d *decoder) readUsed(r *useRef) []*rawBlock {
	if err := d.scope.check(r.path); err != nil {
		d.add(errorf(IDSyntax, r.block.attrs["path"].Expr.Range(), "Used directory outside what the policy may read",
			"use %q: %s. voicewall reads nothing there.", r.name, errText(err)))
		return nil
	}
	files, dir, err := PolicyFiles(r.path)
	if err != nil {
		d.add(errorf(IDSyntax, r.block.attrs["path"].Expr.Range(), "Cannot read used directory",
			"use %q: %s. path is relative to the file the use block is in (%s).", r.name, err.Error(), r.block.file.name))
		return nil
	}
	if filepath.Clean(dir) == filepath.Clean(filepath.Dir(r.block.file.path)) {
		d.add(errorf(IDUnknownRef, r.block.attrs["path"].Expr.Range(), "Use of the policy's own directory",
			"use %q names the directory this policy is in; its files are already part of the policy. Name the common directory, e.g. \"../../common\".", r.name))
		return nil
	}
	given, _ := d.str(r.block.attrs["path"])
	srcs := make([]source, 0, len(files))
	for _, f := range files {
		name := usedName(r.block.file.name, given.s, f, dir == r.path)
		b, dg := readPolicyFile(d.scope, f, name)
		if dg != nil {
			// Reported at the use block's path: that is what the site can
			// change, and the file may not be readable to show.
			rng := r.block.attrs["path"].Expr.Range()
			dg.Subject = &rng
			dg.Detail = fmt.Sprintf("use %q reads %s: %s", r.name, name, dg.Detail)
			d.add(dg)
			return nil
		}
		srcs = append(srcs, source{name: name, path: f, src: b})
	}
	parsed, bodies, diags := parseSources(srcs)
	for n, f := range parsed {
		d.files[n] = f
	}
	d.diags = append(d.diags, diags...)
	d.used = append(d.used, srcs...)
	for i := range bodies {
		bodies[i].use = r
	}
	return d.decode(bodies)
}

// usedName is how a used file is shown. Display names keep the relation
// the files have on disk: a file of "../../common" used from "site.hcl" is
// "../../common/providers.hcl", so every located error and every comment
// in the output can be opened from the policy directory. An absolute path
// is shown as written.
func usedName(usingName, given, file string, givenIsDir bool) string {
	name := given
	if givenIsDir {
		name = filepath.Join(given, filepath.Base(file))
	}
	if !filepath.IsAbs(given) {
		name = filepath.Join(filepath.Dir(usingName), name)
	}
	return filepath.ToSlash(filepath.Clean(name))
}

// checkOverrides reports override entries that replace nothing: a typo or
// a leftover would otherwise silently keep the shared block.
func (d *decoder) checkOverrides(r *useRef, ownKeys map[string]*rawBlock) {
	keys := make([]string, 0, len(r.override))
	for k := range r.override {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		it := r.override[k]
		if !r.matched[k] {
			d.add(errorf(IDUnknownRef, it.rng, "Override of nothing",
				"use %q defines no %s, so there is nothing to override. Entries are \"rate_limit\", \"log\", \"rtp\", \"close\" or \"<block>.<name>\" such as \"provider.carrier\".",
				r.name, describeKey(it.s)))
			continue
		}
		if _, ok := ownKeys[k]; !ok {
			d.add(errorf(IDUnknownRef, it.rng, "Override without a replacement",
				"%q is listed in override of use %q, but this policy defines no %s to replace it with. Define the site's own block, or remove the entry to keep the shared one.",
				it.s, r.name, describeKey(it.s)))
		}
	}
}

func describe(b *rawBlock) string {
	if b.label == "" {
		return "the " + b.typ + " block"
	}
	return fmt.Sprintf("%s %q", b.typ, b.label)
}

func describeKey(k string) string {
	typ, label, ok := strings.Cut(k, ".")
	if !ok {
		return typ + " block"
	}
	return fmt.Sprintf("%s %q", typ, label)
}

func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
