package semdiff

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/voicewall/voicewall/lang"
)

// Outcome is what a policy does with a packet class, as far as meaning
// goes: the verdict, whether voicewall decides it at all, where it is
// forwarded, its DSCP marking and the rate limit its new flows meet. The
// deciding rule is not part of it: a drop by another rule is the same drop.
type Outcome struct {
	Verdict lang.Verdict
	Managed bool       // false: passes to the rest of the firewall
	Forward netip.Addr // destination NAT to a PBX (accepted packets)
	PBX     string     // the PBX forwarded to, for people
	DSCP    string     // last DSCP class set (packets that pass)
	Rate    string     // the per-source rate limit its new flows meet (packets that pass)
}

func (o Outcome) same(p Outcome) bool {
	return o.Verdict == p.Verdict && o.Managed == p.Managed && o.Forward == p.Forward && o.DSCP == p.DSCP && o.Rate == p.Rate
}

// passes: the packet gets through voicewall (accepted or not managed).
func (o Outcome) passes() bool { return o.Verdict != lang.Drop }

// Decider is the policy block whose rule decides a class: `provider
// "carrier"` at gw.hcl:15, or a built-in rule in words (Pos "").
type Decider struct {
	Block string
	Pos   string
}

func (d Decider) text() string {
	switch {
	case d.Block == "":
		return ""
	case d.Pos == "":
		return "built-in: " + d.Block
	}
	return d.Block + ", " + d.Pos
}

// outcome reads an evaluation's result. The rate limit is read off the
// trace: a rate-limit rule the packet met says "continue" (one new packet
// is within the rate), one it did not meet says "no match".
func outcome(p *lang.Policy, r lang.Result) (Outcome, Decider) {
	o := Outcome{Verdict: r.Verdict, Managed: r.Managed}
	var d Decider
	if r.Rule != nil {
		if r.Rule.Origin.Range.Filename == "" {
			d.Block = r.Rule.Comment
		} else {
			d.Block, d.Pos = r.Rule.Origin.Block(), r.Rule.Origin.Pos()
		}
	}
	if r.Verdict == lang.Drop {
		return o, d
	}
	if r.DNAT.IsValid() {
		o.Forward = r.DNAT
		for _, x := range p.PBXes {
			if x.HasAddress(r.DNAT) {
				o.PBX = x.Name
			}
		}
	}
	if n := len(r.Marks); n > 0 {
		o.DSCP = r.Marks[n-1]
	}
	for _, s := range r.Trace {
		if s.Rule != nil && s.Rule.Action == lang.ActionDropOverRate && s.Outcome != "no match" && s.Rule.Rate != nil {
			o.Rate = fmt.Sprintf("%s, burst %d", s.Rule.Rate.SIP, s.Rule.Rate.Burst)
		}
	}
	return o, d
}

// change is what differs for a class: both outcomes and both deciders.
type change struct {
	Old, New     Outcome
	OldBy, NewBy Decider
}

// space is the packet space both policies tell apart: zones, source and
// destination address classes, protocols and, per protocol, source and
// destination port classes.
type space struct {
	pol    [2]*lang.Policy
	zones  []string
	src    *partition
	dst    *partition
	protos []lang.Proto
	other  int       // index in protos of the class "any other protocol" (no ports)
	dyns   []Dynamic // run-time set memberships a source can have
	// outZones are, per policy and zone, the leaving zones its rules test
	// (Rule.OutZone): where a packet leaves matters only as one of these.
	outZones [2]map[string]map[string]bool
	// srcGroups and dstGroups are, per zone × run-time membership, the
	// address classes evaluated together (one projection in both policies).
	srcGroups, dstGroups [][][]int
	dports               [][]lang.PortRange // per protocol
	sports               [][]lang.PortRange
	classes              int // packet classes compared
	evals                int // evaluations run (after sharing)
}

// localNets are the addresses Policy.OutZone routes to the LAN by kind:
// RFC 1918 and RFC 4193 private, and link-local unicast.
var localNets = lang.NewAddrSet(
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fc00::/7"), netip.MustParsePrefix("fe80::/10"))

// zonesOf are the zones a packet meeting r can arrive on.
func zonesOf(r *lang.Rule, all []string) map[string]bool {
	out := map[string]bool{}
	for _, z := range all {
		if (r.InZone == "" || r.InZone == z) && r.NotInZone != z {
			out[z] = true
		}
	}
	return out
}

func newSpace(old, new *lang.Policy) *space {
	s := &space{pol: [2]*lang.Policy{old, new}}
	seen := map[string]bool{}
	for _, p := range s.pol {
		for _, z := range p.Zones() {
			if !seen[z] {
				seen[z] = true
				s.zones = append(s.zones, z)
			}
		}
	}
	var srcSets, dstSets []*addrSet
	type key struct {
		ref  *lang.AddrRef
		side int
	}
	srcIdx, dstIdx := map[key]*addrSet{}, map[key]*addrSet{}
	addRef := func(idx map[key]*addrSet, list *[]*addrSet, ref *lang.AddrRef, side int, zones map[string]bool) {
		k := key{ref, side}
		if a, ok := idx[k]; ok {
			for z := range zones {
				a.zones[z] = true
			}
			return
		}
		a := &addrSet{set: ref.Set, side: side, zones: zones}
		idx[k] = a
		*list = append(*list, a)
	}
	var trusted, banned bool
	protoSeen := map[lang.Proto]bool{lang.TCP: true, lang.UDP: true}
	s.protos = []lang.Proto{lang.TCP, lang.UDP}
	dports, sports := map[lang.Proto][]lang.PortRange{}, map[lang.Proto][]lang.PortRange{}
	for side, p := range s.pol {
		s.outZones[side] = map[string]map[string]bool{}
		for _, r := range p.Rules {
			zones := zonesOf(r, s.zones)
			if r.OutZone != "" {
				for z := range zones {
					if s.outZones[side][z] == nil {
						s.outZones[side][z] = map[string]bool{}
					}
					s.outZones[side][z][r.OutZone] = true
				}
			}
			switch {
			case r.Src != nil && r.Src.Dynamic:
				// Run-time elements (bans, trusted phones): a dimension of
				// its own, since the policy cannot say which addresses.
				if r.Src.Role == lang.RoleTrusted {
					trusted = true
				} else {
					banned = true
				}
			case r.Src != nil:
				addRef(srcIdx, &srcSets, r.Src, side, zones)
			}
			if r.Dst != nil {
				addRef(dstIdx, &dstSets, r.Dst, side, zones)
			}
			for _, sv := range r.Services {
				dports[sv.Proto] = append(dports[sv.Proto], sv.Ports)
			}
			for _, sv := range r.SrcServices {
				sports[sv.Proto] = append(sports[sv.Proto], sv.Ports)
			}
			for _, pr := range r.Protos() {
				if !protoSeen[pr] {
					protoSeen[pr] = true
					s.protos = append(s.protos, pr)
				}
			}
		}
		// Where a packet leaves decides which rules it meets
		// (Policy.OutZone): the voice VLANs' subnets, the PBXes' and the
		// providers' addresses split destinations too.
		// These split classes (so that the leaving zone is one per class)
		// but no zone's projection looks at them: run keys classes by the
		// leaving zone Policy.OutZone gives instead.
		nowhere := map[string]bool{}
		for _, pr := range p.Providers {
			dstSets = append(dstSets, &addrSet{set: pr.Signaling, side: side, zones: nowhere}, &addrSet{set: pr.Media, side: side, zones: nowhere})
		}
		for _, v := range p.VoiceVLANs {
			dstSets = append(dstSets, &addrSet{set: v.Subnets, side: side, zones: nowhere})
		}
		for _, x := range p.PBXes {
			var ps []netip.Prefix
			for _, a := range x.Addresses() {
				ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
			}
			dstSets = append(dstSets, &addrSet{set: lang.NewAddrSet(ps...), side: side, zones: nowhere})
		}
	}
	// ... and so do private and link-local addresses (routed to the LAN),
	// as net/netip's IsPrivate and IsLinkLocalUnicast define them.
	dstSets = append(dstSets, &addrSet{set: localNets, side: -1, zones: map[string]bool{}})
	slices.Sort(s.protos[2:])
	// Any other protocol (ICMP, GRE, ...): one class, the first number no
	// rule names (1, ICMP, unless some rule does).
	other := lang.Proto(1)
	for protoSeen[other] {
		other++
	}
	s.other = len(s.protos)
	s.protos = append(s.protos, other)
	for _, pr := range s.protos {
		if pr == other {
			s.dports = append(s.dports, []lang.PortRange{{}})
			s.sports = append(s.sports, []lang.PortRange{{}})
			continue
		}
		s.dports = append(s.dports, portClasses(dports[pr]))
		s.sports = append(s.sports, portClasses(sports[pr]))
	}
	s.dyns = []Dynamic{{}}
	if banned {
		s.dyns = append(s.dyns, Dynamic{Banned: true})
	}
	if trusted {
		s.dyns = append(s.dyns, Dynamic{Trusted: true})
		if banned {
			s.dyns = append(s.dyns, Dynamic{Trusted: true, Banned: true})
		}
	}
	s.src = newPartition(srcSets)
	s.dst = newPartition(dstSets)
	return s
}

// Dynamic is a source's membership in the sets filled at run time: a
// timed ban, a trusted remote phone. The policy cannot say which addresses
// they hold; the diff evaluates every membership a rule can tell apart.
type Dynamic struct {
	Trusted bool `json:"trusted,omitempty"`
	Banned  bool `json:"banned,omitempty"`
}

// cell is one packet class whose outcome differs.
type cell struct {
	// zone indexes space.zones × space.dyns; src and dst are groups of
	// that zone (space.srcGroups, dstGroups); dst -1: the gateway itself
	// from IPv4, -2 from IPv6.
	zone, src, dst int
	proto, sp, dp  int
	ch             int // index into changes
}

type memoKey struct {
	side, zone, src, dst, proto, sp, dp int
}

type memoVal struct {
	o Outcome
	d Decider
}

// run evaluates every class in both policies (each distinct projection once
// per policy) and returns the classes whose outcomes differ.
func (s *space) run() ([]cell, []change) {
	var cells []cell
	var changes []change
	chIdx := map[change]int{}
	memo := map[memoKey]memoVal{}
	for zdi := range len(s.zones) * len(s.dyns) {
		zi, dyn := zdi/len(s.dyns), s.dyns[zdi%len(s.dyns)]
		zone := s.zones[zi]
		var ps, pd [2][]int
		for side := range 2 {
			ps[side] = s.src.projection(side, zone, nil)
			outs := s.outZones[side][zone]
			pd[side] = s.dst.projection(side, zone, func(c *addrClass) string {
				if z := s.pol[side].OutZone(c.rep, zone); outs[z] {
					return "\x00" + z
				}
				return "\x00-" // leaves where no rule of this zone looks
			})
		}
		// Ports the same way: a class is told apart only by the ranges of
		// rules that can match in this zone.
		var pp [2][2][][]int // side, source/destination, protocol → class → projection
		for side := range 2 {
			pp[side][0] = s.portProjection(side, zone, true)
			pp[side][1] = s.portProjection(side, zone, false)
		}
		sg, dg := groups(ps), groups(pd)
		s.srcGroups = append(s.srcGroups, sg)
		s.dstGroups = append(s.dstGroups, dg)
		for gi, sgroup := range sg {
			si := sgroup[0]
			sc := &s.src.classes[si]
			for gj := -1; gj < len(dg); gj++ {
				var dst netip.Addr
				di := -1
				if gj >= 0 {
					di = dg[gj][0]
					dc := &s.dst.classes[di]
					if dc.v6 != sc.v6 {
						continue // a packet's addresses are of one family
					}
					dst = dc.rep
				}
				for pi, proto := range s.protos {
					for spi, sp := range s.sports[pi] {
						for dpi, dp := range s.dports[pi] {
							s.classes += len(sgroup) * max(1, len(groupAt(dg, gj)))
							pkt := lang.Packet{Src: sc.rep, SrcPort: sp.First, Zone: zone, Dst: dst, Proto: proto, DstPort: dp.First, Trusted: dyn.Trusted, Banned: dyn.Banned}
							var res [2]memoVal
							for side := range 2 {
								k := memoKey{side, zdi, ps[side][si], -1, pi, pp[side][0][pi][spi], pp[side][1][pi][dpi]}
								if di >= 0 {
									k.dst = pd[side][di]
								}
								v, ok := memo[k]
								if !ok {
									s.evals++
									v.o, v.d = outcome(s.pol[side], s.pol[side].Evaluate(pkt))
									memo[k] = v
								}
								res[side] = v
							}
							if res[0].o.same(res[1].o) {
								continue
							}
							ch := change{Old: res[0].o, New: res[1].o, OldBy: res[0].d, NewBy: res[1].d}
							ci, ok := chIdx[ch]
							if !ok {
								ci = len(changes)
								chIdx[ch] = ci
								changes = append(changes, ch)
							}
							d := gj
							if d < 0 && sc.v6 {
								d = -2
							}
							cells = append(cells, cell{zdi, gi, d, pi, spi, dpi, ci})
						}
					}
				}
			}
		}
	}
	return cells, changes
}

// portProjection maps each port class of each protocol to the ranges of
// the rules of one policy that can match in zone which hold it (source
// ports with src): classes no such rule tells apart share an evaluation.
func (s *space) portProjection(side int, zone string, src bool) [][]int {
	out := make([][]int, len(s.protos))
	for pi, proto := range s.protos {
		var ranges []lang.PortRange
		for _, r := range s.pol[side].Rules {
			if (r.InZone != "" && r.InZone != zone) || r.NotInZone == zone {
				continue
			}
			ranges = append(ranges, r.ServicesFor(proto, src)...)
		}
		classes := s.dports[pi]
		if src {
			classes = s.sports[pi]
		}
		ids := map[string]int{}
		out[pi] = make([]int, len(classes))
		key := make([]byte, len(ranges))
		for ci, c := range classes {
			for i, r := range ranges {
				key[i] = 0
				if r.Contains(c.First) {
					key[i] = 1
				}
			}
			id, ok := ids[string(key)]
			if !ok {
				id = len(ids)
				ids[string(key)] = id
			}
			out[pi][ci] = id
		}
	}
	return out
}

// groups gathers the classes with one projection in both policies.
func groups(proj [2][]int) [][]int {
	idx := map[[2]int]int{}
	var out [][]int
	for c := range proj[0] {
		k := [2]int{proj[0][c], proj[1][c]}
		g, ok := idx[k]
		if !ok {
			g = len(out)
			idx[k] = g
			out = append(out, nil)
		}
		out[g] = append(out[g], c)
	}
	return out
}

func groupAt(gs [][]int, i int) []int {
	if i < 0 {
		return nil
	}
	return gs[i]
}

// blocks lists the policy blocks (as Origin.Block spells them) that have
// rules in p: a decider whose block is not among the new policy's was removed.
func blocks(p *lang.Policy) map[string]bool {
	out := map[string]bool{}
	for _, r := range p.Rules {
		if r.Origin.Range.Filename != "" {
			out[r.Origin.Block()] = true
		}
	}
	return out
}

func zoneIndex(zones []string, z string) int {
	for i, x := range zones {
		if x == z {
			return i
		}
	}
	return len(zones)
}

func joinInts(xs []int) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, x)
	}
	return b.String()
}
