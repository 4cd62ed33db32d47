package fortigate

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/devmodel"
)

// shrunkPolicy is basePolicy after an edit: provider sipgate gone (its
// addresses, services and policies), one blocklist entry gone, no rate
// limit (its DoS policy), no close block.
const shrunkPolicy = `
provider "telnyx" {
  signaling  = ["192.76.120.10", "64.16.250.0/24", "2001:db8:10::/48"]
  media      = ["36.255.198.128/25"]
  transports = ["udp", "tls"]
}
pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["telnyx"]
}
voice_vlan "phones" {
  id         = 20
  parent     = "lan"
  subnet     = "10.20.0.0/24"
  providers  = ["telnyx"]
  management = ["10.0.0.0/24"]
  dscp       = "ef"
}
rtp {
  ports = "10000-20000"
}
blocklist "scanners" {
  addresses = ["198.51.100.0/24"]
}
log {
  dropped = true
  prefix  = "voicewall"
  rate    = "10/minute"
}
`

// device is what a FortiGate holds after the scripts are pasted in order,
// read with the liberal device reader (which applies edit, delete and move
// the way FortiOS does).
func device(t *testing.T, scripts ...string) *cfgTree {
	t.Helper()
	tr, err := readTree("device", []byte(strings.Join(scripts, "")))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// ownedKeys is voicewall's entries of a configuration, table by table.
func ownedKeys(tr *cfgTree) map[string][]string {
	b := &baseConfig{tree: tr}
	out := map[string][]string{}
	for path, es := range owned(b.tables) {
		for _, e := range es {
			out[path] = append(out[path], e.key)
		}
		slices.Sort(out[path])
	}
	return out
}

func script(t *testing.T, src string, base string) string {
	t.Helper()
	opts := backends.Options{AllowDegraded: true}
	if base != "" {
		opts.Base = []byte(base)
	}
	out, _, _ := mustCompile(t, load(t, src), opts)
	return string(out.Main().Data)
}

// Pasting the new script over the old one converges: with --base set to
// the old script (or a backup holding it), the FortiGate ends up with
// exactly the objects and policies the new policy has, as if it had never
// seen the old one. Without --base the stale ones stay, which is what the
// check exists to catch.
func TestPasteOverOldConverges(t *testing.T) {
	old := script(t, basePolicy, "")
	fresh := script(t, shrunkPolicy, "")
	withBase := script(t, shrunkPolicy, old)
	want := ownedKeys(device(t, fresh))

	if got := ownedKeys(device(t, old, withBase)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("old + new (--base old) leaves\n%v\nwant\n%v\n%s", got, want, withBase)
	}
	// Pasting it twice is harmless: the second delete finds nothing.
	if got := ownedKeys(device(t, old, withBase, withBase)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pasted twice: %v", got)
	}
	if got := ownedKeys(device(t, old, fresh)); fmt.Sprint(got) == fmt.Sprint(want) {
		t.Fatal("old + new without --base already converges: the test checks nothing")
	}
	// Every kind of stale entry is there: policies, DoS, addresses, services.
	for _, want := range []string{"config firewall policy\n    delete ", "config firewall DoS-policy\n    delete ", "config firewall address\n    delete \"vw-", "config firewall service custom\n    delete \"vw-"} {
		if !strings.Contains(withBase, want) {
			t.Errorf("no %q in\n%s", want, withBase)
		}
	}
	// Deletes come after everything the script defines.
	if i, j := strings.Index(withBase, "Stale: "), strings.LastIndex(withBase, "    edit "); i < j {
		t.Errorf("deletes are not last")
	}
	// Compiled against its own result, nothing is left to delete.
	again := script(t, shrunkPolicy, old+withBase)
	if strings.Contains(again, "delete \"vw-") || !strings.Contains(again, "Nothing of an earlier voicewall version") {
		t.Errorf("recompiling against the converged state still deletes:\n%s", again)
	}
}

// With --base holding a policy of the admin's own at the top, the script
// moves voicewall's policies above it, in voicewall's order.
func TestMovesAboveAdminPolicies(t *testing.T) {
	admin := "config firewall policy\n    edit 5\n        set name \"lan-out\"\n        set srcintf \"internal\"\n        set dstintf \"wan1\"\n        set srcaddr \"all\"\n        set dstaddr \"all\"\n        set action accept\n        set schedule \"always\"\n        set service \"ALL\"\n    next\nend\n"
	old := script(t, basePolicy, "")
	base := admin + old
	s := script(t, shrunkPolicy, base)
	dev := device(t, base, s)
	var order []string
	for _, blk := range dev.find("firewall policy") {
		for _, e := range blk.ordered() {
			order = append(order, e.key)
		}
	}
	if len(order) < 2 || order[len(order)-1] != "5" {
		t.Fatalf("policy order after paste: %v (want voicewall's first, then 5)", order)
	}
	fresh, _, _ := mustCompile(t, load(t, shrunkPolicy), backends.Options{AllowDegraded: true})
	tr, _ := ParseFortiOS(string(fresh.Main().Data))
	var want []string
	for _, b := range tr.Find("firewall policy") {
		es, err := b.Ordered()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			want = append(want, e.Key)
		}
	}
	if got := order[:len(order)-1]; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("voicewall's policies in order %v, want %v", got, want)
	}
	if !strings.Contains(s, "move "+want[0]+" before 5") {
		t.Errorf("no move before the admin's first policy")
	}
	// Without --base the script says exactly what to run.
	if !strings.Contains(string(fresh.Main().Data), "move "+want[0]+" before <id of your first policy>") {
		t.Errorf("no exact move instruction without --base")
	}
}

// The SIP session helper: deleted by the id a --base backup gives it;
// without a base or sip_helper_index the script says loudly, at the top,
// that it is not removed, and compile warns.
func TestSIPHelperFromBase(t *testing.T) {
	helpers := "config system session-helper\n    edit 12\n        set name \"h323\"\n        set protocol 6\n        set port 1720\n    next\n    edit 13\n        set name \"sip\"\n        set protocol 17\n        set port 5060\n    next\nend\n"
	out, tree, diags := mustCompile(t, load(t, basePolicy), backends.Options{AllowDegraded: true, Base: []byte(helpers)})
	var dels []string
	for _, b := range tree.Find("system session-helper") {
		dels = append(dels, b.Deletes...)
	}
	if strings.Join(dels, ",") != "13" {
		t.Errorf("session-helper deletes %v, want 13", dels)
	}
	for _, d := range diags {
		if strings.Contains(d.Summary, "session helper") {
			t.Errorf("warning with the helper deleted: %s", d.Summary)
		}
	}
	if strings.Contains(string(out.Main().Data), "ACTION REQUIRED") {
		t.Errorf("action required although the helper is deleted")
	}

	// A base without a sip entry: nothing to delete, nothing to do.
	out, tree, _ = mustCompile(t, load(t, basePolicy), backends.Options{AllowDegraded: true, Base: []byte(strings.Replace(helpers, "\"sip\"", "\"sip-old\"", 1))})
	if len(tree.Find("system session-helper")) != 0 || !strings.Contains(string(out.Main().Data), "no session helper named sip") {
		t.Errorf("base without a sip helper:\n%s", out.Main().Data)
	}

	out, _, diags = mustCompile(t, load(t, basePolicy), backends.Options{AllowDegraded: true})
	main := string(out.Main().Data)
	if i := strings.Index(main, "# ACTION REQUIRED"); i < 0 || i > strings.Index(main, "config ") || !strings.Contains(main, "SIP session helper is NOT removed") {
		t.Errorf("no loud ACTION REQUIRED before the first command:\n%s", main[:min(len(main), 2000)])
	}
	warned := false
	for _, d := range diags {
		warned = warned || d.Severity == hcl.DiagWarning && strings.Contains(d.Summary, "SIP session helper left in place")
	}
	if !warned {
		t.Errorf("no warning")
	}
}

// --base that is not a FortiOS configuration (a pfSense config.xml, an
// empty file, a Vigor script) is refused, saying what it looks like: the
// script would otherwise claim to converge with a configuration it never
// read.
func TestBaseNotFortiOSRefused(t *testing.T) {
	for base, want := range map[string]string{
		"<?xml version=\"1.0\"?>\n<pfsense></pfsense>\n": "this looks like a pfSense config.xml",
		"":                   "this looks like an empty file",
		"\n\n":               "this looks like an empty file",
		"sys sip_alg -e 0\n": "this looks like a DrayTek Vigor command script",
		"hello\nworld\n":     "this looks like text of an unknown kind",
	} {
		p := load(t, basePolicy)
		tgt := Spec
		_, diags := tgt.Compile(p, backends.Options{AllowDegraded: true, Base: []byte(base)})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), want) {
			t.Errorf("--base %q: want an error saying %q, got %v", base, want, diags)
		}
	}
}

// --base checks what the script relies on: the interfaces it names exist
// in a backup that declares its interfaces, and the backup's FortiOS
// release is the target's version; each a warning naming them.
func TestBaseInterfacesAndVersionChecked(t *testing.T) {
	base := "#config-version=FGT60F-7.2.8-FW-build1639-240313:opmode=0:vdom=0:user=admin\nconfig system interface\n    edit \"port1\"\n        set role wan\n    next\n    edit \"internal\"\n    next\nend\n"
	_, _, diags := mustCompile(t, load(t, basePolicy), backends.Options{AllowDegraded: true, Base: []byte(base)})
	var iface, version bool
	for _, d := range diags {
		iface = iface || d.Severity == hcl.DiagWarning && strings.Contains(d.Detail, `wan = "wan1"`) && !strings.Contains(d.Detail, `lan = "internal"`)
		version = version || d.Severity == hcl.DiagWarning && strings.Contains(d.Detail, "FortiOS 7.2.8") && strings.Contains(d.Detail, `version = "7.2.8"`)
	}
	if !iface || !version {
		t.Errorf("want warnings naming wan = \"wan1\" and FortiOS 7.2.8, got %v", diags)
	}
	// the script voicewall wrote last time declares no interfaces and has
	// no header: nothing to warn about
	_, _, diags = mustCompile(t, load(t, basePolicy), backends.Options{AllowDegraded: true, Base: []byte("config firewall policy\nend\n")})
	for _, d := range diags {
		if strings.Contains(d.Summary, "--base") {
			t.Errorf("unexpected %s", d.Summary)
		}
	}
}

// A voice VLAN interface the policy no longer has is named, not deleted.
func TestStaleVLANInterfaceListed(t *testing.T) {
	old := script(t, basePolicy, "")
	withoutVLAN := strings.Split(shrunkPolicy, "voice_vlan")[0] + "log {\n  dropped = true\n}\n"
	s := script(t, withoutVLAN, old)
	if !strings.Contains(s, "Voice VLAN interface vw-phones is no longer in the policy") {
		t.Errorf("stale VLAN interface not named:\n%s", s)
	}
	if strings.Contains(s, "config system interface\n    delete") {
		t.Errorf("a VLAN interface is deleted")
	}
}

// multiVDOMBackup is the shape of a backup of a FortiGate in multi-VDOM
// mode: the VDOM list, config global, then each VDOM's tables.
const multiVDOMBackup = `#config-version=FGT60F-7.2.5-FW-build1517-230606:opmode=0:vdom=1:user=admin
config vdom
edit root
next
end
config global
config system global
    set hostname "FGT-OFFICE"
end
end
config vdom
edit root
config system settings
    set default-voip-alg-mode proxy-based
end
config system session-helper
    edit 13
        set name sip
        set protocol 17
        set port 5060
    next
end
config firewall policy
    edit 1
        set srcintf "internal"
        set dstintf "wan1"
        set srcaddr "all"
        set dstaddr "all"
        set action accept
        set service "ALL"
    next
end
end
`

// A --base of a multi-VDOM FortiGate with no vdom in target "fortigate":
// the script would have no config vdom wrapper and the FortiGate would
// refuse every firewall command, so the compile fails saying to set vdom;
// with vdom set it is wrapped.
func TestMultiVDOMBaseNeedsVDOM(t *testing.T) {
	_, diags := Compile(load(t, basePolicy), backends.Options{AllowDegraded: true, Base: []byte(multiVDOMBackup)})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), `vdom = "root"`) {
		t.Fatalf("want an error asking for vdom = \"root\", got %v", diags)
	}
	out, _, _ := mustCompile(t, load(t, basePolicy+"\ntarget \"fortigate\" {\n  vdom = \"root\"\n}\n"), backends.Options{AllowDegraded: true, Base: []byte(multiVDOMBackup)})
	if s := string(out.Main().Data); !strings.Contains(s, "config vdom\n    edit \"root\"\n") {
		t.Errorf("no config vdom / edit root wrapper:\n%s", s)
	}
	// A single-VDOM backup needs no vdom.
	mustCompile(t, load(t, basePolicy), backends.Options{AllowDegraded: true, Base: []byte("config system settings\n    set default-voip-alg-mode proxy-based\nend\n")})
}

// A multi-VDOM backup followed by the script compiled against it (what the
// FortiGate holds after the paste) re-enters config vdom / edit root: the
// script's ALG setting, session-helper delete and policy moves apply to
// the backup's tables, so the device reader sees no SIP helper left and
// voicewall's policies above the admin's.
func TestMultiVDOMBackupThenScript(t *testing.T) {
	out, _, _ := mustCompile(t, load(t, basePolicy+"\ntarget \"fortigate\" {\n  vdom = \"root\"\n}\n"), backends.Options{AllowDegraded: true, Base: []byte(multiVDOMBackup)})
	tr := device(t, multiVDOMBackup, string(out.Main().Data))
	for _, b := range tr.find("system settings") {
		if v := strings.Join(b.settings["default-voip-alg-mode"].vals, " "); v != "kernel-helper-based" {
			t.Errorf("default-voip-alg-mode %q after the script", v)
		}
	}
	for _, b := range tr.find("system session-helper") {
		if len(b.entries) != 0 {
			t.Errorf("session-helper %s still there after the script", b.entries[0].key)
		}
	}
	pols := tr.find("firewall policy")
	if len(pols) != 1 {
		t.Fatalf("%d firewall policy tables, want the VDOM's one", len(pols))
	}
	if order := pols[0].ordered(); order[0].key == "1" || order[len(order)-1].key != "1" {
		t.Errorf("the admin's policy 1 is not below voicewall's")
	}
}

// Dropping wan_address6 removes the IPv6 port forwards: with --base the
// stale vip6s are deleted (after the policies that name them), and the
// FortiGate converges to what the new script alone would leave.
func TestStaleVIP6Deleted(t *testing.T) {
	withV6 := dualStackPBX + "target \"fortigate\" {\n  wan_address6 = \"2001:db8:ffff::1\"\n}\n"
	without := dualStackPBX + "target \"fortigate\" {\n  accept_gaps = [\"address6\"]\n}\n"
	old := script(t, withV6, "")
	if !strings.Contains(old, "config firewall vip6\n") {
		t.Fatalf("no vip6 in\n%s", old)
	}
	withBase := script(t, without, old)
	want := ownedKeys(device(t, script(t, without, "")))
	if got := ownedKeys(device(t, old, withBase)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("old + new (--base old) leaves\n%v\nwant\n%v\n%s", got, want, withBase)
	}
	pol, vip6 := strings.Index(withBase, "config firewall policy\n    delete "), strings.Index(withBase, "config firewall vip6\n    delete \"vw-vip-")
	if vip6 < 0 || pol < 0 || pol > vip6 {
		t.Errorf("vip6s not deleted after the policies naming them:\n%s", withBase)
	}
}

// An admin's earlier local-in accept shadowed voicewall's local-in denies
// to the FortiGate itself: --base now moves local-in (and local-in6)
// policies above the admin's first, as it does firewall policies. Read
// back into devmodel, a stranger's SIP to the FortiGate is dropped by
// voicewall's deny, and a provider's still passes (its accept moved too).
func TestLocalInMovesAboveAdminPolicies(t *testing.T) {
	admin := "config firewall local-in-policy\n    edit 1\n        set intf \"wan1\"\n        set srcaddr \"all\"\n        set dstaddr \"all\"\n        set action accept\n        set service \"ALL\"\n        set schedule \"always\"\n    next\nend\n" +
		"config firewall local-in-policy6\n    edit 1\n        set intf \"wan1\"\n        set srcaddr \"all\"\n        set dstaddr \"all\"\n        set action accept\n        set service \"ALL\"\n        set schedule \"always\"\n    next\nend\n"
	base := admin + script(t, basePolicy, "")
	s := script(t, basePolicy, base)
	for _, path := range []string{"firewall local-in-policy", "firewall local-in-policy6"} {
		if !strings.Contains(s, "config "+path+"\n") || !regexpMoveBefore(s, path, "1") {
			t.Errorf("%s: no move above the admin's policy 1", path)
		}
	}
	d, err := ReadDevice("device", []byte(base+s))
	if err != nil {
		t.Fatal(err)
	}
	route := func(dst netip.Addr, in string) string { return "" }
	for _, c := range []struct {
		src  string
		want devmodel.Action
	}{{"198.18.0.5", devmodel.Drop}, {"2001:db8:99::5", devmodel.Drop}, {"192.76.120.10", devmodel.Accept}} {
		res := d.Evaluate(devmodel.Packet{In: "wan1", Src: netip.MustParseAddr(c.src), Proto: devmodel.UDP, DstPort: 5060}, route)
		if res.Verdict != c.want || res.Rule == nil || strings.HasSuffix(res.Rule.Ref, " 1") {
			t.Errorf("SIP from %s to the FortiGate: %s by %s, want %s by voicewall's local-in policy", c.src, res.Verdict, res.Where(), c.want)
		}
	}
}

// regexpMoveBefore: the script's block for path moves an entry before id.
func regexpMoveBefore(s, path, id string) bool {
	i := strings.Index(s, "config "+path+"\n")
	if i < 0 {
		return false
	}
	blk := s[i:]
	blk = blk[:strings.Index(blk, "\nend\n")]
	return regexp.MustCompile(`(?m)^\s*move \d+ before ` + regexp.QuoteMeta(id) + `$`).MatchString(blk)
}
