// Package devmodel is the target-neutral packet-filter model that voicewall
// audit reads a device's configuration into: ordered filter rules over
// interfaces, addresses, protocols and ports, destination NAT (port
// forwards, VIPs), the SIP helpers and the management exposure the device
// has, each element carrying the CONFIG:line it was read from. The vendor
// readers (backends/<target>/device.go) lower into it; package audit finds
// dangers in it and evaluates packets on it.
package devmodel

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go4.org/netipx"
)

// Loc is where an element was read: CONFIG:line.
type Loc struct {
	File string
	Line int
}

func (l Loc) String() string {
	if l.Line == 0 {
		return l.File
	}
	return l.File + ":" + strconv.Itoa(l.Line)
}

// Addr is a set of addresses a rule or forward matches. Any matches every
// address; otherwise Set (never nil once resolved). Text is how the config
// named it, for messages.
type Addr struct {
	Any  bool
	Self bool // the device's own addresses (pf "This firewall", wanip)
	Set  *netipx.IPSet
	Text string
	// Unresolved is set when the config names something the reader could not
	// resolve (an FQDN, geography, an alias of an unknown kind): the rule is
	// kept but matches no probe address, and findings treat it as narrow.
	Unresolved bool
}

// AnyAddr matches every address.
func AnyAddr() Addr { return Addr{Any: true, Text: "any"} }

var allV4, allV6 = netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")

// Complement is every IPv4 and IPv6 address not in s (a nil s is empty):
// what a negated address ("not", an inverted object) matches.
func Complement(s *netipx.IPSet) *netipx.IPSet {
	var b netipx.IPSetBuilder
	b.AddPrefix(allV4)
	b.AddPrefix(allV6)
	if s != nil {
		b.RemoveSet(s)
	}
	out, _ := b.IPSet()
	return out
}

// IsEverything reports whether s holds every IPv4 and IPv6 address, so
// that an address resolved to it can be read as any.
func IsEverything(s *netipx.IPSet) bool {
	rs := s.Ranges()
	return len(rs) == 2 && rs[0] == netipx.RangeOfPrefix(allV4) && rs[1] == netipx.RangeOfPrefix(allV6)
}

// Contains reports whether a is in the set.
// The invalid address stands for the device itself.
func (x Addr) Contains(a netip.Addr) bool {
	if x.Any {
		return true
	}
	if !a.IsValid() {
		return x.Self
	}
	return x.Set != nil && x.Set.Contains(a.Unmap())
}

// Ports is a list of port ranges; nil matches every port.
type Ports []PortRange

// PortRange is an inclusive port range.
type PortRange struct{ Lo, Hi uint16 }

func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return strconv.Itoa(int(r.Lo)) + "-" + strconv.Itoa(int(r.Hi))
}

// Contains reports whether p is in the list (nil: every port).
func (ps Ports) Contains(p uint16) bool {
	if ps == nil {
		return true
	}
	for _, r := range ps {
		if p >= r.Lo && p <= r.Hi {
			return true
		}
	}
	return false
}

// Intersect is the ports in both lists (nil: every port).
func (ps Ports) Intersect(b Ports) Ports {
	if ps == nil {
		return b
	}
	if b == nil {
		return ps
	}
	out := Ports{}
	for _, x := range ps {
		for _, y := range b {
			if lo, hi := max(x.Lo, y.Lo), min(x.Hi, y.Hi); lo <= hi {
				out = append(out, PortRange{Lo: lo, Hi: hi})
			}
		}
	}
	return out
}

// Overlaps reports whether any port of r is in the list.
func (ps Ports) Overlaps(r PortRange) bool {
	if ps == nil {
		return true
	}
	for _, x := range ps {
		if x.Lo <= r.Hi && r.Lo <= x.Hi {
			return true
		}
	}
	return false
}

// Widest is the size of the widest range (65536 for any).
func (ps Ports) Widest() int {
	if ps == nil {
		return 65536
	}
	w := 0
	for _, r := range ps {
		w = max(w, int(r.Hi)-int(r.Lo)+1)
	}
	return w
}

func (ps Ports) String() string {
	if ps == nil {
		return "any"
	}
	s := make([]string, len(ps))
	for i, r := range ps {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

// Service is one protocol with its ports. Proto 0 is every protocol (ports
// then do not apply).
type Service struct {
	Proto    uint8
	SrcPorts Ports
	DstPorts Ports
}

// Protocol numbers.
const (
	TCP uint8 = 6
	UDP uint8 = 17
)

// ProtoName names a protocol number.
func ProtoName(p uint8) string {
	switch p {
	case 0:
		return "any"
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case 1:
		return "icmp"
	}
	return strconv.Itoa(int(p))
}

// Action of a rule.
type Action int

const (
	Accept Action = iota
	Drop
	// Tag marks the packet (pfSense match rules) and goes on.
	Tag
)

func (a Action) String() string {
	switch a {
	case Accept:
		return "accept"
	case Drop:
		return "drop"
	}
	return "tag"
}

// Hook says which packets a rule sees: forwarded through the device, or
// addressed to the device itself (FortiOS local-in, Vigor WAN->router).
type Hook int

const (
	HookForward Hook = 1 << iota
	HookLocal
	HookBoth = HookForward | HookLocal
)

// Dir is the direction a rule applies in on its interface (pf floating rules).
type Dir int

const (
	DirIn Dir = iota
	DirOut
	DirAny
)

// Rule is one filter rule, in the order the device evaluates them.
type Rule struct {
	Loc  Loc
	Ref  string // how the device names it: "firewall policy 12", "ipf rule 2 3"
	Name string // its name or comment, for people
	Hook Hook
	// In and Out are the interfaces a rule applies to (nil: any). Out
	// applies to forwarded packets only.
	In, Out []string
	// NotIn: interfaces the rule excludes (nftables iifname !=).
	NotIn []string
	// PreNAT rules see the packet before destination NAT, with the
	// destination it was sent to (nftables prerouting filter); an accept
	// there ends only that stage, a drop ends everything.
	PreNAT bool
	// InRole and OutRole restrict by interface role ("wan", "lan": any
	// interface not in the WAN role); "" any. DrayTek directions use them.
	InRole, OutRole string
	Dir             Dir // which side of the device the rule checks (In matches the arrival interface)
	Src, Dst        Addr
	// SrcLine is the line that sets the source, when it is not Loc's.
	SrcLine int
	// DstForwards names the forwards (VIPs) a rule's destination is: it
	// matches packets those forwards rewrote (FortiOS dstaddr VIP).
	DstForwards []string
	// MatchForwarded: a rule with any destination also matches packets a
	// forward rewrote (FortiOS match-vip on deny policies; pf filters after rdr).
	MatchForwarded bool
	Services       []Service // nil: every service
	Action         Action
	Quick          bool   // a match ends the evaluation (false: the last match wins, pf)
	SetTag, Tagged string // pf tags
	NotTagged      bool
	RateLimited    bool // the rule carries a per-source rate limit
	Family         int  // 0 both, 4 or 6 only
	Disabled       bool
}

// Forward is a destination NAT: a port forward, VIP or open port.
type Forward struct {
	Loc  Loc
	Ref  string
	Name string
	In   []string // interfaces it listens on (nil: any)
	// InRole restricts it to interfaces of a role ("wan").
	InRole string
	Src    Addr // source restriction (Any: none)
	Ext    Addr // external address (Any: the device's own WAN address)
	// Proto 0: every protocol; Ports nil: every port.
	Proto  uint8
	Ports  Ports
	To     netip.Addr
	ToPort uint16 // first mapped port; 0: unchanged
	// ToFixed: every port goes to ToPort (nftables dnat to A:P, a pfSense
	// forward of a port alias); else the ports are shifted, Ports[0].Lo
	// going to ToPort (a range onto a range of the same size).
	ToFixed bool
	// ToLast, above ToPort: the forward picks a port of ToPort..ToLast for
	// each new connection (nftables dnat to A:P1-P2), neither keeping nor
	// shifting the packet's own: any port of that range may be reached
	// (MapRange), whatever the outside port.
	ToLast uint16
	// ToSelf: the forward sends the packet to the device itself (nftables
	// redirect: to the address of the interface it arrived on); To is
	// then invalid, the model's address of the device itself.
	ToSelf   bool
	NoRules  bool // the forward passes without the filter (pfSense rdr pass)
	Disabled bool
}

// Maps reports whether the forward rewrites the given packet's destination.
func (f *Forward) Maps(inIf string, src netip.Addr, dst netip.Addr, proto uint8, port uint16) bool {
	if f.Disabled || len(f.In) > 0 && !has(f.In, inIf) {
		return false
	}
	if !f.Src.Contains(src) {
		return false
	}
	if !f.Ext.Contains(dst) { // the invalid address: the device's own (Ext.Self)
		return false
	}
	if f.Proto != 0 && f.Proto != proto {
		return false
	}
	return f.Ports.Contains(port)
}

// Picks reports whether the forward picks the inside port from a range
// for each connection (ToLast).
func (f *Forward) Picks() bool { return f.ToPort != 0 && f.ToLast > f.ToPort }

// MapPort is the inside port a packet to port reaches. For a forward that
// picks a port it is the one Linux picks for a lone packet (since the 2024
// fix "netfilter: nat: restore default DNAT behavior"): the packet's own
// port when it lies in the range, else the first; a port in use moves it
// on, and older kernels or the random flags pick at random (MapRange is
// every port it may reach).
func (f *Forward) MapPort(port uint16) uint16 {
	switch {
	case f.ToPort == 0:
		return port
	case f.Picks():
		if port >= f.ToPort && port <= f.ToLast {
			return port
		}
		return f.ToPort
	case f.ToFixed:
		return f.ToPort
	case len(f.Ports) == 0:
		return port // every port, kept
	}
	return uint16(min(65535, int(f.ToPort)+int(port)-int(f.Ports[0].Lo)))
}

// MapRange is every inside port a packet to port may reach: MapPort's,
// or the whole range of a forward that picks one.
func (f *Forward) MapRange(port uint16) PortRange {
	if f.Picks() {
		return PortRange{f.ToPort, f.ToLast}
	}
	p := f.MapPort(port)
	return PortRange{p, p}
}

// PortMap is outside ports and the inside ports they reach.
type PortMap struct{ Out, In PortRange }

// Mapping is what the forward does with its ports: each outside range and
// the inside range it reaches (MapPort of each end; every port for a
// forward of every port; the whole range a forward picks from, for each
// outside range).
func (f *Forward) Mapping() []PortMap {
	ps := f.Ports
	if ps == nil {
		ps = PortsOf(0, 65535)
	}
	out := make([]PortMap, 0, len(ps))
	for _, r := range ps {
		in := PortRange{f.MapPort(r.Lo), f.MapPort(r.Hi)}
		if f.Picks() {
			in = PortRange{f.ToPort, f.ToLast}
		}
		out = append(out, PortMap{Out: r, In: in})
	}
	return out
}

// Outside is the outside ports of mapping part m whose packets may reach
// the inside ports in (within m.In): the ports that shift onto them, or
// every outside port of m for a forward that sends every port to one
// (ToFixed) or picks its port from a range (Picks).
func (f *Forward) Outside(m PortMap, in PortRange) PortRange {
	if f.ToPort != 0 && (f.ToFixed || f.Picks()) {
		return m.Out
	}
	return PortRange{Lo: m.Out.Lo + (in.Lo - m.In.Lo), Hi: m.Out.Lo + (in.Hi - m.In.Lo)}
}

// Protos are the protocols the forward takes: its own, TCP and UDP for a
// forward of every protocol limited to ports (ports exist only there: a
// pfSense tcp/udp forward, a Vigor open port of TCP/UDP), nil for one of
// every protocol and port, kept (a 1:1 NAT, a VIP without port forwarding).
func (f *Forward) Protos() []uint8 {
	switch {
	case f.Proto != 0:
		return []uint8{f.Proto}
	case f.Ports == nil && f.ToPort == 0:
		return nil
	}
	return []uint8{TCP, UDP}
}

// PartsTo are the parts of the forward's mapping (Mapping) of a protocol
// it takes (Protos) whose inside ports are in ps (nil: every port): the
// inside ports of each part in ps, with the outside ports that reach them
// (Outside). A forward of every protocol and port keeps ps as they are.
func (f *Forward) PartsTo(proto uint8, ps Ports) []PortMap {
	want := ps
	if want == nil {
		want = PortsOf(0, 65535)
	}
	protos := f.Protos()
	if protos == nil {
		out := make([]PortMap, len(want))
		for i, w := range want {
			out[i] = PortMap{Out: w, In: w}
		}
		return out
	}
	if !slices.Contains(protos, proto) {
		return nil
	}
	var out []PortMap
	for _, m := range f.Mapping() {
		for _, w := range want {
			lo, hi := max(m.In.Lo, w.Lo), min(m.In.Hi, w.Hi)
			if lo > hi {
				continue
			}
			in := PortRange{lo, hi}
			out = append(out, PortMap{Out: f.Outside(m, in), In: in})
		}
	}
	return out
}

// Admit is a part of a forward that a rule naming it lets through: a
// protocol, the outside ports packets are sent to and the inside ports
// they reach there, which the rule's service (with its source ports)
// takes. Proto 0 is every protocol and port, kept (a forward of
// everything under a rule of every service).
type Admit struct {
	Forward  *Forward
	Proto    uint8
	Out, In  PortRange
	SrcPorts Ports
}

// Moved reports whether the part reaches other ports than its outside ones.
func (a Admit) Moved() bool { return a.Out != a.In }

// Admits is what rule r lets through the forwards fwds its destination
// names (DstForwards: a FortiOS policy whose dstaddr is a VIP), as the
// device evaluates it: the forward rewrites the destination first and the
// rule's services match the port the packet then has, the inside port
// (Evaluate; FortiOS looks the policy up after the VIP's destination NAT,
// so a policy of SIP to a VIP of 5080 onto 5060 takes 5080, and one of
// SIP to a VIP of 5060 onto 8080 takes nothing). Each part is the inside
// ports of a forward's mapping that one of the rule's services takes, with
// the outside ports that reach them. A disabled forward admits nothing.
func (r *Rule) Admits(fwds []*Forward) []Admit {
	svcs := r.Services
	if svcs == nil {
		svcs = []Service{{}} // every service
	}
	var out []Admit
	for _, f := range fwds {
		if f.Disabled {
			continue
		}
		protos := f.Protos()
		for _, s := range svcs {
			if protos == nil && s.Proto == 0 {
				out = append(out, Admit{Forward: f, SrcPorts: s.SrcPorts})
				continue
			}
			ps := s.DstPorts
			if s.Proto == 0 {
				ps = nil // every protocol: its ports do not apply
			}
			for _, proto := range protos {
				if s.Proto == 0 || s.Proto == proto {
					for _, m := range f.PartsTo(proto, ps) {
						out = append(out, Admit{Forward: f, Proto: proto, Out: m.Out, In: m.In, SrcPorts: s.SrcPorts})
					}
				}
			}
			if protos == nil {
				for _, m := range f.PartsTo(s.Proto, ps) {
					out = append(out, Admit{Forward: f, Proto: s.Proto, Out: m.Out, In: m.In, SrcPorts: s.SrcPorts})
				}
			}
		}
	}
	return out
}

// Interface is one interface of the device.
type Interface struct {
	Loc    Loc
	Name   string // as rules name it
	Device string // the OS device (pfSense em0, igb1.20), if known
	Role   string // "wan", "lan" or ""
	Parent string // the parent interface of a VLAN
	VLAN   uint16
	// Subnets: the networks configured on it (when the config says).
	Subnets []netip.Prefix
	// Admin: management services the device answers on this interface.
	Admin []Exposure
}

// Exposure is a management service a device offers to an interface.
type Exposure struct {
	Loc     Loc
	Service string // https, http, ssh, telnet, snmp
	Ports   Ports
	Proto   uint8
	// Restricted says why only some sources may use it (FortiOS trusted
	// hosts on every administrator, a Vigor management access list); ""
	// when anyone may.
	Restricted string
}

// Setting is a device setting audit reports on, with the line saying it.
type Setting struct {
	Loc   Loc
	What  string // e.g. "default-voip-alg-mode proxy-based"
	Index string // the table index, when it has one (FortiOS session-helper N)
}

// OutboundNAT is the device's source NAT mode and rules.
type OutboundNAT struct {
	Loc  Loc
	Mode string // pfSense: automatic, hybrid, advanced, disabled
	// StaticPort: sources whose source ports the NAT keeps.
	StaticPort []Addr
}

// Device is a whole device configuration, lowered.
type Device struct {
	File       string
	Target     string
	Interfaces []*Interface
	Rules      []*Rule
	Forwards   []*Forward
	SIPHelpers []Setting // a SIP ALG or session helper that is on
	// SIPHelperOff: lines that turn a helper off (for reporting what the
	// config does say).
	SIPHelperOff []Setting
	OutboundNAT  *OutboundNAT
	Limits       []*Limit
	// DefaultForward and DefaultLocal are the verdicts when no rule matches.
	DefaultForward, DefaultLocal Action
	// LANPassesIn: what arrives on a non-WAN interface and meets no rule
	// passes in (a configuration fragment assumes the site's own
	// "allow LAN" rules; a full configuration says what they are).
	LANPassesIn bool
	// Notes: what the reader skipped or could not resolve, located.
	Notes []Note
	// Unmodelled: a mode of the device whose forwarding verdicts the model
	// does not hold (FortiOS NGFW policy-based mode: the security policies
	// decide), so audit must not call the device clean.
	Unmodelled []Setting
}

// Note is something the reader skipped or approximated.
type Note struct {
	Loc  Loc
	Text string
}

// Interface looks an interface up by name.
func (d *Device) Interface(name string) *Interface {
	for _, i := range d.Interfaces {
		if i.Name == name {
			return i
		}
	}
	return nil
}

// WANs are the interfaces in the WAN role.
func (d *Device) WANs() []string {
	var out []string
	for _, i := range d.Interfaces {
		if i.Role == "wan" {
			out = append(out, i.Name)
		}
	}
	return out
}

// IsWAN reports whether the interface is in the WAN role.
func (d *Device) IsWAN(name string) bool { return d.role(name) == "wan" }

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s || x == "any" {
			return true
		}
	}
	return false
}

// Notef records a note.
func (d *Device) Notef(l Loc, f string, a ...any) {
	d.Notes = append(d.Notes, Note{l, fmt.Sprintf(f, a...)})
}

// Limit is a per-source rate or session limit on an interface's traffic.
type Limit struct {
	Loc      Loc
	Ref      string
	In       []string  // nil: every interface
	Services []Service // nil: every service
	// PPS is the packets a second above which a router-wide flood defence
	// starts dropping (0: the device's default threshold).
	PPS int
	// PreNAT: the limit sees a packet before destination NAT, so its
	// services match the outside port a forward takes (a FortiOS DoS
	// policy, checked at ingress before the VIP; an nftables limit in a
	// prerouting chain before dstnat); else the inside port the forward
	// sends it to. A limit of every port of a protocol (the Vigor's
	// router-wide flood defence) covers either.
	PreNAT bool
}

// Covers reports whether the limit applies to a service on the interface.
func (l *Limit) Covers(inIf string, proto uint8, port uint16) bool {
	if len(l.In) > 0 && !has(l.In, inIf) {
		return false
	}
	if l.Services == nil {
		return true
	}
	for _, s := range l.Services {
		if s.Proto == 0 || s.Proto == proto && s.DstPorts.Contains(port) {
			return true
		}
	}
	return false
}

// CoversRange reports whether the limit applies to every port of r of a
// protocol on the interface.
func (l *Limit) CoversRange(inIf string, proto uint8, r PortRange) bool {
	if len(l.In) > 0 && !has(l.In, inIf) {
		return false
	}
	if l.Services == nil {
		return true
	}
	for _, s := range l.Services {
		if s.Proto == 0 || s.Proto == proto && (s.DstPorts == nil || covers(s.DstPorts, r)) {
			return true
		}
	}
	return false
}

// PortsOf is one port range.
func PortsOf(lo, hi uint16) Ports { return Ports{{Lo: lo, Hi: hi}} }
