// Package registry lists the targets voicewall can compile for and audit.
// It is the one place that knows every backend; backends never import each
// other, and lang learns the targets from here: the program loads policies
// through Load, LoadFull(With) or LoadSource, which hand lang every
// target's spec (lang.LoadOptions.Targets).
package registry

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/backends/draytek"
	"github.com/voicewall/voicewall/backends/fortigate"
	"github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/pfsense"
	"github.com/voicewall/voicewall/lang"
)

// Target is one compile target, as its backend declares it.
type Target = backends.Spec

// Targets in the order `--target all` renders them.
var Targets = []Target{nftables.Spec, fortigate.Spec, pfsense.Spec, draytek.Spec}

// Specs are the targets' declarations as lang reads target blocks by them.
func Specs() []*lang.TargetSpec {
	specs := make([]*lang.TargetSpec, len(Targets))
	for i, t := range Targets {
		specs[i] = t.TargetSpec
	}
	return specs
}

// Load, LoadFull and LoadSource read a policy as the program does: a
// target block names one of Targets and is checked by its spec. Every
// caller outside a backend's own unit tests loads through these.
func Load(path string) (*lang.Policy, hcl.Diagnostics) {
	l := LoadFull(path)
	return l.Policy, l.Diags
}

// LoadFull is Load that also returns the sources, for printing diagnostics.
func LoadFull(path string) *lang.Loaded { return LoadFullWith(path, lang.LoadOptions{}) }

// LoadFullWith is LoadFull with other load options (o.Targets is set to
// every target's spec; without o.Catalog, the embedded provider catalog).
func LoadFullWith(path string, o lang.LoadOptions) *lang.Loaded {
	o.Targets = Specs()
	if o.Catalog == nil {
		o.Catalog = EmbeddedCatalog()
	}
	return lang.LoadFullWith(path, o)
}

// LoadSource reads a policy from one in-memory file (tests, fuzzing).
func LoadSource(filename string, src []byte) (*lang.Policy, hcl.Diagnostics) {
	return lang.LoadSourceWith(filename, src, lang.LoadOptions{Targets: Specs(), Catalog: EmbeddedCatalog()})
}

// EmbeddedCatalog is the provider catalog compiled into the binary, as a
// load input (the CLI overlays `providers update` data on it).
func EmbeddedCatalog() lang.Catalog { return lang.EmbeddedCatalog() }

// Lookup finds a target by name.
func Lookup(name string) (Target, bool) {
	for _, t := range Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// Names lists the target names.
func Names() []string {
	out := make([]string, len(Targets))
	for i, t := range Targets {
		out[i] = t.Name
	}
	return out
}

// Audited lists the targets `voicewall audit` reads configurations of.
func Audited() []Target {
	var out []Target
	for _, t := range Targets {
		if t.Audited {
			out = append(out, t)
		}
	}
	return out
}

// CheckDeclared compiles the policy for every target it declares (a
// `target` block) and returns what those compiles report about the
// target's capability gaps: VW201 (a protection the target cannot express,
// not accepted: compile fails) and VW204 (an accepted gap that does not
// occur). `voicewall validate` adds them, so that a CI gate running only
// validate fails where `compile --target T` would. A diagnostic already in
// have (same ID, same place) is not repeated.
func CheckDeclared(p *lang.Policy, have hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		id, summary string
		rng         hcl.Range
	}
	seen := map[key]bool{}
	keyOf := func(d *hcl.Diagnostic) key {
		k := key{id: lang.FindingID(d), summary: d.Summary}
		if d.Subject != nil {
			k.rng = *d.Subject
		}
		return k
	}
	for _, d := range have {
		seen[keyOf(d)] = true
	}
	var out hcl.Diagnostics
	for _, t := range Targets {
		if p.Targets[t.Name] == nil {
			continue
		}
		_, diags := t.Compile(p, backends.Options{})
		for _, d := range diags {
			if id := lang.FindingID(d); id != lang.IDCapabilityGap && id != lang.IDStaleGap {
				continue
			}
			if k := keyOf(d); !seen[k] {
				seen[k] = true
				out = append(out, d)
			}
		}
	}
	return out
}
