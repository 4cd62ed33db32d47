package draytek

import (
	"testing"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

var fuzzSeeds = []string{
	fullPolicy,
	tlsOnly,
	noPBX,
	`provider "p" {
  signaling = ["192.0.2.1", "2001:db8::1"]
  media     = ["192.0.2.0/24", "2001:db8::/64"]
}
pbx "x" {
  address   = "10.0.0.2"
  providers = ["p"]
}
`,
	`target "draytek" {
  wan = "WAN2"
}
provider "a" {
  signaling  = ["198.51.100.1", "198.51.100.3", "198.51.100.5"]
  transports = ["udp", "tcp", "tls"]
  sip_port   = 5080
}
provider "b" {
  signaling = ["203.0.113.9"]
  media     = ["203.0.113.0/25"]
}
pbx "x" {
  address   = "10.0.0.2"
  providers = ["a", "b"]
}
voice_vlan "v" {
  id         = 4094
  subnets    = ["10.9.0.0/16"]
  providers  = ["a", "b"]
  management = ["10.0.0.0/8"]
  dscp       = "af41"
}
blocklist "one" {
  addresses = ["192.0.2.200/29", "192.0.2.210"]
}
`,
}

// FuzzCompile: any policy the loader accepts compiles without panicking, and
// any output is accepted by the strict reader and keeps the policy's facts.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add("fuzz.hcl", []byte(s), true)
		f.Add("fuzz.hcl", []byte(s), false)
	}
	for _, name := range testenv.HostileFileNames {
		f.Add(name, []byte(fullPolicy), true)
	}
	testenv.BoundFuzzMinimization()
	f.Fuzz(func(t *testing.T, name string, src []byte, degraded bool) {
		p, d := lang.LoadSource(name, src)
		if d.HasErrors() || p == nil {
			return
		}
		opts := backends.Options{AllowDegraded: degraded}
		out, diags := Compile(p, opts)
		if out == nil {
			if !diags.HasErrors() {
				t.Fatalf("no output and no error")
			}
			return
		}
		if diags.HasErrors() {
			t.Fatalf("output despite errors: %v", diags)
		}
		checkOutput(t, p, opts, out)
	})
}
