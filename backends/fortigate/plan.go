package fortigate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// ---------------------------------------------------------------- planning

func (c *compiler) iface(zone string) string {
	if zone == "" {
		return "any"
	}
	if n, ok := c.zoneIf[zone]; ok {
		return n
	}
	return ""
}

// plan walks the abstract rules in chain order and builds every object.
func (c *compiler) plan() {
	forwarded := map[*lang.Rule]bool{}
	var marks []*lang.Rule
	for _, ch := range lang.Chains {
		for _, r := range c.p.RulesIn(ch) {
			if backends.Responsive(r) {
				c.Gap(lang.GapResponsive, r.Origin, fmt.Sprintf("rule %s: %s", r.ID, backends.ResponsiveWhat(r)))
				continue
			}
			switch ch {
			case lang.ChainWAN:
				c.planWAN(r, forwarded)
			case lang.ChainNAT:
				if r.Action != lang.ActionDNAT {
					c.Gap(lang.GapInternal, r.Origin, fmt.Sprintf("rule %s in the nat chain has action %s, which voicewall cannot render on FortiOS", r.ID, r.Action))
				}
			case lang.ChainVoiceEgress, lang.ChainVoiceIngress:
				if r.Action == lang.ActionMark {
					marks = append(marks, r)
					continue
				}
				c.planForward(r)
			}
		}
	}
	// DNAT rules no WAN accept rule claimed: forwarded anyway (the NAT chain
	// says so) with their own accept policy, still only from the rule's sources.
	for _, r := range c.p.RulesIn(lang.ChainNAT) {
		if !forwarded[r] && r.Action == lang.ActionDNAT && !backends.Responsive(r) {
			c.planVIPAccept(r, r.Services, nil)
		}
	}
	c.checkMarks(marks)
}

func (c *compiler) planWAN(r *lang.Rule, forwarded map[*lang.Rule]bool) {
	v4, v6 := r.Families()
	switch r.Kind {
	case lang.RuleEstablished:
		c.notes = append(c.notes, fmt.Sprintf("%s: replies of allowed flows pass through the FortiOS session table (stateful); no policy needed.", originText(r.Origin)))
		return
	case lang.RuleRateLimit, lang.RuleRemoteRateLimit:
		c.planRate(r)
		return
	}
	if r.Action == lang.ActionMark || r.Action == lang.ActionDNAT || r.Action == lang.ActionDropOverRate {
		c.Gap(lang.GapInternal, r.Origin, fmt.Sprintf("rule %s (%s, %s) on the WAN has no FortiOS rendering", r.ID, r.Kind, r.Action))
		return
	}
	accept := r.Action == lang.ActionAccept
	if accept && r.Kind != lang.RuleRemoteSIP && (r.Kind == lang.RuleProviderSIP || r.Kind == lang.RuleProviderRTP || len(r.Services) > 0) && (r.Src == nil || r.Src.Set.Empty()) {
		// Principle 3: never accept SIP or RTP from "any".
		c.Errorf(r.Origin, "refusing to accept from any", "rule %s would accept %s from any source on the WAN; voicewall never renders that.", r.ID, servicesText(r.Services))
		return
	}
	svc := c.services(r)
	comment := ruleComment(r)

	// Traffic to the FortiGate itself: local-in policies mirror the WAN chain.
	c.planLocalIn(r, v4, v6, svc, comment)

	if accept {
		// Forwarded provider SIP/RTP exists only through a port forward (VIP) to a PBX.
		for _, n := range r.Forwards {
			forwarded[n] = true
			c.planVIPAccept(n, lang.IntersectServices(n.Services, r.Services), r)
		}
		if len(r.Forwards) == 0 {
			c.notes = append(c.notes, fmt.Sprintf("%s: %s is accepted only as replies of sessions the phones opened; no port forward exists for it.", originText(r.Origin), r.Comment))
		}
		return
	}
	// Drops: one deny policy from the WAN to any interface. match-vip makes
	// it also catch traffic addressed to a VIP (port forward).
	pol := &policy{
		srcintf: []string{c.t.WAN}, dstintf: []string{c.iface(r.OutZone)},
		action: "deny", service: svc, matchVIP: true, logtraffic: logMode(r.Log),
		comment: comment,
	}
	if !c.addrsFor(pol, r, v4, v6) {
		return
	}
	c.addPolicy(r.ID, pol)
}

func logMode(log bool) string {
	if log {
		return "all"
	}
	return "disable"
}

// addrsFor fills a policy's address fields for the families the rule has.
// It reports false (and has reported why) when the rule cannot be rendered.
func (c *compiler) addrsFor(pol *policy, r *lang.Rule, v4, v6 bool) bool {
	if !v4 && !v6 {
		c.notes = append(c.notes, fmt.Sprintf("%s: rule %s matches no address family; nothing to render.", originText(r.Origin), r.ID))
		return false
	}
	if v6 && !c.ver.consolidatedV6() && !hasV6Addrs(r) {
		// An "any" rule: IPv4 only on this release (header note says so).
		v6 = false
		c.noteOnce("v6old", fmt.Sprintf("FortiOS %s keeps IPv6 in separate policy6 tables, which voicewall does not generate: rules without IPv6 addresses are rendered for IPv4 only.", c.ver))
	}
	if v6 && !c.ver.consolidatedV6() {
		c.Gap(lang.GapIPv6, r.Origin, fmt.Sprintf("rule %s has IPv6 addresses; FortiOS %s keeps IPv6 in separate policy6 tables, which voicewall does not generate (use version 6.4 or later)", r.ID, c.ver))
		v6 = false
		if !v4 {
			return false
		}
	}
	for _, f := range []struct {
		on, v6   bool
		src, dst *[]string
	}{{v4, false, &pol.srcaddr, &pol.dstaddr}, {v6, true, &pol.srcaddr6, &pol.dstaddr6}} {
		if !f.on {
			continue
		}
		s, okS := c.addrRef(r, r.Src, f.v6)
		d, okD := c.addrRef(r, r.Dst, f.v6)
		if !okS || !okD {
			return false
		}
		*f.src, *f.dst = []string{s}, []string{d}
	}
	return true
}

func hasV6Addrs(r *lang.Rule) bool {
	return r.Src != nil && r.Src.Set.Has(true) || r.Dst != nil && r.Dst.Set.Has(true)
}

func (c *compiler) noteOnce(key, note string) {
	if c.noted == nil {
		c.noted = map[string]bool{}
	}
	if !c.noted[key] {
		c.noted[key] = true
		c.notes = append(c.notes, note)
	}
}

func (c *compiler) addPolicy(key string, pol *policy) {
	pol.id = c.policyIDs.ID(key)
	pol.name = c.polNames.Name(key, "vw-"+strings.ReplaceAll(key, "_", "-"))
	c.policies = append(c.policies, pol)
}

// planLocalIn mirrors a WAN rule for traffic addressed to the FortiGate.
// Drops are always mirrored. An accept is mirrored only for a family in
// which the policy sends that traffic to the FortiGate's own address: when
// it is port-forwarded to a PBX, the VIP and its firewall policy carry it,
// and a local-in accept would only open the FortiGate itself to the
// providers. Without a forward (phones registered to a hosted PBX through
// the FortiGate's NAT) the providers' SIP/RTP is addressed to the
// FortiGate, which is what the accept mirrors.
func (c *compiler) planLocalIn(r *lang.Rule, v4, v6 bool, svc []string, comment string) {
	action := "deny"
	famSvc := [2][]string{svc, svc}
	if r.Action == lang.ActionAccept {
		action = "accept"
		var forwarded [2][]lang.Service
		for _, n := range r.Forwards {
			// An IPv6 forward without a vip6 (the address6 gap) leaves IPv6
			// provider traffic accepted here, towards the FortiGate itself,
			// as the address6 gap's header line says.
			if n.DNAT.IsValid() && (n.DNAT.Is4() || c.forwards6()) {
				f := famIndex(n.DNAT.Is6())
				forwarded[f] = append(forwarded[f], n.Services...)
			}
		}
		for f, fwd := range forwarded {
			if len(fwd) == 0 {
				continue
			}
			// What no forward carries (RTP of rtp.ports outside the PBX's
			// rtp_ports) still reaches the FortiGate itself, as the policy
			// says: accepted there, the forwarded part not.
			famSvc[f] = nil
			for _, s := range lang.SubtractServices(r.Services, fwd) {
				famSvc[f] = append(famSvc[f], c.service(s.Proto, s.Ports, nil, r.Origin))
			}
		}
		v4 = v4 && len(famSvc[0]) > 0
		v6 = v6 && len(famSvc[1]) > 0
		if len(r.Forwards) > 0 {
			c.noteOnce("localin-accept", "local-in policies do not accept provider SIP/RTP that is port-forwarded to a PBX: the VIP and its firewall policy carry it, and the address of the FortiGate itself stays closed to it.")
		}
	}
	for _, fam := range []bool{false, true} {
		if (!fam && !v4) || (fam && !v6) {
			continue
		}
		if r.Kind == lang.RuleBlocklist && c.isFeed(r) {
			if fam || !c.ver.localInFeed() {
				c.Gap(lang.GapBlocklist, r.Origin, fmt.Sprintf("blocklist %s is an external threat feed; FortiOS %s cannot use a threat feed in %s, so blocklisted sources can still reach the FortiGate itself (firewall policies still block forwarded traffic)", r.Src.Name, c.ver, map[bool]string{false: "local-in policies (needs 7.2.4 or later)", true: "IPv6 local-in policies"}[fam]))
				continue
			}
		}
		s, okS := c.addrRef(r, r.Src, fam)
		d, okD := c.addrRef(r, r.Dst, fam)
		if !okS || !okD {
			continue
		}
		li := &localIn{id: c.localIDs[famIndex(fam)].id(), intf: c.t.WAN, srcaddr: []string{s}, dstaddr: []string{d},
			action: action, service: famSvc[famIndex(fam)], log: r.Log && action == "deny", comment: comment}
		if fam {
			c.localIn6 = append(c.localIn6, li)
		} else {
			c.localIn = append(c.localIn, li)
		}
	}
}

func famIndex(v6 bool) int {
	if v6 {
		return 1
	}
	return 0
}

// forwards6 reports whether IPv6 port forwards are rendered: a vip6 needs
// the WAN's IPv6 address (wan_address6) and a firewall policy with
// dstaddr6, which FortiOS has from 6.4 (consolidated policies).
func (c *compiler) forwards6() bool { return c.wanIP6 != "" && c.ver.consolidatedV6() }

// planVIPAccept renders one DNAT rule as port-forward VIPs (one per
// protocol and port range: a VIP carries one protocol) and the accept policy
// that lets the rule's sources reach them.
func (c *compiler) planVIPAccept(n *lang.Rule, svcs []lang.Service, wan *lang.Rule) {
	if !n.DNAT.IsValid() {
		c.Gap(lang.GapInternal, n.Origin, fmt.Sprintf("rule %s forwards without a destination address", n.ID))
		return
	}
	// remote_phones' SIP is the one forward from any source: its WAN
	// accept (wan) is the remote SIP rule, behind the per-source DoS limit.
	fromAny := n.Src == nil && wan != nil && wan.Kind == lang.RuleRemoteSIP
	if !fromAny && (n.Src == nil || n.Src.Set.Empty()) {
		c.Errorf(n.Origin, "refusing to forward from any", "rule %s would forward %s from any source to %s; voicewall never renders that.", n.ID, servicesText(svcs), n.DNAT)
		return
	}
	v6 := n.DNAT.Is6()
	if v6 && !c.forwards6() {
		why := "set wan_address6 in target \"fortigate\" to the WAN's IPv6 address, which the vip6 listens on"
		if c.wanIP6 != "" {
			why = fmt.Sprintf("FortiOS %s keeps IPv6 in separate policy6 tables, which voicewall does not generate (use version 6.4 or later)", c.ver)
		}
		c.Gap(lang.GapAddress6, n.Origin, fmt.Sprintf("forwarding to the IPv6 PBX address %s needs a vip6 (IPv6 port forward): %s", n.DNAT, why))
		return
	}
	if !fromAny && !n.Src.Set.Has(v6) {
		c.notes = append(c.notes, fmt.Sprintf("%s: rule %s has no %s sources; an %s PBX cannot be reached from them.", originText(n.Origin), n.ID, famName(v6), famName(v6)))
		return
	}
	var filter []string
	if !fromAny {
		for _, rg := range n.Src.Set.Ranges(v6) {
			filter = append(filter, rangeText(rg, "/"))
		}
	}
	dstZone := n.OutZone
	if dstZone == "" {
		dstZone = lang.ZoneLAN
		if n.PBX != nil && n.PBX.Zone != "" {
			dstZone = n.PBX.Zone
		}
	}
	origin := n.Origin
	log := n.Log
	if wan != nil {
		log = log || wan.Log
	}
	var vipNames, svcNames []string
	sorted := append([]lang.Service(nil), svcs...)
	lang.SortServices(sorted)
	for _, s := range sorted {
		name := c.objNames.Name("vip:"+n.ID+":"+s.String(), fmt.Sprintf("vw-vip-%s-%s-%s", strings.ReplaceAll(n.ID, "_", "-"), s.Proto, s.Ports))
		v := &vip{
			name: name, extintf: c.t.WAN, extip: c.wanIP, mapped: n.DNAT.String(),
			proto: s.Proto.String(), ports: s.Ports.String(), srcFilter: filter,
			comment: "voicewall: " + originText(origin) + " port forward " + s.String() + " to " + n.DNAT.String(),
		}
		if v6 {
			// A vip6 has no extintf: it is bound to its external address.
			v.extintf, v.extip = "", c.wanIP6
			c.vips6 = append(c.vips6, v)
		} else {
			c.vips = append(c.vips, v)
		}
		vipNames = append(vipNames, name)
		svcNames = append(svcNames, c.service(s.Proto, s.Ports, nil, origin))
	}
	src, ok := c.addrRef(n, n.Src, v6)
	if !ok {
		return
	}
	comment := ruleComment(n)
	if wan != nil {
		comment = ruleComment(wan) + "; " + ruleComment(n)
	}
	pol := &policy{
		srcintf: []string{c.t.WAN}, dstintf: []string{c.iface(dstZone)},
		action: "accept", service: svcNames,
		logtraffic: map[bool]string{true: "all", false: ""}[log], comment: comment,
		srcIsProvider: true, isVIPAccept: true,
	}
	if v6 {
		pol.srcaddr6, pol.dstaddr6 = []string{src}, vipNames
	} else {
		pol.srcaddr, pol.dstaddr = []string{src}, vipNames
	}
	key := n.ID
	if wan != nil {
		key = wan.ID + "_" + n.ID
	}
	c.addPolicy(key, pol)
}

// planForward renders voice egress / ingress rules as firewall policies.
//
// An accept to the WAN source-NATs its IPv4 flows (nat enable, fixedport).
// FortiOS has no NAT of its own for IPv6 in a firewall policy: "set nat
// enable" is source NAT to the outgoing interface's IPv4 address, and IPv6
// source NAT needs an ippool6 (NAT66) that voicewall does not create; IPv6
// phones keep their global addresses. So a rule of both families is split
// into an IPv4 policy with nat enable and an IPv6 policy with nat disable,
// and every policy says exactly what it does to each family.
func (c *compiler) planForward(r *lang.Rule) {
	v4, v6 := r.Families()
	if r.Action == lang.ActionAccept && r.OutZone == lang.ZoneWAN && v4 && v6 && !r.Established {
		c.planForwardFams(r, true, false, r.ID)
		c.planForwardFams(r, false, true, r.ID+"_v6")
		return
	}
	c.planForwardFams(r, v4, v6, r.ID)
}

func (c *compiler) planForwardFams(r *lang.Rule, v4, v6 bool, key string) {
	if r.Action != lang.ActionAccept && r.Action != lang.ActionDrop {
		c.Gap(lang.GapInternal, r.Origin, fmt.Sprintf("rule %s (%s, %s) has no FortiOS rendering", r.ID, r.Kind, r.Action))
		return
	}
	if r.Established {
		// FortiOS is stateful: replies of a session a policy allowed pass
		// without a policy of their own.
		c.notes = append(c.notes, fmt.Sprintf("%s: %s pass through the FortiOS session table (stateful); no policy needed.", originText(r.Origin), r.Comment))
		return
	}
	src := []string{c.iface(r.InZone)}
	if r.InZone == "" && r.NotInZone != "" {
		// "From anywhere but this zone": an admin may arrive over an SSL-VPN
		// or IPsec tunnel interface voicewall does not know. A deny from the
		// excluded zone comes first, then the rule from any interface.
		deny := *r
		deny.ID, deny.InZone, deny.NotInZone, deny.Src = r.ID+"_"+r.NotInZone, r.NotInZone, "", nil
		deny.Action, deny.Mark = lang.ActionDrop, nil
		deny.Log = c.p.LogsDrops()
		deny.Comment = r.Comment + " (never from the " + r.NotInZone + ")"
		c.planForward(&deny)
		src = []string{"any"}
	}
	dst := []string{c.iface(r.OutZone)}
	for _, s := range append(append([]string{}, src...), dst...) {
		if s == "" {
			c.Gap(lang.GapInternal, r.Origin, fmt.Sprintf("rule %s names a zone FortiOS has no interface for", r.ID))
			return
		}
	}
	pol := &policy{srcintf: src, dstintf: dst, service: c.services(r), comment: ruleComment(r)}
	if r.Action == lang.ActionAccept {
		pol.action = "accept"
		if r.OutZone == lang.ZoneWAN && v4 {
			// Phones reach the providers through the WAN: source NAT as any
			// outbound policy would, keeping source ports (no ALG rewrites them).
			pol.nat, pol.fixedport = true, true
		}
		if m := r.Mark; m != nil {
			if code, ok := lang.DSCPValues[m.DSCP]; ok {
				pol.dscp = fmt.Sprintf("%06b", code)
				pol.comment += "; DSCP " + m.DSCP + " (" + originText(m.Origin) + ")"
				c.markUsed(m)
			} else {
				c.Gap(lang.GapInternal, m.Origin, fmt.Sprintf("unknown DSCP class %q", m.DSCP))
			}
		}
	} else {
		pol.action = "deny"
		pol.logtraffic = logMode(r.Log)
		if r.Kind == lang.RuleEgressDefault {
			c.notes = append(c.notes, fmt.Sprintf("%s: everything else from %s to %s is denied by policy %s. FortiOS's implicit deny at the end of the policy list would drop it too; the explicit deny keeps policies added after voicewall's from opening it, and logs it.", originText(r.Origin), r.InZone, c.t.WAN, strings.ReplaceAll("vw-"+r.ID, "_", "-")))
		}
		// Only traffic from the WAN (or any zone) can be addressed to a VIP.
		pol.matchVIP = r.InZone == lang.ZoneWAN || r.InZone == ""
	}
	if !c.addrsFor(pol, r, v4, v6) {
		return
	}
	c.addPolicy(key, pol)
}

func (c *compiler) markUsed(m *lang.Rule) {
	if c.usedMarks == nil {
		c.usedMarks = map[*lang.Rule]bool{}
	}
	c.usedMarks[m] = true
}

func (c *compiler) checkMarks(marks []*lang.Rule) {
	// A block's class is applied when any of its mark rules reached an
	// accept policy (the RTP class has two: from the RTP range, and to the
	// provider's media); only a class no accepted flow gets is worth a note.
	applied := map[string]bool{}
	for m := range c.usedMarks {
		applied[m.Origin.String()+"/"+m.DSCP] = true
	}
	for _, m := range marks {
		if !c.usedMarks[m] && !applied[m.Origin.String()+"/"+m.DSCP] {
			c.notes = append(c.notes, fmt.Sprintf("%s: DSCP %s marking applies to no accepted flow (FortiOS marks on accept policies; the traffic it names is dropped or not voicewall's).", originText(m.Origin), m.DSCP))
		}
	}
}

// planRate renders the SIP rate limit as DoS policies on the WAN.
func (c *compiler) planRate(r *lang.Rule) {
	rl := r.Rate // lang sets it on every rate-limit rule
	if rl == nil {
		c.Gap(lang.GapInternal, r.Origin, "rate_limit rule without a rate")
		return
	}
	threshold := int(rl.Burst)
	if threshold <= 0 {
		threshold = int(rl.SIP.PerSecond() + 0.999)
	}
	if threshold < 1 {
		threshold = 1
	}
	var an []anomaly
	for _, p := range r.Protos() {
		name := "udp_src_session"
		if p == lang.TCP {
			name = "tcp_src_session"
		}
		an = append(an, anomaly{name: name, threshold: threshold, log: r.Log || c.p.LogsDrops()})
	}
	if len(an) == 0 {
		an = []anomaly{{name: "udp_src_session", threshold: threshold}, {name: "tcp_src_session", threshold: threshold}}
	}
	svc := c.services(r)
	comment := ruleComment(r) + fmt.Sprintf("; %s per source, burst %d: FortiOS DoS anomalies limit concurrent sessions per source (threshold %d)", rl.SIP, rl.Burst, threshold)
	c.Warnf(r.Origin, "rate limit emulated",
		"FortiOS DoS policies have no per-source rate of new flows; %s (new SIP flows per source) is rendered as *_src_session anomalies, the closest construct: at most %d concurrent SIP sessions per source address on %s.", rl.SIP, threshold, c.t.WAN)
	v4, v6 := r.Families()
	name := c.polNames.Name("dos:"+r.ID, "vw-"+strings.ReplaceAll(r.ID, "_", "-"))
	if v4 {
		c.dos = append(c.dos, &dosPolicy{id: c.dosIDs[0].id(), name: name, intf: c.t.WAN, service: svc, anomalies: an, comment: comment})
	}
	if v6 {
		c.dos6 = append(c.dos6, &dosPolicy{id: c.dosIDs[1].id(), name: name, intf: c.t.WAN, service: svc, anomalies: an, comment: comment})
	}
}

// ---------------------------------------------------------------- addresses

// isFeed reports whether a blocklist rule's set becomes an external threat feed.
func (c *compiler) isFeed(r *lang.Rule) bool {
	if r.Kind != lang.RuleBlocklist || r.Src == nil {
		return false
	}
	_, url := c.t.Extra["blocklist_url"]
	return url || r.Src.Set.Count(false)+r.Src.Set.Count(true) > externalThreshold
}

// addrRef returns the name to put in srcaddr/dstaddr for one family of a
// named set ("all" for nil), creating the address objects and groups once.
func (c *compiler) addrRef(r *lang.Rule, ref *lang.AddrRef, v6 bool) (string, bool) {
	if ref == nil {
		return "all", true
	}
	if r.Kind == lang.RuleBlocklist && ref == r.Src && c.isFeed(r) {
		return c.feedFor(r)
	}
	key := ref.Name + map[bool]string{false: "/4", true: "/6"}[v6]
	if g, ok := c.refGroup[key]; ok {
		return g, g != ""
	}
	if !safeString(ref.Name) {
		c.Errorf(r.Origin, "unsafe name", "address set name %q cannot be carried in FortiOS strings.", ref.Name)
		c.refGroup[key] = ""
		return "", false
	}
	ranges := ref.Set.Ranges(v6)
	if len(ranges) == 0 {
		c.refGroup[key] = ""
		return "", false
	}
	if len(ranges) > externalThreshold {
		c.Gap(lang.GapCapacity, r.Origin, fmt.Sprintf("address set %s has %d ranges; FortiOS address tables are too small for that (only blocklists can become external threat feeds)", ref.Name, len(ranges)))
		c.refGroup[key] = ""
		return "", false
	}
	fam := map[bool]string{false: "", true: "6"}[v6]
	comment := "voicewall: " + originText(r.Origin) + " " + ref.Name
	var members []string
	for _, rg := range ranges {
		txt := rangeText(rg, "_")
		name := c.objNames.Name("addr:"+ref.Name+":"+txt, "vw-"+ref.Name+"-"+txt)
		c.addrs[v6] = append(c.addrs[v6], &address{name: name, v6: v6, rng: rg, comment: comment})
		members = append(members, name)
	}
	gname := c.objNames.Name("grp:"+key, "vw-"+ref.Name+map[bool]string{false: "", true: "-v6"}[v6])
	if len(members) > groupMax {
		var parts []string
		for n, ch := range backends.Chunks(len(members), groupMax) {
			pn := c.objNames.Name(fmt.Sprintf("grp:%s:%d", key, n+1), fmt.Sprintf("%s-part%d", gname, n+1))
			c.groups[v6] = append(c.groups[v6], &addrGroup{name: pn, v6: v6, members: members[ch[0]:ch[1]], comment: comment})
			parts = append(parts, pn)
		}
		members = parts
	}
	c.groups[v6] = append(c.groups[v6], &addrGroup{name: gname, v6: v6, members: members, comment: comment + fam})
	c.refGroup[key] = gname
	return gname, true
}

// feedFor writes a blocklist as an external threat feed file and returns the
// external-resource name that firewall policies use as an address.
func (c *compiler) feedFor(r *lang.Rule) (string, bool) {
	key := "feed:" + r.Src.Name
	if g, ok := c.refGroup[key]; ok {
		return g, g != ""
	}
	blName := r.Src.Owner.Name
	if blName == "" || !safeString(blName) {
		blName = r.Src.Name
	}
	fileName := "fortigate-blocklist-" + blName + ".txt"
	count := r.Src.Set.Count(false) + r.Src.Set.Count(true)
	var b strings.Builder
	b.WriteString("# voicewall: " + originText(r.Origin) + " merged (" + strconv.Itoa(count) + " ranges); serve this file at the threat feed URL\n")
	for _, v6 := range []bool{false, true} {
		for _, rg := range r.Src.Set.Ranges(v6) {
			b.WriteString(rangeText(rg, "/"))
			b.WriteByte('\n')
		}
	}
	c.feedFiles = append(c.feedFiles, backends.File{Name: fileName, Data: []byte(b.String())})
	url, has := c.t.Extra["blocklist_url"]
	if !has {
		c.Gap(lang.GapBlocklist, r.Origin, fmt.Sprintf("blocklist %s has %d ranges, more than the %d address objects voicewall puts on a FortiGate; serve %s over HTTP(S) and set blocklist_url in target %q to use it as an external threat feed", blName, count, externalThreshold, fileName, target))
		c.refGroup[key] = ""
		return "", false
	}
	url, ok := backends.FeedURL(url, blName, fileName, c.countFeeds())
	if !ok {
		c.Errorf(c.t.Origin, "one blocklist_url for several blocklists", "%d blocklists become threat feeds but blocklist_url names one file; end it with \"/\" (the file names are appended) or put {name} in it.", c.countFeeds())
		c.refGroup[key] = ""
		return "", false
	}
	if !urlRe.MatchString(url) || len(url) > 511 {
		c.Errorf(c.t.Origin, "bad blocklist_url", "the threat feed URL %q is not usable.", url)
		c.refGroup[key] = ""
		return "", false
	}
	name := c.objNames.Name(key, "vw-bl-"+blName)
	c.feeds = append(c.feeds, &feed{name: name, url: url, file: fileName, comment: "voicewall: " + originText(r.Origin) + " (" + fileName + ")"})
	c.refGroup[key] = name
	return name, true
}

func (c *compiler) countFeeds() int {
	n := 0
	seen := map[string]bool{}
	for _, r := range c.p.Rules {
		if c.isFeed(r) && !seen[r.Src.Name] {
			seen[r.Src.Name] = true
			n++
		}
	}
	return n
}

// rangeText renders a range as a prefix ("10.0.0.0/24", with sep for '/') or
// "first-last".
func rangeText(r netipx.IPRange, sep string) string {
	if p, ok := r.Prefix(); ok {
		return p.Addr().String() + sep + strconv.Itoa(p.Bits())
	}
	return r.From().String() + "-" + r.To().String()
}

// ---------------------------------------------------------------- services

// services names the custom services a rule matches ("ALL" when it names none).
func (c *compiler) services(r *lang.Rule) []string {
	var out []string
	for _, pm := range backends.PortMatches(r) {
		switch {
		case pm.Proto == 0:
			return []string{"ALL"}
		case pm.Dst == backends.AnyPort:
			pm.Dst = lang.PortRange{First: 1, Last: 65535}
		}
		var src *lang.PortRange
		if pm.Src != backends.AnyPort {
			src = &pm.Src
		}
		out = append(out, c.service(pm.Proto, pm.Dst, src, r.Origin))
	}
	return out
}

func (c *compiler) service(p lang.Proto, dst lang.PortRange, src *lang.PortRange, o lang.Origin) string {
	item := dst.String()
	want := "vw-" + p.String() + "-" + dst.String()
	if src != nil {
		item += ":" + src.String()
		want += "-from-" + src.String()
	}
	key := p.String() + " " + item
	if s, ok := c.svcByKey[key]; ok {
		return s.name
	}
	name := c.svcNames.Name(key, want)
	s := &service{name: name, proto: p, item: item, comment: "voicewall: " + p.String() + " " + item + " (first used by " + originText(o) + ")"}
	c.svcByKey[key] = s
	c.svcList = append(c.svcList, s)
	return name
}

func servicesText(s []lang.Service) string {
	if len(s) == 0 {
		return "all traffic"
	}
	var parts []string
	for _, x := range s {
		parts = append(parts, x.String())
	}
	return strings.Join(parts, ", ")
}

func ruleComment(r *lang.Rule) string {
	s := r.Comment
	if s == "" {
		s = string(r.Kind)
	}
	return s + " - " + originText(r.Origin)
}

// planSIPHelper decides how the SIP session helper entry is removed: by the
// id the --base configuration gives it, else by sip_helper_index, else not
// at all, which is an action the admin must take (loudly: while it stays,
// SIP on the admin's own policies still goes through the helper).
func (c *compiler) planSIPHelper() {
	idx, haveIdx := c.t.Extra["sip_helper_index"]
	if ids, found := c.baseSIPHelpers(); found {
		switch {
		case len(ids) == 0:
			c.sipHelperWhy = "The base configuration has no session helper named sip: nothing to delete"
		default:
			c.sipHelperIDs = ids
			c.sipHelperWhy = "The base configuration has the SIP session helper as entry " + strings.Join(ids, ", ")
			if haveIdx && !slices.Contains(ids, idx) {
				c.Warnf(c.t.Origin, "sip_helper_index disagrees with --base",
					"target %q sets sip_helper_index = %s, but the base configuration has the sip session helper as entry %s; the script deletes %s (deleting %s could remove another helper). Remove sip_helper_index.", target, idx, strings.Join(ids, ", "), strings.Join(ids, ", "), idx)
			}
		}
		return
	}
	if haveIdx {
		c.sipHelperIDs = []string{idx}
		c.sipHelperWhy = "target fortigate sip_helper_index = " + idx
		return
	}
	c.actions = append(c.actions, "The SIP session helper is NOT removed: SIP on your own policies still goes through it. Run `show system session-helper | grep -f sip` on the FortiGate, then `config system session-helper`, `delete N` with the id N it showed, `end` (or set sip_helper_index = N in target fortigate, or compile with --base set to a backup of the FortiGate).")
	c.Warnf(c.t.Origin, "SIP session helper left in place",
		"The FortiOS CLI cannot delete the SIP session helper by name and its id differs between builds. The script disables the VoIP ALG and marks voicewall's services helper disable, but the helper table entry stays until you delete it: run `show system session-helper | grep -f sip` on the FortiGate and set sip_helper_index in target %q, or compile with --base set to a backup of the FortiGate.", target)
}
