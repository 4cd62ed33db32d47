package fortigate

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/voicewall/voicewall/devmodel"
	"go4.org/netipx"
)

// ReadDevice reads a FortiGate configuration into the device model.
func ReadDevice(file string, src []byte) (*devmodel.Device, error) {
	t, err := readTree(file, src)
	if err != nil {
		return nil, err
	}
	if len(t.blocks) == 0 {
		// A config.xml or a Vigor script given to the wrong --target
		// would otherwise audit "clean".
		return nil, fmt.Errorf("%s:1: no config ... end block: is this a FortiGate configuration (a backup or show output)?", file)
	}
	l := &lowerer{t: t, d: &devmodel.Device{File: file, Target: "fortigate", DefaultForward: devmodel.Drop, DefaultLocal: devmodel.Drop},
		addr4: map[string]*cfgEntry{}, addr6: map[string]*cfgEntry{}, grp4: map[string]*cfgEntry{}, grp6: map[string]*cfgEntry{},
		svc: map[string]*cfgEntry{}, svcGrp: map[string]*cfgEntry{}, vips: map[string]bool{}, vipGrp: map[string][]string{}, zones: map[string][]string{},
		groups: map[groupKey]*groupSet{}, cycles: map[groupKey]bool{}, svcGroups: map[string]*svcGroup{}}
	l.index()
	l.modes()
	l.interfaces()
	l.helpers()
	l.forwards()
	l.policies()
	l.limits()
	return l.d, nil
}

// modes reads the settings that change how VIPs meet the policies.
//
// Central NAT (config system settings / set central-nat enable) and NGFW
// policy-based mode (set ngfw-mode policy-based, which turns central NAT on
// by itself) apply every VIP before the policy lookup without the VIP being
// named in a policy: "Virtual IPs do not need to be explicitly placed into
// policies for the address/port translation to take effect ... all policies
// are expected to be based on the post-NAT address of the Virtual IP (i.e.,
// the real private IP of the host)" (Fortinet Community, "Technical Tip: How
// to configure port forwarding/Virtual IPs when using NGFW policy-based
// mode", ta-p/251572; the same for central NAT: "Technical Tip: FortiOS
// Destination NAT (DNAT) logic when Central NAT is not in use", ta-p/362148,
// and FortiOS's central DNAT). Every policy then matches a VIP's packets by
// the mapped address its dstaddr holds (Rule.MatchForwarded), as pf's rules
// after rdr.
//
// In NGFW policy-based mode the forwarding verdict is also the security
// policies' (config firewall security-policy: "administrators must ensure
// that traffic is allowed in two separate policy sections"), which this
// reader does not read: the device is marked Unmodelled.
func (l *lowerer) modes() {
	for _, b := range l.t.find("system settings") {
		if v, ok := b.settings["central-nat"]; ok && len(v.vals) > 0 && v.vals[0] == "enable" {
			l.centralNAT = true
			l.centralLine = v.line
		}
		if v, ok := b.settings["ngfw-mode"]; ok && len(v.vals) > 0 && v.vals[0] == "policy-based" {
			l.centralNAT = true
			l.centralLine = v.line
			what := "ngfw-mode policy-based: the security policies (config firewall security-policy) decide what is forwarded, after the SSL inspection & authentication policies (config firewall policy) audit reads"
			if n := len(l.entries("firewall security-policy")); n > 0 {
				what += fmt.Sprintf("; the %d security policies are not read", n)
			}
			l.d.Unmodelled = append(l.d.Unmodelled, devmodel.Setting{Loc: l.loc(v.line), What: what})
		}
	}
}

type svcGroup struct {
	svcs      []devmodel.Service
	all, busy bool
}

type lowerer struct {
	t            *cfgTree
	d            *devmodel.Device
	addr4, addr6 map[string]*cfgEntry
	grp4, grp6   map[string]*cfgEntry
	svc, svcGrp  map[string]*cfgEntry
	vips         map[string]bool
	vipGrp       map[string][]string
	zones        map[string][]string    // zone or SD-WAN zone -> member interfaces
	wanHints     map[string]bool        // VIP extintf, NAT policy dstintf
	groups       map[groupKey]*groupSet // resolved address groups
	cycles       map[groupKey]bool      // groups noted as containing themselves
	svcGroups    map[string]*svcGroup   // resolved service groups
	// vip6In: a vip6 has no extintf (it listens on its extip wherever
	// that arrives); the traffic it translates is taken only by the
	// policies naming it, so it is reachable from their srcintf.
	vip6In map[string][]string
	// centralNAT: VIPs apply before the policy lookup without being named
	// in a policy (modes); centralLine says where.
	centralNAT  bool
	centralLine int
	// vipUsed: the VIPs a policy names (directly or through a VIP group)
	vipUsed map[string]bool
}

func (l *lowerer) entries(path string) []*cfgEntry {
	var out []*cfgEntry
	for _, b := range l.t.find(path) {
		out = append(out, b.ordered()...)
	}
	return out
}

func (l *lowerer) index() {
	for path, m := range map[string]map[string]*cfgEntry{
		"firewall address": l.addr4, "firewall address6": l.addr6, "firewall addrgrp": l.grp4, "firewall addrgrp6": l.grp6,
		"firewall service custom": l.svc, "firewall service group": l.svcGrp,
	} {
		for _, e := range l.entries(path) {
			m[e.key] = e
		}
	}
	l.wanHints = map[string]bool{}
	for _, e := range append(l.entries("firewall vip"), l.entries("firewall vip6")...) {
		l.vips[e.key] = true
		for _, i := range val(e, "extintf") {
			l.wanHints[i] = true
		}
	}
	for _, e := range append(l.entries("firewall vipgrp"), l.entries("firewall vipgrp6")...) {
		l.vipGrp[e.key] = val(e, "member")
	}
	l.vipUsed = map[string]bool{}
	for _, path := range []string{"firewall policy", "firewall policy6"} {
		for _, e := range l.entries(path) {
			for _, n := range append(val(e, "dstaddr"), val(e, "dstaddr6")...) {
				l.vipUsed[n] = true
				for _, v := range l.vipGrp[n] {
					l.vipUsed[v] = true
				}
			}
		}
	}
	l.vip6In = map[string][]string{}
	for _, path := range []string{"firewall policy", "firewall policy6"} {
		field := "dstaddr6"
		if path == "firewall policy6" {
			field = "dstaddr"
		}
		for _, e := range l.entries(path) {
			for _, n := range val(e, field) {
				for _, v := range append([]string{n}, l.vipGrp[n]...) {
					for _, i := range val(e, "srcintf") {
						if !slices.Contains(l.vip6In[v], i) {
							l.vip6In[v] = append(l.vip6In[v], i)
						}
					}
				}
			}
		}
	}
	for _, e := range l.entries("firewall policy") {
		if first(e, "nat") == "enable" {
			for _, i := range val(e, "dstintf") {
				l.wanHints[i] = true
			}
		}
	}
	// the interface carrying the default route faces the Internet, whatever
	// its role or name (dst defaults to 0.0.0.0 0.0.0.0, so `show` omits it)
	for _, path := range []string{"router static", "router static6"} {
		for _, e := range l.entries(path) {
			if first(e, "status") == "disable" || first(e, "blackhole") == "enable" {
				continue
			}
			if d := val(e, "dst"); len(d) == 0 || isDefaultRoute(d) {
				for _, i := range val(e, "device") {
					l.wanHints[i] = true
				}
			}
		}
	}
	delete(l.wanHints, "any")
	for _, e := range l.entries("system zone") {
		l.zones[e.key] = val(e, "interface")
	}
	for _, b := range append(l.t.find("system sdwan"), l.t.find("system virtual-wan-link")...) {
		var members []string
		for _, s := range b.subs {
			if s.path == "members" {
				for _, e := range s.entries {
					members = append(members, val(e, "interface")...)
				}
			}
		}
		l.zones["virtual-wan-link"] = members
		for _, s := range b.subs {
			if s.path == "zone" {
				for _, e := range s.entries {
					l.zones[e.key] = members // members name their zone; all are WAN-side
				}
			}
		}
	}
}

func val(e *cfgEntry, k string) []string { return e.attrs[k].vals }

func first(e *cfgEntry, k string) string {
	if v := e.attrs[k].vals; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (l *lowerer) loc(line int) devmodel.Loc { return l.t.loc(line) }

var wanName = regexp.MustCompile(`^(wan[0-9]*|virtual-wan-link)$`)

var adminPorts = map[string]struct {
	proto uint8
	port  uint16
}{"https": {devmodel.TCP, 443}, "http": {devmodel.TCP, 80}, "ssh": {devmodel.TCP, 22}, "telnet": {devmodel.TCP, 23},
	"snmp": {devmodel.UDP, 161}}

func (l *lowerer) interfaces() {
	for _, e := range l.entries("system interface") {
		i := &devmodel.Interface{Loc: l.loc(e.line), Name: e.key, Role: first(e, "role"), Parent: first(e, "interface")}
		if i.Role == "undefined" || i.Role == "dmz" {
			i.Role = "lan"
		}
		if i.Role == "" {
			// `show` omits a default role: an Internet-facing port is
			// named wan*, takes its address from the ISP, or is where
			// VIPs listen and outbound NAT leaves
			i.Role = "lan"
			if wanName.MatchString(e.key) || first(e, "mode") == "dhcp" || first(e, "mode") == "pppoe" || l.wanHints[e.key] {
				i.Role = "wan"
			}
		}
		if v, err := strconv.Atoi(first(e, "vlanid")); err == nil {
			i.VLAN = uint16(v)
		}
		if ip := val(e, "ip"); len(ip) > 0 {
			if p, ok := ipmask(ip); ok {
				i.Subnets = append(i.Subnets, p.Masked())
			}
		}
		access := []cfgValue{e.attrs["allowaccess"]}
		for _, sub := range e.subs {
			if sub.path == "ipv6" {
				access = append(access, sub.settings["ip6-allowaccess"])
			}
		}
		for k, a := range access {
			trusted := ""
			if line := l.adminsRestricted(k > 0); line > 0 {
				trusted = fmt.Sprintf("every administrator of config system admin (line %d) has trusted hosts", line)
			}
			for _, s := range a.vals {
				if p, ok := adminPorts[s]; ok {
					i.Admin = append(i.Admin, devmodel.Exposure{Loc: l.loc(a.line), Service: s, Proto: p.proto, Ports: devmodel.PortsOf(p.port, p.port), Restricted: trusted})
				}
			}
		}
		l.d.Interfaces = append(l.d.Interfaces, i)
	}
	// interfaces the configuration names as WAN (a VIP's extintf, the
	// default route's device) without declaring them: a script or a
	// partial backup
	var hinted []string
	for n := range l.wanHints {
		if l.d.Interface(n) == nil && l.zones[n] == nil {
			hinted = append(hinted, n)
		}
	}
	slices.Sort(hinted)
	for _, n := range hinted {
		l.d.Interfaces = append(l.d.Interfaces, &devmodel.Interface{Name: n, Role: "wan"})
	}
	for z, members := range l.zones {
		role := "lan"
		for _, m := range members {
			if l.d.IsWAN(m) {
				role = "wan"
			}
		}
		if z == "virtual-wan-link" {
			role = "wan"
		}
		if l.d.Interface(z) == nil {
			l.d.Interfaces = append(l.d.Interfaces, &devmodel.Interface{Name: z, Role: role})
		}
	}
}

// isDefaultRoute: a static route's dst is 0.0.0.0/0 or ::/0.
func isDefaultRoute(dst []string) bool {
	p, ok := ipmask(dst)
	return ok && p.Bits() == 0
}

// adminsRestricted: every administrator account may log in only from its
// trusted hosts (FortiOS then answers management from no other address:
// web UI, SSH, telnet, ping, SNMP); v6 for ip6-trusthost1..10. One account
// without a trusted host (or with 0.0.0.0/0) leaves the login page open to
// everyone. Returns the line of the admin table, 0 when not restricted.
func (l *lowerer) adminsRestricted(v6 bool) int {
	admins := l.entries("system admin")
	if len(admins) == 0 {
		return 0
	}
	prefix := "trusthost"
	if v6 {
		prefix = "ip6-trusthost"
	}
	for _, e := range admins {
		restricted := false
		for n := 1; n <= 10; n++ {
			v, ok := e.attrs[prefix+strconv.Itoa(n)]
			if !ok {
				continue
			}
			if p, ok := ipmask(v.vals); ok && p.Bits() > 0 {
				restricted = true
			}
		}
		if !restricted {
			return 0
		}
	}
	return admins[0].line
}

// ipmask reads `A M` or `A/len`.
func ipmask(v []string) (netip.Prefix, bool) {
	if len(v) == 1 {
		p, err := netip.ParsePrefix(v[0])
		return p, err == nil
	}
	if len(v) < 2 {
		return netip.Prefix{}, false
	}
	a, err1 := netip.ParseAddr(v[0])
	m, err2 := netip.ParseAddr(v[1])
	if err1 != nil || err2 != nil || !a.Is4() || !m.Is4() {
		return netip.Prefix{}, false
	}
	b := m.As4()
	bits := 0
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	for n&0x80000000 != 0 {
		bits++
		n <<= 1
	}
	if n != 0 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, bits), true
}

func (l *lowerer) helpers() {
	for _, b := range l.t.find("system settings") {
		v, ok := b.settings["default-voip-alg-mode"]
		if !ok {
			// `show` omits defaults, and proxy-based (the SIP ALG) is the default
			l.d.SIPHelpers = append(l.d.SIPHelpers, devmodel.Setting{Loc: l.loc(b.line), What: "config system settings without default-voip-alg-mode (FortiOS's default is proxy-based, the SIP ALG)"})
		}
		if ok {
			s := devmodel.Setting{Loc: l.loc(v.line), What: "default-voip-alg-mode " + strings.Join(v.vals, " ")}
			if len(v.vals) > 0 && v.vals[0] == "kernel-helper-based" {
				l.d.SIPHelperOff = append(l.d.SIPHelperOff, s)
			} else {
				l.d.SIPHelpers = append(l.d.SIPHelpers, s)
			}
		}
	}
	for _, e := range l.entries("system session-helper") {
		if first(e, "name") == "sip" {
			l.d.SIPHelpers = append(l.d.SIPHelpers, devmodel.Setting{Loc: l.loc(e.line), Index: e.key,
				What: "session-helper " + e.key + " (name sip, protocol " + first(e, "protocol") + ", port " + first(e, "port") + ")"})
		}
	}
}

// addrSet resolves address and group names of one family; "all" is the
// whole family. Unknown names (FQDN, geography, dynamic) leave the set
// unresolved.
func (l *lowerer) addrSet(names []string, v6 bool, b *netipx.IPSetBuilder, depth int) (unresolved bool) {
	addrs, grps := l.addr4, l.grp4
	if v6 {
		addrs, grps = l.addr6, l.grp6
	}
	for _, n := range names {
		switch {
		case n == "all" || n == "any":
			if v6 {
				b.AddPrefix(netip.MustParsePrefix("::/0"))
			} else {
				b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
			}
		case n == "none":
		case addrs[n] != nil:
			if !addrEntry(addrs[n], v6, b) {
				unresolved = true
			}
		case grps[n] != nil && depth < maxGroupDepth:
			s, u := l.group(n, grps[n], v6, depth)
			unresolved = unresolved || u
			b.AddSet(s)
		default:
			unresolved = true
		}
	}
	return unresolved
}

// maxGroupDepth bounds group nesting (a group in a group ...); deeper
// members are read as unresolved. Groups are memoized, so the bound is
// for the stack, not for time.
const maxGroupDepth = 64

type groupKey struct {
	name string
	v6   bool
}

type groupSet struct {
	set        *netipx.IPSet
	unresolved bool
	busy       bool // being resolved: meeting it again is a cycle
}

// group resolves an address group once (memoized: a group named by many
// groups, nested many levels deep, costs its members once, not once per
// path to it); a group that contains itself is noted and unresolved.
func (l *lowerer) group(name string, g *cfgEntry, v6 bool, depth int) (*netipx.IPSet, bool) {
	k := groupKey{name, v6}
	if m := l.groups[k]; m != nil {
		if m.busy {
			if !l.cycles[k] {
				l.cycles[k] = true
				l.d.Notef(l.loc(g.line), "address group %s contains itself (through its members): FortiOS refuses such a group; it is read as unresolved", name)
			}
			return &netipx.IPSet{}, true
		}
		return m.set, m.unresolved
	}
	m := &groupSet{busy: true}
	l.groups[k] = m
	var inner netipx.IPSetBuilder
	u := l.addrSet(val(g, "member"), v6, &inner, depth+1)
	if first(g, "exclude") == "enable" {
		var ex netipx.IPSetBuilder
		l.addrSet(val(g, "exclude-member"), v6, &ex, depth+1)
		exs, _ := ex.IPSet()
		inner.RemoveSet(exs)
	}
	m.set, _ = inner.IPSet()
	m.unresolved, m.busy = u, false
	return m.set, u
}

func addrEntry(e *cfgEntry, v6 bool, b *netipx.IPSetBuilder) bool {
	if v6 {
		if p, err := netip.ParsePrefix(first(e, "ip6")); err == nil {
			b.AddPrefix(p.Masked())
			return true
		}
		if first(e, "type") == "iprange" {
			return addRange(first(e, "start-ip"), first(e, "end-ip"), b)
		}
		if _, ok := e.attrs["ip6"]; !ok && first(e, "type") == "" {
			b.AddPrefix(netip.MustParsePrefix("::/0")) // ip6 defaults to ::/0
			return true
		}
		return false
	}
	switch first(e, "type") {
	case "", "ipmask":
		if _, ok := e.attrs["subnet"]; !ok {
			b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0")) // subnet defaults to 0.0.0.0 0.0.0.0
			return true
		}
		if p, ok := ipmask(val(e, "subnet")); ok {
			b.AddPrefix(p.Masked())
			return true
		}
	case "iprange":
		return addRange(first(e, "start-ip"), first(e, "end-ip"), b)
	}
	return false
}

func addRange(from, to string, b *netipx.IPSetBuilder) bool {
	x, err1 := netip.ParseAddr(from)
	y, err2 := netip.ParseAddr(to)
	if err1 != nil || err2 != nil || y.Less(x) {
		return false
	}
	b.AddRange(netipx.IPRangeFrom(x, y))
	return true
}

// addr is a policy's source or destination: the IPv4 names and the IPv6
// names, each in its family, negated when the policy says so.
func (l *lowerer) addr(v4, v6 []string, negate bool) devmodel.Addr {
	var b netipx.IPSetBuilder
	u1 := l.addrSet(v4, false, &b, 0)
	u2 := l.addrSet(v6, true, &b, 0)
	s, _ := b.IPSet()
	text := strings.Join(append(append([]string(nil), v4...), v6...), " ")
	if negate {
		s = devmodel.Complement(s)
		text = "not " + text
	}
	a := devmodel.Addr{Set: s, Text: text, Unresolved: u1 || u2}
	if devmodel.IsEverything(s) {
		a.Any = true
	}
	return a
}

// wellKnown are FortiOS predefined services a backup may reference
// without defining them (a `show` omits defaults).
var wellKnown = map[string][]devmodel.Service{
	"ALL":     nil,
	"ALL_TCP": {{Proto: devmodel.TCP, DstPorts: devmodel.PortsOf(1, 65535)}},
	"ALL_UDP": {{Proto: devmodel.UDP, DstPorts: devmodel.PortsOf(1, 65535)}},
	"SIP":     {{Proto: devmodel.TCP, DstPorts: devmodel.PortsOf(5060, 5060)}, {Proto: devmodel.UDP, DstPorts: devmodel.PortsOf(5060, 5060)}},
	"HTTP":    {{Proto: devmodel.TCP, DstPorts: devmodel.PortsOf(80, 80)}},
	"HTTPS":   {{Proto: devmodel.TCP, DstPorts: devmodel.PortsOf(443, 443)}},
	"SSH":     {{Proto: devmodel.TCP, DstPorts: devmodel.PortsOf(22, 22)}},
	"TELNET":  {{Proto: devmodel.TCP, DstPorts: devmodel.PortsOf(23, 23)}},
	"DNS":     {{Proto: devmodel.TCP, DstPorts: devmodel.PortsOf(53, 53)}, {Proto: devmodel.UDP, DstPorts: devmodel.PortsOf(53, 53)}},
	"NTP":     {{Proto: devmodel.TCP, DstPorts: devmodel.PortsOf(123, 123)}, {Proto: devmodel.UDP, DstPorts: devmodel.PortsOf(123, 123)}},
	"PING":    {{Proto: 1}},
}

// services resolves service and group names; nil means every service.
func (l *lowerer) services(names []string, depth int) (out []devmodel.Service, all bool) {
	for _, n := range names {
		if e := l.svc[n]; e != nil {
			s, a := svcEntry(e)
			if a {
				return nil, true
			}
			out = append(out, s...)
			continue
		}
		if g := l.svcGrp[n]; g != nil && depth < maxGroupDepth {
			m := l.svcGroups[n]
			if m == nil {
				m = &svcGroup{busy: true}
				l.svcGroups[n] = m
				m.svcs, m.all = l.services(val(g, "member"), depth+1)
				m.busy = false
			} else if m.busy {
				l.d.Notef(l.loc(g.line), "service group %s contains itself (through its members): FortiOS refuses such a group; the cycle matches nothing", n)
				continue
			}
			if m.all {
				return nil, true
			}
			out = append(out, m.svcs...)
			continue
		}
		if s, ok := wellKnown[n]; ok {
			if s == nil {
				return nil, true
			}
			out = append(out, s...)
		}
		// an unknown service matches nothing
	}
	if out == nil {
		out = []devmodel.Service{}
	}
	return out, false
}

func svcEntry(e *cfgEntry) ([]devmodel.Service, bool) {
	switch strings.ToUpper(first(e, "protocol")) {
	case "IP":
		n, _ := strconv.Atoi(first(e, "protocol-number"))
		if n == 0 {
			return nil, true
		}
		return []devmodel.Service{{Proto: uint8(n)}}, false
	case "ALL":
		return nil, true
	case "ICMP", "ICMP6":
		return []devmodel.Service{{Proto: 1}}, false
	}
	var out []devmodel.Service
	for k, proto := range map[string]uint8{"tcp-portrange": devmodel.TCP, "udp-portrange": devmodel.UDP, "sctp-portrange": 132} {
		for _, r := range val(e, k) {
			dst, src, _ := strings.Cut(r, ":")
			s := devmodel.Service{Proto: proto, DstPorts: portRange(dst)}
			if src != "" {
				s.SrcPorts = portRange(src)
			}
			out = append(out, s)
		}
	}
	return out, false
}

func portRange(s string) devmodel.Ports {
	lo, hi, ok := strings.Cut(s, "-")
	a, err := strconv.Atoi(lo)
	if err != nil || a < 0 || a > 65535 {
		return devmodel.Ports{}
	}
	b := a
	if ok {
		if b, err = strconv.Atoi(hi); err != nil || b < a || b > 65535 {
			return devmodel.Ports{}
		}
	}
	if a == 0 {
		a = 1
	}
	return devmodel.Ports{{Lo: uint16(a), Hi: uint16(b)}}
}

func (l *lowerer) intfs(names []string) []string {
	var out []string
	for _, n := range names {
		if n == "any" {
			return nil
		}
		out = append(out, n)
		out = append(out, l.zones[n]...)
	}
	return out
}

func (l *lowerer) forwards() {
	v4 := len(l.entries("firewall vip"))
	for k, e := range append(l.entries("firewall vip"), l.entries("firewall vip6")...) {
		ref := "firewall vip " + e.key
		if k >= v4 {
			ref = "firewall vip6 " + e.key
		}
		f := &devmodel.Forward{Loc: l.loc(e.line), Ref: ref, Name: e.key, Src: devmodel.AnyAddr()}
		if t := first(e, "type"); t != "" && t != "static-nat" {
			l.d.Notef(f.Loc, "vip %s of type %s is not evaluated", e.key, t)
			continue
		}
		if first(e, "status") == "disable" {
			f.Disabled = true
		}
		if !l.centralNAT && !l.vipUsed[e.key] && !f.Disabled {
			// without central NAT a VIP is applied only when a policy names
			// it: "VIPs will only be checked if they are applied on at least
			// one firewall policy" (Fortinet Community, "Technical Tip:
			// Virtual IP (VIP) port forwarding order of execution",
			// ta-p/350101); one named by none neither forwards nor hides the
			// VIPs after it
			l.d.Notef(f.Loc, "%s is named in no firewall policy: FortiOS does not apply it (central NAT is off); read as inactive", ref)
			f.Disabled = true
		}
		f.In = l.intfs(val(e, "extintf"))
		if k >= v4 && len(f.In) == 0 {
			f.In = l.intfs(l.vip6In[e.key])
		}
		var ext netipx.IPSetBuilder
		for _, x := range val(e, "extip") {
			a, b, _ := strings.Cut(x, "-")
			if b == "" {
				b = a
			}
			addRange(a, b, &ext)
		}
		es, _ := ext.IPSet()
		f.Ext = devmodel.Addr{Self: true, Set: es, Text: strings.Join(val(e, "extip"), " ")}
		if m := val(e, "mappedip"); len(m) > 0 {
			a, _, _ := strings.Cut(m[0], "-")
			f.To, _ = netip.ParseAddr(a)
		}
		if sf := val(e, "src-filter"); len(sf) > 0 {
			var b netipx.IPSetBuilder
			for _, x := range sf {
				if p, err := netip.ParsePrefix(x); err == nil {
					b.AddPrefix(p.Masked())
				} else if a, c, ok := strings.Cut(x, "-"); ok {
					addRange(a, c, &b)
				} else if a, err := netip.ParseAddr(x); err == nil {
					b.Add(a)
				}
			}
			s, _ := b.IPSet()
			f.Src = devmodel.Addr{Set: s, Text: strings.Join(sf, " ")}
		}
		if first(e, "portforward") == "enable" {
			switch first(e, "protocol") {
			case "", "tcp":
				f.Proto = devmodel.TCP
			case "udp":
				f.Proto = devmodel.UDP
			case "sctp":
				f.Proto = 132
			case "icmp":
				f.Proto = 1
			}
			f.Ports = portRange(first(e, "extport"))
			if mp := portRange(first(e, "mappedport")); len(mp) > 0 {
				f.ToPort = mp[0].Lo
			}
		} else if names := val(e, "service"); len(names) > 0 {
			l.d.Forwards = append(l.d.Forwards, l.serviceFiltered(f, names, e.attrs["service"].line)...)
			continue
		}
		l.d.Forwards = append(l.d.Forwards, f)
	}
}

// serviceFiltered is a one-to-one VIP (no port forwarding) with the
// optional service filter (set service, FortiOS 6.2 and later): the whole
// address is still mapped, ports unchanged, but only those services reach
// the host ("if the host ... is running other services (such as AD, RDP,
// DNS, etc.), only HTTPS will be allowed": Fortinet Community, "Technical
// Tip: Difference between port forwarding and service filtering on VIP
// configuration", ta-p/404366). One forward a service, each of its
// protocol and ports, sharing the VIP's name (a policy naming the VIP
// names them all). A filter of every service, or of names the reader
// cannot resolve, keeps every port (the safe side: more is forwarded).
func (l *lowerer) serviceFiltered(f *devmodel.Forward, names []string, line int) []*devmodel.Forward {
	svcs, all := l.services(names, 0)
	if all {
		return []*devmodel.Forward{f}
	}
	if len(svcs) == 0 {
		l.d.Notef(l.loc(line), "%s: service filter %s names no service the reader knows; read as every service", f.Ref, strings.Join(names, " "))
		return []*devmodel.Forward{f}
	}
	var out []*devmodel.Forward
	for _, s := range svcs {
		c := *f
		c.Proto, c.Ports = s.Proto, s.DstPorts
		if s.Proto != devmodel.TCP && s.Proto != devmodel.UDP && s.Proto != 132 {
			c.Ports = nil // ports exist only there
		}
		out = append(out, &c)
	}
	return out
}

// dstForwards splits a policy's destination names into VIPs (expanded
// through VIP groups) and plain addresses.
func (l *lowerer) dstForwards(names []string) (vips, plain []string) {
	for _, n := range names {
		switch {
		case l.vips[n]:
			vips = append(vips, n)
		case l.vipGrp[n] != nil:
			vips = append(vips, l.vipGrp[n]...)
		default:
			plain = append(plain, n)
		}
	}
	return vips, plain
}

func (l *lowerer) policies() {
	for _, path := range []string{"firewall policy", "firewall policy6"} {
		v6only := path == "firewall policy6"
		for _, e := range l.entries(path) {
			r := &devmodel.Rule{Loc: l.loc(e.line), Ref: path + " " + e.key, Name: first(e, "name"), Hook: devmodel.HookForward, Quick: true}
			if r.Name == "" {
				r.Name = first(e, "comments")
			}
			r.Disabled = first(e, "status") == "disable"
			r.In = l.intfs(val(e, "srcintf"))
			r.Out = l.intfs(val(e, "dstintf"))
			src4, dst4 := val(e, "srcaddr"), val(e, "dstaddr")
			src6, dst6 := val(e, "srcaddr6"), val(e, "dstaddr6")
			if v6only {
				src4, dst4, src6, dst6 = nil, nil, src4, dst4
			}
			// a policy to a VIP takes the packets the VIP rewrote, and its
			// service matches the port they then have, the mapped port: the
			// VIP's destination NAT is done at ingress, before the policy
			// lookup (FortiOS Handbook, Life of a Packet; Fortinet's
			// "Technical Tip: How to use virtual IPs with non-standard
			// external ports": a policy of the external port matches only
			// the implicit deny). The model evaluates it so (devmodel
			// Evaluate, Rule.Admits).
			v4, p4 := l.dstForwards(dst4)
			v6, p6 := l.dstForwards(dst6)
			r.DstForwards = append(v4, v6...)
			r.Src = l.addr(src4, src6, first(e, "srcaddr-negate") == "enable")
			r.SrcLine = e.attrs["srcaddr"].line
			r.Dst = l.addr(p4, p6, first(e, "dstaddr-negate") == "enable")
			switch first(e, "action") {
			case "accept", "ipsec":
				r.Action = devmodel.Accept
			default:
				r.Action = devmodel.Drop // FortiOS's default action is deny
			}
			r.MatchForwarded = r.Action == devmodel.Drop && first(e, "match-vip") == "enable" || l.centralNAT
			svc, all := l.services(val(e, "service"), 0)
			if !all {
				r.Services = svc
			}
			if first(e, "service-negate") == "enable" {
				l.d.Notef(r.Loc, "%s negates its services; it is not evaluated", r.Ref)
				r.Disabled = true
			}
			if first(e, "internet-service") == "enable" || first(e, "internet-service-src") == "enable" {
				l.d.Notef(r.Loc, "%s matches Internet Service Database entries; they are not resolved", r.Ref)
				r.Dst.Unresolved = true
			}
			l.d.Rules = append(l.d.Rules, r)
		}
	}
	for _, path := range []string{"firewall local-in-policy", "firewall local-in-policy6"} {
		for _, e := range l.entries(path) {
			r := &devmodel.Rule{Loc: l.loc(e.line), Ref: path + " " + e.key, Name: first(e, "comments"), Hook: devmodel.HookLocal, Quick: true}
			r.Disabled = first(e, "status") == "disable"
			r.In = l.intfs(val(e, "intf"))
			if path == "firewall local-in-policy6" {
				r.Src = l.addr(nil, val(e, "srcaddr"), first(e, "srcaddr-negate") == "enable")
				r.Dst = l.addr(nil, val(e, "dstaddr"), false)
			} else {
				r.Src = l.addr(val(e, "srcaddr"), val(e, "srcaddr6"), first(e, "srcaddr-negate") == "enable")
				r.Dst = l.addr(val(e, "dstaddr"), val(e, "dstaddr6"), false)
			}
			r.Dst.Self = r.Dst.Set != nil && len(r.Dst.Set.Ranges()) > 0 // the FortiGate's own addresses are in "all"
			if first(e, "action") == "accept" {
				r.Action = devmodel.Accept
			} else {
				r.Action = devmodel.Drop
			}
			svc, all := l.services(val(e, "service"), 0)
			if !all {
				r.Services = svc
			}
			l.d.Rules = append(l.d.Rules, r)
		}
	}
}

// limits are the DoS policies: per-source session limits on an interface.
func (l *lowerer) limits() {
	for _, path := range []string{"firewall DoS-policy", "firewall DoS-policy6"} {
		for _, e := range l.entries(path) {
			if first(e, "status") == "disable" {
				continue
			}
			on := false
			for _, s := range e.subs {
				if s.path != "anomaly" {
					continue
				}
				for _, a := range s.entries {
					if strings.HasSuffix(a.key, "_src_session") && first(a, "status") == "enable" && first(a, "action") == "block" {
						on = true
					}
				}
			}
			if !on {
				continue
			}
			// a DoS policy is checked at ingress, before the VIP rewrites the
			// destination (FortiOS Handbook, Parallel Path Processing: "DoS
			// scans are handled very early in the life of the packet"): its
			// service matches the outside port
			lim := &devmodel.Limit{Loc: l.loc(e.line), Ref: path + " " + e.key, In: l.intfs(val(e, "interface")), PreNAT: true}
			svc, all := l.services(val(e, "service"), 0)
			if !all {
				lim.Services = svc
			}
			l.d.Limits = append(l.d.Limits, lim)
		}
	}
}
