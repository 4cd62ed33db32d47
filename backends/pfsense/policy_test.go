package pfsense

import (
	"net/netip"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/lang"
)

// Until lang.Load lowers policies, the tests build lang.Policy values by
// hand, with rules in the order lang/rules.go lowers them.

func pfx(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
			continue
		}
		a := netip.MustParseAddr(s)
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}

func origin(kind, name string, line int) lang.Origin {
	return lang.Origin{Kind: kind, Name: name, Range: hcl.Range{Filename: "gw.hcl", Start: hcl.Pos{Line: line, Column: 1}}}
}

type spec struct {
	file       string // the policy file's name in origins; "" is gw.hcl
	provName   string
	transports []lang.Transport
	sipPort    uint16
	tlsPort    uint16
	signaling  []netip.Prefix
	media      []netip.Prefix
	rtp        lang.PortRange
	pbx        netip.Addr // invalid: none
	vlan       bool
	vlanName   string
	vlanSubnet []netip.Prefix
	closed     []lang.Service
	rate       bool
	burst      uint32
	block      []netip.Prefix
	logDrops   bool
	dscp       string
}

func defaultSpec() spec {
	return spec{
		provName:   "telnyx",
		transports: []lang.Transport{lang.TransportUDP, lang.TransportTLS},
		sipPort:    5060, tlsPort: 5061,
		signaling:  pfx("192.76.120.10", "64.16.250.0/24", "2001:db8:10::/48"),
		media:      pfx("36.255.198.128/25"),
		rtp:        lang.PortRange{First: 10000, Last: 20000},
		pbx:        netip.MustParseAddr("10.20.0.10"),
		vlan:       true,
		vlanName:   "phones",
		vlanSubnet: pfx("10.20.0.0/24"),
		closed:     []lang.Service{{Proto: lang.TCP, Ports: lang.PortRange{First: 2000, Last: 2000}}},
		rate:       true,
		burst:      20,
		block:      pfx("198.51.100.0/24"),
		logDrops:   true,
		dscp:       "ef",
	}
}

// origin is origin() in the spec's file.
func (s spec) origin(kind, name string, line int) lang.Origin {
	o := origin(kind, name, line)
	if s.file != "" {
		o.Range.Filename = s.file
	}
	return o
}

// build lowers a spec the way lang does (the abstract rule order).
func build(s spec) *lang.Policy {
	p := &lang.Policy{Root: "gw.hcl", Targets: map[string]*lang.Target{}, RTP: s.rtp}
	prov := &lang.Provider{Name: s.provName, Signaling: lang.NewAddrSet(s.signaling...), Media: lang.NewAddrSet(s.media...),
		Transports: s.transports, SIPPort: s.sipPort, TLSPort: s.tlsPort, Origin: s.origin("provider", s.provName, 3)}
	p.Providers = []*lang.Provider{prov}
	sig := &lang.AddrRef{Name: "provider_" + s.provName + "_signaling", Set: prov.Signaling, Role: lang.RoleSignaling, Owner: prov.Origin}
	med := &lang.AddrRef{Name: "provider_" + s.provName + "_media", Set: prov.Media, Role: lang.RoleMedia, Owner: prov.Origin}
	sip := prov.SIPServices()
	lang.SortServices(sip)
	rtpSvc := []lang.Service{{Proto: lang.UDP, Ports: s.rtp}}
	var rules []*lang.Rule
	add := func(r *lang.Rule) { r.ID = string(r.Kind) + "_" + itoa(len(rules)); rules = append(rules, r) }

	if len(s.block) > 0 {
		bl := &lang.Blocklist{Name: "scanners", Addresses: lang.NewAddrSet(s.block...), Entries: len(s.block), Origin: s.origin("blocklist", "scanners", 40)}
		p.Blocklists = []*lang.Blocklist{bl}
		add(&lang.Rule{Chain: lang.ChainWAN, Kind: lang.RuleBlocklist, InZone: "wan", Src: &lang.AddrRef{Name: "blocklist_scanners", Set: bl.Addresses, Role: lang.RoleBlocklist, Owner: bl.Origin},
			Action: lang.ActionDrop, Log: s.logDrops, Comment: "drop listed sources", Origin: bl.Origin})
	}
	add(&lang.Rule{Chain: lang.ChainWAN, Kind: lang.RuleEstablished, InZone: "wan", Established: true, Action: lang.ActionAccept, Origin: lang.Origin{Kind: "rtp"}})
	closeO := s.origin("close", "", 30)
	for _, c := range s.closed {
		p.Closed = append(p.Closed, lang.ClosedPort{Service: c, Origin: closeO})
		add(&lang.Rule{Chain: lang.ChainWAN, Kind: lang.RuleClosed, InZone: "wan", Services: []lang.Service{c}, Action: lang.ActionDrop, Log: s.logDrops, Comment: "closed port", Origin: closeO})
	}
	if s.rate {
		p.RateLimit = &lang.RateLimit{SIP: lang.Rate{Count: 10, Unit: "second"}, Burst: s.burst, Origin: s.origin("rate_limit", "", 34)}
		add(&lang.Rule{Chain: lang.ChainWAN, Kind: lang.RuleRateLimit, InZone: "wan", Services: p.SIPServices(), Action: lang.ActionDropOverRate, Rate: p.RateLimit, Log: s.logDrops, Origin: p.RateLimit.Origin})
	}
	add(&lang.Rule{Chain: lang.ChainWAN, Kind: lang.RuleProviderSIP, InZone: "wan", Src: sig, Services: sip, Action: lang.ActionAccept, Comment: "SIP from provider signaling", Origin: prov.Origin})
	add(&lang.Rule{Chain: lang.ChainWAN, Kind: lang.RuleProviderRTP, InZone: "wan", Src: med, Services: rtpSvc, Action: lang.ActionAccept, Comment: "RTP from provider media", Origin: prov.Origin})
	add(&lang.Rule{Chain: lang.ChainWAN, Kind: lang.RuleSIPDefault, InZone: "wan", Services: p.SIPServices(), Action: lang.ActionDrop, Log: s.logDrops, Comment: "other SIP", Origin: prov.Origin})
	add(&lang.Rule{Chain: lang.ChainWAN, Kind: lang.RuleRTPDefault, InZone: "wan", Services: rtpSvc, Action: lang.ActionDrop, Log: s.logDrops, Comment: "other RTP", Origin: lang.Origin{Kind: "rtp"}})

	if s.pbx.IsValid() {
		x := &lang.PBX{Name: "asterisk", Address: s.pbx, Providers: p.Providers, RTPPorts: s.rtp, Zone: "lan", Origin: s.origin("pbx", "asterisk", 12)}
		p.PBXes = []*lang.PBX{x}
		add(&lang.Rule{Chain: lang.ChainNAT, Kind: lang.RuleDNAT, InZone: "wan", Src: sig, Services: sip, Action: lang.ActionDNAT, DNAT: s.pbx, Comment: "SIP to the PBX", Origin: x.Origin})
		add(&lang.Rule{Chain: lang.ChainNAT, Kind: lang.RuleDNAT, InZone: "wan", Src: med, Services: rtpSvc, Action: lang.ActionDNAT, DNAT: s.pbx, Comment: "RTP to the PBX", Origin: x.Origin})
	}
	if s.vlan {
		v := &lang.VoiceVLAN{Name: s.vlanName, ID: 20, Parent: "lan", Subnets: lang.NewAddrSet(s.vlanSubnet...), SubnetPrefixes: s.vlanSubnet,
			Providers: p.Providers, Management: lang.NewAddrSet(pfx("10.0.0.0/24")...), DSCP: s.dscp, Origin: s.origin("voice_vlan", s.vlanName, 20),
			ManagementPorts: []lang.Service{{Proto: lang.TCP, Ports: lang.PortRange{First: 22, Last: 23}}, {Proto: lang.TCP, Ports: lang.PortRange{First: 80, Last: 80}}, {Proto: lang.TCP, Ports: lang.PortRange{First: 443, Last: 443}}, {Proto: lang.UDP, Ports: lang.PortRange{First: 161, Last: 161}}}}
		p.VoiceVLANs = []*lang.VoiceVLAN{v}
		net := &lang.AddrRef{Name: "voice_vlan_" + s.vlanName + "_subnets", Set: v.Subnets, Role: lang.RoleVLANSubnets, Owner: v.Origin}
		mgmt := &lang.AddrRef{Name: "voice_vlan_" + s.vlanName + "_management", Set: v.Management, Role: lang.RoleManagement, Owner: v.Origin}
		if s.dscp != "" {
			add(&lang.Rule{Chain: lang.ChainVoiceEgress, Kind: lang.RuleDSCP, InZone: v.Name, OutZone: "wan", Src: net, Services: rtpSvc, Action: lang.ActionMark, DSCP: s.dscp, Origin: v.Origin})
			add(&lang.Rule{Chain: lang.ChainVoiceEgress, Kind: lang.RuleDSCP, InZone: v.Name, OutZone: "wan", Src: net, Services: sip, Action: lang.ActionMark, DSCP: lang.SIPDSCP, Origin: v.Origin})
		}
		add(&lang.Rule{Chain: lang.ChainVoiceEgress, Kind: lang.RulePhoneSIP, InZone: v.Name, OutZone: "wan", Src: net, Dst: sig, Services: sip, Action: lang.ActionAccept, Comment: "phones SIP to their providers", Origin: v.Origin})
		add(&lang.Rule{Chain: lang.ChainVoiceEgress, Kind: lang.RulePhoneRTP, InZone: v.Name, OutZone: "wan", Src: net, Dst: med, Services: rtpSvc, Action: lang.ActionAccept, Comment: "phones RTP to their providers", Origin: v.Origin})
		add(&lang.Rule{Chain: lang.ChainVoiceEgress, Kind: lang.RulePhoneSIPDefault, InZone: v.Name, OutZone: "wan", Src: net, Services: p.SIPServices(), Action: lang.ActionDrop, Log: s.logDrops, Comment: "phones SIP elsewhere (toll fraud)", Origin: v.Origin})
		add(&lang.Rule{Chain: lang.ChainVoiceEgress, Kind: lang.RulePhoneRTPDefault, InZone: v.Name, OutZone: "wan", Src: net, Services: rtpSvc, Action: lang.ActionDrop, Log: s.logDrops, Comment: "phones RTP elsewhere", Origin: v.Origin})
		add(&lang.Rule{Chain: lang.ChainVoiceIngress, Kind: lang.RuleMgmt, NotInZone: "wan", OutZone: v.Name, Src: mgmt, Dst: net, Services: v.ManagementPorts, Action: lang.ActionAccept, Comment: "management of the phones", Origin: v.Origin})
		add(&lang.Rule{Chain: lang.ChainVoiceIngress, Kind: lang.RuleMgmtDefault, OutZone: v.Name, Dst: net, Services: v.ManagementPorts, Action: lang.ActionDrop, Log: s.logDrops, Comment: "other management access", Origin: v.Origin})
	}
	if s.logDrops {
		p.Log = &lang.Log{Dropped: true, Prefix: "voicewall", Rate: lang.Rate{Count: 10, Unit: "minute"}, Origin: s.origin("log", "", 44)}
	}
	p.Rules = rules
	return p
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(b)
}
