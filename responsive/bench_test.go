package responsive_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/internal/netnstest"
	"github.com/voicewall/voicewall/lang"
	"github.com/voicewall/voicewall/responsive"
	"go4.org/netipx"
)

// benchGateway applies the e2e policy to a fresh topology's gateway and
// returns the kernel handle.
func benchGateway(b *testing.B) (*responsive.Kernel, *netnstest.Topology) {
	b.Helper()
	netnstest.Require(b, "root", "ip", "nft")
	tp := netnstest.New(b)
	dir := b.TempDir()
	b.Setenv("VOICEWALL_STATE_DIR", b.TempDir())
	b.Setenv("VOICEWALL_LIB_DIR", b.TempDir())
	pol := filepath.Join(dir, "policy")
	if err := os.Mkdir(pol, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pol, "gw.hcl"), []byte(strings.Replace(e2ePolicy, "LOG", filepath.Join(dir, "security"), 1)), 0o644); err != nil {
		b.Fatal(err)
	}
	if code, out := run(&testing.T{}, "apply", pol, "--netns", tp.GW.Name, "--auto-approve"); code != 0 {
		b.Fatalf("apply: %s", out)
	}
	p, diags := lang.Load(pol)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	tg, err := live.Open(tp.GW.Name)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tg.Close() })
	return &responsive.Kernel{Target: tg, Policy: p}, tp
}

// nftNoTimeout runs nft in the gateway's namespace without netnstest's
// command timeout: against a set of 100,000 bans one call runs longer.
func nftNoTimeout(tp *netnstest.Topology, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	out, err := tp.GW.Command(ctx, append([]string{"nft"}, args...)...).CombinedOutput()
	return string(out), err
}

// addrs are n distinct single addresses in 100.64.0.0/10, from offset.
func addrs(n, offset int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		k := offset + i
		out[i] = netip.AddrFrom4([4]byte{100, 64 + byte(k>>16), byte(k >> 8), byte(k)})
	}
	return out
}

// BenchmarkBans measures putting bans into a gateway that holds 100,000
// already: voicewall's one ban (a netlink batch of one element) against
// fail2ban's way, one `nft add element` process per ban; and 100,000 bans
// at once through one netlink batch against one `nft -f` file.
//
//	go test -run '^$' -bench Bans -benchtime 200x ./responsive
func BenchmarkBans(b *testing.B) {
	if testing.Short() {
		b.Skip("network namespaces: full lane")
	}
	k, tp := benchGateway(b)
	const base = 100000
	var es []live.LiveElem
	for _, a := range addrs(base, 0) {
		es = append(es, live.LiveElem{Range: netipx.IPRangeFrom(a, a), Timeout: time.Hour, Reason: "cli"})
	}
	b.Run("voicewall_100k_one_batch", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if _, err := live.ApplyLive(k.Target, live.LiveChange{Set: "banned_v4", Interval: true, Add: es}); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/100k")
			b.StopTimer()
			if _, err := live.ApplyLive(k.Target, live.LiveChange{Set: "banned_v4", Interval: true, Del: es}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
	// The gateway holds 100,000 bans from here on.
	if _, err := live.ApplyLive(k.Target, live.LiveChange{Set: "banned_v4", Interval: true, Add: es}); err != nil {
		b.Fatal(err)
	}
	next := base
	b.Run("voicewall_ban_one_with_100k", func(b *testing.B) {
		as := addrs(b.N, next)
		next += b.N
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := k.Ban(netip.PrefixFrom(as[i], 32), time.Hour, "cli"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nft_add_element_one_with_100k", func(b *testing.B) {
		as := addrs(b.N, next)
		next += b.N
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if out, err := nftNoTimeout(tp, "add element inet voicewall banned_v4 { "+as[i].String()+" timeout 1h comment \"fail2ban\" }"); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
	})
	b.Run("nft_file_100k", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			var sb strings.Builder
			sb.WriteString("add element inet voicewall banned_v6 { ")
			for j := 0; j < base; j++ {
				if j > 0 {
					sb.WriteString(", ")
				}
				a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(j >> 16), byte(j >> 8), byte(j)})
				sb.WriteString(a.String() + " timeout 1h")
			}
			sb.WriteString(" }\n")
			f := filepath.Join(b.TempDir(), "bans.nft")
			if err := os.WriteFile(f, []byte(sb.String()), 0o644); err != nil {
				b.Fatal(err)
			}
			if _, err := tp.GW.Run("nft", "flush set inet voicewall banned_v6"); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			if out, err := nftNoTimeout(tp, "-f", f); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/100k")
		}
	})
}
