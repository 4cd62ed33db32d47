package pfsense

// The device reader: a pfSense config.xml as Diagnostics > Backup &
// Restore exports it (the whole file or any area of it), read liberally —
// every element the audit does not need is skipped — and lowered into the
// target-neutral devmodel for voicewall audit. The tests also read
// voicewall's own output back strictly (readFragment, reader_test.go).

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/voicewall/voicewall/devmodel"
	"go4.org/netipx"
)

// MaxConfigBytes bounds a config.xml (RRD data can make them large).
const MaxConfigBytes = 64 << 20

const maxXMLDepth = 64

// node is one XML element with the line it starts on.
type node struct {
	name string
	line int
	text string
	kids []*node
}

func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

func (n *node) all(name string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, k := range n.kids {
		if k.name == name {
			out = append(out, k)
		}
	}
	return out
}

// get is the trimmed text of a child ("" when absent).
func (n *node) get(name string) string {
	if c := n.child(name); c != nil {
		return strings.TrimSpace(c.text)
	}
	return ""
}

func (n *node) has(name string) bool { return n.child(name) != nil }

func readXML(file string, src []byte) (*node, error) {
	if len(src) > MaxConfigBytes {
		return nil, fmt.Errorf("%s: %d bytes is more than the %d a pfSense config.xml can be", file, len(src), MaxConfigBytes)
	}
	dec := xml.NewDecoder(bytes.NewReader(src))
	dec.Strict = true
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = charset
	var root *node
	var stack []*node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		line, _ := dec.InputPos()
		if err != nil {
			return nil, fmt.Errorf("%s:%d: not well-formed XML: %v (export the configuration again from Diagnostics > Backup & Restore, unencrypted)", file, line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("%s:%d: elements nested deeper than %d", file, line, maxXMLDepth)
			}
			n := &node{name: t.Name.Local, line: line}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%s:%d: a second root element <%s>", file, line, t.Name.Local)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%s:1: no XML element: is this a pfSense config.xml?", file)
	}
	if root.name != "pfsense" && root.name != "opnsense" {
		return nil, fmt.Errorf("%s:%d: the root element is <%s>, not <pfsense>: is this a pfSense config.xml?", file, root.line, root.name)
	}
	return root, nil
}

// charset lets a config.xml declare an ASCII-compatible encoding; Latin-1
// is converted, anything else is refused by name.
func charset(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1":
		b, err := io.ReadAll(io.LimitReader(in, MaxConfigBytes))
		if err != nil {
			return nil, err
		}
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return strings.NewReader(string(r)), nil
	}
	return nil, fmt.Errorf("encoding %q: save the file as UTF-8", label)
}

// ReadDevice reads a pfSense config.xml into the device model.
func ReadDevice(file string, src []byte) (*devmodel.Device, error) {
	root, err := readXML(file, src)
	if err != nil {
		return nil, err
	}
	l := &pfLowerer{file: file, root: root, aliases: map[string]*node{}, resolved: map[string]*resolvedAlias{},
		d: &devmodel.Device{File: file, Target: "pfsense", DefaultForward: devmodel.Drop, DefaultLocal: devmodel.Drop}}
	for _, a := range root.child("aliases").all("alias") {
		l.aliases[a.get("name")] = a
	}
	l.interfaces()
	if root.child("interfaces") == nil {
		l.d.LANPassesIn = true
		l.d.Notef(l.loc(root), "no <interfaces>: a configuration fragment; traffic arriving on LAN-side interfaces that meets no rule here is assumed to pass in (the site's own LAN rules)")
	}
	l.forwards()
	l.oneToOne()
	l.rules()
	l.outbound()
	return l.d, nil
}

type pfLowerer struct {
	file    string
	root    *node
	d       *devmodel.Device
	aliases map[string]*node
	// resolved: aliases already resolved (by name; port aliases as "port NAME")
	resolved map[string]*resolvedAlias
	nets     map[string]netip.Prefix // interface name -> its subnet
}

func (l *pfLowerer) loc(n *node) devmodel.Loc { return devmodel.Loc{File: l.file, Line: n.line} }

func (l *pfLowerer) interfaces() {
	l.nets = map[string]netip.Prefix{}
	ifs := l.root.child("interfaces")
	for _, n := range ifsKids(ifs) {
		i := &devmodel.Interface{Loc: l.loc(n), Name: n.name, Device: n.get("if"), Role: "lan"}
		if n.name == "wan" || n.get("gateway") != "" || n.get("ipaddr") == "dhcp" || n.get("ipaddr") == "pppoe" {
			i.Role = "wan"
		}
		if a, err := netip.ParseAddr(n.get("ipaddr")); err == nil {
			if bits, err := strconv.Atoi(n.get("subnet")); err == nil {
				p := netip.PrefixFrom(a, bits).Masked()
				i.Subnets = append(i.Subnets, p)
				l.nets[n.name] = p
			}
		}
		l.d.Interfaces = append(l.d.Interfaces, i)
	}
	if l.d.Interface("wan") == nil {
		l.d.Interfaces = append(l.d.Interfaces, &devmodel.Interface{Name: "wan", Role: "wan"})
	}
	for _, v := range l.root.child("vlans").all("vlan") {
		tag, _ := strconv.Atoi(v.get("tag"))
		for _, i := range l.d.Interfaces {
			if i.Device == v.get("vlanif") {
				i.Parent, i.VLAN = v.get("if"), uint16(tag)
			}
		}
	}
}

func ifsKids(n *node) []*node {
	if n == nil {
		return nil
	}
	return n.kids
}

// addr resolves a rule's source or destination.
func (l *pfLowerer) addr(n *node) devmodel.Addr {
	if n == nil || n.has("any") {
		a := devmodel.AnyAddr()
		return l.negate(n, a)
	}
	var a devmodel.Addr
	switch {
	case n.get("address") != "":
		var b netipx.IPSetBuilder
		a.Text = n.get("address")
		a.Unresolved = !l.entries(a.Text, &b, 0)
		a.Set, _ = b.IPSet()
	case n.get("network") != "":
		net := n.get("network")
		a.Text = net
		switch {
		case net == "(self)" || strings.HasSuffix(net, "ip"):
			a.Self = true
			a.Set = &netipx.IPSet{}
		default:
			if p, ok := l.nets[net]; ok {
				var b netipx.IPSetBuilder
				b.AddPrefix(p)
				a.Set, _ = b.IPSet()
			} else {
				a.Set, a.Unresolved = &netipx.IPSet{}, true
			}
		}
	default:
		return l.negate(n, devmodel.AnyAddr())
	}
	return l.negate(n, a)
}

func (l *pfLowerer) negate(n *node, a devmodel.Addr) devmodel.Addr {
	if n == nil || !n.has("not") {
		return a
	}
	if a.Any {
		return devmodel.Addr{Set: &netipx.IPSet{}, Text: "not any"}
	}
	return devmodel.Addr{Set: devmodel.Complement(a.Set), Text: "not " + a.Text, Unresolved: a.Unresolved}
}

// entries adds alias contents or addresses (space-separated, nested
// aliases resolved); false when something could not be resolved.
func (l *pfLowerer) entries(text string, b *netipx.IPSetBuilder, depth int) bool {
	ok := true
	for _, f := range strings.Fields(text) {
		if a := l.aliases[f]; a != nil && depth < maxAliasDepth {
			switch a.get("type") {
			case "host", "network":
				s, good := l.alias(f, a, depth)
				b.AddSet(s)
				ok = good && ok
			default:
				ok = false // url, urltable: contents live outside the config
			}
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			b.AddPrefix(p.Masked())
		} else if x, err := netip.ParseAddr(f); err == nil {
			b.Add(x)
		} else if lo, hi, cut := strings.Cut(f, "-"); cut {
			x, e1 := netip.ParseAddr(lo)
			y, e2 := netip.ParseAddr(hi)
			if e1 != nil || e2 != nil || y.Less(x) {
				ok = false
			} else {
				b.AddRange(netipx.IPRangeFrom(x, y))
			}
		} else {
			ok = false // an FQDN or an unknown alias
		}
	}
	return ok
}

// maxAliasDepth bounds alias nesting; aliases are memoized, so the bound
// is for the stack, not for time.
const maxAliasDepth = 64

type resolvedAlias struct {
	set        *netipx.IPSet
	ok, busy   bool
	ports      devmodel.Ports
	portsKnown bool
}

// alias resolves a host or network alias once (memoized: an alias named
// by many aliases many levels deep costs its entries once); an alias that
// contains itself is noted and unresolved.
func (l *pfLowerer) alias(name string, a *node, depth int) (*netipx.IPSet, bool) {
	m := l.resolved[name]
	if m == nil {
		m = &resolvedAlias{busy: true}
		l.resolved[name] = m
		var b netipx.IPSetBuilder
		m.ok = l.entries(a.get("address"), &b, depth+1)
		m.set, _ = b.IPSet()
		m.busy = false
	} else if m.busy {
		l.d.Notef(l.loc(a), "alias %s contains itself (through its entries): pfSense refuses such an alias; it is read as unresolved", name)
		return &netipx.IPSet{}, false
	}
	return m.set, m.ok
}

// ports resolves a port field: a number, a range (a-b or a:b), or a port
// alias (nested); "" is every port.
func (l *pfLowerer) ports(text string, depth int) devmodel.Ports {
	if text == "" {
		return nil
	}
	out := devmodel.Ports{}
	for _, f := range strings.Fields(text) {
		if a := l.aliases[f]; a != nil && a.get("type") == "port" && depth < maxAliasDepth {
			m := l.resolved["port "+f]
			if m == nil {
				m = &resolvedAlias{busy: true}
				l.resolved["port "+f] = m
				m.ports = l.ports(a.get("address"), depth+1)
				m.busy = false
			} else if m.busy {
				l.d.Notef(l.loc(a), "port alias %s contains itself (through its entries): pfSense refuses such an alias; the cycle matches no port", f)
				continue
			}
			out = append(out, m.ports...)
			continue
		}
		lo, hi, cut := strings.Cut(strings.ReplaceAll(f, ":", "-"), "-")
		x, err := strconv.Atoi(lo)
		if err != nil {
			if p, ok := namedPorts[f]; ok {
				out = append(out, devmodel.PortRange{Lo: p, Hi: p})
			}
			continue
		}
		y := x
		if cut {
			if y, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		if x >= 0 && y <= 65535 && x <= y {
			out = append(out, devmodel.PortRange{Lo: uint16(x), Hi: uint16(y)})
		}
	}
	return out
}

var namedPorts = map[string]uint16{"sip": 5060, "sip-tls": 5061, "https": 443, "http": 80, "ssh": 22, "telnet": 23, "snmp": 161}

func protos(p string) []uint8 {
	switch strings.ToLower(p) {
	case "", "any":
		return nil
	case "tcp":
		return []uint8{devmodel.TCP}
	case "udp":
		return []uint8{devmodel.UDP}
	case "tcp/udp":
		return []uint8{devmodel.TCP, devmodel.UDP}
	case "icmp":
		return []uint8{1}
	case "icmp6", "ipv6-icmp":
		return []uint8{58}
	}
	return []uint8{255} // another protocol: matches no probe
}

func (l *pfLowerer) services(proto string, src, dst *node) []devmodel.Service {
	ps := protos(proto)
	if ps == nil {
		return nil
	}
	var out []devmodel.Service
	for _, p := range ps {
		s := devmodel.Service{Proto: p}
		if p == devmodel.TCP || p == devmodel.UDP {
			s.DstPorts = l.ports(dst.get("port"), 0)
			s.SrcPorts = l.ports(src.get("port"), 0)
		}
		out = append(out, s)
	}
	return out
}

func ipFamily(ipprotocol string) int {
	switch ipprotocol {
	case "inet6":
		return 6
	case "inet46":
		return 0
	}
	return 4 // pfSense's default is inet
}

func (l *pfLowerer) forwards() {
	for i, n := range l.root.child("nat").all("rule") {
		f := &devmodel.Forward{Loc: l.loc(n), Ref: fmt.Sprintf("NAT port forward %d", i+1), Name: strconv.Itoa(i), Disabled: n.has("disabled") || n.has("nordr")}
		if d := n.get("descr"); d != "" {
			f.Ref += " (" + pfDecode(d) + ")"
		}
		if ifc := n.get("interface"); ifc != "" {
			f.In = strings.Split(ifc, ",")
		}
		f.Src = l.addr(n.child("source"))
		f.Ext = l.addr(n.child("destination"))
		if f.Ext.Any {
			f.Ext = devmodel.Addr{Self: true, Any: false, Set: &netipx.IPSet{}, Text: "any"} // rdr on the WAN takes what reaches the firewall
		}
		f.Ext.Self = true
		svcs := protos(n.get("protocol"))
		if len(svcs) == 1 {
			f.Proto = svcs[0]
		} else if len(svcs) > 1 {
			f.Proto = 0 // tcp/udp: both
		}
		f.Ports = l.ports(n.child("destination").get("port"), 0)
		target := n.get("target")
		if a := l.aliases[target]; a != nil {
			if f := strings.Fields(a.get("address")); len(f) > 0 {
				target = f[0]
			}
		}
		f.To, _ = netip.ParseAddr(target)
		if lp := l.ports(n.get("local-port"), 0); len(lp) > 0 {
			f.ToPort = lp[0].Lo
			// pfSense's filter.inc: a range goes onto the range from the
			// local port (rdr ... port L:L+n); a port alias on either side
			// sends every port to one (rdr ... port L)
			_, dstAlias := l.aliases[n.child("destination").get("port")]
			_, lpAlias := l.aliases[n.get("local-port")]
			f.ToFixed = dstAlias || lpAlias
		}
		f.NoRules = n.get("associated-rule-id") == "pass"
		l.d.Forwards = append(l.d.Forwards, f)
	}
}

// oneToOne reads 1:1 NAT: every port of an external address to an inside host.
func (l *pfLowerer) oneToOne() {
	for i, n := range l.root.child("nat").all("onetoone") {
		f := &devmodel.Forward{Loc: l.loc(n), Ref: fmt.Sprintf("NAT 1:1 %d", i+1), Name: "1:1 " + strconv.Itoa(i), Disabled: n.has("disabled")}
		if d := n.get("descr"); d != "" {
			f.Ref += " (" + pfDecode(d) + ")"
		}
		if ifc := n.get("interface"); ifc != "" {
			f.In = strings.Split(ifc, ",")
		}
		var ext netipx.IPSetBuilder
		l.entries(n.get("external"), &ext, 0)
		es, _ := ext.IPSet()
		f.Ext = devmodel.Addr{Self: true, Set: es, Text: n.get("external")}
		f.Src = l.addr(n.child("destination")) // the remote side it applies to
		src := n.child("source")
		if a := src.get("address"); a != "" {
			f.To, _ = netip.ParseAddr(strings.Split(a, "/")[0])
		}
		l.d.Forwards = append(l.d.Forwards, f)
	}
}

func (l *pfLowerer) rules() {
	var floating, iface []*devmodel.Rule
	for i, n := range l.root.child("filter").all("rule") {
		r := &devmodel.Rule{Loc: l.loc(n), Ref: fmt.Sprintf("filter rule %d", i+1), Name: pfDecode(n.get("descr")), Hook: devmodel.HookBoth,
			Disabled: n.has("disabled"), MatchForwarded: true, Family: ipFamily(n.get("ipprotocol"))}
		if t := n.get("tracker"); t != "" {
			r.Ref += " (tracker " + t + ")"
		}
		switch n.get("type") {
		case "pass":
			r.Action = devmodel.Accept
		case "match":
			r.Action = devmodel.Tag
		default:
			r.Action = devmodel.Drop // block, reject
		}
		r.SetTag, r.Tagged, r.NotTagged = n.get("tag"), n.get("tagged"), n.has("nottagged")
		if ifc := n.get("interface"); ifc != "" && ifc != "any" {
			r.In = strings.Split(ifc, ",")
		}
		r.Src = l.addr(n.child("source"))
		if src := n.child("source"); src != nil {
			r.SrcLine = src.line
		}
		r.Dst = l.addr(n.child("destination"))
		r.Services = l.services(n.get("protocol"), n.child("source"), n.child("destination"))
		r.RateLimited = n.get("max-src-conn-rate") != ""
		if n.get("floating") == "yes" {
			r.Quick = n.has("quick") && n.get("quick") != "no"
			switch n.get("direction") {
			case "in":
				r.Dir = devmodel.DirIn
			case "out":
				r.Dir = devmodel.DirOut
			default:
				r.Dir = devmodel.DirAny
			}
			floating = append(floating, r)
			continue
		}
		r.Quick, r.Dir = true, devmodel.DirIn
		if r.In == nil {
			r.In = []string{"(none)"} // an interface rule without interface matches nothing
		}
		iface = append(iface, r)
	}
	// filter.inc writes the floating rules first, then each interface's
	l.d.Rules = append(floating, iface...)
}

func (l *pfLowerer) outbound() {
	nat := l.root.child("nat")
	o := &devmodel.OutboundNAT{Mode: "automatic", Loc: l.loc(l.root)}
	if nat != nil {
		o.Loc = l.loc(nat)
	}
	if ob := nat.child("outbound"); ob != nil {
		o.Loc = l.loc(ob)
		if m := ob.child("mode"); m != nil {
			o.Mode, o.Loc = strings.TrimSpace(m.text), l.loc(m)
		}
		for _, r := range ob.all("rule") {
			if r.has("staticnatport") && !r.has("disabled") {
				var b netipx.IPSetBuilder
				net := r.child("source").get("network")
				l.entries(net, &b, 0)
				s, _ := b.IPSet()
				o.StaticPort = append(o.StaticPort, devmodel.Addr{Set: s, Text: net})
			}
		}
	}
	l.d.OutboundNAT = o
}

// pfDecode decodes a descr as pfSense <= 2.7.2 does: html_entity_decode()
// with PHP 8's default ENT_HTML401, which knows no &apos; and leaves it in
// the text (the GUI then shows it). Numeric references (&#039;) decode.
func pfDecode(s string) string {
	parts := strings.Split(s, "&apos;")
	for i, p := range parts {
		parts[i] = html.UnescapeString(p)
	}
	return strings.Join(parts, "&apos;")
}
