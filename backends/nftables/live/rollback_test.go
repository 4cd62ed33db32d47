package live

import (
	"os"
	"testing"
	"time"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

func TestRollbackRestoresPreviousTable(t *testing.T) {
	a := loadTable(t, "../../../examples/smb-blocklist")
	b := loadTable(t, "../../../examples/hosted-tls-vlan")
	ns, tg := nsTarget(t, "rollback")
	mustApply(t, tg, a)
	before := listTable(t, ns)

	st, err := Read(tg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := SaveRollback(tg, st, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SaveRollback(tg, st, time.Now()); err == nil {
		t.Error("a second pending rollback was accepted")
	}
	if _, err := Apply(tg, Diff(st, b), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := listTable(t, ns); got != vw.Render(b) {
		t.Fatal("apply did not take")
	}
	p.Deadline = time.Now().Add(300 * time.Millisecond)
	if err := p.Update(); err != nil {
		t.Fatal(err)
	}
	// The helper's output (StartRollbackHelper points it here).
	if err := os.WriteFile(LogPath(p.File), []byte("helper output\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := RunRollback(p.File); err != nil {
		t.Fatal(err)
	}
	t.Logf("rolled back after %v", time.Since(start).Round(time.Millisecond))
	if got := listTable(t, ns); got != before {
		t.Errorf("rollback did not restore the previous table:\n%s", lineDiff(before, got))
	}
	res, err := ReadResult(p.File)
	if err != nil || !res.Restored {
		t.Errorf("result %+v, %v", res, err)
	}
	if _, err := os.Stat(p.File); !os.IsNotExist(err) {
		t.Error("pending file left behind")
	}
	if _, err := os.Stat(LogPath(p.File)); err != nil {
		t.Errorf("the log of a rollback that ran is gone: %v", err)
	}
	// A plan against the restored table sees the old policy unchanged.
	if d := plan(t, tg, a); !d.Empty() {
		t.Errorf("after rollback the old policy is not in place: %+v %+v", d.Rules, d.Sets)
	}
}

func TestRollbackOfAFirstApplyRemovesTheTable(t *testing.T) {
	b := loadTable(t, "../../../examples/asterisk-udp-trunk")
	ns, tg := nsTarget(t, "rollback0")
	st, err := Read(tg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := SaveRollback(tg, st, time.Now().Add(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(tg, Diff(st, b), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RunRollback(p.File); err != nil {
		t.Fatal(err)
	}
	if out, _ := ns.Run("nft", "list", "tables"); out != "" {
		t.Errorf("tables after rollback: %q", out)
	}
}

func TestConfirmCancelsRollback(t *testing.T) {
	a := loadTable(t, "../../../examples/smb-blocklist")
	b := loadTable(t, "../../../examples/dual-stack")
	ns, tg := nsTarget(t, "confirm")
	mustApply(t, tg, a)
	st, _ := Read(tg, ReadOptions{})
	p, err := SaveRollback(tg, st, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, tg, b)
	if err := os.WriteFile(LogPath(p.File), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- RunRollback(p.File) }()
	q, err := LoadPending(tg)
	if err != nil || q == nil {
		t.Fatalf("pending: %v %v", q, err)
	}
	ok, err := q.Confirm()
	if !ok || err != nil {
		t.Fatalf("confirm: %v %v", ok, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("helper did not notice the confirmation")
	}
	time.Sleep(1200 * time.Millisecond)
	if got := listTable(t, ns); got != vw.Render(b) {
		t.Error("confirmed table was rolled back")
	}
	if ok, _ := q.Confirm(); ok {
		t.Error("second confirm found something to confirm")
	}
	if _, err := os.Stat(LogPath(p.File)); !os.IsNotExist(err) {
		t.Errorf("a confirmed apply's helper log is left behind: %v", err)
	}
}
