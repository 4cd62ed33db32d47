package pfsense

import (
	"encoding/xml"
	"strings"
)

// The typed shape of the config.xml parts voicewall writes. Element names
// and presence flags follow pfSense's own writer (src/etc/inc/xmlparse.inc)
// and the GUI save code that fills them (firewall_rules_edit.php,
// firewall_nat.inc, firewall_nat_out.inc, alias-utils.inc,
// interfaces_vlan_edit.php); see docs/targets-pfsense.md.

// Document is the fragment: <pfsense> with the areas an admin restores.
type Document struct {
	XMLName xml.Name `xml:"pfsense"`
	Comment string   `xml:",comment"`
	VLANs   *VLANs   `xml:"vlans,omitempty"`
	Aliases *Aliases `xml:"aliases,omitempty"`
	NAT     *NAT     `xml:"nat,omitempty"`
	Filter  *Filter  `xml:"filter,omitempty"`
}

// Flag is a presence flag: pfSense treats <x></x> as true.
type Flag struct{}

// Text is a CDATA field (descr, detail). pfSense writes
// <![CDATA[ htmlentities(value) ]]> and html_entity_decode()s on read, so the
// value is entity-escaped inside the CDATA section exactly as pfSense does.
type Text struct {
	Data string `xml:",cdata"`
}

func text(s string) Text { return Text{Data: htmlEntities(s)} }

// htmlEntities mirrors pfSense's writer for ASCII: PHP htmlentities() with
// ENT_QUOTES, which writes ' as &#039; under ENT_HTML401 (pfSense <= 2.7.2,
// PHP 8 default flags). &apos; is not an HTML 4.01 entity: those releases'
// html_entity_decode() leaves it as is and the GUI would show "&apos;".
// &#039; decodes under both ENT_HTML401 and the ENT_XML1 of later releases.
func htmlEntities(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#039;").Replace(s)
}

type Aliases struct {
	Items []Alias `xml:"alias"`
}

type Alias struct {
	XMLName    xml.Name `xml:"alias"`
	Name       string   `xml:"name"`
	Type       string   `xml:"type"`
	Address    string   `xml:"address,omitempty"`
	URL        string   `xml:"url,omitempty"`
	UpdateFreq string   `xml:"updatefreq,omitempty"`
	Descr      Text     `xml:"descr"`
}

type Filter struct {
	Rules []FilterRule `xml:"rule"`
}

type FilterRule struct {
	XMLName         xml.Name `xml:"rule"`
	Tracker         string   `xml:"tracker"`
	Type            string   `xml:"type"`
	Interface       string   `xml:"interface"`
	IPProtocol      string   `xml:"ipprotocol"`
	Floating        string   `xml:"floating,omitempty"`
	Direction       string   `xml:"direction,omitempty"`
	Quick           string   `xml:"quick,omitempty"`
	Tag             string   `xml:"tag,omitempty"`
	Tagged          string   `xml:"tagged,omitempty"`
	NotTagged       *Flag    `xml:"nottagged,omitempty"`
	MaxSrcConnRate  string   `xml:"max-src-conn-rate,omitempty"`
	MaxSrcConnRates string   `xml:"max-src-conn-rates,omitempty"`
	Protocol        string   `xml:"protocol,omitempty"`
	Source          Endpoint `xml:"source"`
	Destination     Endpoint `xml:"destination"`
	Log             *Flag    `xml:"log,omitempty"`
	Descr           Text     `xml:"descr"`
}

// Endpoint is a rule's source or destination: exactly one of any, network
// (special nets such as wanip) or address (IP, CIDR or alias).
type Endpoint struct {
	Any     *Flag  `xml:"any,omitempty"`
	Network string `xml:"network,omitempty"`
	Address string `xml:"address,omitempty"`
	Not     *Flag  `xml:"not,omitempty"`
	Port    string `xml:"port,omitempty"`
}

type NAT struct {
	Rules    []NATRule `xml:"rule"`
	Outbound *Outbound `xml:"outbound"`
}

// NATRule is a port forward (rdr).
type NATRule struct {
	XMLName          xml.Name `xml:"rule"`
	Source           Endpoint `xml:"source"`
	Destination      Endpoint `xml:"destination"`
	IPProtocol       string   `xml:"ipprotocol"`
	Protocol         string   `xml:"protocol"`
	Target           string   `xml:"target"`
	LocalPort        string   `xml:"local-port"`
	Interface        string   `xml:"interface"`
	Descr            Text     `xml:"descr"`
	AssociatedRuleID string   `xml:"associated-rule-id"`
}

type Outbound struct {
	Mode  string    `xml:"mode"`
	Rules []OutRule `xml:"rule"`
}

// OutRule is a manual outbound NAT rule.
type OutRule struct {
	XMLName       xml.Name   `xml:"rule"`
	Source        OutNetwork `xml:"source"`
	SourcePort    string     `xml:"sourceport"`
	Descr         Text       `xml:"descr"`
	Target        string     `xml:"target"`
	TargetSubnet  string     `xml:"target_subnet"`
	Interface     string     `xml:"interface"`
	PoolOpts      string     `xml:"poolopts"`
	StaticNATPort *Flag      `xml:"staticnatport,omitempty"`
	IPProtocol    string     `xml:"ipprotocol,omitempty"`
	Protocol      string     `xml:"protocol,omitempty"`
	Destination   Endpoint   `xml:"destination"`
}

type OutNetwork struct {
	Network string `xml:"network"`
}

type VLANs struct {
	Items []VLAN `xml:"vlan"`
}

type VLAN struct {
	XMLName xml.Name `xml:"vlan"`
	If      string   `xml:"if"`
	Tag     string   `xml:"tag"`
	PCP     string   `xml:"pcp"`
	Descr   Text     `xml:"descr"`
	VLANIf  string   `xml:"vlanif"`
}

// commentSafe keeps text legal inside <!-- -->.
func commentSafe(s string) string {
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "- -")
	}
	return strings.TrimRight(s, "-")
}
