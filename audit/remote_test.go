package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/devmodel"
)

// TestRemotePhonesAskedFor: SIP forwarded from any source to the PBX is
// VW302 on its own, but not when the policy's remote_phones asks for it;
// a policy that asks for other transports does not excuse it.
func TestRemotePhonesAskedFor(t *testing.T) {
	p, diags := registry.Load("../examples/remote-phones")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	src, err := os.ReadFile("../golden/remote-phones/pfsense.xml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Read("pfsense", "pfsense.xml", src)
	if err != nil {
		t.Fatal(err)
	}
	open := func(r *Report) []string {
		var out []string
		for _, f := range r.Findings {
			if f.ID == IDOpenVoice || f.ID == IDForwardAnySrc {
				out = append(out, f.Message)
			}
		}
		return out
	}
	if got := open(Check(d, src, Options{Target: "pfsense"})); len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), "5061/tcp") {
		t.Errorf("without the policy, SIP from any is not VW302: %q", got)
	}
	if got := open(Check(d, src, Options{Target: "pfsense", Policy: p})); len(got) != 0 {
		t.Errorf("the SIP remote_phones asks for is still reported: %q", got)
	}
	// RTP forwarded from any source is never asked for: a copy of the
	// remote SIP forward moved to the RTP range (with NoRules, so no filter
	// rule is needed for it to pass) is VW302 even with the policy.
	for _, f := range d.Forwards {
		if f.Src.Any && f.Proto == 6 {
			x := *f
			x.Proto, x.Ports, x.NoRules, x.Ref = 17, devmodel.PortsOf(10000, 20000), true, "forged RTP forward"
			d.Forwards = append(d.Forwards, &x)
			break
		}
	}
	if got := open(Check(d, src, Options{Target: "pfsense", Policy: p})); len(got) != 1 || !strings.Contains(got[0], "forged RTP forward") {
		t.Errorf("RTP forwarded from any: %q", got)
	}
	d.Forwards = d.Forwards[:len(d.Forwards)-1]

	// The same device against a policy whose remote phones speak UDP only.
	dir := t.TempDir()
	text, err := os.ReadFile("../examples/remote-phones/gateway.hcl")
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(text), `transports = ["tls"]
  rate`, `transports = ["udp"]
  rate`, 1)
	if other == string(text) {
		t.Fatal("example changed: the transports line was not found")
	}
	if err := os.WriteFile(filepath.Join(dir, "gw.hcl"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	q, diags := registry.Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := open(Check(d, src, Options{Target: "pfsense", Policy: q})); len(got) == 0 {
		t.Error("TLS SIP from any passes an audit against a policy that asks only for UDP")
	}
}
