package live

import (
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	"go4.org/netipx"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/lang"
)

// plan reads the namespace and diffs it with want.
func plan(t testing.TB, tg *Target, want *vw.Table) *Plan {
	t.Helper()
	st, err := Read(tg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return Diff(st, want)
}

func mustApply(t testing.TB, tg *Target, want *vw.Table) (*Plan, *Result) {
	t.Helper()
	p := plan(t, tg, want)
	res, err := Apply(tg, p, ApplyOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	return p, res
}

func cloneTable(t *vw.Table) *vw.Table {
	c := &vw.Table{}
	for _, s := range t.Sets {
		x := *s
		x.Elements = append([]netipx.IPRange(nil), s.Elements...)
		c.Sets = append(c.Sets, &x)
	}
	for _, ch := range t.Chains {
		x := *ch
		x.Rules = append([]*vw.Rule(nil), ch.Rules...)
		c.Chains = append(c.Chains, &x)
	}
	return c
}

func findSet(t *vw.Table, name string) *vw.Set {
	for _, s := range t.Sets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func findChain(t *vw.Table, name string) *vw.Chain {
	for _, c := range t.Chains {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestBlocklistEditSendsOnlyTheDelta(t *testing.T) {
	tab := loadTable(t, "../../../examples/smb-blocklist")
	ns, tg := nsTarget(t, "delta")
	mustApply(t, tg, tab)
	handles := ruleHandles(t, tg)

	// Remove every third range, add some new ones, change one range.
	next := cloneTable(tab)
	bl := findSet(next, "blocklist_scanners_v4")
	var b netipx.IPSetBuilder
	for i, r := range bl.Elements {
		if i%3 != 0 {
			b.AddRange(r)
		}
	}
	b.AddPrefix(netip.MustParsePrefix("100.64.7.0/24"))
	b.AddPrefix(netip.MustParsePrefix("0.0.0.0/8")) // reaches key 0: the marker goes
	b.Add(netip.MustParseAddr("223.255.255.1"))
	s, _ := b.IPSet()
	bl.Elements = s.Ranges()
	p := plan(t, tg, next)
	if len(p.Rules) != 0 || len(p.Chains) != 0 || p.Recreate != "" || len(p.Sets) != 1 || p.Sets[0].Delta == nil {
		t.Fatalf("plan: rules %d chains %d sets %+v recreate %q", len(p.Rules), len(p.Chains), p.Sets, p.Recreate)
	}
	d := p.Sets[0].Delta
	t.Logf("delta: -%d +%d ranges, marker del=%v add=%v", len(d.Del), len(d.Add), d.DelMarker, d.AddMarker)
	if !d.DelMarker {
		t.Error("marker not removed although the set now starts at 0.0.0.0")
	}
	res, err := Apply(tg, p, ApplyOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	wantElems := 2*(len(d.Del)+len(d.Add)) + 1
	if res.Stats.Elements != wantElems {
		t.Errorf("sent %d elements, want %d (the delta only)", res.Stats.Elements, wantElems)
	}
	if got, want := listTable(t, ns), vw.Render(next); got != want {
		t.Errorf("listing after delta:\n%s", lineDiff(want, got))
	}
	if h := ruleHandles(t, tg); !sameHandles(handles, h) {
		t.Error("rules were touched by an element-only change")
	}
	// And back: the marker returns.
	p, _ = mustApply(t, tg, tab)
	if !p.Sets[0].Delta.AddMarker {
		t.Error("marker not restored")
	}
	if got, want := listTable(t, ns), vw.Render(tab); got != want {
		t.Errorf("listing after reverting:\n%s", lineDiff(want, got))
	}
	// Unchanged: nothing to send.
	p, res = mustApply(t, tg, tab)
	if !p.Empty() || res.Sent {
		t.Errorf("unchanged policy: plan empty %v, sent %v", p.Empty(), res.Sent)
	}
}

func ruleHandles(t testing.TB, tg *Target) map[string]uint64 {
	st, err := Read(tg, ReadOptions{SkipElements: true})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]uint64{}
	for _, c := range st.Chains {
		for _, r := range c.Rules {
			m[c.Name+"/"+r.Key+"/"+r.Text()] = r.Handle
		}
	}
	return m
}

func sameHandles(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRuleEditsKeepOrder(t *testing.T) {
	tab := loadTable(t, "../../../examples/asterisk-udp-trunk")
	ns, tg := nsTarget(t, "rules")
	mustApply(t, tg, tab)
	before := ruleHandles(t, tg)

	next := cloneTable(tab)
	wan := findChain(next, vw.ChainWANIn)
	// Change one rule (rate), drop one, move one, add two new ones at the
	// front and in the middle.
	changed := *wan.Rules[3]
	changed.Stmts = append([]vw.Stmt(nil), changed.Stmts...)
	for i, s := range changed.Stmts {
		if m, ok := s.(vw.MeterLimit); ok {
			m.Rate = lang.Rate{Count: 99, Unit: "second"}
			changed.Stmts[i] = m
		}
	}
	wan.Rules[3] = &changed
	moved := wan.Rules[1]
	wan.Rules = append(wan.Rules[:1], wan.Rules[2:]...)
	wan.Rules = append(wan.Rules, moved)
	wan.Rules = append(wan.Rules[:5], wan.Rules[6:]...)
	newRule := func(key string) *vw.Rule {
		return &vw.Rule{Key: key, Comment: key + ": test", Stmts: []vw.Stmt{vw.MatchIface{Name: "eth9"}, vw.MatchPorts{Proto: lang.UDP, Dir: vw.Dst, Ranges: []lang.PortRange{{First: 9, Last: 9}}}, vw.Counter{}, vw.Verdict{Kind: "drop"}}}
	}
	wan.Rules = append([]*vw.Rule{newRule("new_first"), newRule("new_second")}, wan.Rules...)
	wan.Rules = append(wan.Rules[:6], append([]*vw.Rule{newRule("new_middle")}, wan.Rules[6:]...)...)

	p := plan(t, tg, next)
	a, c, r := p.Counts()
	t.Logf("plan: +%d ~%d -%d recreate=%q", a, c, r, p.Recreate)
	if p.Recreate != "" || c != 1 || a != 4 || r != 2 {
		for _, x := range p.Rules {
			t.Logf("%s %s %s", x.Op, x.Chain, x.Key)
		}
		t.Errorf("want +4 ~1 -2 in place")
	}
	if _, err := Apply(tg, p, ApplyOptions{Verify: true}); err != nil {
		t.Fatal(err)
	}
	if got, want := listTable(t, ns), vw.Render(next); got != want {
		t.Errorf("listing after rule edits:\n%s", lineDiff(want, got))
	}
	after := ruleHandles(t, tg)
	kept := 0
	for k, h := range before {
		if after[k] == h {
			kept++
		}
	}
	if kept < len(before)-3 {
		t.Errorf("only %d of %d untouched rules kept their handles", kept, len(before))
	}
}

func TestStructuralEdits(t *testing.T) {
	a := loadTable(t, "../../../examples/asterisk-udp-trunk")
	b := loadTable(t, "../../../examples/hosted-tls-vlan")
	c := loadTable(t, "../../../examples/dual-stack")
	ns, tg := nsTarget(t, "struct")
	for i, tab := range []*vw.Table{a, b, c, a} {
		p, _ := mustApply(t, tg, tab)
		t.Logf("step %d: recreate=%q create=%v", i, p.Recreate, p.Create)
		if got, want := listTable(t, ns), vw.Render(tab); got != want {
			t.Fatalf("step %d listing:\n%s", i, lineDiff(want, got))
		}
	}
	// Removing the log chains and the nat chain works in place.
	next := cloneTable(a)
	var chains []*vw.Chain
	for _, ch := range next.Chains {
		if ch.Base() && ch.Name != vw.ChainWANNat {
			x := *ch
			x.Rules = nil
			for _, r := range ch.Rules {
				y := *r
				y.Stmts = nil
				for _, s := range r.Stmts {
					if v, ok := s.(vw.Verdict); ok && v.Kind == "jump" {
						s = vw.Verdict{Kind: "drop"}
					}
					y.Stmts = append(y.Stmts, s)
				}
				x.Rules = append(x.Rules, &y)
			}
			chains = append(chains, &x)
		}
	}
	next.Chains = chains
	p, _ := mustApply(t, tg, next)
	if p.Recreate != "" {
		t.Errorf("removals recreated the table: %s", p.Recreate)
	}
	if got, want := listTable(t, ns), vw.Render(next); got != want {
		t.Fatalf("listing after removals:\n%s", lineDiff(want, got))
	}
}

// TestFailedBatchLeavesTheRulesetExactly: a batch the kernel refuses
// (here: its last message jumps to a chain that does not exist) changes
// nothing, and the error names the message.
func TestFailedBatchLeavesTheRulesetExactly(t *testing.T) {
	a := loadTable(t, "../../../examples/smb-blocklist")
	b := loadTable(t, "../../../examples/asterisk-udp-trunk")
	ns, tg := nsTarget(t, "fail")
	if _, err := ns.Run("nft", "add table ip other; add chain ip other c { type filter hook input priority 0; }; add rule ip other c counter"); err != nil {
		t.Fatal(err)
	}
	mustApply(t, tg, a)
	before, _ := ns.Run("nft", "list", "ruleset")
	g0 := mustGen(t, tg.FD())

	bad := cloneTable(b)
	wan := findChain(bad, vw.ChainWANIn)
	wan.Rules = append(wan.Rules, &vw.Rule{Key: "broken", Comment: "broken: test", Stmts: []vw.Stmt{vw.Verdict{Kind: "jump", Chain: "no_such_chain"}}})
	p := plan(t, tg, bad)
	_, err := Apply(tg, p, ApplyOptions{})
	var be *BatchError
	if !errors.As(err, &be) || !errors.Is(err, syscall.ENOENT) || !strings.Contains(be.What, "broken") {
		t.Fatalf("error %v (%T), want a BatchError naming the broken rule", err, err)
	}
	t.Logf("refused: %v", err)
	after, _ := ns.Run("nft", "list", "ruleset")
	if after != before {
		t.Errorf("ruleset changed by a refused batch:\n%s", lineDiff(before, after))
	}
	if g := mustGen(t, tg.FD()); g != g0 {
		t.Errorf("generation moved %d -> %d", g0, g)
	}

	// Injected through the hook: a valid plan with one bad message added.
	p = plan(t, tg, b)
	_, err = Apply(tg, p, ApplyOptions{Hook: func(m []Msg) []Msg {
		bm, _, _ := (&Plan{Desired: bad, State: &State{}, Create: true}).Messages()
		for _, x := range bm {
			if strings.Contains(x.What, "broken") {
				return append(m, x)
			}
		}
		t.Fatal("no broken message")
		return nil
	}})
	if !errors.As(err, &be) {
		t.Fatalf("injected failure: %v", err)
	}
	if after, _ := ns.Run("nft", "list", "ruleset"); after != before {
		t.Errorf("ruleset changed by a refused batch:\n%s", lineDiff(before, after))
	}
}

func TestStalePlanIsRefused(t *testing.T) {
	a := loadTable(t, "../../../examples/asterisk-udp-trunk")
	b := loadTable(t, "../../../examples/smb-blocklist")
	ns, tg := nsTarget(t, "stale")
	mustApply(t, tg, a)
	p := plan(t, tg, b)
	if _, err := ns.Run("nft", "add table ip intruder"); err != nil {
		t.Fatal(err)
	}
	before := listTable(t, ns)
	_, err := Apply(tg, p, ApplyOptions{})
	var se *StaleError
	if !errors.As(err, &se) || !errors.Is(err, ErrStaleGenID) || se.Now != se.Planned+1 {
		t.Fatalf("error %v, want a StaleError", err)
	}
	t.Logf("refused: %v", err)
	if after := listTable(t, ns); after != before {
		t.Error("stale batch changed the table")
	}
	// Planning again works, and other tables are untouched.
	mustApply(t, tg, b)
	if out, _ := ns.Run("nft", "list", "tables"); !strings.Contains(out, "table ip intruder") {
		t.Errorf("other table gone: %s", out)
	}
}

// TestLostAnswerIsReadBack: when the kernel's acks overflow the socket
// (ENOBUFS) the outcome is unknown; apply reads the table again and
// reports the truth.
func TestLostAnswerIsReadBack(t *testing.T) {
	tab := loadTable(t, "../../../examples/smb-blocklist")
	ns, tg := nsTarget(t, "enobufs")
	nlwire.TestRecvBuffer = 1024
	defer func() { nlwire.TestRecvBuffer = 0 }()
	p := plan(t, tg, tab)
	res, err := Apply(tg, p, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", res.Unknown)
	if !strings.Contains(res.Unknown, "ENOBUFS") || !strings.Contains(res.Unknown, "the change is applied") || !res.Verified {
		t.Errorf("result %+v", res)
	}
	if got, want := listTable(t, ns), vw.Render(tab); got != want {
		t.Error("table not applied")
	}
	// A refused batch whose answer is lost: nothing applied, and said so.
	bad := cloneTable(loadTable(t, "../../../examples/asterisk-udp-trunk"))
	wan := findChain(bad, vw.ChainWANIn)
	wan.Rules = append(wan.Rules, &vw.Rule{Key: "broken", Comment: "broken: test", Stmts: []vw.Stmt{vw.Verdict{Kind: "jump", Chain: "no_such_chain"}}})
	_, err = Apply(tg, plan(t, tg, bad), ApplyOptions{})
	t.Logf("%v", err)
	if err == nil || !strings.Contains(err.Error(), "nothing was applied") {
		t.Errorf("error %v", err)
	}
	if got, want := listTable(t, ns), vw.Render(tab); got != want {
		t.Error("refused batch changed the table")
	}
}
