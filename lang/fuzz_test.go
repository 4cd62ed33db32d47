package lang

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"
)

// fuzzUnsafe reports inputs that could make the loader read a device,
// FIFO or pseudo file (a blocklist file = "/dev/zero" never ends). Relative
// paths stay inside the package directory (testdata/voipbl.txt is there for
// the seeds); without template sequences, escapes or heredocs an HCL string
// is its literal text, so checking the bytes is enough.
func fuzzUnsafe(data []byte) bool {
	if !bytes.Contains(data, []byte("file")) {
		return false
	}
	for _, s := range []string{"$", "%{", `\`, "<<", "..", `"/`, "~"} {
		if bytes.Contains(data, []byte(s)) {
			return true
		}
	}
	return false
}

// fuzzPackets are probes every policy is evaluated with: both families,
// every zone, to the gateway and through it, SIP, RTP and other ports.
func fuzzPackets(p *Policy) []Packet {
	srcs := []string{"203.0.113.10", "198.51.100.1", "10.20.0.5", "2001:db8:10::1", "2001:db8:bad::1"}
	var out []Packet
	for _, x := range p.Expects {
		out = append(out, x.Packet())
	}
	for _, z := range p.Zones() {
		for i, s := range srcs {
			src := netip.MustParseAddr(s)
			dst := netip.Addr{}
			if i%2 == 1 {
				if src.Is4() {
					dst = netip.MustParseAddr("10.20.0.50")
				} else {
					dst = netip.MustParseAddr("2001:db8:abcd:20::5")
				}
			}
			for _, svc := range []Service{{UDP, PortRange{5060, 5060}}, {TCP, PortRange{5061, 5061}}, {UDP, PortRange{15000, 15000}}, {TCP, PortRange{443, 443}}} {
				out = append(out, Packet{Src: src, SrcPort: uint16(16000 * (i % 2)), Zone: z, Dst: dst, Proto: svc.Proto, DstPort: svc.Ports.First})
			}
		}
	}
	return out
}

// FuzzLoad: LoadSource never panics on arbitrary bytes; a policy it returns
// evaluates packets without panicking and with consistent results, and the
// review checks run on it.
func FuzzLoad(f *testing.F) {
	// The examples are the seed corpus (testdata/fuzz/FuzzLoad); a few
	// small inputs reach the error paths quickly.
	f.Add([]byte(""))
	f.Add([]byte("provider \"p\" {\n  signaling = [\"192.0.2.1\"]\n}\nexpect \"e\" {\n  from = \"192.0.2.1\"\n  to = \"[2001:db8::1]:5060/udp\"\n  verdict = \"drop\"\n}\n"))
	f.Add([]byte("voice_vlan \"v\" {\n  id = 4095\n  subnets = [\"10.0.0.0/8\", \"::/0\"]\n  providers = [\"nope\"]\n}\nrtp {\n  ports = \"0-65536\"\n}\n"))
	// Depth and size seeds reach checkLimits: each is
	// refused before the parser, which 100,000 levels used to overflow.
	for _, s := range []string{"[", "{a = ", "!", "-", "f(", "\"${", "\"%{if x}"} {
		f.Add([]byte("a = " + strings.Repeat(s, MaxNesting+1)))
	}
	f.Add([]byte("a = x" + strings.Repeat("[0]", MaxOperators+1)))
	testenv.BoundFuzzMinimization()
	f.Fuzz(func(t *testing.T, data []byte) {
		// Inputs stay under 64 KiB, so the size limit itself is left to
		// TestHugeAndDeepPolicyRefused: under coverage instrumentation the
		// lexer takes about a second per megabyte, and the minimizer cuts
		// a megabyte seed a kilobyte at a time.
		if fuzzUnsafe(data) || len(data) > 1<<16 {
			t.Skip()
		}
		p, diags := LoadSource("fuzz.hcl", data)
		if p == nil {
			if !diags.HasErrors() {
				t.Fatal("no policy and no error")
			}
			return
		}
		if diags.HasErrors() {
			t.Fatalf("a policy with errors: %v", diags)
		}
		_ = lint(p)
		for _, pk := range fuzzPackets(p) {
			r := p.Evaluate(pk)
			if r.Managed != (r.Rule != nil) || r.Verdict == Drop && !r.Managed || r.Verdict != Accept && r.Verdict != Drop {
				t.Fatalf("inconsistent result for %+v: %+v", pk, r)
			}
			if r.Rule != nil {
				_ = r.Decision() + r.Source()
			}
			for _, s := range r.Trace {
				_ = s.String()
			}
			if again := p.Evaluate(pk); again.Verdict != r.Verdict || again.Rule != r.Rule || len(again.Trace) != len(r.Trace) {
				t.Fatalf("not deterministic for %+v", pk)
			}
		}
	})
}
