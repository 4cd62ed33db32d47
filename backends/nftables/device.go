package nftables

// The device reader of voicewall's own nftables text (nftables.nft): the
// sets, the chains by hook, and the rule forms the renderer writes, lowered
// into the devmodel so the translation-validation test can prove that the
// rendered text, not only the IR, means what lang's evaluator says. It
// refuses any statement it does not know: it reads voicewall's output, not
// arbitrary rulesets, and of hand-written ones the nat forms they commonly
// take (dnat to A:P1-P2, redirect, dnat through maps: lowerDNAT), the
// transport as meta l4proto with th dport (l4), literal addresses and
// anonymous sets (addrOperand), a bare counter, named maps (readMap).

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/voicewall/voicewall/devmodel"
	"go4.org/netipx"
)

// MaxConfigBytes bounds the text read.
const MaxConfigBytes = 64 << 20

type nftChain struct {
	name, hook, prio string
	table            *nftTable
	line             int
	policy           string // accept (the default) or drop
	policyLine       int
	skip             bool     // output and postrouting chains: no inbound exposure
	priority         []string // the words after "priority": a name, a number, name + number
	rules            []nftLine
}

// beforeDNAT reports whether a prerouting chain sees packets before
// destination NAT: its priority is below dstnat (-100), e.g. raw or mangle
// (nft(8), CHAINS: the standard priority names and values). A priority
// audit cannot read is taken for one before it, as the chain's rules are.
func (c *nftChain) beforeDNAT() bool {
	if c.hook != "prerouting" {
		return false
	}
	named := map[string]int{"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50}
	v, ok := 0, false
	for k, w := range c.priority {
		n, err := strconv.Atoi(w)
		switch {
		case k == 0 && err == nil:
			v, ok = n, true
		case k == 0:
			v, ok = named[w]
		case k == 2 && err == nil && c.priority[1] == "+":
			v += n
		case k == 2 && err == nil && c.priority[1] == "-":
			v -= n
		}
	}
	return !ok || v < -100
}

// ctHelper is a ct helper object: its type ("sip", "ftp", ...) and line.
type ctHelper struct {
	typ  string
	line int
}

// ctHelperUse is a rule's ct helper set.
type ctHelperUse struct {
	key, name string
	line      int
}

// ctHelperSet is the statement that assigns a ct helper object to a
// connection (nft(8), CONNTRACK STATEMENTS: ct helper set).
var ctHelperSet = regexp.MustCompile(`\bct helper set "?([A-Za-z0-9_.-]+)"?`)

type nftLine struct {
	text string
	line int
	// ref names the chain of a rule inlined from a jump (else "").
	ref string
}

// ReadDevice reads an nftables ruleset into the device model: voicewall's
// own text, or a gateway's as `nft list ruleset` prints it or as written
// by hand (handwritten.go: define/$var, table families, input chains,
// jump/goto/return, verdict maps, chain policies).
func ReadDevice(file string, src []byte) (*devmodel.Device, error) {
	d, err := readDevice(file, src)
	if err != nil {
		return nil, fmt.Errorf("%v (audit cannot judge this ruleset)", err)
	}
	return d, nil
}

func readDevice(file string, src []byte) (*devmodel.Device, error) {
	if len(src) > MaxConfigBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", file, MaxConfigBytes)
	}
	sets := map[string]*netipx.IPSet{}
	maps := map[string]*nftMap{}
	chains := map[string]*nftChain{}
	var order []*nftChain
	lines, err := expandDefines(file, strings.Split(string(src), "\n"))
	if err != nil {
		return nil, err
	}
	var cur *nftChain
	var tab *nftTable
	// ct helper objects (by table and name) and the rules that assign them:
	// a SIP helper assigned to traffic is the kernel's SIP ALG.
	helpers := map[string]ctHelper{}
	var helperUses []ctHelperUse
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if c, _, ok := strings.Cut(l, " #"); ok && !strings.Contains(l, `"`) {
			l = strings.TrimSpace(c) // a comment after a statement
		}
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "delete table ") || l == "flush ruleset":
		case l == "}":
			if cur != nil {
				cur = nil
			} else {
				tab = nil
			}
		case strings.HasPrefix(l, "table "):
			if strings.HasSuffix(l, "{") {
				t, err := readTable(l)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %v", file, i+1, err)
				}
				tab = t
			}
		case strings.HasPrefix(l, "include "):
			return nil, fmt.Errorf("%s:%d: %s: audit reads one file; audit what `nft list ruleset` prints on the gateway instead", file, i+1, l)
		case cur == nil && strings.HasPrefix(l, "map ") && strings.Contains(l, "{"):
			m, end, err := readMap(lines, i)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", file, i+1, err)
			}
			maps[m.name] = m
			i = end
		case strings.HasPrefix(l, "set ") && strings.Contains(l, "{") && strings.Count(l, "{") == strings.Count(l, "}"):
			// a set on one line: set NAME { type ...; elements = { ... } }
			name := strings.TrimSpace(l[len("set "):strings.Index(l, "{")])
			var b netipx.IPSetBuilder
			if m := oneLineElems.FindStringSubmatch(l); m != nil {
				for _, e := range strings.Split(m[1], ",") {
					if e = strings.TrimSpace(e); e != "" && !addElem(&b, e) {
						return nil, fmt.Errorf("%s:%d: set %s: element %q (only address sets are read)", file, i+1, name, e)
					}
				}
			}
			s, _ := b.IPSet()
			sets[name] = s
		case strings.HasPrefix(l, "set ") && strings.HasSuffix(l, "{"):
			name := strings.TrimSuffix(strings.TrimPrefix(l, "set "), " {")
			var b netipx.IPSetBuilder
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "}"; i++ {
				x := strings.TrimSpace(lines[i])
				if rest, ok := strings.CutPrefix(x, "elements = {"); ok {
					body := rest
					for !strings.Contains(body, "}") && i+1 < len(lines) {
						i++
						body += " " + strings.TrimSpace(lines[i])
					}
					body, _, _ = strings.Cut(body, "}")
					for _, e := range strings.Split(body, ",") {
						if e = strings.TrimSpace(e); e != "" && !addElem(&b, e) {
							return nil, fmt.Errorf("%s:%d: set %s: element %q", file, i+1, name, e)
						}
					}
				}
			}
			s, _ := b.IPSet()
			sets[name] = s
		case cur == nil && tab != nil && strings.HasPrefix(l, "ct helper ") && strings.HasSuffix(l, "{"):
			name := strings.Trim(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(l, "ct helper "), "{")), `"`)
			h := ctHelper{line: i + 1}
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "}"; i++ {
				if f := strings.Fields(strings.TrimSpace(lines[i])); len(f) >= 2 && f[0] == "type" {
					h.typ = strings.Trim(strings.TrimSuffix(f[1], ";"), `"`)
				}
			}
			helpers[chainKey(tab, name)] = h
		case strings.HasPrefix(l, "chain ") && strings.HasSuffix(l, "{") && tab == nil:
			return nil, fmt.Errorf("%s:%d: a chain outside a table", file, i+1)
		case strings.HasPrefix(l, "chain ") && strings.HasSuffix(l, "{"):
			cur = &nftChain{name: strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(l, "chain "), "{")), line: i + 1, table: tab}
			chains[chainKey(tab, cur.name)] = cur
			order = append(order, cur)
		case cur != nil && (strings.HasPrefix(l, "type ") || strings.HasPrefix(l, "policy ")):
			f := strings.Fields(strings.NewReplacer(";", " ").Replace(l))
			for j := 0; j+1 < len(f); j++ {
				switch f[j] {
				case "hook":
					cur.hook = f[j+1]
				case "type":
					cur.prio = f[j+1]
				case "policy":
					cur.policy, cur.policyLine = f[j+1], i+1
				case "priority":
					for k := j + 1; k < len(f) && k <= j+3 && f[k] != "policy"; k++ {
						cur.priority = append(cur.priority, f[k])
					}
				}
			}
		case cur != nil && strings.HasPrefix(l, "comment "):
		case cur != nil:
			start := i
			// a rule whose braces span lines (an anonymous set or map
			// written over several), or continued with a backslash
			for (strings.Count(l, "{") > strings.Count(l, "}") || strings.HasSuffix(l, "\\")) && i+1 < len(lines) {
				i++
				l = strings.TrimSuffix(l, "\\") + " " + strings.TrimSpace(lines[i])
			}
			if m := ctHelperSet.FindStringSubmatch(l); m != nil {
				// The assignment decides nothing; the rule's other
				// statements still do.
				helperUses = append(helperUses, ctHelperUse{key: chainKey(tab, m[1]), name: m[1], line: start + 1})
				l = strings.TrimSpace(ctHelperSet.ReplaceAllString(l, " "))
			}
			cur.rules = append(cur.rules, nftLine{text: l, line: start + 1})
		default:
			return nil, fmt.Errorf("%s:%d: unexpected %q", file, i+1, l)
		}
	}
	d := &devmodel.Device{File: file, Target: "nftables", DefaultForward: devmodel.Accept, DefaultLocal: devmodel.Accept}
	for _, u := range helperUses {
		h, ok := helpers[u.key]
		if !ok {
			return nil, fmt.Errorf("%s:%d: ct helper %q is not defined in this table", file, u.line, u.name)
		}
		if h.typ == "sip" {
			d.SIPHelpers = append(d.SIPHelpers, devmodel.Setting{Loc: devmodel.Loc{File: file, Line: u.line},
				What: fmt.Sprintf("ct helper set %q assigns the kernel's SIP helper (ct helper %s, type \"sip\", line %d)", u.name, u.name, h.line)})
		}
	}
	rd := &reader{d: d, file: file, sets: sets, maps: maps, chains: chains}
	if err := rd.baseChains(order); err != nil {
		return nil, err
	}
	for _, c := range order {
		if c.hook == "" || c.skip {
			continue // a chain reached by jump, or one deciding no inbound exposure
		}
		rules := c.rules
		if c.prio == "filter" {
			flat, err := rd.inline(c, c, nil, 0)
			if err != nil {
				return nil, err
			}
			rules = flat
		}
		for _, l := range rules {
			if err := lowerRule(d, c, l, sets, maps, chains, file); err != nil {
				return nil, fmt.Errorf("%s:%d: %v: %q", file, l.line, err, l.text)
			}
		}
		if c.hook == "input" && c.policy != "drop" {
			// an input chain whose policy accepts: whatever no rule
			// decides reaches every service of the gateway (a SIP service
			// on it, its SSH): a rule of the policy's line, so audit
			// judges what it lets in from the WAN as it judges an accept
			line := c.policyLine
			if line == 0 {
				line = c.line
			}
			d.Rules = append(d.Rules, &devmodel.Rule{Loc: devmodel.Loc{File: file, Line: line}, Ref: "chain " + c.name + " policy accept", Quick: true, MatchForwarded: true,
				Hook: devmodel.HookLocal, Src: devmodel.AnyAddr(), Dst: devmodel.AnyAddr(), Family: c.table.fam(), Action: devmodel.Accept})
		}
	}
	rd.finish()
	return d, nil
}

var oneLineElems = regexp.MustCompile(`elements\s*=\s*\{([^{}]*)\}`)

func addElem(b *netipx.IPSetBuilder, e string) bool {
	if p, err := netip.ParsePrefix(e); err == nil {
		b.AddPrefix(p)
		return true
	}
	if a, err := netip.ParseAddr(e); err == nil {
		b.Add(a)
		return true
	}
	if x, y, ok := strings.Cut(e, "-"); ok {
		a, err1 := netip.ParseAddr(strings.TrimSpace(x))
		z, err2 := netip.ParseAddr(strings.TrimSpace(y))
		if err1 == nil && err2 == nil {
			b.AddRange(netipx.IPRangeFrom(a, z))
			return true
		}
	}
	return false
}

// ports reads `5060`, `10000-20000` or `{ 5060, 10000-20000 }` from f[i:]
// and returns them with the index after.
func ports(f []string, i int) (devmodel.Ports, int, error) {
	var out devmodel.Ports
	one := func(s string) error {
		if s = strings.Trim(s, ","); strings.Contains(s, ",") { // {5060,5061} as one word
			for _, w := range strings.Split(s, ",") {
				lo, hi, _ := strings.Cut(w, "-")
				a, err1 := strconv.Atoi(lo)
				b, err2 := a, error(nil)
				if hi != "" {
					b, err2 = strconv.Atoi(hi)
				}
				if err1 != nil || err2 != nil {
					return fmt.Errorf("port %q", w)
				}
				out = append(out, devmodel.PortRange{Lo: uint16(a), Hi: uint16(b)})
			}
			return nil
		}
		lo, hi, _ := strings.Cut(s, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return err
		}
		b := a
		if hi != "" {
			if b, err = strconv.Atoi(hi); err != nil {
				return err
			}
		}
		out = append(out, devmodel.PortRange{Lo: uint16(a), Hi: uint16(b)})
		return nil
	}
	if i >= len(f) {
		return nil, i, fmt.Errorf("no port")
	}
	if f[i] != "{" {
		return out, i + 1, one(f[i])
	}
	for i++; i < len(f) && f[i] != "}"; i++ {
		if err := one(f[i]); err != nil {
			return nil, i, err
		}
	}
	return out, i + 1, nil
}

func lowerRule(d *devmodel.Device, c *nftChain, l nftLine, sets map[string]*netipx.IPSet, maps map[string]*nftMap, chains map[string]*nftChain, file string) error {
	text, _, _ := strings.Cut(l.text, ` comment "`)
	f := tokens(text)
	ref := "chain " + c.name + " rule"
	if l.ref != "" {
		ref = l.ref
	}
	r := &devmodel.Rule{Loc: devmodel.Loc{File: file, Line: l.line}, Ref: ref, Quick: true, MatchForwarded: true,
		Src: devmodel.AnyAddr(), Dst: devmodel.AnyAddr(), Family: c.table.fam()}
	switch {
	case c.hook == "prerouting" && c.prio == "filter":
		r.PreNAT, r.Hook = true, devmodel.HookBoth
	case c.hook == "prerouting" && c.prio == "nat":
		return lowerDNAT(d, text, l, sets, maps, file)
	case c.hook == "forward":
		r.Hook = devmodel.HookForward
	case c.hook == "input":
		r.Hook = devmodel.HookLocal // packets to the gateway itself
	default:
		return fmt.Errorf("chain %s: hook %s is not read", c.name, c.hook)
	}
	family := func(fam int) bool { // false: the rule's matches exclude each other
		if r.Family != 0 && r.Family != fam {
			return false
		}
		r.Family = fam
		return true
	}
	var x l4
	action := false
	for i := 0; i < len(f); {
		if next, ok, err := x.read(f, i); err != nil {
			if err == errNever {
				return nil
			}
			return err
		} else if ok {
			i = next
			continue
		}
		switch f[i] {
		case "iifname", "oifname", "iif", "oif":
			neg := i+1 < len(f) && f[i+1] == "!="
			j := i + 1
			if neg {
				j++
			}
			if j >= len(f) {
				return fmt.Errorf("%s without a name", f[i])
			}
			var names []string
			next := j + 1
			if f[j] == "{" {
				for next = j + 1; next < len(f) && f[next] != "}"; next++ {
					for _, n := range strings.Split(f[next], ",") {
						if n = strings.Trim(n, `"`); n != "" {
							names = append(names, n)
						}
					}
				}
				next++
			} else {
				names = []string{strings.Trim(f[j], `"`)}
			}
			in := f[i] == "iifname" || f[i] == "iif"
			switch {
			case in && neg:
				r.NotIn = append(r.NotIn, names...)
			case in:
				if r.In != nil { // a second match (a jump's and the rule's): both hold
					var both []string
					for _, n := range names {
						if slices.Contains(r.In, n) {
							both = append(both, n)
						}
					}
					if len(both) == 0 {
						return nil // no interface is both: the rule never matches
					}
					names = both
				}
				r.In = names
			default:
				if neg {
					return fmt.Errorf("oifname != is not read")
				}
				if r.Out != nil {
					return fmt.Errorf("a second oifname match is not read")
				}
				r.Out = names
			}
			i = next
		case "ip", "ip6":
			if i+2 >= len(f) {
				return fmt.Errorf("short %s match", f[i])
			}
			if f[i+1] == "dscp" && f[i+2] == "set" {
				r.Action, action = devmodel.Tag, true
				i += 4
				continue
			}
			a, next, err := addrOperand(f, i+2, sets)
			if err != nil {
				return fmt.Errorf("%s %s: %v", f[i], f[i+1], err)
			}
			switch f[i+1] {
			case "saddr":
				r.Src = both(r.Src, a)
			case "daddr":
				r.Dst = both(r.Dst, a)
			default:
				return fmt.Errorf("%s %s", f[i], f[i+1])
			}
			if !family(map[string]int{"ip": 4, "ip6": 6}[f[i]]) {
				return nil
			}
			i = next
		case "meta":
			if i+2 < len(f) && f[i+1] == "nfproto" {
				if !family(map[string]int{"ipv4": 4, "ipv6": 6}[f[i+2]]) {
					return nil
				}
				i += 3
				continue
			}
			if i+1 < len(f) && (f[i+1] == "iifname" || f[i+1] == "oifname" || f[i+1] == "iif" || f[i+1] == "oif") {
				i++ // meta iifname: iifname
				continue
			}
			return fmt.Errorf("meta %s is not read", f[min(i+1, len(f)-1)])
		case "ct":
			if i+2 < len(f) && f[i+1] == "status" {
				if f[i+2] != "dnat" {
					return fmt.Errorf("ct status %s is not read (only dnat)", f[i+2])
				}
				// the packets a nat rule rewrote: the forwards read
				r.Dst = devmodel.Addr{Set: &netipx.IPSet{}, Text: "ct status dnat"}
				r.MatchForwarded = false
				i += 3
				continue
			}
			if i+2 >= len(f) || f[i+1] != "state" {
				return fmt.Errorf("ct %s is not read", f[min(i+1, len(f)-1)])
			}
			states, next, neg := ctStates(f, i+2)
			if slices.Contains(states, "new") == neg {
				return nil // never the first packet of a flow (replies of known flows, invalid packets)
			}
			i = next
		case "update", "meter":
			// a per-source rate limit: one new packet never goes over it
			lim := &devmodel.Limit{Loc: r.Loc, Ref: "chain " + c.name + " rate limit", In: r.In, PreNAT: c.beforeDNAT(), Services: x.services()}
			d.Limits = append(d.Limits, lim)
			return nil
		case "counter":
			i += counterLen(f, i)
		case "log":
			i = skipLog(f, i+1)
		case "limit":
			// limit rate [over] N/UNIT [burst N UNIT]: the first packet is
			// under every rate; over never matches it
			if i+2 < len(f) && f[i+1] == "rate" && f[i+2] == "over" {
				return nil
			}
			i = skipLimit(f, i+1)
		case "icmp", "icmpv6":
			p := map[string]uint8{"icmp": 1, "icmpv6": 58}[f[i]]
			if err := x.only([]uint8{p}); err != nil {
				return nil
			}
			if i+2 >= len(f) || f[i+1] != "type" && f[i+1] != "code" {
				return fmt.Errorf("%s %s is not read", f[i], f[min(i+1, len(f)-1)])
			}
			i = skipOperand(f, i+2)
		case "accept":
			r.Action, action = devmodel.Accept, true
			i++
		case "drop":
			r.Action, action = devmodel.Drop, true
			i++
		case "reject":
			r.Action, action = devmodel.Drop, true // the packet goes no further
			i++
			if i < len(f) && f[i] == "with" {
				i = skipOperand(f, i+3)
			}
		case "jump":
			if i+1 >= len(f) {
				return fmt.Errorf("jump without a chain")
			}
			t := chains[chainKey(c.table, f[i+1])]
			if t == nil || len(t.rules) == 0 || t.rules[len(t.rules)-1].text != "drop" {
				return fmt.Errorf("jump to %s, which does not end in drop", f[i+1])
			}
			r.Action, action = devmodel.Drop, true
			i += 2
		default:
			return fmt.Errorf("statement %q is not read", f[i])
		}
	}
	if !action {
		return nil // no verdict: the packet goes on to the next rule
	}
	r.Services = x.services()
	d.Rules = append(d.Rules, r)
	return nil
}

// both is what two address matches of one rule both take.
func both(a, b devmodel.Addr) devmodel.Addr {
	switch {
	case a.Any:
		return b
	case b.Any:
		return a
	}
	var s netipx.IPSetBuilder
	if a.Set != nil {
		s.AddSet(a.Set)
	}
	if b.Set != nil {
		s.Intersect(b.Set)
	} else {
		s.RemoveSet(a.Set)
	}
	set, _ := s.IPSet()
	return devmodel.Addr{Set: set, Text: a.Text + " and " + b.Text}
}

// ctStates reads the operand of ct state at f[i]: `new`,
// `established,related`, `{ established, related }`, `!= established`.
func ctStates(f []string, i int) (states []string, next int, neg bool) {
	if i < len(f) && f[i] == "!=" {
		neg, i = true, i+1
	}
	add := func(w string) {
		for _, s := range strings.Split(w, ",") {
			if s != "" {
				states = append(states, s)
			}
		}
	}
	if i < len(f) && f[i] == "{" {
		for i++; i < len(f) && f[i] != "}"; i++ {
			add(f[i])
		}
		return states, i + 1, neg
	}
	if i < len(f) {
		add(f[i])
	}
	return states, i + 1, neg
}

// skipOperand is the index after the operand at f[i]: a word or a set.
func skipOperand(f []string, i int) int {
	if i < len(f) && f[i] == "!=" {
		i++
	}
	if i < len(f) && f[i] == "{" {
		for i < len(f) && f[i] != "}" {
			i++
		}
	}
	return i + 1
}

// skipLog is the index after the log statement's options (nft(8), LOG
// STATEMENT) from f[i].
func skipLog(f []string, i int) int {
	for i < len(f) {
		switch f[i] {
		case "prefix", "level", "group", "snaplen", "queue-threshold":
			i += 2
		case "flags":
			i += 2
			for i < len(f) && strings.HasSuffix(f[i-1], ",") {
				i++
			}
		default:
			return i
		}
	}
	return i
}

// skipLimit is the index after `limit`'s operands from f[i] (rate N/UNIT
// [burst N packets|bytes], or rate N UNIT/UNIT).
func skipLimit(f []string, i int) int {
	if i < len(f) && f[i] == "rate" {
		i++
	}
	for i < len(f) {
		w := f[i]
		switch {
		case strings.Contains(w, "/"), w == "burst", w == "packets", w == "bytes", w == "kbytes", w == "mbytes":
			i++
		case w != "" && w[0] >= '0' && w[0] <= '9':
			i++
		default:
			return i
		}
	}
	return i
}

// protoNums names the layer 4 protocols of meta l4proto and ip protocol
// as nft writes them (or as a number).
var protoNums = map[string]uint8{"tcp": devmodel.TCP, "udp": devmodel.UDP, "icmp": 1, "ipv6-icmp": 58, "icmpv6": 58,
	"gre": 47, "esp": 50, "ah": 51, "sctp": 132, "dccp": 33, "udplite": 136}

// l4protos reads `udp` or `{ tcp, udp }` from f[i:] (the operand of meta
// l4proto, ip protocol, ip6 nexthdr) and returns them with the index after.
func l4protos(f []string, i int) ([]uint8, int, error) {
	one := func(s string) (uint8, error) {
		s = strings.Trim(s, ",")
		if n, ok := protoNums[s]; ok {
			return n, nil
		}
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil {
			return 0, fmt.Errorf("protocol %q", s)
		}
		return uint8(n), nil
	}
	if i >= len(f) || f[i] == "" {
		return nil, i, fmt.Errorf("no protocol")
	}
	if f[i] == "!=" {
		return nil, i, fmt.Errorf("a negated protocol match is not read")
	}
	if f[i] != "{" {
		p, err := one(f[i])
		return []uint8{p}, i + 1, err
	}
	var out []uint8
	for i++; i < len(f) && f[i] != "}"; i++ {
		if strings.Trim(f[i], ",") == "" {
			continue
		}
		p, err := one(f[i])
		if err != nil {
			return nil, i, err
		}
		out = append(out, p)
	}
	return out, i + 1, nil
}

// errNever: the rule's matches exclude each other (a jump's and its own):
// it never matches.
var errNever = fmt.Errorf("the rule's matches exclude each other")

// l4 is what a rule says of the transport: the protocols (meta l4proto,
// ip protocol, tcp/udp ...) and the ports (tcp/udp/th dport and sport).
type l4 struct {
	protos         []uint8 // nil: every protocol
	dports, sports devmodel.Ports
}

// read reads the statement at f[i] when it is one of the transport and
// returns the index after it; ok is false when it is not.
func (x *l4) read(f []string, i int) (next int, ok bool, err error) {
	switch {
	case f[i] == "meta" && i+1 < len(f) && f[i+1] == "l4proto",
		f[i] == "ip" && i+1 < len(f) && f[i+1] == "protocol",
		f[i] == "ip6" && i+1 < len(f) && f[i+1] == "nexthdr":
		ps, next, err := l4protos(f, i+2)
		if err != nil {
			return 0, true, fmt.Errorf("%s %s: %v", f[i], f[i+1], err)
		}
		if err := x.only(ps); err != nil {
			return 0, true, err
		}
		return next, true, nil
	case f[i] == "tcp" || f[i] == "udp" || f[i] == "th":
		if f[i] != "th" {
			if err := x.only([]uint8{protoNums[f[i]]}); err != nil {
				return 0, true, err
			}
		} else if len(x.protos) == 0 || slices.ContainsFunc(x.protos, func(p uint8) bool { return p != devmodel.TCP && p != devmodel.UDP }) {
			// nft(8), RAW PAYLOAD EXPRESSION: th creates no dependency;
			// alone it matches the bytes of any protocol's header
			return 0, true, fmt.Errorf("th %s without meta l4proto tcp or udp before it: which protocols it matches is not read", f[min(i+1, len(f)-1)])
		}
		if i+1 >= len(f) || f[i+1] != "dport" && f[i+1] != "sport" {
			return 0, true, fmt.Errorf("%s %s is not read", f[i], f[min(i+1, len(f)-1)])
		}
		if i+2 < len(f) && f[i+2] == "map" || i+2 < len(f) && f[i+2] == "." {
			return i, false, nil // a map key: the nat statement reads it
		}
		p, next, err := ports(f, i+2)
		if err != nil {
			return 0, true, err
		}
		dst := &x.dports
		if f[i+1] == "sport" {
			dst = &x.sports
		}
		if *dst != nil { // a second match (a jump's and the rule's): both hold
			if p = dst.Intersect(p); len(p) == 0 {
				return 0, true, errNever
			}
		}
		*dst = p
		return next, true, nil
	}
	return i, false, nil
}

// only narrows the protocols to ps (a contradiction matches nothing, which
// no hand-written rule means: refused).
func (x *l4) only(ps []uint8) error {
	if x.protos == nil {
		x.protos = ps
		return nil
	}
	var keep []uint8
	for _, p := range ps {
		if slices.Contains(x.protos, p) {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return errNever
	}
	x.protos = keep
	return nil
}

// services are the services the transport matches (nil: every one).
func (x *l4) services() []devmodel.Service {
	if x.protos == nil {
		if x.dports != nil || x.sports != nil {
			return nil // not reached: ports set a protocol
		}
		return nil
	}
	out := make([]devmodel.Service, 0, len(x.protos))
	for _, p := range x.protos {
		out = append(out, devmodel.Service{Proto: p, SrcPorts: x.sports, DstPorts: x.dports})
	}
	return out
}

// lowerDNAT reads a rule of a nat prerouting chain: matches of the
// interface, the source set and the transport, then the nat statement
// (`dnat` as lowerDNATTarget reads it, through a map as lowerDNATMap
// reads it, or `redirect`), into one forward per protocol or map element.
func lowerDNAT(d *devmodel.Device, text string, l nftLine, sets map[string]*netipx.IPSet, maps map[string]*nftMap, file string) error {
	text, anon := anonMaps(text)
	f := append(strings.Fields(text), "", "", "") // every statement reads at most three words ahead
	fw := &devmodel.Forward{Loc: devmodel.Loc{File: file, Line: l.line}, Ref: "dnat rule", Name: strconv.Itoa(l.line), Src: devmodel.AnyAddr(),
		Ext: devmodel.Addr{Self: true, Set: &netipx.IPSet{}}}
	family := 0 // meta nfproto: must agree with the dnat's family
	var x l4
	var elems []*devmodel.Forward // a map's forwards, in place of fw
	nat := false
	for i := 0; i < len(f); {
		if next, ok, err := x.read(f, i); err != nil {
			return err
		} else if ok {
			i = next
			continue
		}
		switch f[i] {
		case "meta":
			if f[i+1] != "nfproto" || (f[i+2] != "ipv4" && f[i+2] != "ipv6") {
				return fmt.Errorf("meta %s in a dnat rule is not read", f[i+1])
			}
			family = map[string]int{"ipv4": 4, "ipv6": 6}[f[i+2]]
			i += 3
		case "iifname":
			fw.In = append(fw.In, strings.Trim(f[i+1], `"`))
			i += 2
		case "ip", "ip6":
			if f[i+1] != "saddr" && f[i+1] != "daddr" {
				return fmt.Errorf("dnat matches %s %s", f[i+1], f[i+2])
			}
			a, next, err := addrOperand(f, i+2, sets)
			if err != nil {
				return fmt.Errorf("%s %s: %v", f[i], f[i+1], err)
			}
			if f[i+1] == "saddr" {
				fw.Src = a
			} else {
				fw.Ext = a // the packets sent to these addresses, not the device's own only
			}
			i = next
		case "counter":
			i += counterLen(f, i)
		case "dnat", "redirect":
			if nat {
				return fmt.Errorf("a second nat statement")
			}
			nat = true
			if x.sports != nil {
				return fmt.Errorf("a source port match in a dnat rule is not read")
			}
			fw.Ports = x.dports
			var next int
			var err error
			switch {
			case f[i] == "redirect":
				fw.Ref, fw.ToSelf = "redirect rule", true
				next, err = lowerRedirect(fw, f, i)
			case isMapTarget(f, i):
				elems, next, err = lowerDNATMap(fw, f, i, &x, anon, maps)
			default:
				next, err = lowerDNATTarget(fw, f, i)
			}
			if err != nil {
				return err
			}
			i = next
		case "":
			i++
		default:
			return fmt.Errorf("statement %q in a dnat rule", f[i])
		}
	}
	if !nat {
		return fmt.Errorf("a rule of a nat chain without dnat or redirect")
	}
	if elems == nil {
		elems = []*devmodel.Forward{fw}
	}
	for _, e := range elems {
		if err := checkForward(e, family); err != nil {
			return err
		}
		if e.ToPort != 0 && e.Proto == 0 && x.protos == nil {
			return fmt.Errorf("dnat to a port without a tcp or udp match")
		}
	}
	for _, e := range elems {
		d.Forwards = append(d.Forwards, splitProtos(e, x)...)
	}
	return nil
}

// checkForward: what a forward read must hold.
func checkForward(fw *devmodel.Forward, family int) error {
	if !fw.To.IsValid() && !fw.ToSelf {
		return fmt.Errorf("dnat rule without an address")
	}
	if family != 0 && fw.To.IsValid() && (family == 6) != fw.To.Is6() {
		return fmt.Errorf("meta nfproto ipv%d with a dnat to %s", family, fw.To)
	}
	return nil
}

// splitProtos gives fw the protocols and ports of the rule's matches: one
// forward of one protocol, of tcp and udp with ports (Proto 0 with ports
// takes both, as a pfSense tcp/udp forward), or one forward per protocol.
func splitProtos(fw *devmodel.Forward, x l4) []*devmodel.Forward {
	if fw.Proto != 0 || x.protos == nil {
		return []*devmodel.Forward{fw}
	}
	if len(x.protos) == 1 {
		fw.Proto = x.protos[0]
		return []*devmodel.Forward{fw}
	}
	if fw.Ports != nil && len(x.protos) == 2 && slices.Contains(x.protos, devmodel.TCP) && slices.Contains(x.protos, devmodel.UDP) {
		return []*devmodel.Forward{fw} // tcp and udp: Proto 0 with ports
	}
	var out []*devmodel.Forward
	for _, p := range x.protos {
		c := *fw
		c.Proto = p
		c.Name = fw.Name + "/" + devmodel.ProtoName(p)
		out = append(out, &c)
	}
	return out
}

// portSpec reads PORT_SPEC (nft(8), NAT STATEMENTS: port | port - port)
// into fw: a port sends every port the rule takes to it (ToFixed); a range
// picks a port of it for each connection (ToLast; see lowerDNATTarget).
func portSpec(fw *devmodel.Forward, spec, what string) error {
	lo, hi, isRange := strings.Cut(spec, "-")
	p1, err1 := strconv.ParseUint(lo, 10, 16)
	p2, err2 := p1, error(nil)
	if isRange {
		p2, err2 = strconv.ParseUint(hi, 10, 16)
	}
	if strings.Contains(spec, "/") {
		// iptables' DNAT --to-destination A:P1-P2/BASE shifts the range
		// (NF_NAT_RANGE_PROTO_OFFSET); nft has no such syntax (nft(8):
		// PORT_SPEC := port | port - port; nft -f refuses the slash)
		return fmt.Errorf("%s: a base port (/BASE) is iptables syntax, not nftables: not read", what)
	}
	if err1 != nil || err2 != nil || p1 == 0 || p2 < p1 {
		return fmt.Errorf("%s: ports", what)
	}
	fw.ToPort = uint16(p1)
	if p2 > p1 {
		fw.ToLast = uint16(p2) // a port of P1-P2 for each connection
	} else {
		fw.ToFixed = true // every port it takes goes to P
	}
	return nil
}

// natFlags reads the flags after a nat statement's target from f[k] and
// returns the index after them.
func natFlags(f []string, k int) (int, error) {
	for ; k < len(f) && f[k] != ""; k++ {
		for _, flag := range strings.Split(f[k], ",") {
			if flag != "random" && flag != "fully-random" && flag != "persistent" {
				return 0, fmt.Errorf("statement %q in a dnat rule", f[k])
			}
		}
	}
	return k, nil
}

// lowerRedirect reads `redirect [to [:]PORT_SPEC] [FLAGS]` at f[i] (nft(8),
// NAT STATEMENTS: "a special form of dnat which always translates the
// destination address to the local host's one"; `to 26` without the colon
// is what OpenWrt's fw4 writes, listed back as `to :26`): the forward
// sends the packet to the device itself (Linux nf_nat_redirect.c: the
// first address of the interface it arrived on), to PORT_SPEC as dnat
// does, else to the port it was sent to. TestNATFormsKernel checks it.
func lowerRedirect(fw *devmodel.Forward, f []string, i int) (int, error) {
	k := i + 1
	if f[k] == "to" {
		if isMapTarget(f, i) {
			return 0, fmt.Errorf("redirect to a port map is not read")
		}
		spec := strings.TrimPrefix(f[k+1], ":")
		if spec == "" {
			return 0, fmt.Errorf("redirect to without a port")
		}
		if err := portSpec(fw, spec, "redirect to "+f[k+1]); err != nil {
			return 0, err
		}
		k += 2
	}
	return natFlags(f, k)
}

// isMapTarget: the nat statement at f[i] takes its target from a map.
func isMapTarget(f []string, i int) bool {
	for k := i + 1; k < len(f) && f[k] != ""; k++ {
		if f[k] == "map" {
			return true
		}
	}
	return false
}

// nftMap is a named map of a table: its elements as written.
type nftMap struct {
	name, elements string
	line           int
}

var anonMap = regexp.MustCompile(`(^|\s)map\s*\{([^{}]*)\}`)

// anonMaps replaces each anonymous map `map { ... }` of a rule by a
// reference `map @{N}` and returns the elements of each by reference.
func anonMaps(text string) (string, map[string]string) {
	out := map[string]string{}
	n := 0
	text = anonMap.ReplaceAllStringFunc(text, func(m string) string {
		sub := anonMap.FindStringSubmatch(m)
		ref := "{" + strconv.Itoa(n) + "}"
		n++
		out[ref] = sub[2]
		return sub[1] + "map @" + ref
	})
	return text, out
}

// lowerDNATMap reads `dnat [ip|ip6] [addr . port] to KEY map { ELEMENTS }`
// or `... map @NAME` at f[i] (nft(8), MAP STATEMENT and NAT STATEMENTS:
// the target is looked up by the packet's KEY; the nftables wiki, "Multiple
// NATs using nftables maps", and nftables' own tests, tests/py/ip/dnat.t)
// into one forward per element: the element's key narrows the rule's
// matches (a destination port, a destination address (the external
// address), a source address, an input interface, a protocol, or a
// concatenation of them: `ip daddr . tcp dport`), and its value is the
// target, ADDR or ADDR . PORT_SPEC, read as dnat to ADDR[:PORT_SPEC] is.
// A packet whose key is in no element is not translated (the lookup
// fails and the rule ends). Keys of load balancing (numgen, jhash,
// symhash) or marks, an address range as the value, and a port map after
// the address map (`... map {...} : tcp dport map {...}`) are refused.
func lowerDNATMap(fw *devmodel.Forward, f []string, i int, x *l4, anon map[string]string, maps map[string]*nftMap) ([]*devmodel.Forward, int, error) {
	j := i + 1
	fam := 0
	switch f[j] {
	case "ip":
		fam, j = 4, j+1
	case "ip6":
		fam, j = 6, j+1
	}
	if f[j] == "addr" && f[j+1] == "." && f[j+2] == "port" {
		j += 3 // the older spelling of an ADDR . PORT value (nftables wiki)
	}
	if f[j] != "to" {
		return nil, 0, fmt.Errorf("dnat %s through a map is not read", f[j])
	}
	k := j + 1
	var key [][]string
	cur := []string{}
	for ; k < len(f) && f[k] != "map" && f[k] != ""; k++ {
		if f[k] == "." {
			key = append(key, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, f[k])
	}
	key = append(key, cur)
	if k >= len(f) || f[k] != "map" {
		return nil, 0, fmt.Errorf("dnat map")
	}
	ref, rest, two := strings.Cut(f[k+1], ":")
	if two || strings.HasPrefix(f[k+2], ":") {
		_ = rest
		return nil, 0, fmt.Errorf("dnat to an address map and a port map (ADDR_MAP : PORT_MAP) is not read")
	}
	var body string
	name := strings.TrimPrefix(ref, "@")
	if b, ok := anon[name]; ok {
		body = b
	} else if m := maps[name]; m != nil && strings.HasPrefix(ref, "@") {
		body = m.elements
	} else {
		return nil, 0, fmt.Errorf("dnat map %s: no such map", ref)
	}
	sel := make([]string, len(key))
	for n, c := range key {
		s := strings.Join(c, " ")
		switch s {
		case "tcp dport", "udp dport":
			if err := x.only([]uint8{protoNums[c[0]]}); err != nil {
				return nil, 0, err
			}
		case "th dport":
			if len(x.protos) == 0 || slices.ContainsFunc(x.protos, func(p uint8) bool { return p != devmodel.TCP && p != devmodel.UDP }) {
				return nil, 0, fmt.Errorf("a map keyed on th dport without meta l4proto tcp or udp before it is not read")
			}
		case "ip saddr", "ip6 saddr", "ip daddr", "ip6 daddr", "iifname", "meta iifname", "meta l4proto", "ip protocol":
		default:
			return nil, 0, fmt.Errorf("dnat through a map keyed on %q is not read (only addresses, ports, the input interface and the protocol)", s)
		}
		sel[n] = s
	}
	next, err := natFlags(f, k+2)
	if err != nil {
		return nil, 0, err
	}
	fw.Ports = x.dports
	var out []*devmodel.Forward
	for n, e := range splitElements(body) {
		k, v, err := splitElement(e)
		if err != nil {
			return nil, 0, err
		}
		comps := strings.Split(k, " . ")
		if len(comps) != len(sel) {
			return nil, 0, fmt.Errorf("map element %q: %d keys, the rule looks up %d", e, len(comps), len(sel))
		}
		c := *fw
		c.Name = fmt.Sprintf("%s#%d", fw.Name, n)
		c.Ref = fmt.Sprintf("%s (map element %s)", fw.Ref, k)
		keep := true
		for m, s := range sel {
			comp := strings.TrimSpace(comps[m])
			if keep, err = narrow(&c, s, comp, x); err != nil {
				return nil, 0, fmt.Errorf("map element %q: %v", e, err)
			}
			if !keep {
				break
			}
		}
		if !keep {
			continue // the rule's matches never reach this element
		}
		vals := append(strings.Fields(v), "")
		a, err := netip.ParseAddr(vals[0])
		if err != nil {
			return nil, 0, fmt.Errorf("map element %q: only one address is read as the target", e)
		}
		if fam == 4 && !a.Is4() || fam == 6 && !a.Is6() {
			return nil, 0, fmt.Errorf("map element %q: not an ipv%d address", e, fam)
		}
		c.To = a
		if len(vals) > 3 && vals[1] == "." {
			if err := portSpec(&c, vals[2], "map element "+e); err != nil {
				return nil, 0, err
			}
			vals = vals[3:]
		} else {
			vals = vals[1:]
		}
		if vals[0] != "" && !slices.Contains([]string{"counter", "comment", "timeout", "expires"}, vals[0]) {
			return nil, 0, fmt.Errorf("map element %q: %q after the target", e, vals[0])
		}
		out = append(out, &c)
	}
	return out, next, nil
}

// splitElements splits a set or map's elements at the commas.
func splitElements(body string) []string {
	var out []string
	for _, e := range strings.Split(body, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, regexp.MustCompile(`\s+-\s+`).ReplaceAllString(e, "-"))
		}
	}
	return out
}

// splitElement splits `KEY : VALUE` (nft lists the colon between spaces;
// `5060:10.0.0.5` is taken when the key holds no colon).
func splitElement(e string) (string, string, error) {
	if k, v, ok := strings.Cut(e, " : "); ok {
		return strings.TrimSpace(k), strings.TrimSpace(v), nil
	}
	if k, v, ok := strings.Cut(e, ":"); ok && !strings.Contains(v, ":") {
		return strings.TrimSpace(k), strings.TrimSpace(v), nil
	}
	return "", "", fmt.Errorf("map element %q: no KEY : VALUE", e)
}

// narrow narrows the forward c by one key of a map element: the packets
// whose selector s holds comp. keep is false when no packet the rule
// takes does.
func narrow(c *devmodel.Forward, s, comp string, x *l4) (keep bool, err error) {
	switch s {
	case "tcp dport", "udp dport", "th dport":
		var r devmodel.PortRange
		ps, _, err := ports([]string{comp}, 0)
		if err != nil || len(ps) != 1 {
			return false, fmt.Errorf("port %q", comp)
		}
		r = ps[0]
		if c.Ports == nil {
			c.Ports = devmodel.Ports{r}
			return true, nil
		}
		var in devmodel.Ports
		for _, p := range c.Ports {
			if lo, hi := max(p.Lo, r.Lo), min(p.Hi, r.Hi); lo <= hi {
				in = append(in, devmodel.PortRange{Lo: lo, Hi: hi})
			}
		}
		c.Ports = in
		return len(in) > 0, nil
	case "ip saddr", "ip6 saddr", "ip daddr", "ip6 daddr":
		var b netipx.IPSetBuilder
		if !addElem(&b, comp) {
			return false, fmt.Errorf("address %q", comp)
		}
		set, _ := b.IPSet()
		if s == "ip daddr" || s == "ip6 daddr" {
			if !c.Ext.Self && c.Ext.Set != nil { // the rule's own ip daddr match
				b.Intersect(c.Ext.Set)
				set, _ = b.IPSet()
			}
			c.Ext = devmodel.Addr{Set: set, Text: comp}
			return len(set.Ranges()) > 0, nil
		}
		if !c.Src.Any {
			b.Intersect(c.Src.Set)
			set, _ = b.IPSet()
		}
		c.Src = devmodel.Addr{Set: set, Text: comp}
		return len(set.Ranges()) > 0, nil
	case "iifname", "meta iifname":
		name := strings.Trim(comp, `"`)
		if len(c.In) > 0 && !slices.Contains(c.In, name) {
			return false, nil
		}
		c.In = []string{name}
		return true, nil
	case "meta l4proto", "ip protocol":
		ps, _, err := l4protos([]string{comp}, 0)
		if err != nil {
			return false, err
		}
		if x.protos != nil && !slices.Contains(x.protos, ps[0]) {
			return false, nil
		}
		c.Proto = ps[0]
		return true, nil
	}
	return false, fmt.Errorf("key %s", s)
}

// lowerDNATTarget reads the statement `dnat [ip|ip6] to ADDR[:PORT_SPEC]
// [FLAGS]` at f[i] into fw and returns the index after it (nft(8), NAT
// STATEMENTS: PORT_SPEC := port | port - port; FLAG := persistent |
// random | fully-random, comma-separated).
//
//   - to A: the port is kept.
//   - to A:P, [A6]:P: every port the rule takes goes to P (ToFixed).
//   - to A:P1-P2: the kernel picks a port of P1-P2 for each new
//     connection; it neither keeps nor shifts the packet's port
//     (ToPort, ToLast). Linux net/netfilter/nf_nat_core.c,
//     get_unique_tuple(): a packet whose port is already in the range and
//     whose tuple is free keeps it ("Only bother mapping if it's not
//     already in range and unique"); otherwise
//     nf_nat_l4proto_unique_tuple() walks the range from an offset, 0
//     since "netfilter: nat: restore default DNAT behavior" (2024), a
//     random one before it and with the random flags, skipping every port
//     whose tuple is in use. So a sender who opens connections from one
//     source port to several outside ports the rule takes reaches one
//     inside port after another (TestDNATRangeKernel shows it on the
//     running kernel): each packet may go to any port of the range, and
//     audit judges the forward as reaching every one. The flags change
//     which port is picked, never the range, and persistent concerns
//     address ranges (which this reader refuses).
func lowerDNATTarget(fw *devmodel.Forward, f []string, i int) (int, error) {
	j := i + 1
	if f[j] == "ip" || f[j] == "ip6" {
		j++
	}
	if f[j] != "to" || f[j+1] == "" {
		return 0, fmt.Errorf("dnat %s is not read", f[j])
	}
	to, ports, hasPort := f[j+1], "", false
	switch {
	case strings.HasPrefix(to, "["):
		end := strings.Index(to, "]")
		if end < 0 {
			return 0, fmt.Errorf("dnat to %s", to)
		}
		to, ports = to[1:end], to[end+1:]
		if ports != "" && !strings.HasPrefix(ports, ":") {
			return 0, fmt.Errorf("dnat to %s", f[j+1])
		}
		ports, hasPort = strings.CutPrefix(ports, ":")
	case strings.Count(to, ":") == 1:
		to, ports, hasPort = strings.Cut(to, ":")
	}
	a, err := netip.ParseAddr(to)
	if err != nil {
		return 0, fmt.Errorf("dnat to %s: only one address is read", f[j+1])
	}
	fw.To = a
	if hasPort {
		if err := portSpec(fw, ports, "dnat to "+f[j+1]); err != nil {
			return 0, err
		}
	}
	return natFlags(f, j+2)
}

// counterLen is the words of the counter statement at f[i]: `counter`,
// or `counter packets N bytes N` as nft lists it.
func counterLen(f []string, i int) int {
	if i+4 < len(f) && f[i+1] == "packets" && f[i+3] == "bytes" {
		return 5
	}
	return 1
}

// readMap reads the map declared at lines[i] (`map NAME {` up to its
// closing brace, as nft lists it or on one line) and returns the index of
// its last line. Only the elements are kept: the rule that looks the map
// up says what its keys are.
func readMap(lines []string, i int) (*nftMap, int, error) {
	head := strings.TrimSpace(lines[i])
	name := strings.TrimSpace(strings.TrimPrefix(head[:strings.Index(head, "{")], "map "))
	var b strings.Builder
	depth, end := 0, i
	for ; end < len(lines); end++ {
		l := strings.TrimSpace(lines[end])
		if c, _, ok := strings.Cut(l, "#"); ok && !strings.Contains(l, `"`) {
			l = c
		}
		b.WriteString(l + " ")
		depth += strings.Count(l, "{") - strings.Count(l, "}")
		if depth <= 0 {
			break
		}
	}
	if depth > 0 {
		return nil, 0, fmt.Errorf("map %s: no closing brace", name)
	}
	body := b.String()
	open, end0 := strings.Index(body, "{"), strings.LastIndex(body, "}")
	if open < 0 || end0 < open {
		return nil, 0, fmt.Errorf("map %s: braces", name)
	}
	body = body[open+1 : end0]
	m := &nftMap{name: name, line: i + 1}
	if _, rest, ok := strings.Cut(body, "elements"); ok {
		rest = strings.TrimLeft(strings.TrimSpace(rest), "= ")
		if !strings.HasPrefix(rest, "{") || !strings.Contains(rest, "}") {
			return nil, 0, fmt.Errorf("map %s: elements", name)
		}
		m.elements = rest[1:strings.Index(rest, "}")]
	}
	return m, end, nil
}

// addrOperand reads the addresses a match compares with at f[i]: a named
// set (@NAME), an anonymous set ({ A, P/N, A-B }) or one address, prefix
// or range, and returns them with the index after.
func addrOperand(f []string, i int, sets map[string]*netipx.IPSet) (devmodel.Addr, int, error) {
	if i >= len(f) || f[i] == "" {
		return devmodel.Addr{}, i, fmt.Errorf("no address")
	}
	if f[i] == "!=" {
		return devmodel.Addr{}, i, fmt.Errorf("a negated address match is not read")
	}
	if name, ok := strings.CutPrefix(f[i], "@"); ok {
		set, ok := sets[name]
		if !ok {
			return devmodel.Addr{}, i, fmt.Errorf("no set %s", f[i])
		}
		return devmodel.Addr{Set: set, Text: f[i]}, i + 1, nil
	}
	var b netipx.IPSetBuilder
	var text []string
	add := func(e string) error {
		for _, e := range strings.Split(e, ",") {
			if e == "" {
				continue
			}
			if !addElem(&b, e) {
				return fmt.Errorf("address %q", e)
			}
			text = append(text, e)
		}
		return nil
	}
	next := i + 1
	if f[i] == "{" {
		for next = i + 1; next < len(f) && f[next] != "}"; next++ {
			if err := add(f[next]); err != nil {
				return devmodel.Addr{}, i, err
			}
		}
		if next >= len(f) {
			return devmodel.Addr{}, i, fmt.Errorf("no closing brace")
		}
		next++
	} else if err := add(f[i]); err != nil {
		return devmodel.Addr{}, i, err
	}
	set, _ := b.IPSet()
	return devmodel.Addr{Set: set, Text: strings.Join(text, ", ")}, next, nil
}
