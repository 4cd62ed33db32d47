package backends

import (
	"fmt"
	"testing"

	"github.com/voicewall/voicewall/lang"
)

func TestPortMatches(t *testing.T) {
	pr := func(a, b uint16) lang.PortRange { return lang.PortRange{First: a, Last: b} }
	r := &lang.Rule{
		Services:    []lang.Service{{Proto: lang.UDP, Ports: pr(5060, 5060)}, {Proto: lang.TCP, Ports: pr(5061, 5061)}, {Proto: lang.UDP, Ports: pr(10000, 20000)}},
		SrcServices: []lang.Service{{Proto: lang.UDP, Ports: pr(16384, 16482)}},
	}
	got := fmt.Sprint(PortMatches(r))
	want := "[{tcp 5061 0} {udp 5060 16384-16482} {udp 10000-20000 16384-16482}]"
	if got != want {
		t.Errorf("PortMatches = %s, want %s", got, want)
	}
	if got := PortMatches(&lang.Rule{}); len(got) != 1 || got[0] != (PortMatch{}) {
		t.Errorf("no services: %v, want one match of any protocol", got)
	}
}

func TestStableIDs(t *testing.T) {
	a, b := NewStableIDs(1000, 50), NewStableIDs(1000, 50)
	b.Reserve(a.ID("x")) // a device already uses x's id: x moves, others keep theirs
	a.ID("y")
	if b.ID("y") != NewStableIDs(1000, 50).ID("y") {
		t.Error("an id depends on unrelated reservations")
	}
	seen := map[int]bool{}
	s := NewStableIDs(7, 50)
	for i := 0; i < 50; i++ {
		id := s.ID(fmt.Sprint("k", i%3)) // repeated keys collide on purpose
		if seen[id] || id < 7 || id >= 57 {
			t.Fatalf("id %d duplicate or out of range", id)
		}
		seen[id] = true
	}
}

func TestChunksAndCleanName(t *testing.T) {
	if got := fmt.Sprint(Chunks(5, 2)); got != "[[0 2] [2 4] [4 5]]" {
		t.Errorf("Chunks(5, 2) = %s", got)
	}
	if Chunks(0, 3) != nil {
		t.Error("Chunks(0, 3) not empty")
	}
	if got := CleanName("a-b.c é", "-"); got != "a-b_c__" {
		t.Errorf("CleanName = %q", got)
	}
}

func TestNamer(t *testing.T) {
	n := &Namer{Max: 8, Trim: "_", Fold: true, Tag: func(_, _ string, i int) string { return fmt.Sprintf("_%02d", i) },
		Valid: func(s string) bool { return s != "RESERVED" }}
	n.Reserve("TAKEN")
	for _, c := range []struct{ key, want, got string }{
		{"a", "short", "short"},
		{"a", "ignored", "short"},         // same key, same name
		{"b", "taken", "taken_01"},        // taken (case-folded): tagged
		{"c", "much_too_long", "much_00"}, // cut, trimmed, tagged
		{"d", "much_too_long", "much_01"}, // that tag is taken: the next attempt
		{"e", "RESERVED", "RESER_01"},     // refused by the target's rule
	} {
		if got := n.Name(c.key, c.want); got != c.got {
			t.Errorf("Name(%q, %q) = %q, want %q", c.key, c.want, got, c.got)
		}
	}
}
