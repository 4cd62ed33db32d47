package audit

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// corpus reads a public configuration's shape (testdata/corpus,
// SOURCES.md) and applies edits to a copy: each edit must apply.
func corpus(t *testing.T, name string, edits ...string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/corpus/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			t.Fatalf("%s: edit %q does not apply", name, edits[i])
		}
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	return []byte(s)
}

func auditSrc(t *testing.T, target string, src []byte) *Report {
	t.Helper()
	d, err := Read(target, "corpus", src)
	if err != nil {
		t.Fatal(err)
	}
	return Check(d, src, Options{Target: target})
}

func text(r *Report) string {
	var b bytes.Buffer
	r.WriteText(&b)
	return b.String()
}

// want: exactly these failing findings (ID@line); notes aside.
func wantFailing(t *testing.T, what string, r *Report, want ...string) {
	t.Helper()
	var g []string
	for _, f := range r.Findings {
		if f.Severity != SevNote {
			g = append(g, f.ID+"@"+strconv.Itoa(f.Loc.Line))
		}
	}
	slices.Sort(g)
	slices.Sort(want)
	if !slices.Equal(g, want) {
		t.Errorf("%s: failing findings %v, want %v\n%s", what, g, want, text(r))
	}
}

// TestCorpusFortiGate: Fortinet's own bootstrap configuration (port1 is
// the WAN by its default route and VIPs; 22/tcp VIPs with ALL-service
// policies from all).
func TestCorpusFortiGate(t *testing.T) {
	const f = "fortinet-terraform-userdata.conf"
	// management on port1 only; the ALL-service VIP policies admit 2222
	// and 2223/tcp, not SIP or RTP (they were reported as "every port")
	wantFailing(t, "as published", auditSrc(t, "fortigate", corpus(t, f)), "VW303@14")
	// the default route alone makes port1 the WAN (no VIP, no NAT policy
	// naming it): it was taken for a LAN port
	wantFailing(t, "default route only", auditSrc(t, "fortigate", corpus(t, f,
		"set extintf \"port1\"\n", "", "set extintf \"port1\"\n", "", "set nat enable\n", "")), "VW303@14")
	// every administrator restricted to trusted hosts: not exposed
	wantFailing(t, "trusthost", auditSrc(t, "fortigate", corpus(t, f,
		"set accprofile \"super_admin\"\n", "set accprofile \"super_admin\"\nset trusthost1 198.51.100.0 255.255.255.0\n")))
	// ... but one admin without trusted hosts leaves the login open
	wantFailing(t, "one admin unrestricted", auditSrc(t, "fortigate", corpus(t, f,
		"set accprofile \"super_admin\"\nnext\n", "set accprofile \"super_admin\"\nset trusthost1 198.51.100.0 255.255.255.0\nnext\nedit \"backup\"\nnext\n")), "VW303@17")
	// a closing deny-all after the narrower port2 accepts is the design
	r := auditSrc(t, "fortigate", corpus(t, f, "set logtraffic all\nnext\nend\n",
		"set logtraffic all\nnext\nedit 5\nset name \"deny all\"\nset srcintf \"any\"\nset dstintf \"any\"\nset srcaddr \"all\"\nset dstaddr \"all\"\nset action deny\nset schedule \"always\"\nset service \"ALL\"\nset logtraffic all\nnext\nend\n"))
	wantFailing(t, "final deny-all", r, "VW303@14")
	// ... also after the classic LAN-to-WAN "all to all, ALL" accept
	r = auditSrc(t, "fortigate", corpus(t, f, "set dstaddr to-WEST\nset dstaddr-negate enable\n", "set dstaddr all\n", "set logtraffic all\nnext\nend\n",
		"set logtraffic all\nnext\nedit 5\nset name \"deny all\"\nset srcintf \"any\"\nset dstintf \"any\"\nset srcaddr \"all\"\nset dstaddr \"all\"\nset action deny\nset schedule \"always\"\nset service \"ALL\"\nset logtraffic all\nnext\nend\n"))
	wantFailing(t, "final deny-all after all-to-all", r, "VW303@14")
	// a SIP VIP and its policy from all are reported, policy and VIP
	r = auditSrc(t, "fortigate", corpus(t, f,
		"edit \"vip_to_west\"\n", "edit \"vip_sip\"\nset extintf \"port1\"\nset portforward enable\nset protocol udp\nset mappedip \"192.168.0.20\"\nset extport 5060\nset mappedport 5060\nnext\nedit \"vip_to_west\"\n",
		"edit 4\n", "edit 7\nset srcintf \"port1\"\nset dstintf \"port2\"\nset srcaddr \"all\"\nset dstaddr \"vip_sip\"\nset action accept\nset schedule \"always\"\nset service \"ALL\"\nnext\nedit 4\n"))
	if ids := ids(r, IDForwardAnySrc); len(ids) != 1 || len(r.Findings) < 3 {
		t.Errorf("SIP VIP from all: want VW306 on the VIP\n%s", text(r))
	}
	// an unclosed config ipv6 inside an edit is blamed on its own line
	_, err := Read("fortigate", "corpus", corpus(t, f, "set alias private\n", "set alias private\nconfig ipv6\nset ip6-address 2001:db8::10/64\n"))
	if err == nil || !strings.Contains(err.Error(), "corpus:20: config ipv6 is never closed") {
		t.Errorf("unclosed config ipv6: want it blamed on line 20, got %v", err)
	}
}

const pfForward = `<nat>
		<rule>
			<source><any/></source>
			<destination><network>wanip</network><port>443</port></destination>
			<protocol>tcp/udp</protocol>
			<target>192.168.1.10</target>
			<local-port>443</local-port>
			<interface>wan</interface>
			<descr><![CDATA[web server]]></descr>
			<associated-rule-id>nat_1</associated-rule-id>
		</rule>
		<outbound>`

const pfPass = `<filter>
		<rule>
			<source><any/></source>
			<interface>wan</interface>
			<protocol>tcp/udp</protocol>
			<destination><address>192.168.1.10</address><port>443</port></destination>
			<descr><![CDATA[NAT web server]]></descr>
			<associated-rule-id>nat_1</associated-rule-id>
			<type>pass</type>
		</rule>`

// TestCorpusPfSense: pfSense's factory default config.xml.
func TestCorpusPfSense(t *testing.T) {
	const f = "pfsense-default.xml"
	wantFailing(t, "factory default", auditSrc(t, "pfsense", corpus(t, f)))
	// a plain HTTPS forward of tcp/udp: no SIP, no voice host, no "every
	// port" (8 false findings on a real config)
	r := auditSrc(t, "pfsense", corpus(t, f, "<nat>\n\t\t<outbound>", pfForward, "<filter>", pfPass))
	wantFailing(t, "tcp/udp HTTPS forward", r)
	if len(r.Findings) > 0 {
		t.Errorf("tcp/udp HTTPS forward: want no finding at all\n%s", text(r))
	}
	// a WAN pass to the web UI below a block of everything on the WAN is
	// dead: VW312, not VW303
	r = auditSrc(t, "pfsense", corpus(t, f, "<filter>", `<filter>
		<rule><type>block</type><interface>wan</interface><source><any/></source><destination><any/></destination><descr>block all</descr></rule>
		<rule><type>pass</type><interface>wan</interface><protocol>tcp</protocol><source><any/></source><destination><network>(self)</network><port>443</port></destination><descr>web UI</descr></rule>`))
	wantFailing(t, "dead web UI pass", r)
	if len(ids(r, IDShadowedOpen)) != 1 {
		t.Errorf("dead web UI pass: want VW312\n%s", text(r))
	}
	// VW308's fix is in pfSense's terms
	r = auditSrc(t, "pfsense", corpus(t, f, "<filter>", `<filter>
		<rule><type>pass</type><interface>wan</interface><source><any/></source><destination><any/></destination><tracker>1700000001</tracker><descr>allow all</descr></rule>
		<rule><type>block</type><interface>wan</interface><protocol>udp</protocol><source><any/></source><destination><any/><port>5060</port></destination><tracker>1700000002</tracker><descr>no SIP</descr></rule>`))
	var fix string
	for _, x := range r.Findings {
		if x.ID == IDShadowedDrop {
			fix = x.Fix
		}
	}
	if fix == "" || strings.Contains(fix, "config firewall") || strings.Count(fix, "(") != strings.Count(fix, ")") || !strings.Contains(fix, "Firewall > Rules") {
		t.Errorf("pfSense VW308 fix: %q\n%s", fix, text(r))
	}
}

// TestCorpusVigor: the Vigor3912 manual's own example commands.
func TestCorpusVigor(t *testing.T) {
	const f = "vigor3912-ug-examples.txt"
	// mngt rmtcfg enable + ftp on: management from the Internet
	wantFailing(t, "as in the manual", auditSrc(t, "draytek", corpus(t, f)), "VW303@7")
	// enable alone: the router's own services answer
	wantFailing(t, "enable only", auditSrc(t, "draytek", corpus(t, f, "mngt rmtcfg ftp on\n", "")), "VW303@6")
	// disable cancels the per-protocol on
	wantFailing(t, "disabled", auditSrc(t, "draytek", corpus(t, f, "mngt rmtcfg ftp on\n", "mngt rmtcfg ftp on\nmngt rmtcfg disable\n")))
	// an open port of every protocol on 443 is HTTPS, not every service
	r := auditSrc(t, "draytek", corpus(t, f, "-p TCP -s 56 -e 83", "-p ALL -s 443 -e 443", "mngt rmtcfg enable\nmngt rmtcfg ftp on\n", ""))
	if len(r.Findings) > 0 {
		t.Errorf("openport -p ALL 443: want no finding\n%s", text(r))
	}
	// the example packet of an open SIP port comes from a stranger, never
	// from a provider's range the router names
	r = auditSrc(t, "draytek", corpus(t, f, "mngt rmtcfg enable\nmngt rmtcfg ftp on\n",
		"object ip obj 2 -a 0 198.51.100.0 255.255.255.0\nobject ip obj 3 -a 0 203.0.113.0 255.255.255.0\nipf rule 2 1 -e 1 -D 1 -s \"o 1 2\" -d \"u 2\" -F \"0 0\"\nipf rule 2 2 -e 1 -D 1 -s \"o 1 3\" -d \"u 2\" -F \"0 0\"\nsrv nat openport 2 1 -a 1 -c SIP -i 192.168.1.10 -w 1 1 -p UDP -s 5060 -e 5060\n"))
	found := false
	for _, x := range r.Findings {
		if x.ID == IDForwardAnySrc {
			found = true
			if strings.Contains(x.Message, "from 198.51.100.") || strings.Contains(x.Message, "from 203.0.113.") || !strings.Contains(x.Message, "from 192.0.2.77") {
				t.Errorf("VW306 names a provider's address, want a stranger's: %s", x.Message)
			}
		}
	}
	if !found {
		t.Errorf("open SIP port: want VW306\n%s", text(r))
	}
}
