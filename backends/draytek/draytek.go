// Package draytek renders a voicewall policy as a DrayTek Vigor telnet/SSH
// command script ("draytek.txt").
//
// Vigor configuration backups are binary, so the output is the command
// sequence an admin pastes into the router's CLI, in order. The script starts
// with a header of '#' lines (the Vigor CLI has no documented comment syntax:
// strip them before pasting, e.g. `grep -v '^#' draytek.txt`). The header
// lists every object, group, filter rule, port redirection, open-port profile,
// VLAN channel and LAN subnet index the script writes: the script overwrites
// whatever is there.
//
// Every command family was checked against the Vigor3912 User's Guide Part
// VIII (telnet commands, fw 4.3.5.1) and the live `?` help / command
// inventory of fw 4.4.7_RC2 (jooservices/vigor3912s-sdk references/). Other
// models and firmware lines are unverified. See docs/targets-draytek.md.
package draytek

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"go4.org/netipx"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// Target is the target name; FileName the main output file.
const (
	Target   = "draytek"
	FileName = "draytek.txt"
)

// Vigor3912 limits (UG Part VIII: ipf rule, object, srv nat, vlan).
const (
	maxIPObj      = 192 // object ip obj
	maxIPGrp      = 32  // object ip grp
	maxIP6Obj     = 64  // object ipv6 obj (ipf rule -s "o6": 1..64)
	maxIP6Grp     = 32  // object ipv6 grp
	maxSvcObj     = 96  // object service obj (ipf rule -S: 1..96)
	maxSvcGrp     = 32  // object service grp: range not stated; kept to the IP group limit
	maxGrpMembers = 32  // objects per group: not stated (the view lists 100 slots); conservative
	maxSet        = 50  // ipf rule <set 1-50>
	maxRule       = 30  // ipf rule <set> <rule 1-30>
	maxPortmap    = 260 // srv nat portmap add <1-260>
	maxOpenport   = 260 // srv nat openport <1-260> <1-10>
	maxVLANChan   = 7   // vlan vid <n 0-7>
	maxLAN        = 100 // msubnet <2-100>
	maxWAN        = 12  // portmap wan1..wan12
	maxComment    = 14  // ipf rule -M: 14 characters on older models; unconfirmed for 3912
	maxOpenComm   = 22  // srv nat openport -c: "less than 23 characters"
)

// Extra attributes of target "draytek" this backend reads, as spec.go
// declares them (docs/targets-draytek.md): wan_index, object_base,
// group_base, service_base, filter_set, rule_base, nat_base, vlan_base,
// lan_base.
type config struct {
	wanIndex  int // 0: derive from the target's wan name
	objBase   int // first IPv4 and IPv6 object index
	grpBase   int // first IPv4/IPv6 IP group and service group index
	svcBase   int // first service object index
	filterSet int // filter set voicewall's rules start in
	ruleBase  int // first rule index in that set
	natBase   int // first port redirection index and open-port profile
	vlanBase  int // first VLAN channel
	lanBase   int // LAN subnet of the first voice VLAN
}

var defaultConfig = config{objBase: 1, grpBase: 1, svcBase: 1, filterSet: 2, ruleBase: 1, natBase: 1, vlanBase: 1, lanBase: 2}

// Compile renders p for a DrayTek Vigor. Capability gaps are errors unless
// opts.AllowDegraded; then they are warnings and the header says what is not
// enforced. The output is nil when the diagnostics hold an error.
func Compile(p *lang.Policy, opts backends.Options) (*backends.Output, hcl.Diagnostics) {
	c := &compiler{p: p, opts: opts, t: p.Target(&langSpec), Report: backends.NewReport(p, &langSpec, opts)}
	c.readConfig()
	if c.Diags.HasErrors() {
		return nil, c.Diags
	}
	c.plan()
	return c.Done(backends.File{Name: FileName, Data: []byte(c.render())})
}

// ---------------------------------------------------------------------------
// model of what is emitted

type ipObj struct {
	idx  int
	name string
	r    netipx.IPRange
	set  string
}

type ipGrp struct {
	idx     int
	name    string
	members []int
	why     string
}

// allPorts is a service side without a port restriction.
var allPorts = lang.PortRange{First: 1, Last: 65535}

type svcKey struct {
	proto    int // 0 any, 6, 17
	src, dst lang.PortRange
}

type svcObj struct {
	idx  int
	name string
	key  svcKey
}

type svcGrp struct {
	idx     int
	name    string
	members []int
}

// famAlloc is one address family of one named set.
type famAlloc struct {
	objs   []int
	grps   []int
	failed string // why it could not be allocated
}

// refs are the ipf -s/-d arguments that together cover the family, in the
// documented two-number form "<o|g|o6|g6> <field> <index>" (Vigor3912 UG
// Part VIII pp. 636-637: field is the slot of the rule's object or group
// list, index the object or group, 0 meaning none; the UG's example is
// `ipf rule 3 1 -e 1 -d "o 2 2"`). voicewall always fills slot 1; a
// one-number "o 5" could be read as slot 5 with no object, i.e. any.
func (f *famAlloc) refs(v6 bool) []string {
	o, g := "o", "g"
	if v6 {
		o, g = "o6", "g6"
	}
	if len(f.objs) == 1 {
		return []string{addrSlotRef(o, f.objs[0])}
	}
	out := make([]string, 0, len(f.grps))
	for _, x := range f.grps {
		out = append(out, addrSlotRef(g, x))
	}
	return out
}

// addrSlot is the rule slot every object or group reference fills.
const addrSlot = 1

func addrSlotRef(kind string, idx int) string {
	return kind + " " + strconv.Itoa(addrSlot) + " " + strconv.Itoa(idx)
}

type setAlloc struct {
	ref  *lang.AddrRef
	fams [2]*famAlloc // [0] IPv4, [1] IPv6; nil when the set has none of that family
	late bool         // blocklists: allocated after everything else
}

type ipfRule struct {
	set, rule int
	dir       int
	src, dst  string
	svc       string
	pass      bool
	log       bool
	comment   string
	about     string // header text
}

type natEntry struct {
	svc     lang.Service
	addr    netip.Addr
	rules   []*lang.Rule
	sets    []*setAlloc
	srcType int // 0 object, 1 group
	srcIdx  int
	idx     int // portmap index or open-port profile
	bad     bool
}

type compiler struct {
	p    *lang.Policy
	opts backends.Options
	t    *lang.Target
	cfg  config
	backends.Report
	notes []string

	sets     map[string]*setAlloc
	setOrder []*setAlloc

	obj4, obj6 []*ipObj
	grp4, grp6 []*ipGrp
	svcs       []*svcObj
	svcByKey   map[svcKey]*svcObj
	svcGrps    []*svcGrp
	svcGrpBy   map[string]*svcGrp
	rules      []*ipfRule
	setLinks   [][2]int
	nat        []*natEntry
	portmaps   []*natEntry
	openports  []*natEntry
	wanIdx     int
	vlanLines  []string
	vlanChans  []int
	lans       []int
	dosLines   []string

	objNames4, objNames6, grpNames4, grpNames6, svcNames, svcGrpNames *namer
}

// capacityGap: an address set too large for the Vigor's tables is the
// blocklist gap when it is a blocklist, else a capacity gap.
func capacityGap(o lang.Origin) string {
	if o.Kind == "blocklist" {
		return lang.GapBlocklist
	}
	return lang.GapCapacity
}

func (c *compiler) readConfig() {
	c.cfg = defaultConfig
	get := func(key string, dst *int, min, max int) {
		v, ok := c.t.Extra[key]
		if !ok {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			c.Errorf(c.t.Origin, "bad "+key, "target \"draytek\" %s = %q: want a whole number from %d to %d.", key, v, min, max)
			return
		}
		*dst = n
	}
	get("wan_index", &c.cfg.wanIndex, 1, maxWAN)
	get("object_base", &c.cfg.objBase, 1, maxIPObj)
	get("group_base", &c.cfg.grpBase, 1, maxIPGrp)
	get("service_base", &c.cfg.svcBase, 1, maxSvcObj)
	get("filter_set", &c.cfg.filterSet, 1, maxSet)
	get("rule_base", &c.cfg.ruleBase, 1, maxRule)
	get("nat_base", &c.cfg.natBase, 1, maxPortmap)
	get("vlan_base", &c.cfg.vlanBase, 1, maxVLANChan)
	get("lan_base", &c.cfg.lanBase, 2, maxLAN)
}

var wanNameRE = regexp.MustCompile(`^(?i:wan)([0-9]{1,2})$`)

// wanIndex is the WAN number port forwards are bound to.
func (c *compiler) wanIndex() int {
	if c.wanIdx != 0 {
		return c.wanIdx
	}
	if c.cfg.wanIndex != 0 {
		c.wanIdx = c.cfg.wanIndex
		return c.wanIdx
	}
	if m := wanNameRE.FindStringSubmatch(c.t.WAN); m != nil {
		if n, _ := strconv.Atoi(m[1]); n >= 1 && n <= maxWAN {
			c.wanIdx = n
			return n
		}
	}
	c.Errorf(c.t.Origin, "unknown WAN interface", "target \"draytek\" wan = %q is not a Vigor WAN (WAN1..WAN%d); port forwards need the WAN number. Set wan = \"WAN1\" (or wan_index).", c.t.WAN, maxWAN)
	c.wanIdx = -1
	return -1
}

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
	if r.Established || r.Action == lang.ActionMark || r.Action == lang.ActionDropOverRate {
		return false
	}
	return r.Action == lang.ActionAccept || r.Action == lang.ActionDrop || r.Action == lang.ActionDNAT
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
			if c.cfg.grpBase+len(c.svcGrps) > maxSvcGrp {
				c.Gap(lang.GapCapacity, r.Origin, fmt.Sprintf("service groups %d..%d are full; rule %s is not rendered", c.cfg.grpBase, maxSvcGrp, r.ID))
				return nil
			}
			name := "svc"
			if k := kindAbbr[r.Kind]; k != "" {
				name = strings.TrimSuffix(k, "x")
			}
			g = &svcGrp{idx: c.cfg.grpBase + len(c.svcGrps), name: c.svcGrpNames.name(name), members: append([]int(nil), members...)}
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
		if r.Action != lang.ActionDNAT {
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

func (c *compiler) planDoS() {
	if c.dosLines != nil || c.Gaps.Fatal(lang.GapRateLimit) {
		return
	}
	c.dosLines = []string{"dos -A", "dos -s udpflood", "dos -s synflood"}
	if c.p.LogsDrops() {
		c.dosLines = append(c.dosLines, "dos -o 1")
	}
	c.notes = append(c.notes, "rate_limit: emulated only by the Vigor's global DoS defence (udpflood/synflood at the router's default thresholds); no per-source SIP limit.")
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

// ---------------------------------------------------------------------------
// rendering

func (c *compiler) render() string {
	var body []string
	add := func(s string) { body = append(body, s) }

	add("sys sip_alg -e 0")

	for _, o := range c.obj4 {
		add(fmt.Sprintf("object ip obj %d -n %s", o.idx, o.name))
		add(fmt.Sprintf("object ip obj %d -i 0", o.idx))
		add(fmt.Sprintf("object ip obj %d -s 0", o.idx))
		add(fmt.Sprintf("object ip obj %d -a %s", o.idx, v4Addr(o.r)))
	}
	for _, o := range c.obj6 {
		add(fmt.Sprintf("object ipv6 obj %d -n %s", o.idx, o.name))
		add(fmt.Sprintf("object ipv6 obj %d -s 0", o.idx))
		add(fmt.Sprintf("object ipv6 obj %d -a 3 %s %s", o.idx, o.r.From(), o.r.To()))
	}
	for _, g := range c.grp4 {
		add(fmt.Sprintf("object ip grp %d -n %s", g.idx, g.name))
		add(fmt.Sprintf("object ip grp %d -i 0", g.idx))
		add(fmt.Sprintf("object ip grp %d -a \"%s\"", g.idx, joinInts(g.members)))
	}
	for _, g := range c.grp6 {
		add(fmt.Sprintf("object ipv6 grp %d -n %s", g.idx, g.name))
		add(fmt.Sprintf("object ipv6 grp %d -a %s", g.idx, joinInts(g.members)))
	}
	for _, s := range c.svcs {
		add(fmt.Sprintf("object service obj %d -n %s", s.idx, s.name))
		add(fmt.Sprintf("object service obj %d -p %d", s.idx, s.key.proto))
		if s.key.proto != 0 {
			add(fmt.Sprintf("object service obj %d -s 0 %d %d", s.idx, s.key.src.First, s.key.src.Last))
			add(fmt.Sprintf("object service obj %d -d 0 %d %d", s.idx, s.key.dst.First, s.key.dst.Last))
		}
	}
	for _, g := range c.svcGrps {
		add(fmt.Sprintf("object service grp %d -n %s", g.idx, g.name))
		add(fmt.Sprintf("object service grp %d -a %s", g.idx, joinInts(g.members)))
	}
	links := map[int]int{}
	for _, l := range c.setLinks {
		links[l[0]] = l[1]
	}
	for i, r := range c.rules {
		f := 1
		if r.pass {
			f = 0
		}
		lg := 0
		if r.log {
			lg = 1
		}
		add(fmt.Sprintf("ipf rule %d %d -e 1 -D %d -I \"e all\" -O \"e all\" -s \"%s\" -d \"%s\" -S \"%s\" -F \"%d %d\" -N 0 -M %s",
			r.set, r.rule, r.dir, r.src, r.dst, r.svc, f, lg, r.comment))
		if next, ok := links[r.set]; ok && (i+1 == len(c.rules) || c.rules[i+1].set != r.set) {
			add(fmt.Sprintf("ipf set %d -n %d", r.set, next))
		}
	}
	for _, e := range c.portmaps {
		add(fmt.Sprintf("srv nat portmap add %d %s %s %d %d %d %s %d wan%d 1",
			e.idx, shortToken(fmt.Sprintf("vw%s%d", strings.ToUpper(e.svc.Proto.String()), e.svc.Ports.First), maxName),
			e.svc.Proto, e.svc.Ports.First, e.srcType, e.srcIdx, e.addr, e.svc.Ports.First, c.wanIdx))
	}
	for _, e := range c.openports {
		add(fmt.Sprintf("srv nat openport %d 1 -a 1 -c %s -i %s -w %d 1 -p %s -s %d -e %d -l %d -g %d",
			e.idx, shortToken(fmt.Sprintf("vw%s%s", strings.ToUpper(e.svc.Proto.String()), e.svc.Ports), maxOpenComm),
			e.addr, c.wanIdx, strings.ToUpper(e.svc.Proto.String()), e.svc.Ports.First, e.svc.Ports.Last, e.srcIdx, e.srcType))
	}
	body = append(body, c.vlanLines...)
	body = append(body, c.dosLines...)
	add("sys commit")

	var b strings.Builder
	for _, h := range c.header() {
		b.WriteString("#")
		if h != "" {
			b.WriteString(" " + commentSafe(h))
		}
		b.WriteString("\n")
	}
	for _, l := range body {
		b.WriteString(l)
		b.WriteString("\n")
	}
	return b.String()
}

// HeaderEnd is the last line of the header block.
const HeaderEnd = "end of voicewall header: everything below is Vigor CLI commands"

func (c *compiler) header() []string {
	h := []string{
		"voicewall: DrayTek Vigor telnet/SSH command script, generated from policy " + filepath.Base(filepath.Clean(c.p.Root)),
		"Comment lines start with '#'. The Vigor CLI has no documented comment syntax:",
		"remove them before pasting, e.g.  grep -v '^#' draytek.txt",
		"Checked against the Vigor3912 UG Part VIII (fw 4.3.5.1) and fw 4.4.7_RC2 live help;",
		"other models and firmware lines are unverified. Use indexes that hold nothing of yours.",
		"",
		"This script OVERWRITES these indexes:",
	}
	idx := func(label string, n []int) {
		if len(n) > 0 {
			h = append(h, "  "+label+": "+ranges(n))
		}
	}
	idx("object ip obj", indexes(c.obj4, func(o *ipObj) int { return o.idx }))
	idx("object ip grp", indexes(c.grp4, func(g *ipGrp) int { return g.idx }))
	idx("object ipv6 obj", indexes(c.obj6, func(o *ipObj) int { return o.idx }))
	idx("object ipv6 grp", indexes(c.grp6, func(g *ipGrp) int { return g.idx }))
	idx("object service obj", indexes(c.svcs, func(s *svcObj) int { return s.idx }))
	idx("object service grp", indexes(c.svcGrps, func(g *svcGrp) int { return g.idx }))
	bySet := map[int][]int{}
	var setsUsed []int
	for _, r := range c.rules {
		if _, ok := bySet[r.set]; !ok {
			setsUsed = append(setsUsed, r.set)
		}
		bySet[r.set] = append(bySet[r.set], r.rule)
	}
	for _, s := range setsUsed {
		idx(fmt.Sprintf("ipf rule %d", s), bySet[s])
	}
	idx("ipf set (next filter set)", indexes(c.setLinks, func(l [2]int) int { return l[0] }))
	natIdx := func(e *natEntry) int { return e.idx }
	idx("srv nat portmap", indexes(c.portmaps, natIdx))
	idx("srv nat openport (sub-item 1)", indexes(c.openports, natIdx))
	idx("vlan channel", c.vlanChans)
	idx("msubnet LAN", c.lans)
	// Router-wide settings are not indexes of voicewall's: whatever the
	// admin had there is replaced for every interface and host.
	h = append(h, "", "This script also OVERWRITES these router-wide settings:",
		"  sys sip_alg -e 0: SIP ALG off")
	if len(c.dosLines) > 0 {
		h = append(h, "  DoS defence (all interfaces and hosts): "+strings.Join(c.dosLines, "; "))
	}

	h = append(h, backends.Listing("NOT ENFORCED on this Vigor:", c.Gaps.Lines, nil)...)
	notes := append(slices.Clip(c.notes),
		"every rule's source and destination fill slot 1 of the rule's object/group list (-s \"o 1 N\", UG pp. 636-637, where 0 means none). Whether writing slot 1, or \"u 2\" (any), clears objects an overwritten rule held in its other slots is not documented: give voicewall rule indexes that are empty.")
	for _, r := range c.rules {
		v6 := strings.HasPrefix(r.src, "o6 ") || strings.HasPrefix(r.src, "g6 ") || strings.HasPrefix(r.dst, "o6 ") || strings.HasPrefix(r.dst, "g6 ")
		if v6 && (r.src == "u 2" || r.dst == "u 2") {
			notes = append(notes, "IPv6 rules use \"u 2\" for their any side: address type 2 (Any Address) takes no address and so no family, and the UG documents no IPv6 user-defined form (pp. 636-637). Unconfirmed on a device that it matches IPv6 packets: after pasting, check that an IPv6 packet the policy drops is dropped.")
			break
		}
	}
	h = append(h, backends.Listing("Notes:", notes, nil)...)
	if len(c.rules) > 0 {
		h = append(h, "", "Filter rules (the policy's order; first match wins):")
		for _, r := range c.rules {
			h = append(h, fmt.Sprintf("  ipf rule %d %d: %s", r.set, r.rule, r.about))
		}
	}
	if len(c.portmaps)+len(c.openports) > 0 {
		h = append(h, "", "Port forwards to the PBX:")
		for _, e := range c.portmaps {
			h = append(h, fmt.Sprintf("  srv nat portmap %d: %s -> %s from %s %d [%s]", e.idx, e.svc, e.addr, srcTypeName(e.srcType), e.srcIdx, commentSafe(e.rules[0].Origin.String())))
		}
		for _, e := range c.openports {
			h = append(h, fmt.Sprintf("  srv nat openport %d: %s -> %s from %s %d [%s]", e.idx, e.svc, e.addr, srcTypeName(e.srcType), e.srcIdx, commentSafe(e.rules[0].Origin.String())))
		}
	}
	if len(c.obj4)+len(c.obj6) > 0 && len(c.obj4)+len(c.obj6) <= 64 {
		h = append(h, "", "Address objects:")
		for _, o := range c.obj4 {
			h = append(h, fmt.Sprintf("  object ip obj %d %s = %s (%s)", o.idx, o.name, o.r, o.set))
		}
		for _, o := range c.obj6 {
			h = append(h, fmt.Sprintf("  object ipv6 obj %d %s = %s (%s)", o.idx, o.name, o.r, o.set))
		}
	}
	h = append(h, "", HeaderEnd)
	return h
}

// indexes maps items to their table indexes.
func indexes[T any](items []T, idx func(T) int) []int {
	var out []int
	for _, it := range items {
		out = append(out, idx(it))
	}
	return out
}

func srcTypeName(t int) string {
	if t == 1 {
		return "ip grp"
	}
	return "ip obj"
}

// v4Addr is the -a argument of an IPv4 object: 1 single, 0 subnet+mask, 3 range.
func v4Addr(r netipx.IPRange) string {
	if r.From() == r.To() {
		return "1 " + r.From().String()
	}
	if p, ok := r.Prefix(); ok {
		return "0 " + p.Addr().String() + " " + net.IP(net.CIDRMask(p.Bits(), 32)).String()
	}
	return "3 " + r.From().String() + " " + r.To().String()
}

func joinInts(n []int) string {
	s := make([]string, len(n))
	for i, x := range n {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, " ")
}

// ranges prints sorted indexes compactly: "1-4,7".
func ranges(n []int) string {
	n = append([]int(nil), n...)
	sort.Ints(n)
	var parts []string
	for i := 0; i < len(n); {
		j := i
		for j+1 < len(n) && n[j+1] == n[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(n[i]))
		} else {
			parts = append(parts, strconv.Itoa(n[i])+"-"+strconv.Itoa(n[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
