package live

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/internal/netnstest"
	"github.com/voicewall/voicewall/lang"
)

// echoUDP is a UDP socket bound inside a namespace that answers every
// datagram to its sender (as a PBX answers SIP), so conntrack sees each
// flow's reply, and counts what it got.
type echoUDP struct {
	conn *net.UDPConn
	n    atomic.Int64
	done chan struct{}
}

func startEcho(t *testing.T, ns *netnstest.NS, addr netip.AddrPort) *echoUDP {
	t.Helper()
	e := &echoUDP{done: make(chan struct{})}
	err := netnstest.InNS(ns.Handle, func() error {
		var err error
		e.conn, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.conn.SetReadBuffer(4 << 20)
	go func() {
		defer close(e.done)
		buf := make([]byte, 2048)
		for {
			n, from, err := e.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			e.n.Add(1)
			_, _ = e.conn.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	t.Cleanup(func() { e.conn.Close(); <-e.done })
	return e
}

// waitCount waits until the count stops growing (no new datagram for
// quiet) or timeout passes, and returns it.
func (e *echoUDP) waitCount(quiet, timeout time.Duration) int64 {
	deadline := time.Now().Add(timeout)
	last, since := e.n.Load(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if n := e.n.Load(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= quiet {
			break
		}
	}
	return e.n.Load()
}

// udpSock binds a UDP socket inside ns (port 0: an ephemeral port).
func udpSock(t *testing.T, ns *netnstest.NS, src netip.AddrPort) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := netnstest.InNS(ns.Handle, func() error {
		var err error
		c, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(src))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(c *net.UDPConn, dst netip.AddrPort, data []byte) error {
	_, err := c.WriteToUDPAddrPort(data, dst)
	if errors.Is(err, os.ErrPermission) { // a local drop
		return nil
	}
	return err
}

func applyPolicy(t *testing.T, tg *Target, src string) *lang.Policy {
	t.Helper()
	p, diags := registry.LoadSource("gw.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	mustApply(t, tg, vw.Build(p))
	return p
}

const rateLimitPolicy = `
provider "carrier" {
  signaling  = ["203.0.113.10"]
  media      = ["203.0.113.10"]
  transports = ["udp"]
}

pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["carrier"]
}

rate_limit {
  sip   = "50/second"
  burst = 100
}
`

// TestRateLimitNewFlows: the per-source SIP limit counts new flows only.
// In the provider → gateway DNAT → PBX topology with 50/s and
// a burst of 100: one flow of 400 SIP datagrams at 100/s (the PBX answers
// each, so the flow is established after its first) gets >= 99% through;
// 400 new flows from one address, one datagram each from its own source
// port sent as fast as the host can, get the limiter's bucket (rate +
// burst = 150) plus what refills while they are sent, never much more.
func TestRateLimitNewFlows(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft")
	tp := netnstest.New(t)
	tg := gwTarget(t, tp)
	applyPolicy(t, tg, rateLimitPolicy)
	cfg := tp.Config
	gwSIP := netip.AddrPortFrom(cfg.GWWAN.Addr(), 5060)
	pbx := startEcho(t, tp.PBX, netip.AddrPortFrom(cfg.PBX, 5060))

	// One flow, 400 datagrams paced at 100/s (4 s). Pacing is by
	// schedule, so a slow machine sends late, never faster.
	c := udpSock(t, tp.Provider, netip.AddrPortFrom(cfg.Provider[0], 5062))
	start := time.Now()
	for i := 0; i < 400; i++ {
		if d := time.Until(start.Add(time.Duration(i) * 10 * time.Millisecond)); d > 0 {
			time.Sleep(d)
		}
		if err := send(c, gwSIP, []byte("OPTIONS sip:pbx SIP/2.0\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	one := pbx.waitCount(500*time.Millisecond, 5*time.Second)
	hits := counter(t, tg, "rate_limit_sip_v4_udp")
	t.Logf("one flow: %d of 400 datagrams reached the PBX in %v; rate-limit drops %d", one, time.Since(start).Round(time.Millisecond), hits)
	if one < 396 {
		t.Errorf("one established flow: %d of 400 got through, want >= 396 (99%%)", one)
	}

	// 400 new flows: sockets made first, then sent back to back. The
	// meter's entry for the provider refilled during the wait above.
	time.Sleep(3 * time.Second)
	socks := make([]*net.UDPConn, 400)
	for i := range socks {
		socks[i] = udpSock(t, tp.Provider, netip.AddrPortFrom(cfg.Provider[0], 0))
	}
	base := pbx.n.Load()
	start = time.Now()
	for _, s := range socks {
		if err := send(s, gwSIP, []byte("INVITE sip:pbx SIP/2.0\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	spent := time.Since(start)
	got := pbx.waitCount(500*time.Millisecond, 5*time.Second) - base
	const rate, burst = 50, 100
	refill := int64(spent.Seconds()*rate) + 1
	t.Logf("new flows: %d of 400 reached the PBX (sent in %v; bucket %d + refill <= %d); rate-limit drops now %d",
		got, spent.Round(time.Microsecond), rate+burst, refill, counter(t, tg, "rate_limit_sip_v4_udp"))
	if got < rate+burst {
		t.Errorf("new flows: %d got through, want at least rate+burst = %d", got, rate+burst)
	}
	// ~10% above rate+burst when sent within a fraction of a second; on a
	// loaded machine that took longer, what refilled meanwhile on top.
	if max := int64(rate+burst)*11/10 + refill; got > max {
		t.Errorf("new flows: %d got through, want at most %d (rate+burst %d, +10%%, +%d refilled in %v)", got, max, rate+burst, refill, spent)
	}
}

const symmetricPolicy = `
provider "flowroute" {
  signaling     = ["203.0.113.10"]
  transports    = ["udp"]
  symmetric_rtp = true
}

pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["flowroute"]
}

rtp {
  ports = "10000-20000"
}
`

// TestSymmetricRTP: a provider with symmetric_rtp and no published media.
// RTP it sends unsolicited never reaches the PBX, neither
// straight to the PBX's address nor to the gateway's; once the PBX has sent
// RTP from its port to the carrier, the carrier's replies to that port
// arrive (conntrack established), and a stranger still cannot use the port.
func TestSymmetricRTP(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft")
	tp := netnstest.New(t)
	tg := gwTarget(t, tp)
	applyPolicy(t, tg, symmetricPolicy)
	cfg := tp.Config
	pbxRTP := netip.AddrPortFrom(cfg.PBX, 15000)
	carrierRTP := netip.AddrPortFrom(cfg.Provider[0], 30000)

	var mu sync.Mutex
	var fromCarrier int
	pbx := udpSock(t, tp.PBX, pbxRTP)
	_ = pbx.SetReadBuffer(1 << 20)
	go func() {
		buf := make([]byte, 2048)
		for {
			_, from, err := pbx.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if from.Addr().Unmap() == cfg.Provider[0] {
				mu.Lock()
				fromCarrier++
				mu.Unlock()
			}
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return fromCarrier }
	carrier := udpSock(t, tp.Provider, carrierRTP)
	carrierGot := startEcholess(t, carrier)

	// Neighbours first: a datagram waiting in an ARP queue on a loaded
	// machine could otherwise leave only after the PBX has spoken, and
	// then it is a reply.
	for _, a := range []netip.Addr{cfg.Provider[0], cfg.PBX} {
		_ = netnstest.Ping(tp.GW, netip.Addr{}, a, time.Second)
	}
	// Unsolicited: to the PBX's own address (routed) and to the gateway's.
	for i := 0; i < 10; i++ {
		for _, dst := range []netip.AddrPort{pbxRTP, netip.AddrPortFrom(cfg.GWWAN.Addr(), 15000)} {
			if err := send(carrier, dst, []byte("rtp unsolicited")); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Every one of them must have met the gateway (and its drop) before
	// the PBX speaks.
	deadline := time.Now().Add(5 * time.Second)
	for counter(t, tg, "rtp_drop") < 20 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if n := count(); n != 0 {
		t.Fatalf("unsolicited RTP from the carrier reached the PBX: %d datagrams", n)
	}
	if n := counter(t, tg, "rtp_drop"); n != 20 {
		t.Fatalf("rtp_drop counted %d, want 20", n)
	}

	// The PBX speaks first, from its RTP port; the carrier answers to the
	// address and port it saw (symmetric RTP).
	for i := 0; i < 5; i++ {
		if err := send(pbx, carrierRTP, []byte("rtp from pbx")); err != nil {
			t.Fatal(err)
		}
	}
	seen := carrierGot.wait(5, 3*time.Second)
	if len(seen) == 0 {
		t.Fatal("the PBX's RTP did not reach the carrier")
	}
	for i := 0; i < 10; i++ {
		if err := send(carrier, seen[0], []byte("rtp reply")); err != nil {
			t.Fatal(err)
		}
	}
	deadline = time.Now().Add(3 * time.Second)
	for count() < 10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := count(); n != 10 {
		t.Errorf("carrier replies after the PBX spoke first: %d of 10 arrived", n)
	}
	t.Logf("symmetric RTP: 0 of 20 unsolicited, %d of 10 replies (PBX seen by the carrier as %v); established accepted %d",
		count(), seen[0], counter(t, tg, "established_udp"))
}

// echoless records the source addresses of what a socket receives.
type echoless struct {
	mu   sync.Mutex
	from []netip.AddrPort
}

func startEcholess(t *testing.T, c *net.UDPConn) *echoless {
	e := &echoless{}
	go func() {
		buf := make([]byte, 2048)
		for {
			_, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			e.mu.Lock()
			e.from = append(e.from, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()))
			e.mu.Unlock()
		}
	}()
	return e
}

func (e *echoless) wait(n int, timeout time.Duration) []netip.AddrPort {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		k := len(e.from)
		e.mu.Unlock()
		if k >= n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]netip.AddrPort(nil), e.from...)
}
