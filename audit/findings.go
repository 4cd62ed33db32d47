package audit

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/lang"
	"go4.org/netipx"
)

// Stable finding IDs of voicewall audit (docs/rules.md); never renumber.
const (
	IDSIPHelper       = "VW301" // SIP ALG or SIP session helper on
	IDOpenVoice       = "VW302" // SIP or an RTP-sized UDP range accepted or forwarded from any source on the WAN
	IDAdminWAN        = "VW303" // management (web UI, SSH, telnet, SNMP) reachable from the WAN
	IDCleartextBeside = "VW304" // cleartext SIP open where the only SIP forwards are TLS
	IDAutoOutboundNAT = "VW305" // automatic outbound NAT rewrites the voice hosts' source ports
	IDForwardAnySrc   = "VW306" // a forward of 5060 without a source restriction
	IDNoRateLimit     = "VW307" // a SIP forward without a per-source rate limit
	IDShadowedDrop    = "VW308" // a drop rule after a broader accept that takes its traffic
	IDHelperIndex     = "VW309" // where the SIP session helper is (FortiOS index)
	IDDrift           = "VW310" // the device does not do what the policy says
	IDDriftExpect     = "VW311" // an expect block of the policy fails on the device
	IDShadowedOpen    = "VW312" // a rule or forward from any that earlier rules keep every stranger from
	IDProviderDrift   = "VW313" // a provider's ranges in the policy drifted from the catalog or DNS
	IDUnmodelled      = "VW314" // a device mode whose forwarding verdicts audit does not model
)

// Titles of the findings, for SARIF rules and docs.
var Titles = map[string]string{
	IDSIPHelper:       "SIP ALG or SIP session helper is on",
	IDOpenVoice:       "SIP or RTP open to any source on the WAN",
	IDAdminWAN:        "Management reachable from the WAN",
	IDCleartextBeside: "Cleartext SIP open beside TLS-only forwards",
	IDAutoOutboundNAT: "Automatic outbound NAT rewrites voice source ports",
	IDForwardAnySrc:   "SIP port forward without a source restriction",
	IDNoRateLimit:     "SIP forward without a rate limit",
	IDShadowedDrop:    "Drop rule shadowed by a broader accept",
	IDHelperIndex:     "SIP session helper location",
	IDDrift:           "Device differs from the policy",
	IDDriftExpect:     "Policy expectation fails on the device",
	IDShadowedOpen:    "Open rule unreachable: shadowed by earlier rules",
	IDProviderDrift:   "Provider ranges drifted from the catalog or DNS",
	IDUnmodelled:      "Device mode audit cannot evaluate",
}

// sipPorts are the SIP services audit looks for without a policy.
var sipPorts = []struct {
	proto uint8
	port  uint16
}{{devmodel.UDP, 5060}, {devmodel.TCP, 5060}, {devmodel.TCP, 5061}}

// rtpSized is the smallest UDP range audit calls RTP-sized.
const rtpSized = 100

var (
	all4 = netip.MustParsePrefix("0.0.0.0/0")
	all6 = netip.MustParsePrefix("::/0")
)

// wide reports whether an address matches every source of a family.
func wide(a devmodel.Addr) bool {
	return a.Any || a.Set != nil && (a.Set.ContainsPrefix(all4) || a.Set.ContainsPrefix(all6))
}

func (c *checker) onWAN(in []string, role string) bool {
	if role == "lan" {
		return false
	}
	if len(in) == 0 {
		return true
	}
	for _, i := range in {
		if c.knownWAN(i) || c.unknownIf(i) {
			return true
		}
	}
	return false
}

func (c *checker) knownWAN(name string) bool { return c.d.IsWAN(name) || c.wan[name] }

// unknownIf: the configuration cannot say whether the interface faces the
// Internet: it is not declared, and no interface is known to be a WAN (a
// script or a fragment of policies). Audit then takes it for one: saying
// "clean" about a rule whose exposure it cannot tell would be wrong.
func (c *checker) unknownIf(name string) bool {
	return c.noWAN && name != "any" && c.d.Interface(name) == nil && !c.lan[name]
}

// assumed says which interfaces of in audit took for WAN without knowing.
func (c *checker) assumed(in []string) string {
	var u []string
	for _, i := range in {
		if !c.knownWAN(i) && c.unknownIf(i) {
			u = append(u, i)
		}
	}
	if len(u) == 0 {
		return ""
	}
	how := "declare it (FortiOS set role lan)"
	if c.d.Target == "nftables" {
		how = "name the WAN with voicewall audit --wan IFACE (or --policy)"
	}
	return fmt.Sprintf(" (audit takes %s for the WAN: the configuration declares no WAN interface; if it faces only the LAN, %s and audit again)", strings.Join(u, ", "), how)
}

// touchesSIP lists the SIP services a rule's services reach.
func touchesSIP(svcs []devmodel.Service, all bool) []string {
	var out []string
	for _, s := range sipPorts {
		if all || svcHas(svcs, s.proto, s.port) {
			out = append(out, fmt.Sprintf("%d/%s", s.port, devmodel.ProtoName(s.proto)))
		}
	}
	return out
}

// ruleSIP lists the SIP services a rule's services reach, for the
// message and as probe services: the standard ports (sipPorts), and with a
// policy the parts of every provider's sip_port and tls_port (a range too)
// beyond them that the rule's services take ("5080/udp", "5062-5070/udp"),
// the same ports the inside check guards (insideSIP).
func (c *checker) ruleSIP(svcs []devmodel.Service) (what []string, probe []devmodel.Service) {
	for _, s := range sipPorts {
		if svcHas(svcs, s.proto, s.port) {
			what = append(what, fmt.Sprintf("%d/%s", s.port, devmodel.ProtoName(s.proto)))
			probe = append(probe, devmodel.Service{Proto: s.proto, DstPorts: devmodel.PortsOf(s.port, s.port)})
		}
	}
	if c.p == nil {
		return what, probe
	}
	for _, ps := range c.p.SIPPorts() {
		proto := devmodel.TCP
		if ps.Proto == lang.UDP {
			proto = devmodel.UDP
		}
		rest := devmodel.PortsOf(ps.Ports.First, ps.Ports.Last)
		for _, s := range sipPorts {
			if s.proto == proto {
				rest = without(rest, s.port)
			}
		}
		var taken devmodel.Ports
		for _, x := range svcs {
			if x.Proto == 0 {
				taken = append(taken, rest...)
			} else if x.Proto == proto {
				taken = append(taken, x.DstPorts.Intersect(rest)...)
			}
		}
		if svcs == nil {
			taken = rest
		}
		for _, t := range taken {
			w := t.String() + "/" + devmodel.ProtoName(proto)
			if !slices.Contains(what, w) {
				what = append(what, w)
				probe = append(probe, devmodel.Service{Proto: proto, DstPorts: devmodel.Ports{t}})
			}
		}
	}
	return what, probe
}

// without is ps less one port.
func without(ps devmodel.Ports, port uint16) devmodel.Ports {
	out := devmodel.Ports{}
	for _, r := range ps {
		switch {
		case port < r.Lo || port > r.Hi:
			out = append(out, r)
		default:
			if r.Lo < port {
				out = append(out, devmodel.PortRange{Lo: r.Lo, Hi: port - 1})
			}
			if port < r.Hi {
				out = append(out, devmodel.PortRange{Lo: port + 1, Hi: r.Hi})
			}
		}
	}
	return out
}

// fwdServices is what a forward takes: nil (every service) for one of
// every protocol and port (a 1:1 NAT, a VIP without port forwarding);
// a forward of every protocol limited to ports (pfSense tcp/udp, a Vigor
// open port of TCP/UDP) takes those ports of TCP and UDP only, as ports
// exist only there: a plain HTTPS forward is not "every service".
func fwdServices(f *devmodel.Forward) []devmodel.Service {
	switch {
	case f.Proto != 0:
		return []devmodel.Service{{Proto: f.Proto, DstPorts: f.Ports}}
	case f.Ports == nil:
		return nil
	}
	return []devmodel.Service{{Proto: devmodel.TCP, DstPorts: f.Ports}, {Proto: devmodel.UDP, DstPorts: f.Ports}}
}

func svcHas(svcs []devmodel.Service, proto uint8, port uint16) bool {
	if svcs == nil {
		return true
	}
	for _, s := range svcs {
		if s.Proto == 0 || s.Proto == proto && s.DstPorts.Contains(port) {
			return true
		}
	}
	return false
}

// rtpRange is the widest UDP range of ≥ rtpSized ports above 1023, or "".
func rtpRange(svcs []devmodel.Service) string {
	if svcs == nil {
		return "every port"
	}
	for _, s := range svcs {
		if s.Proto == 0 {
			return "every protocol"
		}
		if s.Proto != devmodel.UDP {
			continue
		}
		if s.DstPorts == nil {
			return "every UDP port"
		}
		for _, r := range s.DstPorts {
			if int(r.Hi)-int(max(r.Lo, 1024))+1 >= rtpSized {
				return r.String() + "/udp"
			}
		}
	}
	return ""
}

type checker struct {
	d   *devmodel.Device
	p   *lang.Policy
	wan map[string]bool // interfaces the policy's target names as WAN
	lan map[string]bool // and as LAN
	// spaces: the probe spaces of the suspects, by interfaces and services
	spaces map[string]*space
	// noWAN: neither the configuration nor the policy names a WAN interface
	noWAN bool
	ix    *index // the rules and forwards by destination and name
	out   []Finding
}

func (c *checker) add(id string, sev Severity, loc devmodel.Loc, fix, f string, a ...any) {
	c.out = append(c.out, Finding{ID: id, Severity: sev, Title: Titles[id], Message: fmt.Sprintf(f, a...), Fix: fix, Loc: loc})
}

func findings(d *devmodel.Device, p *lang.Policy) []Finding {
	c := &checker{d: d, p: p, wan: map[string]bool{}, lan: map[string]bool{}, spaces: map[string]*space{}, ix: newIndex(d)}
	if t, ok := registry.Lookup(d.Target); ok && p != nil {
		c.wan[p.Target(t.TargetSpec).WAN] = true
		c.lan[p.Target(t.TargetSpec).LAN] = true
	}
	c.noWAN = len(c.wan) == 0 && !namesWAN(d)
	c.unmodelled()
	c.helpers()
	c.openVoice()
	c.openInside()
	c.admin()
	c.cleartext()
	c.outboundNAT()
	c.rateLimits()
	c.shadowed()
	return c.out
}

var helperFix = map[string]string{
	"fortigate": "config system settings / set default-voip-alg-mode kernel-helper-based / end, then delete the sip entry of config system session-helper (or set sip_helper_index in target \"fortigate\" and compile with voicewall).",
	"pfsense":   "pfSense has no SIP ALG; remove the siproxd package if it is installed.",
	"draytek":   "sys sip_alg -e 0 (voicewall's DrayTek script starts with it).",
	"nftables":  "Delete the rule's ct helper set and the ct helper object of type \"sip\" (voicewall's own table never assigns one, and voicewall plan warns while the nf_conntrack_sip module is loaded).",
}

// unmodelled: a mode in which the device decides forwarded traffic with
// tables the reader does not hold (FortiOS NGFW policy-based mode: the
// security policies), so what audit says of forwarded traffic is not the
// device's whole verdict and the report must not be clean.
func (c *checker) unmodelled() {
	for _, s := range c.d.Unmodelled {
		c.add(IDUnmodelled, SevWarning, s.Loc, "Audit the security policies by hand (a SIP or RTP service from any source to the PBX's address is the danger), or run audit on a profile-based configuration.",
			"%s: audit cannot evaluate forwarded traffic here: VW302, VW306, VW307, VW312 and the drift checks on forwarded traffic (VW310, VW311) see only the policies it reads, so a forward they call dead may be live and one they pass may be open or closed; a clean report is not possible", s.What)
	}
}

func (c *checker) helpers() {
	for _, s := range c.d.SIPHelpers {
		c.add(IDSIPHelper, SevError, s.Loc, helperFix[c.d.Target],
			"%s: the SIP ALG/helper rewrites SIP and opens media pinholes by itself (one-way audio, dropped registrations, pinholes for anyone who can forge SIP)", s.What)
		if s.Index != "" {
			c.add(IDHelperIndex, SevNote, s.Loc, "set sip_helper_index = "+s.Index+" in target \"fortigate\" and compile again, so voicewall deletes it.",
				"the SIP session helper is config system session-helper entry %s on this device", s.Index)
		}
	}
}

func (c *checker) openVoice() {
	for _, r := range c.d.Rules {
		if r.Disabled || r.Action != devmodel.Accept || !wide(r.Src) || !c.onWAN(r.In, r.InRole) {
			continue
		}
		if r.Tagged != "" && !r.NotTagged {
			continue // only packets an earlier rule tagged
		}
		if c.onlyRestrictedForwards(r) {
			continue // a VIP's src-filter already narrows who reaches it
		}
		svcs, moved := c.admitted(r)
		sipWhat, sipSvc := c.ruleSIP(svcs)
		what := c.notAsked(sipWhat, netip.Addr{})
		var suspect []devmodel.Service
		for i, w := range sipWhat {
			if slices.Contains(what, w) {
				suspect = append(suspect, sipSvc[i])
			}
		}
		if x := rtpRange(svcs); x != "" {
			what = append(what, x) // RTP from any is never asked for
			suspect = append(suspect, suspectServices(svcs, []string{x})...)
		}
		if len(what) == 0 {
			continue
		}
		if len(r.DstForwards) == 0 && !c.reachesForward(r) && r.Hook == devmodel.HookForward && r.Dst.Unresolved {
			continue
		}
		src := r.Src.Text
		if r.SrcLine > 0 && r.SrcLine != r.Loc.Line {
			src += fmt.Sprintf(", line %d", r.SrcLine)
		}
		x := c.ruleReach(r, suspect)
		if x.restricted {
			continue // only the providers' packets are its
		}
		if !x.open {
			c.shadowedOpen(r.Loc, r.Ref, strings.Join(what, ", "), x)
			continue
		}
		c.add(IDOpenVoice, SevError, r.Loc, "Accept SIP only from your providers' signaling addresses and RTP only from their media addresses (voicewall compile writes exactly that).",
			"%s accepts %s%s from any source (%s) on the WAN: anyone on the Internet can send SIP (toll fraud, scanning) or media to it%s%s", r.Ref, strings.Join(what, ", "), movedText(moved, suspect), src, x.eg(), c.assumed(r.In))
	}
	for _, f := range c.d.Forwards {
		if f.Disabled || !wide(f.Src) || !c.onWAN(f.In, "") {
			continue
		}
		svc := fwdServices(f)
		var what []string
		all := c.notAsked(touchesSIP(svc, false), f.To)
		for _, s := range all {
			if s != "5060/udp" && s != "5060/tcp" { // 5060 is VW306
				what = append(what, s)
			}
		}
		if x := rtpRange(svc); x != "" {
			what = append(what, x)
		}
		var x reach
		if len(what)+len(all) > 0 {
			if x = c.forwardReach(f, suspectServices(svc, append(all, what...))); x.restricted {
				continue // the rules admitting it let only the providers' packets through
			} else if !x.open {
				c.shadowedOpen(f.Loc, f.Ref, strings.Join(dedup(append(all, what...)), ", "), x)
				continue
			}
		}
		if len(what) > 0 {
			c.add(IDOpenVoice, SevError, f.Loc, "Restrict the forward to your providers' addresses (FortiOS src-filter, pfSense source alias, DrayTek source IP object).",
				"%s forwards %s to %s from any source on the WAN%s%s", f.Ref, strings.Join(what, ", "), fwdTo(f), x.eg(), c.assumed(f.In))
		}
		for _, s := range all {
			if s == "5060/udp" || s == "5060/tcp" {
				c.add(IDForwardAnySrc, SevError, f.Loc, "Restrict the forward to your providers' signaling addresses (FortiOS src-filter, pfSense source alias, DrayTek source IP object).",
					"%s forwards %s to %s with no source restriction: SIP scanners reach the PBX%s%s", f.Ref, s, fwdTo(f), x.eg(), c.assumed(f.In))
			}
		}
	}
}

// notAsked drops the SIP services the policy's remote_phones block asks
// to accept from any source (forwarded to its PBX: to, when the finding is
// about a forward; an invalid to for a filter rule). RTP is never asked for
// from any source and stays in every finding.
func (c *checker) notAsked(sip []string, to netip.Addr) []string {
	rp := (*lang.RemotePhones)(nil)
	if c.p != nil {
		rp = c.p.RemotePhones
	}
	if rp == nil || to.IsValid() && !rp.PBX.HasAddress(to) {
		return sip
	}
	var out []string
	for _, s := range sip {
		asked := false
		for _, x := range rp.SIPServices() {
			asked = asked || s == x.String()
		}
		if !asked {
			out = append(out, s)
		}
	}
	return out
}

// admitted is what a rule can let in from strangers: its services, or,
// when its only destinations are forwards (a FortiOS policy to VIPs), what
// it lets through those of them open to strangers (devmodel Rule.Admits:
// the VIP's inside ports that the policy's services take, as FortiOS
// matches a policy's service against the mapped port): a policy of
// service ALL to a VIP of 2222/tcp onto 22 admits 22/tcp, not SIP; one of
// SIP to a VIP of 5080/udp onto 5060 admits 5060/udp; one of SIP to a VIP
// of 5060/udp onto 8080 admits nothing. A VIP restricted to named sources
// (its src-filter: the providers) lets no stranger through. moved are the
// parts reaching other ports than their outside ones, for the message.
func (c *checker) admitted(r *devmodel.Rule) (svcs []devmodel.Service, moved []devmodel.Admit) {
	if !c.onlyForwards(r) {
		return r.Services, nil
	}
	var fwds []*devmodel.Forward
	for _, f := range c.fwdsNamed(r.DstForwards) {
		if f.Protos() == nil && !f.Disabled {
			return r.Services, nil // a forward of everything: the rule's own services
		}
		if !c.namedOnly(f.Src) {
			fwds = append(fwds, f)
		}
	}
	svcs = []devmodel.Service{}
	for _, a := range r.Admits(fwds) {
		svcs = append(svcs, devmodel.Service{Proto: a.Proto, SrcPorts: a.SrcPorts, DstPorts: devmodel.Ports{a.In}})
		if a.Moved() {
			moved = append(moved, a)
		}
	}
	return svcs, moved
}

// onlyForwards: the rule's destinations are forwards only (FortiOS VIPs).
func (c *checker) onlyForwards(r *devmodel.Rule) bool {
	return len(r.DstForwards) > 0 && !r.Dst.Any && !r.Dst.Self && r.Dst.Set != nil && len(r.Dst.Set.Ranges()) == 0
}

// namedOnly: a restricted source set that names its sources (a provider's
// ranges, trusted hosts), not one too large to be anyone's own
// (knownSources): no stranger is in it.
func (c *checker) namedOnly(a devmodel.Addr) bool {
	if wide(a) || a.Set == nil {
		return false
	}
	return setCovers(knownSources(&devmodel.Device{Forwards: []*devmodel.Forward{{Src: a}}}), a.Set)
}

// movedText names the parts of forwards a rule admits on other ports than
// their outside ones that hold a port of what (the finding's services):
// " (firewall vip pbx-alt: WAN 5080/udp is forwarded to 10.20.0.10:5060)".
func movedText(moved []devmodel.Admit, what []devmodel.Service) string {
	var parts []string
	for _, a := range moved {
		if !slices.ContainsFunc(what, func(s devmodel.Service) bool {
			return (s.Proto == 0 || s.Proto == a.Proto) && s.DstPorts.Overlaps(a.In)
		}) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: WAN %s/%s is forwarded to %s:%s", a.Forward.Ref, a.Out, devmodel.ProtoName(a.Proto), hostText(a.Forward.To), a.In))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(dedup(parts), "; ") + ")"
}

// suspectServices are the services a finding names (touchesSIP's
// "5060/udp", an rtpRange), as probe services within the rule's own.
func suspectServices(svcs []devmodel.Service, what []string) []devmodel.Service {
	var out []devmodel.Service
	for _, s := range sipPorts {
		if slices.Contains(what, fmt.Sprintf("%d/%s", s.port, devmodel.ProtoName(s.proto))) {
			out = append(out, devmodel.Service{Proto: s.proto, DstPorts: devmodel.PortsOf(s.port, s.port)})
		}
	}
	if rtpRange(svcs) == "" {
		return out
	}
	above := devmodel.PortsOf(1024, 65535)
	if svcs == nil {
		return append(out, devmodel.Service{Proto: devmodel.UDP, DstPorts: above})
	}
	for _, s := range svcs {
		switch {
		case s.Proto == 0:
			return append(out, devmodel.Service{Proto: devmodel.UDP, DstPorts: above})
		case s.Proto == devmodel.UDP:
			if ps := s.DstPorts.Intersect(above); len(ps) > 0 {
				out = append(out, devmodel.Service{Proto: devmodel.UDP, DstPorts: ps})
			}
		}
	}
	return out
}

// shadowedOpen: a rule or forward from any that no stranger gets through,
// because earlier rules decide every packet it would take.
func (c *checker) shadowedOpen(loc devmodel.Loc, ref, what string, x reach) {
	by := "earlier rules"
	if len(x.shadowers) > 0 {
		by = strings.Join(x.shadowers[:min(len(x.shadowers), 3)], "; ")
		if len(x.shadowers) > 3 {
			by += fmt.Sprintf(" and %d more", len(x.shadowers)-3)
		}
	}
	c.add(IDShadowedOpen, SevNote, loc, "Nothing to fix for security; delete the dead rule or forward, or move it above the rules that decide its traffic if it was meant to work.",
		"%s admits %s from any source on the WAN, but no packet from a source outside what earlier rules decide gets through it: shadowed by %s", ref, what, by)
}

// onlyRestrictedForwards: the rule's destinations are only forwards (FortiOS
// VIPs), each restricted to named sources of its own (namedOnly).
func (c *checker) onlyRestrictedForwards(r *devmodel.Rule) bool {
	if !c.onlyForwards(r) {
		return false
	}
	for _, f := range c.fwdsNamed(r.DstForwards) {
		if !c.namedOnly(f.Src) {
			return false
		}
	}
	return true
}

// reachesForward: a pf-style rule matching forwarded packets by their
// rewritten destination.
func (c *checker) reachesForward(r *devmodel.Rule) bool {
	if !r.MatchForwarded {
		return false
	}
	if r.Dst.Any {
		return len(c.d.Forwards) > 0
	}
	return len(c.fwdsTo(r.Dst)) > 0
}

var adminSvc = []struct {
	name  string
	proto uint8
	port  uint16
}{{"https", devmodel.TCP, 443}, {"http", devmodel.TCP, 80}, {"ssh", devmodel.TCP, 22}, {"telnet", devmodel.TCP, 23}, {"http-alt", devmodel.TCP, 8080}, {"https-alt", devmodel.TCP, 8443}}

var adminFix = map[string]string{
	"fortigate": "Remove https/http/ssh/telnet/snmp from allowaccess on WAN interfaces (config system interface / edit WAN / set allowaccess ping / next / end); manage over a VPN or from trusted hosts only.",
	"pfsense":   "Remove the WAN pass rule to the firewall's own web UI/SSH; manage over a VPN.",
	"draytek":   "Turn off management from the Internet (mngt rmtcfg disable; System Maintenance > Management), or restrict it to an access list (mngt accesslist add).",
}

func (c *checker) admin() {
	for _, i := range c.d.Interfaces {
		if !c.onWAN([]string{i.Name}, "wan") {
			continue
		}
		// one finding per config line, naming every service it opens
		var lines []devmodel.Loc
		svcs := map[devmodel.Loc][]string{}
		for _, x := range i.Admin {
			if x.Restricted != "" {
				continue // only trusted hosts may use it
			}
			if svcs[x.Loc] == nil {
				lines = append(lines, x.Loc)
			}
			svcs[x.Loc] = append(svcs[x.Loc], x.Service)
		}
		for _, l := range lines {
			c.add(IDAdminWAN, SevError, l, adminFix[c.d.Target], "%s answers %s on WAN interface %s: the device's management is exposed to the Internet", c.d.Target, strings.Join(svcs[l], ", "), i.Name)
		}
	}
	for _, r := range c.d.Rules {
		if r.Disabled || r.Action != devmodel.Accept || r.Hook&devmodel.HookLocal == 0 || !wide(r.Src) || !c.onWAN(r.In, r.InRole) || !r.Dst.Contains(netip.Addr{}) {
			continue
		}
		var what []string
		var svcs []devmodel.Service
		for _, s := range adminSvc {
			if svcHas(r.Services, s.proto, s.port) {
				what = append(what, fmt.Sprintf("%s (%d/%s)", s.name, s.port, devmodel.ProtoName(s.proto)))
				svcs = append(svcs, devmodel.Service{Proto: s.proto, DstPorts: devmodel.PortsOf(s.port, s.port)})
			}
		}
		if len(what) == 0 {
			continue
		}
		// a dead rule (earlier rules decide all its packets) exposes nothing
		x := c.ruleReachTo(r, svcs, true)
		if x.restricted {
			continue
		}
		if !x.open {
			c.shadowedOpen(r.Loc, r.Ref, strings.Join(what, ", "), x)
			continue
		}
		c.add(IDAdminWAN, SevError, r.Loc, adminFix[c.d.Target], "%s accepts %s to the device itself from any source on the WAN%s%s", r.Ref, strings.Join(what, ", "), x.eg(), c.assumed(r.In))
	}
}

// cleartext: TLS SIP is admitted from the WAN from restricted sources (a
// TLS trunk), and cleartext SIP is admitted only from anyone (no trunk
// uses it).
func (c *checker) cleartext() {
	type admit struct {
		loc   devmodel.Loc
		ref   string
		wide  bool
		svc   []devmodel.Service
		moved []string // a forward's cleartext parts on other ports inside than outside
	}
	var admits []admit
	// rules by their services: a rule matches forwarded packets on the port
	// the forward sends them to already (the device model's filter runs
	// after destination NAT)
	for _, r := range c.d.Rules {
		if !r.Disabled && r.Action == devmodel.Accept && c.onWAN(r.In, r.InRole) && (r.Tagged == "" || r.NotTagged) {
			admits = append(admits, admit{loc: r.Loc, ref: r.Ref, wide: wide(r.Src), svc: r.Services})
		}
	}
	tls, clearTrunk := false, false
	var open []admit
	for _, a := range admits {
		if a.svc == nil {
			continue // everything: VW302 says it
		}
		if svcHas(a.svc, devmodel.TCP, 5061) && !a.wide {
			tls = true // a TLS trunk: 5061 from its addresses, not from anyone
		}
		if svcHas(a.svc, devmodel.UDP, 5060) || svcHas(a.svc, devmodel.TCP, 5060) {
			if a.wide {
				open = append(open, a)
			} else {
				clearTrunk = true
			}
		}
	}
	// forwards by their SIP parts (sipParts): TLS or cleartext SIP on the
	// outside port or on the inside port it reaches
	for _, f := range c.d.Forwards {
		if f.Disabled || !c.onWAN(f.In, "") || fwdServices(f) == nil {
			continue // a forward of everything: VW302 says it
		}
		a := admit{loc: f.Loc, ref: f.Ref, wide: wide(f.Src)}
		clear := false
		for _, p := range c.sipParts(f) {
			if p.has(devmodel.TCP, 5061) && !a.wide {
				tls = true
			}
			if p.has(devmodel.UDP, 5060) || p.has(devmodel.TCP, 5060) {
				clear = true
				if p.moved() {
					a.moved = append(a.moved, p.String(f.To))
				}
			}
		}
		switch {
		case clear && a.wide:
			open = append(open, a)
		case clear:
			clearTrunk = true
		}
	}
	if !tls || clearTrunk {
		return
	}
	for _, a := range open {
		what, fix := "cleartext SIP (5060)", "Close 5060/udp and 5060/tcp on the WAN: the trunk uses TLS (voicewall does this when every provider is TLS-only)."
		if len(a.moved) > 0 {
			what = "cleartext SIP (" + strings.Join(a.moved, "; ") + ")"
			fix = "Delete the forward: cleartext SIP reaches the PBX through it whatever its outside port, and the trunk uses TLS (voicewall closes 5060 when every provider is TLS-only)."
		}
		c.add(IDCleartextBeside, SevWarning, a.loc, fix, "%s admits %s from the WAN although the only SIP trunk forwarded is TLS (5061/tcp)", a.ref, what)
	}
}

func (c *checker) outboundNAT() {
	o := c.d.OutboundNAT
	if o == nil || o.Mode != "automatic" {
		return
	}
	// The voice hosts are the hosts SIP forwards reach (sipParts). The
	// outside port stays a reason: the check is about the source ports the
	// outside sees on a host's own traffic, and a host the providers send
	// SIP to on outside 5060 is a voice host whatever port it listens on;
	// so is a host whose inside port is SIP, whatever the outside port.
	var hosts []string
	for _, f := range c.d.Forwards {
		if len(c.sipParts(f)) > 0 && f.To.IsValid() {
			hosts = append(hosts, f.To.String())
		}
	}
	if c.p != nil {
		for _, x := range c.p.PBXes {
			hosts = append(hosts, x.Address.String())
		}
		for _, v := range c.p.VoiceVLANs {
			for _, s := range v.SubnetPrefixes {
				hosts = append(hosts, s.String())
			}
		}
	}
	if len(hosts) == 0 {
		return
	}
	c.add(IDAutoOutboundNAT, SevWarning, o.Loc, "Firewall > NAT > Outbound: Hybrid mode with a static-port rule for the voice hosts (voicewall compile writes it).",
		"outbound NAT is automatic: the source ports of the voice hosts (%s) are rewritten, which breaks SIP registrations and RTP through the NAT", strings.Join(dedup(hosts), ", "))
}

func dedup(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// rateLimits: VW307 for each SIP part of a forward (sipParts: SIP on its
// outside port or on the inside port it reaches) that no per-source limit
// covers. A limit that sees the packet before destination NAT (a FortiOS
// DoS policy, an nftables prerouting limit) must cover the outside port; a
// rule the forwarded packet meets after it (a pf pass rule with
// max-src-conn-rate) the inside port.
func (c *checker) rateLimits() {
	for _, f := range c.d.Forwards {
		if f.Disabled {
			continue
		}
		for _, p := range c.sipParts(f) {
			if c.limited(f, p) {
				continue
			}
			sev := SevWarning
			fix := map[string]string{
				"fortigate": "Add a DoS policy on the WAN interface for the SIP service with tcp_src_session/udp_src_session set to block (rate_limit in voicewall writes one).",
				"pfsense":   "Restrict the forward's source to the providers. Max. src. conn. Rate (Advanced Options, TCP only) is pfSense's only per-source limit, and it blocks the source in <virusprot> on every protocol and flushes its states: on a forward only providers reach, it cuts their live calls. UDP SIP cannot be limited per source on pfSense.",
				"draytek":   "Restrict the forward's source to the providers; the Vigor has no per-source limit, and its DoS defence (dos -s udpflood) is router-wide: at its default threshold it drops RTP of a busy office.",
				"nftables":  "Add a per-source limit of new SIP flows on the WAN before the dnat (rate_limit in voicewall writes one: a prerouting chain at priority mangle with update @set { ip saddr limit rate over N/second } and a drop).",
			}[c.d.Target]
			if c.d.Target == "pfsense" && (p.proto == devmodel.UDP || !wide(f.Src)) || c.d.Target == "draytek" && !wide(f.Src) {
				// pfSense UDP: pf cannot limit it per source, the fact, not a fixable defect.
				// From the providers only: pf's one limit would lock them out, and the
				// Vigor's router-wide flood defence would drop media.
				sev = SevNote
			}
			if !p.moved() {
				c.add(IDNoRateLimit, sev, f.Loc, fix, "%s forwards SIP %s/%s with no per-source rate limit: a registration flood or SIP scanner reaches the PBX at full speed", f.Ref, p.sip, devmodel.ProtoName(p.proto))
				continue
			}
			if (c.d.Target == "fortigate" || c.d.Target == "nftables") && fix != "" {
				fix += fmt.Sprintf(" The limit sees the packet before the forward rewrites it: match the outside port, %s/%s.", p.out, devmodel.ProtoName(p.proto))
			}
			c.add(IDNoRateLimit, sev, f.Loc, fix, "%s: %s with no per-source rate limit: a registration flood or SIP scanner reaches the PBX at full speed, whatever the outside port", f.Ref, p.String(f.To))
		}
	}
}

// limited: a per-source limit covers every packet of the part: a limit
// before destination NAT on its outside ports, one after it (or a rate
// limited accept to the forward) on its inside ports.
//
// SIP sent to an outside SIP port of a forward that picks its inside port
// from a range lands on any port of it; the PBX answers SIP only on the
// SIP ports among them, so a limit after NAT must cover those (the whole
// range when none is SIP).
func (c *checker) limited(f *devmodel.Forward, p sipPart) bool {
	in := slices.Clone(f.In)
	if len(in) == 0 {
		in = c.d.WANs()
	}
	in = append(in, "")
	inside := []devmodel.PortRange{p.in}
	if p.outside && p.pick != (devmodel.PortRange{}) {
		var sip []devmodel.PortRange
		for _, s := range c.insideSIP() {
			if uint8(s.Proto) == p.proto && s.Ports.First <= p.in.Hi && p.in.Lo <= s.Ports.Last {
				sip = append(sip, devmodel.PortRange{Lo: max(p.in.Lo, s.Ports.First), Hi: min(p.in.Hi, s.Ports.Last)})
			}
		}
		if len(sip) > 0 {
			inside = sip
		}
	}
	covers := func(ok func(devmodel.PortRange) bool, rs []devmodel.PortRange) bool {
		for _, r := range rs {
			if !ok(r) {
				return false
			}
		}
		return true
	}
	for _, l := range c.d.Limits {
		ports := inside
		if l.PreNAT || !judgeInside {
			ports = []devmodel.PortRange{p.out}
		}
		for _, i := range in {
			if covers(func(r devmodel.PortRange) bool { return l.CoversRange(i, p.proto, r) }, ports) {
				return true
			}
		}
	}
	for _, k := range c.ix.rateRules {
		r := c.d.Rules[k]
		if covers(func(x devmodel.PortRange) bool { return svcCoversRange(r.Services, p.proto, x) }, inside) && (r.Dst.Contains(f.To) || slices.Contains(r.DstForwards, f.Name)) {
			return true
		}
	}
	return false
}

// svcCoversRange: one of the services takes every port of r of a protocol.
func svcCoversRange(svcs []devmodel.Service, proto uint8, r devmodel.PortRange) bool {
	if svcs == nil {
		return true
	}
	for _, s := range svcs {
		if s.Proto == 0 || s.Proto == proto && (s.DstPorts == nil || covered(s.DstPorts, devmodel.Ports{r})) {
			return true
		}
	}
	return false
}

// shadowed: a drop of traffic from any source that an earlier accept from
// any source already takes entirely (FortiOS: voicewall's policies must
// come before broader accepts). A closing deny-all (every service to any
// destination) is the firewall's default made explicit: a narrower accept
// before it is the design, not a fault, and it is never reported (moving it
// up would cut all traffic).
func (c *checker) shadowed() {
	for i, r := range c.d.Rules {
		if r.Disabled || r.Action != devmodel.Drop || !r.Quick || !wide(r.Src) {
			continue
		}
		if r.Services == nil && r.Dst.Any {
			continue // a deny-all
		}
		for _, a := range c.d.Rules[:i] {
			if a.Disabled || a.Action != devmodel.Accept || !a.Quick || a.Hook&r.Hook == 0 || !wide(a.Src) || a.Dir != r.Dir {
				continue
			}
			// broader: the accept takes every packet of the drop on its
			// interfaces, destinations and services (a zone-to-zone accept
			// before a drop on every interface is narrower)
			if !ifsCover(a.In, r.In) || !ifsCover(a.Out, r.Out) || a.InRole != "" && a.InRole != r.InRole || a.OutRole != "" && a.OutRole != r.OutRole {
				continue
			}
			if a.Tagged != "" || a.NotTagged || a.Family != 0 && a.Family != r.Family || len(a.NotIn) > 0 {
				continue
			}
			if !svcCovers(a.Services, r.Services) {
				continue
			}
			dst := a.Dst.Any || a.Dst.Set != nil && r.Dst.Set != nil && !r.Dst.Any && setCovers(a.Dst.Set, r.Dst.Set)
			if len(a.DstForwards) > 0 && r.MatchForwarded {
				dst = true // a VIP accept takes forwarded traffic before the match-vip drop
			}
			if !dst {
				continue
			}
			c.add(IDShadowedDrop, SevWarning, r.Loc, c.moveFix(r, a),
				"%s (%s) never sees part of its traffic: the earlier %s (%s) accepts it from any source first", r.Ref, r.Name, a.Ref, a.Loc)
			break
		}
	}
}

// moveFix says, in the device's own terms, how to put drop r above accept a.
func (c *checker) moveFix(r, a *devmodel.Rule) string {
	switch c.d.Target {
	case "fortigate":
		// The table is the Ref's path: firewall policy, local-in-policy or local-in-policy6
		// (local-in policies match top-down too, and --base moves voicewall's).
		table := strings.TrimSuffix(r.Ref, " "+lastWord(r.Ref))
		return "Move the drop above the broader accept: config " + table + " / move " + lastWord(r.Ref) + " before " + lastWord(a.Ref) + " / end."
	case "pfsense":
		return "Move the block rule above the pass rule: Firewall > Rules, on the rules' interface tab (Floating for floating rules), drag " + r.Ref + " above " + a.Ref + ", then Save and Apply Changes."
	case "draytek":
		return "Move the drop above the accept: give " + r.Ref + " a lower rule number in its filter set than " + a.Ref + " (Firewall > Filter Setup, or ipf rule with the lower index)."
	}
	return "Move the drop above the broader accept."
}

func lastWord(s string) string {
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		return s[i+1:]
	}
	return s
}

func overlapIf(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// svcCovers reports whether services a take every port of services b.
func svcCovers(a, b []devmodel.Service) bool {
	if a == nil {
		return true
	}
	if b == nil {
		return false
	}
	for _, y := range b {
		ok := false
		for _, x := range a {
			if x.Proto == 0 || x.Proto == y.Proto && x.SrcPorts == nil && (x.DstPorts == nil || y.DstPorts != nil && covered(x.DstPorts, y.DstPorts)) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func covered(a, b devmodel.Ports) bool {
	for _, r := range b {
		in := false
		for _, x := range a {
			if x.Lo <= r.Lo && x.Hi >= r.Hi {
				in = true
			}
		}
		if !in {
			return false
		}
	}
	return true
}

func setCovers(a, b *netipx.IPSet) bool {
	for _, r := range b.Ranges() {
		if !a.ContainsRange(r) {
			return false
		}
	}
	return true
}

// namesWAN: the device declares or names an interface in the WAN role.
func namesWAN(d *devmodel.Device) bool {
	if len(d.WANs()) > 0 {
		return true
	}
	for _, r := range d.Rules {
		if r.InRole == "wan" || slices.ContainsFunc(r.In, d.IsWAN) {
			return true
		}
	}
	for _, f := range d.Forwards {
		if f.InRole == "wan" || slices.ContainsFunc(f.In, d.IsWAN) {
			return true
		}
	}
	return false
}

// fwdTo names where a forward sends its packets: its address, or the
// device itself (an nftables redirect).
func fwdTo(f *devmodel.Forward) string {
	if f.ToSelf {
		return "the device itself"
	}
	return f.To.String()
}
