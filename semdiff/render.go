package semdiff

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/voicewall/voicewall/lang"
	"go4.org/netipx"
)

// listMax is how many address ranges a line lists before it summarises
// them as a count with samples.
const listMax = 6

// samples is how many ranges a summary shows.
const samples = 3

var (
	allV4 = netipx.IPRangeFrom(netip.IPv4Unspecified(), netip.AddrFrom4([4]byte{255, 255, 255, 255}))
	allV6 = netipx.IPRangeFrom(netip.IPv6Unspecified(), netip.AddrFrom16([16]byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255}))
)

// rangeText is a range as people write it: a host, a CIDR, two CIDRs, or
// FIRST-LAST.
func rangeText(r netipx.IPRange) string {
	if r.From() == r.To() {
		return r.From().String()
	}
	ps := r.Prefixes()
	if len(ps) <= 2 {
		parts := make([]string, len(ps))
		for i, p := range ps {
			parts[i] = p.String()
		}
		return strings.Join(parts, ", ")
	}
	return r.From().String() + "-" + r.To().String()
}

// familyRanges splits a set's ranges by family.
func familyRanges(s Addrs) (v4, v6 Addrs) { return s.Family(false), s.Family(true) }

// listText lists ranges, or when there are many, counts them and shows samples.
func listText(rs Addrs) string {
	if len(rs) <= listMax {
		parts := make([]string, len(rs))
		for i, r := range rs {
			parts[i] = rangeText(r)
		}
		return strings.Join(parts, ", ")
	}
	var v4 uint64
	var n6 int
	for _, r := range rs {
		if r.From().Is4() {
			a, b := r.From().As4(), r.To().As4()
			v4 += uint64(be32(b)) - uint64(be32(a)) + 1
		} else {
			n6++
		}
	}
	var what []string
	if v4 > 0 {
		what = append(what, thousands(v4)+" IPv4 addresses")
	}
	if n6 > 0 {
		what = append(what, strconv.Itoa(n6)+" IPv6 ranges")
	}
	ex := make([]string, 0, samples)
	for _, r := range rs[:samples] {
		ex = append(ex, rangeText(r))
	}
	return fmt.Sprintf("%s ranges (%s), e.g. %s, … %s more", thousands(uint64(len(rs))), strings.Join(what, ", "), strings.Join(ex, ", "), thousands(uint64(len(rs)-samples)))
}

func be32(b [4]byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// addrText spells an address set for a line: "any", "any IPv4", a list,
// "any except LIST" when the complement is the shorter, or a count with
// samples.
func addrText(s Addrs) string {
	v4, v6 := familyRanges(s)
	full4 := len(v4) == 1 && v4[0] == allV4
	full6 := len(v6) == 1 && v6[0] == allV6
	switch {
	case full4 && full6:
		return "any"
	case len(v4) == 0 && len(v6) == 0:
		return "nothing"
	}
	c4, c6 := complement(v4, allV4), complement(v6, allV6)
	// "any except": both families mostly covered (or one fully, the other absent).
	if (len(v4) > 0 || full6) && (len(v6) > 0 || full4) && len(c4)+len(c6) < len(v4)+len(v6) {
		return "any except " + listText(append(c4, c6...))
	}
	var parts []string
	for _, fam := range []struct {
		rs, comp Addrs
		full     bool
		name     string
	}{{v4, c4, full4, "IPv4"}, {v6, c6, full6, "IPv6"}} {
		switch {
		case len(fam.rs) == 0:
		case fam.full:
			parts = append(parts, "any "+fam.name)
		case len(fam.comp) < len(fam.rs):
			parts = append(parts, "any "+fam.name+" except "+listText(fam.comp))
		default:
			parts = append(parts, listText(fam.rs))
		}
	}
	return strings.Join(parts, ", ")
}

// labeller names addresses the policies name: a PBX's address, a voice
// VLAN's subnets, and address sets by the block that declares them.
type labeller struct {
	pol   [2]*lang.Policy
	named []namedSet
}

// namedSet is an address set of a policy with its name for people:
// `blocklist "scanners"`, `provider "carrier" media`.
type namedSet struct {
	name string
	set  Addrs
}

func newLabeller(old, new *lang.Policy) labeller {
	l := labeller{pol: [2]*lang.Policy{old, new}}
	seen := map[string]Addrs{}
	for side := 1; side >= 0; side-- {
		for _, ref := range l.pol[side].Sets() {
			name := setName(ref)
			if name == "" {
				continue
			}
			set := addrsOf(ref.Set.Ranges(false), ref.Set.Ranges(true))
			if prev, ok := seen[name]; ok {
				if prev.Equal(set) {
					continue
				}
				name += " (before)"
			}
			seen[name] = set
			l.named = append(l.named, namedSet{name, set})
		}
		if side == 0 {
			l.named = append(l.named, namedSet{"private and link-local addresses", addrsOf(localNets.Ranges(false), localNets.Ranges(true))})
		}
		for _, x := range l.pol[side].PBXes {
			name := `pbx "` + x.Name + `"`
			var set Addrs
			for _, a := range x.Addresses() {
				set = append(set, netipx.IPRangeFrom(a, a))
			}
			if _, ok := seen[name]; !ok {
				seen[name] = set
				l.named = append(l.named, namedSet{name, set})
			}
		}
	}
	return l
}

// setName names a set by its role and owner block; "" for sets that are
// not worth a name (an allow_out destination is its own address).
func setName(ref *lang.AddrRef) string {
	switch ref.Role {
	case lang.RoleBlocklist:
		return ref.Owner.Block()
	case lang.RoleSignaling, lang.RoleMedia, lang.RoleManagement:
		return ref.Owner.Block() + " " + string(ref.Role)
	case lang.RoleVLANSubnets:
		return ref.Owner.Block()
	}
	return ""
}

// byName spells s with named sets when it is exactly one of them, or
// exactly everything but a union of them: "any but blocklist "scanners",
// provider "carrier" media".
func (l labeller) byName(s Addrs) string {
	for _, n := range l.named {
		if n.set.Equal(s) {
			if strings.HasSuffix(n.name, " (before)") && len(s) <= listMax {
				return "" // the addresses say more than the old version's name
			}
			if len(s) <= listMax {
				return n.name + " (" + addrText(s) + ")"
			}
			return n.name + " (" + plural(len(s), "range") + ")"
		}
	}
	v4, v6 := familyRanges(s)
	var comp Addrs
	if len(v4) > 0 {
		comp = append(comp, complement(v4, allV4)...)
	}
	if len(v6) > 0 {
		comp = append(comp, complement(v6, allV6)...)
	}
	// Named sets (of the families s has) inside the complement; those the
	// others already cover are left out.
	var cands []namedSet
	for _, n := range l.named {
		set := n.set
		if len(v4) == 0 {
			set = set.Family(true)
		} else if len(v6) == 0 {
			set = set.Family(false)
		}
		if len(set) > 0 && set.Subset(comp) {
			cands = append(cands, namedSet{n.name, set})
		}
	}
	// Largest first, each kept only when it adds addresses: one walk per
	// candidate, whatever the size of a blocklist among them.
	slices.SortStableFunc(cands, func(a, b namedSet) int { return cmp.Compare(b.set.size(), a.set.size()) })
	var names []string
	var union Addrs
	for _, c := range cands {
		if len(union) > 0 && c.set.Subset(union) {
			continue
		}
		names = append(names, c.name)
		union = union.Union(c.set)
	}
	if len(names) > 0 && union.Equal(comp) {
		fam := ""
		switch {
		case len(v4) == 0:
			fam = " IPv6"
		case len(v6) == 0:
			fam = " IPv4"
		}
		return "any" + fam + " but " + strings.Join(names, ", ")
	}
	return ""
}

func (l labeller) dstText(c *Change) string {
	if c.Gateway && coversFamiliesOf(c.Dst, c.Src) {
		return "anywhere" // the gateway and every address a source of the line can send to
	}
	s := l.label(c.Dst)
	if s == "" {
		s = l.byName(c.Dst)
	}
	if s == "" {
		s = addrText(c.Dst)
	}
	switch {
	case !c.Gateway:
		return s
	case s == "nothing":
		return "gateway"
	}
	return "gateway, " + s
}

// coversFamiliesOf: dst holds every address of each family src has.
func coversFamiliesOf(dst, src Addrs) bool {
	s4, s6 := familyRanges(src)
	d4, d6 := familyRanges(dst)
	return (len(s4) == 0 || len(d4) == 1 && d4[0] == allV4) && (len(s6) == 0 || len(d6) == 1 && d6[0] == allV6)
}

func (l labeller) label(s Addrs) string {
	for i := 1; i >= 0; i-- {
		p := l.pol[i]
		for _, x := range p.PBXes {
			var set Addrs
			for _, a := range x.Addresses() {
				set = append(set, netipx.IPRangeFrom(a, a))
			}
			if set.Equal(s) {
				return `pbx "` + x.Name + `" ` + addrText(s)
			}
		}
		for _, v := range p.VoiceVLANs {
			if addrsOf(v.Subnets.Ranges(false), v.Subnets.Ranges(true)).Equal(s) {
				return `voice_vlan "` + v.Name + `" ` + addrText(s)
			}
		}
	}
	return ""
}

// whenText says which run-time memberships a line is about: "" for all of
// them, else what they have in common ("when banned"), else each.
func whenText(c *Change) string {
	if c.AllWhen {
		return ""
	}
	all := func(f func(Dynamic) bool) bool {
		for _, w := range c.When {
			if !f(w) {
				return false
			}
		}
		return true
	}
	var parts []string
	switch {
	case all(func(w Dynamic) bool { return w.Banned }):
		parts = append(parts, "banned")
	case all(func(w Dynamic) bool { return !w.Banned }) && len(c.When) < 4:
		parts = append(parts, "not banned")
	}
	switch {
	case all(func(w Dynamic) bool { return w.Trusted }):
		parts = append(parts, "a trusted remote phone")
	case all(func(w Dynamic) bool { return !w.Trusted }) && (len(parts) == 0 || !c.When[0].Banned):
		parts = append(parts, "not a trusted remote phone")
	}
	return "when " + strings.Join(parts, " and ")
}

func (l labeller) srcText(c *Change) string {
	s := l.byName(c.Src)
	if s == "" {
		s = addrText(c.Src)
	}
	if w := whenText(c); w != "" {
		s += " " + w
	}
	if len(c.Zones) == 1 && c.Zones[0] == lang.ZoneWAN {
		return s
	}
	return s + " in zone " + strings.Join(c.Zones, ", ")
}

func portsText(rs []lang.PortRange, proto lang.Proto) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String() + "/" + proto.String()
	}
	return out
}

func fullPorts(rs []lang.PortRange) bool {
	return len(rs) == 1 && rs[0].First == 1 && rs[0].Last == 65535
}

// portComplement is 1-65535 minus rs (sorted, merged).
func portComplement(rs []lang.PortRange) []lang.PortRange {
	var out []lang.PortRange
	next := 1
	for _, r := range lang.MergePortRanges(rs) {
		if int(r.First) > next {
			out = append(out, lang.PortRange{First: uint16(next), Last: r.First - 1})
		}
		next = int(r.Last) + 1
	}
	if next <= 65535 {
		out = append(out, lang.PortRange{First: uint16(next), Last: 65535})
	}
	return out
}

func serviceText(s Service) string {
	if s.Other {
		names := make([]string, len(s.Except))
		for i, p := range s.Except {
			names[i] = p.String()
		}
		return "any protocol but " + strings.Join(names, "/")
	}
	var out string
	switch comp := portComplement(s.DstPorts); {
	case len(comp) == 0:
		out = "any " + s.Proto.String() + " port"
	case len(comp) < len(s.DstPorts):
		out = "any " + s.Proto.String() + " port but " + bareRanges(comp)
	default:
		out = strings.Join(portsText(s.DstPorts, s.Proto), ", ")
	}
	if s.SrcPorts != nil {
		out += " from port " + bareRanges(s.SrcPorts)
	}
	return out
}

func bareRanges(rs []lang.PortRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

// servicesText spells a change's services, as "any except ..." when the
// services are every protocol and port but a few.
func servicesText(list []Service) string {
	hasOther := false
	byProto := map[lang.Proto][]lang.PortRange{}
	var protos []lang.Proto
	srcLimited := false
	listed := 0
	for _, s := range list {
		if s.Other {
			hasOther = true
			for _, p := range s.Except {
				if _, ok := byProto[p]; !ok {
					byProto[p] = nil
					protos = append(protos, p)
				}
			}
			continue
		}
		if s.SrcPorts != nil {
			srcLimited = true
		}
		if _, ok := byProto[s.Proto]; !ok {
			protos = append(protos, s.Proto)
		}
		byProto[s.Proto] = append(byProto[s.Proto], s.DstPorts...)
		listed += len(s.DstPorts)
	}
	if hasOther && !srcLimited {
		var except []string
		for _, p := range protos {
			except = append(except, portsText(portComplement(byProto[p]), p)...)
		}
		if len(except) == 0 {
			return "every protocol and port"
		}
		if len(except) < listed {
			return "every protocol and port but " + strings.Join(except, ", ")
		}
	}
	parts := make([]string, len(list))
	sep := ", "
	for i, s := range list {
		parts[i] = serviceText(s)
		if strings.Contains(parts[i], ", ") {
			sep = "; " // a service with a list of its own
		}
	}
	return strings.Join(parts, sep)
}

// outcomeText spells one side of a change; DSCP and rate limits only when
// they differ from the other side's.
func outcomeText(o, other Outcome) string {
	if o.Verdict == lang.Drop {
		return "drop"
	}
	s := "accept"
	if !o.Managed {
		s = "not managed"
	}
	if o.Forward.IsValid() {
		s += ", forwarded to "
		if o.PBX != "" {
			s += `pbx "` + o.PBX + `" `
		}
		s += o.Forward.String()
	}
	if o.DSCP != other.DSCP && (o.DSCP != "" || other.passes()) {
		s += ", dscp " + cmpOr(o.DSCP, "none")
	}
	if o.Rate != other.Rate && (o.Rate != "" || other.passes()) {
		s += ", rate limit " + cmpOr(o.Rate, "none")
	}
	return s
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// whyText names the deciding blocks: the new one, and the old one when it
// was another block of the policy (a built-in default is the backdrop);
// when the new policy leaves the class to the defaults, the old block, and
// whether it is gone or changed.
func whyText(c *Change) string {
	n, o := c.NewBy, c.OldBy
	switch {
	case n.Pos != "" && o.Pos != "" && o.Block != n.Block:
		return n.text() + "; was " + o.text()
	case n.Pos != "" && o.Pos != "" && o.Pos != n.Pos:
		return n.text() + ", was " + o.Pos
	case n.Pos != "":
		return n.text()
	case o.Pos != "":
		s := o.text() + " changed"
		if c.OldByGone {
			s = o.text() + " removed"
		}
		if n.Block != "" {
			s += "; now " + n.text()
		}
		return s
	case n.Block != "":
		return n.text()
	}
	return o.text()
}

// Line is a change as one line of text:
// `203.0.113.12 → anywhere on 5060/udp: drop → accept, forwarded to pbx "asterisk" 10.20.0.10 (provider "carrier", gw.hcl:15)`.
func (l labeller) Line(c *Change) string {
	s := fmt.Sprintf("%s → %s on %s: %s → %s", l.srcText(c), l.dstText(c), servicesText(c.Services), outcomeText(c.Old, c.New), outcomeText(c.New, c.Old))
	if w := whyText(c); w != "" {
		s += " (" + w + ")"
	}
	return s
}

// Renderer writes a report; it names PBXes and voice VLANs from the two policies.
type Renderer struct {
	l labeller
}

// NewRenderer renders reports of old → new.
func NewRenderer(old, new *lang.Policy) *Renderer {
	return &Renderer{newLabeller(old, new)}
}

// Line is one change as text.
func (r *Renderer) Line(c *Change) string { return r.l.Line(c) }

func kindTitle(k Kind) string {
	switch k {
	case Opened:
		return "Let in now (dropped before):"
	case Shut:
		return "Dropped now (let in before):"
	}
	return "Passes differently:"
}

func gapText(g GapChange) string {
	what := lang.GapNames[g.Class]
	if what == "" {
		what = g.Class
	}
	switch {
	case g.Old == nil:
		return fmt.Sprintf("%s: %s (%s) is no longer enforced: %s (%s gap, %s)", g.Target, g.Block, g.New.Pos, g.New.What, g.Class, acceptedText(g.New))
	case g.New == nil:
		return fmt.Sprintf("%s: %s is enforced now (was the %s gap: %s not enforced, %s)", g.Target, g.Block, g.Class, what, acceptedText(g.Old))
	}
	return fmt.Sprintf("%s: %s (%s): %s gap (%s not enforced) now %s; was %s", g.Target, g.Block, g.New.Pos, g.Class, what, acceptedText(g.New), acceptedText(g.Old))
}

func acceptedText(g *GapState) string {
	if g.Accepted {
		return "accepted in accept_gaps"
	}
	return "not accepted (the compile fails without --allow-degraded)"
}

func noteText(n GapNote) string {
	what := lang.GapNames[n.Class]
	if what == "" {
		what = n.Class
	}
	return fmt.Sprintf("%s: %s (%s) has the %s gap there (%s not enforced): its changes above may not fully reach %s", n.Target, n.Block, n.Pos, n.Class, what, n.Target)
}

// Text writes the report for people.
func (r *Renderer) Text(w io.Writer, rep *Report) error {
	var b strings.Builder
	switch {
	case rep.Same():
		b.WriteString("No changes in meaning.\n")
	case len(rep.Changes) > 0:
		fmt.Fprintf(&b, "%s in meaning (%s).\n", plural(len(rep.Changes), "change"), kindCounts(rep.Changes))
	default:
		fmt.Fprintf(&b, "No changes in the policy's meaning; %s from capability gaps.\n", plural(len(rep.Gaps), "per-target difference"))
	}
	var kind Kind
	for i := range rep.Changes {
		c := &rep.Changes[i]
		if c.Kind != kind {
			kind = c.Kind
			fmt.Fprintf(&b, "\n%s\n", kindTitle(kind))
		}
		fmt.Fprintf(&b, "  %s\n", r.Line(c))
	}
	if len(rep.Gaps) > 0 {
		b.WriteString("\nPer target, from capability gaps only:\n")
		for _, g := range rep.Gaps {
			fmt.Fprintf(&b, "  %s\n", gapText(g))
		}
	}
	if len(rep.GapNotes) > 0 {
		b.WriteString("\nTargets that cannot carry every change above:\n")
		for _, n := range rep.GapNotes {
			fmt.Fprintf(&b, "  %s\n", noteText(n))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func kindCounts(cs []Change) string {
	n := map[Kind]int{}
	for _, c := range cs {
		n[c.Kind]++
	}
	var parts []string
	for _, k := range []Kind{Opened, Shut, Changed} {
		if n[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

// mdCell escapes text for a markdown table cell in a pull-request comment:
// no table breaks, no HTML, no links or emphasis from policy text.
func mdCell(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '|', '\\', '`', '*', '_', '[', ']', '<', '>', '#', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Markdown writes the report as a pull-request comment: a table, what the
// change lets in first.
func (r *Renderer) Markdown(w io.Writer, rep *Report, title string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### voicewall diff: %s\n\n", mdCell(title))
	if rep.Same() {
		b.WriteString("No changes in meaning.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	if len(rep.Changes) == 0 {
		fmt.Fprintf(&b, "No changes in the policy's meaning; %s from capability gaps.\n", plural(len(rep.Gaps), "per-target difference"))
	} else {
		fmt.Fprintf(&b, "**%s in meaning** (%s).\n\n", plural(len(rep.Changes), "change"), kindCounts(rep.Changes))
		b.WriteString("| | From | To | Traffic | Before | After | Decided by |\n|---|---|---|---|---|---|---|\n")
		for i := range rep.Changes {
			c := &rep.Changes[i]
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", c.Kind, mdCell(r.l.srcText(c)), mdCell(r.l.dstText(c)), mdCell(servicesText(c.Services)),
				mdCell(outcomeText(c.Old, c.New)), mdCell(outcomeText(c.New, c.Old)), mdCell(whyText(c)))
		}
	}
	if len(rep.Gaps) > 0 {
		b.WriteString("\n**Per target, from capability gaps only:**\n\n")
		for _, g := range rep.Gaps {
			fmt.Fprintf(&b, "- %s\n", mdCell(gapText(g)))
		}
	}
	if len(rep.GapNotes) > 0 {
		b.WriteString("\n**Targets that cannot carry every change above:**\n\n")
		for _, n := range rep.GapNotes {
			fmt.Fprintf(&b, "- %s\n", mdCell(noteText(n)))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON is the report for machines.
type JSON struct {
	Same        bool          `json:"same"`
	Changes     []JSONChange  `json:"changes"`
	Gaps        []JSONGap     `json:"gaps"`
	GapNotes    []JSONGapNote `json:"gap_notes"`
	Classes     int           `json:"classes"`
	Evaluations int           `json:"evaluations"`
}

// JSONChange is one change.
type JSONChange struct {
	Kind     string        `json:"kind"`
	Text     string        `json:"text"`
	Zones    []string      `json:"zones"`
	When     []Dynamic     `json:"when"`
	From     JSONAddrs     `json:"from"`
	Gateway  bool          `json:"to_gateway"`
	To       JSONAddrs     `json:"to"`
	Services []JSONService `json:"services"`
	Old      JSONOutcome   `json:"old"`
	New      JSONOutcome   `json:"new"`
}

// JSONAddrs is an address set: its text, and its ranges up to a cap.
type JSONAddrs struct {
	Text       string   `json:"text"`
	Ranges     []string `json:"ranges"`
	RangeCount int      `json:"range_count"`
}

// JSONService is one protocol's ports.
type JSONService struct {
	Proto    string   `json:"proto"` // "tcp", "udp", or "other" (every protocol but except)
	Except   []string `json:"except,omitempty"`
	Ports    []string `json:"ports,omitempty"`
	SrcPorts []string `json:"source_ports,omitempty"`
}

// JSONOutcome is one side of a change.
type JSONOutcome struct {
	Verdict string `json:"verdict"`
	Managed bool   `json:"managed"`
	Forward string `json:"forward,omitempty"`
	PBX     string `json:"pbx,omitempty"`
	DSCP    string `json:"dscp,omitempty"`
	Rate    string `json:"rate_limit,omitempty"`
	Block   string `json:"block,omitempty"`
	Pos     string `json:"position,omitempty"`
	Removed bool   `json:"block_removed,omitempty"`
}

// JSONGap is a per-target gap difference.
type JSONGap struct {
	Target string    `json:"target"`
	Class  string    `json:"gap"`
	Block  string    `json:"block"`
	Old    *GapState `json:"old"`
	New    *GapState `json:"new"`
	Text   string    `json:"text"`
}

// JSONGapNote is a GapNote.
type JSONGapNote struct {
	GapNote
	Text string `json:"text"`
}

// maxJSONRanges caps the ranges listed per address set (range_count has them all).
const maxJSONRanges = 1000

func jsonAddrs(rs Addrs, text string) JSONAddrs {
	j := JSONAddrs{Text: text, RangeCount: len(rs), Ranges: []string{}}
	for i, r := range rs {
		if i == maxJSONRanges {
			break
		}
		if p, ok := r.Prefix(); ok {
			j.Ranges = append(j.Ranges, p.String())
		} else {
			j.Ranges = append(j.Ranges, r.String())
		}
	}
	return j
}

func jsonOutcome(o Outcome, d Decider) JSONOutcome {
	j := JSONOutcome{Verdict: string(o.Verdict), Managed: o.Managed, PBX: o.PBX, DSCP: o.DSCP, Rate: o.Rate, Block: d.Block, Pos: d.Pos}
	if o.Forward.IsValid() {
		j.Forward = o.Forward.String()
	}
	return j
}

// JSON builds the machine-readable report.
func (r *Renderer) JSON(rep *Report) JSON {
	j := JSON{Same: rep.Same(), Changes: []JSONChange{}, Gaps: []JSONGap{}, GapNotes: []JSONGapNote{}, Classes: rep.Classes, Evaluations: rep.Evaluations}
	for i := range rep.Changes {
		c := &rep.Changes[i]
		jc := JSONChange{Kind: string(c.Kind), Text: r.Line(c), Zones: c.Zones, When: c.When, From: jsonAddrs(c.Src, r.l.srcText(c)), Gateway: c.Gateway,
			To: jsonAddrs(c.Dst, r.l.dstText(c)), Old: jsonOutcome(c.Old, c.OldBy), New: jsonOutcome(c.New, c.NewBy)}
		jc.Old.Removed = c.OldByGone
		for _, s := range c.Services {
			js := JSONService{Proto: s.Proto.String()}
			if s.Other {
				js.Proto = "other"
				for _, p := range s.Except {
					js.Except = append(js.Except, p.String())
				}
			}
			for _, p := range s.DstPorts {
				js.Ports = append(js.Ports, p.String())
			}
			for _, p := range s.SrcPorts {
				js.SrcPorts = append(js.SrcPorts, p.String())
			}
			jc.Services = append(jc.Services, js)
		}
		j.Changes = append(j.Changes, jc)
	}
	for _, g := range rep.Gaps {
		j.Gaps = append(j.Gaps, JSONGap{Target: g.Target, Class: g.Class, Block: g.Block, Old: g.Old, New: g.New, Text: gapText(g)})
	}
	for _, n := range rep.GapNotes {
		j.GapNotes = append(j.GapNotes, JSONGapNote{n, noteText(n)})
	}
	return j
}
