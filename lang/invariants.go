package lang

import "fmt"

// Invariants checks the safety properties every lowered policy has,
// whatever its blocks say. They are asserted once, here, on the model all
// targets render; a violation is a bug in lowering, never a user error.
// backends/registry's invariant test proves every target's output keeps them.
//
//   - nothing on the WAN accepts or forwards SIP or RTP from any source:
//     only from a named, non-empty address set or a run-time set (replies
//     of flows already allowed aside). The one exception is remote_phones'
//     SIP, never RTP: accepted from any source only behind a per-source
//     new-flow limit, and forwarded only to remote_phones' PBX;
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
		if opens && r.InZone == ZoneWAN && !r.Established && r.opensAny(voice) && (r.Src == nil || r.Src.Set.Empty() && !r.Src.Dynamic) && !p.RemoteException(r) {
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

// RemoteException reports whether r is the one opening from any source a
// policy may ask for: remote_phones' SIP (never RTP), each service of it
// limited per source by an earlier remote rate-limit rule of the same chain
// (new flows), and, for a forward, sent only to remote_phones' PBX.
func (p *Policy) RemoteException(r *Rule) bool {
	rp := p.RemotePhones
	if rp == nil || r.Src != nil || len(r.Services) == 0 || !ServicesCover(rp.SIPServices(), r.Services) {
		return false
	}
	if len(IntersectServices(r.Services, udpServices(p.RTPRanges()))) > 0 {
		return false
	}
	switch r.Kind {
	case RuleRemoteSIP:
	case RuleDNAT:
		return r.PBX == rp.PBX && p.remoteLimited(r.Services)
	default:
		return false
	}
	for _, q := range p.Rules {
		if q == r {
			return false
		}
		if q.Chain == r.Chain && q.Kind == RuleRemoteRateLimit && q.Action == ActionDropOverRate && q.NewFlows && q.Src == nil && ServicesCover(q.Services, r.Services) {
			return true
		}
	}
	return false
}

// remoteLimited: the WAN chain limits new flows of these services per
// source (the rate limit a remote forward relies on).
func (p *Policy) remoteLimited(svcs []Service) bool {
	for _, q := range p.RulesIn(ChainWAN) {
		if q.Kind == RuleRemoteRateLimit && q.Action == ActionDropOverRate && q.NewFlows && ServicesCover(q.Services, svcs) {
			return true
		}
	}
	return false
}

// opensAny reports whether the rule's destination ports meet any of the
// services (no ports: every port).
func (r *Rule) opensAny(svcs []Service) bool {
	if len(r.Services) == 0 {
		return true
	}
	return len(IntersectServices(r.Services, svcs)) > 0
}
