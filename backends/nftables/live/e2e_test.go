package live

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"go4.org/netipx"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/internal/netnstest"
)

// gwTarget applies a table to the topology's gateway.
func gwTarget(t *testing.T, tp *netnstest.Topology) *Target {
	t.Helper()
	t.Setenv("VOICEWALL_STATE_DIR", t.TempDir())
	tg, err := Open(tp.GW.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

// counter returns the packets counted by the rule with that key.
func counter(t *testing.T, tg *Target, key string) uint64 {
	t.Helper()
	st, err := Read(tg, ReadOptions{SkipElements: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Chains {
		for _, r := range c.Rules {
			if r.Key == key {
				return r.Packets
			}
		}
	}
	t.Fatalf("no rule %s", key)
	return 0
}

func addOtherTable(t *testing.T, ns *netnstest.NS) string {
	t.Helper()
	if _, err := ns.Run("nft", "add table ip other; add chain ip other input { type filter hook input priority 0; policy accept; }; add rule ip other input udp dport 9 counter accept comment \"not voicewall's\""); err != nil {
		t.Fatal(err)
	}
	out, err := ns.Run("nft", "list", "table", "ip", "other")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkOtherTable(t *testing.T, ns *netnstest.NS, before string) {
	t.Helper()
	if out, err := ns.Run("nft", "list", "table", "ip", "other"); err != nil || out != before {
		t.Errorf("table ip other changed:\n%s", lineDiff(before, out))
	}
}

// TestE2EAsteriskTrunk: the asterisk example on a real gateway: a provider
// call reaches the PBX through the DNAT, an attacker's does not, RTP from
// the provider's media passes and the attacker's is dropped, and a SIP flood
// from the provider's own address is cut to the rate limit.
func TestE2EAsteriskTrunk(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft", "sipp", "socat")
	tp := netnstest.New(t)
	tg := gwTarget(t, tp)
	other := addOtherTable(t, tp.GW)
	cfg := tp.Config
	tab := loadTable(t, "../../../examples/asterisk-udp-trunk")
	p, _ := mustApply(t, tg, tab)
	if !p.Create {
		t.Fatal("first apply did not create the table")
	}
	if got, want := listTable(t, tp.GW), vw.Render(tab); got != want {
		t.Fatalf("listing:\n%s", lineDiff(want, got))
	}
	gwSIP := netip.AddrPortFrom(cfg.GWWAN.Addr(), 5060)

	uas := tp.StartUAS(t, "pbx", netip.AddrPortFrom(cfg.PBX, 5060))
	res := tp.SIPCall(t, "provider", netip.AddrPortFrom(cfg.Provider[0], 5060), gwSIP)
	if !res.OK {
		t.Fatalf("provider call failed: exit %d\n%s", res.ExitCode, res.Output)
	}
	t.Logf("provider call INVITE..BYE through the DNAT in %v", res.Elapsed.Round(time.Millisecond))
	bad := netnstest.RunSIPP(t, tp.Attacker, netnstest.SIPRun{From: netip.AddrPortFrom(cfg.Attacker[0], 5060), To: gwSIP, RecvTimeout: 500 * time.Millisecond})
	if bad.OK {
		t.Error("attacker's call got through")
	}
	if n := counter(t, tg, "sip_drop_udp"); n == 0 {
		t.Error("sip_drop_udp counted nothing")
	}

	l := tp.ListenUDP(t, "pbx", netip.AddrPortFrom(cfg.PBX, 15000))
	gwRTP := netip.AddrPortFrom(cfg.GWWAN.Addr(), 15000)
	tp.SendUDP(t, "provider", netip.AddrPortFrom(cfg.Provider[0], 20000), gwRTP, 10, 172)
	if got := l.Wait(10, 2*time.Second); got != 10 {
		t.Errorf("RTP from provider media: %d of 10 arrived", got)
	}
	l.Reset()
	tp.SendUDP(t, "attacker", netip.AddrPortFrom(cfg.Attacker[0], 20000), gwRTP, 10, 172)
	if got := l.Wait(1, 500*time.Millisecond); got != 0 {
		t.Errorf("RTP from the attacker: %d arrived", got)
	}
	if n := counter(t, tg, "rtp_drop"); n != 10 {
		t.Errorf("rtp_drop counted %d, want 10", n)
	}

	// A burst of 200 calls at 200/s from the provider on its one
	// established flow (sipp's one UDP socket), against 10/s with a burst
	// of 20: the limit counts new flows, so a busy trunk is never throttled
	// (TestRateLimitNewFlows measures both sides of it).
	before, _ := uas.Stop()
	uas = tp.StartUAS(t, "pbx", netip.AddrPortFrom(cfg.PBX, 5060))
	fl := tp.SIPFlood(t, "provider", netip.AddrPortFrom(cfg.Provider[0], 5070), gwSIP, 200, 200)
	st, _ := uas.Stop()
	hits := counter(t, tg, "rate_limit_sip_v4_udp")
	t.Logf("burst: sent %d calls, %d successful, UAS saw %d INVITEs (before: %d); rate-limit drops %d", fl.Stats.Outgoing, fl.Stats.Successful, st.Incoming, before.Incoming, hits)
	if hits > 1 || st.Incoming < 198 {
		t.Errorf("the provider's established flow was throttled: UAS saw %d of 200 calls, %d rate-limit drops", st.Incoming, hits)
	}
	checkOtherTable(t, tp.GW, other)

	// Unchanged policy: nothing to send.
	if p := plan(t, tg, tab); !p.Empty() {
		t.Errorf("plan after apply not empty")
	}
}

// TestE2EBlocklist: a blocklisted source is dropped first; removing it from
// the list (a delta of the set, nothing else) lets it through.
func TestE2EBlocklist(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft", "sipp")
	cfg := netnstest.Config{
		Provider: []netip.Addr{netip.MustParseAddr("203.0.113.50")},
		PBX:      netip.MustParseAddr("192.168.10.5"),
		GWLAN:    netip.MustParsePrefix("192.168.10.1/24"),
	}
	tp := netnstest.NewWithConfig(t, cfg)
	cfg = tp.Config
	tg := gwTarget(t, tp)
	tab := loadTable(t, "../../../examples/smb-blocklist")
	mustApply(t, tg, tab)
	scanner := cfg.Attacker[0] // 198.51.100.66, in 198.51.100.0/24
	if err := tp.Ping("attacker", scanner, cfg.GWWAN.Addr()); err == nil {
		t.Error("blocklisted source got an answer")
	}
	if n := counter(t, tg, "blocklist_scanners_v4"); n == 0 {
		t.Error("blocklist counted nothing")
	}
	if err := tp.Ping("provider", cfg.Provider[0], cfg.GWWAN.Addr()); err != nil {
		t.Errorf("provider ping (not voicewall's business): %v", err)
	}
	tp.StartUAS(t, "pbx", netip.AddrPortFrom(cfg.PBX, 5060))
	if res := tp.SIPCall(t, "provider", netip.AddrPortFrom(cfg.Provider[0], 5060), netip.AddrPortFrom(cfg.GWWAN.Addr(), 5060)); !res.OK {
		t.Errorf("provider call failed: %s", res.Output)
	}

	next := cloneTable(tab)
	bl := findSet(next, "blocklist_scanners_v4")
	var b netipx.IPSetBuilder
	for _, r := range bl.Elements {
		b.AddRange(r)
	}
	b.RemovePrefix(netip.MustParsePrefix("198.51.100.0/24"))
	s, _ := b.IPSet()
	bl.Elements = s.Ranges()
	p, res := mustApply(t, tg, next)
	if len(p.Rules) != 0 || len(p.Sets) != 1 || res.Stats.Elements != 2 {
		t.Errorf("delta: %d rule changes, %d set changes, %d elements sent; want only the one range", len(p.Rules), len(p.Sets), res.Stats.Elements)
	}
	if err := tp.Ping("attacker", scanner, cfg.GWWAN.Addr()); err != nil {
		t.Errorf("after removing it from the blocklist: %v", err)
	}
}

// TestE2EVoiceVLAN: phones on the voice VLAN (the stand-in link where the
// kernel has no 802.1Q) reach their provider's media and nobody else's.
func TestE2EVoiceVLAN(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft")
	cfg := netnstest.Config{
		GWLAN:    netip.MustParsePrefix("10.40.0.1/24"),
		PBX:      netip.MustParseAddr("10.40.0.10"),
		GWVoice:  netip.MustParsePrefix("10.20.0.1/24"),
		Phone:    netip.MustParseAddr("10.20.0.20"),
		Provider: []netip.Addr{netip.MustParseAddr("192.0.2.70"), netip.MustParseAddr("192.0.2.140")},
	}
	tp := netnstest.NewWithConfig(t, cfg)
	cfg = tp.Config
	tg := gwTarget(t, tp)
	pol := loadPolicy(t, "../../../examples/hosted-tls-vlan")
	ls, err := CheckLinks(tg, LinkSpecOf(pol))
	if err != nil || LinkProblems(ls) != nil {
		t.Fatalf("links: %v %v", err, LinkProblems(ls))
	}
	for _, l := range ls {
		if l.Zone == "phones" && l.Create {
			t.Fatalf("existing %s (%s) not recognized", l.Name, tp.VoiceLinkKind)
		}
	}
	tab := vw.Build(pol)
	mustApply(t, tg, tab)

	media := netip.AddrPortFrom(cfg.Provider[1], 30000)
	lp := tp.ListenUDP(t, "provider", media)
	la := tp.ListenUDP(t, "attacker", netip.AddrPortFrom(cfg.Attacker[0], 30000))
	src := netip.AddrPortFrom(cfg.Phone, 16400)
	if err := netnstest.SendUDPNative(tp.Phone, src, media, 5, 160); err != nil {
		t.Fatal(err)
	}
	if got := lp.Wait(5, 2*time.Second); got != 5 {
		t.Errorf("phone RTP to its provider: %d of 5", got)
	}
	if err := netnstest.SendUDPNative(tp.Phone, netip.AddrPortFrom(cfg.Phone, 16401), la.Addr, 5, 160); err != nil {
		t.Fatal(err)
	}
	if got := la.Wait(1, 500*time.Millisecond); got != 0 {
		t.Errorf("phone RTP to a stranger: %d arrived", got)
	}
	if n := counter(t, tg, "vlan_phones_rtp_drop"); n != 5 {
		t.Errorf("vlan_phones_rtp_drop counted %d, want 5", n)
	}
	if n := counter(t, tg, "vlan_phones_dscp_rtp_v4"); n < 10 {
		t.Errorf("DSCP marking counted %d, want 10", n)
	}
	if !strings.Contains(listTable(t, tp.GW), `iifname "eth1.20"`) {
		t.Error("rules do not name the voice link")
	}
}
