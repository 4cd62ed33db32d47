package pfsense

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"testing"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// stripOwned removes, line by line, every <alias>/<rule>/<vlan> block whose
// descr starts with "voicewall:" and voicewall's own comments. It is written
// independently of the merge code: what is left must equal the base.
func stripOwned(s string) string {
	lines := strings.SplitAfter(s, "\n")
	open := regexp.MustCompile(`^(\s*)<(alias|rule|vlan)>\s*$`)
	var out []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(strings.TrimSpace(l), "<!-- voicewall") {
			for !strings.Contains(lines[i], "-->") {
				i++
			}
			continue
		}
		m := open.FindStringSubmatch(l)
		if m == nil {
			out = append(out, l)
			continue
		}
		closer := m[1] + "</" + m[2] + ">"
		j := i + 1
		for j < len(lines) && strings.TrimRight(lines[j], "\r\n") != closer {
			j++
		}
		block := strings.Join(lines[i:j+1], "")
		if regexp.MustCompile(`\n` + m[1] + `\t<descr><!\[CDATA\[voicewall:`).MatchString(block) {
			i = j
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}

func wellFormed(t *testing.T, data []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("merged config is not well-formed: %v", err)
		}
	}
}

// ownedOnly keeps the items whose descr marks them as voicewall's.
func ownedOnly[T any](items []T, descr func(T) string) []T {
	var keep []T
	for _, it := range items {
		if strings.HasPrefix(descr(it), Owner) {
			keep = append(keep, it)
		}
	}
	return keep
}

// readMerged checks voicewall's items inside a full config with the strict
// reader: foreign items are dropped first (they may use any element).
func readMerged(t *testing.T, data []byte) *rDoc {
	t.Helper()
	var d rDoc
	if err := xml.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	d.Unknown = nil
	if d.Aliases != nil {
		d.Aliases.Unknown = nil
		d.Aliases.Alias = ownedOnly(d.Aliases.Alias, func(a rAlias) string { return a.Descr })
	}
	if d.Filter != nil {
		d.Filter.Unknown = nil
		d.Filter.Rule = ownedOnly(d.Filter.Rule, func(r rRule) string { return r.Descr })
	}
	if d.NAT != nil {
		d.NAT.Unknown = nil
		d.NAT.Rule = ownedOnly(d.NAT.Rule, func(r rNATRule) string { return r.Descr })
		if o := d.NAT.Outbound; o != nil {
			o.Rule = ownedOnly(o.Rule, func(r rOutRule) string { return r.Descr })
		}
	}
	if d.VLANs != nil {
		d.VLANs.VLAN = ownedOnly(d.VLANs.VLAN, func(v rVLAN) string { return v.Descr })
	}
	// Aliases that foreign items may reference are not voicewall's concern;
	// voicewall's rules only reference voicewall's aliases.
	if err := d.validate(); err != nil {
		t.Fatalf("strict reader on merged config: %v", err)
	}
	return &d
}

func loadBase(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/base-config.xml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMergeKeepsForeignBytes(t *testing.T) {
	base := loadBase(t)
	p := build(defaultSpec())
	out, _ := compileOK(t, p, backends.Options{AllowDegraded: true, Base: base})
	merged := out.Main().Data
	wellFormed(t, merged)

	want := strings.Replace(stripOwned(string(base)), "<mode>automatic</mode>", "<mode>hybrid</mode>", 1)
	if got := stripOwned(string(merged)); got != want {
		t.Fatalf("non-voicewall content changed:\n--- got\n%s\n--- want\n%s", got, want)
	}
	for _, stale := range []string{"VW_OLD_PROVIDER</name>", "stale]]>"} {
		if strings.Contains(string(merged), stale) {
			t.Errorf("stale voicewall item %q kept", stale)
		}
	}
	// Foreign items survive, including the hand-made alias whose name voicewall would have used.
	for _, keep := range []string{"<name>Office_Printers</name>", "printers &amp; scanners", "<descr><![CDATA[hand-made, not voicewall's]]></descr>",
		"<associated-rule-id>nat_6420c0a1b2c3d4.12345678</associated-rule-id>", "<vlanif>igb1.30</vlanif>", "<separator>"} {
		if !strings.Contains(string(merged), keep) {
			t.Errorf("foreign content %q lost", keep)
		}
	}
	d := readMerged(t, merged)
	checkFacts(t, p, d)
	for _, a := range d.Aliases.Alias {
		if a.Name == "VW_BLOCKLIST_SCANNERS" {
			t.Errorf("voicewall reused the foreign alias name %s", a.Name)
		}
	}
	// The VLAN is created on the LAN's NIC, read from the base.
	if len(d.VLANs.VLAN) != 1 || d.VLANs.VLAN[0].VLANIf != "igb1.20" {
		t.Errorf("vlans = %+v", d.VLANs.VLAN)
	}
	// voicewall's filter rules come first (blocklist before the admin's rules).
	i := strings.Index(string(merged), "drop listed sources")
	j := strings.Index(string(merged), "Default allow LAN to any rule")
	if i < 0 || j < 0 || i > j {
		t.Errorf("voicewall rules not first in <filter>")
	}

	// Idempotent: merging again into the merged config changes nothing.
	again, _ := compileOK(t, p, backends.Options{AllowDegraded: true, Base: merged})
	if !bytes.Equal(again.Main().Data, merged) {
		t.Fatalf("second merge differs:\n%s", again.Main().Data)
	}
}

func TestMergeReplacesOnRerun(t *testing.T) {
	base := loadBase(t)
	first, _ := compileOK(t, build(defaultSpec()), backends.Options{AllowDegraded: true, Base: base})
	s := defaultSpec()
	s.provName = "sipgate"
	s.signaling = pfx("217.10.79.9")
	p2 := build(s)
	second, _ := compileOK(t, p2, backends.Options{AllowDegraded: true, Base: first.Main().Data})
	m := string(second.Main().Data)
	if strings.Contains(m, "TELNYX") || !strings.Contains(m, "VW_PROVIDER_SIPGATE_SIGNALING") {
		t.Fatalf("re-run did not replace voicewall's items")
	}
	direct, _ := compileOK(t, p2, backends.Options{AllowDegraded: true, Base: base})
	if m != string(direct.Main().Data) {
		t.Fatalf("merge(merge(base, a), b) != merge(base, b)")
	}
	checkFacts(t, p2, readMerged(t, second.Main().Data))
}

func TestMergeCreatesMissingSections(t *testing.T) {
	for name, base := range map[string]string{
		"missing": "<?xml version=\"1.0\"?>\n<pfsense>\n\t<version>23.3</version>\n\t<interfaces>\n\t\t<lan>\n\t\t\t<if>em1</if>\n\t\t</lan>\n\t</interfaces>\n</pfsense>\n",
		"empty":   "<?xml version=\"1.0\"?>\n<pfsense>\n\t<aliases/>\n\t<filter></filter>\n\t<nat>\n\t\t<outbound/>\n\t</nat>\n\t<vlans>\n\t</vlans>\n</pfsense>\n",
		"compact": "<pfsense><aliases></aliases><filter/><nat/><vlans/></pfsense>",
		"nomode":  "<pfsense>\n\t<nat>\n\t\t<outbound>\n\t\t\t<rule>\n\t\t\t\t<descr>mine</descr>\n\t\t\t</rule>\n\t\t</outbound>\n\t</nat>\n</pfsense>\n",
	} {
		t.Run(name, func(t *testing.T) {
			p := build(defaultSpec())
			out, _ := compileOK(t, p, backends.Options{AllowDegraded: true, Base: []byte(base)})
			wellFormed(t, out.Main().Data)
			d := readMerged(t, out.Main().Data)
			checkFacts(t, p, d)
			again, _ := compileOK(t, p, backends.Options{AllowDegraded: true, Base: out.Main().Data})
			if !bytes.Equal(again.Main().Data, out.Main().Data) {
				t.Fatalf("not idempotent:\n%s\n---\n%s", out.Main().Data, again.Main().Data)
			}
		})
	}
}

func TestMergeUsesAssignedVLANInterface(t *testing.T) {
	base := strings.Replace(string(loadBase(t)), "\t</interfaces>", "\t\t<opt2>\n\t\t\t<enable></enable>\n\t\t\t<if>igb1.20</if>\n\t\t\t<descr><![CDATA[VOICE]]></descr>\n\t\t</opt2>\n\t</interfaces>", 1)
	p := build(defaultSpec())
	out, _ := compileOK(t, p, backends.Options{AllowDegraded: true, Base: []byte(base)})
	d := readMerged(t, out.Main().Data)
	var tagOnOpt2, mgmtOnOpt2 bool
	for _, r := range d.Filter.Rule {
		if r.Type == "match" && r.Tag == "VW_IN_PHONES" && r.Interface == "opt2" {
			tagOnOpt2 = true
		}
		if r.Direction == "out" && r.Interface == "opt2" && r.Destination.Port == "443" {
			mgmtOnOpt2 = true
		}
	}
	if !tagOnOpt2 || !mgmtOnOpt2 {
		t.Errorf("rules do not use the assigned interface opt2")
	}
	// The phones' own traffic is passed in on opt2, by a rule that does not
	// override the admin's own rules there (floating, not quick).
	var pass bool
	for _, r := range d.Filter.Rule {
		if r.Interface == "opt2" && r.Type == "pass" && vlanPass(p, d.aliasMap(), r) {
			pass = true
		}
	}
	if !pass {
		t.Errorf("no non-quick pass of the phones' traffic on opt2")
	}
}

func TestMergeRejectsBrokenBase(t *testing.T) {
	for _, base := range []string{"", "<pfsense>", "<notpfsense/>", "<pfsense></filter>"} {
		if out, diags := Compile(build(defaultSpec()), backends.Options{AllowDegraded: true, Base: []byte(base)}); !diags.HasErrors() || out != nil {
			t.Errorf("base %q accepted", base)
		}
	}
}

var _ = lang.ZoneWAN

// --base that is not a pfSense config.xml is refused saying what it looks
// like (a FortiGate backup gave a bare XML syntax error); an interface the
// merged rules are on that the base lacks is a warning naming it; a base
// nested deeper than the device reader reads is refused quickly.
func TestMergeBaseChecked(t *testing.T) {
	for base, want := range map[string]string{
		"#config-version=FGT60F-7.2.8-FW-build1639-240313:opmode=0\nconfig system global\nend\n": "this looks like a FortiOS configuration, not a pfSense config.xml",
		"":                   "this looks like an empty file",
		"sys sip_alg -e 0\n": "this looks like a DrayTek Vigor command script",
	} {
		_, diags := Compile(build(defaultSpec()), backends.Options{AllowDegraded: true, Base: []byte(base)})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), want) {
			t.Errorf("--base %.30q: want %q, got %v", base, want, diags)
		}
	}
	noLAN := strings.Replace(string(loadBase(t)), "<lan>", "<opt9>", 1)
	noLAN = strings.Replace(noLAN, "</lan>", "</opt9>", 1)
	_, diags := Compile(build(defaultSpec()), backends.Options{AllowDegraded: true, Base: []byte(noLAN)})
	warned := false
	for _, d := range diags {
		warned = warned || d.Severity == hcl.DiagWarning && strings.Contains(d.Detail, `lan = "lan"`)
	}
	if !warned {
		t.Errorf("no warning naming the missing lan interface: %v", diags)
	}
	deep := "<?xml version=\"1.0\"?>\n<pfsense>" + strings.Repeat("<a>", 20000) + strings.Repeat("</a>", 20000) + "</pfsense>\n"
	_, diags = Compile(build(defaultSpec()), backends.Options{AllowDegraded: true, Base: []byte(deep)})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "nested deeper than") {
		t.Errorf("a 20,000-deep base: want a refusal, got %v", diags)
	}
}

// BenchmarkMergeDeepBase: a base nested 20,000 elements deep is refused at
// the depth audit reads (it took 12 s, 40,000 deep 92 s, when every
// element rebuilt its whole path).
func BenchmarkMergeDeepBase(b *testing.B) {
	deep := []byte("<?xml version=\"1.0\"?>\n<pfsense>" + strings.Repeat("<a>", 20000) + strings.Repeat("</a>", 20000) + "</pfsense>\n")
	p := build(defaultSpec())
	for b.Loop() {
		Compile(p, backends.Options{AllowDegraded: true, Base: deep})
	}
}
