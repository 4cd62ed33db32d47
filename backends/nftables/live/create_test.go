package live

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/internal/netnstest"
	"github.com/voicewall/voicewall/lang"
)

var counterRe = regexp.MustCompile(`counter packets \d+ bytes \d+`)

func zeroCounters(s string) string { return counterRe.ReplaceAllString(s, "counter packets 0 bytes 0") }

func examples(t *testing.T) []string {
	return testenv.ExampleDirs(t, "../../..")
}

func loadTable(t testing.TB, dir string) *vw.Table {
	t.Helper()
	return vw.Build(loadPolicy(t, dir))
}

// loadPolicy loads the policy in dir; an error in it fails t.
func loadPolicy(t testing.TB, dir string) *lang.Policy {
	t.Helper()
	p, diags := registry.Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

// nsTarget makes a throwaway namespace and opens it as a Target.
func nsTarget(t testing.TB, label string) (*netnstest.NS, *Target) {
	t.Helper()
	t.Setenv("VOICEWALL_STATE_DIR", t.TempDir())
	ns := netnstest.NewNS(t, label)
	tg, err := Open(ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return ns, tg
}

func listTable(t testing.TB, ns *netnstest.NS) string {
	t.Helper()
	out, err := ns.Run("nft", "list", "table", "inet", "voicewall")
	if err != nil {
		t.Fatal(err)
	}
	return zeroCounters(out)
}

// TestApplyListsBackAsCompiled is the acceptance bar: after a netlink apply
// into a fresh namespace, `nft list table inet voicewall` equals the
// compiled text byte for byte (counters zeroed), for every example; and the
// table reads back (decoded from netlink) as exactly the compiled one.
func TestApplyListsBackAsCompiled(t *testing.T) {
	for _, d := range examples(t) {
		t.Run(filepath.Base(d), func(t *testing.T) {
			tab := loadTable(t, d)
			ns, tg := nsTarget(t, "apply")
			st, err := Read(tg, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			p := Diff(st, tab)
			if !p.Create || p.Empty() {
				t.Fatalf("plan on an empty namespace: create=%v empty=%v", p.Create, p.Empty())
			}
			res, err := Apply(tg, p, ApplyOptions{Verify: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("applied: %+v", res.Stats)
			if got, want := listTable(t, ns), vw.Render(tab); got != want {
				t.Errorf("nft list differs from the compiled text:\n%s", lineDiff(want, got))
			}
			for _, noCache := range []bool{false, true} {
				st, err := Read(tg, ReadOptions{NoCache: noCache})
				if err != nil {
					t.Fatal(err)
				}
				if st.CacheHit == noCache {
					t.Errorf("NoCache=%v: cache hit %v", noCache, st.CacheHit)
				}
				if d := Diff(st, tab); !d.Empty() {
					t.Errorf("NoCache=%v: plan after apply not empty: %+v %+v %+v %q", noCache, d.Chains, d.Sets, d.Rules, d.Recreate)
				}
				for _, c := range st.Chains {
					for _, r := range c.Rules {
						if r.DecodeErr != nil {
							t.Errorf("chain %s rule %q: %v", c.Name, r.Comment, r.DecodeErr)
						}
					}
				}
			}
		})
	}
}
