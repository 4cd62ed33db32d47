package draytek

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// ---------------------------------------------------------------------------
// planning

// srcRef is the rule's source set. Voice-egress rules carry no source in the
// abstract model (their zone is the voice VLAN); on a Vigor the zone is
// expressed by the VLAN's subnets.
func (c *compiler) srcRef(r *lang.Rule) *lang.AddrRef {
	if r.Src != nil {
		return r.Src
	}
	if r.Chain == lang.ChainVoiceEgress {
		if v := c.p.VoiceVLAN(r.InZone); v != nil {
			return v.SubnetsSet()
		}
	}
	return nil
}

func renderable(r *lang.Rule) bool {
	if responsive(r) {
		return false
	}
	if r.Established || r.Action == lang.ActionMark || r.Action == lang.ActionDropOverRate {
		return false
	}
	return r.Action == lang.ActionAccept || r.Action == lang.ActionDrop || r.Action == lang.ActionDNAT
}

// responsive: a rule of remote_phones or the timed bans. The Vigor renders
// none of them (the responsive gap): the bans and trusted phones are
// run-time sets, and SIP from any source needs a per-source limit the
// Vigor does not have.
func responsive(r *lang.Rule) bool {
	return backends.Responsive(r) || r.Origin.Kind == "remote_phones"
}

func (c *compiler) plan() {
	c.sets = map[string]*setAlloc{}
	c.svcByKey = map[svcKey]*svcObj{}
	c.svcGrpBy = map[string]*svcGrp{}
	c.objNames4, c.objNames6, c.grpNames4, c.grpNames6 = newNamer(), newNamer(), newNamer(), newNamer()
	c.svcNames, c.svcGrpNames = newNamer(), newNamer()

	// 1. the named sets, in first use, blocklists last (they are the ones
	// that may not fit; everything else gets its objects first).
	for _, r := range c.p.Rules {
		if !renderable(r) {
			continue
		}
		for _, ref := range []*lang.AddrRef{c.srcRef(r), r.Dst} {
			if ref == nil {
				continue
			}
			if s, ok := c.sets[ref.Name]; ok {
				if r.Kind != lang.RuleBlocklist {
					s.late = false
				}
				continue
			}
			s := &setAlloc{ref: ref, late: r.Kind == lang.RuleBlocklist}
			c.sets[ref.Name] = s
			c.setOrder = append(c.setOrder, s)
		}
	}
	ordered := make([]*setAlloc, 0, len(c.setOrder))
	for _, late := range []bool{false, true} {
		for _, s := range c.setOrder {
			if s.late == late {
				ordered = append(ordered, s)
			}
		}
	}
	for _, s := range ordered {
		c.allocSet(s)
	}

	// 2. NAT (needs one source object or group per forward).
	c.planNAT()

	// 3. filter rules, in the abstract order.
	set, rule := c.cfg.filterSet, c.cfg.ruleBase
	full := false
	next := func() (int, int, bool) {
		if full {
			return 0, 0, false
		}
		if rule > maxRule {
			if set+1 > maxSet {
				full = true
				return 0, 0, false
			}
			c.setLinks = append(c.setLinks, [2]int{set, set + 1})
			set, rule = set+1, 1
		}
		s, r := set, rule
		rule++
		return s, r, true
	}
	for _, r := range c.p.Rules {
		switch {
		case responsive(r):
			what := backends.ResponsiveWhat(r)
			if r.Src == nil {
				what = "remote phones' SIP from any source is not forwarded: the Vigor has no per-source limit of new flows"
			}
			c.Gap(lang.GapResponsive, r.Origin, fmt.Sprintf("rule %s: %s", r.ID, what))
			continue
		case r.Established:
			continue // the Vigor filter is stateful: replies of allowed sessions pass natively
		case r.Action == lang.ActionMark:
			c.Gap(lang.GapDSCP, r.Origin, fmt.Sprintf("DSCP marking %q (%s) is not rendered: the Vigor CLI syntax for DSCP marking (qos) is unconfirmed", r.DSCP, commentSafe(r.Comment)))
			continue
		case r.Action == lang.ActionDropOverRate:
			c.Gap(lang.GapRateLimit, r.Origin, "per-source SIP rate limit is not expressible: Vigor DoS defence thresholds are global (per router, not per source address or port)")
			c.planDoS()
			continue
		case r.Action == lang.ActionDNAT:
			continue // planned above
		case r.Action != lang.ActionAccept && r.Action != lang.ActionDrop:
			c.Errorf(r.Origin, "unknown rule action", "rule %s has action %q, which this backend does not know.", r.ID, r.Action)
			continue
		}
		for _, fr := range c.filterRules(r) {
			s, n, ok := next()
			if !ok {
				c.Gap(lang.GapCapacity, r.Origin, fmt.Sprintf("too many filter rules: filter sets %d..%d are full (%d rules a set)", c.cfg.filterSet, maxSet, maxRule))
				break
			}
			fr.set, fr.rule = s, n
			c.rules = append(c.rules, fr)
		}
	}

	// 4. voice VLANs.
	c.planVLANs()

	if len(c.rules) > 0 {
		c.notes = append(c.notes, fmt.Sprintf("filter set %d must be the data filter start set (`ipf set -d %d`; factory default 2) or be reached from it; rules voicewall does not write are left alone and still apply after its rules.", c.cfg.filterSet, c.cfg.filterSet))
	}

	if c.p.LogsDrops() {
		c.notes = append(c.notes, "log: drops carry the syslog flag (-F \"1 1\"); the Vigor has no per-rule log prefix or rate ("+
			commentSafe(c.p.Log.Prefix)+", "+c.p.Log.Rate.String()+" not applied); configure the syslog server with `sys syslog`.")
	}
}

func ruleWhat(r *lang.Rule) string {
	if r.Comment != "" {
		return "for " + r.Comment
	}
	return "for rule " + r.ID
}

// allocSet gives a set its IP objects (one per merged range) and, when it has
// more than one, the groups that hold them.
func (c *compiler) allocSet(s *setAlloc) {
	for fi, v6 := range []bool{false, true} {
		ranges := s.ref.Set.Ranges(v6)
		if len(ranges) == 0 {
			continue
		}
		f := &famAlloc{}
		s.fams[fi] = f
		objs, grps := &c.obj4, &c.grp4
		maxO, maxG := maxIPObj, maxIPGrp
		on, gn := c.objNames4, c.grpNames4
		fam := "IPv4"
		if v6 {
			objs, grps = &c.obj6, &c.grp6
			maxO, maxG = maxIP6Obj, maxIP6Grp
			on, gn = c.objNames6, c.grpNames6
			fam = "IPv6"
		}
		var groups [][2]int // a set of one range is used as its object, without a group
		if len(ranges) > 1 {
			groups = backends.Chunks(len(ranges), maxGrpMembers)
		}
		needG := len(groups)
		freeO := maxO - (c.cfg.objBase - 1) - len(*objs)
		freeG := maxG - (c.cfg.grpBase - 1) - len(*grps)
		if len(ranges) > freeO || needG > freeG {
			f.failed = fmt.Sprintf("%s needs %d %s objects and %d groups, but only %d objects (of %d) and %d groups (of %d) are left from index %d/%d",
				s.ref.Name, len(ranges), fam, needG, max(freeO, 0), maxO, max(freeG, 0), maxG, c.cfg.objBase, c.cfg.grpBase)
			continue
		}
		base := shortSetName(s.ref)
		for i, r := range ranges {
			name := base
			if len(ranges) > 1 {
				name = base + strconv.Itoa(i+1)
			}
			o := &ipObj{idx: c.cfg.objBase + len(*objs), name: on.name(name), r: r, set: s.ref.Name}
			*objs = append(*objs, o)
			f.objs = append(f.objs, o.idx)
		}
		for g, ch := range groups {
			lo, hi := ch[0], ch[1]
			name := base
			if needG > 1 {
				name = base + "_g" + strconv.Itoa(g+1)
			}
			x := &ipGrp{idx: c.cfg.grpBase + len(*grps), name: gn.name(name), members: append([]int(nil), f.objs[lo:hi]...), why: s.ref.Name}
			*grps = append(*grps, x)
			f.grps = append(f.grps, x.idx)
		}
	}
}

// shortSetName is a readable short base for a set's objects, from what the
// set is for and the block that owns it.
func shortSetName(ref *lang.AddrRef) string {
	switch ref.Role {
	case lang.RoleSignaling:
		return ref.OwnerID() + "_sig"
	case lang.RoleMedia:
		return ref.OwnerID() + "_med"
	case lang.RoleBlocklist:
		return "bl_" + ref.OwnerID()
	case lang.RoleVLANSubnets:
		return ref.OwnerID() + "_net"
	case lang.RoleManagement:
		return ref.OwnerID() + "_mgmt"
	}
	return ref.Name
}

// addrRefs are the -s/-d arguments for one family of a rule side; nil ref is
// "any" (u 2). ok is false when the side has nothing of that family.
func (c *compiler) addrRefs(ref *lang.AddrRef, v6 bool, o lang.Origin) (refs []string, ok bool) {
	if ref == nil {
		return []string{"u 2"}, true
	}
	s := c.sets[ref.Name]
	fi := 0
	if v6 {
		fi = 1
	}
	if s == nil || s.fams[fi] == nil {
		return nil, false
	}
	f := s.fams[fi]
	if f.failed != "" {
		what := "address set does not fit the Vigor's object tables: " + f.failed + "; the rules using it are not rendered"
		if s.late {
			// A blocklist: say how to make it fit.
			what += ". To fit it: merge it into fewer, wider ranges (each object holds one range or subnet; " +
				"a /24 per scanner network instead of single hosts), or enforce it upstream on a Linux gateway " +
				"(target nftables holds any size); the Vigor3912 UG documents no URL-fed address list"
		}
		c.Gap(capacityGap(o), o, what)
		return nil, false
	}
	return f.refs(v6), true
}

// directions of a rule on a Vigor (ipf rule -D).
func directions(r *lang.Rule) []int {
	switch r.Chain {
	case lang.ChainWAN:
		return []int{1, 3} // WAN -> LAN/RT/VPN, WAN -> router
	case lang.ChainVoiceEgress:
		return []int{0} // LAN/RT/VPN -> WAN
	case lang.ChainVoiceIngress:
		if r.InZone == lang.ZoneWAN {
			return []int{1}
		}
		if r.Action == lang.ActionAccept || r.NotInZone == lang.ZoneWAN {
			return []int{2} // LAN -> LAN: never opened from the WAN
		}
		return []int{1, 2}
	}
	return nil
}

var dirNames = map[int]string{0: "LAN->WAN", 1: "WAN->LAN", 2: "LAN->LAN", 3: "WAN->router"}

var kindAbbr = map[lang.RuleKind]string{
	lang.RuleBlocklist: "bl", lang.RuleClosed: "cl", lang.RuleProviderSIP: "sip", lang.RuleProviderRTP: "rtp",
	lang.RuleSIPDefault: "sipx", lang.RuleRTPDefault: "rtpx", lang.RulePhoneSIP: "psip", lang.RulePhoneRTP: "prtp",
	lang.RulePhoneSIPDefault: "psipx", lang.RulePhoneRTPDefault: "prtpx", lang.RuleMgmt: "mg", lang.RuleMgmtDefault: "mgx",
	lang.RulePhoneRTPSymmetric: "prtps", lang.RuleAllowOut: "out", lang.RuleEgressDefault: "outx",
}

func (c *compiler) filterRules(r *lang.Rule) []*ipfRule {
	dirs := directions(r)
	if dirs == nil {
		c.Errorf(r.Origin, "unknown chain", "rule %s is in chain %q, which this backend does not know.", r.ID, r.Chain)
		return nil
	}
	src := c.srcRef(r)
	pass := r.Action == lang.ActionAccept
	// Safe by construction: never a pass from any on the WAN, never any->any.
	if pass && ((src == nil && r.Chain == lang.ChainWAN) || (src == nil && r.Dst == nil)) {
		c.Errorf(r.Origin, "refusing to render an accept from any", "rule %s would accept %s from any address; voicewall never emits that.", r.ID, ruleWhat(r))
		return nil
	}
	if r.Chain == lang.ChainVoiceEgress && src == nil {
		c.Errorf(r.Origin, "voice VLAN without subnets", "rule %s: voice VLAN %q has no subnet to match its phones by.", r.ID, r.InZone)
		return nil
	}
	svcs := c.serviceRefs(r)
	if len(svcs) == 0 {
		return nil
	}
	type pair struct{ s, d string }
	var pairs []pair
	if src == nil && r.Dst == nil {
		pairs = append(pairs, pair{"u 2", "u 2"})
	} else {
		for _, v6 := range []bool{false, true} {
			ss, ok1 := c.addrRefs(src, v6, r.Origin)
			ds, ok2 := c.addrRefs(r.Dst, v6, r.Origin)
			if !ok1 || !ok2 {
				continue
			}
			for _, s := range ss {
				for _, d := range ds {
					pairs = append(pairs, pair{s, d})
				}
			}
		}
	}
	logIt := !pass && (r.Log || c.p.LogsDrops())
	comment := "vw_" + kindAbbr[r.Kind]
	if r.Origin.Name != "" {
		comment += "_" + r.Origin.Name
	}
	comment = shortToken(comment, maxComment)
	var out []*ipfRule
	for _, d := range dirs {
		for _, pr := range pairs {
			for _, sv := range svcs {
				act := "drop"
				if pass {
					act = "pass"
				}
				out = append(out, &ipfRule{dir: d, src: pr.s, dst: pr.d, svc: sv, pass: pass, log: logIt, comment: comment,
					about: fmt.Sprintf("%s %s: %s [%s]", act, dirNames[d], commentSafe(r.Comment), commentSafe(r.Origin.String()))})
			}
		}
	}
	return out
}

// serviceRefs are the -S arguments covering the rule's services: one service
// object per protocol/source-port/destination-port combination (udp and tcp
// never share an object), a service group when there are several.
func (c *compiler) serviceRefs(r *lang.Rule) []string {
	var keys []svcKey
	for _, pm := range backends.PortMatches(r) {
		if pm.Proto == 0 {
			keys = append(keys, svcKey{proto: 0})
			continue
		}
		k := svcKey{proto: int(pm.Proto), src: pm.Src, dst: pm.Dst}
		if k.dst == backends.AnyPort {
			k.dst = allPorts
		}
		if k.src == backends.AnyPort {
			k.src = allPorts
		}
		keys = append(keys, k)
	}
	var idx []int
	for _, k := range keys {
		o := c.svcByKey[k]
		if o == nil {
			if c.cfg.svcBase+len(c.svcs) > maxSvcObj {
				c.Gap(lang.GapCapacity, r.Origin, fmt.Sprintf("service objects %d..%d are full; rule %s is not rendered", c.cfg.svcBase, maxSvcObj, r.ID))
				return nil
			}
			o = &svcObj{idx: c.cfg.svcBase + len(c.svcs), name: c.svcNames.name(svcName(k)), key: k}
			c.svcs = append(c.svcs, o)
			c.svcByKey[k] = o
		}
		idx = append(idx, o.idx)
	}
	if len(idx) == 1 {
		return []string{"o " + strconv.Itoa(idx[0])}
	}
	sort.Ints(idx)
	var out []string
	for _, ch := range backends.Chunks(len(idx), maxGrpMembers) {
		members := idx[ch[0]:ch[1]]
		key := fmt.Sprint(members)
		g := c.svcGrpBy[key]
		if g == nil {
			if c.cfg.svcGrpBase+len(c.svcGrps) > maxSvcGrp {
				c.Gap(lang.GapCapacity, r.Origin, fmt.Sprintf("service groups %d..%d are full; rule %s is not rendered", c.cfg.svcGrpBase, maxSvcGrp, r.ID))
				return nil
			}
			name := "svc"
			if k := kindAbbr[r.Kind]; k != "" {
				name = strings.TrimSuffix(k, "x")
			}
			g = &svcGrp{idx: c.cfg.svcGrpBase + len(c.svcGrps), name: c.svcGrpNames.name(name), members: append([]int(nil), members...)}
			c.svcGrps = append(c.svcGrps, g)
			c.svcGrpBy[key] = g
		}
		out = append(out, "g "+strconv.Itoa(g.idx))
	}
	return out
}

func svcName(k svcKey) string {
	var b strings.Builder
	switch k.proto {
	case 0:
		return "vwAny"
	case int(lang.TCP):
		b.WriteString("T")
	case int(lang.UDP):
		b.WriteString("U")
	default:
		b.WriteString("P" + strconv.Itoa(k.proto))
	}
	if k.dst != allPorts {
		b.WriteString(k.dst.String())
	}
	if k.src != allPorts {
		b.WriteString("s" + k.src.String())
	}
	return b.String()
}

// planNAT merges the DNAT rules by forwarded service: the Vigor forwards a
// public port to one host, restricted to one source object or group.
func (c *compiler) planNAT() {
	byKey := map[lang.Service]*natEntry{}
	for _, r := range c.p.Rules {
		if r.Action != lang.ActionDNAT || responsive(r) {
			continue
		}
		if r.Src == nil {
			c.Errorf(r.Origin, "refusing to forward from any", "rule %s would forward %s from any address; voicewall never emits that.", r.ID, ruleWhat(r))
			continue
		}
		if !r.DNAT.Is4() {
			c.Gap(lang.GapAddress6, r.Origin, fmt.Sprintf("forwarding to the IPv6 address %s is not rendered: Vigor port redirection and open ports take IPv4 private addresses only", r.DNAT))
			continue
		}
		s := c.sets[r.Src.Name]
		if s == nil || s.fams[0] == nil {
			continue // no IPv4 sources: nothing to forward over IPv4
		}
		if s.fams[0].failed != "" {
			c.Gap(lang.GapCapacity, r.Origin, "port forward source does not fit the Vigor's object tables: "+s.fams[0].failed)
			continue
		}
		for _, sv := range r.Services {
			e := byKey[sv]
			if e == nil {
				e = &natEntry{svc: sv, addr: r.DNAT}
				byKey[sv] = e
				c.nat = append(c.nat, e)
			}
			if e.addr != r.DNAT {
				c.Errorf(r.Origin, "one port forwarded to two hosts", "%s is forwarded to both %s and %s; a Vigor forwards a public port to one host.", sv, e.addr, r.DNAT)
				e.bad = true
				continue
			}
			e.rules = append(e.rules, r)
			if !slices.Contains(e.sets, s) {
				e.sets = append(e.sets, s)
			}
		}
	}
	// overlapping ranges of different forwards
	for i, a := range c.nat {
		for _, b := range c.nat[i+1:] {
			if a.svc.Proto == b.svc.Proto && a.svc.Ports.Overlaps(b.svc.Ports) {
				c.Errorf(b.rules[0].Origin, "overlapping port forwards", "%s and %s overlap; a Vigor cannot forward the same public port twice.", a.svc, b.svc)
				b.bad = true
			}
		}
	}
	if len(c.nat) > 0 && c.wanIndex() < 0 {
		return
	}
	for _, e := range c.nat {
		if e.bad {
			continue
		}
		var members []int
		seen := map[int]bool{}
		for _, s := range e.sets {
			for _, o := range s.fams[0].objs {
				if !seen[o] {
					seen[o] = true
					members = append(members, o)
				}
			}
		}
		sort.Ints(members)
		switch {
		case len(members) == 1:
			e.srcType, e.srcIdx = 0, members[0]
		case len(e.sets) == 1 && len(e.sets[0].fams[0].grps) == 1:
			e.srcType, e.srcIdx = 1, e.sets[0].fams[0].grps[0]
		case len(members) <= maxGrpMembers && c.cfg.grpBase+len(c.grp4) <= maxIPGrp:
			g := &ipGrp{idx: c.cfg.grpBase + len(c.grp4), name: c.grpNames4.name("nat_" + svcName(svcKey{proto: int(e.svc.Proto), src: allPorts, dst: e.svc.Ports})),
				members: members, why: "sources of the " + e.svc.String() + " forward"}
			c.grp4 = append(c.grp4, g)
			e.srcType, e.srcIdx = 1, g.idx
		default:
			c.Gap(lang.GapCapacity, e.rules[0].Origin, fmt.Sprintf("the forward of %s needs its %d source objects in one group; the Vigor restricts a forward to one object or group (at most %d members assumed, %d groups)", e.svc, len(members), maxGrpMembers, maxIPGrp))
			continue
		}
		// One port: port redirection; a range: open ports.
		table, limit, what := &c.portmaps, maxPortmap, "port redirection"
		if e.svc.Ports.First != e.svc.Ports.Last {
			table, limit, what = &c.openports, maxOpenport, "open ports"
		}
		if c.cfg.natBase+len(*table) > limit {
			c.Gap(lang.GapCapacity, e.rules[0].Origin, what+" table is full")
			continue
		}
		e.idx = c.cfg.natBase + len(*table)
		*table = append(*table, e)
	}
}

// planDoS decides what the accepted rate_limit gap emits. The Vigor's only
// flood defence (dos -s udpflood) counts every UDP packet from the Internet,
// router-wide, and above its threshold "will start to randomly discard the
// subsequent UDP packets" (default 2000 pkt/s: about 40 calls' inbound RTP).
// So by default nothing router-wide is emitted, and the header says so with
// the threshold the policy's call capacity needs. With flood_defence = true
// the defence is emitted at that threshold, never at the defaults.
func (c *compiler) planDoS() {
	if c.dosPlanned || c.Gaps.Fatal(lang.GapRateLimit) {
		return
	}
	c.dosPlanned = true
	calls, pps := FloodThreshold(c.p)
	capacity := fmt.Sprintf("%d calls (RTP port ranges / 2) x %d pkt/s of inbound RTP each x %d margin = %d pkt/s; the factory default is %d pkt/s, about %d calls", calls, rtpPPS, floodMargin, pps, defaultUDPFlood, defaultUDPFlood/rtpPPS)
	if c.t.Extra[AttrFloodDefence] != "true" {
		c.notes = append(c.notes, "rate_limit: nothing router-wide is emitted. The Vigor's only flood defence (dos -s udpflood) counts all UDP from the Internet on every interface and, above its threshold, \"will start to randomly discard the subsequent UDP packets\" (DrayTek UG, Firewall >> DoS Defense), live calls' RTP included; at its defaults it would drop media of a busy office. If you enable it, set its threshold at least to the policy's call capacity, plus your other inbound UDP (VPN, DNS, QUIC): "+capacity+". flood_defence = true in target \"draytek\" emits it at that threshold.")
		return
	}
	c.dosLines = []string{"dos -A", fmt.Sprintf("dos -s udpflood %d %d", pps, floodTimeout), "dos -s synflood"}
	if c.p.LogsDrops() {
		c.dosLines = append(c.dosLines, "dos -o 1")
	}
	c.notes = append(c.notes, "rate_limit: flood_defence = true: router-wide DoS defence, no per-source SIP limit. udpflood threshold "+capacity+"; add your other inbound UDP (VPN, DNS, QUIC) to it (dos -s udpflood N "+strconv.Itoa(floodTimeout)+"), or the defence discards media at random while it counts. synflood stays at the router's threshold (TCP SYNs from the Internet, not media).")
}

const (
	rtpPPS          = 50   // packets a second of one RTP stream at 20 ms packetization
	floodMargin     = 2    // 10 ms packetization doubles it
	defaultUDPFlood = 2000 // pkt/s, the factory udpflood threshold (Vigor2920/3220 UG)
	floodTimeout    = 10   // seconds, the factory timeout
)

// FloodThreshold is the policy's call capacity and the udpflood threshold
// (packets a second from the Internet) that carries it: each call takes
// two ports of an RTP range (RTP and RTCP), the PBXes' ranges and the
// phones' range add up, and each call receives rtpPPS packets a second,
// times floodMargin. Never below the factory default.
func FloodThreshold(p *lang.Policy) (calls, pps int) {
	for _, x := range p.PBXes {
		calls += x.RTPPorts.Size() / 2
	}
	if len(p.VoiceVLANs) > 0 || len(p.PBXes) == 0 {
		calls += p.RTP.Size() / 2
	}
	pps = calls * rtpPPS * floodMargin
	if pps < defaultUDPFlood {
		pps = defaultUDPFlood
	}
	return calls, pps
}

func (c *compiler) planVLANs() {
	for i, v := range c.p.VoiceVLANs {
		ch, lan := c.cfg.vlanBase+i, c.cfg.lanBase+i
		if ch > maxVLANChan || lan > maxLAN {
			c.Errorf(v.Origin, "too many voice VLANs", "voice_vlan %q would need VLAN channel %d / LAN%d; the Vigor has channels up to %d and LAN2..LAN%d.", v.Name, ch, lan, maxVLANChan, maxLAN)
			continue
		}
		if v.Parent == lang.ZoneWAN {
			c.Warnf(v.Origin, "voice VLAN on the WAN not rendered", "voice_vlan %q has parent \"wan\"; this backend configures LAN-side VLANs only (WAN tagging is `wan vlan`).", v.Name)
			c.notes = append(c.notes, fmt.Sprintf("voice_vlan %q: parent wan is not configured by this script.", commentSafe(v.Name)))
			continue
		}
		c.vlanChans = append(c.vlanChans, ch)
		c.vlanLines = append(c.vlanLines,
			fmt.Sprintf("vlan vid %d %d", ch, v.ID),
			fmt.Sprintf("vlan tagged %d on", ch))
		gw, _ := v.Gateway(false)
		pfx := gw.Masked()
		if !gw.IsValid() || pfx.Bits() > 30 {
			c.notes = append(c.notes, fmt.Sprintf("voice_vlan %q: no IPv4 subnet of /30 or larger; LAN%d addressing is not set.", commentSafe(v.Name), lan))
			continue
		}
		c.lans = append(c.lans, lan)
		mask := net.IP(net.CIDRMask(pfx.Bits(), 32)).String()
		c.vlanLines = append(c.vlanLines,
			fmt.Sprintf("msubnet switch %d On", lan),
			fmt.Sprintf("msubnet addr %d %s", lan, gw.Addr()),
			fmt.Sprintf("msubnet nmask %d %s", lan, mask))
		c.notes = append(c.notes, fmt.Sprintf("voice_vlan %q: VLAN channel %d (VID %d) and LAN%d (%s, gateway %s). Assign its switch ports (`vlan group %d set pN ...`) and map the channel to LAN%d (LAN >> VLAN), then `sys reboot`: msubnet and VLAN changes take effect after a reboot.",
			commentSafe(v.Name), ch, v.ID, lan, pfx, gw.Addr(), ch, lan))
	}
	if len(c.vlanChans) > 0 {
		c.vlanLines = append(c.vlanLines, "vlan on")
	}
}
