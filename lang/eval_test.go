package lang_test

import (
	"maps"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"

	"github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/lang"
)

// evalPolicy exercises every rule kind: two providers (one dual-stack on a
// PBX, one TLS-only serving a voice VLAN), a dual-stack voice VLAN with
// providers and management, a VLAN with neither, a blocklist, a closed
// port, the rate limit and logging.
const evalPolicy = `
provider "carrier" {
  signaling  = ["203.0.113.10", "2001:db8:10::/48"]
  media      = ["203.0.113.64/26", "2001:db8:20::/48"]
  transports = ["udp", "tls"]
}

provider "hosted" {
  signaling  = ["192.0.2.64/28"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}

pbx "asterisk" {
  address   = "10.40.0.5"
  providers = ["carrier"]
  rtp_ports = "10000-20000"
}

voice_vlan "phones" {
  id         = 20
  parent     = "lan"
  subnets    = ["10.20.0.0/24", "2001:db8:abcd:20::/64"]
  providers  = ["hosted"]
  management = ["10.0.0.0/24"]
  dscp       = "ef"
}

voice_vlan "lobby" {
  id     = 21
  parent = "lan"
  subnet = "10.21.0.0/24"
}

rtp {
  ports = "10000-20000"
}

close {
  ports = ["2000/tcp"]
}

rate_limit {
  sip   = "10/second"
  burst = 20
}

blocklist "scanners" {
  addresses = ["198.51.100.0/24", "2001:db8:bad::/48"]
}

log {
  dropped = true
}
`

func loadEval(t testing.TB, src string) *lang.Policy {
	t.Helper()
	return mustLoadSource(t, "eval.hcl", src)
}

func pkt(t testing.TB, from, zone, to string, fromPort uint16) lang.Packet {
	t.Helper()
	dst, svc, err := lang.ParseDestination(to)
	if err != nil {
		t.Fatal(err)
	}
	return lang.Packet{Src: netip.MustParseAddr(from), SrcPort: fromPort, Zone: zone, Dst: dst, Proto: svc.Proto, DstPort: svc.Ports.First}
}

func TestEvaluate(t *testing.T) {
	p := loadEval(t, evalPolicy)
	tests := []struct {
		name     string
		from     string
		fromPort uint16
		zone     string
		to       string
		verdict  lang.Verdict
		rule     string // deciding rule ID; "" not managed
		dnat     string
		marks    string
		outZone  string
	}{
		// WAN: blocklist first, both families, mapped v4 too.
		{name: "blocklisted v4", from: "198.51.100.7", to: "5060/udp", verdict: lang.Drop, rule: "blocklist_scanners"},
		{name: "blocklisted v6", from: "2001:db8:bad::9", to: "5060/udp", verdict: lang.Drop, rule: "blocklist_scanners"},
		{name: "blocklisted v4-mapped", from: "::ffff:198.51.100.7", to: "443/tcp", verdict: lang.Drop, rule: "blocklist_scanners"},
		{name: "blocklisted on any port", from: "198.51.100.7", to: "10.20.0.5:443/tcp", verdict: lang.Drop, rule: "blocklist_scanners", outZone: "phones"},
		{name: "blocklist only guards the wan", from: "198.51.100.7", zone: "lan", to: "203.0.113.10:5060/udp", verdict: lang.Accept, outZone: "wan"},
		// Closed ports, even from a provider.
		{name: "closed port", from: "203.0.113.10", to: "2000/tcp", verdict: lang.Drop, rule: "closed_2000_tcp"},
		{name: "closed port is tcp only", from: "203.0.113.99", to: "2000/udp", verdict: lang.Accept},
		// Provider SIP per transport, forwarded to the PBX in its family.
		{name: "carrier sip udp", from: "203.0.113.10", to: "5060/udp", verdict: lang.Accept, rule: "provider_carrier_sip_udp", dnat: "10.40.0.5", outZone: "lan"},
		{name: "carrier sip tls v4", from: "203.0.113.10", to: "5061/tcp", verdict: lang.Accept, rule: "provider_carrier_sip_tls", dnat: "10.40.0.5", outZone: "lan"},
		{name: "carrier sip tls v6 not forwarded", from: "2001:db8:10::1", to: "5061/tcp", verdict: lang.Accept, rule: "provider_carrier_sip_tls"},
		{name: "carrier sip udp v6", from: "2001:db8:10:ffff::1", to: "5060/udp", verdict: lang.Accept, rule: "provider_carrier_sip_udp"},
		{name: "carrier has no sip over tcp 5060", from: "203.0.113.10", to: "5060/tcp", verdict: lang.Drop, rule: "sip_drop"},
		{name: "carrier signaling host only", from: "203.0.113.11", to: "5060/udp", verdict: lang.Drop, rule: "sip_drop"},
		{name: "hosted tls not forwarded", from: "192.0.2.70", to: "5061/tcp", verdict: lang.Accept, rule: "provider_hosted_sip_tls"},
		{name: "hosted on udp is dropped", from: "192.0.2.70", to: "5060/udp", verdict: lang.Drop, rule: "sip_drop"},
		{name: "scanner sip", from: "198.18.0.1", to: "5060/udp", verdict: lang.Drop, rule: "sip_drop"},
		{name: "scanner sip v6", from: "2001:db8:9999::1", to: "5061/tcp", verdict: lang.Drop, rule: "sip_drop"},
		{name: "sip to an inside address from the wan", from: "198.18.0.1", to: "10.40.0.5:5060/udp", verdict: lang.Drop, rule: "sip_drop", outZone: "lan"},
		// Provider RTP.
		{name: "carrier media", from: "203.0.113.70", to: "15000/udp", verdict: lang.Accept, rule: "provider_carrier_rtp", dnat: "10.40.0.5", outZone: "lan"},
		{name: "carrier media range edge", from: "203.0.113.127", to: "20000/udp", verdict: lang.Accept, rule: "provider_carrier_rtp", dnat: "10.40.0.5", outZone: "lan"},
		{name: "carrier media v6", from: "2001:db8:20::5", to: "10000/udp", verdict: lang.Accept, rule: "provider_carrier_rtp"},
		{name: "carrier signaling is not media", from: "203.0.113.10", to: "15000/udp", verdict: lang.Drop, rule: "rtp_drop"},
		{name: "hosted media", from: "192.0.2.200", to: "15000/udp", verdict: lang.Accept, rule: "provider_hosted_rtp"},
		{name: "stray rtp", from: "198.18.0.1", to: "15000/udp", verdict: lang.Drop, rule: "rtp_drop"},
		{name: "rtp above the range", from: "198.18.0.1", to: "20001/udp", verdict: lang.Accept},
		{name: "rtp range over tcp is not rtp", from: "198.18.0.1", to: "15000/tcp", verdict: lang.Accept},
		{name: "web is not managed", from: "198.18.0.1", to: "443/tcp", verdict: lang.Accept},
		// Voice VLAN egress: toll-fraud guard and marking.
		{name: "phones to their provider", from: "10.20.0.5", zone: "phones", to: "192.0.2.65:5061/tcp", verdict: lang.Accept, rule: "vlan_phones_hosted_sip", marks: "cs3", outZone: "wan"},
		{name: "phones to another provider", from: "10.20.0.5", zone: "phones", to: "203.0.113.10:5060/udp", verdict: lang.Drop, rule: "vlan_phones_sip_drop", marks: "cs3", outZone: "wan"},
		{name: "phones to a rogue sip server", from: "10.20.0.5", zone: "phones", to: "198.18.0.9:5061/tcp", verdict: lang.Drop, rule: "vlan_phones_sip_drop", marks: "cs3", outZone: "wan"},
		{name: "phones v6 to a rogue sip server", from: "2001:db8:abcd:20::5", zone: "phones", to: "[2001:db8:9::1]:5060/udp", verdict: lang.Drop, rule: "vlan_phones_sip_drop", marks: "cs3", outZone: "wan"},
		{name: "phones rtp to provider media", from: "10.20.0.5", fromPort: 16000, zone: "phones", to: "192.0.2.200:30000/udp", verdict: lang.Accept, rule: "vlan_phones_hosted_rtp", marks: "ef,ef", outZone: "wan"},
		{name: "phones rtp from an ephemeral port to provider media", from: "10.20.0.5", zone: "phones", to: "192.0.2.200:30000/udp", verdict: lang.Accept, rule: "vlan_phones_hosted_rtp", marks: "ef", outZone: "wan"},
		{name: "phones rtp elsewhere", from: "10.20.0.5", fromPort: 16000, zone: "phones", to: "198.18.0.9:30000/udp", verdict: lang.Drop, rule: "vlan_phones_rtp_drop", marks: "ef", outZone: "wan"},
		{name: "phones ephemeral udp is not rtp", from: "10.20.0.5", zone: "phones", to: "198.18.0.9:30000/udp", verdict: lang.Accept, outZone: "wan"},
		{name: "phones web browsing", from: "10.20.0.5", zone: "phones", to: "198.18.0.9:443/tcp", verdict: lang.Accept, outZone: "wan"},
		{name: "phones sip to the gateway", from: "10.20.0.5", zone: "phones", to: "5060/udp", verdict: lang.Accept},
		{name: "lobby has no provider list", from: "10.21.0.5", zone: "lobby", to: "198.18.0.9:5060/udp", verdict: lang.Accept, marks: "cs3", outZone: "wan"},
		{name: "lobby has no v6 subnet to mark", from: "2001:db8:21::5", zone: "lobby", to: "[2001:db8:9::1]:5060/udp", verdict: lang.Accept, outZone: "wan"},
		{name: "sip from lan is not the voice vlan's", from: "10.0.0.5", zone: "lan", to: "198.18.0.9:5060/udp", verdict: lang.Accept, outZone: "wan"},
		// Voice VLAN ingress: management.
		{name: "it desk manages phones", from: "10.0.0.7", zone: "lan", to: "10.20.0.50:443/tcp", verdict: lang.Accept, rule: "vlan_phones_management", outZone: "phones"},
		{name: "it desk snmp", from: "10.0.0.7", zone: "lan", to: "10.20.0.50:161/udp", verdict: lang.Accept, rule: "vlan_phones_management", outZone: "phones"},
		{name: "others cannot manage phones", from: "10.9.9.9", zone: "lan", to: "10.20.0.50:22/tcp", verdict: lang.Drop, rule: "vlan_phones_management_drop", outZone: "phones"},
		{name: "v6 manager not listed", from: "2001:db8:1::1", zone: "lan", to: "[2001:db8:abcd:20::50]:443/tcp", verdict: lang.Drop, rule: "vlan_phones_management_drop", outZone: "phones"},
		{name: "lobby phone cannot manage phones", from: "10.21.0.5", zone: "lobby", to: "10.20.0.50:80/tcp", verdict: lang.Drop, rule: "vlan_phones_management_drop", outZone: "phones"},
		{name: "wan cannot manage phones", from: "198.18.0.1", to: "10.20.0.50:80/tcp", verdict: lang.Drop, rule: "vlan_phones_management_drop", outZone: "phones"},
		{name: "spoofed manager from the wan", from: "10.0.0.7", to: "10.20.0.50:443/tcp", verdict: lang.Drop, rule: "vlan_phones_management_drop", outZone: "phones"},
		{name: "non-management port to phones", from: "10.9.9.9", zone: "lan", to: "10.20.0.50:5060/udp", verdict: lang.Accept, outZone: "phones"},
		{name: "lobby management from lan is not guarded", from: "10.9.9.9", zone: "lan", to: "10.21.0.5:80/tcp", verdict: lang.Accept, outZone: "lobby"},
		{name: "lobby management from wan", from: "198.18.0.1", to: "10.21.0.5:80/tcp", verdict: lang.Drop, rule: "vlan_lobby_management_drop", outZone: "lobby"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zone := tc.zone
			if zone == "" {
				zone = "wan"
			}
			r := p.Evaluate(pkt(t, tc.from, zone, tc.to, tc.fromPort))
			got := ""
			if r.Rule != nil {
				got = r.Rule.ID
			}
			if r.Verdict != tc.verdict || got != tc.rule || r.Managed != (tc.rule != "") {
				t.Errorf("got %s by %q (managed %v), want %s by %q\n%s", r.Verdict, got, r.Managed, tc.verdict, tc.rule, traceText(r))
			}
			dnat := ""
			if r.DNAT.IsValid() {
				dnat = r.DNAT.String()
			}
			if dnat != tc.dnat {
				t.Errorf("dnat %q, want %q", dnat, tc.dnat)
			}
			if m := strings.Join(r.Marks, ","); m != tc.marks {
				t.Errorf("marks %q, want %q\n%s", m, tc.marks, traceText(r))
			}
			if r.OutZone != tc.outZone {
				t.Errorf("out zone %q, want %q", r.OutZone, tc.outZone)
			}
			if len(r.Trace) == 0 {
				t.Error("empty trace")
			}
		})
	}
}

func traceText(r lang.Result) string {
	var b strings.Builder
	for _, s := range r.Trace {
		b.WriteString("  " + s.String() + "\n")
	}
	return b.String()
}

func TestEvaluateTrace(t *testing.T) {
	p := loadEval(t, evalPolicy)
	r := p.Evaluate(pkt(t, "203.0.113.10", "wan", "5060/udp", 0))
	got := traceText(r)
	for _, want := range []string{
		"checked blocklist scanners (eval.hcl:",
		"no match (source 203.0.113.10 not in blocklist_scanners)",
		"checked closed port 2000/tcp (eval.hcl:",
		"checked SIP rate limit 10/second per source (eval.hcl:",
		"continue (destination port 5060/udp in 5060; one new packet is within 10/second, burst 20, per source)",
		"checked replies of SIP/RTP flows already allowed (built in): no match (only replies",
		"SIP over udp from provider carrier (eval.hcl:2): accept (source 203.0.113.10 in provider_carrier_signaling, destination port 5060/udp in 5060)",
		"SIP over udp from provider carrier to pbx asterisk (eval.hcl:",
		"dnat to 10.40.0.5",
		"voice_egress chain: not traversed (only packets leaving to zone wan; this one leaves to zone lan)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("trace lacks %q:\n%s", want, got)
		}
	}
	// The accept ends the WAN chain: the catch-all drops are never checked.
	if strings.Contains(got, "SIP from anyone but a provider") {
		t.Errorf("trace goes on after the accept:\n%s", got)
	}
	if d := r.Decision(); d != "accept by SIP over udp from provider carrier (eval.hcl:2)" {
		t.Errorf("decision %q", d)
	}
	if s := r.Source(); s != `provider "carrier" (eval.hcl:2)` {
		t.Errorf("source %q", s)
	}
	r = p.Evaluate(pkt(t, "198.18.0.1", "wan", "443/tcp", 0))
	if d := r.Decision(); !strings.Contains(d, "not managed by voicewall") || r.Source() != "" {
		t.Errorf("decision %q source %q", r.Decision(), r.Source())
	}
	r = p.Evaluate(pkt(t, "10.20.0.5", "phones", "5060/udp", 0))
	if got := traceText(r); !strings.Contains(got, "addressed to the gateway itself") {
		t.Errorf("trace:\n%s", got)
	}
}

// A PBX inside a voice VLAN: forwarded provider traffic then meets the
// VLAN's ingress rules; provider SIP is not a management port.
func TestEvaluatePBXInVLAN(t *testing.T) {
	p := loadEval(t, `
provider "carrier" {
  signaling = ["203.0.113.10"]
  media     = ["203.0.113.64/26"]
}
pbx "pbx" {
  address   = "10.20.0.10"
  providers = ["carrier"]
}
voice_vlan "phones" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = []
}
rate_limit {
  sip = "10/second"
}
log {}
`)
	r := p.Evaluate(pkt(t, "203.0.113.10", "wan", "5060/udp", 0))
	if r.Verdict != lang.Accept || r.Rule == nil || r.Rule.ID != "provider_carrier_sip_udp" || r.OutZone != "phones" || r.DNAT != netip.MustParseAddr("10.20.0.10") {
		t.Fatalf("%+v\n%s", r, traceText(r))
	}
	// The phones have no provider list entry: they may not call out.
	r = p.Evaluate(pkt(t, "10.20.0.7", "phones", "203.0.113.10:5060/udp", 0))
	if r.Verdict != lang.Drop || r.Rule.ID != "vlan_phones_sip_drop" {
		t.Fatalf("%+v\n%s", r, traceText(r))
	}
	// The PBX's own address as destination from the LAN leaves to its zone.
	if z := p.OutZone(netip.MustParseAddr("10.20.0.10"), "lan"); z != "phones" {
		t.Fatalf("out zone %q", z)
	}
}

// Rules lowering never produces (mixed protocols, source and destination
// ports together, source ports covering the ephemeral range) still follow
// the nftables expansion: one rule per protocol that has both.
func TestEvaluateRuleShapes(t *testing.T) {
	set := func(s ...string) *lang.AddrRef {
		var ps []netip.Prefix
		for _, x := range s {
			ps = append(ps, netip.MustParsePrefix(x))
		}
		return &lang.AddrRef{Name: "s", Set: lang.NewAddrSet(ps...)}
	}
	rules := []*lang.Rule{
		{ID: "both", Chain: lang.ChainWAN, InZone: "wan", Action: lang.ActionDrop,
			Services:    []lang.Service{{Proto: lang.UDP, Ports: lang.PortRange{First: 100, Last: 100}}, {Proto: lang.TCP, Ports: lang.PortRange{First: 200, Last: 200}}},
			SrcServices: []lang.Service{{Proto: lang.UDP, Ports: lang.PortRange{First: 1, Last: 65535}}}},
		{ID: "src_any", Chain: lang.ChainWAN, InZone: "wan", Src: set("192.0.2.0/24"), Action: lang.ActionDrop,
			SrcServices: []lang.Service{{Proto: lang.TCP, Ports: lang.PortRange{First: 30000, Last: 65535}}}},
		{ID: "src_part", Chain: lang.ChainWAN, InZone: "wan", Src: set("192.0.2.0/24"), Action: lang.ActionDrop,
			SrcServices: []lang.Service{{Proto: lang.UDP, Ports: lang.PortRange{First: 30000, Last: 40000}}}},
	}
	p := &lang.Policy{Rules: rules}
	for _, tc := range []struct {
		pkt  lang.Packet
		rule string
	}{
		{lang.Packet{Src: netip.MustParseAddr("198.18.0.1"), Proto: lang.UDP, DstPort: 100}, "both"},
		{lang.Packet{Src: netip.MustParseAddr("198.18.0.1"), Proto: lang.UDP, DstPort: 200}, ""},
		{lang.Packet{Src: netip.MustParseAddr("198.18.0.1"), Proto: lang.TCP, DstPort: 200}, ""}, // no tcp source ports: no tcp rule
		{lang.Packet{Src: netip.MustParseAddr("192.0.2.1"), Proto: lang.TCP, DstPort: 80}, "src_any"},
		{lang.Packet{Src: netip.MustParseAddr("192.0.2.1"), SrcPort: 20000, Proto: lang.TCP, DstPort: 80}, ""},
		{lang.Packet{Src: netip.MustParseAddr("192.0.2.1"), Proto: lang.UDP, DstPort: 80}, ""}, // ephemeral not wholly inside
		{lang.Packet{Src: netip.MustParseAddr("192.0.2.1"), SrcPort: 35000, Proto: lang.UDP, DstPort: 80}, "src_part"},
		{lang.Packet{Src: netip.MustParseAddr("2001:db8::1"), SrcPort: 35000, Proto: lang.UDP, DstPort: 80}, ""},
	} {
		r := p.Evaluate(tc.pkt)
		got := ""
		if r.Rule != nil {
			got = r.Rule.ID
		}
		if got != tc.rule {
			t.Errorf("%+v: rule %q, want %q\n%s", tc.pkt, got, tc.rule, traceText(r))
		}
	}
	// An empty policy manages nothing.
	if r := (&lang.Policy{}).Evaluate(lang.Packet{}); r.Verdict != lang.Accept || r.Managed {
		t.Errorf("%+v", r)
	}
}

func examplePaths(t testing.TB) []string {
	t.Helper()
	return testenv.ExampleDirs(t, "..")
}

// Every expect of every example holds.
func TestExamplesExpectations(t *testing.T) {
	for _, dir := range examplePaths(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			p, diags := registry.Load(dir)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if len(p.Expects) == 0 {
				t.Fatal("example has no expect blocks")
			}
			for _, x := range p.Expects {
				ok, r := p.Check(x)
				if !ok {
					t.Errorf("expect %q (%s): want %s, got %s\n%s", x.Name, x.Origin.Pos(), x.Verdict, r.Decision(), traceText(r))
				}
			}
		})
	}
}

// nftModel runs a packet through the nftables ruleset the backend builds,
// statement by statement, as the kernel would: the WAN filter chain at
// prerouting, the NAT chain, then the forward chain for forwarded packets.
// It knows nothing of lang's rule semantics, so agreement with Evaluate
// shows that the evaluator means what the nftables rendering says.
type nftModel struct {
	p    *lang.Policy
	t    *nftables.Table
	sets map[string]*nftables.Set
	tgt  *lang.Target
}

func newNFTModel(p *lang.Policy) *nftModel {
	m := &nftModel{p: p, t: nftables.Build(p), sets: map[string]*nftables.Set{}, tgt: p.Target(nftables.Spec.TargetSpec)}
	for _, s := range m.t.Sets {
		m.sets[s.Name] = s
	}
	return m
}

type nftResult struct {
	verdict lang.Verdict
	rule    *lang.Rule // first terminal rule (or the drop)
	dnat    netip.Addr
	marks   []string
}

func (m *nftModel) chain(name string) *nftables.Chain {
	for _, c := range m.t.Chains {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (m *nftModel) run(pkt lang.Packet) nftResult {
	src, dst := pkt.Src.Unmap(), pkt.Dst.Unmap()
	in := pkt.Zone
	iif := m.tgt.Interface(in, m.p)
	res := nftResult{verdict: lang.Accept}
	oif := func() string {
		z := m.p.OutZone(dst, in)
		if z == "" {
			return ""
		}
		return m.tgt.Interface(z, m.p)
	}
	v6 := src.Is6()
	inSet := func(name string, a netip.Addr) bool {
		s := m.sets[name]
		if s == nil || !a.IsValid() || s.V6() != a.Is6() {
			return false
		}
		if s.Live { // run-time elements: the packet says whether it is in them
			if strings.HasPrefix(name, "banned_") {
				return pkt.Banned
			}
			return pkt.Trusted
		}
		for _, r := range s.Elements {
			if r.Contains(a) {
				return true
			}
		}
		return false
	}
	hooks := []string{nftables.ChainWANIn, nftables.ChainWANNat}
	if dst.IsValid() {
		hooks = append(hooks, nftables.ChainVoice)
	}
	for _, name := range hooks {
		c := m.chain(name)
		if c == nil {
			continue
		}
	rules:
		for _, r := range c.Rules {
			for _, st := range r.Stmts {
				switch s := st.(type) {
				case nftables.MatchIface:
					got := iif
					if s.Out {
						got = oif()
					}
					if (got == s.Name) == s.Neg {
						continue rules
					}
				case nftables.MatchCtState:
					continue rules // new flows only
				case nftables.MatchNfproto:
					if s.V6 != v6 {
						continue rules
					}
				case nftables.MatchAddrSet:
					a := src
					if s.Dir == nftables.Dst {
						a = dst
					}
					if s.V6 != v6 || !inSet(s.Set, a) {
						continue rules
					}
				case nftables.MatchPorts:
					port := pkt.DstPort
					if s.Dir == nftables.Src {
						port = pkt.SrcPort
					}
					if s.Proto != pkt.Proto {
						continue rules
					}
					ok := false
					for _, pr := range s.Ranges {
						ok = ok || pr.Contains(port)
					}
					if !ok {
						continue rules
					}
				case nftables.MeterLimit:
					continue rules // one packet is never over the rate
				case nftables.SetDSCP:
					if s.V6 != v6 {
						continue rules // ip/ip6 dscp set implies the family
					}
					res.marks = append(res.marks, s.Class)
				case nftables.DNAT:
					if s.Addr.Is6() != v6 {
						continue rules
					}
					res.dnat, dst = s.Addr, s.Addr
					if res.rule == nil {
						res.rule = r.Source
					}
					break rules
				case nftables.Verdict:
					switch s.Kind {
					case "accept":
						if res.rule == nil {
							res.rule = r.Source
						}
						break rules
					case "drop", "jump": // every jump goes to a log-then-drop chain
						if s.Kind == "jump" && !strings.HasPrefix(s.Chain, "drop_") {
							panic("unexpected jump " + s.Chain)
						}
						res.verdict, res.rule = lang.Drop, r.Source
						return res
					}
				}
			}
		}
	}
	return res
}

// TestEvaluateAgreesWithNFTables compares Evaluate with the nftables model
// on many packets around every boundary of every example and test policy.
func TestEvaluateAgreesWithNFTables(t *testing.T) {
	policies := map[string]*lang.Policy{"eval": loadEval(t, evalPolicy)}
	for _, dir := range examplePaths(t) {
		p, diags := registry.Load(dir)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		policies[filepath.Base(dir)] = p
	}
	for name, p := range policies {
		t.Run(name, func(t *testing.T) {
			m := newNFTModel(p)
			gen := newPacketGen(p, rand.New(rand.NewPCG(1, uint64(len(name)))))
			n := 20000
			if testing.Short() {
				n = 2000
			}
			fails := 0
			for i := 0; i < n && fails < 10; i++ {
				pk := gen.next()
				if pk.SrcPort == 0 {
					pk.SrcPort = 40000 // the model needs a concrete port
				}
				pk.Trusted, pk.Banned = i%3 == 0, i%11 == 0 // run-time sets, both ways
				got := p.Evaluate(pk)
				want := m.run(pk)
				if got.Verdict != want.verdict || got.Rule != want.rule || got.DNAT != want.dnat || strings.Join(got.Marks, ",") != strings.Join(want.marks, ",") {
					fails++
					t.Errorf("%+v:\n evaluator: %s dnat=%v marks=%v\n nftables:  %s by %v dnat=%v marks=%v\n%s",
						pk, got.Decision(), got.DNAT, got.Marks, want.verdict, ruleID(want.rule), want.dnat, want.marks, traceText(got))
				}
			}
			// Expectations agree too.
			for _, x := range p.Expects {
				pk := x.Packet()
				if pk.SrcPort == 0 {
					pk.SrcPort = 40000
				}
				if got, want := p.Evaluate(pk), m.run(pk); got.Verdict != want.verdict || got.Rule != want.rule {
					t.Errorf("expect %q: evaluator %s, nftables %s by %s", x.Name, got.Decision(), want.verdict, ruleID(want.rule))
				}
			}
		})
	}
}

func ruleID(r *lang.Rule) string {
	if r == nil {
		return "(none)"
	}
	return r.ID
}

// packetGen draws packets whose fields sit on and around every boundary the
// policy has: set range ends, port range ends, PBX and subnet addresses.
type packetGen struct {
	rnd    *rand.Rand
	zones  []string
	v4, v6 []netip.Addr
	ports  []uint16
}

func newPacketGen(p *lang.Policy, rnd *rand.Rand) *packetGen {
	g := &packetGen{rnd: rnd, zones: p.Zones()}
	addAddr := func(a netip.Addr) {
		if a.Is4() {
			g.v4 = append(g.v4, a)
		} else {
			g.v6 = append(g.v6, a)
		}
	}
	around := func(a netip.Addr) {
		addAddr(a)
		if n := a.Next(); n.IsValid() {
			addAddr(n)
		}
		if n := a.Prev(); n.IsValid() {
			addAddr(n)
		}
	}
	addSet := func(s lang.AddrSet) {
		for _, v6 := range []bool{false, true} {
			for _, r := range s.Ranges(v6) {
				around(r.From())
				around(r.To())
			}
		}
	}
	for _, ref := range p.Sets() {
		addSet(ref.Set)
	}
	for _, x := range p.PBXes {
		around(x.Address)
	}
	for _, v := range p.VoiceVLANs {
		addSet(v.Subnets)
		addSet(v.Management)
	}
	for _, s := range []string{"198.18.0.1", "10.0.0.1", "8.8.8.8", "2001:db8:ffff::1", "fd00::1"} {
		addAddr(netip.MustParseAddr(s))
	}
	ports := map[uint16]bool{1: true, 80: true, 443: true, 5060: true, 5061: true, 40000: true, 65535: true}
	addPort := func(x uint16) {
		ports[x] = true
		if x > 1 {
			ports[x-1] = true
		}
		if x < 65535 {
			ports[x+1] = true
		}
	}
	for _, r := range p.Rules {
		for _, s := range append(append([]lang.Service{}, r.Services...), r.SrcServices...) {
			addPort(s.Ports.First)
			addPort(s.Ports.Last)
		}
	}
	g.ports = slices.Sorted(maps.Keys(ports)) // sorted: the seeded draws repeat run to run
	return g
}

func (g *packetGen) pick(v4 bool) netip.Addr {
	list := g.v6
	if v4 {
		list = g.v4
	}
	if len(list) == 0 {
		return netip.Addr{}
	}
	return list[g.rnd.IntN(len(list))]
}

func (g *packetGen) next() lang.Packet {
	v4 := g.rnd.IntN(3) > 0
	pk := lang.Packet{
		Src:     g.pick(v4),
		Zone:    g.zones[g.rnd.IntN(len(g.zones))],
		Proto:   []lang.Proto{lang.UDP, lang.TCP}[g.rnd.IntN(2)],
		DstPort: g.ports[g.rnd.IntN(len(g.ports))],
	}
	if g.rnd.IntN(3) > 0 {
		pk.Dst = g.pick(v4)
	}
	if g.rnd.IntN(2) == 0 {
		pk.SrcPort = g.ports[g.rnd.IntN(len(g.ports))]
	}
	if !pk.Src.IsValid() {
		pk.Src = netip.MustParseAddr("198.18.0.1")
		pk.Dst = netip.Addr{}
	}
	return pk
}

func BenchmarkEvaluate(b *testing.B) {
	p := loadEval(b, evalPolicy)
	pk := pkt(b, "198.18.0.1", "wan", "10.20.0.50:443/tcp", 0)
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(pk)
	}
}

// A voice VLAN using a symmetric-RTP provider accepts the phones' RTP to
// any address, judged by its source port. SIP is judged first: SIP from a
// port of the RTP range to a stranger is still the toll-fraud drop, not
// "RTP"; RTP from that range to a stranger's media port passes.
func TestSymmetricRTPIsNoSIPBypass(t *testing.T) {
	p := loadEval(t, `
provider "flowroute" {
  signaling     = ["34.226.36.32/28"]
  symmetric_rtp = true
}
voice_vlan "phones" {
  id        = 20
  parent    = "lan"
  subnet    = "10.20.0.0/24"
  providers = ["flowroute"]
}
rtp {
  ports = "10000-20000"
}
`)
	for _, c := range []struct {
		to      string
		verdict lang.Verdict
		rule    string
	}{
		{"198.18.7.7:5060/udp", lang.Drop, "vlan_phones_sip_drop"},
		{"198.18.7.7:5061/tcp", lang.Drop, "vlan_phones_sip_drop"},
		{"34.226.36.33:5060/udp", lang.Accept, "vlan_phones_flowroute_sip"},
		{"198.18.7.7:30000/udp", lang.Accept, "vlan_phones_flowroute_rtp_symmetric"},
	} {
		r := p.Evaluate(pkt(t, "10.20.0.50", "phones", c.to, 10000))
		if r.Verdict != c.verdict || r.Rule == nil || !strings.HasPrefix(r.Rule.ID, c.rule) {
			t.Errorf("phone 10.20.0.50:10000 -> %s: %v by %v, want %v by %s", c.to, r.Verdict, r.Rule, c.verdict, c.rule)
		}
	}
}

// The egress zone follows the route the compiled rules see: a phone's
// packet to a LAN host leaves by the LAN, so the VLAN's WAN egress rules
// (allow_out and its default drop, matched on the WAN interface) do not
// decide it; a public address and a provider on a private trunk leave by
// the WAN.
func TestEvaluateEgressZone(t *testing.T) {
	p := loadEval(t, `
provider "carrier" {
  signaling = ["203.0.113.10", "172.16.5.10"]
  media     = ["203.0.113.64/26"]
}
voice_vlan "phones" {
  id         = 20
  subnet     = "10.20.0.0/24"
  providers  = ["carrier"]
  allow_out  = ["53/udp"]
  management = ["10.0.0.0/24"]
}
rate_limit {
  sip = "10/second"
}
log {}
expect "phone reaches the LAN file server" {
  from    = "10.20.0.7"
  zone    = "phones"
  to      = "10.0.0.20:445/tcp"
  verdict = "accept"
}
expect "phone cannot browse the Internet" {
  from    = "10.20.0.7"
  zone    = "phones"
  to      = "198.18.0.9:443/tcp"
  verdict = "drop"
}
`)
	for _, x := range p.Expects {
		if ok, r := p.Check(x); !ok {
			t.Errorf("expect %q: %s\n%s", x.Name, r.Decision(), traceText(r))
		}
	}
	for _, c := range []struct{ dst, in, want string }{
		{"10.0.0.20", "phones", "lan"},
		{"fd00::20", "phones", "lan"},
		{"fe80::1", "phones", "lan"},
		{"198.18.0.9", "phones", "wan"},
		{"172.16.5.10", "phones", "wan"}, // a provider on a private trunk
		{"10.20.0.9", "lan", "phones"},
		{"198.18.0.9", "wan", "lan"},
		{"10.0.0.20", "lan", "lan"},
	} {
		if z := p.OutZone(netip.MustParseAddr(c.dst), c.in); z != c.want {
			t.Errorf("OutZone(%s, %s) = %q, want %q", c.dst, c.in, z, c.want)
		}
	}
	// The phone's SIP to the provider on the private trunk is guarded as WAN egress.
	r := p.Evaluate(pkt(t, "10.20.0.7", "phones", "172.16.5.10:5060/udp", 0))
	if r.Verdict != lang.Accept || r.Rule == nil || r.OutZone != "wan" {
		t.Errorf("phone SIP to the private-trunk provider: %s, out %q\n%s", r.Decision(), r.OutZone, traceText(r))
	}
}
