// Package bench writes synthetic policies with large blocklists for
// benchmarks and scale tests: the usual VoIP policy plus N IPv4 /32 entries.
package bench

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/voicewall/voicewall/internal/safefile"
)

// Policy is the usual VoIP policy the scale goals are measured with.
const Policy = `target "nftables" {
  wan = "eth0"
  lan = "eth1"
}

provider "carrier" {
  signaling  = ["203.0.113.10", "203.0.113.11"]
  media      = ["203.0.113.0/26"]
  transports = ["udp", "tls"]
}

pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["carrier"]
}

voice_vlan "phones" {
  id         = 20
  subnet     = "10.30.0.0/24"
  providers  = ["carrier"]
  management = ["10.0.0.0/24"]
}

rtp {
  ports = "10000-20000"
}

close {
  ports = ["2000/tcp"]
}

rate_limit {
  sip   = "10/second"
  burst = 20
}

log {
  dropped = true
}

blocklist "scanners" {
  file = "blocklist.txt"
}
`

// WriteBlocklist writes n distinct, non-adjacent IPv4 /32 entries (every
// other address from 11.0.0.0 up, so nothing merges and the set keeps n
// elements), with a comment line every 1,000 entries.
func WriteBlocklist(path string, n int) error {
	var w bytes.Buffer
	w.Grow(n * 14)
	base := uint32(11 << 24)
	for i := 0; i < n; i++ {
		if i%1000 == 0 {
			fmt.Fprintf(&w, "# batch %d\n", i/1000)
		}
		a := base + uint32(i)*2
		fmt.Fprintf(&w, "%d.%d.%d.%d\n", a>>24, a>>16&0xff, a>>8&0xff, a&0xff)
	}
	return safefile.Write(path, w.Bytes(), safefile.Options{Mode: 0o644})
}

// WritePolicy writes the policy and an n-entry blocklist into dir.
func WritePolicy(dir string, n int) error {
	if err := safefile.Write(filepath.Join(dir, "policy.hcl"), []byte(Policy), safefile.Options{Mode: 0o644}); err != nil {
		return err
	}
	return WriteBlocklist(filepath.Join(dir, "blocklist.txt"), n)
}
