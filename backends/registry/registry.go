// Package registry lists the targets voicewall can compile for. It is the
// one place that knows every backend; backends never import each other,
// and lang learns the targets from here.
package registry

import (
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

// Every program that loads policies imports this package (to compile
// them), so the targets are known to lang before any policy is read.
func init() {
	specs := make([]*lang.TargetSpec, len(Targets))
	for i, t := range Targets {
		specs[i] = t.TargetSpec
	}
	lang.RegisterTargets(specs...)
}

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
