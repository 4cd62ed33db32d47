package lang

import "fmt"

// Invariants checks the safety properties every lowered policy has,
// whatever its blocks say. They are asserted once, here, on the model all
// targets render; a violation is a bug in lowering, never a user error.
// backends/registry's invariant test proves every target's output keeps them.
//
//   - nothing on the WAN accepts or forwards SIP or RTP from any source:
//     only from a named, non-empty address set (replies of flows already
//     allowed aside);
//   - a forward goes to the PBX it names, and only there;
//   - the phones' management is accepted only from a named set, and never
//     from the WAN.
func (p *Policy) Invariants() []error {
	voice := append(p.SIPPorts(), udpServices(p.RTPRanges())...)
	var errs []error
	bad := func(r *Rule, f string, a ...any) {
		errs = append(errs, fmt.Errorf("rule %s (%s): %s", r.ID, r.Origin, fmt.Sprintf(f, a...)))
	}
	for _, r := range p.Rules {
		opens := r.Action == ActionAccept || r.Action == ActionDNAT
		if opens && r.InZone == ZoneWAN && !r.Established && r.opensAny(voice) && (r.Src == nil || r.Src.Set.Empty()) {
			bad(r, "accepts SIP or RTP from any source on the WAN")
		}
		if r.Action == ActionDNAT && (r.PBX == nil || !r.PBX.HasAddress(r.DNAT)) {
			bad(r, "forwards to %s, which is not an address of its PBX", r.DNAT)
		}
		if r.Kind == RuleMgmt && opens {
			if r.Src == nil || r.Src.Set.Empty() {
				bad(r, "accepts management of the phones from any source")
			}
			if r.InZone == ZoneWAN || r.InZone == "" && r.NotInZone != ZoneWAN {
				bad(r, "accepts management of the phones from the WAN")
			}
		}
	}
	return errs
}

// opensAny reports whether the rule's destination ports meet any of the
// services (no ports: every port).
func (r *Rule) opensAny(svcs []Service) bool {
	if len(r.Services) == 0 {
		return true
	}
	return len(IntersectServices(r.Services, svcs)) > 0
}
