package audit

import (
	"net/netip"
	"slices"

	"github.com/voicewall/voicewall/devmodel"
)

// covered: the rules before r that take every packet r would take on the
// suspected services, one rule covering each service (a catch-all drop,
// voicewall's drop of SIP from anyone above an admin's old pass); nil when
// no such rules exist and probing must decide. A rule covered so is
// shadowed whatever its addresses: the check costs one pass over the
// rules, where probing costs one evaluation per class of addresses.
func (c *checker) covered(r *devmodel.Rule, svcs []devmodel.Service) []string {
	if !r.Quick || r.PreNAT || r.Dir != devmodel.DirIn || r.Tagged != "" || r.NotTagged {
		return nil
	}
	var by []string
	left := slices.Clone(svcs)
	for _, e := range c.coverCandidates(r) {
		if len(left) == 0 {
			break
		}
		if !takesAll(e, r) {
			continue
		}
		keep := left[:0]
		hit := false
		for _, s := range left {
			if svcCovers(e.Services, []devmodel.Service{s}) {
				hit = true
			} else {
				keep = append(keep, s)
			}
		}
		left = keep
		if hit {
			by = append(by, e.Ref+" ("+e.Loc.String()+")")
		}
	}
	if len(left) > 0 {
		return nil
	}
	return by
}

// coverCandidates are the rules before r that may take every packet of it
// (takesAll), in order: the ones naming its first forward, or matching
// every forwarded packet; else the ones whose destination holds its own
// (looked up by destination, not walked).
func (c *checker) coverCandidates(r *devmodel.Rule) []*devmodel.Rule {
	at, ok := c.ix.ruleAt[r]
	if !ok {
		return nil
	}
	var cand []int
	switch {
	case len(r.DstForwards) > 0:
		cand = slices.Clone(c.ix.ruleNamed[r.DstForwards[0]])
		for _, k := range c.ix.ruleDst.any {
			if c.d.Rules[k].MatchForwarded {
				cand = append(cand, k)
			}
		}
	case r.Dst.Any:
		cand = slices.Clone(c.ix.ruleDst.any)
	case r.Dst.Set != nil && len(r.Dst.Set.Ranges()) > 0:
		cand = c.ix.ruleDst.holding(r.Dst.Set.Ranges()[0].From(), nil)
	case r.Dst.Self:
		cand = c.ix.ruleDst.holding(netip.Addr{}, nil)
	default:
		return c.d.Rules[:at] // an empty destination: every rule with a set covers it
	}
	out := c.rulesAt(cand)
	n, _ := slices.BinarySearchFunc(out, at, func(e *devmodel.Rule, i int) int { return c.ix.ruleAt[e] - i })
	return out[:n]
}

// takesAll: e, a quick arrival-side rule, matches every packet r matches,
// services aside.
func takesAll(e, r *devmodel.Rule) bool {
	if e.Disabled || !e.Quick || e.PreNAT || e.Action == devmodel.Tag || e.Dir == devmodel.DirOut || e.Tagged != "" || e.NotTagged {
		return false
	}
	if r.Hook&^e.Hook != 0 || e.Family != 0 && e.Family != r.Family {
		return false
	}
	if !ifsCover(e.In, r.In) || !ifsCover(e.Out, r.Out) || len(e.NotIn) > 0 {
		return false
	}
	if e.InRole != "" && e.InRole != r.InRole || e.OutRole != "" && e.OutRole != r.OutRole {
		return false
	}
	// forwarded packets: r takes those of its forwards (and, matching
	// forwarded packets, of its destinations); e must take them too
	// (checked before the addresses: it is the cheap test that fails most)
	for _, f := range r.DstForwards {
		if !slices.Contains(e.DstForwards, f) && !(e.MatchForwarded && e.Dst.Any) {
			return false
		}
	}
	if !addrCovers(e.Src, r.Src) {
		return false
	}
	if r.MatchForwarded && !(e.MatchForwarded && addrCovers(e.Dst, r.Dst)) {
		return false
	}
	return addrCovers(e.Dst, r.Dst)
}

func ifsCover(e, r []string) bool {
	if len(e) == 0 || slices.Contains(e, "any") {
		return true
	}
	if len(r) == 0 || slices.Contains(r, "any") {
		return false
	}
	for _, i := range r {
		if !slices.Contains(e, i) {
			return false
		}
	}
	return true
}

// addrCovers: every address of r is in e (the device itself too).
func addrCovers(e, r devmodel.Addr) bool {
	if e.Any {
		return true
	}
	if r.Any || r.Self && !e.Self || e.Set == nil {
		return false
	}
	return r.Set == nil || setCovers(e.Set, r.Set)
}
