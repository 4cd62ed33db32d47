package audit

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

// voiceServices: the element admits SIP or an RTP-sized UDP range.
func voiceServices(svcs []devmodel.Service) bool {
	return len(touchesSIP(svcs, false)) > 0 || rtpRange(svcs) != ""
}

// openings are the mutations that open voicewall's output to any source:
// each forward of SIP/RTP with every accept that admits what it forwards,
// and each WAN accept of SIP/RTP (with the forwards it names), their
// source set to any. Each returns the lines a finding may name.
func openings(d *devmodel.Device) (names []string, open []func(*devmodel.Device) []int, svcs [][]devmodel.Service) {
	admits := func(r *devmodel.Rule, f *devmodel.Forward) bool {
		return r.Action == devmodel.Accept && (slices.Contains(r.DstForwards, f.Name) || r.MatchForwarded && r.Dst.Contains(f.To))
	}
	for i, f := range d.Forwards {
		svc := []devmodel.Service{{Proto: f.Proto, DstPorts: f.Ports}}
		if f.Disabled || !voiceServices(svc) {
			continue
		}
		names = append(names, "forward "+f.Ref)
		svcs = append(svcs, svc)
		open = append(open, func(d *devmodel.Device) []int {
			f := d.Forwards[i]
			f.Src = devmodel.AnyAddr()
			lines := []int{f.Loc.Line}
			for _, r := range d.Rules {
				if admits(r, f) {
					r.Src = devmodel.AnyAddr()
					lines = append(lines, r.Loc.Line)
				}
			}
			return lines
		})
	}
	for i, r := range d.Rules {
		if r.Disabled || r.Action != devmodel.Accept || r.Src.Any || !voiceServices(r.Services) {
			continue
		}
		if r.InRole != "wan" && !slices.ContainsFunc(r.In, d.IsWAN) {
			continue
		}
		names = append(names, "rule "+r.Ref)
		svcs = append(svcs, r.Services)
		open = append(open, func(d *devmodel.Device) []int {
			r := d.Rules[i]
			r.Src = devmodel.AnyAddr()
			lines := []int{r.Loc.Line}
			for _, f := range d.Forwards {
				if slices.Contains(r.DstForwards, f.Name) {
					f.Src = devmodel.AnyAddr()
					lines = append(lines, f.Loc.Line)
				}
			}
			return lines
		})
	}
	return names, open, svcs
}

// askedFor: the policy's remote_phones asks for exactly this SIP from any
// source, so opening it to any is what the policy says (never RTP).
func askedFor(p *lang.Policy, svcs []devmodel.Service) bool {
	if p == nil || p.RemotePhones == nil || rtpRange(svcs) != "" {
		return false
	}
	sip := touchesSIP(svcs, false)
	if len(sip) == 0 {
		return false
	}
	for _, s := range sip {
		ok := false
		for _, x := range p.RemotePhones.SIPServices() {
			ok = ok || s == x.String()
		}
		if !ok {
			return false
		}
	}
	return true
}

// TestOpenToAnyIsReported is the "never a false clean" proof: every
// example's output for every target, opened to any source at each of its
// SIP/RTP forwards and WAN accepts, with the interfaces the output
// declares, with none declared and with every one declared, with and
// without the policy, fails the audit with a finding on an opened line.
func TestOpenToAnyIsReported(t *testing.T) {
	total := 0
	eachOutput(t, func(ex testenv.Example, p *lang.Policy, target string, src []byte, d0 *devmodel.Device) {
		names, opens, svcs := openings(d0)
		if len(opens) == 0 {
			t.Logf("%s/%s: nothing to open: the output admits no SIP/RTP from the WAN", ex.Name, target)
		}
		for k, open := range opens {
			for _, ifs := range []string{"as written", "no interfaces", "all declared"} {
				for _, pol := range []*lang.Policy{nil, p} {
					if askedFor(pol, svcs[k]) {
						continue // remote_phones asks for it: not a finding with the policy
					}
					d, _ := Read(target, "out", src)
					switch ifs {
					case "no interfaces":
						d.Interfaces = nil
					case "all declared":
						declareAll(d, deviceTarget(p, target).WAN)
					}
					lines := open(d)
					r := Check(d, src, Options{Target: target, Policy: pol})
					total++
					if !reported(r, lines) {
						var b bytes.Buffer
						r.WriteText(&b)
						t.Errorf("%s/%s: %s opened to any (%s, policy %v): no finding on lines %v\n%s", ex.Name, target, names[k], ifs, pol != nil, lines, b.String())
					}
				}
			}
		}
	})
	t.Logf("%d opened outputs, every one reported", total)
	if total < 500 {
		t.Errorf("only %d opened outputs: the examples lost their forwards and WAN accepts?", total)
	}
}

// declareAll declares every interface the rules and forwards name, WAN by
// its role or name (or the policy's WAN), the others LAN.
func declareAll(d *devmodel.Device, wan string) {
	add := func(n string) {
		if n == "" || n == "any" || d.Interface(n) != nil {
			return
		}
		role := "lan"
		if d.IsWAN(n) || n == wan {
			role = "wan"
		}
		d.Interfaces = append(d.Interfaces, &devmodel.Interface{Name: n, Role: role})
	}
	for _, r := range d.Rules {
		for _, n := range append(slices.Clone(r.In), r.Out...) {
			add(n)
		}
	}
	for _, f := range d.Forwards {
		for _, n := range f.In {
			add(n)
		}
	}
}

func reported(r *Report, lines []int) bool {
	if !r.Failed() {
		return false
	}
	for _, f := range r.Findings {
		if f.Severity != SevNote && (f.ID == IDOpenVoice || f.ID == IDForwardAnySrc) && slices.Contains(lines, f.Loc.Line) {
			return true
		}
	}
	return false
}

// TestOpenVIPInFortiGateScript: voicewall's own FortiGate script edited as
// an admin would (the SIP VIP's src-filter deleted, its policy's srcaddr
// set to all) is reported with and without the policy. It audited clean
// without one: the script declares no interfaces, the probes left by an
// interface the policy does not name, and the open policy was called
// "shadowed" by a deny that comes after it.
func TestOpenVIPInFortiGateScript(t *testing.T) {
	p, diags := registry.Load("../examples/asterisk-udp-trunk")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	src := string(compile(t, p, "fortigate"))
	for _, e := range [][2]string{
		{"        set src-filter \"203.0.113.10/31\"\n", ""},
		{"set srcaddr \"vw-provider_carrier_signaling\"", "set srcaddr \"all\""},
	} {
		if !strings.Contains(src, e[0]) {
			t.Fatalf("the script has no %q", e[0])
		}
		src = strings.Replace(src, e[0], e[1], 1)
	}
	for _, pol := range []*lang.Policy{nil, p} {
		d, err := Read("fortigate", "fortigate.conf", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		r := Check(d, []byte(src), Options{Target: "fortigate", Policy: pol})
		if len(ids(r, IDForwardAnySrc)) == 0 || len(ids(r, IDOpenVoice)) == 0 || len(ids(r, IDShadowedOpen)) != 0 {
			var b bytes.Buffer
			r.WriteText(&b)
			t.Errorf("policy %v: want VW306 on the VIP and VW302 on its policy, no VW312\n%s", pol != nil, b.String())
		}
	}
}

// eachOutput calls fn with voicewall's own output of every example on every
// target, read back by the target's device reader (d0: read once, as
// written; read src again for a device to change).
func eachOutput(t *testing.T, fn func(ex testenv.Example, p *lang.Policy, target string, src []byte, d0 *devmodel.Device)) {
	t.Helper()
	for _, ex := range testenv.Examples(t, "..") {
		p, diags := lang.Load(ex.Dir)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		for _, target := range Targets {
			src := compile(t, p, target)
			d0, err := Read(target, "out", src)
			if err != nil {
				t.Fatal(err)
			}
			fn(ex, p, target, src, d0)
		}
	}
}
