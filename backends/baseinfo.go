package backends

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"unicode/utf8"
)

// LooksLike says what a configuration file given as --base appears to be,
// for the message that refuses it on the wrong target: "an empty file", "a
// pfSense config.xml", "a FortiOS configuration", "a DrayTek Vigor command
// script", "XML with root <x>", "binary data" or "text of an unknown kind".
// It reads no more than the start of the file and never fails.
func LooksLike(b []byte) string {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 BOM (Windows editors)
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return "an empty file"
	}
	head := t[:min(len(t), 64<<10)]
	if !utf8.Valid(head[:max(0, len(head)-utf8.UTFMax)]) || bytes.IndexByte(head, 0) >= 0 {
		return "binary data (an encrypted or compressed backup?)"
	}
	if head[0] == '<' {
		switch root := xmlRoot(head); root {
		case "pfsense":
			return "a pfSense config.xml"
		case "opnsense":
			return "an OPNsense config.xml"
		case "":
			return "XML"
		default:
			return "XML with root <" + root + ">"
		}
	}
	if fortiOS.Match(head) {
		return "a FortiOS configuration"
	}
	if vigor.Match(head) {
		return "a DrayTek Vigor command script"
	}
	return "text of an unknown kind"
}

var (
	// a FortiOS backup header or a config statement at the start of a line
	fortiOS = regexp.MustCompile(`(?m)^(#config-version=|\s*config (system|firewall|router|vdom|global|user|vpn|log)\b)`)
	// the Vigor CLI's configuration commands
	vigor = regexp.MustCompile(`(?m)^\s*(\S*> ?)?(sys (sip_alg|name)|object (ip|service) (obj|grp)|ipf (rule|set)|srv nat|mngt (rmtcfg|accesslist)|vlan|msubnet)\b`)
)

// xmlRoot is the name of the first element, "" when there is none.
func xmlRoot(b []byte) string {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	for range 64 {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if s, ok := tok.(xml.StartElement); ok {
			return s.Name.Local
		}
	}
	return ""
}
