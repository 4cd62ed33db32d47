// Package registry lists the targets voicewall can compile for. It is the
// one place that knows every backend; backends never import each other.
package registry

import (
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/backends/draytek"
	"github.com/voicewall/voicewall/backends/fortigate"
	"github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/pfsense"
)

// Target is one compile target.
type Target struct {
	Name    string
	File    string // main output file name with -o DIR
	Compile backends.CompileFunc
}

// Targets in the order `--target all` renders them.
var Targets = []Target{
	{"nftables", "nftables.nft", nftables.Compile},
	{"fortigate", "fortigate.conf", fortigate.Compile},
	{"pfsense", "pfsense.xml", pfsense.Compile},
	{"draytek", "draytek.txt", draytek.Compile},
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
