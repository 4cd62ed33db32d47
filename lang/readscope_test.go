package lang

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestReadScope(t *testing.T) {
	top := t.TempDir()
	policy := filepath.Join(top, "repo", "sites", "a")
	common := filepath.Join(top, "repo", "common")
	other := filepath.Join(top, "other")
	for _, d := range []string{policy, common, other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(common, "c.hcl"), "common")
	write(filepath.Join(other, "o.txt"), "other")
	write(filepath.Join(policy, "own.txt"), "own")

	s := newReadScope(policy, nil)
	if b, err := s.read(filepath.Join(policy, "own.txt"), 100); err != nil || string(b) != "own" {
		t.Fatalf("own file: %q %v", b, err)
	}
	for _, p := range []string{filepath.Join(common, "c.hcl"), filepath.Join(other, "o.txt"), "/proc/self/environ", filepath.Join(policy, "..", "..", "common", "c.hcl")} {
		if _, err := s.read(p, 100); !errors.Is(err, ErrOutsideScope) {
			t.Errorf("%s: want ErrOutsideScope, got %v", p, err)
		}
	}

	// The repository (a .git owned like its directory) may be read: a
	// fleet's sites use ../../common.
	if err := os.Mkdir(filepath.Join(top, "repo", ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	s = newReadScope(policy, nil)
	if _, err := s.read(filepath.Join(policy, "..", "..", "common", "c.hcl"), 100); err != nil {
		t.Errorf("common in the same repository: %v", err)
	}
	if _, err := s.read(filepath.Join(other, "o.txt"), 100); !errors.Is(err, ErrOutsideScope) {
		t.Errorf("outside the repository: %v", err)
	}
	// A repository dir others can write (a .git planted in /tmp) does not count.
	if err := os.Chmod(filepath.Join(top, "repo"), 0o777); err != nil {
		t.Fatal(err)
	}
	if repositoryOf(policy) != "" {
		t.Error("a world-writable directory with .git was taken for a repository")
	}
	os.Chmod(filepath.Join(top, "repo"), 0o755)

	// VOICEWALL_READ_PATH adds directories.
	t.Setenv(ReadPathEnv, "/nonexistent:"+other)
	s = newReadScope(policy, nil)
	if _, err := s.read(filepath.Join(other, "o.txt"), 100); err != nil {
		t.Errorf("a directory in %s: %v", ReadPathEnv, err)
	}
}

// The check is made on the opened file: a name that is swapped between a
// file inside and a symlink to a file outside, while the policy's files
// are read, never yields the outside file's content.
func TestReadScopeRace(t *testing.T) {
	top := t.TempDir()
	policy := filepath.Join(top, "policy")
	if err := os.Mkdir(policy, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(top, "secret")
	if err := os.WriteFile(secret, []byte("SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(policy, "inside.txt")
	if err := os.WriteFile(inside, []byte("fine"), 0o600); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(policy, "list.txt")
	s := newReadScope(policy, nil)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			tmp := name + ".swap"
			os.Remove(tmp)
			target := inside
			if i%2 == 1 {
				target = secret
			}
			if os.Symlink(target, tmp) == nil {
				os.Rename(tmp, name)
			}
		}
	}()
	reads, refused := 0, 0
	for i := 0; i < 4000; i++ {
		b, err := s.read(name, 100)
		switch {
		case err == nil && strings.Contains(string(b), "SECRET"):
			stop.Store(true)
			wg.Wait()
			t.Fatalf("read the outside file through a swapped link after %d reads", i)
		case err == nil:
			reads++
		case errors.Is(err, ErrOutsideScope):
			refused++
		}
	}
	stop.Store(true)
	wg.Wait()
	if reads == 0 || refused == 0 {
		t.Fatalf("the race did not happen: %d reads, %d refused", reads, refused)
	}
	t.Logf("%d reads inside, %d refused", reads, refused)
}

// A feed's file (the refresh writes it) and an APIBAN key_file (its first
// line is sent to APIBAN) must be inside what the policy may read too.
func TestFeedPathsInScope(t *testing.T) {
	dir := t.TempDir()
	src := `provider "a" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.0/24"]
  transports = ["tls"]
}
blocklist "cron" {
  file = "/etc/cron.d/voicewall-feed"
  feed = "https://feed.example/list.txt"
}
blocklist "apiban" {
  file     = "apiban.txt"
  feed     = "apiban:sip"
  key_file = "/etc/shadow"
}
`
	if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	feeds, l := Feeds(dir)
	if len(feeds) != 0 {
		t.Errorf("feeds outside the scope listed: %+v", feeds)
	}
	var got []string
	for _, d := range l.Diags {
		if d.Subject != nil {
			got = append(got, fmt.Sprintf("%d:%d %s", d.Subject.Start.Line, d.Subject.Start.Column, d.Summary))
		}
	}
	for _, want := range []string{"7:10 Feed file outside what the policy may read", "13:14 key_file outside what the policy may read"} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q in %v", want, got)
		}
	}
}
