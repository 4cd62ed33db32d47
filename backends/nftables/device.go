package nftables

// The device reader of voicewall's own nftables text (nftables.nft): the
// sets, the chains by hook, and the rule forms the renderer writes, lowered
// into the devmodel so the translation-validation test can prove that the
// rendered text, not only the IR, means what lang's evaluator says. It
// refuses any statement it does not know: it reads voicewall's output, not
// arbitrary rulesets, and of hand-written ones the forms of dnat and
// counter they commonly take (lowerDNATTarget).

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/voicewall/voicewall/devmodel"
	"go4.org/netipx"
)

// MaxConfigBytes bounds the text read.
const MaxConfigBytes = 64 << 20

type nftChain struct {
	name, hook, prio string
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

type nftLine struct {
	text string
	line int
}

// ReadDevice reads voicewall's nftables text into the device model.
func ReadDevice(file string, src []byte) (*devmodel.Device, error) {
	if len(src) > MaxConfigBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", file, MaxConfigBytes)
	}
	sets := map[string]*netipx.IPSet{}
	chains := map[string]*nftChain{}
	var order []*nftChain
	lines := strings.Split(string(src), "\n")
	var cur *nftChain
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "table ") || strings.HasPrefix(l, "delete table ") || l == "}":
			if l == "}" {
				cur = nil
			}
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
		case strings.HasPrefix(l, "chain ") && strings.HasSuffix(l, "{"):
			cur = &nftChain{name: strings.TrimSuffix(strings.TrimPrefix(l, "chain "), " {")}
			chains[cur.name] = cur
			order = append(order, cur)
		case cur != nil && strings.HasPrefix(l, "type "):
			f := strings.Fields(strings.NewReplacer(";", " ").Replace(l))
			for j := 0; j+1 < len(f); j++ {
				switch f[j] {
				case "hook":
					cur.hook = f[j+1]
				case "type":
					cur.prio = f[j+1]
				case "priority":
					for k := j + 1; k < len(f) && k <= j+3 && f[k] != "policy"; k++ {
						cur.priority = append(cur.priority, f[k])
					}
				}
			}
		case cur != nil:
			cur.rules = append(cur.rules, nftLine{l, i + 1})
		default:
			return nil, fmt.Errorf("%s:%d: unexpected %q", file, i+1, l)
		}
	}
	d := &devmodel.Device{File: file, Target: "nftables", DefaultForward: devmodel.Accept, DefaultLocal: devmodel.Accept}
	for _, c := range order {
		if c.hook == "" {
			continue // a drop_* chain, reached by jump
		}
		for _, l := range c.rules {
			if err := lowerRule(d, c, l, sets, chains, file); err != nil {
				return nil, fmt.Errorf("%s:%d: %v: %q", file, l.line, err, l.text)
			}
		}
	}
	return d, nil
}

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
		lo, hi, _ := strings.Cut(strings.Trim(s, ","), "-")
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

func lowerRule(d *devmodel.Device, c *nftChain, l nftLine, sets map[string]*netipx.IPSet, chains map[string]*nftChain, file string) error {
	text, _, _ := strings.Cut(l.text, ` comment "`)
	f := strings.Fields(text)
	r := &devmodel.Rule{Loc: devmodel.Loc{File: file, Line: l.line}, Ref: "chain " + c.name + " rule", Quick: true, MatchForwarded: true,
		Src: devmodel.AnyAddr(), Dst: devmodel.AnyAddr()}
	switch {
	case c.hook == "prerouting" && c.prio == "filter":
		r.PreNAT, r.Hook = true, devmodel.HookBoth
	case c.hook == "prerouting" && c.prio == "nat":
		return lowerDNAT(d, f, l, sets, file)
	case c.hook == "forward":
		r.Hook = devmodel.HookForward
	default:
		return fmt.Errorf("chain %s: hook %s is not one voicewall writes", c.name, c.hook)
	}
	var svc devmodel.Service
	action := false
	for i := 0; i < len(f); {
		switch f[i] {
		case "iifname", "oifname":
			neg := i+1 < len(f) && f[i+1] == "!="
			j := i + 1
			if neg {
				j++
			}
			if j >= len(f) {
				return fmt.Errorf("%s without a name", f[i])
			}
			name := strings.Trim(f[j], `"`)
			switch {
			case f[i] == "iifname" && neg:
				r.NotIn = append(r.NotIn, name)
			case f[i] == "iifname":
				r.In = append(r.In, name)
			default:
				if neg {
					return fmt.Errorf("oifname != is not written by voicewall")
				}
				r.Out = append(r.Out, name)
			}
			i = j + 1
		case "ip", "ip6":
			if i+2 >= len(f) {
				return fmt.Errorf("short %s match", f[i])
			}
			if f[i+1] == "dscp" && f[i+2] == "set" {
				r.Action, action = devmodel.Tag, true
				i += 4
				continue
			}
			set, ok := sets[strings.TrimPrefix(f[i+2], "@")]
			if !strings.HasPrefix(f[i+2], "@") || !ok {
				return fmt.Errorf("%s %s: only named sets are read", f[i], f[i+1])
			}
			a := devmodel.Addr{Set: set, Text: f[i+2]}
			switch f[i+1] {
			case "saddr":
				r.Src = a
			case "daddr":
				r.Dst = a
			default:
				return fmt.Errorf("%s %s", f[i], f[i+1])
			}
			if f[i] == "ip" {
				r.Family = 4
			} else {
				r.Family = 6
			}
			i += 3
		case "meta":
			if i+2 < len(f) && f[i+1] == "nfproto" {
				r.Family = map[string]int{"ipv4": 4, "ipv6": 6}[f[i+2]]
				i += 3
				continue
			}
			return fmt.Errorf("meta statement not written by voicewall")
		case "tcp", "udp":
			svc.Proto = map[string]uint8{"tcp": devmodel.TCP, "udp": devmodel.UDP}[f[i]]
			if i+1 >= len(f) {
				return fmt.Errorf("%s without ports", f[i])
			}
			p, next, err := ports(f, i+2)
			if err != nil {
				return err
			}
			if f[i+1] == "dport" {
				svc.DstPorts = p
			} else {
				svc.SrcPorts = p
			}
			i = next
		case "ct":
			if i+2 >= len(f) || f[i+1] != "state" {
				return fmt.Errorf("ct")
			}
			if f[i+2] != "new" {
				return nil // replies of known flows: never the first packet of a flow
			}
			i += 3
		case "update":
			// a per-source rate limit: one new packet never goes over it
			lim := &devmodel.Limit{Loc: r.Loc, Ref: "chain " + c.name + " rate limit", In: r.In, PreNAT: c.beforeDNAT()}
			if svc.Proto != 0 {
				lim.Services = []devmodel.Service{svc}
			}
			d.Limits = append(d.Limits, lim)
			return nil
		case "counter":
			i += counterLen(f, i)
		case "accept":
			r.Action, action = devmodel.Accept, true
			i++
		case "drop":
			r.Action, action = devmodel.Drop, true
			i++
		case "jump":
			if i+1 >= len(f) {
				return fmt.Errorf("jump without a chain")
			}
			t := chains[f[i+1]]
			if t == nil || len(t.rules) == 0 || t.rules[len(t.rules)-1].text != "drop" {
				return fmt.Errorf("jump to %s, which does not end in drop", f[i+1])
			}
			r.Action, action = devmodel.Drop, true
			i += 2
		default:
			return fmt.Errorf("statement %q is not one voicewall writes", f[i])
		}
	}
	if !action {
		return fmt.Errorf("rule without a verdict")
	}
	if svc.Proto != 0 {
		r.Services = []devmodel.Service{svc}
	}
	d.Rules = append(d.Rules, r)
	return nil
}

// lowerDNAT reads `iifname X ip saddr @S udp dport P counter ... dnat ip to A`
// (the target as lowerDNATTarget reads it).
func lowerDNAT(d *devmodel.Device, f []string, l nftLine, sets map[string]*netipx.IPSet, file string) error {
	f = append(f, "", "", "") // every statement reads at most three words ahead
	fw := &devmodel.Forward{Loc: devmodel.Loc{File: file, Line: l.line}, Ref: "dnat rule", Name: strconv.Itoa(l.line), Src: devmodel.AnyAddr(),
		Ext: devmodel.Addr{Self: true, Set: &netipx.IPSet{}}}
	family := 0 // meta nfproto: must agree with the dnat's family
	for i := 0; i < len(f); {
		switch f[i] {
		case "meta":
			if i+2 >= len(f) || f[i+1] != "nfproto" || (f[i+2] != "ipv4" && f[i+2] != "ipv6") {
				return fmt.Errorf("meta statement not written by voicewall")
			}
			family = map[string]int{"ipv4": 4, "ipv6": 6}[f[i+2]]
			i += 3
		case "iifname":
			fw.In = append(fw.In, strings.Trim(f[i+1], `"`))
			i += 2
		case "ip", "ip6":
			set, ok := sets[strings.TrimPrefix(f[i+2], "@")]
			if f[i+1] != "saddr" || !ok {
				return fmt.Errorf("dnat matches %s %s", f[i+1], f[i+2])
			}
			fw.Src = devmodel.Addr{Set: set, Text: f[i+2]}
			i += 3
		case "tcp", "udp":
			fw.Proto = map[string]uint8{"tcp": devmodel.TCP, "udp": devmodel.UDP}[f[i]]
			p, next, err := ports(f, i+2)
			if err != nil {
				return err
			}
			fw.Ports = p
			i = next
		case "counter":
			i += counterLen(f, i)
		case "dnat":
			next, err := lowerDNATTarget(fw, f, i)
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
	if !fw.To.IsValid() {
		return fmt.Errorf("dnat rule without an address")
	}
	if fw.ToPort != 0 && fw.Proto == 0 {
		return fmt.Errorf("dnat to a port without a tcp or udp match")
	}
	if family != 0 && (family == 6) != fw.To.Is6() {
		return fmt.Errorf("meta nfproto ipv%d with a dnat to %s", family, fw.To)
	}
	d.Forwards = append(d.Forwards, fw)
	return nil
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
		return 0, fmt.Errorf("dnat")
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
		lo, hi, isRange := strings.Cut(ports, "-")
		p1, err1 := strconv.ParseUint(lo, 10, 16)
		p2, err2 := p1, error(nil)
		if isRange {
			p2, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil || p1 == 0 || p2 < p1 {
			return 0, fmt.Errorf("dnat to %s: ports", f[j+1])
		}
		fw.ToPort = uint16(p1)
		if p2 > p1 {
			fw.ToLast = uint16(p2) // a port of P1-P2 for each connection
		} else {
			fw.ToFixed = true // dnat to A:P sends every port it takes to P
		}
	}
	k := j + 2
	for ; k < len(f) && f[k] != ""; k++ {
		for _, flag := range strings.Split(f[k], ",") {
			if flag != "random" && flag != "fully-random" && flag != "persistent" {
				return 0, fmt.Errorf("statement %q in a dnat rule", f[k])
			}
		}
	}
	return k, nil
}

// counterLen is the words of the counter statement at f[i]: `counter`,
// or `counter packets N bytes N` as nft lists it.
func counterLen(f []string, i int) int {
	if i+4 < len(f) && f[i+1] == "packets" && f[i+3] == "bytes" {
		return 5
	}
	return 1
}
