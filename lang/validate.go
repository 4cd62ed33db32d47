package lang

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"go4.org/netipx"
)

// Defaults of the language (docs/language.md).
var (
	DefaultRTP             = PortRange{10000, 20000}
	DefaultManagementPorts = []Service{
		{TCP, PortRange{22, 23}},   // SSH, telnet
		{TCP, PortRange{80, 80}},   // web UI
		{TCP, PortRange{443, 443}}, // web UI over TLS
		{TCP, PortRange{8080, 8080}},
		{TCP, PortRange{8443, 8443}},
		{UDP, PortRange{161, 161}}, // SNMP
	}
	DefaultLogRate = Rate{10, "minute"}
)

// wideRTP: 10,001 ports carry 5,000 concurrent calls (RTP+RTCP pairs); more is
// attack surface without benefit for the sites voicewall targets.
const wideRTP = 10001

func (d *decoder) validate(raw []*rawBlock) *Policy {
	p := &Policy{Targets: map[string]*Target{}, RTP: DefaultRTP}
	byType := map[string][]*rawBlock{}
	for _, b := range raw {
		byType[b.typ] = append(byType[b.typ], b)
	}
	// Labels are unique per block type; singletons appear once.
	for typ, bs := range byType {
		seen := map[string]*rawBlock{}
		for _, b := range bs {
			key := normName(b.label)
			if typ == "expect" {
				key = b.label
			}
			if prev, ok := seen[key]; ok {
				what := fmt.Sprintf("a second %s %q", typ, b.label)
				fix := "Merge them or rename one (names are compared ignoring case and '-' vs '_')."
				switch {
				case b.label == "":
					what = "a second " + typ + " block"
					fix = "A policy has one " + typ + " block: merge them."
				case typ == "expect":
					fix = "Rename one: the name identifies the test in `voicewall test` output."
				}
				d.add(errorf(IDDuplicate, b.rng, "Duplicate "+typ+" block",
					"This is %s; the first is at %s:%d:%d. %s", what, prev.rng.Filename, prev.rng.Start.Line, prev.rng.Start.Column, fix))
				b.typ = "" // ignore the duplicate
				continue
			}
			seen[key] = b
		}
	}
	// each decodes the blocks of one type in file order, skipping
	// duplicates (typ cleared above) and, where the type is named, labels a
	// target could not carry.
	each := func(typ string, named bool, decode func(*Policy, *rawBlock)) {
		for _, b := range byType[typ] {
			if b.typ != "" && (!named || d.checkName(typ, b.label, b.labelR)) {
				decode(p, b)
			}
		}
	}
	each("target", false, d.target)
	each("rtp", false, d.rtp)
	each("provider", true, d.provider)
	d.checkWhitelistShares()
	sort.Slice(p.Providers, func(i, j int) bool { return p.Providers[i].Name < p.Providers[j].Name })
	each("voice_vlan", true, d.voiceVLAN)
	sort.Slice(p.VoiceVLANs, func(i, j int) bool { return p.VoiceVLANs[i].Name < p.VoiceVLANs[j].Name })
	each("pbx", true, d.pbx)
	sort.Slice(p.PBXes, func(i, j int) bool { return p.PBXes[i].Name < p.PBXes[j].Name })
	each("remote_phones", false, d.remotePhones)
	each("ban", false, d.ban)
	each("watch", false, d.watch)
	each("close", false, d.close)
	each("rate_limit", false, d.rateLimit)
	each("log", false, d.log)
	each("blocklist", true, d.blocklist)
	sort.Slice(p.Blocklists, func(i, j int) bool { return p.Blocklists[i].Name < p.Blocklists[j].Name })
	for _, b := range byType["expect"] {
		if b.typ != "" && d.checkExpectName(b.label, b.labelR) {
			d.expect(p, b)
		}
	}
	sort.SliceStable(p.Expects, func(i, j int) bool {
		a, b := p.Expects[i].Origin.Range, p.Expects[j].Origin.Range
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Line < b.Start.Line
	})
	d.crossChecks(p, byType)
	d.responsiveChecks(p)
	return p
}

func origin(kind string, b *rawBlock) Origin {
	return Origin{Kind: kind, Name: b.label, Range: b.rng}
}

func (d *decoder) target(p *Policy, b *rawBlock) {
	spec, ok := d.lookupTarget(b.label) // the schema let only declared targets through...
	if !ok {
		spec = &TargetSpec{Name: b.label} // ...unless none are (see LoadOptions.Targets)
	}
	t := &Target{Name: b.label, WAN: spec.WAN, LAN: spec.LAN, Origin: origin("target", b), Extra: map[string]string{}}
	names := make([]string, 0, len(b.attrs))
	for n := range b.attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := b.attrs[n]
		if n == "accept_gaps" {
			t.AcceptGaps = d.acceptGaps(a, spec, ok)
			continue
		}
		if ta, known := spec.Attr(n); known && ta.Bool {
			if on, ok := d.boolean(a); ok {
				t.Extra[n] = strconv.FormatBool(on)
			}
			continue
		}
		v, ok := d.str(a)
		if !ok {
			continue
		}
		if a, known := spec.Attr(n); a.URL || !ok && !known && safeURL(v.s) {
			if !safeURL(v.s) {
				d.add(errorf(IDUnsafeName, v.rng, "Bad blocklist URL", "%s = %q: write an http:// or https:// URL of at most 255 characters, without spaces, quotes, backslashes or angle brackets.", n, v.s))
				continue
			}
		} else if !safeTargetValue(v.s) {
			d.add(errorf(IDUnsafeName, v.rng, "Unsafe value", "%s = %q cannot be carried safely into %s output: use letters, digits and . _ - / : only, at most 64 characters.", n, v.s, b.label))
			continue
		}
		switch n {
		case "wan":
			t.WAN = v.s
		case "lan":
			t.LAN = v.s
		default:
			t.Extra[n] = v.s
		}
	}
	if spec.CheckInterface != nil {
		for _, dev := range []string{t.WAN, t.LAN} {
			if summary, detail := spec.CheckInterface(dev); summary != "" {
				d.add(errorf(IDUnsafeName, b.rng, summary, "%s", detail))
			}
		}
	}
	if t.WAN == t.LAN && t.WAN != "" {
		d.add(errorf(IDBadValue, b.rng, "WAN and LAN are the same interface", "target %q maps both wan and lan to %q; voicewall tells zones apart by interface.", b.label, t.WAN))
	}
	p.Targets[b.label] = t
}

// acceptGaps reads target.accept_gaps: names from GapNames, each once. A
// gap the target's capability table does not list can never occur there:
// the acceptance is stale from the start (warned, as at compile time).
func (d *decoder) acceptGaps(a *hcl.Attribute, spec *TargetSpec, registered bool) []AcceptedGap {
	items, ok := d.strList(a)
	if !ok {
		return nil
	}
	names := GapNameList()
	var out []AcceptedGap
	seen := map[string]bool{}
	for _, it := range items {
		if _, known := GapNames[it.s]; !known {
			d.add(errorf(IDBadValue, it.rng, "Unknown gap", "%q is not a gap voicewall knows.%s Gaps are: %s.", it.s, suggest(it.s, names), strings.Join(names, ", ")))
			continue
		}
		if seen[it.s] {
			d.add(errorf(IDDuplicate, it.rng, "Duplicate accepted gap", "%q is listed twice; remove one.", it.s))
			continue
		}
		seen[it.s] = true
		if _, has := spec.Gaps[it.s]; registered && !has {
			d.add(warnf(IDStaleGap, it.rng, "Accepted gap the target never has", "target %q can express %s (%s), so this acceptance would only hide a future gap from review; remove it.", spec.Name, GapNames[it.s], it.s))
		}
		out = append(out, AcceptedGap{Name: it.s, Range: it.rng})
	}
	return out
}

// safeURL accepts URL characters (RFC 3986) except quotes: the value is
// written into vendor configurations inside double quotes.
func safeURL(s string) bool {
	if len(s) > 255 || !(strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")) {
		return false
	}
	// "{name}" is the placeholder for the blocklist's name (docs/language.md).
	for _, r := range strings.ReplaceAll(s, "{name}", "name") {
		if !(r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~:/?#[]@!$&()*+,;=%", r))) {
			return false
		}
	}
	return true
}

func safeTargetValue(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/:", r))) {
			return false
		}
	}
	return true
}

func (d *decoder) rtp(p *Policy, b *rawBlock) {
	p.RTPSource = origin("rtp", b)
	if a := b.attrs["ports"]; a != nil {
		if r, ok := d.portRange(a); ok {
			p.RTP = r
			if r.Size() > wideRTP {
				d.add(warnf(IDWideRTP, a.Expr.Range(), "RTP range wider than needed",
					"%d ports are open to provider media; %d carry 5,000 concurrent calls. Narrow it to what your PBX and phones use (e.g. \"10000-20000\").", r.Size(), wideRTP))
			}
			if r.First < 1024 {
				d.add(warnf(IDWideRTP, a.Expr.Range(), "RTP range includes privileged ports", "RTP never uses ports below 1024; start the range at 1024 or above (e.g. 10000)."))
			}
		}
	}
}

// sipPorts reads a provider's sip_port: a port (5060, or "5060") or, for a
// provider that sends SIP from and to a range of ports, "LOW-HIGH".
func (d *decoder) sipPorts(a *hcl.Attribute) (PortRange, bool) {
	if v, diags := a.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() && strings.Contains(v.AsString(), "-") {
		r, ok := d.portRange(a)
		if ok && r.First == 0 {
			d.add(errorf(IDBadPort, a.Expr.Range(), "Value out of range", "sip_port must be between 1 and 65535."))
			return PortRange{}, false
		}
		return r, ok
	}
	n, ok := d.integer(a, 1, 65535)
	return PortRange{uint16(n), uint16(n)}, ok
}

func (d *decoder) portRange(a *hcl.Attribute) (PortRange, bool) {
	v, ok := d.str(a)
	if !ok {
		return PortRange{}, false
	}
	r, err := ParsePortRange(v.s)
	if err != nil {
		d.add(errorf(portErrID(err), v.rng, "Bad port range", "%s.", err))
		return PortRange{}, false
	}
	return r, true
}

func portErrID(err error) string {
	var inv errInverted
	var pr errPortRange
	switch {
	case errors.As(err, &inv):
		return IDInvertedRange
	case errors.As(err, &pr):
		return IDBadPort
	}
	return IDBadService
}

// addrList reads hosts/CIDRs, reporting each bad one at its own position.
// anyID is the finding for 0.0.0.0/0 or ::/0 ("" allows it).
func (d *decoder) addrList(a *hcl.Attribute, what, anyID string) ([]netip.Prefix, []strItem, bool) {
	items, ok := d.strList(a)
	if !ok {
		return nil, nil, false
	}
	var out []netip.Prefix
	var kept []strItem
	for _, it := range items {
		if anyID != "" && isAnyWord(it.s) {
			d.add(anyDiag(anyID, it, what))
			ok = false
			continue
		}
		pfx, err := ParsePrefix(it.s)
		var hb errHostBits
		if errors.As(err, &hb) {
			d.add(errorf(IDHostBits, it.rng, "Host bits set in CIDR", "%q: %s. Write %q (or the single host %s).", it.s, err, hb.masked.String(), strings.Split(it.s, "/")[0]))
			ok = false
			continue
		}
		if err != nil {
			d.add(errorf(IDBadAddress, it.rng, "Bad address", "%s.", err))
			ok = false
			continue
		}
		if pfx.Bits() == 0 && anyID != "" {
			d.add(anyDiag(anyID, it, what))
			ok = false
			continue
		}
		out = append(out, pfx)
		kept = append(kept, it)
	}
	return out, kept, ok
}

// isAnyWord reports the words admins write for "every address".
func isAnyWord(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "any", "all", "*", "0/0":
		return true
	}
	return false
}

func anyDiag(id string, it strItem, what string) *hcl.Diagnostic {
	if id == IDAnyManagement {
		return errorf(id, it.rng, "Phone management open to \"any\"", "%s %q would let every address, the Internet (WAN) included, reach the phones' web UI, SSH and provisioning. List the networks your administrators use, e.g. \"10.0.0.0/24\".", what, it.s)
	}
	return errorf(id, it.rng, "\"Any\" is not a whitelist", "%s %q would match every address on the Internet. List the provider's published addresses instead (see its interconnect guide).", what, it.s)
}

func (d *decoder) provider(p *Policy, b *rawBlock) {
	pr := &Provider{Name: b.label, SIPPort: 5060, TLSPort: 5061, Transports: []Transport{TransportUDP}, Origin: origin("provider", b)}
	var literalSig, literalMedia []netip.Prefix
	if a := b.attrs["signaling"]; a != nil {
		pfx, items, ok := d.addrList(a, "signaling", IDAnyWhitelist)
		literalSig = pfx
		d.broad(pfx, items, pr)
		d.noteWhitelist(pr.Name, "signaling", pfx, items)
		if ok && len(pfx) == 0 && b.attrs["catalog"] == nil && b.attrs["signaling_dns"] == nil { // not when every entry was already reported as bad
			d.add(errorf(IDBadValue, a.Expr.Range(), "Empty signaling list", "provider %q needs at least one signaling address: SIP is accepted only from there.", pr.Name))
		}
	} else if b.attrs["catalog"] == nil && b.attrs["signaling_dns"] == nil {
		d.add(errorf(IDSchema, b.rng, "Provider without signaling", "provider %q needs signaling = [...] (its SIP addresses), catalog = \"NAME\" (from `voicewall providers list`) or signaling_dns = [...] (its SIP host names): SIP is accepted only from there.", pr.Name))
	}
	mediaWritten := false
	if a := b.attrs["media"]; a != nil {
		pfx, items, _ := d.addrList(a, "media", IDAnyWhitelist)
		literalMedia = pfx
		d.broad(pfx, items, pr)
		d.noteWhitelist(pr.Name, "media", pfx, items)
		exprs, _ := hcl.ExprList(a.Expr)
		mediaWritten = len(exprs) > 0 // entries that were rejected have their own error
	}
	entry := d.providerInputs(pr, b, literalSig, literalMedia)
	if entry != nil {
		mediaWritten = mediaWritten || len(entry.Media) > 0
		if entry.SIPPort != 0 {
			pr.SIPPort, pr.SIPPortLast = entry.SIPPort, entry.SIPPortLast
		}
		if entry.TLSPort != 0 {
			pr.TLSPort = entry.TLSPort
		}
	}
	symmetricFrom := hcl.Range{}
	if a := b.attrs["symmetric_rtp"]; a != nil {
		if v, ok := d.boolean(a); ok && v {
			pr.SymmetricRTP = true
			symmetricFrom = a.Expr.Range()
		}
	} else if entry != nil && entry.SymmetricRTP && len(literalMedia) == 0 {
		pr.SymmetricRTP = true
		symmetricFrom = b.attrs["catalog"].Expr.Range()
	}
	if pr.SymmetricRTP {
		d.add(warnf(IDSymmetricRTP, symmetricFrom, "RTP accepted only on flows opened from inside",
			"provider %q: its RTP is accepted only as replies on flows the PBX or a phone opened first (conntrack established/related), never unsolicited and never forwarded to a PBX by DNAT. Audio works only with symmetric RTP: the PBX must send RTP first, from the port it receives on (Asterisk PJSIP endpoint: direct_media=no, rtp_symmetric=yes, force_rport=yes; chan_sip: directmedia=no, nat=force_rport,comedia). Phones must do the same.", pr.Name))
	}
	catalogFailed := b.attrs["catalog"] != nil && entry == nil // said at the catalog line; no cascade
	if !mediaWritten && !pr.SymmetricRTP && !catalogFailed {
		d.add(warnf(IDNoMedia, b.rng, "Provider has no media addresses",
			"provider %q lists no media addresses, so its RTP (the call audio) is dropped at the WAN. Add media = [...] from the provider's interconnect guide; many providers send RTP from other hosts than SIP. If it does not publish them, set symmetric_rtp = true.", pr.Name))
	}
	if a := b.attrs["transports"]; a == nil && entry != nil && len(entry.Transports) > 0 {
		pr.Transports = append([]Transport{}, entry.Transports...)
		order := map[Transport]int{TransportUDP: 0, TransportTCP: 1, TransportTLS: 2}
		sort.Slice(pr.Transports, func(i, j int) bool { return order[pr.Transports[i]] < order[pr.Transports[j]] })
		var clear []string
		for _, t := range pr.Transports {
			if t != TransportTLS {
				clear = append(clear, string(t))
			}
		}
		if len(clear) > 0 {
			d.add(warnf(IDCleartext, b.attrs["catalog"].Expr.Range(), "Cleartext SIP transport",
				"provider %q takes its transports from catalog entry %q: %s, so SIP in cleartext (%s) is accepted. Set transports = [\"tls\"] where you use TLS with this provider.", pr.Name, entry.Name, transportList(pr.Transports), strings.Join(clear, ", ")))
		}
	} else if a := b.attrs["transports"]; a != nil {
		if items, ok := d.strList(a); ok {
			pr.Transports = d.transports(items, a, func(t Transport, rng hcl.Range) {
				if t != TransportTLS {
					d.add(warnf(IDCleartext, rng, "Cleartext SIP transport",
						"SIP over %s is unencrypted: credentials digests and call metadata can be read and calls hijacked on the path. Prefer \"tls\" (with SRTP for media) where the provider supports it.", t))
				}
			})
		}
	} else if !catalogFailed {
		d.add(warnf(IDCleartext, b.rng, "Cleartext SIP transport",
			"provider %q uses the default transport, \"udp\": SIP in cleartext. Set transports = [\"tls\"] where the provider supports it.", pr.Name))
	}
	if a := b.attrs["sip_port"]; a != nil {
		if r, ok := d.sipPorts(a); ok {
			pr.SIPPort, pr.SIPPortLast = r.First, r.Last
			if r.First == r.Last {
				pr.SIPPortLast = 0
			}
		}
	}
	if a := b.attrs["tls_port"]; a != nil {
		if n, ok := d.integer(a, 1, 65535); ok {
			pr.TLSPort = uint16(n)
		}
	}
	if sip := pr.SIPPortRange(); pr.TLSPort >= sip.First && pr.TLSPort <= sip.Last && len(pr.Transports) > 1 {
		for _, t := range pr.Transports {
			if t == TransportTCP {
				d.add(errorf(IDBadValue, b.rng, "SIP and TLS share a port", "provider %q uses tcp and tls on the same port %d; give tls_port its own port.", pr.Name, pr.TLSPort))
				break
			}
		}
	}
	p.Providers = append(p.Providers, pr)
}

func transportList(ts []Transport) string {
	ss := make([]string, len(ts))
	for i, t := range ts {
		ss[i] = string(t)
	}
	return strings.Join(ss, ", ")
}

func (d *decoder) broad(pfx []netip.Prefix, items []strItem, pr *Provider) {
	for i, x := range pfx {
		if (x.Addr().Is4() && x.Bits() < 16) || (x.Addr().Is6() && x.Bits() < 32) {
			d.add(warnf(IDBroadProvider, items[i].rng, "Very broad provider range",
				"%s covers %s addresses; a SIP whitelist this wide admits scanners hosted nearby. Use the provider's published host ranges.", x, map[bool]string{true: "millions of", false: "a huge number of"}[x.Addr().Is4()]))
		}
	}
}

func (d *decoder) pbx(p *Policy, b *rawBlock) {
	x := &PBX{Name: b.label, RTPPorts: p.RTP, Zone: ZoneLAN, Origin: origin("pbx", b)}
	if a := b.attrs["address"]; a != nil {
		if v, ok := d.str(a); ok {
			addr, err := netip.ParseAddr(strings.TrimSpace(v.s))
			if err != nil || addr.Zone() != "" {
				d.add(errorf(IDBadAddress, v.rng, "Bad PBX address", "%q is not a single IP address; write the PBX's LAN address, e.g. \"10.20.0.10\".", v.s))
			} else {
				x.Address = addr.Unmap()
			}
		}
	}
	if a := b.attrs["address6"]; a != nil {
		if v, ok := d.str(a); ok {
			addr, err := netip.ParseAddr(strings.TrimSpace(v.s))
			switch {
			case err != nil || addr.Zone() != "" || !addr.Is6() || addr.Is4In6():
				d.add(errorf(IDBadAddress, v.rng, "Bad PBX IPv6 address", "%q is not a single IPv6 address; write the PBX's global IPv6 address, e.g. \"2001:db8:20::10\".", v.s))
			case x.Address.Is6():
				d.add(errorf(IDBadAddress, v.rng, "Two IPv6 PBX addresses", "address is already IPv6 (%s); address6 is for a PBX whose address is IPv4. Use one of them.", x.Address))
			default:
				x.Address6 = addr
			}
		}
	}
	if a := b.attrs["providers"]; a != nil {
		if items, ok := d.strList(a); ok {
			x.Providers = d.providerRefs(items, p, fmt.Sprintf("pbx %q", x.Name))
		}
	} else {
		x.Providers = append(x.Providers, p.Providers...)
	}
	if a := b.attrs["rtp_ports"]; a != nil {
		if r, ok := d.portRange(a); ok {
			x.RTPPorts = r
		}
	}
	for _, v := range p.VoiceVLANs {
		for _, a := range x.Addresses() {
			if v.Subnets.Contains(a) {
				x.Zone = v.Name
			}
		}
	}
	p.PBXes = append(p.PBXes, x)
}

func (d *decoder) voiceVLAN(p *Policy, b *rawBlock) {
	v := &VoiceVLAN{Name: b.label, Parent: ZoneLAN, DSCP: "ef", ManagementPorts: DefaultManagementPorts, Origin: origin("voice_vlan", b)}
	if v.Name == ZoneWAN || v.Name == ZoneLAN {
		d.add(errorf(IDDuplicate, b.labelR, "Reserved zone name", "%q is a built-in zone; name the voice VLAN something else, e.g. \"phones\".", v.Name))
	}
	if a := b.attrs["id"]; a != nil {
		if n, ok := d.integer(a, 1, 4094); ok {
			v.ID = uint16(n)
		}
	}
	if a := b.attrs["parent"]; a != nil {
		if s, ok := d.str(a); ok {
			switch s.s {
			case ZoneLAN:
			case ZoneWAN:
				d.add(errorf(IDUnknownRef, s.rng, "Voice VLAN on the WAN", "parent = \"wan\" would put phones on the Internet side; voice VLANs hang off \"lan\"."))
			default:
				d.add(errorf(IDUnknownRef, s.rng, "Unknown zone", "parent must be a zone whose interface carries the tagged VLAN; %q is not one.%s", s.s, orDefault(suggest(s.s, []string{"lan"}), ` Use "lan".`)))
			}
		}
	}
	var subnets []netip.Prefix
	sa, sas := b.attrs["subnet"], b.attrs["subnets"]
	switch {
	case sa != nil && sas != nil:
		d.add(errorf(IDDuplicate, sas.NameRange, "Both subnet and subnets", "Use subnet for one network or subnets = [...] for several (v4 and v6), not both."))
	case sa == nil && sas == nil:
		d.add(errorf(IDSchema, b.rng, "Missing subnet", "voice_vlan %q needs subnet = \"10.20.0.0/24\" (or subnets = [...]) so its rules can name the phones.", v.Name))
	case sa != nil:
		if s, ok := d.str(sa); ok {
			subnets = d.subnet(s, &v.SubnetPrefixes)
		}
	default:
		if items, ok := d.strList(sas); ok {
			for _, it := range items {
				subnets = append(subnets, d.subnet(it, &v.SubnetPrefixes)...)
			}
			if len(items) == 0 {
				d.add(errorf(IDSchema, sas.Expr.Range(), "Empty subnets", "voice_vlan %q needs at least one subnet, e.g. subnets = [\"10.20.0.0/24\", \"2001:db8:20::/64\"], so its rules can name the phones.", v.Name))
			}
		}
	}
	v.Subnets = NewAddrSet(subnets...)
	if a := b.attrs["providers"]; a != nil {
		if items, ok := d.strList(a); ok {
			v.Providers = d.providerRefs(items, p, fmt.Sprintf("voice_vlan %q", v.Name))
			if len(items) == 0 {
				v.Providers = []*Provider{} // explicitly none: no SIP/RTP to the Internet at all
			}
		}
	} else {
		d.add(warnf(IDVLANNoProviders, b.rng, "Voice VLAN without a provider list",
			"voice_vlan %q has no providers = [...], so phones may send SIP to any server on the Internet: a hijacked phone can place fraudulent calls through a rogue provider (toll fraud). List the providers the phones use, or providers = [] when they talk only to a local PBX.", v.Name))
	}
	if a := b.attrs["allow_out"]; a != nil {
		v.AllowOutGiven = true
		if items, ok := d.strList(a); ok {
			seen := map[string]bool{}
			for _, it := range items {
				dst, svc, err := ParseOutService(it.s)
				if err != nil {
					d.add(errorf(portErrID(err), it.rng, "Bad allow_out entry", "%s. Write [ADDRESS[/PREFIX]:]PORT[-PORT]/PROTO, e.g. \"53/udp\", \"203.0.113.99:443/tcp\" or \"[2001:db8::53]:53/udp\".", err))
					continue
				}
				if dst.IsValid() && dst.Bits() == 0 {
					d.add(errorf(IDBadAddress, it.rng, "allow_out to \"any\" address", "%q: leave the address out to allow the port to every destination (e.g. \"%s\").", it.s, svc))
					continue
				}
				key := dst.String() + " " + svc.String()
				if seen[key] {
					d.add(errorf(IDDuplicate, it.rng, "Duplicate allow_out entry", "%q is listed twice; remove one.", it.s))
					continue
				}
				seen[key] = true
				v.AllowOut = append(v.AllowOut, AllowOut{Dst: dst, Service: svc, Text: it.s, Range: it.rng})
			}
		}
	} else {
		d.add(warnf(IDEgressOpen, b.rng, "Voice VLAN egress open besides SIP and RTP",
			"voice_vlan %q has no allow_out, so phones may reach anything on the Internet except SIP (other than their providers) and RTP from their RTP range: a hijacked phone can still reach a rogue SIP server on another port (5080/udp, 443/tcp). List what the phones need, e.g. allow_out = [\"53/udp\", \"53/tcp\", \"123/udp\", \"PROVISIONING-SERVER:443/tcp\"]; everything else from the VLAN to the WAN is then dropped.", v.Name))
	}
	if a := b.attrs["management"]; a != nil {
		v.ManagementGiven = true
		pfx, _, _ := d.addrList(a, "management", IDAnyManagement)
		v.Management = NewAddrSet(pfx...)
	}
	if a := b.attrs["management_ports"]; a != nil {
		if items, ok := d.strList(a); ok {
			v.ManagementPorts = nil
			for _, it := range items {
				s, err := ParseService(it.s)
				if err != nil {
					d.add(errorf(portErrID(err), it.rng, "Bad management port", "%s.", err))
					continue
				}
				v.ManagementPorts = append(v.ManagementPorts, s)
			}
			SortServices(v.ManagementPorts)
		}
	}
	if a := b.attrs["dscp"]; a != nil {
		if s, ok := d.str(a); ok {
			c := strings.ToLower(s.s)
			if _, known := DSCPValues[c]; !known {
				var names []string
				for k := range DSCPValues {
					names = append(names, k)
				}
				sort.Strings(names)
				d.add(errorf(IDBadValue, s.rng, "Unknown DSCP class", "%q is not a DSCP class name; RTP is normally \"ef\".%s Known: %s.", s.s, suggest(c, names), strings.Join(names, ", ")))
			} else {
				v.DSCP = c
			}
		}
	}
	for _, o := range p.VoiceVLANs {
		if o.ID == v.ID && v.ID != 0 {
			d.add(errorf(IDDuplicateVLAN, b.attrs["id"].Expr.Range(), "Duplicate VLAN id", "VLAN id %d is also used by voice_vlan %q (%s).", v.ID, o.Name, o.Origin.Pos()))
		}
		if o.Subnets.Overlaps(v.Subnets) {
			d.add(errorf(IDDuplicateVLAN, b.rng, "Overlapping voice VLAN subnets", "voice_vlan %q overlaps the subnet of voice_vlan %q (%s); each segment needs its own network.", v.Name, o.Name, o.Origin.Pos()))
		}
	}
	p.VoiceVLANs = append(p.VoiceVLANs, v)
}

// subnet accepts the gateway's own address with its prefix length
// ("10.20.0.1/24"), as admins write interface addresses.
func (d *decoder) subnet(it strItem, asWritten *[]netip.Prefix) []netip.Prefix {
	s := strings.TrimSpace(it.s)
	if pfx, err := netip.ParsePrefix(s); err == nil && pfx.Addr().Zone() == "" {
		if pfx.Bits() == 0 {
			d.add(errorf(IDBadAddress, it.rng, "Subnet is \"any\"", "A voice VLAN subnet must be the phones' network, not %s.", s))
			return nil
		}
		*asWritten = append(*asWritten, netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()))
		return []netip.Prefix{pfx.Masked()}
	}
	pfx, err := ParsePrefix(s)
	if err != nil {
		d.add(errorf(IDBadAddress, it.rng, "Bad subnet", "%s.", err))
		return nil
	}
	*asWritten = append(*asWritten, pfx)
	return []netip.Prefix{pfx}
}

func (d *decoder) close(p *Policy, b *rawBlock) {
	a := b.attrs["ports"]
	if a == nil {
		return
	}
	items, ok := d.strList(a)
	if !ok {
		return
	}
	seen := map[Service]bool{}
	for _, it := range items {
		s, err := ParseService(it.s)
		if err != nil {
			d.add(errorf(portErrID(err), it.rng, "Bad closed port", "%s.", err))
			continue
		}
		if seen[s] {
			d.add(errorf(IDDuplicate, it.rng, "Duplicate closed port", "%q is listed twice.", it.s))
			continue
		}
		seen[s] = true
		o := origin("close", b)
		o.Range = it.rng
		p.Closed = append(p.Closed, ClosedPort{Service: s, Origin: o})
	}
}

func (d *decoder) rateLimit(p *Policy, b *rawBlock) {
	rl := &RateLimit{Burst: 0, Origin: origin("rate_limit", b)}
	if a := b.attrs["sip"]; a != nil {
		if s, ok := d.str(a); ok {
			r, err := ParseRate(s.s)
			if err != nil {
				d.add(errorf(IDBadValue, s.rng, "Bad rate", "%s.", err))
			}
			rl.SIP = r
		}
	}
	rl.Burst = rl.SIP.Count
	if a := b.attrs["burst"]; a != nil {
		if n, ok := d.integer(a, 1, 1000000); ok {
			rl.Burst = uint32(n)
			if !kernelRateOK(rl.SIP, rl.Bucket()) {
				d.add(errorf(IDBadValue, a.Expr.Range(), "Burst too large for the rate", "Linux stores a limit as (rate + burst) x the unit in nanoseconds in 64 bits; %d + %d per %s overflows it. Use a shorter unit or a smaller burst.", rl.SIP.Count, rl.Burst, rl.SIP.Unit))
			}
		}
	}
	if b.attrs["burst"] == nil && rl.SIP.Count > 0 && !kernelRateOK(rl.SIP, rl.Bucket()) {
		d.add(errorf(IDBadValue, b.attrs["sip"].Expr.Range(), "Rate too large", "%s cannot be expressed by Linux limits; use a shorter unit (e.g. per second).", rl.SIP))
	}
	p.RateLimit = rl
}

// kernelRateOK: the kernel's limit expression keeps (rate + burst) times the
// unit in nanoseconds in a 64-bit number (nft -c fails beyond it).
func kernelRateOK(r Rate, burst uint32) bool {
	unit := map[string]uint64{"second": 1, "minute": 60, "hour": 3600, "day": 86400}[r.Unit]
	if unit == 0 {
		return true // not a valid rate; ParseRate has reported it
	}
	total := uint64(r.Count) + uint64(burst)
	return uint64(r.Count)+uint64(burst) <= 1<<32-1 && total <= (1<<64-1)/(unit*1_000_000_000)
}

func (d *decoder) log(p *Policy, b *rawBlock) {
	l := &Log{Dropped: true, Prefix: "voicewall", Rate: DefaultLogRate, Origin: origin("log", b)}
	if a := b.attrs["dropped"]; a != nil {
		if v, ok := d.boolean(a); ok {
			l.Dropped = v
		}
	}
	if a := b.attrs["prefix"]; a != nil {
		if s, ok := d.str(a); ok {
			if !logPrefixRE.MatchString(s.s) {
				d.add(errorf(IDUnsafeName, s.rng, "Unsafe log prefix", "%q: a log prefix is 1 to 20 letters, digits, '_', '-', '.' or ':' (it is written into every target's config).", s.s))
			} else {
				l.Prefix = s.s
			}
		}
	}
	if a := b.attrs["rate"]; a != nil {
		if s, ok := d.str(a); ok {
			r, err := ParseRate(s.s)
			switch {
			case err != nil:
				d.add(errorf(IDBadValue, s.rng, "Bad rate", "%s.", err))
			case !kernelRateOK(r, 5):
				d.add(errorf(IDBadValue, s.rng, "Rate too large", "%s cannot be expressed by Linux limits; use a shorter unit (e.g. \"10/minute\").", r))
			default:
				l.Rate = r
			}
		}
	}
	p.Log = l
}

func (d *decoder) blocklist(p *Policy, b *rawBlock) {
	bl := &Blocklist{Name: b.label, Origin: origin("blocklist", b)}
	provAddrs := providerAddrs(p)
	overlap := func(x netip.Prefix) string {
		if !provAddrs.OverlapsPrefix(x) { // the fast test, once per line of a large file
			return ""
		}
		return providerOverlap(p, x)
	}
	var sb rangeBuilder
	if a := b.attrs["addresses"]; a != nil {
		pfx, items, _ := d.addrList(a, "a blocklist entry", "")
		for i, x := range pfx {
			if hit := overlap(x); hit != "" {
				d.add(errorf(IDBlockProvider, items[i].rng, "Blocklist entry blocks a provider",
					"%s overlaps %s, so that provider's calls would be dropped. Remove the entry, or fix the provider's addresses.", x, hit))
				continue
			}
			sb.AddPrefix(x)
			bl.Entries++
		}
	}
	files := d.blocklistFiles(b)
	bl.Feed = d.feed(b, files)
	for _, f := range files {
		path := resolveRelative(b.file, f.s)
		display := displayRel(b.file.name, f.s)
		var n int
		var diags hcl.Diagnostics
		data, overlaid := d.overlay[path]
		if overlaid {
			n, diags = readBlocklist(bytes.NewReader(data), display, &sb, overlap)
		} else {
			n, diags = readBlocklistFile(d.scope, path, display, &sb, overlap)
		}
		for _, dg := range diags {
			if dg.Subject == nil { // cannot open: point at the attribute
				r := f.rng
				dg.Subject = &r
				if _, err := os.Stat(path); bl.Feed != nil && errors.Is(err, fs.ErrNotExist) {
					dg.Detail += " The blocklist has a feed: `voicewall refresh` downloads it into this file."
				}
			}
		}
		if len(diags) > 0 && diags[0].Subject != nil && diags[0].Subject.Filename == display {
			if overlaid {
				d.files[display] = &hcl.File{Bytes: data}
			} else if src, err := d.scope.read(path, maxSnippetSource); err == nil {
				d.files[display] = &hcl.File{Bytes: src}
			}
		}
		d.diags = append(d.diags, diags...)
		bl.Entries += n
		bl.Files = append(bl.Files, f.s)
		bl.FilePaths = append(bl.FilePaths, path)
	}
	if b.attrs["addresses"] == nil && len(files) == 0 {
		d.add(errorf(IDSchema, b.rng, "Empty blocklist", "blocklist %q needs addresses = [...] or file = \"...\".", bl.Name))
	}
	bl.Addresses = sb.AddrSet()
	p.Blocklists = append(p.Blocklists, bl)
}

// displayRel names a blocklist file relative to the policy root, as the
// policy file that names it is.
func displayRel(policyFile, name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	dir := ""
	if i := strings.LastIndex(policyFile, "/"); i >= 0 {
		dir = policyFile[:i+1]
	}
	return dir + name
}

// blocklistFiles reads a blocklist block's file and files attributes, in
// the order the loader reads them (InputFiles digests the same list).
func (d *decoder) blocklistFiles(b *rawBlock) []strItem {
	var files []strItem
	if a := b.attrs["file"]; a != nil {
		if s, ok := d.str(a); ok {
			files = append(files, s)
		}
	}
	if a := b.attrs["files"]; a != nil {
		if items, ok := d.strList(a); ok {
			files = append(files, items...)
		}
	}
	return files
}

// providerOverlap names the provider ranges a blocklist entry overlaps:
// `provider "carrier" (gw.hcl:15) signaling 203.0.113.10/32`, at most three,
// with how many more.
func providerOverlap(p *Policy, x netip.Prefix) string {
	var hits []string
	for _, pr := range p.Providers {
		for _, part := range []struct {
			what string
			set  AddrSet
		}{{"signaling", pr.Signaling}, {"media", pr.Media}} {
			for _, y := range part.set.Prefixes(x.Addr().Is6()) {
				if y.Overlaps(x) {
					hits = append(hits, fmt.Sprintf("%s %s %s", pr.Origin, part.what, y))
				}
			}
		}
	}
	if len(hits) == 0 {
		return "a provider's signaling or media addresses"
	}
	more := ""
	if len(hits) > 3 {
		more = fmt.Sprintf(" and %d more", len(hits)-3)
		hits = hits[:3]
	}
	return strings.Join(hits, "; ") + more
}

func providerAddrs(p *Policy) AddrSet {
	var b netipx.IPSetBuilder
	for _, pr := range p.Providers {
		b.AddSet(pr.Signaling.IPSet())
		b.AddSet(pr.Media.IPSet())
	}
	s, _ := b.IPSet()
	return AddrSetOf(s)
}

func (d *decoder) expect(p *Policy, b *rawBlock) {
	e := &Expect{Name: b.label, Zone: ZoneWAN, Origin: origin("expect", b)}
	if a := b.attrs["from"]; a != nil {
		if s, ok := d.str(a); ok {
			addr, err := netip.ParseAddr(strings.TrimSpace(s.s))
			if err != nil || addr.Zone() != "" {
				d.add(errorf(IDBadExpect, s.rng, "Bad source address", "from must be one IP address, e.g. \"203.0.113.10\"; got %q.", s.s))
			} else {
				e.From = addr.Unmap()
			}
		}
	}
	if a := b.attrs["from_port"]; a != nil {
		if n, ok := d.integer(a, 1, 65535); ok {
			e.FromPort = uint16(n)
		}
	}
	if a := b.attrs["zone"]; a != nil {
		if s, ok := d.str(a); ok {
			e.Zone = s.s
			if s.s != ZoneWAN && s.s != ZoneLAN && p.VoiceVLAN(s.s) == nil {
				d.add(errorf(IDUnknownRef, s.rng, "Unknown zone", "%q is not a zone; zones are %s.%s", s.s, strings.Join(p.Zones(), ", "), suggest(s.s, p.Zones())))
			}
		}
	}
	if a := b.attrs["to"]; a != nil {
		if s, ok := d.str(a); ok {
			addr, svc, err := ParseDestination(s.s)
			if err != nil {
				d.add(errorf(IDBadExpect, s.rng, "Bad destination", "%s. Write [ADDRESS:]PORT/PROTO, e.g. \"5060/udp\" or \"10.20.0.10:5060/udp\".", err))
			}
			e.To, e.Service = addr, svc
		}
	}
	if a := b.attrs["verdict"]; a != nil {
		if s, ok := d.str(a); ok {
			switch Verdict(s.s) {
			case Accept, Drop:
				e.Verdict = Verdict(s.s)
			default:
				d.add(errorf(IDBadExpect, s.rng, "Bad verdict", "verdict must be \"accept\" or \"drop\"; got %q.%s", s.s, suggest(s.s, []string{"accept", "drop"})))
			}
		}
	}
	if a := b.attrs["trusted"]; a != nil {
		e.Trusted, _ = d.boolean(a)
	}
	if a := b.attrs["banned"]; a != nil {
		e.Banned, _ = d.boolean(a)
	}
	if e.From.IsValid() && e.To.IsValid() && e.From.Is4() != e.To.Is4() {
		d.add(errorf(IDBadExpect, b.rng, "Mixed address families", "from and to must both be IPv4 or both IPv6."))
	}
	p.Expects = append(p.Expects, e)
}

// crossChecks are the findings that need the whole policy.
func (d *decoder) crossChecks(p *Policy, byType map[string][]*rawBlock) {
	// Cleartext SIP closes itself when every provider is TLS-only.
	if len(p.Providers) > 0 {
		allTLS := true
		for _, pr := range p.Providers {
			allTLS = allTLS && pr.TLSOnly()
		}
		if allTLS {
			ports := map[uint16]bool{5060: true}
			for _, pr := range p.Providers {
				ports[pr.SIPPort] = true
			}
			var list []uint16
			for x := range ports {
				list = append(list, x)
			}
			sort.Slice(list, func(i, j int) bool { return list[i] < list[j] })
			for _, port := range list {
				for _, proto := range []Proto{UDP, TCP} {
					s := Service{proto, PortRange{port, port}}
					dup := false
					for _, c := range p.Closed {
						dup = dup || c.Service == s
					}
					if p.RemotePhones != nil {
						for _, r := range p.RemotePhones.SIPServices() {
							dup = dup || r == s // remote phones speak it
						}
					}
					if !dup {
						p.Closed = append(p.Closed, ClosedPort{Service: s, Auto: true, Origin: p.Providers[0].Origin})
					}
				}
			}
		}
	} else if len(byType["provider"]) == 0 {
		d.add(&hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "No providers", Detail: "The policy declares no provider, so all SIP and RTP from the WAN is dropped. Add a provider block for your SIP trunk.", Extra: Finding{IDNoProviders}})
	}
	// A closed port must not be one a provider needs.
	for _, c := range p.Closed {
		if c.Auto {
			continue
		}
		for _, pr := range p.Providers {
			for _, s := range pr.SIPServices() {
				if c.Service.Proto == s.Proto && c.Service.Ports.Overlaps(s.Ports) {
					d.add(errorf(IDClosedConflict, c.Origin.Range, "Closed port is a provider's SIP port", "%s is closed, but provider %q (%s) sends SIP to %s. Remove it from close, or change the provider's transports.", c.Service, pr.Name, pr.Origin.Pos(), s))
				}
			}
		}
		for _, r := range p.RTPRanges() {
			if c.Service.Proto == UDP && c.Service.Ports.Overlaps(r) {
				d.add(errorf(IDClosedConflict, c.Origin.Range, "Closed port is in the RTP range", "%s is closed, but it is inside the RTP range %s that provider media uses. Remove it from close or move the RTP range.", c.Service, r))
			}
		}
	}
	// One PBX per provider: a DNAT can only go one way.
	owner := map[string]*PBX{}
	for _, x := range p.PBXes {
		for _, pr := range x.Providers {
			if o := owner[pr.Name]; o != nil {
				d.add(errorf(IDPBXConflict, x.Origin.Range, "Provider forwarded to two PBXes", "provider %q is already forwarded to pbx %q (%s); inbound calls can only be forwarded to one PBX. Remove it from one providers list.", pr.Name, o.Name, o.Origin.Pos()))
				continue
			}
			owner[pr.Name] = x
		}
		if x.Address.IsValid() {
			for _, pr := range x.Providers {
				shared := (x.Family(false) && hasFamily(pr, false)) || (x.Family(true) && hasFamily(pr, true))
				switch {
				case !shared:
					d.add(warnf(IDFamilyMismatch, x.Origin.Range, "Provider cannot reach the PBX's address family",
						"pbx %q has an IPv%s address, but provider %q has no IPv%s addresses: its calls cannot be forwarded.", x.Name, ipv(x.Address.Is6()), pr.Name, ipv(x.Address.Is6())))
				case hasFamily(pr, true) && !x.Family(true):
					d.add(warnf(IDFamilyMismatch, x.Origin.Range, "Provider addresses of the other family are not forwarded",
						"provider %q also has IPv6 addresses, but pbx %q is IPv4 only: SIP/RTP arriving over IPv6 is accepted but not forwarded to the PBX. Set address6 = \"...\" on the pbx to forward it there.", pr.Name, x.Name))
				case hasFamily(pr, false) && !x.Family(false):
					d.add(warnf(IDFamilyMismatch, x.Origin.Range, "Provider addresses of the other family are not forwarded",
						"provider %q also has IPv4 addresses, but pbx %q is IPv6 only: SIP/RTP arriving over IPv4 is accepted but not forwarded to the PBX.", pr.Name, x.Name))
				}
			}
		}
		if x.RTPPorts != p.RTP && p.RTP.First <= x.RTPPorts.First && p.RTP.Last >= x.RTPPorts.Last {
			if a := byType["rtp"]; len(a) > 0 {
				d.add(warnf(IDRTPWiderThanPBX, p.RTPSource.Range, "RTP range wider than the PBX's",
					"rtp.ports %s is wider than pbx %q's rtp_ports %s; ports the PBX never uses are open to provider media. Narrow rtp.ports to what phones and the PBX use.", p.RTP, x.Name, x.RTPPorts))
			}
		}
	}
	for _, v := range p.VoiceVLANs {
		for _, pr := range v.Providers {
			if pr.Signaling.Has(true) && !v.Subnets.Has(true) {
				d.add(warnf(IDFamilyMismatch, v.Origin.Range, "IPv6 provider, IPv4-only voice VLAN",
					"provider %q has IPv6 addresses but voice_vlan %q has no IPv6 subnet, so phones reach it over IPv4 only. Add the VLAN's IPv6 subnet to subnets = [...] or drop the provider's v6 addresses.", pr.Name, v.Name))
			}
		}
	}
	// Every provider should serve someone.
	used := map[string]bool{}
	for _, x := range p.PBXes {
		for _, pr := range x.Providers {
			used[pr.Name] = true
		}
	}
	for _, v := range p.VoiceVLANs {
		for _, pr := range v.Providers {
			used[pr.Name] = true
		}
	}
	if len(p.PBXes) > 0 || len(p.VoiceVLANs) > 0 {
		for _, pr := range p.Providers {
			if !used[pr.Name] {
				d.add(warnf(IDUnusedProvider, pr.Origin.Range, "Provider serves no PBX or voice VLAN",
					"provider %q is not listed by any pbx or voice_vlan; its SIP is accepted at the WAN but reaches nothing. Add it to a providers list or remove it.", pr.Name))
			}
		}
	}
	if p.RateLimit == nil && len(p.Providers) > 0 {
		d.add(&hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "No SIP rate limit",
			Detail: "Without rate_limit { sip = \"10/second\" } a flood of SIP from one address (or a spoofed provider address) reaches the PBX unchecked. Add a rate_limit block.", Extra: Finding{IDNoRateLimit}, Subject: firstRange(p)})
	}
	if p.Log == nil {
		d.add(&hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "No logging",
			Detail: "Without log { dropped = true } scans and toll-fraud attempts leave no trace. Add a log block.", Extra: Finding{IDNoLog}, Subject: firstRange(p)})
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func firstRange(p *Policy) *hcl.Range {
	if len(p.Providers) > 0 {
		r := p.Providers[0].Origin.Range
		return &r
	}
	return nil
}

func hasFamily(pr *Provider, v6 bool) bool { return pr.Signaling.Has(v6) || pr.Media.Has(v6) }

func ipv(v6 bool) string {
	if v6 {
		return "6"
	}
	return "4"
}
