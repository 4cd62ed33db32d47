package lang

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

var logPrefixRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,20}$`)

// StandardSIP are the well-known SIP ports. They are guarded on the WAN even
// when no provider uses them: scanners knock there first.
var StandardSIP = []Service{
	{UDP, PortRange{5060, 5060}},
	{TCP, PortRange{5060, 5060}},
	{TCP, PortRange{5061, 5061}},
}

// id turns a validated name into an identifier fragment ([a-z0-9_]).
func id(name string) string { return normName(name) }

// SIPPorts are the WAN's SIP services: every provider's plus the standard ones.
func (p *Policy) SIPPorts() []Service {
	seen := map[Service]bool{}
	var out []Service
	for _, s := range append(p.SIPServices(), StandardSIP...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	SortServices(out)
	return out
}

func udpServices(rs []PortRange) []Service {
	out := make([]Service, 0, len(rs))
	for _, r := range rs {
		out = append(out, Service{UDP, r})
	}
	return out
}

// lower builds the ordered abstract rules. The order is the policy's
// meaning: blocklists first, then closed ports, the rate limit, replies of
// known flows, the provider whitelists, and the catch-all drops.
func (d *decoder) lower(p *Policy) {
	refs := map[string]*AddrRef{}
	ref := func(name string, set AddrSet, role SetRole, owner Origin) *AddrRef {
		if r, ok := refs[name]; ok {
			return r
		}
		r := &AddrRef{Name: name, Set: set, Role: role, Owner: owner}
		refs[name] = r
		return r
	}
	// A provider's two sets, named once: the WAN accepts, the forwards and
	// the phones' egress rules all refer to the same AddrRef.
	sigRef := func(pr *Provider) *AddrRef {
		return ref("provider_"+id(pr.Name)+"_signaling", pr.Signaling, RoleSignaling, pr.Origin)
	}
	mediaRef := func(pr *Provider) *AddrRef {
		return ref("provider_"+id(pr.Name)+"_media", pr.Media, RoleMedia, pr.Origin)
	}
	logDrops := p.LogsDrops()
	add := func(r *Rule) { p.Rules = append(p.Rules, r) }
	sipPorts := p.SIPPorts()
	rtp := udpServices(p.RTPRanges())

	// --- WAN ---
	for _, b := range p.Blocklists {
		add(&Rule{ID: "blocklist_" + id(b.Name), Chain: ChainWAN, Kind: RuleBlocklist, InZone: ZoneWAN,
			Src: ref("blocklist_"+id(b.Name), b.Addresses, RoleBlocklist, b.Origin), Action: ActionDrop, Log: logDrops,
			Comment: fmt.Sprintf("drop blocklist %s", b.Name), Origin: b.Origin})
	}
	banned, trusted := p.BannedSet(), p.TrustedSet()
	if banned != nil {
		// Every port: a banned source is done with this gateway's WAN.
		add(&Rule{ID: "ban", Chain: ChainWAN, Kind: RuleBan, InZone: ZoneWAN,
			Src: banned, Action: ActionDrop, Log: logDrops,
			Comment: "drop sources with a timed ban", Origin: p.Ban.Origin})
	}
	for _, c := range p.Closed {
		s := c.Service
		why := "closed port"
		if c.Auto {
			why = "cleartext SIP closed: every provider is TLS-only"
		}
		add(&Rule{ID: fmt.Sprintf("closed_%s_%s", strings.ReplaceAll(s.Ports.String(), "-", "_"), s.Proto), Chain: ChainWAN, Kind: RuleClosed, InZone: ZoneWAN,
			Services: []Service{s}, Action: ActionDrop, Log: logDrops,
			Comment: fmt.Sprintf("%s %s", why, s), Origin: closedOrigin(c)})
	}
	if p.RateLimit != nil {
		// New flows only: a provider's established SIP is never throttled.
		add(&Rule{ID: "rate_limit_sip", Chain: ChainWAN, Kind: RuleRateLimit, InZone: ZoneWAN,
			Services: sipPorts, NewFlows: true, Action: ActionDropOverRate, Rate: p.RateLimit, Log: logDrops,
			Comment: fmt.Sprintf("new SIP flows over %s per source", p.RateLimit.SIP), Origin: p.RateLimit.Origin})
	}
	managed := append(append([]Service{}, sipPorts...), rtp...)
	SortServices(managed)
	add(&Rule{ID: "established", Chain: ChainWAN, Kind: RuleEstablished, InZone: ZoneWAN,
		Services: managed, Established: true, Action: ActionAccept,
		Comment: "replies of SIP/RTP flows already allowed", Origin: Origin{Kind: "voicewall"}})
	for _, pr := range p.Providers {
		sig := sigRef(pr)
		for _, t := range pr.Transports {
			add(&Rule{ID: "provider_" + id(pr.Name) + "_sip_" + string(t), Chain: ChainWAN, Kind: RuleProviderSIP, InZone: ZoneWAN,
				Src: sig, Services: []Service{pr.TransportService(t)}, Action: ActionAccept,
				Comment: fmt.Sprintf("SIP over %s from provider %s", t, pr.Name), Origin: pr.Origin})
		}
	}
	for _, pr := range p.Providers {
		if pr.Media.Empty() {
			continue
		}
		media := mediaRef(pr)
		if pr.SymmetricRTP {
			continue // its RTP passes only as replies (the established rule)
		}
		add(&Rule{ID: "provider_" + id(pr.Name) + "_rtp", Chain: ChainWAN, Kind: RuleProviderRTP, InZone: ZoneWAN,
			Src: media, Services: udpServices(providerRTP(p, pr)), Action: ActionAccept,
			Comment: fmt.Sprintf("RTP from provider %s", pr.Name), Origin: pr.Origin})
	}
	if rp := p.RemotePhones; rp != nil {
		sip := rp.SIPServices()
		// Only the families the PBX has: remote SIP of the other family
		// would be accepted with nowhere to go.
		only4, only6 := !rp.PBX.Family(true), !rp.PBX.Family(false)
		fam := func(r *Rule) *Rule { r.V4Only, r.V6Only = only4, only6; return r }
		add(fam(&Rule{ID: "remote_trusted_sip", Chain: ChainWAN, Kind: RuleRemoteTrustedSIP, InZone: ZoneWAN,
			Src: trusted, Services: sip, Action: ActionAccept,
			Comment: "SIP from trusted remote phones", Origin: rp.Origin}))
		add(fam(&Rule{ID: "remote_trusted_rtp", Chain: ChainWAN, Kind: RuleRemoteTrustedRTP, InZone: ZoneWAN,
			Src: trusted, Services: []Service{{UDP, rp.PBX.RTPPorts}}, Action: ActionAccept,
			Comment: "RTP from trusted remote phones to pbx " + rp.PBX.Name, Origin: rp.Origin}))
		add(fam(&Rule{ID: "remote_rate_limit", Chain: ChainWAN, Kind: RuleRemoteRateLimit, InZone: ZoneWAN,
			Services: sip, NewFlows: true, Action: ActionDropOverRate, Rate: &rp.Rate, Log: logDrops,
			Comment: fmt.Sprintf("new remote phone SIP flows over %s per source", rp.Rate.SIP), Origin: rp.Origin}))
		add(fam(&Rule{ID: "remote_sip", Chain: ChainWAN, Kind: RuleRemoteSIP, InZone: ZoneWAN,
			Services: sip, Action: ActionAccept,
			Comment: "SIP from remote phones (any source, rate-limited)", Origin: rp.Origin}))
	}
	add(&Rule{ID: "sip_drop", Chain: ChainWAN, Kind: RuleSIPDefault, InZone: ZoneWAN,
		Services: sipPorts, Action: ActionDrop, Log: logDrops,
		Comment: "SIP from anyone but a provider", Origin: Origin{Kind: "voicewall"}})
	add(&Rule{ID: "rtp_drop", Chain: ChainWAN, Kind: RuleRTPDefault, InZone: ZoneWAN,
		Services: rtp, Action: ActionDrop, Log: logDrops,
		Comment: "RTP from anyone but provider media", Origin: p.rtpOrigin()})

	// --- NAT: provider SIP/RTP forwarded to its PBX ---
	// A PBX with address and address6 gets each family's traffic at the
	// address of that family; the IPv6 rules' IDs end in _v6.
	for _, x := range p.PBXes {
		for _, addr := range x.Addresses() {
			v6 := addr.Is6()
			prefix := "dnat_"
			if v6 && x.Address.Is4() {
				prefix = "dnat6_" // address6: its own rules beside the IPv4 ones
			}
			for _, pr := range x.Providers {
				if !hasFamily(pr, v6) {
					continue
				}
				base := prefix + id(x.Name) + "_" + id(pr.Name)
				if pr.Signaling.Has(v6) {
					for _, t := range pr.Transports {
						add(&Rule{ID: base + "_sip_" + string(t), Chain: ChainNAT, Kind: RuleDNAT, InZone: ZoneWAN,
							Src: sigRef(pr), Services: []Service{pr.TransportService(t)}, Action: ActionDNAT, DNAT: addr, PBX: x,
							Comment: fmt.Sprintf("SIP over %s from provider %s to pbx %s", t, pr.Name, x.Name), Origin: x.Origin})
					}
				}
				// Symmetric RTP is never forwarded unsolicited: it arrives as
				// replies of the PBX's own flows, which conntrack un-NATs.
				if pr.Media.Has(v6) && !pr.SymmetricRTP {
					add(&Rule{ID: base + "_rtp", Chain: ChainNAT, Kind: RuleDNAT, InZone: ZoneWAN,
						Src: mediaRef(pr), Services: []Service{{UDP, x.RTPPorts}}, Action: ActionDNAT, DNAT: addr, PBX: x,
						Comment: fmt.Sprintf("RTP from provider %s to pbx %s", pr.Name, x.Name), Origin: x.Origin})
				}
			}
		}
	}

	// Remote phones: SIP from any source, RTP only from trusted ones.
	if rp := p.RemotePhones; rp != nil {
		x := rp.PBX
		for _, addr := range x.Addresses() {
			prefix := "dnat_remote_"
			if addr.Is6() && x.Address.Is4() {
				prefix = "dnat6_remote_"
			}
			base := prefix + id(x.Name)
			for _, t := range rp.Transports {
				add(&Rule{ID: base + "_sip_" + string(t), Chain: ChainNAT, Kind: RuleDNAT, InZone: ZoneWAN,
					Services: []Service{rp.TransportService(t)}, Action: ActionDNAT, DNAT: addr, PBX: x,
					Comment: fmt.Sprintf("SIP over %s from remote phones to pbx %s", t, x.Name), Origin: rp.Origin})
			}
			add(&Rule{ID: base + "_rtp", Chain: ChainNAT, Kind: RuleDNAT, InZone: ZoneWAN,
				Src: trusted, Services: []Service{{UDP, x.RTPPorts}}, Action: ActionDNAT, DNAT: addr, PBX: x,
				Comment: fmt.Sprintf("RTP from trusted remote phones to pbx %s", x.Name), Origin: rp.Origin})
		}
	}

	// --- voice VLANs: marking and the toll-fraud guard ---
	phoneRTP := []Service{{UDP, p.RTP}}
	for _, v := range p.VoiceVLANs {
		base := "vlan_" + id(v.Name)
		// providers = []: every SIP and RTP flow from the VLAN to the WAN is
		// dropped below, so no marked flow can leave and there is nothing to
		// mark (a target that cannot mark has no gap here).
		marks := v.Providers == nil || len(v.Providers) > 0
		if marks {
			add(&Rule{ID: base + "_dscp_sip", Chain: ChainVoiceEgress, Kind: RuleDSCP, InZone: v.Name, OutZone: ZoneWAN,
				Services: sipPorts, Action: ActionMark, DSCP: SIPDSCP,
				Comment: fmt.Sprintf("mark SIP from %s %s", v.Name, SIPDSCP), Origin: v.Origin})
			add(&Rule{ID: base + "_dscp_rtp", Chain: ChainVoiceEgress, Kind: RuleDSCP, InZone: v.Name, OutZone: ZoneWAN,
				SrcServices: phoneRTP, Action: ActionMark, DSCP: v.DSCP,
				Comment: fmt.Sprintf("mark RTP from %s %s", v.Name, v.DSCP), Origin: v.Origin})
			for _, pr := range v.Providers {
				if !pr.Media.Empty() {
					// RTP to the provider's media from any port (phones with an
					// ephemeral RTP port) is voice too.
					add(&Rule{ID: base + "_" + id(pr.Name) + "_dscp_rtp", Chain: ChainVoiceEgress, Kind: RuleDSCP, InZone: v.Name, OutZone: ZoneWAN,
						Dst: mediaRef(pr), Services: []Service{{UDP, AllPorts}}, Action: ActionMark, DSCP: v.DSCP,
						Comment: fmt.Sprintf("mark RTP from %s to provider %s %s", v.Name, pr.Name, v.DSCP), Origin: v.Origin})
				}
			}
		}
		if v.Providers != nil { // nil: no provider list, warned about (toll fraud), SIP/RTP not guarded
			// Symmetric RTP goes to any address, so it is accepted only
			// after SIP to anyone but the providers is dropped: else a
			// phone sending SIP from a port of its RTP range would reach
			// any SIP server (toll fraud).
			var symmetric []*Rule
			for _, pr := range v.Providers {
				add(&Rule{ID: base + "_" + id(pr.Name) + "_sip", Chain: ChainVoiceEgress, Kind: RulePhoneSIP, InZone: v.Name, OutZone: ZoneWAN,
					Dst: sigRef(pr), Services: pr.SIPServices(), Action: ActionAccept,
					Comment: fmt.Sprintf("phones in %s to provider %s SIP", v.Name, pr.Name), Origin: v.Origin})
				switch {
				case !pr.Media.Empty():
					// Judged by where it goes: the provider's media, from
					// whatever port the phone picked.
					add(&Rule{ID: base + "_" + id(pr.Name) + "_rtp", Chain: ChainVoiceEgress, Kind: RulePhoneRTP, InZone: v.Name, OutZone: ZoneWAN,
						Dst: mediaRef(pr), Services: []Service{{UDP, AllPorts}}, Action: ActionAccept,
						Comment: fmt.Sprintf("phones in %s to provider %s RTP", v.Name, pr.Name), Origin: v.Origin})
				case pr.SymmetricRTP:
					// Media addresses unpublished: the phones' RTP (from their
					// RTP range) may go anywhere; the answer comes back on it.
					symmetric = append(symmetric, &Rule{ID: base + "_" + id(pr.Name) + "_rtp_symmetric", Chain: ChainVoiceEgress, Kind: RulePhoneRTPSymmetric, InZone: v.Name, OutZone: ZoneWAN,
						SrcServices: phoneRTP, Action: ActionAccept,
						Comment: fmt.Sprintf("phones in %s RTP to provider %s (symmetric RTP, media unpublished)", v.Name, pr.Name), Origin: v.Origin})
				}
			}
			add(&Rule{ID: base + "_sip_drop", Chain: ChainVoiceEgress, Kind: RulePhoneSIPDefault, InZone: v.Name, OutZone: ZoneWAN,
				Services: sipPorts, Action: ActionDrop, Log: logDrops,
				Comment: fmt.Sprintf("SIP from %s to anyone but its providers (toll fraud)", v.Name), Origin: v.Origin})
			for _, r := range symmetric {
				add(r)
			}
			add(&Rule{ID: base + "_rtp_drop", Chain: ChainVoiceEgress, Kind: RulePhoneRTPDefault, InZone: v.Name, OutZone: ZoneWAN,
				SrcServices: phoneRTP, Action: ActionDrop, Log: logDrops,
				Comment: fmt.Sprintf("RTP from %s to anyone but its providers", v.Name), Origin: v.Origin})
		}
		if !v.AllowOutGiven {
			continue // warned (VW117): other egress is not voicewall's
		}
		add(&Rule{ID: base + "_egress_established", Chain: ChainVoiceEgress, Kind: RuleEgressEstablished, InZone: v.Name, OutZone: ZoneWAN,
			Established: true, Action: ActionAccept,
			Comment: fmt.Sprintf("replies from %s of flows already allowed", v.Name), Origin: v.Origin})
		lowerAllowOut(v, base, add, ref)
		add(&Rule{ID: base + "_egress_drop", Chain: ChainVoiceEgress, Kind: RuleEgressDefault, InZone: v.Name, OutZone: ZoneWAN,
			Action: ActionDrop, Log: logDrops,
			Comment: fmt.Sprintf("anything else from %s to the WAN (allow_out)", v.Name), Origin: v.Origin})
	}
	for _, v := range p.VoiceVLANs {
		base := "vlan_" + id(v.Name)
		subnets := ref(v.SubnetsSet().Name, v.Subnets, RoleVLANSubnets, v.Origin)
		if !v.Management.Empty() {
			add(&Rule{ID: base + "_management", Chain: ChainVoiceIngress, Kind: RuleMgmt, NotInZone: ZoneWAN, OutZone: v.Name,
				Src: ref(base+"_management", v.Management, RoleManagement, v.Origin), Dst: subnets, Services: v.ManagementPorts, Action: ActionAccept,
				Comment: fmt.Sprintf("management of %s phones", v.Name), Origin: v.Origin})
		}
		r := &Rule{ID: base + "_management_drop", Chain: ChainVoiceIngress, Kind: RuleMgmtDefault, OutZone: v.Name,
			Dst: subnets, Services: v.ManagementPorts, Action: ActionDrop, Log: logDrops,
			Comment: fmt.Sprintf("management of %s phones from anyone else", v.Name), Origin: v.Origin}
		if !v.ManagementGiven {
			r.InZone = ZoneWAN // no management list: only the WAN is shut out
			r.Comment = fmt.Sprintf("management of %s phones from the WAN", v.Name)
		}
		add(r)
	}
	relate(p)
	for _, err := range p.Invariants() {
		d.add(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Safety invariant broken",
			Detail: err.Error() + ". This is a bug in voicewall, not in the policy; nothing was compiled. Please report it with the policy.",
			Extra:  Finding{IDInvariant}})
	}
}

// relate records the relations between rules that backends render from:
// which DNAT rules forward what a WAN accept admits, and which DSCP mark
// applies to an accept. Targets that attach a forward or a mark to the
// accept itself (FortiGate policies) read these instead of re-matching.
func relate(p *Policy) {
	nat := p.RulesIn(ChainNAT)
	marks := map[Chain][]*Rule{}
	for _, r := range p.Rules {
		if r.Action == ActionMark {
			marks[r.Chain] = append(marks[r.Chain], r)
			continue
		}
		if r.Action != ActionAccept {
			continue
		}
		r.Mark = markFor(r, marks[r.Chain])
		if r.Chain != ChainWAN || r.Src == nil && r.Kind != RuleRemoteSIP {
			continue
		}
		for _, n := range nat {
			if n.Action != ActionDNAT || len(IntersectServices(n.Services, r.Services)) == 0 {
				continue
			}
			// remote_phones' SIP from any source pairs with its forwards
			// from any source; every other accept with its own set's.
			if r.Src == nil && n.Src == nil || r.Src != nil && n.Src != nil && n.Src.Name == r.Src.Name {
				r.Forwards = append(r.Forwards, n)
			}
		}
	}
}

// markFor is the mark that applies to an accepted flow: one that matches
// everything the rule accepts (zones, addresses, services); among those the
// last, as marks do not end evaluation. A mark that only partly overlaps is
// not one.
func markFor(r *Rule, marks []*Rule) *Rule {
	var found *Rule
	for _, m := range marks {
		if m.InZone != "" && m.InZone != r.InZone || m.OutZone != "" && m.OutZone != r.OutZone {
			continue
		}
		if m.Src != nil && (r.Src == nil || m.Src.Name != r.Src.Name) {
			continue
		}
		if m.Dst != nil && (r.Dst == nil || m.Dst.Name != r.Dst.Name) {
			continue
		}
		if !ServicesCover(m.Services, r.Services) || !ServicesCover(m.SrcServices, r.SrcServices) {
			continue
		}
		found = m
	}
	return found
}

// AllPorts is every port: a rule that matches a protocol to any port.
var AllPorts = PortRange{1, 65535}

// lowerAllowOut adds a voice VLAN's allow_out accepts: one rule for the
// entries without an address, one per distinct destination prefix.
func lowerAllowOut(v *VoiceVLAN, base string, add func(*Rule), ref func(string, AddrSet, SetRole, Origin) *AddrRef) {
	var anyDst []Service
	byDst := map[netip.Prefix][]Service{}
	var dsts []netip.Prefix
	for _, a := range v.AllowOut {
		if !a.Dst.IsValid() {
			anyDst = append(anyDst, a.Service)
			continue
		}
		if _, ok := byDst[a.Dst]; !ok {
			dsts = append(dsts, a.Dst)
		}
		byDst[a.Dst] = append(byDst[a.Dst], a.Service)
	}
	if len(anyDst) > 0 {
		SortServices(anyDst)
		add(&Rule{ID: base + "_allow_out", Chain: ChainVoiceEgress, Kind: RuleAllowOut, InZone: v.Name, OutZone: ZoneWAN,
			Services: anyDst, Action: ActionAccept,
			Comment: fmt.Sprintf("%s to the WAN: allow_out %s", v.Name, servicesText(anyDst)), Origin: v.Origin})
	}
	sort.Slice(dsts, func(i, j int) bool {
		if c := dsts[i].Addr().Compare(dsts[j].Addr()); c != 0 {
			return c < 0
		}
		return dsts[i].Bits() < dsts[j].Bits()
	})
	for i, d := range dsts {
		svcs := byDst[d]
		SortServices(svcs)
		n := fmt.Sprintf("%s_out_%d", base, i+1)
		add(&Rule{ID: base + fmt.Sprintf("_allow_out_%d", i+1), Chain: ChainVoiceEgress, Kind: RuleAllowOut, InZone: v.Name, OutZone: ZoneWAN,
			Dst: ref(n, NewAddrSet(d), RoleAllowOut, v.Origin), Services: svcs, Action: ActionAccept,
			Comment: fmt.Sprintf("%s to %s: allow_out %s", v.Name, d, servicesText(svcs)), Origin: v.Origin})
	}
}

func servicesText(s []Service) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = x.String()
	}
	return strings.Join(parts, " ")
}

// providerRTP is the local RTP range plus the ranges of the PBXes that serve
// the provider.
func providerRTP(p *Policy, pr *Provider) []PortRange {
	rs := []PortRange{p.RTP}
	for _, x := range p.PBXes {
		for _, q := range x.Providers {
			if q == pr {
				rs = append(rs, x.RTPPorts)
			}
		}
	}
	return mergePortRanges(rs)
}

// BannedSet is the run-time set of timed bans (nil without a ban block or
// a block that implies one): prefixes, each with its own timeout.
func (p *Policy) BannedSet() *AddrRef {
	if p.Ban == nil {
		return nil
	}
	return &AddrRef{Name: "banned", Role: RoleBanned, Owner: p.Ban.Origin, Dynamic: true, Interval: true}
}

// TrustedSet is the run-time set of trusted remote phones (nil without
// remote_phones): single addresses, each trusted for trust_for.
func (p *Policy) TrustedSet() *AddrRef {
	if p.RemotePhones == nil {
		return nil
	}
	return &AddrRef{Name: "remote_trusted", Role: RoleTrusted, Owner: p.RemotePhones.Origin, Dynamic: true}
}

func closedOrigin(c ClosedPort) Origin {
	if c.Auto {
		return Origin{Kind: "voicewall"}
	}
	return c.Origin
}

func (p *Policy) rtpOrigin() Origin {
	if p.RTPSource.Kind != "" {
		return p.RTPSource
	}
	return Origin{Kind: "rtp"}
}
