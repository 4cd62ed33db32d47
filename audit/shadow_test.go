package audit

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/lang"
	"go4.org/netipx"
)

// merged compiles the example with --base and returns what the device holds
// afterwards: pfSense's merged config.xml; for FortiGate the base followed
// by the pasted script (whose policies move above the admin's own).
func merged(t *testing.T, p *lang.Policy, target, base string) []byte {
	t.Helper()
	b, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	tgt, _ := registry.Lookup(target)
	out, diags := tgt.Compile(p, backends.Options{Base: b})
	if diags.HasErrors() {
		t.Fatalf("compile --base %s: %v", base, diags)
	}
	if target == "fortigate" {
		return append(append(b, '\n'), out.Main().Data...)
	}
	return out.Main().Data
}

func ids(r *Report, id string) []int {
	var lines []int
	for _, f := range r.Findings {
		if f.ID == id {
			lines = append(lines, f.Loc.Line)
		}
	}
	return lines
}

// TestShadowedByBase: after a --base merge the admin's own WAN pass from
// any to the PBX (pfSense) and VIP from all (FortiGate) are still in the
// configuration, but voicewall's drops above them take every stranger's
// packet: they are VW312 notes, not VW302/VW306, and the device does what
// the policy says. The admin's config alone still reports them.
func TestShadowedByBase(t *testing.T) {
	p, diags := registry.Load(filepath.Join("..", "examples", "asterisk-udp-trunk"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, c := range []struct{ target, base string }{
		{"pfsense", "testdata/office-pfsense.xml"},
		{"fortigate", "testdata/admin-fortigate.conf"},
	} {
		t.Run(c.target, func(t *testing.T) {
			alone := auditFile(t, c.target, c.base)
			open := len(ids(alone, IDOpenVoice)) + len(ids(alone, IDForwardAnySrc))
			if len(ids(alone, IDForwardAnySrc)) == 0 || len(ids(alone, IDOpenVoice)) == 0 {
				t.Fatalf("the admin's config alone: want VW302 and VW306, got %v", got(alone))
			}
			src := merged(t, p, c.target, c.base)
			d, err := Read(c.target, "merged", src)
			if err != nil {
				t.Fatal(err)
			}
			r := Check(d, src, Options{Target: c.target, Policy: p})
			if n := len(ids(r, IDOpenVoice)) + len(ids(r, IDForwardAnySrc)); n != 0 {
				t.Errorf("merged: %d VW302/VW306 on shadowed admin rules: %v", n, got(r))
			}
			// each admin rule or forward a finding named is now a note
			// (a forward may have carried both VW302 and VW306)
			if n := len(ids(r, IDShadowedOpen)); n == 0 || n > open {
				t.Errorf("merged: %d VW312 notes for %d findings of the admin's config: %v", n, open, got(r))
			}
			if len(ids(r, IDDrift))+len(ids(r, IDDriftExpect)) > 0 {
				t.Errorf("merged: drift %v", got(r))
			}
		})
	}
}

// TestPartlyShadowedStaysOpen: voicewall's drops cover its own RTP range
// (10000-20000) only; the office FortiGate's VIP and policy for
// 9000-10999/udp from all still let strangers reach 9000-9999, so they stay
// VW302 (the message names such a packet), while its SIP VIP on 5060, which
// the drops take entirely, becomes a note.
func TestPartlyShadowedStaysOpen(t *testing.T) {
	p, diags := registry.Load(filepath.Join("..", "examples", "asterisk-udp-trunk"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	src := merged(t, p, "fortigate", "testdata/office-fortigate.conf")
	d, err := Read("fortigate", "merged", src)
	if err != nil {
		t.Fatal(err)
	}
	r := Check(d, src, Options{Target: "fortigate"})
	if g := ids(r, IDOpenVoice); !slices.Equal(g, []int{102, 125}) {
		t.Errorf("VW302 at %v, want 102 (PBX-RTP) and 125 (policy 2): %v", g, got(r))
	}
	for _, f := range r.Findings {
		if f.ID == IDOpenVoice && !strings.Contains(f.Message, "udp, gets through") {
			t.Errorf("VW302 names no packet that gets through: %s", f.Message)
		}
	}
	if g := ids(r, IDShadowedOpen); !slices.Equal(g, []int{93}) || len(ids(r, IDForwardAnySrc)) > 0 {
		t.Errorf("PBX-SIP (93): want VW312 only, got %v", got(r))
	}
}

// TestShadowHoles: an earlier drop that leaves any hole to strangers —
// one destination address, a range of sources no one owns, the source
// ports outside the ephemeral range — leaves the rule from any open (the
// message names a packet through the hole); only a drop that takes all of
// its traffic makes it a note. A drop of every source but one address
// names that address (a provider's): the rule lets only it through, which
// is neither open nor dead.
func TestShadowHoles(t *testing.T) {
	set := func(s ...string) *netipx.IPSet {
		var b netipx.IPSetBuilder
		for _, x := range s {
			b.AddPrefix(netip.MustParsePrefix(x))
		}
		r, _ := b.IPSet()
		return r
	}
	sip := []devmodel.Service{{Proto: devmodel.UDP, DstPorts: devmodel.PortsOf(5060, 5060)}}
	rule := func(line int, a devmodel.Action, src, dst devmodel.Addr, svc []devmodel.Service) *devmodel.Rule {
		return &devmodel.Rule{Loc: devmodel.Loc{File: "x", Line: line}, Ref: fmt.Sprintf("rule %d", line), Hook: devmodel.HookForward,
			In: []string{"wan"}, Src: src, Dst: dst, Services: svc, Action: a, Quick: true}
	}
	lan := devmodel.Addr{Set: set("10.20.0.0/24"), Text: "LAN"}
	for name, c := range map[string]struct {
		drop    *devmodel.Rule
		open    bool
		example string
		silent  bool
	}{
		"all taken":        {rule(1, devmodel.Drop, devmodel.AnyAddr(), lan, sip), false, "", false},
		"destination hole": {rule(1, devmodel.Drop, devmodel.AnyAddr(), devmodel.Addr{Set: set("10.20.0.10/32")}, sip), true, "to 10.20.0.0,", false},
		"source hole":      {rule(1, devmodel.Drop, devmodel.Addr{Set: devmodel.Complement(set("64.0.0.0/2"))}, lan, sip), true, "from 64.0.0.0", false},
		"named source":     {rule(1, devmodel.Drop, devmodel.Addr{Set: devmodel.Complement(set("203.0.113.99/32"))}, lan, sip), false, "", true},
		"source-port hole": {rule(1, devmodel.Drop, devmodel.AnyAddr(), lan, []devmodel.Service{{Proto: devmodel.UDP, SrcPorts: devmodel.Ports{devmodel.Ephemeral}, DstPorts: devmodel.PortsOf(5060, 5060)}}), true, "gets through", false},
	} {
		t.Run(name, func(t *testing.T) {
			d := &devmodel.Device{File: "x", Target: "pfsense", DefaultForward: devmodel.Drop, DefaultLocal: devmodel.Drop,
				Interfaces: []*devmodel.Interface{{Name: "wan", Role: "wan"}, {Name: "lan", Role: "lan", Subnets: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/24")}}},
				Rules:      []*devmodel.Rule{c.drop, rule(2, devmodel.Accept, devmodel.AnyAddr(), lan, sip)}}
			fs := findings(d, nil)
			var open, note []Finding
			for _, f := range fs {
				switch f.ID {
				case IDOpenVoice:
					open = append(open, f)
				case IDShadowedOpen:
					note = append(note, f)
				}
			}
			if c.open && (len(open) != 1 || len(note) != 0 || !strings.Contains(open[0].Message, c.example)) {
				t.Errorf("want VW302 naming %q, got %+v", c.example, fs)
			}
			if c.silent && len(open)+len(note) > 0 {
				t.Errorf("want neither VW302 nor VW312, got %+v", fs)
			}
			if !c.open && !c.silent && (len(open) != 0 || len(note) != 1 || !strings.Contains(note[0].Message, "shadowed by rule 1 (x:1)")) {
				t.Errorf("want VW312 shadowed by rule 1, got %+v", fs)
			}
		})
	}
}
