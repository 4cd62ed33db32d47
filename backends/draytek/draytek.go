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
	"net/netip"
	"regexp"
	"strconv"

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
	wanIndex   int // 0: derive from the target's wan name
	objBase    int // first IPv4 and IPv6 object index
	grpBase    int // first IPv4/IPv6 IP group index
	svcGrpBase int // first service group index (group_base as written: no placeholder there)
	svcBase    int // first service object index
	filterSet  int // filter set voicewall's rules start in
	ruleBase   int // first rule index in that set
	natBase    int // first port redirection index and open-port profile
	vlanBase   int // first VLAN channel
	lanBase    int // LAN subnet of the first voice VLAN
}

var defaultConfig = config{objBase: 1, grpBase: 1, svcBase: 1, filterSet: 2, ruleBase: 1, natBase: 1, vlanBase: 1, lanBase: 2}

// Compile renders p for a DrayTek Vigor. Capability gaps are errors unless
// opts.AllowDegraded; then they are warnings and the header says what is not
// enforced. The output is nil when the diagnostics hold an error.
func Compile(p *lang.Policy, opts backends.Options) (*backends.Output, hcl.Diagnostics) {
	c := &compiler{p: p, opts: opts, t: p.Target(&langSpec), Report: backends.NewReport(p, &langSpec, opts)}
	if opts.Base != nil {
		// Refused rather than ignored: a script "compiled against" a base
		// it never read would be trusted to fit the router.
		c.Errorf(c.t.Origin, "--base is not supported for DrayTek", "the Vigor's own backup (.cfg) is binary and a command script does not say what the router holds, so voicewall cannot merge into one (this --base looks like %s). Compile without --base; the script addresses objects, groups, services, filter rules and NAT entries by index: set object_base, group_base, service_base, filter_set, rule_base, nat_base and vlan_base in target \"draytek\" to indexes the router does not use (list them with object ip obj N -v, ipf rule SET N -v, srv nat showall).", backends.LooksLike(opts.Base))
		return nil, c.Diags
	}
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
	dosPlanned bool

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
	// Index 1 of the IP object and group tables (IPv4 and IPv6) is the
	// never-matching placeholder: see neverIndex.
	c.cfg.svcGrpBase = c.cfg.grpBase
	c.cfg.objBase = max(c.cfg.objBase, neverIndex+1)
	c.cfg.grpBase = max(c.cfg.grpBase, neverIndex+1)
}

// neverIndex is the object and group index voicewall reserves in each IP
// table as a placeholder that matches no packet. The Vigor3912 UG gives
// `-s "o <field> <obj>"` as a slot and an object (its syntax), but its own
// example says `-s "o 1 2"` means objects 1 and 2 (a list). Every reference
// voicewall writes is "<kind> 1 N": read as a slot, slot 1 holds N; read
// as a list, it is {1, N}, and with 1 matching nothing that is again N. So
// the rules mean the same under both readings.
const neverIndex = 1

// The placeholder's addresses: reserved ranges no packet carries, as
// source or destination. 240.0.0.0/4 is "Reserved" (RFC 1112 section 4,
// RFC 6890); 100::/64 is the IPv6 discard-only block (RFC 6666).
var (
	never4 = netip.MustParseAddr("240.0.0.1")
	never6 = netip.MustParseAddr("100::1")
)

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
