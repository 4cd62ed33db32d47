package cli

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/voicewall/voicewall/backends/nftables/live"
)

func TestAddressDelta(t *testing.T) {
	r := func(s string) netipx.IPRange {
		if p, err := netip.ParsePrefix(s); err == nil {
			return netipx.RangeOfPrefix(p)
		}
		return netipx.IPRangeFrom(netip.MustParseAddr(s), netip.MustParseAddr(s))
	}
	cases := []struct {
		add, del []string
		want     string
	}{
		// A host next to a listed one: the kernel widens the range.
		{[]string{"203.0.113.250/31"}, []string{"203.0.113.250"}, "+203.0.113.251 -"},
		// The reverse.
		{[]string{"203.0.113.250"}, []string{"203.0.113.250/31"}, "+ -203.0.113.251"},
		// A host that bridges two ranges into one.
		{[]string{"10.0.0.0/30"}, []string{"10.0.0.0/31", "10.0.0.3"}, "+10.0.0.2 -"},
		// Unrelated additions and removals stay as they are.
		{[]string{"192.0.2.0/24"}, []string{"198.51.100.7", "2001:db8::1"}, "+192.0.2.0/24 -198.51.100.7, 2001:db8::1"},
	}
	for _, c := range cases {
		var d live.SetDelta
		for _, s := range c.add {
			d.Add = append(d.Add, r(s))
		}
		for _, s := range c.del {
			d.Del = append(d.Del, r(s))
		}
		added, removed := addressDelta(&d)
		if got := "+" + rangesText(added) + " -" + rangesText(removed); got != c.want {
			t.Errorf("add %v del %v: %q, want %q", c.add, c.del, got, c.want)
		}
	}
}

// TestPlanShowsHostsAndWarnings: after a one-host blocklist edit, plan shows
// that host (text and JSON), not the kernel's range swap; and plan repeats
// the policy's warnings.
func TestPlanShowsHostsAndWarnings(t *testing.T) {
	ns := gwNS(t, false)
	dir := t.TempDir()
	policy, list := smbBlocklist(t)
	vcWriteFiles(t, dir, map[string][]byte{"policy.hcl": policy, "blocklists/voipbl.txt": append(list, "\n198.18.0.250\n"...)})
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: %s", r.stderr)
	}
	vcWriteFiles(t, dir, map[string][]byte{"blocklists/voipbl.txt": append(list, "\n198.18.0.250\n198.18.0.251\n"...)})

	r := vw1("", "plan", dir, "--netns", ns.Name)
	if r.code != 0 {
		t.Fatalf("plan: %d %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "(+1 -0)\n      + 198.18.0.251\n") || strings.Contains(r.stdout, "198.18.0.250/31") {
		t.Errorf("plan does not show the one host:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "The policy has ") || !strings.Contains(r.stdout, "warning[VW101]") {
		t.Errorf("plan does not repeat the policy's warnings:\n%s", r.stdout)
	}

	r = vw1("", "plan", dir, "--netns", ns.Name, "--format", "json")
	var j struct {
		Resources []struct {
			Name    string   `json:"name"`
			Added   []string `json:"added"`
			Removed []string `json:"removed"`
		} `json:"resource_changes"`
		PolicyWarnings []jsonDiag `json:"policy_warnings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil {
		t.Fatalf("plan json: %v\n%s", err, r.stdout)
	}
	var found bool
	for _, c := range j.Resources {
		if c.Name == "blocklist_scanners_v4" {
			found = true
			if !slices.Equal(c.Added, []string{"198.18.0.251"}) || len(c.Removed) != 0 {
				t.Errorf("json set change: added %q removed %q", c.Added, c.Removed)
			}
		}
	}
	if !found {
		t.Errorf("json plan has no change of blocklist_scanners_v4:\n%s", r.stdout)
	}
	if len(j.PolicyWarnings) == 0 || j.PolicyWarnings[0].RuleID != "VW101" {
		t.Errorf("json policy_warnings = %+v", j.PolicyWarnings)
	}
}
