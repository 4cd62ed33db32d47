package draytek

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/voicewall/voicewall/backends"
)

// ---------------------------------------------------------------------------
// rendering

func (c *compiler) render() string {
	var body []string
	add := func(s string) { body = append(body, s) }

	add("sys sip_alg -e 0")

	for _, o := range c.placeholders() {
		tbl := "ip"
		if o.v6 {
			tbl = "ipv6"
		}
		if o.grp {
			add(fmt.Sprintf("object %s grp %d -n %s", tbl, neverIndex, neverName))
			if !o.v6 {
				add(fmt.Sprintf("object ip grp %d -i 0", neverIndex))
				add(fmt.Sprintf("object ip grp %d -a \"%d\"", neverIndex, neverIndex))
			} else {
				add(fmt.Sprintf("object ipv6 grp %d -a %d", neverIndex, neverIndex))
			}
			continue
		}
		add(fmt.Sprintf("object %s obj %d -n %s", tbl, neverIndex, neverName))
		if !o.v6 {
			add(fmt.Sprintf("object ip obj %d -i 0", neverIndex))
			add(fmt.Sprintf("object ip obj %d -s 0", neverIndex))
			add(fmt.Sprintf("object ip obj %d -a 1 %s", neverIndex, never4))
		} else {
			add(fmt.Sprintf("object ipv6 obj %d -s 0", neverIndex))
			add(fmt.Sprintf("object ipv6 obj %d -a 3 %s %s", neverIndex, never6, never6))
		}
	}
	for _, o := range c.obj4 {
		add(fmt.Sprintf("object ip obj %d -n %s", o.idx, o.name))
		add(fmt.Sprintf("object ip obj %d -i 0", o.idx))
		add(fmt.Sprintf("object ip obj %d -s 0", o.idx))
		add(fmt.Sprintf("object ip obj %d -a %s", o.idx, v4Addr(o.r)))
	}
	for _, o := range c.obj6 {
		add(fmt.Sprintf("object ipv6 obj %d -n %s", o.idx, o.name))
		add(fmt.Sprintf("object ipv6 obj %d -s 0", o.idx))
		add(fmt.Sprintf("object ipv6 obj %d -a 3 %s %s", o.idx, o.r.From(), o.r.To()))
	}
	for _, g := range c.grp4 {
		add(fmt.Sprintf("object ip grp %d -n %s", g.idx, g.name))
		add(fmt.Sprintf("object ip grp %d -i 0", g.idx))
		add(fmt.Sprintf("object ip grp %d -a \"%s\"", g.idx, joinInts(g.members)))
	}
	for _, g := range c.grp6 {
		add(fmt.Sprintf("object ipv6 grp %d -n %s", g.idx, g.name))
		add(fmt.Sprintf("object ipv6 grp %d -a %s", g.idx, joinInts(g.members)))
	}
	for _, s := range c.svcs {
		add(fmt.Sprintf("object service obj %d -n %s", s.idx, s.name))
		add(fmt.Sprintf("object service obj %d -p %d", s.idx, s.key.proto))
		if s.key.proto != 0 {
			add(fmt.Sprintf("object service obj %d -s 0 %d %d", s.idx, s.key.src.First, s.key.src.Last))
			add(fmt.Sprintf("object service obj %d -d 0 %d %d", s.idx, s.key.dst.First, s.key.dst.Last))
		}
	}
	for _, g := range c.svcGrps {
		add(fmt.Sprintf("object service grp %d -n %s", g.idx, g.name))
		add(fmt.Sprintf("object service grp %d -a %s", g.idx, joinInts(g.members)))
	}
	links := map[int]int{}
	for _, l := range c.setLinks {
		links[l[0]] = l[1]
	}
	for i, r := range c.rules {
		f := 1
		if r.pass {
			f = 0
		}
		lg := 0
		if r.log {
			lg = 1
		}
		add(fmt.Sprintf("ipf rule %d %d -e 1 -D %d -I \"e all\" -O \"e all\" -s \"%s\" -d \"%s\" -S \"%s\" -F \"%d %d\" -N 0 -M %s",
			r.set, r.rule, r.dir, r.src, r.dst, r.svc, f, lg, r.comment))
		if next, ok := links[r.set]; ok && (i+1 == len(c.rules) || c.rules[i+1].set != r.set) {
			add(fmt.Sprintf("ipf set %d -n %d", r.set, next))
		}
	}
	for _, e := range c.portmaps {
		add(fmt.Sprintf("srv nat portmap add %d %s %s %d %d %d %s %d wan%d 1",
			e.idx, shortToken(fmt.Sprintf("vw%s%d", strings.ToUpper(e.svc.Proto.String()), e.svc.Ports.First), maxName),
			e.svc.Proto, e.svc.Ports.First, e.srcType, e.srcIdx, e.addr, e.svc.Ports.First, c.wanIdx))
	}
	for _, e := range c.openports {
		add(fmt.Sprintf("srv nat openport %d 1 -a 1 -c %s -i %s -w %d 1 -p %s -s %d -e %d -l %d -g %d",
			e.idx, shortToken(fmt.Sprintf("vw%s%s", strings.ToUpper(e.svc.Proto.String()), e.svc.Ports), maxOpenComm),
			e.addr, c.wanIdx, strings.ToUpper(e.svc.Proto.String()), e.svc.Ports.First, e.svc.Ports.Last, e.srcIdx, e.srcType))
	}
	body = append(body, c.vlanLines...)
	body = append(body, c.dosLines...)
	add("sys commit")

	var b strings.Builder
	for _, h := range c.header() {
		b.WriteString("#")
		if h != "" {
			b.WriteString(" " + commentSafe(h))
		}
		b.WriteString("\n")
	}
	for _, l := range body {
		b.WriteString(l)
		b.WriteString("\n")
	}
	return b.String()
}

// HeaderEnd is the last line of the header block.
const HeaderEnd = "end of voicewall header: everything below is Vigor CLI commands"

func (c *compiler) header() []string {
	h := []string{
		"voicewall: DrayTek Vigor telnet/SSH command script, generated from policy " + filepath.Base(filepath.Clean(c.p.Root)),
		"Comment lines start with '#'. The Vigor CLI has no documented comment syntax:",
		"remove them before pasting, e.g.  grep -v '^#' draytek.txt",
		"Checked against the Vigor3912 UG Part VIII (fw 4.3.5.1) and fw 4.4.7_RC2 live help;",
		"other models and firmware lines are unverified. Use indexes that hold nothing of yours.",
		"",
		"This script OVERWRITES these indexes:",
	}
	idx := func(label string, n []int) {
		if len(n) > 0 {
			h = append(h, "  "+label+": "+ranges(n))
		}
	}
	withNever := func(n []int) []int {
		if len(n) == 0 {
			return nil
		}
		return append([]int{neverIndex}, n...)
	}
	idx("object ip obj", withNever(indexes(c.obj4, func(o *ipObj) int { return o.idx })))
	idx("object ip grp", withNever(indexes(c.grp4, func(g *ipGrp) int { return g.idx })))
	idx("object ipv6 obj", withNever(indexes(c.obj6, func(o *ipObj) int { return o.idx })))
	idx("object ipv6 grp", withNever(indexes(c.grp6, func(g *ipGrp) int { return g.idx })))
	idx("object service obj", indexes(c.svcs, func(s *svcObj) int { return s.idx }))
	idx("object service grp", indexes(c.svcGrps, func(g *svcGrp) int { return g.idx }))
	bySet := map[int][]int{}
	var setsUsed []int
	for _, r := range c.rules {
		if _, ok := bySet[r.set]; !ok {
			setsUsed = append(setsUsed, r.set)
		}
		bySet[r.set] = append(bySet[r.set], r.rule)
	}
	for _, s := range setsUsed {
		idx(fmt.Sprintf("ipf rule %d", s), bySet[s])
	}
	idx("ipf set (next filter set)", indexes(c.setLinks, func(l [2]int) int { return l[0] }))
	natIdx := func(e *natEntry) int { return e.idx }
	idx("srv nat portmap", indexes(c.portmaps, natIdx))
	idx("srv nat openport (sub-item 1)", indexes(c.openports, natIdx))
	idx("vlan channel", c.vlanChans)
	idx("msubnet LAN", c.lans)
	// Router-wide settings are not indexes of voicewall's: whatever the
	// admin had there is replaced for every interface and host.
	h = append(h, "", "This script also OVERWRITES these router-wide settings:",
		"  sys sip_alg -e 0: SIP ALG off")
	if len(c.dosLines) > 0 {
		h = append(h, "  DoS defence (all interfaces and hosts): "+strings.Join(c.dosLines, "; "))
	}

	h = append(h, backends.Listing("NOT ENFORCED on this Vigor:", c.Gaps.Lines, nil)...)
	notes := append(slices.Clip(c.notes),
		"every rule's source and destination fill slot 1 of the rule's object/group list (-s \"o 1 N\", UG pp. 636-637, where 0 means none). Whether writing slot 1, or \"u 2\" (any), clears objects an overwritten rule held in its other slots is not documented: give voicewall rule indexes that are empty.",
		"index 1 of each IP object and group table is "+neverName+", a placeholder no packet matches ("+never4.String()+", reserved; "+never6.String()+", IPv6 discard-only): the UG's syntax reads -s \"o 1 N\" as slot 1 holding object N, but its example says -s \"o 1 2\" means objects 1 and 2. Under that list reading every rule would also match object 1; with the placeholder there, both readings give object N alone. Whatever index 1 held before is replaced.")
	for _, r := range c.rules {
		v6 := strings.HasPrefix(r.src, "o6 ") || strings.HasPrefix(r.src, "g6 ") || strings.HasPrefix(r.dst, "o6 ") || strings.HasPrefix(r.dst, "g6 ")
		if v6 && (r.src == "u 2" || r.dst == "u 2") {
			notes = append(notes, "IPv6 rules use \"u 2\" for their any side: address type 2 (Any Address) takes no address and so no family, and the UG documents no IPv6 user-defined form (pp. 636-637). Unconfirmed on a device that it matches IPv6 packets: after pasting, check that an IPv6 packet the policy drops is dropped.")
			break
		}
	}
	h = append(h, backends.Listing("Notes:", notes, nil)...)
	h = append(h, backends.Listing("Provider ranges from the catalog and DNS (fixed here until the next compile):", backends.ProviderSources(c.p), nil)...)
	if len(c.rules) > 0 {
		h = append(h, "", "Filter rules (the policy's order; first match wins):")
		for _, r := range c.rules {
			h = append(h, fmt.Sprintf("  ipf rule %d %d: %s", r.set, r.rule, r.about))
		}
	}
	if len(c.portmaps)+len(c.openports) > 0 {
		h = append(h, "", "Port forwards to the PBX:")
		for _, e := range c.portmaps {
			h = append(h, fmt.Sprintf("  srv nat portmap %d: %s -> %s from %s %d [%s]", e.idx, e.svc, e.addr, srcTypeName(e.srcType), e.srcIdx, commentSafe(e.rules[0].Origin.String())))
		}
		for _, e := range c.openports {
			h = append(h, fmt.Sprintf("  srv nat openport %d: %s -> %s from %s %d [%s]", e.idx, e.svc, e.addr, srcTypeName(e.srcType), e.srcIdx, commentSafe(e.rules[0].Origin.String())))
		}
	}
	if len(c.obj4)+len(c.obj6) > 0 && len(c.obj4)+len(c.obj6) <= 64 {
		h = append(h, "", "Address objects:")
		for _, o := range c.obj4 {
			h = append(h, fmt.Sprintf("  object ip obj %d %s = %s (%s)", o.idx, o.name, o.r, o.set))
		}
		for _, o := range c.obj6 {
			h = append(h, fmt.Sprintf("  object ipv6 obj %d %s = %s (%s)", o.idx, o.name, o.r, o.set))
		}
	}
	h = append(h, "", HeaderEnd)
	return h
}

// indexes maps items to their table indexes.
func indexes[T any](items []T, idx func(T) int) []int {
	var out []int
	for _, it := range items {
		out = append(out, idx(it))
	}
	return out
}

func srcTypeName(t int) string {
	if t == 1 {
		return "ip grp"
	}
	return "ip obj"
}

// v4Addr is the -a argument of an IPv4 object: 1 single, 0 subnet+mask, 3 range.
func v4Addr(r netipx.IPRange) string {
	if r.From() == r.To() {
		return "1 " + r.From().String()
	}
	if p, ok := r.Prefix(); ok {
		return "0 " + p.Addr().String() + " " + net.IP(net.CIDRMask(p.Bits(), 32)).String()
	}
	return "3 " + r.From().String() + " " + r.To().String()
}

func joinInts(n []int) string {
	s := make([]string, len(n))
	for i, x := range n {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, " ")
}

// ranges prints sorted indexes compactly: "1-4,7".
func ranges(n []int) string {
	n = append([]int(nil), n...)
	sort.Ints(n)
	var parts []string
	for i := 0; i < len(n); {
		j := i
		for j+1 < len(n) && n[j+1] == n[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(n[i]))
		} else {
			parts = append(parts, strconv.Itoa(n[i])+"-"+strconv.Itoa(n[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// neverName names the never-matching placeholder objects and groups.
const neverName = "vw_never"

type placeholder struct{ v6, grp bool }

// placeholders are the never-matching entries at neverIndex, for each IP
// table voicewall writes to (objects before the groups that hold them).
func (c *compiler) placeholders() []placeholder {
	var out []placeholder
	if len(c.obj4) > 0 {
		out = append(out, placeholder{})
	}
	if len(c.obj6) > 0 {
		out = append(out, placeholder{v6: true})
	}
	if len(c.grp4) > 0 {
		out = append(out, placeholder{grp: true})
	}
	if len(c.grp6) > 0 {
		out = append(out, placeholder{v6: true, grp: true})
	}
	return out
}
