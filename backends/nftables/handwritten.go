package nftables

// What a gateway's own ruleset has beyond voicewall's table, as `nft list
// ruleset` prints it or as written by hand in /etc/nftables.conf, each
// read with the meaning nft(8) gives it (the man page of nftables 1.0.6:
// VARIABLES, CHAINS, VERDICT STATEMENT — accept ends the chain's
// evaluation but "another forward base chain that has a higher priority
// number" still sees the packet; drop is final; return "in a base chain
// ... is equivalent to the base chain policy"; jump returns "when the new
// chain is entirely evaluated or a return verdict is issued"; goto does
// not push the position —, VMAP STATEMENT, CONNTRACK EXPRESSIONS
// (ct_status dnat)) and the nftables wiki ("Jumping to chain", rev. of
// 2021-03-07: after a goto "the default policy applied to the packet will
// be the default policy of the original base chain"). TestFilterFormsKernel
// checks jump, return, goto, vmap and ct status dnat on the kernel:
//
//   - `define NAME = VALUE` and `$NAME` (nft(8), VARIABLES / DEFINE): the
//     value is put in place of each use; an undefined variable is an error.
//     `include` is refused: audit reads one file (`nft list ruleset`
//     prints the included rules in place).
//   - table families (nft(8), ADDRESS FAMILIES): the rules of an ip table
//     see IPv4 only, of an ip6 table IPv6 only, of inet both; arp tables
//     carry no IP and are skipped; bridge and netdev tables are refused.
//   - base chains by hook (nft(8), CHAINS): prerouting (filter and nat, as
//     voicewall writes them), input (packets to the gateway itself: a SIP
//     service on it), forward, and their policy (accept or drop: what the
//     chain does with a packet no rule decides). output chains see only
//     packets the gateway sends and decide nothing about what reaches it;
//     postrouting chains that only NAT or accept (masquerade, snat) drop
//     nothing: both are read as deciding no inbound exposure and noted. A
//     postrouting chain that drops or rejects, or a policy drop there, is
//     refused. Two base chains on one hook are refused unless one is IPv4
//     only and the other IPv6 only (a packet must pass every base chain of
//     its hook: accept in one is not the end, which the model does not
//     express).
//   - jump and goto (nft(8), VERDICT STATEMENT): the rules of the chain
//     jumped to are inlined with the jump rule's matches before their own;
//     when it ends (or returns), evaluation goes on after the jump. A goto
//     does not come back: after the chain gone to, the base chain's policy
//     decides (a goto from a base chain), or it is the last rule of a
//     chain jumped to (the same as a jump). A return under a match in a
//     chain jumped to (which would skip only the rest of that chain) is
//     refused unless nothing follows it.
//   - verdict maps (nft(8), VERDICT MAP): `KEY vmap { K : VERDICT, ... }`
//     and `KEY vmap @NAME`, one rule per element: the element's key as a
//     match, its verdict as the rule's (the keys of one map are distinct,
//     so at most one element takes a packet, whatever their order).
//   - `ct state` (a new connection's first packet is state new: a rule of
//     established/related/invalid only never sees it) and `ct status dnat`
//     (packets a nat rule rewrote: the forwards read).
//   - `iif`/`oif` as iifname/oifname, `reject` as drop, `log` and `limit
//     rate` (the first packet is under every rate; `limit rate over`
//     never matches it) taken as non-deciding, `icmp type` and `icmpv6
//     type` as their protocol.
//   - the WAN: the interfaces a masquerade or snat rule sends out by, and
//     the interfaces dnat rules take packets on (as a FortiOS VIP's).

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/voicewall/voicewall/devmodel"
	"go4.org/netipx"
)

type nftTable struct {
	family string // ip, ip6, inet, arp
	name   string
}

// fam is the IP family the table's rules see: 4, 6 or 0 (both).
func (t *nftTable) fam() int {
	if t == nil {
		return 0
	}
	return map[string]int{"ip": 4, "ip6": 6}[t.family]
}

func readTable(l string) (*nftTable, error) {
	f := strings.Fields(strings.TrimSuffix(l, "{"))
	switch len(f) {
	case 2:
		return &nftTable{family: "ip", name: f[1]}, nil // nft(8): ip is the default family
	case 3:
		switch f[1] {
		case "ip", "ip6", "inet", "arp":
			return &nftTable{family: f[1], name: f[2]}, nil
		case "bridge", "netdev":
			return nil, fmt.Errorf("table %s %s: %s tables (bridged or ingress traffic) are not read", f[1], f[2], f[1])
		}
	}
	return nil, fmt.Errorf("table: %q", l)
}

func chainKey(t *nftTable, name string) string {
	if t == nil {
		return "/" + name
	}
	return t.family + " " + t.name + "/" + name
}

var varUse = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)`)

// expandDefines puts each `define NAME = VALUE`'s value in place of
// `$NAME` in the lines after it and blanks the define lines (so line
// numbers stay); a value over several lines (an open brace) is joined.
func expandDefines(file string, lines []string) ([]string, error) {
	vars := map[string]string{}
	out := make([]string, len(lines))
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if t := strings.TrimSpace(l); !strings.HasPrefix(t, "#") && strings.Contains(l, "$") {
			var bad string
			l = varUse.ReplaceAllStringFunc(l, func(m string) string {
				v, ok := vars[m[1:]]
				if !ok && bad == "" {
					bad = m
				}
				return v
			})
			if bad != "" {
				return nil, fmt.Errorf("%s:%d: %s is not defined before this line", file, i+1, bad)
			}
		}
		out[i] = l
		t := strings.TrimSpace(l)
		rest, ok := strings.CutPrefix(t, "define ")
		if !ok {
			rest, ok = strings.CutPrefix(t, "redefine ")
		}
		if !ok {
			continue
		}
		start := i
		for strings.Count(rest, "{") > strings.Count(rest, "}") && i+1 < len(lines) {
			i++
			rest += " " + strings.TrimSpace(lines[i])
			out[i] = ""
		}
		name, val, ok := strings.Cut(rest, "=")
		name = strings.TrimSpace(name)
		if !ok || !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(name) {
			return nil, fmt.Errorf("%s:%d: define: %q", file, start+1, t)
		}
		val = strings.TrimSpace(val)
		if c, _, ok := strings.Cut(val, "#"); ok && !strings.Contains(val, `"`) {
			val = strings.TrimSpace(c)
		}
		vars[name] = val
		out[start] = ""
	}
	return out, nil
}

// reader is one read's state beyond the text.
type reader struct {
	d          *devmodel.Device
	file       string
	sets       map[string]*netipx.IPSet
	maps       map[string]*nftMap
	chains     map[string]*nftChain
	masquerade []string // interfaces masquerade/snat send out by
}

// baseChains checks the base chains: the hooks read, the policies, one
// chain per hook and family; output and postrouting chains are skipped
// (noted), the WAN taken from postrouting's masquerade/snat.
func (rd *reader) baseChains(order []*nftChain) error {
	seen := map[string][]*nftChain{}
	for _, c := range order {
		if c.hook == "" {
			continue
		}
		if c.table != nil && c.table.family == "arp" {
			c.skip = true
			continue
		}
		at := fmt.Sprintf("%s:%d", rd.file, c.line)
		if c.policy != "" && c.policy != "accept" && c.policy != "drop" {
			return fmt.Errorf("%s:%d: chain %s: policy %q", rd.file, c.policyLine, c.name, c.policy)
		}
		switch c.hook {
		case "output", "postrouting":
			if err := rd.outbound(c); err != nil {
				return err
			}
			c.skip = true
			continue
		case "prerouting", "input", "forward":
		default:
			return fmt.Errorf("%s: chain %s: hook %s is not read", at, c.name, c.hook)
		}
		if c.prio != "filter" && !(c.prio == "nat" && c.hook == "prerouting") {
			return fmt.Errorf("%s: chain %s: a %s chain on hook %s is not read", at, c.name, c.prio, c.hook)
		}
		if c.policy == "drop" && c.hook == "prerouting" {
			return fmt.Errorf("%s:%d: chain %s: policy drop on a prerouting chain is not read", rd.file, c.policyLine, c.name)
		}
		k := c.hook + " " + c.prio
		for _, o := range seen[k] {
			if o.table.fam() == 0 || c.table.fam() == 0 || o.table.fam() == c.table.fam() {
				if c.prio == "nat" && c.hook == "prerouting" {
					continue // nat chains: the first dnat that takes a packet wins, as forwards are read
				}
				return fmt.Errorf("%s: chain %s: a second %s chain on hook %s (the first: chain %s, line %d): a packet must pass both, which audit does not model", at, c.name, c.prio, c.hook, o.name, o.line)
			}
			if o.policy != c.policy && (o.policy == "drop" || c.policy == "drop") {
				return fmt.Errorf("%s: chain %s: policy %s beside chain %s's %s on hook %s: one default per hook is read", at, c.name, or(c.policy, "accept"), o.name, or(o.policy, "accept"), c.hook)
			}
		}
		seen[k] = append(seen[k], c)
		if c.policy == "drop" {
			switch c.hook {
			case "input":
				rd.d.DefaultLocal = devmodel.Drop
			case "forward":
				rd.d.DefaultForward = devmodel.Drop
			}
		}
	}
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// outbound reads an output or postrouting chain as deciding no inbound
// exposure (output sees only what the gateway sends; postrouting NAT
// rewrites sources and drops nothing), refusing one that drops.
func (rd *reader) outbound(c *nftChain) error {
	if c.hook == "postrouting" && c.policy == "drop" {
		return fmt.Errorf("%s:%d: chain %s: policy drop on hook postrouting decides forwarded packets too: not read", rd.file, c.policyLine, c.name)
	}
	for _, l := range c.rules {
		f := tokens(l.text)
		if c.hook == "postrouting" {
			for _, w := range f {
				if slices.Contains([]string{"drop", "reject", "jump", "goto", "queue", "vmap"}, w) {
					return fmt.Errorf("%s:%d: chain %s: %s on hook postrouting decides forwarded packets too: not read: %q", rd.file, l.line, c.name, w, l.text)
				}
			}
			if slices.Contains(f, "masquerade") || slices.Contains(f, "snat") {
				for k := 0; k+1 < len(f); k++ {
					if (f[k] == "oifname" || f[k] == "oif") && f[k+1] != "!=" && rd.d.Interface(strings.Trim(f[k+1], `"`)) == nil {
						rd.masquerade = append(rd.masquerade, strings.Trim(f[k+1], `"`))
						rd.d.Interfaces = append(rd.d.Interfaces, &devmodel.Interface{Loc: devmodel.Loc{File: rd.file, Line: l.line}, Name: strings.Trim(f[k+1], `"`), Role: "wan"})
					}
				}
			}
		}
	}
	rd.d.Notef(devmodel.Loc{File: rd.file, Line: c.line}, "chain %s (hook %s) is not evaluated: %s", c.name, c.hook,
		map[string]string{"output": "it sees only the packets the gateway itself sends", "postrouting": "it only rewrites or accepts packets leaving the gateway"}[c.hook])
	return nil
}

// inline flattens the rules of chain c (base chain: base), each with
// prefix (the matches of the jumps that led here) before its own, into
// rules of the base chain: jumps and gotos inlined, verdict maps one rule
// per element, returns as nft(8) gives them (see the file comment).
func (rd *reader) inline(c, base *nftChain, prefix []string, depth int) ([]nftLine, error) {
	if depth > 16 {
		return nil, fmt.Errorf("%s:%d: chain %s: jumps nested deeper than 16", rd.file, c.line, c.name)
	}
	var out []nftLine
	for n, l := range c.rules {
		flat, stop, err := rd.inlineRule(c, base, prefix, depth, l, n == len(c.rules)-1)
		if err != nil {
			return nil, err
		}
		out = append(out, flat...)
		if stop {
			break
		}
	}
	return out, nil
}

// verdicts are the words that end a rule's matches.
var verdicts = []string{"accept", "drop", "reject", "jump", "goto", "return", "continue", "queue"}

func (rd *reader) inlineRule(c, base *nftChain, prefix []string, depth int, l nftLine, last bool) (out []nftLine, stop bool, err error) {
	text, _, _ := strings.Cut(l.text, ` comment "`)
	f := tokens(text)
	at := func(format string, a ...any) error {
		return fmt.Errorf("%s:%d: %s: %q", rd.file, l.line, fmt.Sprintf(format, a...), l.text)
	}
	ref := l.ref
	if c != base {
		ref = "chain " + c.name + " rule"
	}
	emit := func(words []string, line int, ref string) {
		out = append(out, nftLine{text: strings.Join(append(slices.Clone(prefix), words...), " "), line: line, ref: ref})
	}
	if slices.Contains(f, "update") || slices.Contains(f, "meter") {
		emit(f, l.line, ref) // a per-source limit: lowerRule reads it whatever follows
		return out, false, nil
	}
	if v := slices.Index(f, "vmap"); v >= 0 {
		return rd.vmap(c, base, prefix, depth, l, f, v, last)
	}
	own := func(k int) []string { return f[:k] }
	for k, w := range f {
		switch w {
		case "jump", "goto":
			if k+1 >= len(f) {
				return nil, false, at("%s without a chain", w)
			}
			t := rd.chains[chainKey(c.table, f[k+1])]
			if t == nil {
				return nil, false, at("%s %s: no such chain in table %s", w, f[k+1], c.table.name)
			}
			if t.hook != "" {
				return nil, false, at("%s to base chain %s is not read", w, f[k+1])
			}
			if w == "goto" && c != base && !last {
				return nil, false, at("goto in a chain jumped to, before its end, is not read (it skips the rest of that chain)")
			}
			sub, err := rd.inline(t, base, append(slices.Clone(prefix), own(k)...), depth+1)
			if err != nil {
				return nil, false, err
			}
			for _, s := range sub {
				if s.ref == "" {
					s.ref = "chain " + t.name + " rule"
				}
				// a verdict alone (voicewall's drop chains) is the jump's
				// rule: its line holds every match
				if s.text == strings.Join(append(append(slices.Clone(prefix), own(k)...), lastWords(s.text)...), " ") && isVerdictOnly(lastWords(s.text)) {
					s.line, s.ref = l.line, ref
				}
				out = append(out, s)
			}
			if w == "goto" && c == base {
				emit(append(own(k), or(base.policy, "accept")), l.line, ref) // back from a goto: the base chain's policy
				return out, len(matchWords(own(k))) == 0, nil
			}
			return out, false, nil
		case "return":
			if k != len(f)-1 {
				return nil, false, at("words after return")
			}
			if c == base {
				emit(append(own(k), or(base.policy, "accept")), l.line, ref) // a base chain's return: its policy
				return out, len(matchWords(own(k))) == 0, nil
			}
			if len(matchWords(own(k))) == 0 {
				return out, true, nil // the rest of the chain is never reached
			}
			if last {
				return out, true, nil
			}
			return nil, false, at("return under a match in chain %s, before its end, is not read (it skips only the rest of that chain)", c.name)
		case "continue":
			return out, false, nil // no verdict: the next rule
		}
	}
	emit(f, l.line, ref)
	return out, false, nil
}

// lastWords is the verdict at the end of a rule text: the last word.
func lastWords(s string) []string {
	f := tokens(s)
	if len(f) == 0 {
		return nil
	}
	return f[len(f)-1:]
}

func isVerdictOnly(w []string) bool {
	return len(w) == 1 && (w[0] == "drop" || w[0] == "accept" || w[0] == "reject")
}

// matchWords drops the words that match nothing (counter and its values).
func matchWords(f []string) []string {
	var out []string
	for i := 0; i < len(f); i++ {
		if f[i] == "counter" {
			i += counterLen(f, i) - 1
			continue
		}
		out = append(out, f[i])
	}
	return out
}

// vmap expands `KEY vmap { K : VERDICT, ... }` (or `@NAME`) at f[v] into
// one rule per element.
func (rd *reader) vmap(c, base *nftChain, prefix []string, depth int, l nftLine, f []string, v int, last bool) ([]nftLine, bool, error) {
	at := func(format string, a ...any) error {
		return fmt.Errorf("%s:%d: %s: %q", rd.file, l.line, fmt.Sprintf(format, a...), l.text)
	}
	if v > 0 && f[v-1] == "." || v > 2 && f[v-2] == "." {
		return nil, false, at("a verdict map keyed on a concatenation is not read")
	}
	klen := 2
	if v >= 1 && slices.Contains([]string{"iifname", "oifname", "iif", "oif"}, f[v-1]) {
		klen = 1
	}
	if v < klen || v+1 >= len(f) {
		return nil, false, at("vmap without a key")
	}
	if v-klen-1 >= 0 && f[v-klen-1] == "." {
		return nil, false, at("a verdict map keyed on a concatenation is not read")
	}
	key := f[v-klen : v]
	switch strings.Join(key, " ") {
	case "tcp dport", "udp dport", "th dport", "ip saddr", "ip daddr", "ip6 saddr", "ip6 daddr", "iifname", "oifname", "iif", "oif",
		"meta iifname", "meta oifname", "meta l4proto", "ip protocol", "ip6 nexthdr", "ct state", "meta nfproto":
	default:
		return nil, false, at("a verdict map keyed on %q is not read", strings.Join(key, " "))
	}
	var body string
	end := v + 2
	switch {
	case f[v+1] == "{":
		k := slices.Index(f[v+1:], "}")
		if k < 0 {
			return nil, false, at("vmap without its closing brace")
		}
		body = strings.Join(f[v+2:v+1+k], " ")
		end = v + 2 + k
	case strings.HasPrefix(f[v+1], "@"):
		m := rd.maps[strings.TrimPrefix(f[v+1], "@")]
		if m == nil {
			return nil, false, at("no map %s", f[v+1])
		}
		body = m.elements
	default:
		return nil, false, at("vmap %s", f[v+1])
	}
	if end < len(f) {
		if rest := matchWords(f[end:]); len(rest) > 0 {
			return nil, false, at("%q after a verdict map", strings.Join(rest, " "))
		}
	}
	var out []nftLine
	for _, e := range splitElements(body) {
		k, verdict, err := splitElement(e)
		if err != nil {
			return nil, false, at("%v", err)
		}
		words := append(append(slices.Clone(f[:v-klen]), key...), tokens(k)...)
		words = append(words, tokens(verdict)...)
		flat, stop, err := rd.inlineRule(c, base, prefix, depth, nftLine{text: strings.Join(words, " "), line: l.line, ref: l.ref}, last)
		if err != nil {
			return nil, false, err
		}
		out = append(out, flat...)
		if stop && len(tokens(k)) == 0 {
			return out, true, nil
		}
	}
	return out, false, nil
}

// tokens splits a rule into words: a quoted string is one word, and braces
// and commas stand apart from what they touch ({5060,5061} as nft lists
// short sets too).
func tokens(s string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	inQ := false
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteRune(r)
			inQ = !inQ
		case inQ:
			b.WriteRune(r)
		case r == ' ' || r == '\t':
			flush()
		case r == '{' || r == '}':
			flush()
			out = append(out, string(r))
		default:
			b.WriteRune(r)
		}
	}
	flush()
	return out
}

// finish: ct status dnat rules match what every forward rewrote.
func (rd *reader) finish() {
	var names []string
	for _, f := range rd.d.Forwards {
		names = append(names, f.Name)
	}
	for _, r := range rd.d.Rules {
		if !r.MatchForwarded && r.Dst.Text == "ct status dnat" {
			r.DstForwards = names
		}
	}
}
