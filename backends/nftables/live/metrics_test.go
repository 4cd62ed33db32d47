package live

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/internal/netnstest"
	"github.com/voicewall/voicewall/lang"
)

// TestMetricsCountDropsByReason: real datagrams into the gateway, counted
// by the kernel, exported per drop reason and read back by Prometheus'
// parser: a blocklisted scanner, an unknown SIP source (which the rate
// meter then tracks), and a closed port.
func TestMetricsCountDropsByReason(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft")
	cfg := netnstest.Config{
		Provider: []netip.Addr{netip.MustParseAddr("203.0.113.50")},
		Attacker: []netip.Addr{netip.MustParseAddr("198.51.100.66"), netip.MustParseAddr("100.64.0.66")},
		PBX:      netip.MustParseAddr("192.168.10.5"),
		GWLAN:    netip.MustParsePrefix("192.168.10.1/24"),
	}
	tp := netnstest.NewWithConfig(t, cfg)
	cfg = tp.Config
	tg := gwTarget(t, tp)
	p := loadPolicy(t, "../../../examples/smb-blocklist")
	tab := vw.Build(p)
	mustApply(t, tg, tab)

	gw := cfg.GWWAN.Addr()
	scanner, unknown := cfg.Attacker[0], cfg.Attacker[1]
	send := func(src netip.Addr, sport, dport uint16, n int) {
		t.Helper()
		if err := netnstest.SendUDPNative(tp.Attacker, netip.AddrPortFrom(src, sport), netip.AddrPortFrom(gw, dport), n, 64); err != nil {
			t.Fatal(err)
		}
	}
	send(scanner, 40000, 5060, 4) // blocklist
	send(unknown, 40001, 5060, 5) // not a provider: rate meter, then SIP default drop
	send(unknown, 40002, 5080, 2) // closed port 5080/udp

	want := map[string]float64{lang.DropBlocklist: 4, lang.DropNotProviderSIP: 5, lang.DropClosed: 2}
	var text string
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := Read(tg, ReadOptions{MeterEntries: true})
		if err != nil {
			t.Fatal(err)
		}
		m, err := GatherMetrics(tg, st, Counters(st, tab), tab, p, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WritePrometheus(&b, m); err != nil {
			t.Fatal(err)
		}
		text = b.String()
		if strings.Contains(text, `voicewall_dropped_packets_total{reason="closed",netns="`+tp.GW.Name+`"} 2`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("prometheus parser: %v\n%s", err, text)
	}
	got := map[string]float64{}
	for _, m := range fams["voicewall_dropped_packets_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "reason" {
				got[l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	for _, r := range lang.DropReasons {
		if _, ok := got[r]; !ok {
			t.Errorf("no series for reason %s", r)
		}
		if got[r] != want[r] {
			t.Errorf("dropped packets for %s = %v, want %v", r, got[r], want[r])
		}
	}
	meters := map[string]float64{}
	for _, m := range fams["voicewall_rate_limit_meter_entries"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "family" {
				meters[l.GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	// The scanner is dropped before the meter; the unknown source is in it.
	if meters["ipv4"] != 1 || meters["ipv6"] != 0 {
		t.Errorf("meter entries = %v, want ipv4 1, ipv6 0\n%s", meters, text)
	}
}
