package lang

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Packet is the first packet of a new flow, as a policy test describes it.
type Packet struct {
	Src     netip.Addr
	SrcPort uint16 // 0: unspecified, an ephemeral port (see EphemeralPorts)
	Zone    string // zone it arrives on; "" means "wan"
	Dst     netip.Addr
	Proto   Proto
	DstPort uint16
	// Trusted: the source is a trusted remote phone (in the run-time set
	// the watcher fills); Banned: it is in the timed-ban set. Both are
	// kernel state the caller states, never looked up here.
	Trusted bool
	Banned  bool
}

// EphemeralPorts is the range a sender picks its source port from when a
// test does not name one (Linux's ip_local_port_range default). A rule that
// matches source ports matches an unspecified source port only when it
// covers this whole range: whatever port the sender picks, the rule matches.
var EphemeralPorts = PortRange{32768, 60999}

// Step is one line of an evaluation trace: a rule that was checked, matched
// or not, and why; or a note about a chain (Rule nil).
type Step struct {
	Chain   Chain
	Rule    *Rule  // nil: a note about the chain or the packet
	Matched bool   // the rule matched (terminal or not)
	Outcome string // "no match", "accept", "drop", "dnat to ADDR", "mark CLASS", "continue", or a note
	Why     string
}

// String is one trace line: `checked blocklist scanners (policy.hcl:34): no match (…)`
// or `SIP over udp from provider carrier (gw.hcl:15): accept (…)`.
func (s Step) String() string {
	if s.Rule == nil {
		if s.Why == "" {
			return string(s.Chain) + " chain: " + s.Outcome
		}
		return string(s.Chain) + " chain: " + s.Outcome + " (" + s.Why + ")"
	}
	var b strings.Builder
	if !s.Matched {
		b.WriteString("checked ")
	}
	b.WriteString(RuleName(s.Rule))
	b.WriteString(": ")
	b.WriteString(s.Outcome)
	if s.Why != "" {
		b.WriteString(" (" + s.Why + ")")
	}
	return b.String()
}

// RuleName names a rule for people: what it is for and where it came from,
// e.g. `blocklist scanners (policy.hcl:34)` or `SIP from anyone but a provider (built in)`.
func RuleName(r *Rule) string {
	what := r.Comment
	switch {
	case r.Kind == RuleBlocklist:
		what = "blocklist " + r.Origin.Name
	case r.Kind == RuleRateLimit && r.Rate != nil:
		what = "SIP rate limit " + r.Rate.SIP.String() + " per source"
	}
	if what == "" {
		what = r.ID
	}
	pos := "built in"
	if r.Origin.Range.Filename != "" {
		pos = r.Origin.Pos()
	}
	return what + " (" + pos + ")"
}

// Result is what the policy does with a packet.
type Result struct {
	Verdict Verdict
	Rule    *Rule // the deciding rule: the drop, else the first terminal match; nil when not managed
	Managed bool  // a voicewall rule decided; false: the packet passes to the rest of the firewall
	Trace   []Step
	DNAT    netip.Addr // the destination NAT rewrote to, if any
	Marks   []string   // DSCP classes set on the way (the last one wins on the wire)
	InZone  string     // zone the packet arrived on
	OutZone string     // zone it leaves by after NAT; "" when addressed to the gateway itself
}

// Decision is the verdict in words: `accept by SIP over udp from provider
// carrier (gw.hcl:15)` or `accept: not managed by voicewall, passes`.
func (r Result) Decision() string {
	if r.Rule == nil {
		return string(r.Verdict) + ": not managed by voicewall, passes to the rest of the firewall"
	}
	return string(r.Verdict) + " by " + RuleName(r.Rule)
}

// Source is the policy block the deciding rule came from, `provider "carrier" (gw.hcl:15)`,
// or "" when no rule decided.
func (r Result) Source() string {
	if r.Rule == nil {
		return ""
	}
	return r.Rule.Origin.String()
}

// hook groups chains the way a packet meets them in the kernel: a terminal
// accept ends the rest of its hook's rules, a drop ends everything.
func hookOf(c Chain) int {
	switch c {
	case ChainWAN:
		return 0 // prerouting, filter at mangle priority (before NAT)
	case ChainNAT:
		return 1 // prerouting, dstnat
	default:
		return 2 // forward: voice egress and ingress share one chain
	}
}

// Evaluate walks the policy's ordered rules for the first packet of a new
// flow and returns what happens to it. It is pure: no kernel, no I/O.
//
// The walk follows the nftables rendering: the WAN chain (prerouting, before
// NAT, so ports are the ones the sender addressed), the NAT chain (provider
// SIP/RTP forwarded to a PBX), then the forward chain (voice egress and
// ingress), which only forwarded packets meet. Within a hook the first
// terminal match wins; an accept lets the packet on to the next hook, a
// drop ends the walk. Mark rules set DSCP and continue. Rules that match
// only replies of known flows (Established) never match, and a rate limit
// never drops the first packet of a flow.
//
// The zone a packet leaves by is OutZone's: the compiled rules match the
// interface the router picks, and OutZone stands in for that route.
func (p *Policy) Evaluate(pkt Packet) Result {
	e := evaluator{p: p, src: pkt.Src.Unmap(), dst: pkt.Dst.Unmap(), pkt: pkt, in: pkt.Zone}
	if e.in == "" {
		e.in = ZoneWAN
	}
	e.out = p.OutZone(e.dst, e.in)
	res := Result{Verdict: Accept, InZone: e.in}
	doneHook := -1 // a hook whose rules ended with a terminal accept/dnat
	for _, c := range Chains {
		rules := p.RulesIn(c)
		if len(rules) == 0 {
			continue
		}
		h := hookOf(c)
		if h == doneHook {
			continue
		}
		if note, skip := e.chainNote(c, rules); skip {
			res.Trace = append(res.Trace, note)
			continue
		}
		for _, r := range rules {
			ok, why := e.match(r)
			if !ok {
				res.Trace = append(res.Trace, Step{Chain: r.Chain, Rule: r, Outcome: "no match", Why: why})
				continue
			}
			switch r.Action {
			case ActionMark:
				res.Marks = append(res.Marks, r.DSCP)
				res.Trace = append(res.Trace, Step{Chain: r.Chain, Rule: r, Matched: true, Outcome: "mark " + r.DSCP + ", continue", Why: why})
				continue
			case ActionDropOverRate:
				rate := "the rate limit"
				if r.Rate != nil {
					rate = fmt.Sprintf("%s, burst %d,", r.Rate.SIP, r.Rate.Burst)
				}
				res.Trace = append(res.Trace, Step{Chain: r.Chain, Rule: r, Outcome: "continue",
					Why: why + "; one new packet is within " + rate + " per source"})
				continue
			case ActionDrop:
				res.Verdict, res.Rule, res.Managed = Drop, r, true
				res.Trace = append(res.Trace, Step{Chain: r.Chain, Rule: r, Matched: true, Outcome: "drop", Why: why})
				res.OutZone = e.out
				return res
			case ActionDNAT:
				res.DNAT = r.DNAT
				e.dst = r.DNAT
				e.out = p.OutZone(e.dst, e.in)
				res.Trace = append(res.Trace, Step{Chain: r.Chain, Rule: r, Matched: true, Outcome: "dnat to " + r.DNAT.String(), Why: why + "; now leaves to " + zoneText(e.out)})
			default: // accept
				res.Trace = append(res.Trace, Step{Chain: r.Chain, Rule: r, Matched: true, Outcome: "accept", Why: why})
			}
			if res.Rule == nil {
				res.Rule = r
				res.Managed = true
			}
			doneHook = h // the rest of this hook's rules are not met
			break
		}
	}
	res.OutZone = e.out
	return res
}

func zoneText(z string) string {
	if z == "" {
		return "the gateway itself"
	}
	return "zone " + z
}

// OutZone is the zone a packet to dst arriving on zone in leaves by (after
// NAT; see Evaluate). "" means the gateway itself. The compiled rules match
// the interface the router sends a packet out of (nftables oifname, a
// FortiGate policy's dstintf, pf's "out on"), so this is the route a
// gateway has in the usual layout, in order:
//   - a voice VLAN's subnets: that VLAN; a PBX's address: the PBX's zone;
//   - a provider's signaling or media address: the WAN (providers are
//     reached over it, even at private addresses on a private trunk);
//   - arriving on the WAN: the LAN (what is forwarded from the Internet goes
//     inside);
//   - a private (RFC 1918, IPv6 ULA fc00::/7) or link-local address: the
//     LAN, whose networks are behind the gateway;
//   - anything else, a public address: the WAN.
//
// docs/language.md ("How explain and test choose the egress zone") says
// the same for users.
func (p *Policy) OutZone(dst netip.Addr, in string) string {
	if !dst.IsValid() {
		return ""
	}
	dst = dst.Unmap()
	for _, v := range p.VoiceVLANs {
		if v.Subnets.Contains(dst) {
			return v.Name
		}
	}
	for _, x := range p.PBXes {
		if x.HasAddress(dst) && x.Zone != "" {
			return x.Zone
		}
	}
	for _, pr := range p.Providers {
		if pr.Signaling.Contains(dst) || pr.Media.Contains(dst) {
			return ZoneWAN
		}
	}
	if in == ZoneWAN || dst.IsPrivate() || dst.IsLinkLocalUnicast() {
		return ZoneLAN
	}
	return ZoneWAN
}

type evaluator struct {
	p       *Policy
	pkt     Packet
	src     netip.Addr
	dst     netip.Addr // after NAT
	in, out string
}

// chainNote says why a whole chain is not traversed: every rule in it is
// for another arriving or leaving zone (a compact trace; match would give
// the same answer rule by rule), or the packet is not forwarded.
func (e *evaluator) chainNote(c Chain, rules []*Rule) (Step, bool) {
	if hookOf(c) == 2 && !e.dst.IsValid() {
		return Step{Chain: c, Outcome: "not traversed", Why: "the packet is addressed to the gateway itself, not forwarded"}, true
	}
	if in := sharedZone(rules, func(r *Rule) string { return r.InZone }); in != "" && in != e.in {
		return Step{Chain: c, Outcome: "not traversed", Why: "only packets arriving on " + in + "; this one arrives on " + e.in}, true
	}
	if out := sharedZone(rules, func(r *Rule) string { return r.OutZone }); out != "" && out != e.out {
		return Step{Chain: c, Outcome: "not traversed", Why: "only packets leaving to zone " + out + "; this one leaves to " + zoneText(e.out)}, true
	}
	return Step{}, false
}

// sharedZone is the zone every rule (of a non-empty list) names, or ""
// when they differ or one names none.
func sharedZone(rules []*Rule, zone func(*Rule) string) string {
	z := zone(rules[0])
	for _, r := range rules[1:] {
		if zone(r) != z {
			return ""
		}
	}
	return z
}

// match reports whether the rule matches the packet, with the reason in
// words. It mirrors backends/nftables: interface per zone, address sets per
// family, one rule per protocol of its services.
func (e *evaluator) match(r *Rule) (bool, string) {
	if r.InZone != "" && e.in != r.InZone {
		return false, "arrives on " + e.in + ", rule is for " + r.InZone
	}
	if r.NotInZone != "" && e.in == r.NotInZone {
		return false, "arrives on " + e.in + ", rule excludes it"
	}
	if r.OutZone != "" && e.out != r.OutZone {
		return false, "leaves to " + zoneText(e.out) + ", rule is for zone " + r.OutZone
	}
	if r.Established {
		return false, "only replies of flows already allowed; this is a new flow"
	}
	v6 := e.src.Is6()
	if r.V4Only && v6 || r.V6Only && !v6 {
		return false, "rule is for IPv" + ipv(!v6) + " only, packet is IPv" + ipv(v6)
	}
	switch r.Action {
	case ActionDNAT:
		if r.DNAT.IsValid() && r.DNAT.Is6() != v6 {
			return false, "forwards IPv" + ipv(r.DNAT.Is6()) + " only, packet is IPv" + ipv(v6)
		}
	case ActionMark:
		if v := e.p.VoiceVLAN(r.InZone); v == nil || !v.Subnets.Has(v6) {
			return false, "voice VLAN has no IPv" + ipv(v6) + " subnet"
		}
	}
	var why []string
	if r.Src != nil && r.Src.Dynamic {
		in, what := e.pkt.Banned, "banned"
		if r.Src.Role == RoleTrusted {
			in, what = e.pkt.Trusted, "a trusted remote phone"
		}
		if !in {
			return false, "source " + e.src.String() + " is not " + what + " (" + r.Src.Name + ")"
		}
		why = append(why, "source "+e.src.String()+" is "+what+" ("+r.Src.Name+")")
	} else if r.Src != nil {
		if !r.Src.Set.Contains(e.src) {
			return false, "source " + e.src.String() + " not in " + r.Src.Name
		}
		why = append(why, "source "+e.src.String()+" in "+r.Src.Name)
	}
	if r.Dst != nil {
		if !e.dst.IsValid() || !r.Dst.Set.Contains(e.dst) {
			return false, "destination " + addrText(e.dst) + " not in " + r.Dst.Name
		}
		why = append(why, "destination "+e.dst.String()+" in "+r.Dst.Name)
	}
	if protos := r.Protos(); len(protos) > 0 {
		if !slices.Contains(protos, e.pkt.Proto) {
			return false, "rule is for " + protoList(protos) + ", packet is " + e.pkt.Proto.String()
		}
		dst := r.ServicesFor(e.pkt.Proto, false)
		src := r.ServicesFor(e.pkt.Proto, true)
		if len(r.Services) > 0 && len(dst) == 0 || len(r.SrcServices) > 0 && len(src) == 0 {
			return false, "no " + e.pkt.Proto.String() + " ports in rule"
		}
		if len(dst) > 0 {
			if !rangesContain(dst, e.pkt.DstPort) {
				return false, fmt.Sprintf("destination port %d/%s not in %s", e.pkt.DstPort, e.pkt.Proto, rangesText(dst))
			}
			why = append(why, fmt.Sprintf("destination port %d/%s in %s", e.pkt.DstPort, e.pkt.Proto, rangesText(dst)))
		}
		if len(src) > 0 {
			if e.pkt.SrcPort == 0 {
				if !rangesCover(src, EphemeralPorts) {
					return false, fmt.Sprintf("source port unspecified (ephemeral %s), rule needs source port in %s", EphemeralPorts, rangesText(src))
				}
				why = append(why, "any ephemeral source port is in "+rangesText(src))
			} else {
				if !rangesContain(src, e.pkt.SrcPort) {
					return false, fmt.Sprintf("source port %d not in %s", e.pkt.SrcPort, rangesText(src))
				}
				why = append(why, fmt.Sprintf("source port %d in %s", e.pkt.SrcPort, rangesText(src)))
			}
		}
	}
	if len(why) == 0 {
		why = append(why, "arrives on "+e.in)
	}
	return true, strings.Join(why, ", ")
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return "(the gateway itself)"
	}
	return a.String()
}

func protoList(ps []Proto) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "/")
}

func rangesContain(rs []PortRange, port uint16) bool {
	for _, r := range rs {
		if r.Contains(port) {
			return true
		}
	}
	return false
}

// rangesCover reports whether the union of rs holds every port of want.
// Merged ranges neither overlap nor touch, so one of them holds it all.
func rangesCover(rs []PortRange, want PortRange) bool {
	for _, r := range MergePortRanges(rs) {
		if r.First <= want.First && r.Last >= want.Last {
			return true
		}
	}
	return false
}

func rangesText(rs []PortRange) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	if len(s) == 1 {
		return s[0]
	}
	return "{" + strings.Join(s, ", ") + "}"
}

// Packet is the test packet an expect block describes.
func (x *Expect) Packet() Packet {
	return Packet{Src: x.From, SrcPort: x.FromPort, Zone: x.Zone, Dst: x.To, Proto: x.Service.Proto, DstPort: x.Service.Ports.First, Trusted: x.Trusted, Banned: x.Banned}
}

// Check evaluates an expect block: whether it holds, and what happens.
func (p *Policy) Check(x *Expect) (bool, Result) {
	r := p.Evaluate(x.Packet())
	return r.Verdict == x.Verdict, r
}
