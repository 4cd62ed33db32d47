package netnstest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// Datagram is one UDP datagram seen by a UDPListener.
type Datagram struct {
	From netip.AddrPort
	Data []byte
	At   time.Time
}

// UDPListener is a UDP socket bound inside a namespace; it records every
// datagram that arrives until it is closed (at the latest at test cleanup).
type UDPListener struct {
	Addr netip.AddrPort // bound address

	conn *net.UDPConn
	mu   sync.Mutex
	cond *sync.Cond
	got  []Datagram
	done chan struct{}
}

// ListenUDP binds a UDP socket at addr inside namespace n (the socket is
// created on a thread inside n, so it lives there) and starts recording.
// Port 0 picks a free port (see Addr).
func ListenUDP(t testing.TB, n *NS, addr netip.AddrPort) *UDPListener {
	t.Helper()
	var conn *net.UDPConn
	err := InNS(n.Handle, func() error {
		var err error
		conn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
		return err
	})
	if err != nil {
		t.Fatalf("netnstest: listen udp %v in %s: %v", addr, n.Label, err)
	}
	_ = conn.SetReadBuffer(4 << 20)
	l := &UDPListener{
		Addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(),
		conn: conn,
		done: make(chan struct{}),
	}
	l.cond = sync.NewCond(&l.mu)
	go l.loop()
	t.Cleanup(l.Close)
	return l
}

// ListenUDP binds a recording UDP socket in the labelled namespace.
func (tp *Topology) ListenUDP(t testing.TB, label string, addr netip.AddrPort) *UDPListener {
	t.Helper()
	return ListenUDP(t, tp.NS(label), addr)
}

func (l *UDPListener) loop() {
	defer close(l.done)
	buf := make([]byte, 65536)
	for {
		n, from, err := l.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			l.mu.Lock()
			l.cond.Broadcast()
			l.mu.Unlock()
			return
		}
		d := Datagram{From: netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), Data: append([]byte(nil), buf[:n]...), At: time.Now()}
		l.mu.Lock()
		l.got = append(l.got, d)
		l.cond.Broadcast()
		l.mu.Unlock()
	}
}

// Close stops recording. It is safe to call more than once.
func (l *UDPListener) Close() {
	_ = l.conn.Close()
	<-l.done
}

// Count returns how many datagrams arrived so far.
func (l *UDPListener) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.got)
}

// CountFrom returns how many datagrams arrived from source address src
// (any port).
func (l *UDPListener) CountFrom(src netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := 0
	for _, d := range l.got {
		if d.From.Addr() == src {
			c++
		}
	}
	return c
}

// Received returns a copy of the datagrams that arrived so far.
func (l *UDPListener) Received() []Datagram {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Datagram(nil), l.got...)
}

// Reset forgets what arrived so far.
func (l *UDPListener) Reset() {
	l.mu.Lock()
	l.got = nil
	l.mu.Unlock()
}

// Wait waits until at least n datagrams have arrived or timeout passes, and
// returns the count. To assert that nothing arrives, call Wait with a short
// timeout and check the count (a drop cannot be observed any other way).
func (l *UDPListener) Wait(n int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	defer wakeAfter(l.cond, timeout)()
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.got) < n && time.Now().Before(deadline) {
		select {
		case <-l.done:
			return len(l.got)
		default:
		}
		l.cond.Wait()
	}
	return len(l.got)
}

// payload returns datagram i of a burst: "vwt <seq>" padded to size bytes.
func payload(i, size int) []byte {
	if size < 8 {
		size = 8
	}
	b := make([]byte, size)
	copy(b, "vwt ")
	binary.BigEndian.PutUint32(b[4:8], uint32(i))
	return b
}

// SendUDP sends n unconnected UDP datagrams of size bytes (at least 8) from
// src to dst with socat, from inside namespace n. src must be an address of
// that namespace; its port is the source port (0: any). Each datagram is one
// block read by socat (-b size) from a file holding exactly n blocks, so
// exactly n datagrams leave, back to back. It needs socat (Require).
func SendUDP(t testing.TB, n *NS, src, dst netip.AddrPort, count, size int) {
	t.Helper()
	Require(t, "socat")
	if size < 8 {
		size = 8
	}
	f := filepath.Join(t.TempDir(), "udp-payload")
	buf := make([]byte, 0, count*size)
	for i := 0; i < count; i++ {
		buf = append(buf, payload(i, size)...)
	}
	if err := os.WriteFile(f, buf, 0o600); err != nil {
		t.Fatal(err)
	}
	bind := fmt.Sprintf("bind=%s", netip.AddrPortFrom(src.Addr(), src.Port()))
	if src.Port() == 0 {
		bind = "bind=" + src.Addr().String()
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	cmd := n.Command(ctx, "socat", "-u", "-T", "5", "-b", strconv.Itoa(size),
		"OPEN:"+f+",rdonly",
		fmt.Sprintf("UDP4-SENDTO:%s,%s,reuseaddr", dst, bind))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("netnstest: socat udp %v -> %v in %s: %v: %s", src, dst, n.Label, err, out)
	}
}

// SendUDP sends count datagrams with socat from the labelled namespace.
func (tp *Topology) SendUDP(t testing.TB, label string, src, dst netip.AddrPort, count, size int) {
	t.Helper()
	SendUDP(t, tp.NS(label), src, dst, count, size)
}

// SendUDPNative sends count unconnected datagrams from src to dst with a Go
// socket created inside namespace n (no socat needed; for large bursts).
func SendUDPNative(n *NS, src, dst netip.AddrPort, count, size int) error {
	var conn *net.UDPConn
	err := InNS(n.Handle, func() error {
		var err error
		conn, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(src))
		return err
	})
	if err != nil {
		return fmt.Errorf("bind %v in %s: %w", src, n.Label, err)
	}
	defer conn.Close()
	for i := 0; i < count; i++ {
		if _, err := conn.WriteToUDPAddrPort(payload(i, size), dst); err != nil {
			// EPERM is what a local drop looks like; keep counting it as sent.
			if errors.Is(err, os.ErrPermission) {
				continue
			}
			return fmt.Errorf("send %d to %v: %w", i, dst, err)
		}
	}
	return nil
}

// Ping sends one ICMP echo request from namespace n (source src when valid)
// to dst and reports whether the reply arrived within timeout. It uses a raw
// ICMP socket made inside n, so no ping binary is needed.
func Ping(n *NS, src, dst netip.Addr, timeout time.Duration) error {
	var pc *icmp.PacketConn
	laddr := "0.0.0.0"
	if src.IsValid() {
		laddr = src.String()
	}
	err := InNS(n.Handle, func() error {
		var err error
		pc, err = icmp.ListenPacket("ip4:icmp", laddr)
		return err
	})
	if err != nil {
		return fmt.Errorf("icmp socket in %s: %w", n.Label, err)
	}
	defer pc.Close()
	id := os.Getpid() & 0xffff
	seq := int(time.Now().UnixNano() & 0x7fff)
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("voicewall-netnstest")}}
	wb, err := msg.Marshal(nil)
	if err != nil {
		return err
	}
	if _, err := pc.WriteTo(wb, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		return fmt.Errorf("ping %v from %s: %w", dst, n.Label, err)
	}
	deadline := time.Now().Add(timeout)
	_ = pc.SetReadDeadline(deadline)
	rb := make([]byte, 1500)
	for {
		nr, peer, err := pc.ReadFrom(rb)
		if err != nil {
			return fmt.Errorf("ping %v from %s: no reply within %v: %w", dst, n.Label, timeout, err)
		}
		rm, err := icmp.ParseMessage(1, rb[:nr])
		if err != nil || rm.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		if e, ok := rm.Body.(*icmp.Echo); ok && e.ID == id && e.Seq == seq && peer.String() == dst.String() {
			return nil
		}
	}
}

// Ping pings dst from the labelled namespace (source src when valid).
func (tp *Topology) Ping(label string, src, dst netip.Addr) error {
	return Ping(tp.NS(label), src, dst, 2*time.Second)
}

// wakeAfter wakes the waiters on cond when timeout passes, so that a wait
// for arrivals sees its deadline; the returned func cancels it.
func wakeAfter(cond *sync.Cond, timeout time.Duration) (stop func()) {
	t := time.AfterFunc(timeout, func() {
		cond.L.Lock()
		cond.Broadcast()
		cond.L.Unlock()
	})
	return func() { t.Stop() }
}
