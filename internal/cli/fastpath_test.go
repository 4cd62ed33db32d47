package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/bench"
)

// fastPolicy writes the bench policy with a 1,000-entry blocklist.
func fastPolicy(t *testing.T) (dir, list string) {
	t.Helper()
	dir = t.TempDir()
	if err := bench.WritePolicy(dir, 1000); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, "blocklist.txt")
}

// planRun runs plan and reports whether the fast path answered it.
func planRun(t *testing.T, args ...string) (liveRun, bool) {
	t.Helper()
	before := fastPlans.Load()
	r := vw1("", append([]string{"plan"}, args...)...)
	return r, fastPlans.Load() > before
}

func TestFastPathNoOpPlan(t *testing.T) {
	ns := gwNS(t, true)
	dir, list := fastPolicy(t)
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r, fast := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode")
	if r.code != 0 || !fast || !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("plan after apply: exit %d fast %v\n%s%s", r.code, fast, r.stdout, r.stderr)
	}
	// The fast path prints what the full path prints, in text and JSON.
	t.Setenv("VOICEWALL_NO_FASTPATH", "1")
	full, fullFast := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode")
	fullJSON, _ := planRun(t, dir, "--netns", ns.Name, "--format", "json")
	os.Unsetenv("VOICEWALL_NO_FASTPATH")
	if fullFast || full.code != 0 {
		t.Fatalf("VOICEWALL_NO_FASTPATH: exit %d fast %v", full.code, fullFast)
	}
	if full.stdout != r.stdout {
		t.Errorf("fast plan output differs from the full path:\n--- fast\n%s--- full\n%s", r.stdout, full.stdout)
	}
	j, fast := planRun(t, dir, "--netns", ns.Name, "--format", "json")
	if !fast || j.stdout != fullJSON.stdout {
		t.Errorf("fast JSON plan (fast %v) differs:\n--- fast\n%s--- full\n%s", fast, j.stdout, fullJSON.stdout)
	}
	// -out takes the full path and saves a plan that applies.
	pf := filepath.Join(t.TempDir(), "gw.plan")
	if r, fast := planRun(t, dir, "--netns", ns.Name, "-out", pf); r.code != 0 || fast {
		t.Fatalf("plan -out: exit %d fast %v\n%s", r.code, fast, r.stderr)
	}
	if r := vw1("", "apply", pf); r.code != 0 || !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("apply of the saved plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// An unchanged apply takes the fast path too and sends nothing.
	before := fastPlans.Load()
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code != 0 || !strings.Contains(r.stdout, "No changes.") || fastPlans.Load() == before {
		t.Fatalf("unchanged apply: exit %d fast %v\n%s%s", r.code, fastPlans.Load() > before, r.stdout, r.stderr)
	}

	// Another table committed in the namespace: the generation moved, but
	// table inet voicewall did not (its structure digest and set sizes are
	// the same), so the fast path still answers.
	if _, err := ns.Run("nft", "add", "table", "ip", "other"); err != nil {
		t.Fatal(err)
	}
	if r, fast := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode"); r.code != 0 || !fast || !strings.Contains(r.stdout, "other tables changed") {
		t.Fatalf("plan after a foreign commit: exit %d fast %v\n%s%s", r.code, fast, r.stdout, r.stderr)
	}
	// An unchanged apply at the new generation records it again.
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s", r.code, r.stderr)
	}
	if r, fast := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode"); r.code != 0 || !fast {
		t.Fatalf("plan after the unchanged apply: exit %d fast %v\n%s%s", r.code, fast, r.stdout, r.stderr)
	}

	// Another voicewall: the identity is part of the digest.
	old := Version
	Version = old + "+other"
	r, fast = planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode")
	Version = old
	if r.code != 0 || fast {
		t.Fatalf("plan by another version: exit %d fast %v\n%s%s", r.code, fast, r.stdout, r.stderr)
	}

	// A blocklist edit that keeps size and mtime: the content is hashed.
	st, err := os.Stat(list)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(list)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(string(b), "11.0.")
	b[i+1] = '3' // 11.0.x.y → 13.0.x.y
	if err := os.WriteFile(list, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(list, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(list); st2.Size() != st.Size() || !st2.ModTime().Equal(st.ModTime()) {
		t.Fatal("size or mtime moved")
	}
	if r, fast := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode"); r.code != 2 || fast || !strings.Contains(r.stdout, "(+1 -1)") {
		t.Fatalf("plan after a blocklist edit: exit %d fast %v\n%s%s", r.code, fast, r.stdout, r.stderr)
	}
}

// A link the policy needs went away: the fast path checks links live and
// leaves the error to the full path.
func TestFastPathLinksLive(t *testing.T) {
	ns := gwNS(t, true)
	dir, _ := fastPolicy(t)
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r, fast := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode"); r.code != 0 || !fast {
		t.Fatalf("plan: exit %d fast %v", r.code, fast)
	}
	// Without the voice link the plan says what the full path says (a
	// creation, or a note on kernels without 802.1Q).
	if _, err := ns.Run("ip", "link", "del", "eth1.20"); err != nil {
		t.Fatal(err)
	}
	r, fast := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode")
	t.Setenv("VOICEWALL_NO_FASTPATH", "1")
	full, _ := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode")
	os.Unsetenv("VOICEWALL_NO_FASTPATH")
	if r.stdout != full.stdout || r.code != full.code {
		t.Fatalf("without eth1.20: fast %v exit %d, full path exit %d\n--- fast\n%s--- full\n%s", fast, r.code, full.code, r.stdout, full.stdout)
	}
	if strings.Contains(full.stdout, "+ create VLAN link") == fast {
		t.Errorf("a link creation must take the full path (fast %v)", fast)
	}
	// Without the WAN device the full path reports the error.
	if _, err := ns.Run("ip", "link", "del", "eth0"); err != nil {
		t.Fatal(err)
	}
	r, fast = planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode")
	if fast || r.code != 1 || !strings.Contains(r.stderr, `wan interface "eth0" does not exist`) {
		t.Fatalf("plan without eth0: exit %d fast %v\n%s%s", r.code, fast, r.stdout, r.stderr)
	}
}

// Lists refreshed just before the apply (the cron workflow): apply waits
// for their ctimes to settle, so the apply is still recorded.
func TestFastPathFreshFiles(t *testing.T) {
	ns := gwNS(t, true)
	dir := t.TempDir()
	if err := bench.WritePolicy(dir, 100); err != nil {
		t.Fatal(err)
	}
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r, fast := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode"); r.code != 0 || !fast {
		t.Fatalf("plan: exit %d fast %v", r.code, fast)
	}
}

// A fail2ban-like tool bans addresses in its own table: plan stays fast,
// sends nothing and says "No changes", in text and JSON, exactly as the full
// path; a hand edit inside table inet voicewall is still found.
func TestFastPathForeignChanges(t *testing.T) {
	ns := gwNS(t, true)
	dir, _ := fastPolicy(t)
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	f2b := func(cmd string) {
		t.Helper()
		if out, err := ns.Run("nft", cmd); err != nil {
			t.Fatalf("nft %s: %v\n%s", cmd, err, out)
		}
	}
	f2b("add table inet f2b; add set inet f2b banned { type ipv4_addr; }; add chain inet f2b input { type filter hook input priority -1; }; add rule inet f2b input ip saddr @banned drop")
	f2b("add element inet f2b banned { 198.51.100.7 }")
	r, fast := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode")
	if r.code != 0 || !fast || !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("plan after fail2ban's ban: exit %d fast %v\n%s%s", r.code, fast, r.stdout, r.stderr)
	}
	j, _ := planRun(t, dir, "--netns", ns.Name, "--format", "json")
	t.Setenv("VOICEWALL_NO_FASTPATH", "1")
	full, _ := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode")
	fullJSON, _ := planRun(t, dir, "--netns", ns.Name, "--format", "json")
	os.Unsetenv("VOICEWALL_NO_FASTPATH")
	if full.stdout != r.stdout || j.stdout != fullJSON.stdout {
		t.Errorf("fast and full plans differ after a foreign change:\n--- fast\n%s%s--- full\n%s%s", r.stdout, j.stdout, full.stdout, fullJSON.stdout)
	}
	if !strings.Contains(full.stdout, "other tables changed") {
		t.Errorf("the full path dumped the sets although only other tables changed:\n%s", full.stdout)
	}
	// An unchanged apply sends nothing either.
	before := fastPlans.Load()
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code != 0 || !strings.Contains(r.stdout, "No changes.") || fastPlans.Load() == before {
		t.Fatalf("unchanged apply after a foreign change: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Hand edits inside table inet voicewall are found, fast path or not.
	for _, c := range []struct{ edit, undo, want string }{
		{"add element inet voicewall blocklist_scanners_v4 { 11.0.0.1 }", "delete element inet voicewall blocklist_scanners_v4 { 11.0.0.1 }", "- 11.0.0.1"},
		{"delete element inet voicewall blocklist_scanners_v4 { 11.0.0.2 }", "add element inet voicewall blocklist_scanners_v4 { 11.0.0.2 }", "+ 11.0.0.2"},
		{"add element inet voicewall blocklist_scanners_v4 { 12.0.0.0/24 }", "delete element inet voicewall blocklist_scanners_v4 { 12.0.0.0/24 }", "- 12.0.0.0/24"},
	} {
		f2b(c.edit)
		f2b("add element inet f2b banned { 198.51.100.8 }") // and fail2ban again
		r, fast := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode")
		if r.code != 2 || fast || !strings.Contains(r.stdout, c.want) {
			t.Errorf("after %q: exit %d fast %v, want %q\n%s%s", c.edit, r.code, fast, c.want, r.stdout, r.stderr)
		}
		f2b(c.undo)
		f2b("delete element inet f2b banned { 198.51.100.8 }")
	}
	// A rule edited by hand: found too.
	out, _ := ns.Run("nft", "-a", "list", "chain", "inet", "voicewall", "wan_in")
	var handle string
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, "# handle "); i >= 0 && strings.Contains(l, "counter") {
			handle = strings.TrimSpace(l[i+len("# handle "):])
			break
		}
	}
	if handle == "" {
		t.Fatalf("no rule handle in:\n%s", out)
	}
	f2b("delete rule inet voicewall wan_in handle " + handle)
	if r, fast := planRun(t, dir, "--netns", ns.Name, "--detailed-exitcode"); r.code != 2 || fast {
		t.Errorf("after deleting a rule by hand: exit %d fast %v\n%s%s", r.code, fast, r.stdout, r.stderr)
	}
}
