// Package pfsense renders a voicewall policy as a pfSense config.xml
// fragment (aliases, filter rules, port forwards, hybrid outbound NAT with
// static ports, VLANs), or merges it into an exported full config.xml
// (Options.Base). docs/targets-pfsense.md lists what is native, emulated and
// impossible, with the pfSense sources each choice was checked against.
package pfsense

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

const (
	target = "pfsense"
	// FileName is the main output file.
	FileName = "pfsense.xml"
	// Owner starts the descr of everything voicewall owns; --base replaces
	// exactly those items and keeps the rest byte-for-byte.
	Owner = "voicewall:"
	// MaxAliasEntries is pfSense's limit for a host/network alias; larger
	// lists must be a urltable alias.
	MaxAliasEntries = 5000
	// trackers live in [trackerBase, trackerBase+trackerSpan): far from the
	// GUI's (int)microtime() values and pfSense's own 10000xxxxx ids, and
	// inside pf's 32-bit ridentifier.
	trackerBase = 3000000000
	trackerSpan = 900000000
)

// Compile renders the policy for pfSense.
func Compile(p *lang.Policy, opts backends.Options) (*backends.Output, hcl.Diagnostics) {
	c := &compiler{p: p, opts: opts, t: p.Target(&langSpec), names: newNamer(), tagNames: newNamer(), trackers: backends.NewStableIDs(trackerBase, trackerSpan), tags: map[string]bool{}, Report: backends.NewReport(p, &langSpec, opts)}
	if opts.Base != nil {
		if kind := backends.LooksLike(opts.Base); kind != "a pfSense config.xml" {
			return nil, hcl.Diagnostics{backends.Diag(hcl.DiagError, target, c.t.Origin, "--base is not a pfSense config.xml", "this looks like %s, not a pfSense config.xml. %s", kind, baseHelp)}
		}
		b, err := scanBase(opts.Base)
		if err != nil {
			return nil, hcl.Diagnostics{backends.Diag(hcl.DiagError, target, c.t.Origin, "cannot read --base config.xml", "%s. %s", err, baseHelp)}
		}
		c.base = b
		c.checkBaseInterfaces()
		for _, n := range b.foreignAliases {
			c.names.Reserve(n)
		}
		for _, n := range b.ifDescrs {
			c.names.Reserve(n)
		}
		for _, tr := range b.foreignTrackers {
			c.trackers.Reserve(int(tr))
		}
	}
	c.build()
	if c.Diags.HasErrors() {
		return nil, c.Diags
	}
	var main []byte
	var err error
	if c.base != nil {
		main, err = c.merge()
	} else {
		main, err = c.fragment()
	}
	if err != nil {
		c.Errorf(lang.Origin{}, "cannot render config.xml", "%s", err)
		return nil, c.Diags
	}
	return c.Done(backends.File{Name: FileName, Data: main}, c.files...)
}

type compiler struct {
	p     *lang.Policy
	opts  backends.Options
	t     *lang.Target
	base  *baseInfo
	names *namer
	// tagNames makes pf tags: the rule editor checks tag and tagged with
	// is_validaliasname() (firewall_rules_edit.php), so a tag obeys the
	// alias name rules, 31 characters at most.
	tagNames *namer
	backends.Report

	aliases    []Alias
	aliasOf    map[string]string // AddrRef / internal key → alias name
	tagRules   []FilterRule      // floating match rules that tag packets by zone
	rules      []FilterRule
	natRules   []NATRule
	outRules   []OutRule
	vlans      []VLAN
	files      []backends.File
	notes      []string // what is not enforced, and manual steps, for the header comment
	trackers   *backends.StableIDs
	tags       map[string]bool
	blocklists int // sets with the blocklist role
}

// gap reports a gap (backends.Report.Gap); one pfSense does not enforce
// is also listed in the header's notes.
func (c *compiler) gap(gap string, o lang.Origin, what string) {
	if d := c.Gap(gap, o, what); d != nil && d.Severity == hcl.DiagWarning {
		c.notes = append(c.notes, "NOT ENFORCED: "+c.Gaps.Lines[len(c.Gaps.Lines)-1])
	}
}

// descr is the description of an item: "voicewall: <block (file:line)>: what".
func descr(o lang.Origin, what string) Text {
	s := Owner + " " + o.String()
	if what != "" {
		s += ": " + what
	}
	return text(clean(s))
}

// clean drops control characters and backslashes (the GUI rejects '\' in
// descr); everything else is entity-escaped by text().
func clean(s string) string { return backends.Printable(strings.ReplaceAll(s, `\`, ""), -1) }

func (c *compiler) build() {
	c.aliasOf = map[string]string{}
	for _, ref := range c.p.Sets() {
		if ref.Role == lang.RoleBlocklist {
			c.blocklists++
		}
	}
	// Aliases for every named set, in first-use order.
	for _, ref := range c.p.Sets() {
		c.addAlias(ref)
	}
	c.renderRules()
	c.renderVLANPass()
	c.renderOutbound()
	c.renderVLANs()
}

// addAlias creates the alias for one named set (or a urltable alias for a
// large blocklist).
func (c *compiler) addAlias(ref *lang.AddrRef) string {
	if n, ok := c.aliasOf[ref.Name]; ok {
		return n
	}
	entries := prefixTexts(ref.Set, false, true)
	if len(entries) == 0 {
		// An empty set matches nothing: rules using it are left out.
		c.aliasOf[ref.Name] = ""
		return ""
	}
	origin := ref.Owner
	what := "address set " + ref.Name
	blocklist := ref.Role == lang.RoleBlocklist
	if blocklist {
		what = "blocklist addresses (" + strconv.Itoa(len(entries)) + " merged entries)"
	}
	name := c.names.name(ref.Name)
	c.aliasOf[ref.Name] = name
	url := c.t.Extra["blocklist_url"]
	if blocklist && (len(entries) > MaxAliasEntries || url != "") {
		file := "pfsense-blocklist-" + sanitize(feedName(ref)) + ".txt"
		c.files = append(c.files, backends.File{Name: file, Data: []byte(strings.Join(entries, "\n") + "\n")})
		if url == "" {
			c.gap(lang.GapBlocklist, ref.Owner, fmt.Sprintf("blocklist has %d entries after merging; a pfSense alias holds at most %d. Set blocklist_url in target \"pfsense\" to where %s will be served, and voicewall emits a urltable alias", len(entries), MaxAliasEntries, file))
			delete(c.aliasOf, ref.Name)
			return ""
		}
		// url is set here, so every blocklist becomes a urltable alias.
		c.aliases = append(c.aliases, Alias{Name: name, Type: "urltable", URL: blocklistURL(url, feedName(ref), file, c.blocklists), UpdateFreq: "1", Descr: descr(origin, what+", served as "+file)})
		return name
	}
	c.aliases = append(c.aliases, Alias{Name: name, Type: "network", Address: strings.Join(entries, " "), Descr: descr(origin, what)})
	return name
}

// prefixTexts is the CIDR list of the set's families, in the order given.
func prefixTexts(s lang.AddrSet, families ...bool) []string {
	var out []string
	for _, v6 := range families {
		for _, pfx := range s.Prefixes(v6) {
			out = append(out, pfx.String())
		}
	}
	return out
}

// blocklistURL is backends.FeedURL; a file URL given for several lists is
// taken as naming their directory.
func blocklistURL(url, name, file string, lists int) string {
	u, ok := backends.FeedURL(url, name, file, lists)
	if ok {
		return u
	}
	if i := strings.LastIndex(url, "/"); i > len("https://") {
		return url[:i+1] + file
	}
	return url + "/" + file
}

// feedName is the blocklist's name ("{name}" in blocklist_url): its label.
func feedName(ref *lang.AddrRef) string {
	if ref.Owner.Name != "" {
		return ref.Owner.Name
	}
	return ref.Name
}

// tracker derives a stable, unique tracker from the rule identity.
func (c *compiler) tracker(key string) string { return strconv.Itoa(c.trackers.ID(key)) }

// family is the ipprotocol of a rule with these address families ("" none).
func family(v4, v6 bool) string {
	switch {
	case v4 && v6:
		return "inet46"
	case v4:
		return "inet"
	case v6:
		return "inet6"
	}
	return ""
}

// match is one protocol/port combination a rule expands to: pfSense rules
// carry one protocol and one port (range) per side, and voicewall never
// shares a rule between udp and tcp.
type match struct {
	proto          string
	dport, sport   string
	dRange, sRange lang.PortRange
}

func expand(r *lang.Rule) []match {
	var out []match
	for _, pm := range backends.PortMatches(r) {
		m := match{dRange: pm.Dst, sRange: pm.Src}
		if pm.Proto != 0 {
			m.proto = pm.Proto.String()
		}
		if pm.Dst != backends.AnyPort {
			m.dport = pm.Dst.String()
		}
		if pm.Src != backends.AnyPort {
			m.sport = pm.Src.String()
		}
		out = append(out, m)
	}
	return out
}

func (c *compiler) endpoint(ref *lang.AddrRef, port string) (Endpoint, bool) {
	e := Endpoint{Port: port}
	if ref == nil {
		e.Any = &Flag{}
		return e, true
	}
	name, ok := c.aliasOf[ref.Name]
	if !ok || name == "" {
		return e, false
	}
	e.Address = name
	return e, true
}

// ifKey is the pfSense interface key of a zone; known is false for a voice
// VLAN the base config does not assign (then rules use floating rules on
// "any" narrowed by the VLAN's subnets and zone tags).
func (c *compiler) ifKey(zone string) (string, bool) {
	switch zone {
	case lang.ZoneWAN:
		return c.t.WAN, true
	case lang.ZoneLAN:
		return c.t.LAN, true
	}
	if v := c.p.VoiceVLAN(zone); v != nil && c.base != nil {
		if nic := c.parentNIC(v); nic != "" {
			if key, ok := c.base.ifByDevice[nic+"."+strconv.Itoa(int(v.ID))]; ok {
				return key, true
			}
		}
	}
	return "", false
}

// zoneTag is the pf tag for packets that arrived on a zone; the first use
// emits the floating match rule that sets it.
func (c *compiler) zoneTag(zone string) string {
	return c.matchTag(c.tagNames.name("in_"+zone), zone, func(r *FilterRule, onIf bool) (lang.Origin, string) {
		what := "tag packets arriving on zone " + zone
		if v := c.p.VoiceVLAN(zone); !onIf && v != nil {
			r.Source = Endpoint{Address: c.vlanAlias(v)}
			return v.Origin, what + " (by its subnets)"
		}
		return c.t.Origin, what
	})
}

// matchTag emits, on a tag's first use, the floating match rule that sets
// it on packets arriving on zone (by its interface when pfSense has one,
// else on any); fill, called only then, gives the rule its source and
// says where it comes from and what it does.
func (c *compiler) matchTag(tag, zone string, fill func(r *FilterRule, onIf bool) (lang.Origin, string)) string {
	if c.tags[tag] {
		return tag
	}
	c.tags[tag] = true
	r := FilterRule{Type: "match", Floating: "yes", Direction: "in", IPProtocol: "inet46", Tag: tag,
		Source: Endpoint{Any: &Flag{}}, Destination: Endpoint{Any: &Flag{}}, Interface: "any"}
	key, onIf := c.ifKey(zone)
	if onIf {
		r.Interface = key
	}
	o, what := fill(&r, onIf)
	r.Descr = descr(o, what)
	r.Tracker = c.tracker("tag/" + tag)
	c.tagRules = append(c.tagRules, r)
	return tag
}

// srcTag is the tag for packets that arrived on zone from src: the zone tag
// when src is nil or the zone's own subnets, else a tag of its own.
func (c *compiler) srcTag(zone string, src *lang.AddrRef) string {
	v := c.p.VoiceVLAN(zone)
	if src == nil || (v != nil && src.Set.Equal(v.Subnets)) {
		return c.zoneTag(zone)
	}
	name, ok := c.aliasOf[src.Name]
	if !ok || name == "" {
		return c.zoneTag(zone)
	}
	return c.matchTag(c.tagNames.name("in_"+zone+"_from_"+strings.TrimPrefix(name, "VW_")), zone, func(r *FilterRule, _ bool) (lang.Origin, string) {
		r.Source = Endpoint{Address: name}
		o := c.t.Origin
		if v != nil {
			o = v.Origin
		}
		return o, "tag packets from " + src.Name + " arriving on zone " + zone
	})
}

// vlanAlias is the alias of a voice VLAN's subnets (the rules' own set when
// one holds exactly those subnets).
func (c *compiler) vlanAlias(v *lang.VoiceVLAN) string {
	key := "net_" + v.Name
	if n, ok := c.aliasOf[key]; ok {
		return n
	}
	for _, ref := range c.p.Sets() {
		if n, ok := c.aliasOf[ref.Name]; ok && n != "" && ref.Set.Equal(v.Subnets) {
			c.aliasOf[key] = n
			return n
		}
	}
	entries := prefixTexts(v.Subnets, false, true)
	name := c.names.name(key)
	c.aliasOf[key] = name
	c.aliases = append(c.aliases, Alias{Name: name, Type: "network", Address: strings.Join(entries, " "), Descr: descr(v.Origin, "subnets")})
	return name
}

// rateOpts are the pf source-tracking options a rate_limit becomes on TCP
// pass rules: max-src-conn-rate N / S (new connections per source).
type rateOpts struct {
	chain    lang.Chain
	services []lang.Service
	n, secs  string
	origin   lang.Origin
}

func newRateOpts(r *lang.Rule, rl *lang.RateLimit) rateOpts {
	ps := rl.SIP.PerSecond()
	limit := float64(rl.SIP.Count)
	secs := limit / ps
	if float64(rl.Burst) > limit {
		// Allow the burst at once, averaging the rate: burst per burst/rate seconds.
		limit = float64(rl.Burst)
		secs = limit / ps
	}
	s := int64(math.Round(secs))
	if s < 1 {
		s = 1
	}
	return rateOpts{chain: r.Chain, services: r.Services, n: strconv.FormatInt(int64(limit), 10), secs: strconv.FormatInt(s, 10), origin: rl.Origin}
}

func (c *compiler) renderRules() {
	var rates []rateOpts
	logDrops := c.p.LogsDrops()
	var remoteRate *rateOpts
	for _, r := range c.p.Rules {
		switch {
		case backends.Responsive(r):
			c.gap(lang.GapResponsive, r.Origin, fmt.Sprintf("rule %s: %s", r.ID, backends.ResponsiveWhat(r)))
			continue
		case r.Kind == lang.RuleRemoteRateLimit:
			// A stranger over the limit is blocked in <virusprot>: for
			// remote phones' SIP from any source that is the limit's point.
			// UDP has no per-source limit: remote phones' UDP SIP is then
			// not forwarded at all (never SIP from any without a limit).
			ro := newRateOpts(r, r.Rate)
			remoteRate = &ro
			for _, s := range r.Services {
				if s.Proto == lang.UDP {
					c.gap(lang.GapRateLimit, r.Origin, fmt.Sprintf("remote phones' SIP over UDP (%s) is not forwarded: pf has no per-source limit for UDP (max-src-conn-rate counts TCP connections), and voicewall never forwards SIP from any source without one", s))
				}
			}
			continue
		case remoteFromAny(r) && r.Action == lang.ActionDNAT:
			c.renderDNAT(tcpOnly(r))
			continue
		case r.Action == lang.ActionDNAT:
			c.renderDNAT(r)
			continue
		case r.Action == lang.ActionMark:
			c.gap(lang.GapDSCP, r.Origin, fmt.Sprintf("DSCP marking (%s) is impossible: pfSense rules only match DSCP (tos), they cannot set it", r.DSCP))
			continue
		case r.Kind == lang.RuleEstablished || r.Established:
			continue // pf keeps state: replies of passed flows never reach the rules
		case r.Action == lang.ActionDropOverRate:
			rl := r.Rate // lang sets it on every rate-limit rule
			if rl == nil {
				continue
			}
			optIn := c.t.Extra[AttrProviderConnRate] == "true"
			tcpAccepted := false
			for _, s := range r.Services {
				tcpAccepted = tcpAccepted || s.Proto == lang.TCP && c.acceptsLater(r, s)
			}
			if optIn && tcpAccepted {
				ro := newRateOpts(r, rl)
				rates = append(rates, ro)
				c.notes = append(c.notes, fmt.Sprintf("%s = true (%s): TCP/TLS provider SIP pass rules carry max-src-conn-rate %s / %s s. pfSense turns it into \"overload <virusprot> flush global\" (filter.inc): a provider over the limit loses every state, its live calls included, and is blocked on every protocol and interface until expiretable removes it (hourly, entries older than 3600 s). Remove the address under Diagnostics > Tables > virusprot to restore service sooner.", AttrProviderConnRate, c.t.Origin.String(), ro.n, ro.secs))
			}
			for _, s := range r.Services {
				// pf can only limit what a pass rule lets in: the gap is real
				// only when SIP on these ports is accepted after it.
				if !c.acceptsLater(r, s) {
					continue
				}
				switch {
				case s.Proto == lang.UDP:
					c.gap(lang.GapRateLimit, rl.Origin, fmt.Sprintf("per-source rate limit of UDP SIP (%s): pf's max-src-conn-rate counts TCP connections only and pfSense has no per-source packet rate", s))
				case !optIn:
					c.gap(lang.GapRateLimit, rl.Origin, fmt.Sprintf("per-source rate limit of TCP SIP (%s): pfSense's only per-source limit, max-src-conn-rate, blocks an offending source in <virusprot> and flushes its states, so a provider over it would lose every live call and be blocked everywhere for up to an hour; not emitted (%s = true in target \"pfsense\" opts in)", s, AttrProviderConnRate))
				}
			}
			continue
		}
		if remoteFromAny(r) {
			r = tcpOnly(r)
		}
		fam := family(r.Families())
		if fam == "" || len(r.Services) == 0 && remoteFromAny(r) {
			continue
		}
		typ := "pass"
		if r.Action == lang.ActionDrop {
			typ = "block"
		}
		for i, m := range expand(r) {
			src, ok1 := c.endpoint(r.Src, m.sport)
			dst, ok2 := c.endpoint(r.Dst, m.dport)
			if !ok1 || !ok2 {
				// The set became no alias (a gap already reported).
				continue
			}
			fr := FilterRule{Type: typ, IPProtocol: fam, Protocol: m.proto, Source: src, Destination: dst}
			what := r.Comment
			if what == "" {
				what = string(r.Kind)
			}
			if m.proto != "" {
				svc := m.proto
				if m.dport != "" {
					svc += "/" + m.dport
				}
				if m.sport != "" {
					svc += " from port " + m.sport
				}
				if !strings.Contains(what, m.dport+"/"+m.proto) || m.dport == "" {
					what += " " + svc
				}
			}
			fr.Descr = descr(r.Origin, what)
			c.place(r, &fr)
			if typ == "block" && (r.Log || logDrops) {
				fr.Log = &Flag{}
			}
			if typ == "pass" && m.proto == "tcp" && remoteFromAny(r) && remoteRate != nil {
				fr.MaxSrcConnRate, fr.MaxSrcConnRates = remoteRate.n, remoteRate.secs
			} else if typ == "pass" && m.proto == "tcp" {
				for _, ro := range rates {
					if ro.chain != r.Chain {
						continue
					}
					for _, s := range ro.services {
						if s.Proto == lang.TCP && overlaps(s.Ports, m.dRange) {
							fr.MaxSrcConnRate, fr.MaxSrcConnRates = ro.n, ro.secs
						}
					}
				}
			}
			fr.Tracker = c.tracker(fmt.Sprintf("%s/%d/%s/%s", r.ID, i, m.proto, m.dport))
			c.rules = append(c.rules, fr)
		}
	}
}

// remoteFromAny reports remote_phones' SIP accept or forward from any source.
func remoteFromAny(r *lang.Rule) bool {
	return r.Src == nil && (r.Kind == lang.RuleRemoteSIP || r.Kind == lang.RuleDNAT)
}

// tcpOnly is the rule without its UDP services (remote phones' UDP SIP
// has no per-source limit on pfSense; see the rate_limit gap).
func tcpOnly(r *lang.Rule) *lang.Rule {
	c := *r
	c.Services = nil
	for _, s := range r.Services {
		if s.Proto == lang.TCP {
			c.Services = append(c.Services, s)
		}
	}
	return &c
}

// acceptsLater reports whether an accept rule after rr in its chain lets in
// traffic of service s.
func (c *compiler) acceptsLater(rr *lang.Rule, s lang.Service) bool {
	after := false
	for _, r := range c.p.Rules {
		if r == rr {
			after = true
			continue
		}
		if !after || r.Chain != rr.Chain || r.Action != lang.ActionAccept || r.Established || r.Kind == lang.RuleEstablished {
			continue
		}
		for _, x := range r.Services {
			if x.Proto == s.Proto && overlaps(x.Ports, s.Ports) {
				return true
			}
		}
	}
	return false
}

// overlaps reports whether a shares a port with b, a match's range (the
// zero range: any port).
func overlaps(a, b lang.PortRange) bool {
	if b.First == 0 {
		return true
	}
	return a.Overlaps(b)
}

// place decides where a rule sits: an interface rule for packets arriving on
// a known zone, a floating "out" rule for packets leaving to a zone (with
// the arrival zone as a tag, because outbound NAT has already rewritten the
// source when out rules on the WAN are evaluated).
func (c *compiler) place(r *lang.Rule, fr *FilterRule) {
	if r.OutZone == "" {
		if r.InZone != "" {
			if key, ok := c.ifKey(r.InZone); ok {
				fr.Interface = key
				return
			}
			fr.Tagged = c.zoneTag(r.InZone)
		}
		fr.Floating, fr.Direction, fr.Quick, fr.Interface = "yes", "in", "yes", "any"
		if r.NotInZone != "" && fr.Tagged == "" {
			fr.Tagged, fr.NotTagged = c.zoneTag(r.NotInZone), &Flag{}
		}
		return
	}
	fr.Floating, fr.Direction, fr.Quick = "yes", "out", "yes"
	if key, ok := c.ifKey(r.OutZone); ok {
		fr.Interface = key
	} else {
		fr.Interface = "any"
		if v := c.p.VoiceVLAN(r.OutZone); v != nil && r.Dst == nil {
			fr.Destination.Any = nil
			fr.Destination.Address = c.vlanAlias(v)
		}
	}
	switch {
	case r.InZone != "":
		// Outbound NAT has already rewritten the source when out rules
		// run, so the source is matched on the way in and carried as a tag.
		fr.Tagged = c.srcTag(r.InZone, r.Src)
		fr.Source.Any, fr.Source.Address = &Flag{}, ""
	case r.NotInZone != "":
		fr.Tagged, fr.NotTagged = c.zoneTag(r.NotInZone), &Flag{}
	}
	if r.Kind == lang.RuleMgmt && r.Action == lang.ActionAccept {
		// Management comes from wherever the admins are (LAN, a routed
		// admin network, an OpenVPN or IPsec tunnel): pass it in on every
		// interface but the WAN too, not only out to the phones; the
		// site's own "LAN net" rule would block a VPN subnet on the way in.
		fr.Direction, fr.Interface = "any", "any"
	}
}

// renderDNAT writes port forwards. No associated filter rule ("pass" would
// make it an rdr pass that skips the filter): the WAN rules decide.
func (c *compiler) renderDNAT(r *lang.Rule) {
	if !r.DNAT.IsValid() {
		return
	}
	fam := "inet"
	if r.DNAT.Is6() {
		fam = "inet6"
	}
	v4, v6 := r.Families()
	if (fam == "inet" && !v4) || (fam == "inet6" && !v6) {
		return
	}
	iface := c.t.WAN
	if r.InZone != "" {
		if key, ok := c.ifKey(r.InZone); ok {
			iface = key
		}
	}
	for _, m := range expand(r) {
		if m.proto == "" || m.dport == "" {
			continue // a forward without ports would capture all traffic to the WAN address
		}
		src, ok := c.endpoint(r.Src, m.sport)
		if !ok {
			continue
		}
		nr := NATRule{Source: src, Destination: Endpoint{Network: "wanip", Port: m.dport}, IPProtocol: fam, Protocol: m.proto,
			Target: r.DNAT.String(), LocalPort: strconv.Itoa(int(m.dRange.First)), Interface: iface}
		what := r.Comment
		if what == "" {
			what = "forward to " + r.DNAT.String()
		}
		nr.Descr = descr(r.Origin, what+" "+m.proto+"/"+m.dport)
		c.natRules = append(c.natRules, nr)
	}
}

// renderOutbound emits hybrid outbound NAT rules with static port for the
// voice hosts (PBX addresses and voice VLAN subnets): pfSense has no SIP ALG,
// and rewriting the source port breaks SIP/RTP.
func (c *compiler) renderOutbound() {
	type host struct {
		pfx    netip.Prefix
		origin lang.Origin
	}
	var hosts []host
	for _, x := range c.p.PBXes {
		if x.Address.Is4() {
			hosts = append(hosts, host{netip.PrefixFrom(x.Address, 32), x.Origin})
		}
	}
	for _, v := range c.p.VoiceVLANs {
		for _, pfx := range v.Subnets.Prefixes(false) {
			hosts = append(hosts, host{pfx, v.Origin})
		}
	}
	if len(hosts) == 0 {
		return
	}
	var pfxs []netip.Prefix
	for _, h := range hosts {
		pfxs = append(pfxs, h.pfx)
	}
	entries := prefixTexts(lang.NewAddrSet(pfxs...), false)
	name := c.names.name("voice_hosts")
	c.aliasOf["voice_hosts"] = name
	o := hosts[0].origin
	c.aliases = append(c.aliases, Alias{Name: name, Type: "network", Address: strings.Join(entries, " "),
		Descr: descr(o, "voice hosts (PBX addresses and voice VLAN subnets) for static-port outbound NAT")})
	c.outRules = append(c.outRules, OutRule{
		Source: OutNetwork{Network: name}, Interface: c.t.WAN, IPProtocol: "inet", Protocol: "udp",
		StaticNATPort: &Flag{}, Destination: Endpoint{Any: &Flag{}},
		Descr: descr(o, "static source port for SIP/RTP of the voice hosts (pfSense has no SIP ALG)"),
	})
	// States created before the static-port rule keep their rewritten source
	// ports until they expire; Netgate's PBX guide makes this a required step.
	c.notes = append(c.notes, "AFTER RESTORING NAT: reset the voice hosts' states, or their calls keep the rewritten source ports: Diagnostics > States, Filter by each of "+strings.Join(entries, ", ")+" (an address or a subnet), then \"Kill filtered states\"; the PBX and phones then re-register. Netgate (https://docs.netgate.com/pfsense/en/latest/nat/configuring-nat-for-a-voip-pbx.html): \"After making the changes to NAT rules, the states for the PBX must be reset.\"")
}

// parentNIC is the physical device carrying a VLAN's parent zone: from the
// base config's interface assignment, or the target's "<zone>_if" attribute.
func (c *compiler) parentNIC(v *lang.VoiceVLAN) string {
	if nic := c.t.Extra[v.Parent+"_if"]; nic != "" {
		return nic
	}
	if c.base != nil {
		return c.base.ifDevice[c.ifName(v.Parent)]
	}
	return ""
}

func (c *compiler) renderVLANs() {
	for _, v := range c.p.VoiceVLANs {
		nic := c.parentNIC(v)
		if nic == "" {
			c.Warnf(v.Origin, "VLAN parent device unknown",
				"voice_vlan %q: pfSense needs the NIC behind interface %q to create VLAN %d. Compile with --base config.xml (voicewall reads the assignment from it) or create the VLAN in Interfaces > VLANs; the filter rules do not depend on it.", v.Name, c.ifName(v.Parent), v.ID)
			c.notes = append(c.notes, fmt.Sprintf("voice_vlan %q (VLAN %d): not in the VLANS area: the NIC of interface %q is unknown. Set lan_if in target \"pfsense\" (or compile with the base flag), or create it in Interfaces > VLANs (parent: that NIC, VLAN tag %d).", v.Name, v.ID, c.ifName(v.Parent), v.ID),
				c.assignNote(v, ""))
			continue
		}
		tag := strconv.Itoa(int(v.ID))
		if _, assigned := c.ifKey(v.Name); !assigned {
			c.notes = append(c.notes, c.assignNote(v, nic))
		}
		if c.base != nil && c.base.foreignVLANs[nic+"."+tag] {
			continue // the admin already has this VLAN; keep theirs
		}
		c.vlans = append(c.vlans, VLAN{If: nic, Tag: tag, Descr: descr(v.Origin, "voice VLAN "+tag), VLANIf: nic + "." + tag})
	}
}

// renderVLANPass passes the phones' own traffic in on their VLAN. The
// policy blocks only what it names (nftables' forward chain accepts the
// rest), but pfSense blocks everything no rule passes on an interface, so
// without this rule the phones could reach nothing. Their egress to the WAN
// is still narrowed by the floating out rules, which pf evaluates when the
// packet leaves on the WAN (a forwarded connection gets a state per
// interface). The rule is floating and NOT quick: pf's last match wins, so
// it only replaces pfSense's default deny, and any rule of the admin's own
// on that interface (interface rules are quick) still decides first. On
// an assigned interface it names the interface; otherwise it is on "any"
// from the VLAN's subnets and excludes packets arriving on the WAN (tagged
// there), so a forged source from the Internet never matches it.
func (c *compiler) renderVLANPass() {
	for _, v := range c.p.VoiceVLANs {
		fam := family(v.Subnets.Has(false), v.Subnets.Has(true))
		if fam == "" {
			continue
		}
		fr := FilterRule{Type: "pass", IPProtocol: fam, Source: Endpoint{Address: c.vlanAlias(v)}, Destination: Endpoint{Any: &Flag{}},
			Descr: descr(v.Origin, fmt.Sprintf("pass the phones' traffic in on VLAN %d (what the rules above do not block)", v.ID))}
		fr.Floating, fr.Direction = "yes", "in"
		if key, ok := c.ifKey(v.Name); ok {
			fr.Interface = key
		} else {
			fr.Interface = "any"
			fr.Tagged, fr.NotTagged = c.zoneTag(lang.ZoneWAN), &Flag{}
		}
		fr.Tracker = c.tracker("vlanpass/" + v.Name)
		c.rules = append(c.rules, fr)
	}
}

// assignNote is the exact Interfaces > Assignments step for a VLAN the
// output cannot assign: restoring the "interfaces" area would replace WAN
// and LAN too, so voicewall never writes <interfaces>.
func (c *compiler) assignNote(v *lang.VoiceVLAN, nic string) string {
	dev := "<NIC of " + c.ifName(v.Parent) + ">." + strconv.Itoa(int(v.ID))
	if nic != "" {
		dev = nic + "." + strconv.Itoa(int(v.ID))
	}
	n := fmt.Sprintf("voice_vlan %q: assign it by hand (Interfaces > Assignments: add VLAN %d on %s, then edit the new OPTn: Enable, Description VOICE_%s", v.Name, v.ID, dev, strings.ToUpper(sanitize(v.Name)))
	if gw, ok := v.Gateway(false); ok {
		n += ", IPv4 Configuration Type Static IPv4, address " + gw.String()
	}
	return n + "). The rules here do not name the new interface: they match the VLAN by its subnets."
}

func (c *compiler) ifName(zone string) string {
	if zone == lang.ZoneWAN {
		return c.t.WAN
	}
	return c.t.LAN
}

// restoreArea is one area of the fragment: its config.xml tag and the
// name Diagnostics > Backup & Restore shows for it (diag_backup.php
// build_area_list()).
type restoreArea struct{ tag, gui string }

// header is the comment at the top of the fragment; areas are the ones it
// holds, in the order to restore them.
func (c *compiler) header(areas []restoreArea) string {
	var b strings.Builder
	b.WriteString(" voicewall pfSense configuration fragment. Restore it per area (Diagnostics > Backup & Restore,\n")
	b.WriteString("     Restore area), this same file each time, in this order:\n")
	for i, a := range areas {
		fmt.Fprintf(&b, "       %d. %s\n", i+1, a.gui)
	}
	b.WriteString("     (VLANs before the rules that pass their traffic, aliases before the rules that name them.)\n")
	b.WriteString("     Restoring an area REPLACES that whole area. To keep existing content, compile with the\n")
	b.WriteString("     base flag set to an exported config.xml and restore the full result instead.\n")
	b.WriteString("     Everything voicewall owns has a description starting with \"" + Owner + "\".\n")
	if c.p.LogsDrops() {
		b.WriteString("     log.rate is not applied: pflog entries are not rate-limited on pfSense.\n")
	}
	for _, n := range c.notes {
		b.WriteString("     " + clean(n) + "\n") // a note is one line, whatever a file name holds
	}
	if src := backends.ProviderSources(c.p); len(src) > 0 {
		b.WriteString("     Provider ranges from the catalog and DNS (fixed here until the next compile):\n")
		for _, l := range src {
			b.WriteString("       - " + clean(l) + "\n")
		}
	}
	return commentSafe(clean2(b.String())) + " "
}

// clean2 is clean() but keeps newlines (comments may span lines).
func clean2(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\n' && !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, s)
}

// fragment renders the standalone <pfsense> fragment.
func (c *compiler) fragment() ([]byte, error) {
	// pfSense's restore_config_section() (pfsense-utils.inc) rejects an
	// area whose element is empty ("An area to restore was selected but the
	// correct xml tag could not be located"), so only areas with content are
	// written, and the header lists exactly those.
	var doc Document
	var areas []restoreArea
	if len(c.vlans) > 0 {
		doc.VLANs = &VLANs{Items: c.vlans}
		areas = append(areas, restoreArea{"vlans", "VLANS"})
	}
	if len(c.aliases) > 0 {
		doc.Aliases = &Aliases{Items: c.aliases}
		areas = append(areas, restoreArea{"aliases", "Aliases"})
	}
	if nat := c.nat(); len(nat.Rules) > 0 || nat.Outbound != nil {
		doc.NAT = &nat
		areas = append(areas, restoreArea{"nat", "NAT"})
	}
	if rules := c.allFilterRules(); len(rules) > 0 {
		doc.Filter = &Filter{Rules: rules}
		areas = append(areas, restoreArea{"filter", "Firewall Rules"})
	}
	doc.Comment = c.header(areas)
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "\t")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// allFilterRules is the filter rules in output order.
func (c *compiler) allFilterRules() []FilterRule {
	return append(append([]FilterRule{}, c.tagRules...), c.rules...)
}

// nat is the <nat> content: port forwards, and hybrid outbound NAT when
// there are outbound rules.
func (c *compiler) nat() NAT {
	n := NAT{Rules: c.natRules}
	if len(c.outRules) > 0 {
		n.Outbound = &Outbound{Mode: "hybrid", Rules: c.outRules}
	}
	return n
}

// natXML marshals the whole <nat> element, its lines prefixed by prefix.
func (c *compiler) natXML(prefix string) ([]byte, error) {
	return xml.MarshalIndent(struct {
		XMLName xml.Name `xml:"nat"`
		NAT
	}{NAT: c.nat()}, prefix, "\t")
}

const baseHelp = "Give the configuration exported from Diagnostics > Backup & Restore (Backup area: All, unencrypted)."

// checkBaseInterfaces warns when the base lacks an interface the merged
// rules are on: pfSense would load rules on an interface it does not have
// and they would never match.
func (c *compiler) checkBaseInterfaces() {
	if len(c.base.ifKeys) == 0 {
		return // no <interfaces> (an area export): nothing to check against
	}
	var missing []string
	for _, n := range []struct{ attr, name string }{{"wan", c.t.WAN}, {"lan", c.t.LAN}} {
		if !c.base.ifKeys[n.name] {
			missing = append(missing, fmt.Sprintf("%s = %q", n.attr, n.name))
		}
	}
	if len(missing) > 0 {
		c.Warnf(c.t.Origin, "interfaces missing from --base", "the --base config.xml has no interface named by %s in target %q (its <interfaces> lists the names, e.g. wan, lan, opt1): the merged rules on it would never match. Set wan/lan to the interface names the config uses.", strings.Join(missing, " or "), target)
	}
}
