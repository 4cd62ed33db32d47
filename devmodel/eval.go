package devmodel

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
)

// Packet is the first packet of a new flow as it arrives at the device.
type Packet struct {
	In      string // arrival interface
	Src     netip.Addr
	SrcPort uint16 // 0: an ephemeral port (see Ephemeral)
	Dst     netip.Addr
	Proto   uint8
	DstPort uint16
	// NATPort is the inside port a forward that picks one (Forward.Picks)
	// picks for this packet, when in its range; 0: MapPort's.
	NATPort uint16
}

// Ephemeral is the source port range of a sender that names none (the
// same as lang.EphemeralPorts): a rule that matches source ports matches an
// unspecified one only when it covers this whole range.
var Ephemeral = PortRange{32768, 60999}

// Result is what the device does with a packet.
type Result struct {
	Verdict Action
	Rule    *Rule // the deciding rule; nil when the default decided
	// InRule is the rule that decided on the arrival side (Rule may then be
	// a leaving-side rule of a forwarded packet).
	InRule  *Rule
	Forward *Forward // the forward that rewrote the destination, if any
	Dst     netip.Addr
	Out     string // the interface it leaves by; "" for the device itself
}

// Where is the config line responsible for the verdict.
func (r Result) Where() string {
	switch {
	case r.Rule != nil:
		return r.Rule.Ref + " (" + r.Rule.Loc.String() + ")"
	case r.Forward != nil:
		return r.Forward.Ref + " (" + r.Forward.Loc.String() + ")"
	}
	return "no rule matches: the device's default"
}

// Route names the interface a destination leaves by, given the arrival
// interface; the caller knows the topology (the policy's zones).
type Route func(dst netip.Addr, in string) string

// Evaluate runs a packet through the device: destination NAT first, then
// the filter rules on the arrival side (first quick match, else the last
// match, as pf; FortiOS and Vigor rules are all quick), then for forwarded
// packets the rules on the leaving side.
func (d *Device) Evaluate(p Packet, route Route) Result {
	p.Src, p.Dst = p.Src.Unmap(), p.Dst.Unmap()
	res := Result{Dst: p.Dst}
	if pre := d.preNAT(p, route); pre != nil && pre.Action == Drop {
		res.Verdict, res.Rule = Drop, pre
		return res
	}
	p, res = d.nat(p, route)
	if res.Forward != nil && res.Forward.NoRules {
		res.Verdict = Accept
		return res
	}
	hook := HookForward
	def := d.DefaultForward
	if !p.Dst.IsValid() {
		hook, def = HookLocal, d.DefaultLocal
	}
	tags := map[string]bool{}
	dec := d.pass(p, res, hook, DirIn, p.In, tags)
	if dec == nil && d.LANPassesIn && d.role(p.In) != "wan" {
		def = Accept
	}
	if dec != nil && dec.Action == Drop || dec == nil && def == Drop {
		res.Verdict, res.Rule = Drop, dec
		return res
	}
	res.Verdict, res.Rule, res.InRule = Accept, dec, dec
	if hook == HookForward {
		if out := d.pass(p, res, hook, DirOut, res.Out, tags); out != nil {
			res.Rule = out
			res.Verdict = out.Action
		}
	}
	return res
}

// nat applies the first forward that takes the packet and routes it.
func (d *Device) nat(p Packet, route Route) (Packet, Result) {
	res := Result{Dst: p.Dst}
	if f := d.ForwardOf(p); f != nil {
		res.Forward = f
		if r := f.MapRange(p.DstPort); f.Picks() && p.NATPort >= r.Lo && p.NATPort <= r.Hi {
			p.DstPort = p.NATPort
		} else {
			p.DstPort = f.MapPort(p.DstPort)
		}
		p.Dst = f.To
		res.Dst = f.To
	}
	if p.Dst.IsValid() && route != nil {
		res.Out = route(p.Dst, p.In)
	}
	return p, res
}

// ForwardOf is the forward that rewrites the packet: the first that takes
// it; nil when none does.
func (d *Device) ForwardOf(p Packet) *Forward {
	for _, f := range d.Forwards {
		if d.Takes(f, p) {
			return f
		}
	}
	return nil
}

// Takes reports whether forward f rewrites the packet, whatever forwards
// come before it.
func (d *Device) Takes(f *Forward, p Packet) bool {
	if f.InRole != "" && d.role(p.In) != f.InRole {
		return false
	}
	if f.To.IsValid() && f.To.Unmap().Is4() != p.Src.Unmap().Is4() {
		return false // no device here translates between families: a forward to an IPv4 host takes IPv4 only
	}
	return f.Maps(p.In, p.Src.Unmap(), p.Dst.Unmap(), p.Proto, p.DstPort)
}

// Sees reports whether rule r itself matches the packet (after the
// destination NAT the device applies), whatever rules come before it: a
// check that rules "shadow" r must only count packets r would take.
func (d *Device) Sees(r *Rule, p Packet, route Route) bool {
	p.Src, p.Dst = p.Src.Unmap(), p.Dst.Unmap()
	if r.Disabled || r.Action == Tag {
		return false
	}
	if r.PreNAT {
		res := Result{Dst: p.Dst}
		if p.Dst.IsValid() && route != nil {
			res.Out = route(p.Dst, p.In)
		}
		return d.matches(r, p, res, p.In, nil)
	}
	p, res := d.nat(p, route)
	hook := HookForward
	if !p.Dst.IsValid() {
		hook = HookLocal
	}
	if r.Hook&hook == 0 {
		return false
	}
	tags := map[string]bool{}
	if r.Dir != DirOut && d.matches(r, p, res, p.In, tags) {
		return true
	}
	return hook == HookForward && r.Dir != DirIn && d.matches(r, p, res, res.Out, tags)
}

// preNAT evaluates the rules that see the packet before destination NAT.
func (d *Device) preNAT(p Packet, route Route) *Rule {
	res := Result{Dst: p.Dst}
	if p.Dst.IsValid() && route != nil {
		res.Out = route(p.Dst, p.In)
	}
	for _, r := range d.Rules {
		if !r.PreNAT || r.Disabled || r.Action == Tag {
			continue
		}
		if d.matches(r, p, res, p.In, nil) {
			return r
		}
	}
	return nil
}

// pass evaluates the rules of one side and returns the deciding rule.
func (d *Device) pass(p Packet, res Result, hook Hook, dir Dir, ifName string, tags map[string]bool) *Rule {
	var dec *Rule
	for _, r := range d.Rules {
		if r.Disabled || r.PreNAT || r.Hook&hook == 0 {
			continue
		}
		if r.Dir != DirAny && r.Dir != dir {
			continue
		}
		if !d.matches(r, p, res, ifName, tags) {
			continue
		}
		if r.Action == Tag {
			if r.SetTag != "" {
				tags[r.SetTag] = true
			}
			continue
		}
		dec = r
		if r.Quick {
			break
		}
	}
	return dec
}

func (d *Device) matches(r *Rule, p Packet, res Result, ifName string, tags map[string]bool) bool {
	if len(r.In) > 0 && !has(r.In, ifName) {
		return false
	}
	if slices.Contains(r.NotIn, ifName) {
		return false
	}
	if r.InRole != "" && d.role(p.In) != r.InRole {
		return false
	}
	if r.Dir == DirIn && res.Out != "" {
		if len(r.Out) > 0 && !has(r.Out, res.Out) {
			return false
		}
		if r.OutRole != "" && d.role(res.Out) != r.OutRole {
			return false
		}
	}
	if r.Tagged != "" && tags[r.Tagged] == r.NotTagged {
		return false
	}
	if r.Family == 4 && !p.Src.Is4() || r.Family == 6 && !p.Src.Is6() {
		return false
	}
	if !r.Src.Contains(p.Src) {
		return false
	}
	if res.Forward != nil {
		if !slices.Contains(r.DstForwards, res.Forward.Name) && !(r.MatchForwarded && r.Dst.Contains(p.Dst)) {
			return false
		}
	} else if !r.Dst.Contains(p.Dst) {
		return false
	}
	if r.Services == nil {
		return true
	}
	for _, s := range r.Services {
		if s.Proto == 0 {
			return true
		}
		if s.Proto != p.Proto || !s.DstPorts.Contains(p.DstPort) {
			continue
		}
		if s.SrcPorts != nil {
			if p.SrcPort == 0 {
				if !covers(s.SrcPorts, Ephemeral) {
					continue
				}
			} else if !s.SrcPorts.Contains(p.SrcPort) {
				continue
			}
		}
		return true
	}
	return false
}

func covers(ps Ports, want PortRange) bool {
	for _, r := range ps {
		if r.Lo <= want.Lo && r.Hi >= want.Hi {
			return true
		}
	}
	return false
}

// role of an interface name: its configured role, else "wan" when the name
// is a WAN's, else "lan".
func (d *Device) role(name string) string {
	if i := d.Interface(name); i != nil && i.Role != "" {
		return i.Role
	}
	if wanLike.MatchString(name) {
		return "wan"
	}
	return "lan"
}

var wanLike = regexp.MustCompile(`^(?i:wan)[0-9]*$`)

// String is a rule in words for traces and findings.
func (r *Rule) String() string {
	return fmt.Sprintf("%s %s (%s)", r.Ref, r.Action, r.Loc)
}
