package nftables

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// FileName is the output file of this target with -o DIR.
const FileName = "nftables.nft"

// Compile renders the policy as a reloadable nft file (see RenderFile; Build
// makes the ruleset).
func Compile(p *lang.Policy, opts backends.Options) (*backends.Output, hcl.Diagnostics) {
	t := Build(p)
	// nftables expresses every protection, so every accepted gap is stale.
	return &backends.Output{Files: []backends.File{{Name: FileName, Data: RenderFileNoted(t, backends.DNSSources(p))}}}, backends.NewGaps(p, &langSpec, opts).Stale()
}

// Build lowers the policy's abstract rules into the nftables ruleset.
// Every protection nftables can express natively, so there are no gaps.
func Build(p *lang.Policy) *Table {
	tgt := p.Target(&langSpec)
	b := &builder{p: p, tgt: tgt}
	// A set belongs to the block that declares it, so plans and status
	// group it there.
	for _, ref := range p.Sets() {
		if ref.Dynamic {
			// Elements come at run time (voicewall ban, watch), each with
			// its own timeout; the policy declares the set, never its content.
			for _, v6 := range []bool{false, true} {
				b.t.Sets = append(b.t.Sets, &Set{Name: setName(ref.Name, v6), Type: family(v6), Live: true, Interval: ref.Interval, Origin: ref.Owner})
			}
			continue
		}
		for _, v6 := range []bool{false, true} {
			if !ref.Set.Has(v6) {
				continue
			}
			s := &Set{Name: setName(ref.Name, v6), Type: family(v6), Elements: ref.Set.Ranges(v6), Origin: ref.Owner}
			b.t.Sets = append(b.t.Sets, s)
		}
	}
	if p.RateLimit != nil {
		for _, v6 := range []bool{false, true} {
			b.t.Sets = append(b.t.Sets, &Set{Name: setName("rate_limit_sip", v6), Type: family(v6), Dynamic: true, Size: 65535, Timeout: "1m", Origin: p.RateLimit.Origin})
		}
	}
	if rp := p.RemotePhones; rp != nil {
		for _, v6 := range []bool{false, true} {
			b.t.Sets = append(b.t.Sets, &Set{Name: setName(remoteMeter, v6), Type: family(v6), Dynamic: true, Size: 65535, Timeout: meterTimeout(rp.Rate), Origin: rp.Origin})
		}
	}
	wan := &Chain{Name: ChainWANIn, Type: "filter", Hook: "prerouting", Priority: "mangle", PrioNum: PrioMangle, Policy: "accept"}
	nat := &Chain{Name: ChainWANNat, Type: "nat", Hook: "prerouting", Priority: "dstnat", PrioNum: PrioDstnat, Policy: "accept"}
	voice := &Chain{Name: ChainVoice, Type: "filter", Hook: "forward", Priority: "filter", PrioNum: PrioFilter, Policy: "accept"}
	var logChains []*Chain
	for _, r := range p.Rules {
		var c *Chain
		switch r.Chain {
		case lang.ChainWAN:
			c = wan
		case lang.ChainNAT:
			c = nat
		default:
			c = voice
		}
		rules := b.expand(r)
		c.Rules = append(c.Rules, rules...)
		if len(rules) > 0 && r.Log && p.Log != nil {
			logChains = append(logChains, b.logChain(r))
		}
	}
	b.t.Chains = append(b.t.Chains, wan)
	if len(nat.Rules) > 0 {
		b.t.Chains = append(b.t.Chains, nat)
	}
	if len(voice.Rules) > 0 {
		b.t.Chains = append(b.t.Chains, voice)
	}
	b.t.Chains = append(b.t.Chains, logChains...)
	return &b.t
}

type builder struct {
	p   *lang.Policy
	tgt *lang.Target
	t   Table
}

func family(v6 bool) SetType {
	if v6 {
		return SetIPv6
	}
	return SetIPv4
}

func setName(base string, v6 bool) string {
	if v6 {
		return base + "_v6"
	}
	return base + "_v4"
}

// remoteMeter is the meter of remote_phones' per-source limit: apart from
// rate_limit's, so each keeps its own rate.
const remoteMeter = "remote_phones_sip"

func meterOf(r *lang.Rule) string {
	if r.Kind == lang.RuleRemoteRateLimit {
		return remoteMeter
	}
	return "rate_limit_sip"
}

// meterTimeout keeps a source's meter entry as long as its bucket takes to
// refill (at least a minute): a source that pauses gets no fresher bucket
// than the rate gives it back. Whole minutes, as nft lists them.
func meterTimeout(r lang.RateLimit) string {
	secs := float64(r.Bucket()) / r.SIP.PerSecond()
	mins := max(1, int64((secs+59)/60))
	mins = min(mins, 24*60)
	switch {
	case mins%(24*60) == 0:
		return strconv.FormatInt(mins/(24*60), 10) + "d"
	case mins%60 == 0:
		return strconv.FormatInt(mins/60, 10) + "h"
	case mins > 60:
		return strconv.FormatInt(mins/60, 10) + "h" + strconv.FormatInt(mins%60, 10) + "m"
	}
	return strconv.FormatInt(mins, 10) + "m"
}

// LogChainName is the regular chain a logged drop jumps to: it logs at the
// policy's log rate, then drops. The limit lives apart from the match so a
// rate-limited log never decides whether the packet is dropped.
func LogChainName(ruleID string) string { return "drop_" + ruleID }

func (b *builder) logChain(r *lang.Rule) *Chain {
	name := LogChainName(r.ID)
	prefix := fmt.Sprintf("%s drop %s: ", b.p.Log.Prefix, r.ID)
	return &Chain{Name: name, Rules: []*Rule{
		{Key: name + "_log", Stmts: []Stmt{Limit{b.p.Log.Rate}, Log{Prefix: prefix}}, Source: r},
		{Key: name + "_drop", Stmts: []Stmt{Verdict{Kind: "drop"}}, Source: r},
	}}
}

// families returns the address families a rule must be written for: nil
// means one family-neutral rule.
func (b *builder) families(r *lang.Rule) []bool {
	switch {
	case r.Action == lang.ActionMark:
		v := b.p.VoiceVLAN(r.InZone)
		var out []bool
		for _, v6 := range []bool{false, true} {
			if v != nil && v.Subnets.Has(v6) {
				out = append(out, v6)
			}
		}
		return out
	case r.Action == lang.ActionDropOverRate:
		v4, v6 := r.Families()
		var out []bool
		if v4 {
			out = append(out, false)
		}
		if v6 {
			out = append(out, true)
		}
		return out
	case r.Action == lang.ActionDNAT && r.Src == nil && r.Dst == nil:
		return []bool{r.DNAT.Is6()} // one family: the forward's address
	case r.Src == nil && r.Dst == nil && r.V4Only != r.V6Only:
		return []bool{r.V6Only} // one family, matched explicitly
	case r.Src == nil && r.Dst == nil:
		return nil
	}
	v4, v6 := r.Families()
	var out []bool
	if v4 {
		out = append(out, false)
	}
	if v6 {
		out = append(out, true)
	}
	if len(out) == 0 {
		return []bool{} // sets empty in every family: nothing to match
	}
	return out
}

func (b *builder) iface(zone string) string { return b.tgt.Interface(zone, b.p) }

// expand writes one abstract rule as nft rules: one per address family the
// rule's sets need and one per protocol its ports use.
func (b *builder) expand(r *lang.Rule) []*Rule {
	fams := b.families(r)
	split := fams != nil
	if !split {
		fams = []bool{false} // one family-neutral rule
	}
	protos := r.Protos()
	var out []*Rule
	for _, v6 := range fams {
		if len(protos) == 0 {
			out = append(out, b.rule(r, v6, split, 0, false))
			continue
		}
		for _, proto := range protos {
			if len(r.Services) > 0 && len(r.SrcServices) > 0 && (len(r.ServicesFor(proto, false)) == 0 || len(r.ServicesFor(proto, true)) == 0) {
				continue
			}
			out = append(out, b.rule(r, v6, split, proto, len(protos) > 1))
		}
	}
	return out
}

func (b *builder) rule(r *lang.Rule, v6, split bool, proto lang.Proto, protoKey bool) *Rule {
	key := r.ID
	if split {
		key += map[bool]string{false: "_v4", true: "_v6"}[v6]
	}
	if protoKey {
		key += "_" + proto.String()
	}
	var s []Stmt
	if r.InZone != "" {
		s = append(s, MatchIface{Name: b.iface(r.InZone)})
	}
	if r.NotInZone != "" {
		s = append(s, MatchIface{Neg: true, Name: b.iface(r.NotInZone)})
	}
	if r.OutZone != "" {
		s = append(s, MatchIface{Out: true, Name: b.iface(r.OutZone)})
	}
	if r.Established {
		s = append(s, MatchCtState{States: []string{"established", "related"}})
	}
	if r.NewFlows {
		s = append(s, MatchCtState{States: []string{"new"}})
	}
	if (r.Action == lang.ActionMark || r.Action == lang.ActionDNAT || r.V4Only != r.V6Only) && r.Src == nil && r.Dst == nil && r.Action != lang.ActionDropOverRate {
		// An explicit family match: otherwise the counter runs before the
		// implicit family check of `ip6 dscp set` and counts both families.
		s = append(s, MatchNfproto{V6: v6})
	}
	if r.Src != nil {
		s = append(s, MatchAddrSet{V6: v6, Dir: Src, Set: setName(r.Src.Name, v6)})
	}
	if r.Dst != nil {
		s = append(s, MatchAddrSet{V6: v6, Dir: Dst, Set: setName(r.Dst.Name, v6)})
	}
	if proto != 0 {
		if rs := r.ServicesFor(proto, true); len(rs) > 0 {
			s = append(s, MatchPorts{Proto: proto, Dir: Src, Ranges: lang.MergePortRanges(rs)})
		}
		if rs := r.ServicesFor(proto, false); len(rs) > 0 {
			s = append(s, MatchPorts{Proto: proto, Dir: Dst, Ranges: lang.MergePortRanges(rs)})
		}
	}
	drop := func() []Stmt {
		if r.Log && b.p.Log != nil {
			return []Stmt{Counter{}, Verdict{Kind: "jump", Chain: LogChainName(r.ID)}}
		}
		return []Stmt{Counter{}, Verdict{Kind: "drop"}}
	}
	switch r.Action {
	case lang.ActionAccept:
		s = append(s, Counter{}, Verdict{Kind: "accept"})
	case lang.ActionDrop:
		s = append(s, drop()...)
	case lang.ActionDropOverRate:
		s = append(s, MeterLimit{Set: setName(meterOf(r), v6), V6: v6, Rate: r.Rate.SIP, Burst: r.Rate.Bucket()})
		s = append(s, drop()...)
	case lang.ActionDNAT:
		s = append(s, Counter{}, DNAT{Addr: r.DNAT})
	case lang.ActionMark:
		s = append(s, Counter{}, SetDSCP{V6: v6, Class: r.DSCP})
	}
	return &Rule{Key: key, Stmts: s, Comment: comment(key, r.Origin), Source: r}
}

// comment carries the rule's key (how plan and status find it again) and
// the policy block it came from: `provider_carrier_sip_udp_v4: provider carrier (gw.hcl:7)`.
func comment(key string, o lang.Origin) string {
	block := strings.ReplaceAll(o.Block(), `"`, "")
	c := key + ": " + block
	if o.Range.Filename != "" {
		c += " (" + o.Pos() + ")"
	}
	return safeText(c, maxComment)
}

// KeyOf extracts the rule key from a comment written by comment().
func KeyOf(comment string) string {
	k, _, _ := strings.Cut(comment, ": ")
	return k
}
