package fortigate

import (
	"bytes"
	"testing"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

// FuzzCompile: any policy lang accepts compiles without panicking, and any
// output the backend produces passes the strict reader and the invariants
// (ALG off, provider-only SIP/RTP, VIPs to the PBX, names within limits),
// deterministically.
func FuzzCompile(f *testing.F) {
	f.Add("fuzz.hcl", []byte(basePolicy))
	f.Add("fuzz.hcl", []byte(basePolicy+"target \"fortigate\" {\n  version = \"6.0\"\n  sip_helper_index = \"13\"\n}\n"))
	f.Add("fuzz.hcl", []byte(basePolicy+"target \"fortigate\" {\n  vdom = \"voice\"\n  wan = \"port1\"\n  lan = \"port2\"\n}\n"))
	f.Add("fuzz.hcl", []byte("provider \"p\" {\n  signaling = [\"192.0.2.1\"]\n  transports = [\"tls\"]\n}\n"))
	f.Add("fuzz.hcl", []byte("provider \"p\" {\n  signaling = [\"2001:db8::/32\"]\n  media = [\"2001:db8:1::/48\", \"192.0.2.0/25\"]\n}\npbx \"x\" {\n  address = \"2001:db8:2::5\"\n  providers = [\"p\"]\n}\n"))
	f.Add("fuzz.hcl", []byte("provider \"a\" {\n  signaling = [\"198.51.100.1\"]\n  sip_port = 5080\n  transports = [\"udp\", \"tcp\"]\n}\nvoice_vlan \"v\" {\n  id = 4094\n  subnets = [\"10.1.0.0/16\", \"fd00::/64\"]\n  providers = [\"a\"]\n  dscp = \"af41\"\n}\n"))
	for _, name := range testenv.HostileFileNames {
		f.Add(name, []byte(basePolicy))
	}
	testenv.BoundFuzzMinimization()
	f.Fuzz(func(t *testing.T, name string, src []byte) {
		if bytes.Contains(src, []byte("file")) {
			return // blocklist files would read the disk; keep the fuzz hermetic
		}
		p, diags := lang.LoadSource(name, src)
		if p == nil || diags.HasErrors() {
			return
		}
		for _, opts := range []backends.Options{{}, {AllowDegraded: true}} {
			out, _, diags := compile(t, p, opts)
			if out == nil {
				if !diags.HasErrors() {
					t.Fatal("no output and no error")
				}
				continue
			}
			p2, _ := lang.LoadSource(name, src)
			again, _ := Compile(p2, opts)
			if again == nil || !bytes.Equal(out.Main().Data, again.Main().Data) {
				t.Fatal("not deterministic")
			}
		}
	})
}
