// Package fortigate renders a lang.Policy as a FortiOS CLI script
// (fortigate.conf): config/edit/set/next/end blocks an admin pastes into the
// CLI in one go, idempotent when pasted twice.
//
// What the script owns: objects and policies whose names start with "vw-",
// the firewall policies it lists by id, local-in and DoS policies in its id
// ranges, and the VoIP ALG settings of `config system settings`.
package fortigate

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"go4.org/netipx"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

const (
	target = "fortigate"
	// FileName is the main output file.
	FileName = "fortigate.conf"

	// Name limits. FortiOS 7.x allows 79 characters for address, VIP and
	// service names; FortiOS 6.0 documents size[63] for service names, so
	// every object name stays within 63 to paste on all supported releases.
	maxObjectName    = 63
	maxPolicyName    = 35 // firewall policy / DoS-policy name
	maxInterfaceName = 15
	maxComment       = 255  // address/service/vip comment
	maxPolicyComment = 1023 // policy comments

	// A blocklist with more merged ranges than this becomes an external
	// threat feed instead of address objects (FortiGate models have per-VDOM
	// address table limits in the low thousands).
	externalThreshold = 5000
	// Address groups are split into sub-groups of at most this many members.
	groupMax = 500

	policyIDBase  = 1000000 // firewall policy ids: 1000000..1999999, hashed from the rule id
	policyIDSpan  = 1000000
	localInIDBase = 3100 // local-in-policy(6) ids: sequential from here
	dosIDBase     = 9100 // DoS-policy(6) ids: sequential from here (DoS ids are 0..9999)
	feedRefresh   = 60   // threat feed refresh, minutes
)

// Compile renders the policy for FortiOS.
func Compile(p *lang.Policy, opts backends.Options) (*backends.Output, hcl.Diagnostics) {
	c := newCompiler(p, opts)
	if !c.setup() || !c.readBase() {
		return nil, c.Diags
	}
	c.plan()
	c.planSIPHelper()
	if c.Diags.HasErrors() {
		return nil, c.Diags
	}
	script := c.render()
	if c.base != nil {
		// The deletes are what the base owns and this script does not.
		if err := c.planStale(script); err != nil {
			c.Errorf(c.t.Origin, "internal error", "%v", err)
			return nil, c.Diags
		}
		script = c.render()
	}
	return c.Done(backends.File{Name: FileName, Data: []byte(script)}, c.feedFiles...)
}

type compiler struct {
	p     *lang.Policy
	opts  backends.Options
	t     *lang.Target
	ver   fosVersion
	vdom  string
	wanIP string
	// wanIP6 is the WAN's IPv6 address (wan_address6): a vip6 has no
	// extintf and no "address of the interface" shorthand, so IPv6 port
	// forwards need it spelled out. "" means none: the address6 gap.
	wanIP6 string
	backends.Report

	objNames  *backends.Namer // address, address6, addrgrp(6), vip, external-resource share one table
	svcNames  *backends.Namer
	polNames  *backends.Namer
	ifNames   *backends.Namer
	policyIDs *backends.StableIDs
	localIDs  [2]seqAlloc // v4, v6 tables
	dosIDs    [2]seqAlloc

	ifaces    []*vlanIface
	zoneIf    map[string]string
	addrs     map[bool][]*address // v6 → objects
	groups    map[bool][]*addrGroup
	refDone   map[string]bool
	refGroup  map[string]string // ref name + family → group (or feed) name
	feeds     []*feed
	feedFiles []backends.File
	svcList   []*service
	svcByKey  map[string]*service
	vips      []*vip
	vips6     []*vip
	policies  []*policy
	localIn   []*localIn
	localIn6  []*localIn
	dos       []*dosPolicy
	dos6      []*dosPolicy
	notes     []string // informational header lines
	actions   []string // what the admin must do by hand (header, top)
	// sipHelperIDs are the session-helper entries to delete; sipHelperWhy
	// says where the ids come from (or why there is nothing to delete).
	sipHelperIDs []string
	sipHelperWhy string
	base         *baseConfig   // --base: the FortiGate's configuration, nil without
	stale        []staleDelete // deletes of what base owns and this policy no longer has
	staleIfs     []string      // voice VLAN interfaces base has and this policy no longer has
	usedMarks    map[*lang.Rule]bool
	noted        map[string]bool
}

func newCompiler(p *lang.Policy, opts backends.Options) *compiler {
	return &compiler{
		p: p, opts: opts, Report: backends.NewReport(p, &langSpec, opts),
		objNames:  newNamer(maxObjectName),
		svcNames:  newNamer(maxObjectName),
		polNames:  newNamer(maxPolicyName),
		ifNames:   newNamer(maxInterfaceName),
		policyIDs: backends.NewStableIDs(policyIDBase, policyIDSpan),
		localIDs:  [2]seqAlloc{{next: localInIDBase}, {next: localInIDBase}},
		dosIDs:    [2]seqAlloc{{next: dosIDBase}, {next: dosIDBase}},
		zoneIf:    map[string]string{},
		addrs:     map[bool][]*address{},
		groups:    map[bool][]*addrGroup{},
		refDone:   map[string]bool{},
		refGroup:  map[string]string{},
		svcByKey:  map[string]*service{},
	}
}

// ---------------------------------------------------------------- objects

type vlanIface struct {
	name, parent string
	id           uint16
	ip4          netip.Prefix // gateway address/len, invalid: none
	ip6          netip.Prefix
	comment      string
}

type address struct {
	name    string
	v6      bool
	rng     netipx.IPRange
	comment string
}

type addrGroup struct {
	name    string
	v6      bool
	members []string
	comment string
}

type feed struct {
	name, url, file, comment string
}

type service struct {
	name    string
	proto   lang.Proto
	item    string // dst[:src] port range item
	comment string
}

type vip struct {
	name, extintf, extip, mapped, proto, ports string
	srcFilter                                  []string
	comment                                    string
}

type policy struct {
	id                         int
	name                       string
	srcintf, dstintf           []string
	srcaddr, dstaddr           []string
	srcaddr6, dstaddr6         []string
	action                     string
	service                    []string
	matchVIP, nat, fixedport   bool
	logtraffic                 string
	dscp                       string // 6-bit binary, "" none
	comment                    string
	srcIsProvider, isVIPAccept bool
}

type localIn struct {
	id               int
	intf             string
	srcaddr, dstaddr []string
	action           string
	service          []string
	log              bool
	comment          string
}

type dosPolicy struct {
	id        int
	name      string
	intf      string
	service   []string
	anomalies []anomaly
	comment   string
}

type anomaly struct {
	name      string
	threshold int
	log       bool
}

// ---------------------------------------------------------------- setup

var (
	vdomRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,31}$`)
	urlRe  = regexp.MustCompile(`^https?://[^\s"'<>\\]+$`)
)

func originText(o lang.Origin) string { return text(o.String(), 200) }

func (c *compiler) setup() bool {
	c.t = c.p.Target(&langSpec)
	to := c.t.Origin
	for _, f := range []struct{ attr, v string }{{"wan", c.t.WAN}, {"lan", c.t.LAN}} {
		if !safeString(f.v) || len(f.v) > maxInterfaceName || strings.ContainsRune(f.v, ' ') {
			c.Errorf(to, "bad interface name", "target %q %s = %q is not a FortiOS interface name (1-%d characters, none of %s, no spaces).", target, f.attr, f.v, maxInterfaceName, forbidden)
		}
	}
	vs := c.t.Extra["version"]
	if vs == "" {
		vs = DefaultVersion
	}
	v, err := parseVersion(vs)
	if err != nil {
		c.Errorf(to, "bad version", "%v", err)
	}
	c.ver = v
	if s, has := c.t.Extra["sip_helper_index"]; has {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n == 0 || strconv.FormatUint(n, 10) != s {
			c.Errorf(to, "bad sip_helper_index", "sip_helper_index = %q must be the id of the SIP entry in \"config system session-helper\" (a positive integer).", s)
		}
	}
	if u, has := c.t.Extra["blocklist_url"]; has && !urlRe.MatchString(u) {
		c.Errorf(to, "bad blocklist_url", "blocklist_url = %q must be an http:// or https:// URL without spaces or any of %s.", u, forbidden)
	}
	c.wanIP = "0.0.0.0" // with extintf set, 0.0.0.0 means "the external interface's address"
	if s, has := c.t.Extra["wan_ip"]; has {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() || a.IsUnspecified() {
			c.Errorf(to, "bad wan_ip", "wan_ip = %q must be the IPv4 address of the WAN interface that port forwards (VIPs) listen on.", s)
		} else {
			c.wanIP = a.String()
		}
	}
	if s, has := c.t.Extra["wan_address6"]; has {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() || a.Is4In6() || a.IsUnspecified() || a.IsLinkLocalUnicast() || a.Zone() != "" || a.IsMulticast() {
			c.Errorf(to, "bad wan_address6", "wan_address6 = %q must be the global IPv6 address of the WAN interface that IPv6 port forwards (vip6) listen on, e.g. \"2001:db8::1\".", s)
		} else {
			c.wanIP6 = a.String()
		}
	}
	if s, has := c.t.Extra["vdom"]; has {
		if !vdomRe.MatchString(s) {
			c.Errorf(to, "bad vdom", "vdom = %q is not a FortiOS VDOM name ([0-9A-Za-z_-], at most 31 characters).", s)
		}
		c.vdom = s
	}
	if c.Diags.HasErrors() {
		return false
	}
	c.zoneIf[lang.ZoneWAN] = c.t.WAN
	c.zoneIf[lang.ZoneLAN] = c.t.LAN
	for _, v := range c.p.VoiceVLANs {
		if !safeString(v.Name) {
			c.Errorf(v.Origin, "unsafe name", "voice_vlan name %q cannot be carried in FortiOS strings.", v.Name)
			continue
		}
		name := c.ifNames.Name(v.Name, "vw-"+v.Name)
		parent := c.t.LAN
		if v.Parent == lang.ZoneWAN {
			parent = c.t.WAN
		}
		vi := &vlanIface{name: name, parent: parent, id: v.ID, comment: "voicewall: " + originText(v.Origin)}
		vi.ip4, _ = v.Gateway(false)
		vi.ip6, _ = v.Gateway(true)
		c.ifaces = append(c.ifaces, vi)
		c.zoneIf[v.Name] = name
	}
	return !c.Diags.HasErrors()
}
