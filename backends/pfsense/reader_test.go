package pfsense

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// A strict reader of the pfSense config.xml voicewall writes, independent of
// the structs the backend marshals: every element must be known (unknown
// ones land in Unknown and are rejected), every value is validated the way
// pfSense's GUI validation and filter.inc would.

type unknown struct {
	XMLName xml.Name
}

type rDoc struct {
	XMLName xml.Name   `xml:"pfsense"`
	Comment string     `xml:",comment"`
	Aliases *rAliases  `xml:"aliases"`
	Filter  *rFilter   `xml:"filter"`
	NAT     *rNAT      `xml:"nat"`
	VLANs   *rVLANs    `xml:"vlans"`
	Unknown []unknown  `xml:",any"`
	Attrs   []xml.Attr `xml:",any,attr"`
}

type rAliases struct {
	Alias   []rAlias  `xml:"alias"`
	Unknown []unknown `xml:",any"`
}

type rAlias struct {
	Name       string    `xml:"name"`
	Type       string    `xml:"type"`
	Address    string    `xml:"address"`
	URL        string    `xml:"url"`
	UpdateFreq string    `xml:"updatefreq"`
	Descr      string    `xml:"descr"`
	Unknown    []unknown `xml:",any"`
}

type rFilter struct {
	Rule    []rRule   `xml:"rule"`
	Unknown []unknown `xml:",any"`
}

type rFlag struct {
	Unknown []unknown `xml:",any"`
	Text    string    `xml:",chardata"`
}

type rEnd struct {
	Any     *rFlag    `xml:"any"`
	Network string    `xml:"network"`
	Address string    `xml:"address"`
	Not     *rFlag    `xml:"not"`
	Port    string    `xml:"port"`
	Unknown []unknown `xml:",any"`
}

type rRule struct {
	Tracker         string    `xml:"tracker"`
	Type            string    `xml:"type"`
	Interface       string    `xml:"interface"`
	IPProtocol      string    `xml:"ipprotocol"`
	Floating        string    `xml:"floating"`
	Direction       string    `xml:"direction"`
	Quick           string    `xml:"quick"`
	Tag             string    `xml:"tag"`
	Tagged          string    `xml:"tagged"`
	NotTagged       *rFlag    `xml:"nottagged"`
	MaxSrcConnRate  string    `xml:"max-src-conn-rate"`
	MaxSrcConnRates string    `xml:"max-src-conn-rates"`
	Protocol        string    `xml:"protocol"`
	Source          rEnd      `xml:"source"`
	Destination     rEnd      `xml:"destination"`
	Log             *rFlag    `xml:"log"`
	Descr           string    `xml:"descr"`
	Unknown         []unknown `xml:",any"`
}

type rNAT struct {
	Rule     []rNATRule `xml:"rule"`
	Outbound *rOutbound `xml:"outbound"`
	Unknown  []unknown  `xml:",any"`
}

type rNATRule struct {
	Source           rEnd      `xml:"source"`
	Destination      rEnd      `xml:"destination"`
	IPProtocol       string    `xml:"ipprotocol"`
	Protocol         string    `xml:"protocol"`
	Target           string    `xml:"target"`
	LocalPort        string    `xml:"local-port"`
	Interface        string    `xml:"interface"`
	Descr            string    `xml:"descr"`
	AssociatedRuleID *string   `xml:"associated-rule-id"`
	Unknown          []unknown `xml:",any"`
}

type rOutbound struct {
	Mode    string     `xml:"mode"`
	Rule    []rOutRule `xml:"rule"`
	Unknown []unknown  `xml:",any"`
}

type rOutRule struct {
	Source struct {
		Network string    `xml:"network"`
		Unknown []unknown `xml:",any"`
	} `xml:"source"`
	SourcePort    string    `xml:"sourceport"`
	Descr         string    `xml:"descr"`
	Target        string    `xml:"target"`
	TargetSubnet  string    `xml:"target_subnet"`
	Interface     string    `xml:"interface"`
	PoolOpts      string    `xml:"poolopts"`
	StaticNATPort *rFlag    `xml:"staticnatport"`
	IPProtocol    string    `xml:"ipprotocol"`
	Protocol      string    `xml:"protocol"`
	Destination   rEnd      `xml:"destination"`
	Unknown       []unknown `xml:",any"`
}

type rVLANs struct {
	VLAN    []rVLAN   `xml:"vlan"`
	Unknown []unknown `xml:",any"`
}

type rVLAN struct {
	If      string    `xml:"if"`
	Tag     string    `xml:"tag"`
	PCP     string    `xml:"pcp"`
	Descr   string    `xml:"descr"`
	VLANIf  string    `xml:"vlanif"`
	Unknown []unknown `xml:",any"`
}

var restoreStepRE = regexp.MustCompile(`^ {7}(\d+\. .+)$`)

// readFragment parses a voicewall fragment strictly.
func readFragment(data []byte) (*rDoc, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var d rDoc
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	// nothing but whitespace after the root
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if cd, ok := tok.(xml.CharData); ok && len(bytes.TrimSpace(cd)) == 0 {
			continue
		}
		if _, ok := tok.(xml.Comment); ok {
			continue
		}
		return nil, fmt.Errorf("content after </pfsense>: %T", tok)
	}
	// pfSense restores an area only when its element has content
	// (restore_config_section() in pfsense-utils.inc: `if ($xml[$section])`),
	// and the fragment's header tells the admin to restore every area it
	// has: an empty one cannot be restored. (A full config restored whole,
	// the --base output, may keep the admin's own empty areas.)
	for _, a := range []struct {
		tag   string
		there bool
		empty bool
	}{
		{"aliases", d.Aliases != nil, d.Aliases != nil && len(d.Aliases.Alias) == 0},
		{"filter", d.Filter != nil, d.Filter != nil && len(d.Filter.Rule) == 0},
		{"nat", d.NAT != nil, d.NAT != nil && len(d.NAT.Rule) == 0 && d.NAT.Outbound == nil},
		{"vlans", d.VLANs != nil, d.VLANs != nil && len(d.VLANs.VLAN) == 0},
	} {
		if a.there && a.empty {
			return nil, fmt.Errorf("empty <%s>: pfSense cannot restore an empty area", a.tag)
		}
	}
	// The header names the areas to restore, in order: exactly the areas
	// the fragment has, VLANs first (rules pass their traffic), aliases
	// before NAT and filter rules (which name them).
	var want []string
	for _, a := range []struct {
		gui   string
		there bool
	}{{"VLANS", d.VLANs != nil}, {"Aliases", d.Aliases != nil}, {"NAT", d.NAT != nil}, {"Firewall Rules", d.Filter != nil}} {
		if a.there {
			want = append(want, fmt.Sprintf("%d. %s", len(want)+1, a.gui))
		}
	}
	var got []string
	for _, l := range strings.Split(d.Comment, "\n") {
		if m := restoreStepRE.FindStringSubmatch(l); m != nil {
			got = append(got, m[1])
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		return nil, fmt.Errorf("header lists restore areas %q, the fragment has %q", got, want)
	}
	if err := d.validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// Independent restatement of pfSense's is_validaliasname() plus common
// service names from /etc/services (getservbyname).
var services = map[string]bool{"sip": true, "sip-tls": true, "http": true, "https": true, "ssh": true, "telnet": true, "snmp": true,
	"ftp": true, "smtp": true, "domain": true, "ntp": true, "tftp": true, "pop3": true, "imap": true, "openvpn": true, "rtp": false}
var pfKeywords = map[string]bool{"all": true, "any": true, "log": true, "rule": true, "tos": true, "pppoe": true, "tag": true, "tagged": true,
	"table": true, "in": true, "out": true, "on": true, "from": true, "to": true, "port": true, "pass": true, "block": true, "match": true}
var aliasNameRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,31}$`)

func checkAliasName(n string) error {
	l := strings.ToLower(n)
	switch {
	case !aliasNameRE.MatchString(n):
		return fmt.Errorf("alias name %q: not [A-Za-z0-9_]{1,31}", n)
	case strings.Trim(n, "_") == "", strings.Trim(n, "0123456789") == "":
		return fmt.Errorf("alias name %q: only digits or underscores", n)
	case services[l], pfKeywords[l], l == "tcp", l == "udp", l == "icmp":
		return fmt.Errorf("alias name %q: reserved", n)
	case strings.HasPrefix(l, "pkg_"):
		return fmt.Errorf("alias name %q: pkg_ prefix", n)
	}
	return nil
}

var portRE = regexp.MustCompile(`^([0-9]{1,5})(?:-([0-9]{1,5}))?$`)

func parsePorts(s string) (lo, hi int, err error) {
	m := portRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("bad port %q", s)
	}
	lo, _ = strconv.Atoi(m[1])
	hi = lo
	if m[2] != "" {
		hi, _ = strconv.Atoi(m[2])
	}
	if lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("bad port range %q", s)
	}
	return lo, hi, nil
}

func unk(where string, u []unknown) error {
	if len(u) > 0 {
		return fmt.Errorf("%s: unknown element <%s>", where, u[0].XMLName.Local)
	}
	return nil
}

func descrOK(where, d string) error {
	if !strings.HasPrefix(html.UnescapeString(d), Owner+" ") {
		return fmt.Errorf("%s: descr %q does not start with %q", where, d, Owner)
	}
	if strings.ContainsAny(d, "\\\n\r") {
		return fmt.Errorf("%s: descr %q has a backslash or newline", where, d)
	}
	return nil
}

// checkEnds checks a rule's source and destination.
func checkEnds(where string, src, dst rEnd, aliases map[string]rAlias, nat bool) error {
	if err := src.check(where+" source", aliases, nat); err != nil {
		return err
	}
	return dst.check(where+" destination", aliases, nat)
}

func (e rEnd) check(where string, aliases map[string]rAlias, nat bool) error {
	if err := unk(where, e.Unknown); err != nil {
		return err
	}
	n := 0
	if e.Any != nil {
		n++
	}
	if e.Network != "" {
		n++
		if e.Network != "wanip" {
			return fmt.Errorf("%s: unexpected special network %q", where, e.Network)
		}
	}
	if e.Address != "" {
		n++
		if _, ok := aliases[e.Address]; !ok {
			if _, err := netip.ParsePrefix(e.Address); err != nil {
				if _, err := netip.ParseAddr(e.Address); err != nil {
					return fmt.Errorf("%s: address %q is neither an alias nor an address", where, e.Address)
				}
			}
		}
	}
	if n != 1 {
		return fmt.Errorf("%s: want exactly one of any/network/address, got %d", where, n)
	}
	if e.Port != "" {
		if _, _, err := parsePorts(e.Port); err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
	}
	return nil
}

func (d *rDoc) aliasMap() map[string]rAlias {
	m := map[string]rAlias{}
	if d.Aliases != nil {
		for _, a := range d.Aliases.Alias {
			m[a.Name] = a
		}
	}
	return m
}

func (d *rDoc) validate() error {
	if err := unk("pfsense", d.Unknown); err != nil {
		return err
	}
	aliases := map[string]rAlias{}
	if d.Aliases != nil {
		if err := unk("aliases", d.Aliases.Unknown); err != nil {
			return err
		}
		for _, a := range d.Aliases.Alias {
			where := "alias " + a.Name
			if err := unk(where, a.Unknown); err != nil {
				return err
			}
			if err := checkAliasName(a.Name); err != nil {
				return err
			}
			if _, dup := aliases[strings.ToLower(a.Name)]; dup {
				return fmt.Errorf("duplicate alias %q", a.Name)
			}
			aliases[strings.ToLower(a.Name)] = a
			if err := descrOK(where, a.Descr); err != nil {
				return err
			}
			switch a.Type {
			case "network", "host":
				fields := strings.Fields(a.Address)
				if len(fields) == 0 {
					return fmt.Errorf("%s: empty", where)
				}
				if len(fields) > MaxAliasEntries {
					return fmt.Errorf("%s: %d entries > %d", where, len(fields), MaxAliasEntries)
				}
				for _, f := range fields {
					if _, err := netip.ParsePrefix(f); err != nil {
						return fmt.Errorf("%s: entry %q: %v", where, f, err)
					}
				}
			case "urltable":
				if !strings.HasPrefix(a.URL, "http://") && !strings.HasPrefix(a.URL, "https://") {
					return fmt.Errorf("%s: urltable without http(s) url: %q", where, a.URL)
				}
				if _, err := strconv.Atoi(a.UpdateFreq); err != nil {
					return fmt.Errorf("%s: updatefreq %q", where, a.UpdateFreq)
				}
			default:
				return fmt.Errorf("%s: type %q", where, a.Type)
			}
		}
	}
	byName := d.aliasMap()
	if d.Filter != nil {
		if err := unk("filter", d.Filter.Unknown); err != nil {
			return err
		}
		seen := map[string]bool{}
		for i, r := range d.Filter.Rule {
			where := fmt.Sprintf("filter rule %d (%s)", i, r.Descr)
			if err := unk(where, r.Unknown); err != nil {
				return err
			}
			if _, err := strconv.ParseUint(r.Tracker, 10, 32); err != nil {
				return fmt.Errorf("%s: tracker %q not a 32-bit integer", where, r.Tracker)
			}
			if seen[r.Tracker] {
				return fmt.Errorf("%s: duplicate tracker %s", where, r.Tracker)
			}
			seen[r.Tracker] = true
			switch r.Type {
			case "pass", "block":
			case "match":
				if r.Floating != "yes" || r.Quick != "" {
					return fmt.Errorf("%s: match rules are floating and not quick", where)
				}
			default:
				return fmt.Errorf("%s: type %q", where, r.Type)
			}
			if r.Interface == "" {
				return fmt.Errorf("%s: no interface", where)
			}
			if r.Floating == "" && (r.Direction != "" || r.Interface == "any") {
				return fmt.Errorf("%s: direction/any only on floating rules", where)
			}
			if r.Floating != "" && (r.Floating != "yes" || (r.Direction != "in" && r.Direction != "out" && r.Direction != "any")) {
				return fmt.Errorf("%s: bad floating/direction", where)
			}
			switch r.IPProtocol {
			case "inet", "inet6", "inet46":
			default:
				return fmt.Errorf("%s: ipprotocol %q", where, r.IPProtocol)
			}
			switch r.Protocol {
			case "", "tcp", "udp":
			default:
				return fmt.Errorf("%s: protocol %q (voicewall never shares udp/tcp rules)", where, r.Protocol)
			}
			if r.Protocol == "" && (r.Source.Port != "" || r.Destination.Port != "") {
				return fmt.Errorf("%s: ports without protocol", where)
			}
			if r.NotTagged != nil && r.Tagged == "" {
				return fmt.Errorf("%s: nottagged without tagged", where)
			}
			// The rule editor checks tags with is_validaliasname().
			for _, tg := range []string{r.Tag, r.Tagged} {
				if tg == "" {
					continue
				}
				if err := checkAliasName(tg); err != nil {
					return fmt.Errorf("%s: tag: %v", where, err)
				}
			}
			if (r.MaxSrcConnRate == "") != (r.MaxSrcConnRates == "") {
				return fmt.Errorf("%s: max-src-conn-rate needs both values", where)
			}
			if r.MaxSrcConnRate != "" && (r.Protocol != "tcp" || r.Type != "pass") {
				return fmt.Errorf("%s: max-src-conn-rate only on TCP pass rules", where)
			}
			if err := checkEnds(where, r.Source, r.Destination, byName, false); err != nil {
				return err
			}
			if err := descrOK(where, r.Descr); err != nil {
				return err
			}
		}
	}
	if d.NAT != nil {
		if err := unk("nat", d.NAT.Unknown); err != nil {
			return err
		}
		for i, r := range d.NAT.Rule {
			where := fmt.Sprintf("port forward %d", i)
			if err := unk(where, r.Unknown); err != nil {
				return err
			}
			if r.Protocol != "tcp" && r.Protocol != "udp" {
				return fmt.Errorf("%s: protocol %q", where, r.Protocol)
			}
			if _, err := netip.ParseAddr(r.Target); err != nil {
				return fmt.Errorf("%s: target %q", where, r.Target)
			}
			if _, err := strconv.Atoi(r.LocalPort); err != nil {
				return fmt.Errorf("%s: local-port %q", where, r.LocalPort)
			}
			if r.AssociatedRuleID != nil && *r.AssociatedRuleID == "pass" {
				return fmt.Errorf("%s: rdr pass would skip the filter", where)
			}
			if err := checkEnds(where, r.Source, r.Destination, byName, true); err != nil {
				return err
			}
			if r.Destination.Port == "" {
				return fmt.Errorf("%s: no destination port", where)
			}
			if err := descrOK(where, r.Descr); err != nil {
				return err
			}
		}
		if o := d.NAT.Outbound; o != nil {
			if err := unk("outbound", o.Unknown); err != nil {
				return err
			}
			switch o.Mode {
			case "automatic", "hybrid", "advanced", "disabled":
			default:
				return fmt.Errorf("outbound mode %q", o.Mode)
			}
			for i, r := range o.Rule {
				where := fmt.Sprintf("outbound rule %d", i)
				if err := unk(where, r.Unknown); err != nil {
					return err
				}
				if err := unk(where, r.Source.Unknown); err != nil {
					return err
				}
				if _, ok := byName[r.Source.Network]; !ok {
					if _, err := netip.ParsePrefix(r.Source.Network); err != nil {
						return fmt.Errorf("%s: source %q", where, r.Source.Network)
					}
				}
				if err := r.Destination.check(where+" destination", byName, true); err != nil {
					return err
				}
				if err := descrOK(where, r.Descr); err != nil {
					return err
				}
			}
		}
	}
	if d.VLANs != nil {
		if err := unk("vlans", d.VLANs.Unknown); err != nil {
			return err
		}
		for _, v := range d.VLANs.VLAN {
			where := "vlan " + v.VLANIf
			if err := unk(where, v.Unknown); err != nil {
				return err
			}
			tag, err := strconv.Atoi(v.Tag)
			if err != nil || tag < 1 || tag > 4094 {
				return fmt.Errorf("%s: tag %q", where, v.Tag)
			}
			if v.If == "" || v.VLANIf != v.If+"."+v.Tag {
				return fmt.Errorf("%s: vlanif must be if.tag", where)
			}
			if err := descrOK(where, v.Descr); err != nil {
				return err
			}
		}
	}
	return nil
}

// aliasSet returns the addresses of a network alias.
func aliasSet(a rAlias) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Fields(a.Address) {
		out = append(out, netip.MustParsePrefix(f))
	}
	return out
}
