package lang

import (
	"errors"
	"fmt"
	"github.com/voicewall/voicewall/catalog"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Loaded is a policy together with everything needed to report on it.
type Loaded struct {
	Root   string  // directory file names in diagnostics are relative to
	Policy *Policy // nil when Diagnostics has errors
	Files  Files   // source of every file read, for printing diagnostics
	Diags  hcl.Diagnostics
	// DNSNames are the signaling_dns names the policy uses, sorted: what a
	// caller resolves before loading with Options.DNS.
	DNSNames []string
}

// Load reads a policy from a .hcl file or a directory of them (merged).
// The policy is nil when the diagnostics contain an error.
func Load(path string) (*Policy, hcl.Diagnostics) {
	l := LoadFull(path)
	return l.Policy, l.Diags
}

// LoadWith is Load with options (targets, catalog, DNS answers).
func LoadWith(path string, o LoadOptions) (*Policy, hcl.Diagnostics) {
	l := LoadFullWith(path, o)
	return l.Policy, l.Diags
}

// LoadFull is Load that also returns the sources, for printing diagnostics.
// Like Load and LoadSource it gives the policy voicewall's embedded provider
// catalog (static data); LoadFullWith takes only what its options give.
func LoadFull(path string) *Loaded {
	return LoadFullWith(path, LoadOptions{Catalog: EmbeddedCatalog()})
}

// EmbeddedCatalog is the provider catalog compiled into voicewall.
func EmbeddedCatalog() Catalog { return CatalogOf(catalog.MustEmbedded()) }

// LoadOptions are what a caller gives the loader besides the policy path:
// the targets a policy may name, and inputs that stand in for the disk.
type LoadOptions struct {
	// Targets are the targets a policy may name, in order: a target block
	// is read by its spec (its own attributes, interface defaults,
	// capability table) and a block naming any other target is an error.
	// The program passes every target (backends/registry does, in
	// registry.Load and LoadFull). None, as in a backend's own unit tests,
	// which cannot import the registry: target blocks are read without
	// target checks and Policy.Target fills in what they leave out.
	Targets []*TargetSpec
	// Overlay maps a blocklist file's path (as the policy resolves it:
	// relative to the policy file naming it) to content read in its place.
	// The feed refresh validates a downloaded list with the whole policy
	// this way before the list may replace the file.
	Overlay map[string][]byte
	// Catalog supplies `catalog = "NAME"`; nil: no catalog, and a provider
	// that names one is an error.
	Catalog Catalog
	// DNS holds the answers for the names of signaling_dns. nil means "not
	// resolved": the load collects the names (Loaded.DNSNames) and reports
	// each as unresolved (VW051); the caller resolves them and loads again.
	// A name without an answer is an error either way.
	DNS map[string]DNSAnswer
	// Now is the caller's clock, used only to say how old a kept answer is.
	Now time.Time
	// ReadDirs are directories the policy may read files from besides its
	// own tree, /etc/voicewall, its repository and VOICEWALL_READ_PATH
	// (readscope.go).
	ReadDirs []string
}

// LoadFullWith is LoadFull with targets, and inputs in place of files on
// disk.
func LoadFullWith(path string, o LoadOptions) *Loaded {
	if path == "" {
		path = "."
	}
	scope := newReadScope(path, o.ReadDirs)
	srcs, root, diags := readSources(path, scope)
	if diags.HasErrors() {
		return &Loaded{Files: Files{}, Diags: diags}
	}
	l := loadSourcesWith(path, srcs, o, scope)
	l.Root = root
	return l
}

// readSources reads the .hcl files of PATH (see PolicyFiles).
func readSources(path string, scope *readScope) ([]source, string, hcl.Diagnostics) {
	files, root, err := PolicyFiles(path)
	if err != nil {
		return nil, "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read policy", Detail: err.Error(), Extra: Finding{IDSyntax}}}
	}
	return readFiles(files, root, scope)
}

// readFiles reads the files PolicyFiles listed; names are relative to root.
func readFiles(files []string, root string, scope *readScope) ([]source, string, hcl.Diagnostics) {
	srcs := make([]source, 0, len(files))
	for _, f := range files {
		b, d := readPolicyFile(scope, f, displayName(root, f))
		if d != nil {
			return nil, "", hcl.Diagnostics{d}
		}
		srcs = append(srcs, source{name: displayName(root, f), path: f, src: b})
	}
	return srcs, root, nil
}

// parseSources parses each source; files holds every parsed file (for
// printing diagnostics), bodies only those without errors.
func parseSources(srcs []source) (files Files, bodies []parsedFile, diags hcl.Diagnostics) {
	files = Files{}
	for _, s := range srcs {
		if d := checkLimits(s.name, s.src); d != nil {
			if len(s.src) <= MaxPolicyFileSize {
				files[s.name] = &hcl.File{Bytes: s.src} // for the snippet
			}
			diags = append(diags, d)
			continue
		}
		f, ds := hclsyntax.ParseConfig(s.src, s.name, hcl.Pos{Line: 1, Column: 1, Byte: 0})
		files[s.name] = f
		ds = capParseDiags(s.name, tagHCL(ds, IDSyntax))
		diags = append(diags, ds...)
		if f != nil && !ds.HasErrors() {
			bodies = append(bodies, parsedFile{source: s, file: f})
		}
	}
	return files, bodies, diags
}

// LoadSource loads a policy from one in-memory file; blocklist files are
// resolved relative to the current directory. Used by tests and fuzzing.
func LoadSource(filename string, src []byte) (*Policy, hcl.Diagnostics) {
	return LoadSourceWith(filename, src, LoadOptions{Catalog: EmbeddedCatalog()})
}

// LoadSourceWith is LoadSource with targets (and overlaid inputs).
func LoadSourceWith(filename string, src []byte, o LoadOptions) (*Policy, hcl.Diagnostics) {
	l := loadSourcesWith(filename, []source{{name: filename, path: filename, src: src}}, o, newReadScope(filepath.Dir(filename), o.ReadDirs))
	return l.Policy, l.Diags
}

type source struct {
	name string // as shown in diagnostics and comments
	path string // on disk (for resolving blocklist files)
	src  []byte
}

// PolicyFiles lists the .hcl files of PATH (a file, or a directory whose
// *.hcl files are merged), sorted, and the directory names are relative to.
func PolicyFiles(path string) (files []string, root string, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	if !st.IsDir() {
		return []string{path}, filepath.Dir(path), nil
	}
	// Not filepath.Glob: it takes an unreadable directory for an empty one.
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, "", fmt.Errorf("cannot list the policy directory: %w", err)
	}
	var matches []string
	for _, e := range entries {
		if ok, _ := filepath.Match("*.hcl", e.Name()); ok {
			matches = append(matches, filepath.Join(path, e.Name()))
		}
	}
	sort.Strings(matches)
	if len(matches) == 0 {
		return nil, "", fmt.Errorf("%s contains no .hcl files; give a policy file or a directory of them", path)
	}
	return matches, path, nil
}

// displayName is the file's name relative to the policy root, so comments
// and golden files do not depend on where the checkout lives.
func displayName(root, f string) string {
	if rel, err := filepath.Rel(root, f); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(f)
}

func loadSourcesWith(root string, srcs []source, o LoadOptions, scope *readScope) *Loaded {
	l := &Loaded{}
	var bodies []parsedFile
	l.Files, bodies, l.Diags = parseSources(srcs)
	if l.Diags.HasErrors() {
		return l
	}
	d := &decoder{files: l.Files, scope: scope, overlay: o.Overlay, targets: o.Targets, opts: o, dnsNames: map[string]bool{}}
	raw := d.uses(d.decode(bodies))
	p := d.validate(raw)
	p.Root = root
	if !d.diags.HasErrors() {
		d.lower(p)
		d.diags = append(d.diags, lint(p)...)
		l.Policy = p
	}
	l.Diags = d.diags
	l.DNSNames = l.dnsNamesSorted(d.dnsNames)
	return l
}

type parsedFile struct {
	source
	file *hcl.File
	use  *useRef // the use block that brought this file in; nil for the policy's own files
}

// LoadSourceSyntaxOnly parses a file without decoding it, so fmt can refuse
// to rewrite a file it cannot parse.
func LoadSourceSyntaxOnly(filename string, src []byte) *Loaded {
	files, _, diags := parseSources([]source{{name: filename, path: filename, src: src}})
	return &Loaded{Files: files, Diags: diags}
}

// ReadPolicyFile reads one .hcl file as the loader does: a regular file of
// at most MaxPolicyFileSize bytes (a FIFO, device or /dev/zero symlink is
// refused without blocking), every read error reported. display names it
// in the diagnostic.
// The file must resolve inside what a policy at root may read (see
// readscope.go): fmt never reads, nor rewrites, a file a symlink in the
// policy's directory points to elsewhere.
func ReadPolicyFile(root, path, display string) ([]byte, *hcl.Diagnostic) {
	return readPolicyFile(newReadScope(root, nil), path, display)
}

func readPolicyFile(scope *readScope, path, display string) ([]byte, *hcl.Diagnostic) {
	b, err := scope.read(path, MaxPolicyFileSize)
	if err == nil {
		return b, nil
	}
	if errors.Is(err, ErrOutsideScope) {
		return nil, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Policy file outside what the policy may read", Extra: Finding{IDSyntax},
			Subject: &hcl.Range{Filename: display, Start: hcl.InitialPos, End: hcl.InitialPos},
			Detail:  errText(err) + ". voicewall shows nothing of its content."}
	}
	if errors.Is(err, ErrTooLarge) {
		size := int64(-1)
		if st, serr := os.Stat(path); serr == nil && st.Size() > 0 {
			size = st.Size()
		}
		return nil, tooLarge(display, size)
	}
	how := "Check the file and the disk it is on."
	switch {
	case errors.Is(err, fs.ErrPermission):
		how = "Check the file's permissions."
	case errors.Is(err, ErrNotRegular):
		how = "A policy file must be a plain file; remove it or rename it so that it does not end in .hcl."
	}
	return nil, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read policy file", Extra: Finding{IDSyntax},
		Subject: &hcl.Range{Filename: display, Start: hcl.InitialPos, End: hcl.InitialPos},
		Detail:  err.Error() + ". " + how}
}
