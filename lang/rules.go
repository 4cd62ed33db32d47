package lang

import "net/netip"

// Chain groups rules by where a packet meets them. Within a chain rules are
// evaluated in order and the first terminal verdict wins; a packet no rule
// decides is not managed by voicewall and passes to the rest of the firewall.
type Chain string

const (
	// ChainWAN sees every packet arriving on the WAN zone, before any
	// destination NAT (ports are the ones the provider addressed).
	ChainWAN Chain = "wan"
	// ChainNAT rewrites the destination of provider SIP/RTP to a PBX.
	ChainNAT Chain = "nat"
	// ChainVoiceEgress sees packets from a voice VLAN leaving through the WAN
	// (DSCP marking and the toll-fraud guard).
	ChainVoiceEgress Chain = "voice_egress"
	// ChainVoiceIngress sees packets forwarded into a voice VLAN (management guard).
	ChainVoiceIngress Chain = "voice_ingress"
)

// Chains in the order a packet meets them.
var Chains = []Chain{ChainWAN, ChainNAT, ChainVoiceEgress, ChainVoiceIngress}

// RuleKind says what protection a rule implements; backends use it to pick
// the native construct, and status groups counters by it.
type RuleKind string

const (
	RuleBlocklist       RuleKind = "blocklist"         // drop sources in a blocklist
	RuleRateLimit       RuleKind = "rate_limit"        // drop SIP over the per-source rate
	RuleClosed          RuleKind = "closed"            // drop a closed port
	RuleEstablished     RuleKind = "established"       // accept replies of flows already allowed
	RuleProviderSIP     RuleKind = "provider_sip"      // accept SIP from a provider's signaling
	RuleProviderRTP     RuleKind = "provider_rtp"      // accept RTP from a provider's media
	RuleSIPDefault      RuleKind = "sip_default"       // drop other SIP
	RuleRTPDefault      RuleKind = "rtp_default"       // drop other RTP
	RuleDNAT            RuleKind = "dnat"              // forward provider SIP/RTP to a PBX
	RuleDSCP            RuleKind = "dscp"              // mark voice traffic (non-terminal)
	RulePhoneSIP        RuleKind = "phone_sip"         // phones' SIP to their providers
	RulePhoneRTP        RuleKind = "phone_rtp"         // phones' RTP to their providers
	RulePhoneSIPDefault RuleKind = "phone_sip_default" // phones' SIP elsewhere (toll fraud)
	RulePhoneRTPDefault RuleKind = "phone_rtp_default" // phones' RTP elsewhere
	RuleMgmt            RuleKind = "management"        // management access to phones
	RuleMgmtDefault     RuleKind = "management_default"
	// Voice VLAN egress besides SIP/RTP (voice_vlan.allow_out).
	RulePhoneRTPSymmetric RuleKind = "phone_rtp_symmetric" // phones' RTP to a symmetric-RTP provider that publishes no media: any destination
	RuleEgressEstablished RuleKind = "egress_established"  // replies leaving the VLAN of flows already allowed
	RuleAllowOut          RuleKind = "allow_out"           // an allow_out entry
	RuleEgressDefault     RuleKind = "egress_default"      // everything else from the VLAN to the WAN (with allow_out)
	// The responsive blocks.
	RuleBan              RuleKind = "ban"                // drop sources with a timed ban, every port
	RuleRemoteTrustedSIP RuleKind = "remote_trusted_sip" // SIP from a trusted remote phone, not limited
	RuleRemoteTrustedRTP RuleKind = "remote_trusted_rtp" // RTP from a trusted remote phone to the PBX
	RuleRemoteRateLimit  RuleKind = "remote_rate_limit"  // drop new SIP flows over the remote phones' rate per source
	RuleRemoteSIP        RuleKind = "remote_sip"         // SIP from any source for remote_phones (rate-limited above)
)

// RuleKinds are the words status shows for each kind's counters: what the
// kind counts, for people. Every RuleKind has an entry (TestRuleKindWords).
var RuleKinds = map[RuleKind]string{
	RuleBlocklist:         "dropped: blocklisted sources",
	RuleRateLimit:         "dropped: SIP over the rate limit",
	RuleClosed:            "dropped: closed ports",
	RuleSIPDefault:        "dropped: SIP not from a provider",
	RuleRTPDefault:        "dropped: RTP not from provider media",
	RulePhoneSIPDefault:   "dropped: phones' SIP to others than their providers",
	RulePhoneRTPDefault:   "dropped: phones' RTP to others than their providers",
	RuleMgmtDefault:       "dropped: phone management from elsewhere",
	RuleEgressDefault:     "dropped: other traffic from phones to the WAN (allow_out)",
	RuleBan:               "dropped: banned sources",
	RuleRemoteRateLimit:   "dropped: remote phones' SIP over their rate limit",
	RuleProviderSIP:       "accepted: provider SIP",
	RuleProviderRTP:       "accepted: provider RTP",
	RuleEstablished:       "accepted: replies of known voice flows",
	RuleEgressEstablished: "accepted: replies to phones' allowed flows",
	RuleDNAT:              "forwarded to a PBX",
	RulePhoneSIP:          "accepted: phones' SIP to their providers",
	RulePhoneRTP:          "accepted: phones' RTP to their providers",
	RulePhoneRTPSymmetric: "accepted: phones' RTP to symmetric-RTP providers",
	RuleAllowOut:          "accepted: phones' traffic allowed out (allow_out)",
	RuleMgmt:              "accepted: phone management",
	RuleRemoteTrustedSIP:  "accepted: SIP from trusted remote phones",
	RuleRemoteTrustedRTP:  "accepted: RTP from trusted remote phones",
	RuleRemoteSIP:         "accepted: SIP from remote phones (rate-limited)",
	RuleDSCP:              "marked (DSCP)",
}

// Words is what the kind counts, in words; the raw kind when unknown (a
// counter read from an older table).
func (k RuleKind) Words() string {
	if w, ok := RuleKinds[k]; ok {
		return w
	}
	return string(k)
}

// Action is what a rule does when it matches.
type Action string

const (
	ActionAccept       Action = "accept"
	ActionDrop         Action = "drop"
	ActionDropOverRate Action = "drop_over_rate" // drop when the source exceeds RateLimit
	ActionDNAT         Action = "dnat"
	ActionMark         Action = "mark" // set DSCP and continue
)

// Terminal reports whether a match ends evaluation.
func (a Action) Terminal() bool { return a != ActionMark }

// SetRole says what a named address set is for. Backends choose names,
// comments and native constructs by it, never by parsing the set's name.
type SetRole string

const (
	RoleSignaling   SetRole = "signaling"    // a provider's SIP signaling addresses
	RoleMedia       SetRole = "media"        // a provider's RTP media addresses
	RoleBlocklist   SetRole = "blocklist"    // a blocklist's merged addresses
	RoleVLANSubnets SetRole = "vlan_subnets" // a voice VLAN's subnets (the phones)
	RoleManagement  SetRole = "management"   // who may manage a voice VLAN's phones
	RoleAllowOut    SetRole = "allow_out"    // what a voice VLAN may reach besides its providers
	RoleBanned      SetRole = "banned"       // sources with a timed ban (run-time elements)
	RoleTrusted     SetRole = "trusted"      // remote phones that registered (run-time elements)
)

// AddrRef is a named address set. The name is stable, unique in the policy,
// and safe in every target ([a-z0-9_], starts with a letter, <= 48 chars);
// targets with shorter limits derive their own names from Role and Owner.
type AddrRef struct {
	Name  string
	Set   AddrSet
	Role  SetRole
	Owner Origin // the block that declares the set: its kind, label and source position
	// Dynamic: the set's elements are added at run time with a timeout
	// (bans, trusted phones); Set is empty and both families exist. The
	// policy never manages its elements.
	Dynamic bool
	// Interval: a Dynamic set that holds prefixes (bans), not only hosts.
	Interval bool
}

// OwnerID is the owner block's label as an identifier fragment ([a-z0-9_]).
func (r *AddrRef) OwnerID() string { return id(r.Owner.Name) }

// Rule is one abstract rule. Zero-valued match fields match anything.
type Rule struct {
	ID    string // stable, unique, [a-z0-9_]
	Chain Chain
	Kind  RuleKind

	InZone    string // zone the packet arrives on ("" any)
	NotInZone string // zone the packet must not arrive on (management: never WAN)
	OutZone   string // zone it leaves by ("" any)

	Src *AddrRef // nil: any source
	Dst *AddrRef // nil: any destination

	// Services match the destination protocol/port; SrcServices the source
	// protocol/port. Empty: any. When both are set, the protocols agree.
	Services    []Service
	SrcServices []Service

	// Established matches only packets of flows conntrack already knows
	// (replies). Policy tests evaluate new flows, which it never matches.
	Established bool
	// NewFlows matches only packets of flows conntrack has seen no reply
	// for (state new): the rate limit counts new SIP flows, never a
	// provider's established ones. Policy tests evaluate new flows.
	NewFlows bool

	Action Action
	Rate   *RateLimit // ActionDropOverRate
	DNAT   netip.Addr // ActionDNAT: new destination address (ports kept)
	DSCP   string     // ActionMark: class name, a key of DSCPValues
	Log    bool       // log the drop (rate-limited by Policy.Log)

	// V4Only / V6Only restrict a rule that names no address set to one
	// family (remote_phones' rules: only the families its PBX has).
	V4Only, V6Only bool

	Comment string // what the rule is for, in words
	Origin  Origin // the block it came from

	// Relations lower decides once, so that no backend re-derives them.
	PBX *PBX // RuleDNAT: the PBX the rule forwards to
	// Forwards are, on a WAN accept, the DNAT rules (in NAT order) that
	// forward part of what it accepts to a PBX: same source set, common services.
	Forwards []*Rule
	// Mark is, on an accept, the DSCP marking rule that applies to all of
	// what it accepts (the last covering mark before it in its chain), nil: none.
	Mark *Rule
}

// Family restriction derived from the rule's address sets: a rule whose sets
// hold only IPv4 renders only for IPv4, and so on.
func (r *Rule) Families() (v4, v6 bool) {
	v4, v6 = !r.V6Only, !r.V4Only
	for _, ref := range []*AddrRef{r.Src, r.Dst} {
		if ref == nil || ref.Dynamic {
			continue
		}
		v4 = v4 && ref.Set.Has(false)
		v6 = v6 && ref.Set.Has(true)
	}
	if r.Action == ActionDNAT && r.DNAT.IsValid() {
		v4 = v4 && r.DNAT.Is4()
		v6 = v6 && r.DNAT.Is6()
	}
	return v4, v6
}

// Protos lists the protocols the rule's services use, in order (tcp, udp).
func (r *Rule) Protos() []Proto {
	var has [256]bool
	for _, s := range r.Services {
		has[s.Proto] = true
	}
	for _, s := range r.SrcServices {
		has[s.Proto] = true
	}
	var out []Proto
	for _, p := range []Proto{TCP, UDP} {
		if has[p] {
			out = append(out, p)
		}
	}
	return out
}

// ServicesFor returns the destination (src=false) or source port ranges of one protocol.
func (r *Rule) ServicesFor(p Proto, src bool) []PortRange {
	list := r.Services
	if src {
		list = r.SrcServices
	}
	var out []PortRange
	for _, s := range list {
		if s.Proto == p {
			out = append(out, s.Ports)
		}
	}
	return out
}

// RulesIn returns the rules of one chain, in order.
func (p *Policy) RulesIn(c Chain) []*Rule {
	var out []*Rule
	for _, r := range p.Rules {
		if r.Chain == c {
			out = append(out, r)
		}
	}
	return out
}

// Sets returns every named address set the rules use, once, in first-use order.
func (p *Policy) Sets() []*AddrRef {
	seen := map[string]bool{}
	var out []*AddrRef
	for _, r := range p.Rules {
		for _, ref := range []*AddrRef{r.Src, r.Dst} {
			if ref != nil && !seen[ref.Name] {
				seen[ref.Name] = true
				out = append(out, ref)
			}
		}
	}
	return out
}
