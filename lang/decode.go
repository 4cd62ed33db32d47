package lang

import (
	"fmt"
	"math/big"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// The schema of the language. Unknown blocks and attributes are errors with
// a "did you mean" suggestion (hcl's schema check provides it).
var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "target", LabelNames: []string{"name"}},
	{Type: "provider", LabelNames: []string{"name"}},
	{Type: "pbx", LabelNames: []string{"name"}},
	{Type: "voice_vlan", LabelNames: []string{"name"}},
	{Type: "rtp"},
	{Type: "close"},
	{Type: "rate_limit"},
	{Type: "blocklist", LabelNames: []string{"name"}},
	{Type: "log"},
	{Type: "expect", LabelNames: []string{"name"}},
	{Type: "use", LabelNames: []string{"name"}},
	{Type: "remote_phones"},
	{Type: "ban"},
	{Type: "watch", LabelNames: []string{"name"}},
}}

func attrs(req []string, opt ...string) *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, a := range req {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a, Required: true})
	}
	for _, a := range opt {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a})
	}
	return s
}

var (
	providerSchema  = attrs(nil, "signaling", "catalog", "signaling_dns", "media", "transports", "sip_port", "tls_port", "symmetric_rtp")
	pbxSchema       = attrs([]string{"address"}, "address6", "providers", "rtp_ports")
	vlanSchema      = attrs([]string{"id"}, "parent", "subnet", "subnets", "providers", "management", "management_ports", "dscp", "allow_out")
	rtpSchema       = attrs(nil, "ports")
	closeSchema     = attrs([]string{"ports"})
	rateLimitSchema = attrs([]string{"sip"}, "burst")
	blocklistSchema = attrs(nil, "addresses", "file", "files", "feed", "key_file", "allow_http", "max_share", "max_change")
	logSchema       = attrs(nil, "dropped", "prefix", "rate")
	expectSchema    = attrs([]string{"from", "to", "verdict"}, "zone", "from_port", "trusted", "banned")
	useSchema       = attrs([]string{"path"}, "override")
)

// Raw decoded blocks, before cross-references are resolved.
type rawBlock struct {
	typ    string
	label  string
	rng    hcl.Range // the block header (type and labels)
	labelR hcl.Range
	attrs  hcl.Attributes
	file   parsedFile
}

type decoder struct {
	files Files
	// scope is what the policy may read (readscope.go).
	scope *readScope
	diags hcl.Diagnostics
	// used lists the sources read through use blocks, in reading order
	// (InputFiles must cover them).
	used []source
	// overlay holds blocklist contents that stand in for files on disk
	// (LoadOptions.Overlay), by resolved path.
	overlay map[string][]byte
	// targets are the targets a policy may name (LoadOptions.Targets);
	// none: target blocks are read without target checks.
	targets []*TargetSpec
	// opts are the load's inputs besides the files (catalog, DNS answers).
	opts LoadOptions
	// dnsNames collects every signaling_dns name (Loaded.DNSNames).
	dnsNames map[string]bool
	// whitelists are the providers' signaling and media ranges by
	// provider and attribute (in decoding order), for the "any in pieces"
	// check (anyshare.go).
	whitelists     map[string][]whitelistPiece
	whitelistOrder []string
}

func (d *decoder) add(diag *hcl.Diagnostic) { d.diags = append(d.diags, diag) }

func (d *decoder) decode(files []parsedFile) []*rawBlock {
	var out []*rawBlock
	for _, f := range files {
		content, diags := f.file.Body.Content(rootSchema)
		tagHCL(diags, IDSchema)
		d.diags = append(d.diags, diags...)
		if content == nil {
			continue
		}
		for _, b := range content.Blocks {
			rb := &rawBlock{typ: b.Type, rng: hcl.RangeBetween(b.TypeRange, b.TypeRange), file: f}
			if len(b.Labels) > 0 {
				rb.label = b.Labels[0]
				rb.labelR = b.LabelRanges[0]
				rb.rng = hcl.RangeBetween(b.TypeRange, b.LabelRanges[0])
			}
			if rb.typ == "target" && len(d.targets) == 0 {
				// No targets declared (a backend's own unit tests):
				// read the block's attributes without target checks.
				attrs, diags := b.Body.JustAttributes()
				tagHCL(diags, IDSchema)
				d.diags = append(d.diags, diags...)
				rb.attrs = attrs
				out = append(out, rb)
				continue
			}
			schema := d.schemaFor(rb)
			if schema == nil {
				continue
			}
			c, diags := b.Body.Content(schema)
			tagHCL(diags, IDSchema)
			d.diags = append(d.diags, diags...)
			if c == nil {
				continue
			}
			rb.attrs = c.Attributes
			out = append(out, rb)
		}
	}
	return out
}

func (d *decoder) schemaFor(b *rawBlock) *hcl.BodySchema {
	switch b.typ {
	case "target":
		spec, ok := d.lookupTarget(b.label)
		if !ok {
			names := d.targetNames()
			d.add(errorf(IDUnknownRef, b.labelR, "Unknown target", "voicewall has no target %q. Targets are: %s.%s", b.label, strings.Join(names, ", "), suggest(b.label, names)))
			return nil
		}
		names := []string{"wan", "lan", "accept_gaps"}
		for _, a := range spec.Attrs {
			names = append(names, a.Name)
		}
		return attrs(nil, names...)
	case "provider":
		return providerSchema
	case "pbx":
		return pbxSchema
	case "voice_vlan":
		return vlanSchema
	case "rtp":
		return rtpSchema
	case "close":
		return closeSchema
	case "rate_limit":
		return rateLimitSchema
	case "blocklist":
		return blocklistSchema
	case "log":
		return logSchema
	case "expect":
		return expectSchema
	case "use":
		return useSchema
	case "remote_phones":
		return remotePhonesSchema
	case "ban":
		return banSchema
	case "watch":
		return watchSchema
	}
	return nil
}

// --- attribute readers: each reports errors at the exact expression ---

func (d *decoder) value(a *hcl.Attribute, want cty.Type) (cty.Value, bool) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		tagHCL(diags, IDSyntax)
		notLiteral := len(a.Expr.Variables()) > 0 || hasCall(a.Expr)
		for _, dg := range diags {
			if dg.Detail == "" || notLiteral {
				dg.Detail = strings.TrimSpace(dg.Detail + " voicewall policies take literal values: write the value itself, in quotes for text.")
			}
		}
		d.diags = append(d.diags, diags...)
		return cty.NilVal, false
	}
	if v.IsNull() {
		d.add(errorf(IDBadValue, a.Expr.Range(), "Missing value", "%s must not be null.", a.Name))
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, want)
	if err != nil {
		d.add(errorf(IDBadValue, a.Expr.Range(), "Wrong type for "+a.Name, "%s must be %s; %s.", a.Name, want.FriendlyName(), err.Error()))
		return cty.NilVal, false
	}
	return cv, true
}

// hasCall reports whether an expression calls a function anywhere.
func hasCall(e hcl.Expression) bool {
	n, ok := e.(hclsyntax.Node)
	if !ok {
		return false
	}
	found := false
	hclsyntax.VisitAll(n, func(n hclsyntax.Node) hcl.Diagnostics {
		if _, ok := n.(*hclsyntax.FunctionCallExpr); ok {
			found = true
		}
		return nil
	})
	return found
}

type strItem struct {
	s   string
	rng hcl.Range
}

func (d *decoder) str(a *hcl.Attribute) (strItem, bool) {
	v, ok := d.value(a, cty.String)
	if !ok {
		return strItem{}, false
	}
	return strItem{v.AsString(), a.Expr.Range()}, true
}

// strList reads a list of strings and keeps each element's own range, so an
// error in the third CIDR points at the third CIDR.
func (d *decoder) strList(a *hcl.Attribute) ([]strItem, bool) {
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		d.add(errorf(IDBadValue, a.Expr.Range(), "Wrong type for "+a.Name, "%s must be a list of strings, e.g. [\"a\", \"b\"].", a.Name))
		return nil, false
	}
	out := make([]strItem, 0, len(exprs))
	ok := true
	for _, e := range exprs {
		v, diags := e.Value(nil)
		if diags.HasErrors() {
			d.diags = append(d.diags, tagHCL(diags, IDSyntax)...)
			ok = false
			continue
		}
		cv, err := convert.Convert(v, cty.String)
		if err != nil || cv.IsNull() {
			d.add(errorf(IDBadValue, e.Range(), "Wrong type in "+a.Name, "Each element of %s must be a string in quotes.", a.Name))
			ok = false
			continue
		}
		out = append(out, strItem{cv.AsString(), e.Range()})
	}
	return out, ok
}

func (d *decoder) integer(a *hcl.Attribute, min, max int64) (int64, bool) {
	v, ok := d.value(a, cty.Number)
	if !ok {
		return 0, false
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		d.add(errorf(IDBadValue, a.Expr.Range(), "Not a whole number", "%s must be a whole number between %d and %d.", a.Name, min, max))
		return 0, false
	}
	n, acc := bf.Int64()
	if acc != big.Exact || n < min || n > max {
		id := IDBadValue
		if strings.HasSuffix(a.Name, "port") {
			id = IDBadPort
		}
		if a.Name == "id" {
			id = IDBadVLAN
		}
		got := strconv.FormatInt(n, 10)
		if acc != big.Exact {
			got = bf.Text('g', 6) // 1e300 is not echoed as 301 digits
		}
		d.add(errorf(id, a.Expr.Range(), "Value out of range", "%s must be between %d and %d; got %s.", a.Name, min, max, got))
		return 0, false
	}
	return n, true
}

func (d *decoder) boolean(a *hcl.Attribute) (bool, bool) {
	v, ok := d.value(a, cty.Bool)
	if !ok {
		return false, false
	}
	return v.True(), true
}

// --- names ---

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// MaxNameLen keeps every derived name inside every target's limits
// (pfSense aliases are 31 characters; voicewall adds short prefixes).
const MaxNameLen = 24

// checkName rejects names a target cannot carry safely. They are never
// escaped later: a name that passes here is safe everywhere.
func (d *decoder) checkName(kind, name string, rng hcl.Range) bool {
	if nameRE.MatchString(name) && len(name) <= MaxNameLen {
		return true
	}
	why := "names start with a letter and use only letters, digits, '_' and '-'"
	if len(name) > MaxNameLen {
		why = fmt.Sprintf("names are at most %d characters", MaxNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '"' || r == '\'' || r == '\\' || r == '<' || r == '>' {
			why = "quotes, backslashes, angle brackets and control characters would inject into vendor configurations"
			break
		}
	}
	d.add(errorf(IDUnsafeName, rng, "Unsafe "+kind+" name", "%q cannot be carried safely by every target: %s. Rename it, e.g. %q.", name, why, safeName(name)))
	return false
}

// safeName proposes a valid name for the fix hint.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-'):
			b.WriteRune(r)
		case r == ' ' || r == '.':
			b.WriteByte('_')
		}
	}
	out := strings.TrimLeft(b.String(), "0123456789_-")
	if out == "" {
		out = "name"
	}
	if len(out) > MaxNameLen {
		out = out[:MaxNameLen]
	}
	return out
}

// expectNameOK: expect labels are never rendered, so spaces are fine, but no
// control characters (they would garble terminal and JSON output).
func (d *decoder) checkExpectName(name string, rng hcl.Range) bool {
	if name == "" || len(name) > 200 {
		d.add(errorf(IDBadExpect, rng, "Bad expect name", "An expect name must be 1 to 200 characters."))
		return false
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			d.add(errorf(IDBadExpect, rng, "Bad expect name", "An expect name must not contain control characters or newlines."))
			return false
		}
	}
	return true
}

// normName is the identity used for duplicate detection: targets differ in
// case sensitivity and some turn '-' into '_', so "Telnyx" and "telnyx_"...
// are different, but "Telnyx"/"telnyx" and "a-b"/"a_b" collide.
func normName(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "_")) }

// refs resolves a list of provider references.
func (d *decoder) providerRefs(items []strItem, p *Policy, blk string) []*Provider {
	var out []*Provider
	seen := map[string]bool{}
	for _, it := range items {
		pr := p.Provider(it.s)
		if pr == nil {
			var names []string
			for _, x := range p.Providers {
				names = append(names, x.Name)
			}
			hint := suggest(it.s, names)
			if hint == "" {
				if len(names) == 0 {
					hint = " Declare it with a provider block."
				} else {
					hint = " Known providers: " + strings.Join(names, ", ") + "."
				}
			}
			d.add(errorf(IDUnknownRef, it.rng, "Unknown provider", "%s refers to provider %q, which is not declared.%s", blk, it.s, hint))
			continue
		}
		if seen[pr.Name] {
			d.add(errorf(IDDuplicate, it.rng, "Duplicate provider reference", "%q is listed twice; remove one.", it.s))
			continue
		}
		seen[pr.Name] = true
		out = append(out, pr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func resolveRelative(file parsedFile, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(file.path), name)
}
