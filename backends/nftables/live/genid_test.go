package live

import (
	"bytes"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/voicewall/voicewall/internal/netnstest"
)

func TestAddBatchGenID(t *testing.T) {
	msgs := []netlink.Message{
		{Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_MSG_BATCH_BEGIN), Length: 20}, Data: []byte{0, 0, 0, 10}},
		{Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWTABLE)}, Data: []byte{1, 0, 0, 0}},
		{Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_MSG_BATCH_END)}, Data: []byte{0, 0, 0, 10}},
	}
	n, err := AddBatchGenID(msgs, 0x01020304)
	if err != nil || n != 1 {
		t.Fatalf("AddBatchGenID = %d, %v", n, err)
	}
	// nlwire.Nfgenmsg, then nlattr{len 8, type NFNL_BATCH_GENID} (host order), nlwire.BE32 genid.
	want := []byte{0, 0, 0, 10, 8, 0, unix.NFNL_BATCH_GENID, 0, 1, 2, 3, 4}
	if !bytes.Equal(msgs[0].Data, want) || msgs[0].Header.Length != 0 {
		t.Errorf("begin = % x (len %d), want % x (len 0)", msgs[0].Data, msgs[0].Header.Length, want)
	}
	if !bytes.Equal(msgs[1].Data, []byte{1, 0, 0, 0}) || !bytes.Equal(msgs[2].Data, []byte{0, 0, 0, 10}) {
		t.Error("other messages changed")
	}
	if _, err := AddBatchGenID(msgs, 1); err == nil {
		t.Error("a second genid attribute was accepted")
	}
}

func addTable(t *testing.T, nsFD int, name string) {
	t.Helper()
	c, err := nftables.New(nftables.WithNetNSFd(nsFD))
	if err != nil {
		t.Fatal(err)
	}
	c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: name})
	if err := c.Flush(); err != nil {
		t.Fatalf("add table %s: %v", name, err)
	}
}

func tableNames(t *testing.T, nsFD int) map[string]bool {
	t.Helper()
	c, err := nftables.New(nftables.WithNetNSFd(nsFD))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.ListTables()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, tb := range ts {
		m[tb.Name] = true
	}
	return m
}

func mustGen(t *testing.T, nsFD int) uint32 {
	t.Helper()
	g, err := ReadGenID(nsFD)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGenIDStaleBatch proves, in a namespace of its own, that GenID follows
// commits and that a batch carrying an old generation is refused whole.
func TestGenIDStaleBatch(t *testing.T) {
	ns := netnstest.NewNS(t, "genid")
	fd := ns.FD()

	g0 := mustGen(t, fd)
	if g0 == 0 {
		t.Fatal("generation id 0")
	}
	// Same answer on a reused socket (no stray ack left behind).
	c, err := DialNetfilter(fd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if g, err := GenID(c); err != nil || g != g0 {
			t.Fatalf("GenID #%d = %d, %v; want %d", i, g, err, g0)
		}
	}
	c.Close()

	addTable(t, fd, "other")
	g1 := mustGen(t, fd)
	if g1 != g0+1 {
		t.Fatalf("after one commit genid %d -> %d, want +1", g0, g1)
	}
	// A batch that changes nothing (the table exists, no NLM_F_EXCL) does
	// not move the generation.
	addTable(t, fd, "other")
	if g := mustGen(t, fd); g != g1 {
		t.Fatalf("no-op batch moved genid %d -> %d", g1, g)
	}
	t.Logf("fresh namespace genid %d, after one commit %d", g0, g1)

	// A guarded batch at the current generation commits.
	guard := NewGenIDGuard(fd, g1)
	defer guard.Close()
	gc, err := nftables.New(guard.ConnOption())
	if err != nil {
		t.Fatal(err)
	}
	vw := gc.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "voicewall"})
	gc.AddChain(&nftables.Chain{Name: "input", Table: vw, Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter})
	if err := gc.Flush(); err != nil {
		t.Fatalf("guarded flush at current generation: %v", err)
	}
	if guard.sent != 1 {
		t.Errorf("guard rewrote %d batch begins, want 1", guard.sent)
	}
	g2 := mustGen(t, fd)
	if g2 != g1+1 || !tableNames(t, fd)["voicewall"] {
		t.Fatalf("guarded commit: genid %d -> %d, tables %v", g1, g2, tableNames(t, fd))
	}

	// Reads work through the guarded Conn too (dump, port id rewrite).
	ts, err := gc.ListTables()
	if err != nil || len(ts) != 2 {
		t.Fatalf("ListTables through guard = %d tables, %v", len(ts), err)
	}
	chains, err := gc.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil || len(chains) != 1 {
		t.Fatalf("ListChains through guard = %d, %v", len(chains), err)
	}

	// Stale: plan at g2, someone else commits, then the guarded batch.
	guard.SetGenID(g2)
	addTable(t, fd, "intruder")
	g3 := mustGen(t, fd)
	gc.AddChain(&nftables.Chain{Name: "forward", Table: vw, Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter})
	gc.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "never"})
	start := time.Now()
	err = gc.Flush()
	took := time.Since(start)
	t.Logf("stale flush (plan %d, now %d) after %v: %v", g2, g3, took, err)
	if err == nil {
		t.Fatal("stale batch was accepted")
	}
	if !errors.Is(err, syscall.ERESTART) || !IsStaleGenID(err) {
		t.Fatalf("stale batch error %v (%T) is not ERESTART", err, err)
	}
	if took > 2*time.Second {
		t.Errorf("stale flush took %v; it must not wait for acks that never come", took)
	}
	if g := mustGen(t, fd); g != g3 {
		t.Errorf("refused batch moved the generation %d -> %d", g3, g)
	}
	if tables := tableNames(t, fd); tables["never"] {
		t.Error("refused batch created a table")
	}
	chains, err = gc.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil || len(chains) != 1 {
		t.Errorf("refused batch changed chains: %d, %v", len(chains), err)
	}

	// Planning again at the new generation succeeds on the same guard.
	guard.SetGenID(g3)
	gc.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "replanned"})
	if err := gc.Flush(); err != nil {
		t.Fatalf("flush after re-plan: %v", err)
	}
	if g := mustGen(t, fd); g != g3+1 {
		t.Errorf("re-planned commit: genid %d, want %d", g, g3+1)
	}

	// A failing message in a guarded batch still returns promptly with the
	// kernel's error (here ENOENT: chain in a missing table) and rolls back.
	guard.SetGenID(g3 + 1)
	gc.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "half"})
	gc.AddChain(&nftables.Chain{Name: "x", Table: &nftables.Table{Family: nftables.TableFamilyINet, Name: "missing"}})
	err = gc.Flush()
	if !errors.Is(err, syscall.ENOENT) || IsStaleGenID(err) {
		t.Errorf("failing batch error = %v, want ENOENT", err)
	}
	if tableNames(t, fd)["half"] {
		t.Error("failed batch was half-applied")
	}
	if g := mustGen(t, fd); g != g3+1 {
		t.Errorf("failed batch moved the generation to %d", g)
	}

	// Genid 0 means "no check": the kernel accepts the batch regardless.
	guard.SetGenID(0)
	gc.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "unchecked"})
	if err := gc.Flush(); err != nil {
		t.Fatalf("flush with genid 0: %v", err)
	}
}

// TestGenIDIsPerNamespace checks the generation is the namespace's own.
func TestGenIDIsPerNamespace(t *testing.T) {
	a := netnstest.NewNS(t, "gen-a")
	b := netnstest.NewNS(t, "gen-b")
	ga, gb := mustGen(t, a.FD()), mustGen(t, b.FD())
	addTable(t, a.FD(), "x")
	if g := mustGen(t, a.FD()); g != ga+1 {
		t.Errorf("ns a: %d -> %d", ga, g)
	}
	if g := mustGen(t, b.FD()); g != gb {
		t.Errorf("ns b moved %d -> %d after a commit in ns a", gb, g)
	}
}
