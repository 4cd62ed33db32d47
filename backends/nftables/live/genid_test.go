package live

// The ruleset generation id, as apply relies on it: the plan reads it
// (nlwire.GenID: one NFT_MSG_GETGEN request, one NFT_MSG_NEWGEN answer
// whose NFTA_GEN_ID is the namespace's nft base_seq) and the batch carries
// it (nlwire.SendBatch: NFNL_BATCH_GENID in the NFNL_MSG_BATCH_BEGIN
// message). The kernel compares it with the current generation while it
// holds the commit mutex (nf_tables_valid_genid), so check and commit are
// atomic; when it differs it answers the batch begin with ERESTART, drops
// the rest of the batch unprocessed and changes nothing. 0 means "do not
// check". The id is per network namespace, grows by one for every committed
// batch and stays for a batch that changes nothing or that the kernel
// refused. TestStalePlanIsRefused (delta_test.go) proves the refusal through
// Plan and Apply; these tests prove the kernel behaviour underneath.

import (
	"errors"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"
	"github.com/voicewall/voicewall/internal/netnstest"
)

// addTableMsg creates table inet NAME (nothing when it exists: no NLM_F_EXCL).
func addTableMsg(name string) Msg {
	d := nlwire.AppendStrAttr(inet(), unix.NFTA_TABLE_NAME, name)
	return Msg{Type: nlwire.NftType(unix.NFT_MSG_NEWTABLE), Flags: flagsNew, Data: d, What: "add table inet " + name}
}

// chainInMissingTable is a message the kernel refuses (ENOENT).
func chainInMissingTable() Msg {
	d := nlwire.AppendStrAttr(inet(), unix.NFTA_CHAIN_TABLE, "missing")
	d = nlwire.AppendStrAttr(d, unix.NFTA_CHAIN_NAME, "x")
	return Msg{Type: nlwire.NftType(unix.NFT_MSG_NEWCHAIN), Flags: flagsNew, Data: d, What: "add chain x to a missing table"}
}

func tableNames(t *testing.T, nsFD int) map[string]bool {
	t.Helper()
	s, err := nlwire.Open(nsFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := map[string]bool{}
	err = s.Dump(nlwire.NftType(unix.NFT_MSG_GETTABLE), nlwire.Nfgenmsg(unix.NFPROTO_UNSPEC, 0), func(msg nlwire.Message) error {
		if len(msg.Data) > 4 {
			for _, a := range nlwire.ParseAttrs(msg.Data[4:]) {
				if a.Type == unix.NFTA_TABLE_NAME {
					m[nlwire.CString(a.Data)] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustGen(t *testing.T, nsFD int) uint32 {
	t.Helper()
	s, err := nlwire.Open(nsFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g, err := nlwire.GenID(s)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGenIDFollowsCommits(t *testing.T) {
	ns := netnstest.NewNS(t, "genid")
	fd := ns.FD()

	g0 := mustGen(t, fd)
	if g0 == 0 {
		t.Fatal("generation id 0")
	}
	// Same answer on a reused socket (no stray ack left behind).
	s, err := nlwire.Open(fd, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if g, err := nlwire.GenID(s); err != nil || g != g0 {
			t.Fatalf("GenID #%d = %d, %v; want %d", i, g, err, g0)
		}
	}
	s.Close()

	send := func(genid uint32, msgs ...Msg) error {
		_, err := nlwire.SendBatch(fd, msgs, genid)
		return err
	}
	if err := send(0, addTableMsg("other")); err != nil {
		t.Fatal(err)
	}
	g1 := mustGen(t, fd)
	if g1 != g0+1 {
		t.Fatalf("after one commit genid %d -> %d, want +1", g0, g1)
	}
	// A batch that changes nothing does not move the generation.
	if err := send(0, addTableMsg("other")); err != nil {
		t.Fatal(err)
	}
	if g := mustGen(t, fd); g != g1 {
		t.Fatalf("no-op batch moved genid %d -> %d", g1, g)
	}

	// A batch at the current generation commits.
	if err := send(g1, addTableMsg(vw.TableName)); err != nil {
		t.Fatalf("batch at the current generation: %v", err)
	}
	g2 := mustGen(t, fd)
	if g2 != g1+1 || !tableNames(t, fd)[vw.TableName] {
		t.Fatalf("commit at the current generation: genid %d -> %d, tables %v", g1, g2, tableNames(t, fd))
	}

	// Stale: planned at g2, someone else commits, then the batch.
	if err := send(0, addTableMsg("intruder")); err != nil {
		t.Fatal(err)
	}
	g3 := mustGen(t, fd)
	err = send(g2, addTableMsg("never"))
	var se *StaleError
	if !errors.As(err, &se) || !errors.Is(err, syscall.ERESTART) || se.Planned != g2 {
		t.Fatalf("stale batch: %v (%T), want a StaleError for generation %d", err, err, g2)
	}
	if g := mustGen(t, fd); g != g3 {
		t.Errorf("refused batch moved the generation %d -> %d", g3, g)
	}
	if tableNames(t, fd)["never"] {
		t.Error("refused batch created a table")
	}

	// A failing message returns the kernel's error and rolls the whole
	// batch back, generation included.
	err = send(g3, addTableMsg("half"), chainInMissingTable())
	var be *BatchError
	if !errors.As(err, &be) || !errors.Is(err, syscall.ENOENT) || be.Index != 1 || errors.Is(err, ErrStaleGenID) {
		t.Errorf("failing batch: %v, want ENOENT naming message 2", err)
	}
	if tableNames(t, fd)["half"] {
		t.Error("failed batch was half-applied")
	}
	if g := mustGen(t, fd); g != g3 {
		t.Errorf("failed batch moved the generation to %d", g)
	}

	// Genid 0 means "no check": the kernel accepts the batch regardless.
	if err := send(0, addTableMsg("unchecked")); err != nil || !tableNames(t, fd)["unchecked"] {
		t.Fatalf("batch with genid 0: %v", err)
	}
}

// TestGenIDIsPerNamespace checks the generation is the namespace's own.
func TestGenIDIsPerNamespace(t *testing.T) {
	a := netnstest.NewNS(t, "gen-a")
	b := netnstest.NewNS(t, "gen-b")
	ga, gb := mustGen(t, a.FD()), mustGen(t, b.FD())
	if _, err := nlwire.SendBatch(a.FD(), []Msg{addTableMsg("x")}, 0); err != nil {
		t.Fatal(err)
	}
	if g := mustGen(t, a.FD()); g != ga+1 {
		t.Errorf("ns a: %d -> %d", ga, g)
	}
	if g := mustGen(t, b.FD()); g != gb {
		t.Errorf("ns b moved %d -> %d after a commit in ns a", gb, g)
	}
}
