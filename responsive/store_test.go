package responsive

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live"
)

func testStore(t *testing.T) *Store {
	t.Helper()
	t.Setenv("VOICEWALL_LIB_DIR", t.TempDir())
	return StoreFor("gw")
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func TestStorePrunesExpired(t *testing.T) {
	s := testStore(t)
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	add := func(p string, d time.Duration) {
		t.Helper()
		if err := s.Update(func(recs []Record, at time.Time) ([]Record, bool) {
			return put(recs, Record{Prefix: mustPrefix(p), Reason: "cli", Expires: at.Add(d)}), true
		}); err != nil {
			t.Fatal(err)
		}
	}
	add("198.51.100.1/32", time.Minute)
	add("198.51.100.2/32", time.Hour)
	add("2001:db8::/64", 2*time.Hour)
	st, err := os.Stat(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	now = now.Add(2 * time.Minute)
	recs, err := s.Load()
	if err != nil || len(recs) != 2 {
		t.Fatalf("load after the first expired: %v %+v", err, recs)
	}
	// The file still holds it until the next write, which prunes it.
	b, _ := os.ReadFile(s.Path)
	if !strings.Contains(string(b), "198.51.100.1/32") {
		t.Fatalf("pruned without a write:\n%s", b)
	}
	add("198.51.100.3/32", time.Hour)
	b, _ = os.ReadFile(s.Path)
	if strings.Contains(string(b), "198.51.100.1/32") || !strings.Contains(string(b), "198.51.100.3/32") {
		t.Fatalf("after a write:\n%s", b)
	}
	// An update that changes nothing still drops what expired.
	now = now.Add(90 * time.Minute)
	if err := s.Update(func(r []Record, _ time.Time) ([]Record, bool) { return r, false }); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(s.Path)
	if strings.Contains(string(b), "198.51.100.") || !strings.Contains(string(b), "2001:db8::/64") {
		t.Fatalf("after an update with expired bans:\n%s", b)
	}
}

func TestStoreCorruptSetAside(t *testing.T) {
	for name, body := range map[string]string{
		"not json":     "{\"version\":1,\"bans\":[",
		"bad prefix":   `{"version":1,"bans":[{"prefix":"198.51.100.1/24","reason":"cli","expires":"2030-01-01T00:00:00Z"}]}`,
		"bad reason":   `{"version":1,"bans":[{"prefix":"198.51.100.1/32","reason":"x","expires":"2030-01-01T00:00:00Z"}]}`,
		"no expiry":    `{"version":1,"bans":[{"prefix":"198.51.100.1/32","reason":"cli"}]}`,
		"twice":        `{"version":1,"bans":[{"prefix":"198.51.100.1/32","reason":"cli","expires":"2030-01-01T00:00:00Z"},{"prefix":"198.51.100.1/32","reason":"cli","expires":"2030-01-01T00:00:00Z"}]}`,
		"version":      `{"version":2,"bans":[]}`,
		"unknown keys": `{"version":1,"bans":[],"x":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := testStore(t)
			var warned []string
			s.Warn = func(w string) { warned = append(warned, w) }
			if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Load(); err == nil {
				t.Fatal("a corrupt record loaded")
			}
			err := s.Update(func(recs []Record, now time.Time) ([]Record, bool) {
				if len(recs) != 0 {
					t.Errorf("started from %+v", recs)
				}
				return put(recs, Record{Prefix: mustPrefix("192.0.2.7/32"), Reason: "watch", Expires: now.Add(time.Hour)}), true
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(warned) != 1 || !strings.Contains(warned[0], "not valid") || !strings.Contains(warned[0], ".corrupt-") {
				t.Errorf("warnings: %q", warned)
			}
			aside, _ := filepath.Glob(s.Path + ".corrupt-*")
			if len(aside) != 1 {
				t.Fatalf("set aside: %v", aside)
			}
			if b, _ := os.ReadFile(aside[0]); string(b) != body {
				t.Errorf("the corrupt file changed: %q", b)
			}
			recs, err := s.Load()
			if err != nil || len(recs) != 1 || recs[0].Prefix != mustPrefix("192.0.2.7/32") {
				t.Fatalf("new record: %v %+v", err, recs)
			}
		})
	}
}

func TestStoreUntrustedNotOverwritten(t *testing.T) {
	s := testStore(t)
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		t.Fatal(err)
	}
	body := `{"version":1,"bans":[]}`
	if err := os.WriteFile(s.Path, []byte(body), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.Path, 0o666); err != nil {
		t.Fatal(err)
	}
	called := false
	err := s.Update(func(r []Record, _ time.Time) ([]Record, bool) { called = true; return r, true })
	if err == nil || called || !strings.Contains(err.Error(), "not trusted") {
		t.Fatalf("update of a world-writable record: called %v, %v", called, err)
	}
	if b, _ := os.ReadFile(s.Path); string(b) != body {
		t.Errorf("overwritten: %q", b)
	}
}

// TestStoreConcurrentWriters: goroutines and other processes add bans at
// once; the lock keeps every one.
func TestStoreConcurrentWriters(t *testing.T) {
	s := testStore(t)
	const goroutines, procs, each = 8, 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, goroutines+procs)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			errs <- addMany(StoreFor("gw"), 10+g, each)
		}(g)
	}
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestStoreWriterProcess$")
			cmd.Env = append(os.Environ(), "VW_STORE_WRITER="+strconv.Itoa(100+p))
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("writer process %d: %v\n%s", p, err, out)
			}
		}(p)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != (goroutines+procs)*each {
		t.Fatalf("%d bans recorded, want %d", len(recs), (goroutines+procs)*each)
	}
}

func addMany(s *Store, net, n int) error {
	for i := 0; i < n; i++ {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(net), byte(i)}), 32)
		if err := s.Update(func(recs []Record, now time.Time) ([]Record, bool) {
			return put(recs, Record{Prefix: p, Reason: "fail2ban", Expires: now.Add(time.Hour)}), true
		}); err != nil {
			return err
		}
	}
	return nil
}

// TestStoreWriterProcess is the other process of TestStoreConcurrentWriters.
func TestStoreWriterProcess(t *testing.T) {
	v := os.Getenv("VW_STORE_WRITER")
	if v == "" {
		t.Skip("run by TestStoreConcurrentWriters")
	}
	n, _ := strconv.Atoi(v)
	if err := addMany(StoreFor("gw"), n, 10); err != nil {
		t.Fatal(err)
	}
}

func TestSavedGuardMatchesPolicy(t *testing.T) {
	g := &savedGuard{Protected: []protectedRange{
		{netip.MustParseAddr("203.0.113.0"), netip.MustParseAddr("203.0.113.63"), `provider "carrier" media (gw.hcl:4)`},
		{netip.MustParseAddr("2001:db8::"), netip.MustParseAddr("2001:db8::ffff"), `ban never (gw.hcl:9)`},
	}}
	for p, want := range map[string]bool{
		"203.0.113.10/32": true, "203.0.112.0/23": true, "203.0.113.64/32": false,
		"2001:db8::1/128": true, "2001:db8:1::/48": false, "0.32.13.0/24": false,
	} {
		if _, got := g.protected(mustPrefix(p)); got != want {
			t.Errorf("%s: protected %v, want %v", p, got, want)
		}
	}
}

// TestSavedGuardAgreesWithPolicy: the protected addresses saved for a
// fallback say what Policy.Protected says, naming the same block.
func TestSavedGuardAgreesWithPolicy(t *testing.T) {
	p := policy(t)
	g := guardOf(p, "gw.hcl")
	for _, s := range []string{"203.0.113.10/32", "203.0.113.0/24", "203.0.113.64/32", "10.20.0.10/32", "10.20.0.0/16",
		"192.0.2.77/32", "192.0.0.0/16", "198.51.100.1/32", "2001:db8::1/128"} {
		pfx := mustPrefix(s)
		want, wok := policyGuard{p}.protected(pfx)
		got, gok := g.protected(pfx)
		if gok != wok || gok && got != want {
			t.Errorf("%s: saved %v %q, policy %v %q", s, gok, got, wok, want)
		}
	}
}

// TestStoreLockBounded: a stuck holder of the lock makes an update fail
// after lockWait instead of hanging a ban or an apply.
func TestStoreLockBounded(t *testing.T) {
	s := testStore(t)
	unlock, err := s.lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	old := lockWait
	lockWait = 100 * time.Millisecond
	defer func() { lockWait = old }()
	start := time.Now()
	err = StoreFor("gw").Update(func(r []Record, _ time.Time) ([]Record, bool) { return r, true })
	if err == nil || !strings.Contains(err.Error(), "held by another voicewall") || time.Since(start) > 2*time.Second {
		t.Fatalf("update under a held lock: %v after %v", err, time.Since(start))
	}
}

// TestPendingGuardPromotedOnConfirm: an apply awaiting confirmation keeps
// its protected addresses aside; the last good policy's stay those a
// fallback checks against until the apply is confirmed.
func TestPendingGuardPromotedOnConfirm(t *testing.T) {
	t.Setenv("VOICEWALL_LIB_DIR", t.TempDir())
	tgt := &live.Target{Name: "vw-pending-guard"}
	s := StoreFor(tgt.Name)
	p := policy(t)
	AfterApply(tgt, p, "old.hcl", false, true, func(w string) { t.Error(w) })
	SavePendingGuard(tgt, p, "new.hcl", func(w string) { t.Error(w) })
	g, err := loadGuard(s)
	if err != nil || g.Policy != "old.hcl" {
		t.Fatalf("before the confirm, the last good policy's guard: %+v %v", g, err)
	}
	PromotePendingGuard(tgt.Name, func(w string) { t.Error(w) })
	if g, err = loadGuard(s); err != nil || g.Policy != "new.hcl" {
		t.Fatalf("after the confirm, the confirmed policy's guard: %+v %v", g, err)
	}
	if _, err := os.Stat(pendingGuardPath(s)); !os.IsNotExist(err) {
		t.Errorf("the pending guard is left behind: %v", err)
	}
	PromotePendingGuard(tgt.Name, func(w string) { t.Errorf("nothing pending, yet: %s", w) })
}

// BenchmarkStoreBanAmongMany is one more ban recorded among n: the cost a
// ban pays under a scanning storm (the record is rewritten whole).
func BenchmarkStoreBanAmongMany(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.Setenv("VOICEWALL_LIB_DIR", b.TempDir())
			s := StoreFor("gw")
			exp := time.Now().Add(time.Hour)
			if err := s.Update(func(recs []Record, now time.Time) ([]Record, bool) {
				for i := range n {
					recs = append(recs, Record{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)}), 32), Reason: "watch", Expires: exp})
				}
				return recs, true
			}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				r := Record{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{101, byte(i >> 16), byte(i >> 8), byte(i)}), 32), Reason: "watch", Expires: exp}
				if err := s.Update(func(recs []Record, now time.Time) ([]Record, bool) { return put(recs, r), true }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
