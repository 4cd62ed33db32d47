package live

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/internal/bench"
	"github.com/voicewall/voicewall/internal/testenv"
	"go4.org/netipx"
)

// extraEntries exercise merging: duplicates, overlaps, adjacency, v6 and
// host bits, beside the 100,000 distinct /32 of bench.WriteBlocklist
// (11.0.0.0, 11.0.0.2, ... every other address).
const extraEntries = `# merging cases
11.0.0.0        # duplicate of the first generated entry
11.0.0.0/31     # overlaps it: 11.0.0.0-11.0.0.1 merges with 11.0.0.2 (adjacent)
192.0.2.0/25
192.0.2.128/25  # adjacent: one /24
198.51.100.7/24 # host bits: masked to 198.51.100.0/24
198.51.100.9    # inside the /24
2001:db8:bad::/48
2001:db8:bad:1::1  # inside the /48
2001:db8:beef::1
`

// TestScale100k: apply 100,000 entries, check the kernel holds exactly the
// merged set (count and members), that a no-op plan changes nothing, and
// that 1,000 changed entries go as a delta and leave the set exact.
func TestScale100k(t *testing.T) {
	testenv.SkipShort(t, "scale: a 100k-address policy")
	dir := t.TempDir()
	if err := bench.WritePolicy(dir, 100_000); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "policy.hcl")
	src, _ := os.ReadFile(policy)
	src = []byte(strings.Replace(string(src), `file = "blocklist.txt"`, `files = ["blocklist.txt", "extra.txt"]`, 1))
	if err := os.WriteFile(policy, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "extra.txt"), []byte(extraEntries), 0o644); err != nil {
		t.Fatal(err)
	}
	p := loadPolicy(t, dir)
	bl := p.Blocklists[0]

	// The merged set, computed independently of voicewall's pipeline.
	var want4 []netipx.IPRange
	want4 = append(want4, netipx.IPRangeFrom(netip.MustParseAddr("11.0.0.0"), netip.MustParseAddr("11.0.0.2")))
	for i := 2; i < 100_000; i++ {
		a := uint32(11<<24) + uint32(i)*2
		ip := netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
		want4 = append(want4, netipx.IPRangeFrom(ip, ip))
	}
	want4 = append(want4,
		netipx.MustParseIPRange("192.0.2.0-192.0.2.255"),
		netipx.MustParseIPRange("198.51.100.0-198.51.100.255"))
	if diff := cmp.Diff(rangeStrings(want4), rangeStrings(bl.Addresses.Ranges(false))); diff != "" {
		t.Fatalf("merged v4 set (-want +got):\n%s", diff)
	}
	if got := bl.Addresses.Count(true); got != 2 {
		t.Fatalf("merged v6 set has %d ranges, want 2 (the /48 swallows its host; the other host stays)", got)
	}

	tab := vw.Build(p)
	ns, tg := nsTarget(t, "scale")
	mustApply(t, tg, tab)

	// The kernel holds exactly the merged set: a full dump, not the cache.
	checkKernelSet := func(want []netipx.IPRange) {
		t.Helper()
		st, err := Read(tg, ReadOptions{NoCache: true})
		if err != nil {
			t.Fatal(err)
		}
		var got *LiveSet
		for _, s := range st.Sets {
			if s.Name == "blocklist_scanners_v4" {
				got = s
			}
		}
		if got == nil || got.Content == nil {
			t.Fatal("blocklist_scanners_v4 not in the kernel")
		}
		if len(got.Content.Ranges) != len(want) {
			t.Fatalf("kernel holds %d ranges, want %d", len(got.Content.Ranges), len(want))
		}
		if diff := cmp.Diff(rangeStrings(want), rangeStrings(got.Content.Ranges)); diff != "" {
			t.Fatalf("kernel set differs (-want +got):\n%s", diff)
		}
	}
	checkKernelSet(want4)
	// A sample of members and non-members, asked of the kernel through nft.
	for addr, member := range map[string]bool{
		"11.0.0.1": true, "11.0.0.3": false, "11.0.0.4": true, "11.3.13.62": true,
		"11.3.13.63": false, "192.0.2.200": true, "198.51.100.1": true, "203.0.113.10": false,
	} {
		_, err := ns.Run("nft", "get", "element", "inet", "voicewall", "blocklist_scanners_v4", "{ "+addr+" }")
		if (err == nil) != member {
			t.Errorf("kernel membership of %s = %v, want %v", addr, err == nil, member)
		}
	}

	// No-op plan: nothing to send.
	if pl := plan(t, tg, tab); !pl.Empty() {
		add, change, remove := pl.Counts()
		t.Fatalf("no-op plan is not empty: +%d ~%d -%d", add, change, remove)
	}

	// 1,000 changes: 500 entries move to addresses the list did not have.
	lines, err := os.ReadFile(filepath.Join(dir, "blocklist.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	moved := 0
	for _, l := range strings.SplitAfter(string(lines), "\n") {
		if moved < 500 && strings.HasPrefix(l, "11.1.") {
			l = "12" + strings.TrimPrefix(l, "11")
			moved++
		}
		b.WriteString(l)
	}
	if err := os.WriteFile(filepath.Join(dir, "blocklist.txt"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p2 := loadPolicy(t, dir)
	tab2 := vw.Build(p2)
	pl := plan(t, tg, tab2)
	if len(pl.Sets) != 1 || pl.Sets[0].Delta == nil || len(pl.Rules) != 0 || pl.Recreate != "" {
		t.Fatalf("a blocklist edit must plan as one set delta, got sets %d rules %d recreate %q", len(pl.Sets), len(pl.Rules), pl.Recreate)
	}
	d := pl.Sets[0].Delta
	if len(d.Del) != 500 || len(d.Add) != 500 {
		t.Fatalf("delta: -%d +%d ranges, want -500 +500", len(d.Del), len(d.Add))
	}
	res, err := Apply(tg, pl, ApplyOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	// Each interval is a start and an end element.
	if res.Stats.Elements != 2*1000 {
		t.Errorf("sent %d elements, want %d: only the delta", res.Stats.Elements, 2*1000)
	}
	t.Logf("delta of 1,000 ranges in a %d-range set: %d messages, %d bytes, kernel %v", len(want4), res.Stats.Messages, res.Stats.Bytes, res.Stats.Kernel)
	checkKernelSet(p2.Blocklists[0].Addresses.Ranges(false))
}

func rangeStrings(rs []netipx.IPRange) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprint(r)
	}
	return out
}
