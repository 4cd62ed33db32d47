package audit

import (
	"fmt"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
)

// bigFortiGate is a backup of a large site: n addresses, n policies.
func bigFortiGate(n int) []byte {
	var b strings.Builder
	b.WriteString("#config-version=FG600E-7.4.3\nconfig system interface\n    edit \"wan1\"\n        set role wan\n    next\nend\nconfig firewall address\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    edit \"host-%d\"\n        set subnet 10.%d.%d.0 255.255.255.0\n    next\n", i, i/256%256, i%256)
	}
	b.WriteString("end\nconfig firewall policy\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    edit %d\n        set name \"p %d\"\n        set srcintf \"internal\"\n        set dstintf \"wan1\"\n        set srcaddr \"host-%d\"\n        set dstaddr \"all\"\n        set action accept\n        set service \"HTTPS\" \"DNS\"\n    next\n", i+1, i, i)
	}
	b.WriteString("end\n")
	return []byte(b.String())
}

// BenchmarkAuditLargeFortiGate: read, check and drift-check a 2000-policy
// backup against an example policy.
func BenchmarkAuditLargeFortiGate(b *testing.B) {
	src := bigFortiGate(2000)
	p, diags := registry.Load("../examples/dual-stack")
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		d, err := Read("fortigate", "big.conf", src)
		if err != nil {
			b.Fatal(err)
		}
		Check(d, src, Options{Target: "fortigate", Policy: p})
	}
}
