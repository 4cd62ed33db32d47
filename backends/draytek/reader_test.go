package draytek

// A strict reader of the Vigor CLI dialect this backend emits. It is written
// from the Vigor3912 UG Part VIII syntax (not from the emitter) and rejects
// anything it does not know: unknown families/subcommands/options, bad index
// ranges, over-long names, repeated definitions, stray lines.

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go4.org/netipx"
)

// liveInventory is the part of the fw 4.4.7_RC2 command inventory
// (jooservices/vigor3912s-sdk references/live-inventory-fw-4.4.7_RC2.json,
// "families" and "subcommands") covering what voicewall may emit. `object`
// subcommands come from the live `object ?` help in
// references/live-help-fw-4.4.7_RC2.txt ("ip", "ipv6", "service", ...).
var liveInventory = map[string][]string{
	"sys":     {"sip_alg", "commit", "alg", "reboot"},
	"ipf":     {"view", "set", "rule", "default", "flowtrack", "flowtest", "hash_analysis"},
	"srv":     {"dhcp", "nat"},
	"vlan":    {"group", "off", "on", "pri", "restart", "status", "subnet", "submode", "tagged", "vid", "sysvid", "map"},
	"msubnet": {"switch", "addr", "nmask", "status", "dhcps", "nat", "gateway", "ipcnt", "talk", "startip", "pppip", "nodetype", "primWINS", "secWINS", "tftp", "mtu", "leasetime"},
	"object":  {"ip", "ipv6", "country", "service", "kw", "fe", "sms", "mail", "noti", "schedule"},
	"dos":     nil, // options only (live `dos ?`)
}

type rAddr struct {
	any bool
	set *netipx.IPSet
}

type rObj struct {
	name     string
	hasIface bool
	hasInv   bool
	addr     *netipx.IPRange
}

type rGrp struct {
	name    string
	members []int
	has     map[string]bool
}

type rSvc struct {
	name     string
	proto    int
	src, dst [2]int // CHK=0 ranges; zero: unset
	has      map[string]bool
}

type rRule struct {
	set, rule int
	opts      map[string]string
	dir       int
	src, dst  string
	svc       string
	action    int
	log       int
	line      int
}

type rForward struct {
	kind    string // "portmap" or "openport"
	idx     int
	proto   string
	first   int
	last    int
	srcType int
	srcIdx  int
	priv    netip.Addr
	privLo  int
}

type vigor struct {
	header    map[string][]int
	hasHeader bool
	cmds      []string

	ip4, ip6     map[int]*rObj
	grp4, grp6   map[int]*rGrp
	svc          map[int]*rSvc
	svcGrp       map[int]*rGrp
	rules        []*rRule
	ruleAt       map[[2]int]*rRule
	setNext      map[int]int
	forwards     []*rForward
	portmapIdx   map[int]bool
	openportIdx  map[int]bool
	vlanVID      map[int]int
	vlanTagged   map[int]bool
	vlanOn       bool
	msubnet      map[int]map[string]string
	dos          []string
	sipALG       []string
	commit       bool
	firstCommand string
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_~-]{1,14}$`)

func tokenize(line string) ([]string, error) {
	var out []string
	i := 0
	for i < len(line) {
		c := line[i]
		if c < 0x20 || c >= 0x7f {
			return nil, fmt.Errorf("non-printable byte %#x", c)
		}
		if c == ' ' {
			if i+1 < len(line) && line[i+1] == ' ' {
				return nil, fmt.Errorf("double space")
			}
			i++
			continue
		}
		if c == '"' {
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unbalanced quote")
			}
			tok := line[i+1 : i+1+j]
			if tok == "" || strings.HasPrefix(tok, " ") || strings.HasSuffix(tok, " ") || strings.Contains(tok, "  ") {
				return nil, fmt.Errorf("bad quoted token %q", tok)
			}
			out = append(out, "\""+tok)
			i += j + 2
			if i < len(line) && line[i] != ' ' {
				return nil, fmt.Errorf("text after quote")
			}
			continue
		}
		j := strings.IndexByte(line[i:], ' ')
		if j < 0 {
			j = len(line) - i
		}
		tok := line[i : i+j]
		if strings.Contains(tok, "\"") {
			return nil, fmt.Errorf("quote inside token %q", tok)
		}
		out = append(out, tok)
		i += j
	}
	if strings.HasSuffix(line, " ") || strings.HasPrefix(line, " ") {
		return nil, fmt.Errorf("leading/trailing space")
	}
	return out, nil
}

func unq(t string) (string, bool) {
	if strings.HasPrefix(t, "\"") {
		return t[1:], true
	}
	return t, false
}

func atoi(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || strconv.Itoa(n) != s {
		return 0, fmt.Errorf("not a number: %q", s)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d outside %d..%d", n, lo, hi)
	}
	return n, nil
}

var headerIdxRE = regexp.MustCompile(`^#   ([A-Za-z0-9 ()-]+?): ([0-9,-]+)$`)

func parseRanges(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, ok := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if ok {
			if b, err = strconv.Atoi(hi); err != nil || b <= a {
				return nil, fmt.Errorf("bad range %q", part)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

// parseVigor reads a whole draytek.txt.
func parseVigor(text string) (*vigor, error) {
	v := &vigor{header: map[string][]int{}, ip4: map[int]*rObj{}, ip6: map[int]*rObj{}, grp4: map[int]*rGrp{}, grp6: map[int]*rGrp{},
		svc: map[int]*rSvc{}, svcGrp: map[int]*rGrp{}, ruleAt: map[[2]int]*rRule{}, setNext: map[int]int{},
		portmapIdx: map[int]bool{}, openportIdx: map[int]bool{}, vlanVID: map[int]int{}, vlanTagged: map[int]bool{}, msubnet: map[int]map[string]string{}}
	if !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("output does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	i := 0
	inIdx := false
	for ; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "#") {
			break
		}
		if l != "#" && !strings.HasPrefix(l, "# ") {
			return nil, fmt.Errorf("line %d: malformed comment %q", i+1, l)
		}
		for _, c := range l {
			if c < 0x20 || c == 0x7f {
				return nil, fmt.Errorf("line %d: control character in comment", i+1)
			}
		}
		switch {
		case l == "# This script OVERWRITES these indexes:":
			inIdx = true
			continue
		case l == "#":
			inIdx = false
			continue
		case l == "# "+HeaderEnd:
			v.hasHeader = true
		}
		if inIdx {
			m := headerIdxRE.FindStringSubmatch(l)
			if m == nil {
				return nil, fmt.Errorf("line %d: bad index line %q", i+1, l)
			}
			if _, dup := v.header[m[1]]; dup {
				return nil, fmt.Errorf("line %d: index kind %q listed twice", i+1, m[1])
			}
			n, err := parseRanges(m[2])
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", i+1, err)
			}
			v.header[m[1]] = n
		}
		if v.hasHeader {
			i++
			break
		}
	}
	if !v.hasHeader {
		return nil, fmt.Errorf("no header end line")
	}
	for ; i < len(lines); i++ {
		l := lines[i]
		if l == "" || strings.HasPrefix(l, "#") {
			return nil, fmt.Errorf("line %d: blank or comment line among commands: %q", i+1, l)
		}
		toks, err := tokenize(l)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v: %q", i+1, err, l)
		}
		if v.commit {
			return nil, fmt.Errorf("line %d: command after sys commit", i+1)
		}
		if len(v.cmds) == 0 {
			v.firstCommand = l
		}
		v.cmds = append(v.cmds, l)
		if err := v.command(toks, i+1); err != nil {
			return nil, fmt.Errorf("line %d: %v: %q", i+1, err, l)
		}
	}
	return v, v.complete()
}

func (v *vigor) command(t []string, line int) error {
	if len(t) < 1 {
		return fmt.Errorf("empty")
	}
	subs, ok := liveInventory[t[0]]
	if !ok {
		return fmt.Errorf("unknown command family %q", t[0])
	}
	if subs != nil {
		if len(t) < 2 || !slices.Contains(subs, t[1]) {
			return fmt.Errorf("unknown %s subcommand", t[0])
		}
	}
	switch t[0] {
	case "sys":
		switch t[1] {
		case "sip_alg":
			if len(t) != 4 || t[2] != "-e" || (t[3] != "0" && t[3] != "1") {
				return fmt.Errorf("want sys sip_alg -e 0|1")
			}
			v.sipALG = append(v.sipALG, t[3])
			return nil
		case "commit":
			if len(t) != 2 {
				return fmt.Errorf("sys commit takes no arguments")
			}
			v.commit = true
			return nil
		}
	case "object":
		return v.object(t)
	case "ipf":
		return v.ipf(t, line)
	case "srv":
		return v.srv(t)
	case "vlan":
		return v.vlan(t)
	case "msubnet":
		return v.msub(t)
	case "dos":
		return v.dosCmd(t)
	}
	return fmt.Errorf("unsupported command")
}

func (v *vigor) object(t []string) error {
	if len(t) < 6 {
		return fmt.Errorf("short object command")
	}
	kind, table := t[1], t[2]
	var maxIdx int
	switch kind + " " + table {
	case "ip obj":
		maxIdx = maxIPObj
	case "ip grp":
		maxIdx = maxIPGrp
	case "ipv6 obj":
		maxIdx = maxIP6Obj
	case "ipv6 grp":
		maxIdx = maxIP6Grp
	case "service obj":
		maxIdx = maxSvcObj
	case "service grp":
		maxIdx = maxSvcGrp
	default:
		return fmt.Errorf("unknown object table %q %q", kind, table)
	}
	idx, err := atoi(t[3], 1, maxIdx)
	if err != nil {
		return err
	}
	opt, args := t[4], t[5:]
	setName := func(has map[string]bool, dst *string) error {
		if len(args) != 1 || !nameRE.MatchString(args[0]) {
			return fmt.Errorf("bad name (want 1..14 of [A-Za-z0-9_~-])")
		}
		if has["n"] {
			return fmt.Errorf("name set twice")
		}
		has["n"] = true
		*dst = args[0]
		return nil
	}
	switch kind + " " + table {
	case "ip obj", "ipv6 obj":
		tab := v.ip4
		if kind == "ipv6" {
			tab = v.ip6
		}
		o := tab[idx]
		if o == nil {
			o = &rObj{}
			tab[idx] = o
		}
		switch opt {
		case "-n":
			if o.name != "" || len(args) != 1 || !nameRE.MatchString(args[0]) {
				return fmt.Errorf("bad or repeated name")
			}
			o.name = args[0]
		case "-i":
			if kind == "ipv6" || o.hasIface || len(args) != 1 || (args[0] != "0" && args[0] != "1" && args[0] != "3") {
				return fmt.Errorf("bad or repeated -i")
			}
			o.hasIface = true
		case "-s":
			if o.hasInv || len(args) != 1 || args[0] != "0" {
				return fmt.Errorf("bad or repeated -s (voicewall never inverts)")
			}
			o.hasInv = true
		case "-a":
			if o.addr != nil || len(args) < 2 {
				return fmt.Errorf("bad or repeated -a")
			}
			r, err := objAddr(kind == "ipv6", args)
			if err != nil {
				return err
			}
			o.addr = &r
		default:
			return fmt.Errorf("unknown option %s", opt)
		}
	case "ip grp", "ipv6 grp", "service grp":
		tab := v.grp4
		switch kind {
		case "ipv6":
			tab = v.grp6
		case "service":
			tab = v.svcGrp
		}
		g := tab[idx]
		if g == nil {
			g = &rGrp{has: map[string]bool{}}
			tab[idx] = g
		}
		switch opt {
		case "-n":
			return setName(g.has, &g.name)
		case "-i":
			if kind != "ip" || g.has["i"] || len(args) != 1 || (args[0] != "0" && args[0] != "1" && args[0] != "2") {
				return fmt.Errorf("bad or repeated -i")
			}
			g.has["i"] = true
		case "-a":
			if g.has["a"] {
				return fmt.Errorf("members set twice")
			}
			g.has["a"] = true
			list := args
			if kind == "ip" { // doc example: object ip grp 3 -a "1 2 3 4 5"
				s, q := unq(args[0])
				if len(args) != 1 || !q {
					return fmt.Errorf("ip grp -a takes one quoted list")
				}
				list = strings.Split(s, " ")
			} else {
				for _, a := range args {
					if _, q := unq(a); q {
						return fmt.Errorf("%s grp -a takes bare indexes", kind)
					}
				}
			}
			mx := maxIPObj
			if kind == "ipv6" {
				mx = maxIP6Obj
			} else if kind == "service" {
				mx = maxSvcObj
			}
			seen := map[int]bool{}
			for _, a := range list {
				n, err := atoi(a, 1, mx)
				if err != nil {
					return err
				}
				if seen[n] {
					return fmt.Errorf("member %d twice", n)
				}
				seen[n] = true
				g.members = append(g.members, n)
			}
			if len(g.members) > maxGrpMembers {
				return fmt.Errorf("group has %d members", len(g.members))
			}
		default:
			return fmt.Errorf("unknown option %s", opt)
		}
	case "service obj":
		s := v.svc[idx]
		if s == nil {
			s = &rSvc{has: map[string]bool{}}
			v.svc[idx] = s
		}
		switch opt {
		case "-n":
			return setName(s.has, &s.name)
		case "-p":
			if s.has["p"] || len(args) != 1 {
				return fmt.Errorf("bad or repeated -p")
			}
			n, err := atoi(args[0], 0, 255)
			if err != nil || (n != 0 && n != 6 && n != 17) {
				return fmt.Errorf("protocol %q: voicewall uses 0, 6 or 17 only (never 255 tcp/udp)", args[0])
			}
			s.has["p"], s.proto = true, n
		case "-s", "-d":
			if s.has[opt] || len(args) != 3 || args[0] != "0" {
				return fmt.Errorf("bad or repeated %s (want 0 START END)", opt)
			}
			a, err1 := atoi(args[1], 1, 65535)
			b, err2 := atoi(args[2], 1, 65535)
			if err1 != nil || err2 != nil || a > b {
				return fmt.Errorf("bad port range")
			}
			s.has[opt] = true
			if opt == "-s" {
				s.src = [2]int{a, b}
			} else {
				s.dst = [2]int{a, b}
			}
		default:
			return fmt.Errorf("unknown option %s", opt)
		}
	}
	return nil
}

func objAddr(v6 bool, a []string) (netipx.IPRange, error) {
	ip := func(s string) (netip.Addr, error) {
		x, err := netip.ParseAddr(s)
		if err != nil || x.Is6() != v6 || x.Zone() != "" {
			return netip.Addr{}, fmt.Errorf("bad address %q", s)
		}
		return x, nil
	}
	switch {
	case !v6 && a[0] == "1" && len(a) == 2:
		x, err := ip(a[1])
		return netipx.IPRangeFrom(x, x), err
	case !v6 && a[0] == "0" && len(a) == 3:
		x, err := ip(a[1])
		if err != nil {
			return netipx.IPRange{}, err
		}
		m, err := ip(a[2])
		if err != nil {
			return netipx.IPRange{}, err
		}
		b := m.As4()
		ones, bits := netMaskSize(b[:])
		if bits != 32 {
			return netipx.IPRange{}, fmt.Errorf("bad mask %s", a[2])
		}
		p := netip.PrefixFrom(x, ones)
		if p.Masked() != p {
			return netipx.IPRange{}, fmt.Errorf("%s is not the network address of /%d", x, ones)
		}
		return netipx.RangeOfPrefix(p), nil
	case a[0] == "3" && len(a) == 3:
		x, err := ip(a[1])
		if err != nil {
			return netipx.IPRange{}, err
		}
		y, err := ip(a[2])
		if err != nil {
			return netipx.IPRange{}, err
		}
		if y.Less(x) {
			return netipx.IPRange{}, fmt.Errorf("inverted range")
		}
		return netipx.IPRangeFrom(x, y), nil
	}
	return netipx.IPRange{}, fmt.Errorf("bad -a form %v", a)
}

var ruleOpts = map[string]bool{"-e": true, "-D": true, "-I": true, "-O": true, "-s": true, "-d": true, "-S": true, "-F": true, "-N": true, "-M": true}

func (v *vigor) ipf(t []string, line int) error {
	switch t[1] {
	case "set":
		if len(t) != 5 || t[3] != "-n" {
			return fmt.Errorf("want ipf set S -n NEXT")
		}
		s, err := atoi(t[2], 1, maxSet)
		if err != nil {
			return err
		}
		n, err := atoi(t[4], 1, maxSet)
		if err != nil {
			return err
		}
		if _, dup := v.setNext[s]; dup {
			return fmt.Errorf("next set of %d set twice", s)
		}
		v.setNext[s] = n
		return nil
	case "rule":
	default:
		return fmt.Errorf("unsupported ipf subcommand")
	}
	if len(t) < 4 {
		return fmt.Errorf("short ipf rule")
	}
	s, err := atoi(t[2], 1, maxSet)
	if err != nil {
		return err
	}
	r, err := atoi(t[3], 1, maxRule)
	if err != nil {
		return err
	}
	if v.ruleAt[[2]int{s, r}] != nil {
		return fmt.Errorf("rule %d %d defined twice", s, r)
	}
	rr := &rRule{set: s, rule: r, opts: map[string]string{}, line: line}
	for i := 4; i < len(t); i += 2 {
		o := t[i]
		if !ruleOpts[o] {
			return fmt.Errorf("unknown ipf rule option %q", o)
		}
		if i+1 >= len(t) {
			return fmt.Errorf("option %s without value", o)
		}
		if _, dup := rr.opts[o]; dup {
			return fmt.Errorf("option %s twice", o)
		}
		rr.opts[o] = t[i+1]
	}
	for o := range ruleOpts {
		if _, ok := rr.opts[o]; !ok {
			return fmt.Errorf("rule lacks %s (an overwritten rule must set every field voicewall relies on)", o)
		}
	}
	if rr.opts["-e"] != "1" || rr.opts["-N"] != "0" {
		return fmt.Errorf("want -e 1 and -N 0")
	}
	if rr.dir, err = atoi(rr.opts["-D"], 0, 3); err != nil {
		return err
	}
	for _, o := range []string{"-I", "-O"} {
		if rr.opts[o] != "\"e all" {
			return fmt.Errorf("%s must be \"e all\"", o)
		}
	}
	for _, o := range []string{"-s", "-d"} {
		val, q := unq(rr.opts[o])
		if !q {
			return fmt.Errorf("%s must be quoted", o)
		}
		if err := v.checkAddrRef(val); err != nil {
			return fmt.Errorf("%s: %v", o, err)
		}
		if o == "-s" {
			rr.src = val
		} else {
			rr.dst = val
		}
	}
	sv, q := unq(rr.opts["-S"])
	f := strings.Fields(sv)
	if !q || len(f) != 2 || (f[0] != "o" && f[0] != "g") {
		return fmt.Errorf("bad -S")
	}
	mx := maxSvcObj
	if f[0] == "g" {
		mx = maxSvcGrp
	}
	if _, err := atoi(f[1], 1, mx); err != nil {
		return err
	}
	rr.svc = sv
	fv, q := unq(rr.opts["-F"])
	f = strings.Fields(fv)
	if !q || len(f) != 2 {
		return fmt.Errorf("bad -F")
	}
	if rr.action, err = atoi(f[0], 0, 1); err != nil {
		return fmt.Errorf("-F action: %v (voicewall uses pass/block immediately)", err)
	}
	if rr.log, err = atoi(f[1], 0, 1); err != nil {
		return err
	}
	if m := rr.opts["-M"]; len(m) > maxComment || !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(m) {
		return fmt.Errorf("bad -M comment %q", m)
	}
	v.ruleAt[[2]int{s, r}] = rr
	v.rules = append(v.rules, rr)
	return nil
}

// addrSlots is how many objects or groups of each kind one rule side holds
// (Vigor3912 UG Part VIII p. 637: "2 object profiles are allowed for IPv4,
// 2 group profiles ... for IPv4 group, 3 object profiles ... for IPv6, 1
// group profile ... for IPv6 group"), and the highest index of each kind.
var addrSlots = map[string][2]int{"o": {2, maxIPObj}, "g": {2, maxIPGrp}, "o6": {3, maxIP6Obj}, "g6": {1, maxIP6Grp}}

// checkAddrRef accepts "u 2" (any) and the documented two-number object
// reference "<o|g|o6|g6> <field> <index>". The one-number form ("o 5") is
// rejected: the UG does not document it, and a router reading it as field 5
// with no object would match any address.
func (v *vigor) checkAddrRef(s string) error {
	f := strings.Fields(s)
	if len(f) == 0 {
		return fmt.Errorf("empty address reference")
	}
	if len(f) == 2 && f[0] == "u" {
		if f[1] != "2" {
			return fmt.Errorf("voicewall uses only user-defined any (u 2)")
		}
		return nil
	}
	lim, ok := addrSlots[f[0]]
	if !ok {
		return fmt.Errorf("unknown address kind %q", f[0])
	}
	if len(f) != 3 {
		return fmt.Errorf("want the two-number form %s <field> <index> (UG pp. 636-637), got %q", f[0], s)
	}
	if _, err := atoi(f[1], 1, lim[0]); err != nil {
		return fmt.Errorf("field of %q: %v", s, err)
	}
	if _, err := atoi(f[2], 1, lim[1]); err != nil {
		return fmt.Errorf("index of %q: %v (0 means none)", s, err)
	}
	return nil
}

func (v *vigor) srv(t []string) error {
	if len(t) < 4 || t[1] != "nat" {
		return fmt.Errorf("unsupported srv command")
	}
	switch t[2] {
	case "portmap":
		// srv nat portmap add <idx> <name> <tcp|udp> <pub> <0|1> <src idx> <pri ip> <pri port> <wanN|all> <alias 1-32>
		if t[3] != "add" || len(t) != 14 {
			return fmt.Errorf("want srv nat portmap add with 10 arguments")
		}
		idx, err := atoi(t[4], 1, maxPortmap)
		if err != nil {
			return err
		}
		if v.portmapIdx[idx] {
			return fmt.Errorf("portmap %d twice", idx)
		}
		v.portmapIdx[idx] = true
		if !nameRE.MatchString(t[5]) {
			return fmt.Errorf("bad service name")
		}
		if t[6] != "tcp" && t[6] != "udp" {
			return fmt.Errorf("bad protocol")
		}
		pub, err := atoi(t[7], 1, 65535)
		if err != nil {
			return err
		}
		st, err := atoi(t[8], 0, 1)
		if err != nil {
			return err
		}
		mx := maxIPObj
		if st == 1 {
			mx = maxIPGrp
		}
		si, err := atoi(t[9], 0, mx)
		if err != nil {
			return err
		}
		priv, err := netip.ParseAddr(t[10])
		if err != nil || !priv.Is4() {
			return fmt.Errorf("bad private ip")
		}
		pp, err := atoi(t[11], 1, 65535)
		if err != nil {
			return err
		}
		if !regexp.MustCompile(`^wan([1-9]|1[0-2])$`).MatchString(t[12]) && t[12] != "all" {
			return fmt.Errorf("bad wan %q", t[12])
		}
		if _, err := atoi(t[13], 1, 32); err != nil {
			return err
		}
		v.forwards = append(v.forwards, &rForward{kind: "portmap", idx: idx, proto: t[6], first: pub, last: pub, srcType: st, srcIdx: si, priv: priv, privLo: pp})
		return nil
	case "openport":
		if len(t) < 5 {
			return fmt.Errorf("short openport")
		}
		n, err := atoi(t[3], 1, maxOpenport)
		if err != nil {
			return err
		}
		m, err := atoi(t[4], 1, 10)
		if err != nil {
			return err
		}
		if v.openportIdx[n*100+m] {
			return fmt.Errorf("openport %d %d twice", n, m)
		}
		v.openportIdx[n*100+m] = true
		opts := map[string][]string{}
		known := map[string]int{"-a": 1, "-c": 1, "-i": 1, "-w": 2, "-p": 1, "-s": 1, "-e": 1, "-l": 1, "-g": 1}
		for i := 5; i < len(t); {
			k, ok := known[t[i]]
			if !ok {
				return fmt.Errorf("unknown openport option %q", t[i])
			}
			if _, dup := opts[t[i]]; dup {
				return fmt.Errorf("option %s twice", t[i])
			}
			if i+k >= len(t) {
				return fmt.Errorf("option %s short", t[i])
			}
			opts[t[i]] = t[i+1 : i+1+k]
			i += 1 + k
		}
		for k := range known {
			if _, ok := opts[k]; !ok {
				return fmt.Errorf("openport lacks %s", k)
			}
		}
		if opts["-a"][0] != "1" || !regexp.MustCompile(`^[A-Za-z0-9_-]{1,22}$`).MatchString(opts["-c"][0]) {
			return fmt.Errorf("bad -a/-c")
		}
		priv, err := netip.ParseAddr(opts["-i"][0])
		if err != nil || !priv.Is4() {
			return fmt.Errorf("bad -i")
		}
		if _, err := atoi(opts["-w"][0], 1, maxWAN); err != nil {
			return err
		}
		if _, err := atoi(opts["-w"][1], 1, 32); err != nil {
			return err
		}
		p := opts["-p"][0]
		if p != "TCP" && p != "UDP" {
			return fmt.Errorf("bad -p %q (voicewall never uses ALL)", p)
		}
		a, err := atoi(opts["-s"][0], 1, 65535)
		if err != nil {
			return err
		}
		b, err := atoi(opts["-e"][0], a, 65535)
		if err != nil {
			return err
		}
		st, err := atoi(opts["-g"][0], 0, 1)
		if err != nil {
			return err
		}
		mx := maxIPObj
		if st == 1 {
			mx = maxIPGrp
		}
		si, err := atoi(opts["-l"][0], 0, mx)
		if err != nil {
			return err
		}
		v.forwards = append(v.forwards, &rForward{kind: "openport", idx: n, proto: strings.ToLower(p), first: a, last: b, srcType: st, srcIdx: si, priv: priv, privLo: a})
		return nil
	}
	return fmt.Errorf("unsupported srv nat command")
}

func (v *vigor) vlan(t []string) error {
	switch t[1] {
	case "on":
		if len(t) != 2 {
			return fmt.Errorf("vlan on takes no arguments")
		}
		v.vlanOn = true
		return nil
	case "vid":
		if len(t) != 4 {
			return fmt.Errorf("want vlan vid N VID")
		}
		ch, err := atoi(t[2], 0, maxVLANChan)
		if err != nil {
			return err
		}
		id, err := atoi(t[3], 1, 4094)
		if err != nil {
			return err
		}
		if _, dup := v.vlanVID[ch]; dup {
			return fmt.Errorf("channel %d twice", ch)
		}
		v.vlanVID[ch] = id
		return nil
	case "tagged":
		if len(t) != 4 || t[3] != "on" {
			return fmt.Errorf("want vlan tagged N on")
		}
		ch, err := atoi(t[2], 0, 99)
		if err != nil {
			return err
		}
		v.vlanTagged[ch] = true
		return nil
	}
	return fmt.Errorf("unsupported vlan subcommand")
}

func (v *vigor) msub(t []string) error {
	if len(t) != 4 {
		return fmt.Errorf("want msubnet SUB LAN VALUE")
	}
	lan, err := atoi(t[2], 2, maxLAN)
	if err != nil {
		return err
	}
	m := v.msubnet[lan]
	if m == nil {
		m = map[string]string{}
		v.msubnet[lan] = m
	}
	if _, dup := m[t[1]]; dup {
		return fmt.Errorf("msubnet %s %d twice", t[1], lan)
	}
	switch t[1] {
	case "switch":
		if t[3] != "On" {
			return fmt.Errorf("want On")
		}
	case "addr", "nmask":
		a, err := netip.ParseAddr(t[3])
		if err != nil || !a.Is4() {
			return fmt.Errorf("bad address")
		}
	default:
		return fmt.Errorf("unsupported msubnet subcommand")
	}
	m[t[1]] = t[3]
	return nil
}

func (v *vigor) dosCmd(t []string) error {
	l := strings.Join(t, " ")
	switch l {
	case "dos -A", "dos -s synflood", "dos -o 1", "dos -o 0":
		v.dos = append(v.dos, l)
		return nil
	}
	// dos -s udpflood THRESHOLD TIMEOUT (live help: threshold > 20 pkt/s,
	// timeout > 5 s); never at the router's defaults, which drop media.
	if len(t) == 5 && t[1] == "-s" && t[2] == "udpflood" {
		th, err1 := strconv.Atoi(t[3])
		to, err2 := strconv.Atoi(t[4])
		if err1 != nil || err2 != nil || th <= 20 || to <= 5 {
			return fmt.Errorf("bad udpflood threshold or timeout")
		}
		v.dos = append(v.dos, l)
		return nil
	}
	return fmt.Errorf("unsupported dos command")
}

// complete checks cross-line consistency once everything is read.
func (v *vigor) complete() error {
	for i, o := range v.ip4 {
		if o.name == "" || o.addr == nil || !o.hasIface || !o.hasInv {
			return fmt.Errorf("ip obj %d incomplete (name, -i, -s and -a are all required)", i)
		}
	}
	for i, o := range v.ip6 {
		if o.name == "" || o.addr == nil || !o.hasInv {
			return fmt.Errorf("ipv6 obj %d incomplete", i)
		}
	}
	for kind, tab := range map[string]map[int]*rGrp{"ip grp": v.grp4, "ipv6 grp": v.grp6, "service grp": v.svcGrp} {
		for i, g := range tab {
			if g.name == "" || len(g.members) == 0 {
				return fmt.Errorf("%s %d incomplete", kind, i)
			}
			for _, m := range g.members {
				var ok bool
				switch kind {
				case "ip grp":
					ok = v.ip4[m] != nil
				case "ipv6 grp":
					ok = v.ip6[m] != nil
				default:
					ok = v.svc[m] != nil
				}
				if !ok {
					return fmt.Errorf("%s %d names undefined member %d", kind, i, m)
				}
			}
		}
	}
	for i, s := range v.svc {
		if s.name == "" || !s.has["p"] || (s.proto != 0 && (!s.has["-s"] || !s.has["-d"])) {
			return fmt.Errorf("service obj %d incomplete", i)
		}
	}
	for _, r := range v.rules {
		for _, ref := range []string{r.src, r.dst} {
			if _, err := v.addrs(ref); err != nil {
				return fmt.Errorf("ipf rule %d %d: %v", r.set, r.rule, err)
			}
		}
		if _, err := v.services(r.svc); err != nil {
			return fmt.Errorf("ipf rule %d %d: %v", r.set, r.rule, err)
		}
	}
	for _, f := range v.forwards {
		if f.srcIdx == 0 {
			return fmt.Errorf("%s %d forwards from any source", f.kind, f.idx)
		}
		if _, err := v.addrs(map[int]string{0: "o", 1: "g"}[f.srcType] + " 1 " + strconv.Itoa(f.srcIdx)); err != nil {
			return fmt.Errorf("%s %d: %v", f.kind, f.idx, err)
		}
	}
	// names unique per table
	for kind, names := range map[string][]string{"ip obj": objNames(v.ip4), "ipv6 obj": objNames(v.ip6), "ip grp": grpNames(v.grp4), "ipv6 grp": grpNames(v.grp6), "service grp": grpNames(v.svcGrp), "service obj": svcNames(v.svc)} {
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				return fmt.Errorf("%s name %q used twice", kind, n)
			}
			seen[n] = true
		}
	}
	return nil
}

func objNames(m map[int]*rObj) (out []string) {
	for _, o := range m {
		out = append(out, o.name)
	}
	return out
}
func grpNames(m map[int]*rGrp) (out []string) {
	for _, o := range m {
		out = append(out, o.name)
	}
	return out
}
func svcNames(m map[int]*rSvc) (out []string) {
	for _, o := range m {
		out = append(out, o.name)
	}
	return out
}

// addrs resolves an -s/-d argument; any is reported as rAddr.any.
func (v *vigor) addrs(ref string) (rAddr, error) {
	f := strings.Fields(ref)
	if len(f) == 2 && f[0] == "u" && f[1] == "2" {
		return rAddr{any: true}, nil
	}
	if len(f) != 3 {
		return rAddr{}, fmt.Errorf("bad address ref %q", ref)
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		return rAddr{}, err
	}
	var b netipx.IPSetBuilder
	objs := v.ip4
	switch f[0] {
	case "o6", "g6":
		objs = v.ip6
	}
	switch f[0] {
	case "o", "o6":
		o := objs[n]
		if o == nil {
			return rAddr{}, fmt.Errorf("undefined object %q", ref)
		}
		b.AddRange(*o.addr)
	case "g", "g6":
		tab := v.grp4
		if f[0] == "g6" {
			tab = v.grp6
		}
		g := tab[n]
		if g == nil {
			return rAddr{}, fmt.Errorf("undefined group %q", ref)
		}
		for _, m := range g.members {
			b.AddRange(*objs[m].addr)
		}
	default:
		return rAddr{}, fmt.Errorf("bad address kind %q", ref)
	}
	s, err := b.IPSet()
	return rAddr{set: s}, err
}

type rPorts struct {
	proto    int
	src, dst [2]int
}

func (v *vigor) services(ref string) ([]rPorts, error) {
	f := strings.Fields(ref)
	n, _ := strconv.Atoi(f[1])
	var ids []int
	if f[0] == "o" {
		ids = []int{n}
	} else {
		g := v.svcGrp[n]
		if g == nil {
			return nil, fmt.Errorf("undefined service group %d", n)
		}
		ids = g.members
	}
	var out []rPorts
	for _, id := range ids {
		s := v.svc[id]
		if s == nil {
			return nil, fmt.Errorf("undefined service object %d", id)
		}
		if s.proto == 0 {
			out = append(out, rPorts{proto: 0, src: [2]int{1, 65535}, dst: [2]int{1, 65535}})
			continue
		}
		out = append(out, rPorts{proto: s.proto, src: s.src, dst: s.dst})
	}
	return out, nil
}

// usedIndexes is what the commands write, keyed like the header.
func (v *vigor) usedIndexes() map[string][]int {
	u := map[string][]int{}
	keys := func(m any) []int {
		var out []int
		switch m := m.(type) {
		case map[int]*rObj:
			for k := range m {
				out = append(out, k)
			}
		case map[int]*rGrp:
			for k := range m {
				out = append(out, k)
			}
		case map[int]*rSvc:
			for k := range m {
				out = append(out, k)
			}
		case map[int]int:
			for k := range m {
				out = append(out, k)
			}
		case map[int]bool:
			for k := range m {
				out = append(out, k)
			}
		case map[int]map[string]string:
			for k := range m {
				out = append(out, k)
			}
		}
		sort.Ints(out)
		return out
	}
	put := func(k string, n []int) {
		if len(n) > 0 {
			u[k] = n
		}
	}
	put("object ip obj", keys(v.ip4))
	put("object ip grp", keys(v.grp4))
	put("object ipv6 obj", keys(v.ip6))
	put("object ipv6 grp", keys(v.grp6))
	put("object service obj", keys(v.svc))
	put("object service grp", keys(v.svcGrp))
	bySet := map[int][]int{}
	for _, r := range v.rules {
		bySet[r.set] = append(bySet[r.set], r.rule)
	}
	for s, rs := range bySet {
		sort.Ints(rs)
		put(fmt.Sprintf("ipf rule %d", s), rs)
	}
	put("ipf set (next filter set)", keys(v.setNext))
	put("srv nat portmap", keys(v.portmapIdx))
	var op []int
	for k := range v.openportIdx {
		if k%100 != 1 {
			op = append(op, -1) // only sub-item 1 is used by voicewall
		}
		op = append(op, k/100)
	}
	sort.Ints(op)
	put("srv nat openport (sub-item 1)", op)
	put("vlan channel", keys(v.vlanVID))
	put("msubnet LAN", keys(v.msubnet))
	return u
}
