package live

import (
	"net/netip"
	"testing"

	"go4.org/netipx"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/lang"
)

func rng(a, b string) netipx.IPRange {
	return netipx.IPRangeFrom(netip.MustParseAddr(a), netip.MustParseAddr(b))
}

// synthetic is a table with every statement kind and the edge cases of
// their encoding: intervals touching both ends of the address space (no
// marker, open end), a port set reaching 65535, explicit nfproto, negated
// interface names, ct states, v6 dnat and dscp.
func synthetic() *vw.Table {
	src := &lang.Rule{ID: "x", Origin: lang.Origin{Kind: "provider", Name: "p"}}
	r := func(key string, s ...vw.Stmt) *vw.Rule {
		return &vw.Rule{Key: key, Stmts: s, Comment: key + ": provider p", Source: src}
	}
	return &vw.Table{
		Sets: []*vw.Set{
			{Name: "edge_v4", Type: vw.SetIPv4, Elements: []netipx.IPRange{rng("0.0.0.0", "0.255.255.255"), rng("10.0.0.1", "10.0.0.1"), rng("10.0.0.5", "10.0.0.9"), rng("255.0.0.0", "255.255.255.255")}},
			{Name: "edge_v6", Type: vw.SetIPv6, Elements: []netipx.IPRange{rng("2001:db8::", "2001:db8::ffff"), rng("ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")}},
			{Name: "empty_v4", Type: vw.SetIPv4},
			{Name: "meter_v6", Type: vw.SetIPv6, Dynamic: true, Size: 1024, Timeout: "2m"},
		},
		Chains: []*vw.Chain{
			{Name: "pre", Type: "filter", Hook: "prerouting", Priority: "mangle", PrioNum: vw.PrioMangle, Policy: "accept", Rules: []*vw.Rule{
				r("a", vw.MatchIface{Neg: true, Name: "eth0"}, vw.MatchIface{Out: true, Name: "veth-longname1"}, vw.MatchCtState{States: []string{"invalid", "new", "untracked"}}, vw.Counter{}, vw.Verdict{Kind: "drop"}),
				r("b", vw.MatchNfproto{V6: true}, vw.MatchPorts{Proto: lang.TCP, Dir: vw.Dst, Ranges: []lang.PortRange{{First: 22, Last: 22}, {First: 60000, Last: 65535}}}, vw.Counter{}, vw.Verdict{Kind: "accept"}),
				r("c", vw.MatchAddrSet{V6: false, Dir: vw.Dst, Set: "edge_v4"}, vw.MatchPorts{Proto: lang.UDP, Dir: vw.Src, Ranges: []lang.PortRange{{First: 0, Last: 10}, {First: 5000, Last: 5001}}}, vw.MatchPorts{Proto: lang.UDP, Dir: vw.Dst, Ranges: []lang.PortRange{{First: 1, Last: 65535}}}, vw.Verdict{Kind: "jump", Chain: "helper"}),
				r("d", vw.MatchAddrSet{V6: true, Dir: vw.Dst, Set: "edge_v6"}, vw.MatchPorts{Proto: lang.TCP, Dir: vw.Dst, Ranges: []lang.PortRange{{First: 80, Last: 80}}}, vw.MeterLimit{Set: "meter_v6", V6: true, Rate: lang.Rate{Count: 3, Unit: "minute"}, Burst: 5}, vw.Counter{}, vw.Verdict{Kind: "drop"}),
				r("e", vw.MatchAddrSet{V6: true, Dir: vw.Src, Set: "edge_v6"}, vw.Counter{}, vw.SetDSCP{V6: true, Class: "af41"}),
				r("f", vw.MatchAddrSet{Dir: vw.Src, Set: "empty_v4"}, vw.MatchAddrSet{Dir: vw.Dst, Set: "edge_v4"}, vw.SetDSCP{Class: "cs1"}, vw.Counter{}),
			}},
			{Name: "nat6", Type: "nat", Hook: "prerouting", Priority: "dstnat", PrioNum: vw.PrioDstnat, Policy: "accept", Rules: []*vw.Rule{
				r("g", vw.MatchAddrSet{V6: true, Dir: vw.Src, Set: "edge_v6"}, vw.MatchPorts{Proto: lang.UDP, Dir: vw.Dst, Ranges: []lang.PortRange{{First: 5060, Last: 5060}}}, vw.Counter{}, vw.DNAT{Addr: netip.MustParseAddr("2001:db8::5")}),
				r("h", vw.MatchPorts{Proto: lang.UDP, Dir: vw.Dst, Ranges: []lang.PortRange{{First: 5060, Last: 5060}}}, vw.DNAT{Addr: netip.MustParseAddr("10.1.2.3")}),
			}},
			{Name: "helper", Rules: []*vw.Rule{
				{Key: "helper_log", Stmts: []vw.Stmt{vw.Limit{Rate: lang.Rate{Count: 1, Unit: "hour"}}, vw.Log{Prefix: "vw: "}}},
				{Key: "helper_drop", Stmts: []vw.Stmt{vw.Verdict{Kind: "drop"}}},
			}},
		},
	}
}

func TestEveryStatementListsBack(t *testing.T) {
	tab := synthetic()
	ns, tg := nsTarget(t, "stmts")
	st, err := Read(tg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(tg, Diff(st, tab), ApplyOptions{Verify: true}); err != nil {
		t.Fatal(err)
	}
	if got, want := listTable(t, ns), vw.Render(tab); got != want {
		t.Errorf("nft list differs from the rendered text:\n%s\n--- got\n%s", lineDiff(want, got), got)
	}
	st, err = Read(tg, ReadOptions{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Chains {
		for _, r := range c.Rules {
			if r.DecodeErr != nil {
				t.Errorf("rule %q: %v", r.Comment, r.DecodeErr)
			}
		}
	}
	for _, s := range st.Sets {
		if s.Content != nil {
			t.Logf("set %s: %d ranges marker=%v odd=%d", s.Name, len(s.Content.Ranges), s.Content.Marker, s.Content.Odd)
		}
	}
	if d := Diff(st, tab); !d.Empty() {
		t.Errorf("not empty after apply: %+v %+v %+v %q", d.Chains, d.Sets, d.Rules, d.Recreate)
	}
}
