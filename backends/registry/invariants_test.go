package registry_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/audit"
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/pfsense"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

const root = "../.."

// lang asserts the safety invariants once, on the lowered policy
// (lang.Policy.Invariants). This proves every target's output keeps them:
// nftables on its ruleset, the vendor targets read back from the text they
// wrote by the same readers voicewall audit uses, whose findings VW302 (SIP
// or RTP open to any source on the WAN) and VW303 (management reachable
// from the WAN) are the invariants seen from the device's side.
func TestOutputsKeepInvariants(t *testing.T) {
	for _, ex := range testenv.Examples(t, root) {
		p, diags := registry.Load(ex.Dir)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", ex.Name, diags)
		}
		if errs := p.Invariants(); len(errs) > 0 {
			t.Fatalf("%s: %v", ex.Name, errs)
		}
		for _, tgt := range registry.Targets {
			out, diags := tgt.Compile(p, backends.Options{AllowDegraded: true})
			if diags.HasErrors() {
				t.Fatalf("%s/%s: %v", ex.Name, tgt.Name, diags)
			}
			if tgt.Name == "nftables" {
				for _, v := range nftViolations(p, nftables.Build(p)) {
					t.Errorf("%s/nftables: %s", ex.Name, v)
				}
				continue
			}
			main := out.Main()
			d, err := audit.Read(tgt.Name, main.Name, main.Data)
			if err != nil {
				t.Fatalf("%s/%s: the strict reader refuses voicewall's own output: %v", ex.Name, tgt.Name, err)
			}
			for _, v := range deviceViolations(tgt.Name, d, main.Data, p) {
				t.Errorf("%s/%s: %s", ex.Name, tgt.Name, v)
			}
		}
	}
}

// deviceViolations: with the policy, audit leaves out the SIP from any
// source remote_phones asks for (never RTP).
func deviceViolations(target string, d *devmodel.Device, src []byte, p *lang.Policy) []string {
	var out []string
	for _, f := range audit.Check(d, src, audit.Options{Target: target, Policy: p}).Findings {
		if f.ID == audit.IDOpenVoice || f.ID == audit.IDAdminWAN {
			out = append(out, fmt.Sprintf("%s at line %d: %s", f.ID, f.Loc.Line, f.Message))
		}
	}
	return out
}

// nftViolations: every rule that accepts or forwards SIP or RTP arriving
// on the WAN, other than replies, matches its source against a set.
func nftViolations(p *lang.Policy, tb *nftables.Table) []string {
	var out []string
	wan := p.Target(nftables.Spec.TargetSpec).WAN
	voice := p.SIPPorts()
	for _, r := range p.RTPRanges() {
		voice = append(voice, lang.Service{Proto: lang.UDP, Ports: r})
	}
	for _, c := range tb.Chains {
		for _, r := range c.Rules {
			var fromWAN, established, fromSet, opens bool
			var ports []lang.Service
			for _, s := range r.Stmts {
				switch s := s.(type) {
				case nftables.MatchIface:
					fromWAN = fromWAN || !s.Out && !s.Neg && s.Name == wan
				case nftables.MatchCtState:
					established = true
				case nftables.MatchAddrSet:
					fromSet = fromSet || s.Dir == nftables.Src
				case nftables.MatchPorts:
					if s.Dir == nftables.Dst {
						for _, rg := range s.Ranges {
							ports = append(ports, lang.Service{Proto: s.Proto, Ports: rg})
						}
					}
				case nftables.Verdict:
					opens = opens || s.Kind == "accept"
				case nftables.DNAT:
					opens = true
				}
			}
			if !fromWAN || established || !opens || fromSet {
				continue
			}
			if rp := p.RemotePhones; rp != nil && r.Source != nil && r.Source.Origin.Kind == "remote_phones" && len(ports) > 0 && lang.ServicesCover(rp.SIPServices(), ports) {
				continue // the one SIP from any a policy may ask for (lang checks its limit)
			}
			if len(ports) == 0 || len(lang.IntersectServices(ports, voice)) > 0 {
				out = append(out, fmt.Sprintf("chain %s rule %s accepts SIP/RTP from any source on the WAN", c.Name, r.Key))
			}
		}
	}
	return out
}

// The check fails when an invariant is broken: the lowered policy reports it.
func TestInvariantsCatchBrokenRules(t *testing.T) {
	ex := testenv.Examples(t, root)[0]
	for _, breakIt := range []func(r *lang.Rule) bool{
		func(r *lang.Rule) bool { // accept from any
			if r.Kind != lang.RuleProviderSIP {
				return false
			}
			r.Src = nil
			return true
		},
		func(r *lang.Rule) bool { // forward elsewhere than the PBX
			if r.Kind != lang.RuleDNAT {
				return false
			}
			r.DNAT = r.DNAT.Next()
			return true
		},
	} {
		p, diags := registry.Load(ex.Dir)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		broke := false
		for _, r := range p.Rules {
			if breakIt(r) {
				broke = true
				break
			}
		}
		if !broke {
			continue
		}
		if errs := p.Invariants(); len(errs) == 0 || !strings.Contains(errs[0].Error(), "rule ") {
			t.Errorf("%s: broken rule not reported: %v", ex.Name, errs)
		}
	}
	// The output checks fail too: a policy broken past lang (SIP accepted
	// from any) is caught in the nftables ruleset and, read back, in the
	// pfSense output (a target that renders it as given).
	p, _ := registry.Load(ex.Dir)
	for _, r := range p.Rules {
		if r.Kind == lang.RuleProviderSIP {
			r.Src = nil
		}
	}
	if len(nftViolations(p, nftables.Build(p))) == 0 {
		t.Error("nftables: an accept from any is not caught")
	}
	out, _ := pfsense.Compile(p, backends.Options{AllowDegraded: true})
	d, err := audit.Read("pfsense", out.Main().Name, out.Main().Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(deviceViolations("pfsense", d, out.Main().Data, p)) == 0 {
		t.Error("pfsense: an accept from any is not caught")
	}
}
