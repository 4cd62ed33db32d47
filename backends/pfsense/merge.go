package pfsense

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// The --base merge is a splice at token level: the exported config.xml is
// scanned once with encoding/xml for byte offsets; the items voicewall owns
// (descr starting with "voicewall:") are cut out and the new ones inserted
// where the first owned one was (or at the documented default place). Every
// other byte of the base is copied unchanged.

type span struct{ start, end int }

// container is one element voicewall writes items into.
type container struct {
	found bool
	start span // the start tag
	end   span // the end tag (end.start == end.end when self-closing)
	depth int  // nesting depth of the element (root = 0)
	owned []span
}

type baseInfo struct {
	data []byte
	root container

	aliases, filter, nat, outbound, vlans container

	modeFound bool
	modeSpan  span   // the whole <mode> element
	mode      string // its text

	ownedComments []span

	foreignAliases  []string
	foreignTrackers []uint32
	foreignVLANs    map[string]bool   // vlanif of VLANs voicewall does not own
	ifDevice        map[string]string // interface key → device (<if>)
	ifByDevice      map[string]string // device → interface key
	ifKeys          map[string]bool   // every interface key (wan, lan, optN)
	ifDescrs        []string
}

type frame struct {
	name  string
	start int
	// item state
	fields  map[string]string
	inField string
}

func scanBase(data []byte) (*baseInfo, error) {
	b := &baseInfo{data: data, foreignVLANs: map[string]bool{}, ifDevice: map[string]string{}, ifByDevice: map[string]string{}, ifKeys: map[string]bool{}}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	containers := map[string]*container{
		"pfsense": &b.root, "pfsense/aliases": &b.aliases, "pfsense/filter": &b.filter,
		"pfsense/nat": &b.nat, "pfsense/nat/outbound": &b.outbound, "pfsense/vlans": &b.vlans,
	}
	var stack []*frame
	// paths[i] is the path of stack[:i+1]: kept as the stack grows, so a
	// deep document costs one join per element, not one per level
	var paths []string
	path := func() string {
		if len(paths) == 0 {
			return ""
		}
		return paths[len(paths)-1]
	}
	var item *frame // the current alias/rule/vlan/interface being read
	itemDepth := -1
	var itemKind string
	for {
		before := int(dec.InputOffset())
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		after := int(dec.InputOffset())
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				line := 1 + bytes.Count(data[:before], []byte("\n"))
				return nil, fmt.Errorf("line %d: elements nested deeper than %d (a pfSense config.xml is a few levels deep)", line, maxXMLDepth)
			}
			f := &frame{name: t.Name.Local, start: before}
			if len(stack) == 0 {
				paths = append(paths, f.name)
			} else {
				paths = append(paths, paths[len(paths)-1]+"/"+f.name)
			}
			stack = append(stack, f)
			p := path()
			if cn, ok := containers[p]; ok {
				*cn = container{found: true, start: span{before, after}, depth: len(stack) - 1}
			}
			switch p {
			case "pfsense/aliases/alias", "pfsense/filter/rule", "pfsense/nat/rule", "pfsense/nat/outbound/rule", "pfsense/vlans/vlan":
				item, itemDepth, itemKind = f, len(stack), p
				f.fields = map[string]string{}
			case "pfsense/nat/outbound/mode":
				b.modeFound = true
				b.modeSpan.start = before
			default:
				if len(stack) == 3 && stack[1].name == "interfaces" {
					item, itemDepth, itemKind = f, len(stack), "pfsense/interfaces/*"
					f.fields = map[string]string{}
				}
			}
			if item != nil && len(stack) == itemDepth+1 {
				item.inField = t.Name.Local
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, errors.New("unbalanced end tag")
			}
			f := stack[len(stack)-1]
			p := path()
			if cn, ok := containers[p]; ok {
				cn.end = span{before, after}
			}
			if p == "pfsense/nat/outbound/mode" {
				b.modeSpan.end = after
			}
			if item != nil && len(stack) == itemDepth+1 {
				item.inField = ""
			}
			if item == f {
				b.finishItem(itemKind, f, span{f.start, after})
				item, itemDepth = nil, -1
			}
			stack = stack[:len(stack)-1]
			paths = paths[:len(paths)-1]
		case xml.CharData:
			if path() == "pfsense/nat/outbound/mode" {
				b.mode += string(t)
			}
			if item != nil && item.inField != "" && len(stack) == itemDepth+1 {
				item.fields[item.inField] += string(t)
			}
		case xml.Comment:
			if len(stack) == 1 && strings.HasPrefix(strings.TrimSpace(string(t)), "voicewall") {
				b.ownedComments = append(b.ownedComments, span{before, after})
			}
		}
	}
	if !b.root.found || b.root.end.end == 0 {
		return nil, errors.New("no <pfsense> root element")
	}
	if len(stack) != 0 {
		return nil, errors.New("unexpected end of document")
	}
	return b, nil
}

func owned(descr string) bool {
	return strings.HasPrefix(strings.TrimLeft(descr, " \t\r\n"), Owner)
}

func (b *baseInfo) finishItem(kind string, f *frame, sp span) {
	d := f.fields["descr"]
	own := owned(d)
	add := func(c *container) {
		if own {
			c.owned = append(c.owned, sp)
		}
	}
	switch kind {
	case "pfsense/aliases/alias":
		add(&b.aliases)
		if !own {
			b.foreignAliases = append(b.foreignAliases, strings.TrimSpace(f.fields["name"]))
		}
	case "pfsense/filter/rule":
		add(&b.filter)
		if !own {
			if v, err := strconv.ParseUint(strings.TrimSpace(f.fields["tracker"]), 10, 32); err == nil {
				b.foreignTrackers = append(b.foreignTrackers, uint32(v))
			}
		}
	case "pfsense/nat/rule":
		add(&b.nat)
	case "pfsense/nat/outbound/rule":
		add(&b.outbound)
	case "pfsense/vlans/vlan":
		add(&b.vlans)
		if !own {
			vif := strings.TrimSpace(f.fields["vlanif"])
			if vif == "" {
				vif = strings.TrimSpace(f.fields["if"]) + "." + strings.TrimSpace(f.fields["tag"])
			}
			b.foreignVLANs[vif] = true
		}
	case "pfsense/interfaces/*":
		b.ifKeys[f.name] = true
		dev := strings.TrimSpace(f.fields["if"])
		if dev != "" {
			b.ifDevice[f.name] = dev
			if _, ok := b.ifByDevice[dev]; !ok {
				b.ifByDevice[dev] = f.name
			}
		}
		if d := strings.TrimSpace(d); d != "" {
			b.ifDescrs = append(b.ifDescrs, d)
		}
	}
}

type edit struct {
	start, end int
	text       string
}

// lineSpan widens an item span to its whole line(s) when the item stands on
// lines of its own, so that removing it leaves no blank line behind.
func lineSpan(data []byte, sp span) span {
	s := sp.start
	for s > 0 && (data[s-1] == ' ' || data[s-1] == '\t') {
		s--
	}
	if s != 0 && data[s-1] != '\n' {
		return sp
	}
	e := sp.end
	for e < len(data) && (data[e] == ' ' || data[e] == '\t') {
		e++
	}
	if e < len(data) && data[e] == '\r' {
		e++
	}
	if e < len(data) && data[e] == '\n' {
		return span{s, e + 1}
	}
	if e == len(data) {
		return span{s, e}
	}
	return sp
}

// afterStartLine is the position just after a start tag and its newline.
func afterStartLine(data []byte, tag span) (int, bool) {
	p := tag.end
	q := p
	for q < len(data) && (data[q] == ' ' || data[q] == '\t' || data[q] == '\r') {
		q++
	}
	if q < len(data) && data[q] == '\n' {
		return q + 1, true
	}
	return p, false
}

// beforeEndLine is the start of the line holding an end tag (when nothing
// else precedes it on that line).
func beforeEndLine(data []byte, tag span) (int, bool) {
	s := tag.start
	for s > 0 && (data[s-1] == ' ' || data[s-1] == '\t') {
		s--
	}
	if s > 0 && data[s-1] == '\n' {
		return s, true
	}
	return tag.start, false
}

func indent(n int) string { return strings.Repeat("\t", n) }

// renderItems marshals items, each on its own lines at the given depth.
func renderItems[T any](items []T, depth int) (string, error) {
	var b strings.Builder
	for _, it := range items {
		out, err := xml.MarshalIndent(it, indent(depth), "\t")
		if err != nil {
			return "", err
		}
		b.Write(out)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// spliceContainer removes the owned items of c and inserts text (already
// indented, line-terminated) at the first owned place or the default place
// (atStart: right after the start tag; else before the end tag). When the
// container is missing, wrap is used to create it before parent's end tag.
func (b *baseInfo) spliceContainer(c *container, parent *container, name string, text string, atStart bool, edits *[]edit) {
	b.spliceAt(c, parent, name, text, atStart, nil, edits)
}

// spliceAt is spliceContainer with an optional element (after) whose line
// the default insertion follows (outbound NAT: after <mode>).
func (b *baseInfo) spliceAt(c *container, parent *container, name string, text string, atStart bool, after *span, edits *[]edit) {
	data := b.data
	if !c.found {
		if text == "" {
			return
		}
		d := parent.depth + 1
		block := indent(d) + "<" + name + ">\n" + text + indent(d) + "</" + name + ">\n"
		pos, ok := beforeEndLine(data, parent.end)
		*edits = append(*edits, insertion(pos, ok, block))
		return
	}
	if c.end.start == c.end.end { // self-closing: <aliases/>
		if text == "" {
			return
		}
		*edits = append(*edits, edit{c.start.start, c.end.end, "<" + name + ">\n" + text + indent(c.depth) + "</" + name + ">"})
		return
	}
	// Ordered containers (filter rules, NAT rules) always get voicewall's
	// items first, so the blocklist precedes the admin's rules; unordered
	// ones (aliases, VLANs) keep them where they were, else at the end.
	ordered := atStart || after != nil
	sort.Slice(c.owned, func(i, j int) bool { return c.owned[i].start < c.owned[j].start })
	insertAt := -1
	for i, sp := range c.owned {
		ls := lineSpan(data, sp)
		if i == 0 && !ordered {
			insertAt = ls.start
			*edits = append(*edits, edit{ls.start, ls.end, text})
			continue
		}
		*edits = append(*edits, edit{ls.start, ls.end, ""})
	}
	if insertAt >= 0 || text == "" {
		return
	}
	if after != nil {
		pos, ok := afterStartLine(data, *after)
		*edits = append(*edits, insertion(pos, ok, text))
		return
	}
	if atStart {
		pos, ok := afterStartLine(data, c.start)
		*edits = append(*edits, insertion(pos, ok, text))
		return
	}
	pos, ok := beforeEndLine(data, c.end)
	if !ok {
		text = "\n" + text + indent(c.depth)
	}
	*edits = append(*edits, edit{pos, pos, text})
}

func applyEdits(data []byte, edits []edit) ([]byte, error) {
	// By position; at the same position insertions go before deletions.
	sort.SliceStable(edits, func(i, j int) bool {
		if edits[i].start != edits[j].start {
			return edits[i].start < edits[j].start
		}
		return edits[i].end-edits[i].start < edits[j].end-edits[j].start
	})
	var out bytes.Buffer
	pos := 0
	for _, e := range edits {
		if e.start < pos {
			return nil, fmt.Errorf("overlapping edits at byte %d", e.start)
		}
		out.Write(data[pos:e.start])
		out.WriteString(e.text)
		pos = e.end
	}
	out.Write(data[pos:])
	return out.Bytes(), nil
}

// merge splices the compiled items into the base config.
func (c *compiler) merge() ([]byte, error) {
	b := c.base
	data := b.data
	var edits []edit

	// Header comment (what --allow-degraded left out): replace ours.
	var comment string
	if len(c.notes) > 0 {
		comment = indent(1) + "<!--" + commentSafe(clean2(" voicewall: "+strings.Join(c.notes, "\n     "))) + " -->\n"
	}
	if len(b.ownedComments) > 0 {
		for i, sp := range b.ownedComments {
			ls := lineSpan(data, sp)
			t := ""
			if i == 0 {
				t = comment
			}
			edits = append(edits, edit{ls.start, ls.end, t})
		}
	} else if comment != "" {
		pos, ok := afterStartLine(data, b.root.start)
		edits = append(edits, insertion(pos, ok, comment))
	}

	depth := func(cn *container, parentDepth int) int {
		if cn.found {
			return cn.depth + 1
		}
		return parentDepth + 2
	}

	aliasText, err := renderItems(c.aliases, depth(&b.aliases, 0))
	if err != nil {
		return nil, err
	}
	b.spliceContainer(&b.aliases, &b.root, "aliases", aliasText, false, &edits)

	filterText, err := renderItems(c.allFilterRules(), depth(&b.filter, 0))
	if err != nil {
		return nil, err
	}
	b.spliceContainer(&b.filter, &b.root, "filter", filterText, true, &edits)

	vlanText, err := renderItems(c.vlans, depth(&b.vlans, 0))
	if err != nil {
		return nil, err
	}
	b.spliceContainer(&b.vlans, &b.root, "vlans", vlanText, false, &edits)

	if !b.nat.found {
		// Build the whole <nat> element.
		if len(c.natRules) > 0 || len(c.outRules) > 0 {
			out, err := c.natXML(indent(1))
			if err != nil {
				return nil, err
			}
			pos, ok := beforeEndLine(data, b.root.end)
			t := string(out) + "\n"
			if !ok {
				t = "\n" + t
			}
			edits = append(edits, edit{pos, pos, t})
		}
		return applyEdits(data, edits)
	}

	natText, err := renderItems(c.natRules, b.nat.depth+1)
	if err != nil {
		return nil, err
	}
	if b.nat.end.start == b.nat.end.end {
		// <nat/>: replace it whole.
		out, err := c.natXML("")
		if err != nil {
			return nil, err
		}
		t := strings.ReplaceAll(string(out), "\n", "\n"+indent(b.nat.depth))
		edits = append(edits, edit{b.nat.start.start, b.nat.end.end, t})
		return applyEdits(data, edits)
	}
	b.spliceContainer(&b.nat, &b.root, "nat", natText, true, &edits)

	outText, err := renderItems(c.outRules, depth(&b.outbound, b.nat.depth))
	if err != nil {
		return nil, err
	}
	if len(c.outRules) > 0 && !b.outbound.found {
		d := b.nat.depth + 1
		block := indent(d) + "<outbound>\n" + indent(d+1) + "<mode>hybrid</mode>\n" + outText + indent(d) + "</outbound>\n"
		pos, ok := beforeEndLine(data, b.nat.end)
		edits = append(edits, insertion(pos, ok, block))
		return applyEdits(data, edits)
	}
	if b.outbound.found && len(c.outRules) > 0 {
		mode := strings.TrimSpace(b.mode)
		switch {
		case !b.modeFound:
			// <mode> goes first, in the same insertion as the rules.
			outText = indent(b.outbound.depth+1) + "<mode>hybrid</mode>\n" + outText
		case mode != "hybrid" && mode != "advanced" && mode != "disabled":
			// "automatic", empty, or a value pfSense does not know (it
			// falls back to automatic): switch to hybrid.
			edits = append(edits, edit{b.modeSpan.start, b.modeSpan.end, "<mode>hybrid</mode>"})
		case mode == "disabled":
			c.Warnf(c.t.Origin, "outbound NAT is disabled in the base config",
				"The static-port outbound NAT rules for the voice hosts are written but have no effect while Firewall > NAT > Outbound is disabled.")
		}
		// hybrid and advanced (manual) both evaluate the manual rules first.
		if b.outbound.end.start == b.outbound.end.end {
			edits = append(edits, edit{b.outbound.start.start, b.outbound.end.end,
				"<outbound>\n" + outText + indent(b.outbound.depth) + "</outbound>"})
			// the mode edit above (if any) is inside this span; drop it
			edits = dropInside(edits, b.outbound.start.start, b.outbound.end.end)
			return applyEdits(data, edits)
		}
	}
	var after *span
	if b.modeFound {
		after = &b.modeSpan
	}
	b.spliceAt(&b.outbound, &b.nat, "outbound", outText, true, after, &edits)
	return applyEdits(data, edits)
}

// dropInside removes edits strictly inside (start,end) except the one
// spanning exactly [start,end).
func dropInside(edits []edit, start, end int) []edit {
	var out []edit
	for _, e := range edits {
		if e.start >= start && e.end <= end && !(e.start == start && e.end == end) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// insertion inserts text at pos, ending the line first when pos is not at
// the start of one (ok false from afterStartLine or beforeEndLine).
func insertion(pos int, atLineStart bool, text string) edit {
	if !atLineStart {
		text = "\n" + text
	}
	return edit{pos, pos, text}
}
