package live

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

func TestSIPHelperWarnings(t *testing.T) {
	ns, tg := nsTarget(t, "alg")
	if w, err := SIPHelpers(tg); err != nil || len(w) != 0 {
		t.Fatalf("clean namespace: %v %v", w, err)
	}
	script := `table ip raw {
	ct helper sip-5060 {
		type "sip" protocol udp
		l3proto ip
	}
	ct helper ftp-21 {
		type "ftp" protocol tcp
	}
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		udp dport 5060 ct helper set "sip-5060"
		tcp dport 21 ct helper set "ftp-21"
	}
}
`
	if _, err := ns.Run("sh", "-c", "printf '%s' '"+script+"' | nft -f -"); err != nil {
		t.Fatal(err)
	}
	w, err := SIPHelpers(tg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("warnings: %q", w)
	if len(w) != 2 || !strings.Contains(strings.Join(w, "\n"), `"sip-5060"`) || strings.Contains(strings.Join(w, "\n"), "ftp") {
		t.Errorf("want the sip object and the rule attaching it, not ftp: %q", w)
	}
}

func TestLinksAndLockout(t *testing.T) {
	ns, tg := nsTarget(t, "links")
	p := loadPolicy(t, "../../../examples/hosted-tls-vlan")
	ls, err := CheckLinks(tg, LinkSpecOf(p))
	if err != nil {
		t.Fatal(err)
	}
	if err := LinkProblems(ls); err == nil || !strings.Contains(err.Error(), `"eth0" does not exist`) {
		t.Errorf("missing devices not reported: %v", err)
	}
	for _, cmd := range [][]string{
		{"ip", "link", "add", "eth0", "type", "veth", "peer", "name", "x0"},
		{"ip", "link", "add", "eth1", "type", "veth", "peer", "name", "x1"},
		{"ip", "addr", "add", "192.0.2.1/24", "dev", "eth0"},
		{"ip", "addr", "add", "10.0.0.1/24", "dev", "eth1"},
	} {
		if _, err := ns.Run(cmd...); err != nil {
			t.Fatal(err)
		}
	}
	ls, _ = CheckLinks(tg, LinkSpecOf(p))
	if err := LinkProblems(ls); err != nil {
		t.Fatal(err)
	}
	var vlan *Link
	for i := range ls {
		if ls[i].Zone == "phones" {
			vlan = &ls[i]
		}
	}
	if vlan == nil || vlan.Name != "eth1.20" || vlan.Parent != "eth1" || vlan.ID != 20 || vlan.Create != VLANSupported() {
		t.Fatalf("vlan link: %+v", vlan)
	}
	if !VLANSupported() {
		// Plan shows why instead of a creation that cannot happen; pretend
		// it can, so CreateVLANs reports the kernel's refusal.
		if !strings.Contains(vlan.Note, "cannot be created") {
			t.Errorf("no note on the uncreatable link: %+v", vlan)
		}
		vlan.Create = true
	}
	made, err := CreateVLANs(tg, ls)
	switch {
	case errors.Is(err, ErrNoVLANSupport):
		t.Logf("no 802.1Q here, as expected on this kernel: %v", err)
		// A stand-in of that name is verified and accepted.
		if _, err := ns.Run("ip", "link", "add", "eth1.20", "link", "eth1", "type", "macvlan", "mode", "bridge"); err != nil {
			t.Fatal(err)
		}
		ls, _ = CheckLinks(tg, LinkSpecOf(p))
		if err := LinkProblems(ls); err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if l.Zone == "phones" && (l.Create || !strings.Contains(l.Note, "macvlan")) {
				t.Errorf("stand-in not accepted: %+v", l)
			}
		}
	case err != nil:
		t.Fatal(err)
	default:
		t.Logf("created %v", made)
		ls, _ = CheckLinks(tg, LinkSpecOf(p))
		for _, l := range ls {
			if l.Zone == "phones" && (l.Create || l.Kind != "vlan" || l.Problem != "") {
				t.Errorf("created vlan not verified: %+v", l)
			}
		}
	}

	// Lock-out: an SSH client inside the management network reaching the
	// gateway over the LAN is fine; one in a blocklist is not.
	if l := CheckLockout(tg, p, "10.0.0.7 51000 10.0.0.1 22"); l != nil {
		t.Errorf("lan admin locked out: %v", l)
	}
	bl := loadPolicy(t, "../../../examples/smb-blocklist")
	l := CheckLockout(tg, bl, "198.51.100.23 51000 192.0.2.1 22")
	if l == nil || l.Zone != "wan" || !strings.Contains(l.Error(), "blocklist") {
		t.Errorf("blocklisted admin not detected: %v", l)
	}
	t.Logf("%v", l)
	if l := CheckLockout(tg, bl, "203.0.113.50 51000 192.0.2.1 22"); l != nil {
		t.Errorf("provider address locked out: %v", l)
	}
}

func TestStatusMapsCounters(t *testing.T) {
	_, tg := nsTarget(t, "status")
	tab := loadTable(t, "../../../examples/smb-blocklist")
	mustApply(t, tg, tab)
	st, err := Read(tg, ReadOptions{SkipElements: true})
	if err != nil {
		t.Fatal(err)
	}
	cs := Counters(st, tab)
	var found bool
	for _, c := range cs {
		if c.Rule == "blocklist_scanners_v4" {
			found = true
			if c.Kind != "blocklist" || c.Block != `blocklist "scanners"` || c.Source != "policy.hcl:35" || c.Action != "drop" || !c.InPolicy {
				t.Errorf("blocklist counter: %+v", c)
			}
		}
	}
	if !found {
		t.Fatal("no blocklist counter")
	}
	// Without the policy the comment still names the block.
	for _, c := range Counters(st, nil) {
		if c.Rule == "blocklist_scanners_v4" && (c.Block != `blocklist "scanners"` || c.Source != "policy.hcl:35" || c.Kind != "blocklist") {
			t.Errorf("comment-only mapping: %+v", c)
		}
	}
	var buf bytes.Buffer
	m, err := GatherMetrics(tg, st, cs, tab, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePrometheus(&buf, m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `voicewall_packets_total{rule="blocklist_scanners_v4",block="blocklist \"scanners\"",kind="blocklist",reason="blocklist"`) {
		t.Errorf("prometheus output:\n%s", buf.String())
	}
}

// TestForeignRulesAreCorrected: rules someone else put into voicewall's
// table (without a key, or with a key but other expressions) show in the
// plan and are corrected by apply; nothing foreign is mistaken for ours.
func TestForeignRulesAreCorrected(t *testing.T) {
	ns, tg := nsTarget(t, "foreign")
	tab := loadTable(t, "../../../examples/asterisk-udp-trunk")
	mustApply(t, tg, tab)
	for _, r := range []string{
		`add rule inet voicewall wan_in meta mark set 7`,
		`insert rule inet voicewall wan_in iifname "eth0" tcp dport 2000 counter quota 10 mbytes jump drop_closed_2000_tcp comment "closed_2000_tcp: close (gateway.hcl:37)"`,
	} {
		if _, err := ns.Run("nft", r); err != nil {
			t.Fatal(err)
		}
	}
	p := plan(t, tg, tab)
	a, c, r := p.Counts()
	t.Logf("plan: +%d ~%d -%d", a, c, r)
	var foreign, dup int
	for _, x := range p.Rules {
		if x.Op == OpRemove && x.Key == "" {
			foreign++
		}
		if x.Op == OpRemove && x.Key == "closed_2000_tcp" {
			dup++
		}
	}
	if foreign != 1 || dup+c != 2 {
		for _, x := range p.Rules {
			t.Logf("%s %s %s %s", x.Op, x.Key, x.Before, x.After)
		}
		t.Errorf("want the foreign rule and the impostor removed")
	}
	if _, err := Apply(tg, p, ApplyOptions{Verify: true}); err != nil {
		t.Fatal(err)
	}
	if got, want := listTable(t, ns), vw.Render(tab); got != want {
		t.Errorf("listing:\n%s", lineDiff(want, got))
	}
}
