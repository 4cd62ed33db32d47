package lang

import (
	"cmp"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Policy is the validated, resolved, target-neutral model every backend
// renders and the evaluator walks. Nothing in it needs HCL to be understood;
// the hcl.Range values are kept only to point users back at their source.
//
// Slices are sorted by name so that every rendering is deterministic.
type Policy struct {
	Root       string // the PATH the policy was loaded from (file or directory)
	Targets    map[string]*Target
	Providers  []*Provider
	PBXes      []*PBX
	VoiceVLANs []*VoiceVLAN
	RTP        PortRange // the local media range (rtp.ports), default 10000-20000
	RTPSource  Origin
	Closed     []ClosedPort // explicit close.ports plus cleartext SIP closed because every provider is TLS-only
	RateLimit  *RateLimit
	Blocklists []*Blocklist
	Log        *Log
	Expects    []*Expect

	// The responsive blocks (nil/empty when absent): SIP from anywhere to
	// a PBX, timed bans, the logs the watcher reads.
	RemotePhones *RemotePhones
	Ban          *Ban
	Watches      []*Watch

	// Rules is the one ordered list of abstract rules, in evaluation order
	// within each chain. Backends render it; the evaluator walks it.
	Rules []*Rule
}

// Origin says which policy block a fact came from, for comments, plan
// grouping, status counters and explain traces.
type Origin struct {
	Kind  string    // "provider", "pbx", "voice_vlan", "rtp", "close", "rate_limit", "blocklist", "log", "target", "expect"
	Name  string    // block label, "" for unlabelled blocks
	Range hcl.Range // Filename is relative to the policy root
}

// Block renders the block as written: `provider "telnyx"` or `close`.
func (o Origin) Block() string {
	if o.Name == "" {
		return o.Kind
	}
	return o.Kind + ` "` + o.Name + `"`
}

// Pos is "file:line".
func (o Origin) Pos() string {
	if o.Range.Filename == "" {
		return "default"
	}
	return o.Range.Filename + ":" + strconv.Itoa(o.Range.Start.Line)
}

// String is `provider "telnyx" (gw.hcl:12)`.
func (o Origin) String() string { return o.Block() + " (" + o.Pos() + ")" }

// Target carries one target block's interface names (zones → device names)
// and target-specific settings.
type Target struct {
	Name   string
	WAN    string
	LAN    string
	Origin Origin
	// Extra holds target-specific string attributes (e.g. fortigate "version",
	// "wan_ip", "blocklist_url"); the backend that owns the target
	// interprets them. Keys are validated against the schema in lang.
	Extra map[string]string
	// AcceptGaps are the capability gaps of this target accepted in review
	// (accept_gaps = [...]): the compile succeeds without them and the
	// output states each one. Names are keys of GapNames.
	AcceptGaps []AcceptedGap
}

// AcceptedGap is one entry of a target's accept_gaps, with its position
// (a stale acceptance is warned about there).
type AcceptedGap struct {
	Name  string
	Range hcl.Range
}

// Accepts returns the accept_gaps entry for a gap, if listed.
func (t *Target) Accepts(gap string) (AcceptedGap, bool) {
	for _, g := range t.AcceptGaps {
		if g.Name == gap {
			return g, true
		}
	}
	return AcceptedGap{}, false
}

// Gap names a class of protection a target may be unable to express. A
// backend reports every gap under one of these names (GapInternal for
// rules it has no rendering for at all, which cannot be accepted), and a
// target block may accept some in review with accept_gaps.
const (
	GapRateLimit    = "rate_limit"    // the per-source SIP rate limit (new flows per source address)
	GapDSCP         = "dscp"          // DSCP marking of SIP and RTP from voice VLANs
	GapBlocklist    = "blocklist"     // a blocklist the target cannot hold or apply everywhere
	GapAddress6     = "address6"      // forwarding IPv6 SIP/RTP to pbx.address6 (IPv6 destination NAT)
	GapIPv6         = "ipv6"          // IPv6 rules in general
	GapCapacity     = "capacity"      // rules or objects beyond the target's tables
	GapSymmetricRTP = "symmetric_rtp" // RTP accepted only on flows opened from inside
	GapAllowOut     = "allow_out"     // the voice VLAN egress allow-list
	GapResponsive   = "responsive"    // run-time sets: timed bans, trusted remote phones (watch, ban)
	GapInternal     = ""              // a rule the backend has no rendering for: a bug, never accepted
)

// GapNames are the gaps accept_gaps may list, with what each leaves out.
var GapNames = map[string]string{
	GapRateLimit:    "the per-source SIP rate limit",
	GapDSCP:         "DSCP marking of voice traffic",
	GapBlocklist:    "a blocklist the target cannot hold or apply to every path",
	GapAddress6:     "forwarding IPv6 SIP/RTP to the PBX's address6",
	GapIPv6:         "IPv6 rules",
	GapCapacity:     "rules or objects beyond the target's tables",
	GapSymmetricRTP: "symmetric-RTP acceptance of provider media",
	GapAllowOut:     "the voice VLAN's egress allow-list",
	GapResponsive:   "timed bans and trusted remote phones (sets filled at run time by watch and ban)",
}

// GapNameList is GapNames' keys, sorted.
func GapNameList() []string {
	out := make([]string, 0, len(GapNames))
	for k := range GapNames {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Zone interface name for this target: "wan", "lan" or a voice VLAN name.
func (t *Target) Interface(zone string, p *Policy) string {
	switch zone {
	case ZoneWAN:
		return t.WAN
	case ZoneLAN:
		return t.LAN
	}
	if v := p.VoiceVLAN(zone); v != nil {
		return t.VLANInterface(v)
	}
	return ""
}

// VLANInterface is the device carrying a voice VLAN on this target:
// Linux and pfSense name it "<parent>.<id>"; other targets use their own names
// and may ignore this.
func (t *Target) VLANInterface(v *VoiceVLAN) string {
	parent := t.LAN
	if v.Parent == ZoneWAN {
		parent = t.WAN
	}
	return parent + "." + strconv.Itoa(int(v.ID))
}

const (
	ZoneWAN = "wan"
	ZoneLAN = "lan"
)

// Transport is how a provider speaks SIP.
type Transport string

const (
	TransportUDP Transport = "udp"
	TransportTCP Transport = "tcp"
	TransportTLS Transport = "tls"
)

// Provider is a SIP trunk or hosted-VoIP provider.
type Provider struct {
	Name       string
	Signaling  AddrSet
	Media      AddrSet
	Transports []Transport // sorted: udp, tcp, tls order as in TransportOrder
	SIPPort    uint16
	// SIPPortLast ends the range SIPPort..SIPPortLast for a provider whose
	// udp and tcp SIP use a range of ports (0: SIPPort alone).
	SIPPortLast uint16
	TLSPort     uint16
	// SymmetricRTP: the provider's media comes from addresses it does not
	// publish; its RTP is accepted only on flows the PBX or a phone opened
	// first (conntrack established/related), never unsolicited, and never
	// forwarded to a PBX by DNAT. Media, when given, is where phones may
	// send RTP.
	SymmetricRTP bool
	Origin       Origin
	// Catalog is the catalog entry the provider's ranges come from ("" when
	// it names none), with that entry's first source and verified date.
	Catalog, CatalogSource, CatalogVerified string
	// PinnedSignaling and PinnedMedia are the ranges the block lists itself
	// (Signaling and Media also hold the catalog's and DNS's).
	PinnedSignaling, PinnedMedia []netip.Prefix
	// DNS are the signaling_dns answers, part of Signaling.
	DNS []DNSUse
}

// SIPServices are the protocol/port pairs the provider's transports use.
func (p *Provider) SIPServices() []Service {
	var out []Service
	for _, t := range p.Transports {
		out = append(out, p.TransportService(t))
	}
	return out
}

// TransportService is the wire protocol and port of one transport.
func (p *Provider) TransportService(t Transport) Service {
	switch t {
	case TransportTCP:
		return Service{TCP, p.SIPPortRange()}
	case TransportTLS:
		return Service{TCP, PortRange{p.TLSPort, p.TLSPort}}
	}
	return Service{UDP, p.SIPPortRange()}
}

// SIPPortRange is the port (or ports) of the provider's udp and tcp SIP.
func (p *Provider) SIPPortRange() PortRange {
	if p.SIPPortLast > p.SIPPort {
		return PortRange{p.SIPPort, p.SIPPortLast}
	}
	return PortRange{p.SIPPort, p.SIPPort}
}

// TLSOnly reports whether the provider speaks only SIP over TLS.
func (p *Provider) TLSOnly() bool {
	return len(p.Transports) == 1 && p.Transports[0] == TransportTLS
}

// PBX is an on-premises PBX that inbound provider SIP/RTP is forwarded to.
type PBX struct {
	Name      string
	Address   netip.Addr
	Address6  netip.Addr // optional: where IPv6 SIP/RTP from IPv6 providers is forwarded
	Providers []*Provider
	RTPPorts  PortRange
	Zone      string // the zone whose subnet holds the address ("lan" when none does)
	Origin    Origin
}

// VoiceVLAN is a voice network segment.
type VoiceVLAN struct {
	Name            string
	ID              uint16
	Parent          string // zone: "lan" (or "wan")
	Subnets         AddrSet
	SubnetPrefixes  []netip.Prefix // as written (gateway addressing for vendor targets)
	Providers       []*Provider
	Management      AddrSet
	ManagementGiven bool      // management = [...] was written; [] means nobody
	ManagementPorts []Service // the phones' web UI, SSH, telnet, SNMP
	DSCP            string    // RTP marking, e.g. "ef"; SIP is marked SIPDSCP
	// AllowOut lists what phones may reach on the WAN besides their
	// providers' SIP/RTP; with AllowOutGiven everything else from the VLAN
	// to the WAN is dropped. Without it only SIP and RTP are guarded.
	AllowOut      []AllowOut
	AllowOutGiven bool
	Origin        Origin
}

// AllowOut is one voice_vlan.allow_out entry: [ADDRESS[/PREFIX]:]PORT[-PORT]/PROTO.
type AllowOut struct {
	Dst     netip.Prefix // invalid: any destination
	Service Service
	Text    string // as written
	Range   hcl.Range
}

// Addresses lists the PBX's addresses (v4 and v6 as given), in that order.
func (x *PBX) Addresses() []netip.Addr {
	var out []netip.Addr
	for _, a := range []netip.Addr{x.Address, x.Address6} {
		if a.IsValid() {
			out = append(out, a)
		}
	}
	return out
}

// HasAddress reports whether a is one of the PBX's addresses.
func (x *PBX) HasAddress(a netip.Addr) bool {
	for _, b := range x.Addresses() {
		if b.Unmap() == a.Unmap() {
			return true
		}
	}
	return false
}

// Family reports whether the PBX has an address of that family.
func (x *PBX) Family(v6 bool) bool {
	for _, a := range x.Addresses() {
		if a.Is6() == v6 {
			return true
		}
	}
	return false
}

// Gateway is the firewall's own address on the VLAN for one family, as
// every target writes it: the address of the first subnet of that family
// when it names a host (10.20.0.254/24), else that subnet's first host
// (10.20.0.0/24 gives 10.20.0.1/24; a /31 or /32 keeps its address).
// ok is false when the VLAN has no subnet of that family.
func (v *VoiceVLAN) Gateway(v6 bool) (netip.Prefix, bool) {
	for _, p := range v.SubnetPrefixes {
		if p.Addr().Is6() != v6 {
			continue
		}
		a := p.Addr()
		if a == p.Masked().Addr() && p.Bits() < a.BitLen()-1 {
			a = a.Next()
		}
		return netip.PrefixFrom(a, p.Bits()), true
	}
	return netip.Prefix{}, false
}

// SubnetsSet is the named address set of the VLAN's subnets, as the rules
// that match the phones' addresses use it.
func (v *VoiceVLAN) SubnetsSet() *AddrRef {
	return &AddrRef{Name: "vlan_" + id(v.Name) + "_subnets", Set: v.Subnets, Role: RoleVLANSubnets, Owner: v.Origin}
}

// SIPDSCP is the class SIP signaling is marked with.
const SIPDSCP = "cs3"

// DSCPValues maps the names voicewall accepts to their 6-bit code points.
var DSCPValues = map[string]uint8{
	"cs0": 0, "cs1": 8, "af11": 10, "af12": 12, "af13": 14,
	"cs2": 16, "af21": 18, "af22": 20, "af23": 22,
	"cs3": 24, "af31": 26, "af32": 28, "af33": 30,
	"cs4": 32, "af41": 34, "af42": 36, "af43": 38,
	"cs5": 40, "va": 44, "ef": 46, "cs6": 48, "cs7": 56,
}

// ClosedPort is a service always dropped on the WAN.
type ClosedPort struct {
	Service Service
	Auto    bool // closed because every provider is TLS-only, not listed in close
	Origin  Origin
}

// Rate is "N per unit".
type Rate struct {
	Count uint32
	Unit  string // "second", "minute", "hour", "day"
}

func (r Rate) String() string { return strconv.FormatUint(uint64(r.Count), 10) + "/" + r.Unit }

// PerSecond is the rate as packets per second (for targets without units).
func (r Rate) PerSecond() float64 {
	d := map[string]float64{"second": 1, "minute": 60, "hour": 3600, "day": 86400}[r.Unit]
	return float64(r.Count) / d
}

// RateLimit limits new SIP flows per source address on the WAN (conntrack
// state new; a provider's established flows are never counted).
type RateLimit struct {
	SIP    Rate
	Burst  uint32
	Origin Origin
}

// Bucket is how many new flows one source may open at once: the rate's
// count plus the burst ("10/second, burst 20": 30 in the first second,
// then 10 a second). Targets with a token bucket size it so; the kernel's
// nft limit (Linux 5.x+) holds exactly its burst, so it is given Bucket.
func (r *RateLimit) Bucket() uint32 {
	if t := uint64(r.SIP.Count) + uint64(r.Burst); t <= 1<<32-1 {
		return uint32(t)
	}
	return 1<<32 - 1
}

// Blocklist is a named set of addresses dropped first on the WAN.
type Blocklist struct {
	Name      string
	Addresses AddrSet
	Files     []string // the blocklist files as written (relative to the policy file)
	FilePaths []string // resolved paths on disk, for targets that ship the list beside the config
	Entries   int      // lines/addresses read before merging
	Feed      *Feed    // where `voicewall refresh` downloads File from; nil without feed
	Origin    Origin
}

// Log configures logging of what voicewall drops.
type Log struct {
	Dropped bool
	Prefix  string
	Rate    Rate
	Origin  Origin
}

// LogsDrops says whether voicewall's drops are logged (a log block with
// dropped = true). Lowering sets Rule.Log from it; backends ask it for what
// no single rule carries (a target-wide syslog flag, a synthesized deny).
func (p *Policy) LogsDrops() bool { return p.Log != nil && p.Log.Dropped }

// Expect is a policy test: never rendered.
type Expect struct {
	Name     string
	From     netip.Addr
	FromPort uint16 // 0: any
	Zone     string
	To       netip.Addr // invalid: the gateway itself
	Service  Service    // single port
	Verdict  Verdict
	// Trusted and Banned: the source is in the run-time set of trusted
	// remote phones / timed bans when the packet arrives.
	Trusted bool
	Banned  bool
	Origin  Origin
}

// Verdict of a rule or an evaluation.
type Verdict string

const (
	Accept Verdict = "accept"
	Drop   Verdict = "drop"
)

// VoiceVLAN looks a voice VLAN up by name.
func (p *Policy) VoiceVLAN(name string) *VoiceVLAN {
	for _, v := range p.VoiceVLANs {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Provider looks a provider up by name.
func (p *Policy) Provider(name string) *Provider {
	for _, v := range p.Providers {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Target returns the policy's block for the target, or the target's
// defaults when the policy has none.
func (p *Policy) Target(s *TargetSpec) *Target {
	if t, ok := p.Targets[s.Name]; ok {
		if t.WAN == "" || t.LAN == "" {
			// Read before targets were registered: fill in the defaults
			// in a copy (compiles may run concurrently on one policy).
			c := *t
			c.WAN, c.LAN = cmp.Or(t.WAN, s.WAN), cmp.Or(t.LAN, s.LAN)
			return &c
		}
		return t
	}
	return &Target{Name: s.Name, WAN: s.WAN, LAN: s.LAN, Origin: Origin{Kind: "target", Name: s.Name}, Extra: map[string]string{}}
}

// Zones lists every zone name: wan, lan, then voice VLANs.
func (p *Policy) Zones() []string {
	z := []string{ZoneWAN, ZoneLAN}
	for _, v := range p.VoiceVLANs {
		z = append(z, v.Name)
	}
	return z
}

// SIPServices is the union of every provider's SIP services, sorted.
func (p *Policy) SIPServices() []Service {
	seen := map[Service]bool{}
	var out []Service
	for _, pr := range p.Providers {
		for _, s := range pr.SIPServices() {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	SortServices(out)
	return out
}

// RTPRanges is the local RTP range plus every PBX's own range, merged.
func (p *Policy) RTPRanges() []PortRange {
	rs := []PortRange{p.RTP}
	for _, x := range p.PBXes {
		rs = append(rs, x.RTPPorts)
	}
	return mergePortRanges(rs)
}

// String summarises a policy (for debugging and tests).
func (p *Policy) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy %s: %d providers, %d pbx, %d voice vlans, %d blocklists, %d rules",
		p.Root, len(p.Providers), len(p.PBXes), len(p.VoiceVLANs), len(p.Blocklists), len(p.Rules))
	return b.String()
}
