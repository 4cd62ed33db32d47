package audit

import (
	"strings"
	"testing"

	"github.com/voicewall/voicewall/devmodel"
)

// Liberal reading: the forms real exports and hand edits take.
func TestReadersAreLiberal(t *testing.T) {
	fgt := strings.ReplaceAll(`#config-version=FGT60F-7.0.12
config firewall address
	edit "SBC one"   
		set subnet 198.51.100.16/29
	next
end
config firewall policy
    edit 9
        set srcintf "wan1"
        set dstintf "internal"
        set srcaddr "SBC one"
        append srcaddr "all"
        set dstaddr 'all'
        set service "SIP"
        set action accept
        unset schedule
    end
`, "\n", "\r\n")
	d, err := Read("fortigate", "crlf.conf", []byte(fgt))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Rules) != 1 || !wide(d.Rules[0].Src) || d.Rules[0].Loc.Line != 8 {
		t.Fatalf("policy 9 not read as from all at line 8: %+v", d.Rules)
	}
	pf := `<?xml version="1.0" encoding="ISO-8859-1"?>
<!-- exported by hand -->
<pfsense>
	<filter>
		<rule>
			<type>pass</type>
			<interface>wan</interface>
			<protocol>udp</protocol>
			<source><any/></source>
			<destination><any/><port>5060</port></destination>
			<descr>caf` + "\xe9" + `</descr>
		</rule>
	</filter>
</pfsense>
`
	d, err = Read("pfsense", "latin1.xml", []byte(pf))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Rules) != 1 || d.Rules[0].Name != "café" || d.Rules[0].Loc.Line != 5 {
		t.Fatalf("latin-1 config.xml: %+v", d.Rules)
	}
	vigor := "DrayTek> sys sip_alg -e 1\r\n\r\nDrayTek> ipf rule 2 1 -e 1 -D 1 -s \"o 1 4\" -S \"o 2\" -F \"0 0\"\nobject ip obj 4 -a 3 198.51.100.1 198.51.100.9\nobject service obj 2 -p 17\nobject service obj 2 -d 0 5060 5060\n"
	d, err = Read("draytek", "session.txt", []byte(vigor))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.SIPHelpers) != 1 || len(d.Rules) != 1 || d.Rules[0].Src.Set == nil || len(d.Rules[0].Src.Set.Ranges()) != 1 || d.Rules[0].Services[0].Proto != devmodel.UDP {
		t.Fatalf("telnet transcript: %+v %+v", d.SIPHelpers, d.Rules)
	}
}

// Unreadable input is a located error.
func TestUnreadableIsLocated(t *testing.T) {
	for _, c := range []struct{ target, src, want string }{
		{"fortigate", "config firewall policy\n    edit 1\n        set comments \"never closed\n", "x:3: quoted string never closed"},
		{"fortigate", "config system global\n    set hostname x\n", "x:1: config system global is never closed"},
		{"pfsense", "<pfsense>\n<filter>\n</pfsense>\n", "x:3: not well-formed XML"},
		{"pfsense", "<opnsensex/>\n", "x:1: the root element is <opnsensex>"},
		{"draytek", "sys sip_alg -e 1\nipf rule 2 x -e 1\n", "x:2: ipf rule needs a set and a rule number"},
	} {
		_, err := Read(c.target, "x", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s %q: %v, want %q", c.target, c.src, err, c.want)
		}
	}
}

// A configuration given with the wrong --target (or an empty file) is an
// error, never a "clean" audit: the FortiGate and DrayTek readers skip
// what they do not know, so they must see something of their own.
func TestWrongTargetIsAnError(t *testing.T) {
	files := map[string]string{"fortigate": "testdata/office-fortigate.conf", "pfsense": "testdata/office-pfsense.xml", "draytek": "testdata/office-vigor.txt"}
	for target := range files {
		for kind, file := range files {
			_, _, err := ReadFile(target, file)
			if (err == nil) != (kind == target) {
				t.Errorf("--target %s on the %s config %s: error %v", target, kind, file, err)
			}
		}
		if _, err := Read(target, "empty", nil); err == nil {
			t.Errorf("--target %s on an empty file: no error", target)
		}
	}
}
