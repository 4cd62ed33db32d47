package netnstest

// Helpers for tests that send single packets of either address family
// through a topology and watch where they are delivered: extra addresses
// and routes (IPv6 included), a one-shot UDP sender, a TCP connect attempt
// (one SYN) and a Sniffer that sees every UDP/TCP packet delivered locally
// in a namespace. Everything here acts inside the test's own namespaces.

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// PhoneVoiceIf is the phone host's interface on the voice VLAN: "eth0.<id>"
// when the gateway's voice link is a real 802.1Q VLAN (the phone tags its
// frames too), "eth0" with the macvlan stand-in.
func (tp *Topology) PhoneVoiceIf() string {
	if tp.VoiceLinkKind == VoiceLinkVLAN {
		return HostIf + "." + strconv.Itoa(tp.Config.VoiceVLAN)
	}
	return HostIf
}

// AddAddress adds prefix p (the host address with its prefix length) to
// interface ifname inside namespace n. IPv6 addresses skip duplicate address
// detection (IFA_F_NODAD), so they are usable at once. Adding an address
// that is already there is not an error.
func AddAddress(n *NS, ifname string, p netip.Prefix) error {
	return onLink(n, ifname, func(h *netlink.Handle, l netlink.Link) error {
		a := &netlink.Addr{IPNet: ipNet(p)}
		if p.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD
		}
		if err := h.AddrAdd(l, a); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("%s: addr %v on %s: %w", n.Label, p, ifname, err)
		}
		return nil
	})
}

// onLink runs fn with a netlink handle inside namespace n and n's link
// ifname.
func onLink(n *NS, ifname string, fn func(h *netlink.Handle, l netlink.Link) error) error {
	h, err := netlink.NewHandleAt(n.Handle)
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("%s: link %s: %w", n.Label, ifname, err)
	}
	return fn(h, l)
}

// AddRouteVia adds a route inside namespace n to dst out of ifname, through
// the gateway via when it is valid, else directly on the link. An invalid
// dst is the default route of via's family (IPv4 when via is invalid too).
// IPv4 gateways are on-link (they need no connected route); an IPv6 gateway
// must lie in a prefix already routed out of ifname.
func AddRouteVia(n *NS, ifname string, dst netip.Prefix, via netip.Addr) error {
	return onLink(n, ifname, func(h *netlink.Handle, l netlink.Link) error {
		v6 := dst.IsValid() && dst.Addr().Is6() || !dst.IsValid() && via.Is6()
		if !dst.IsValid() {
			dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
			if v6 {
				dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
			}
		}
		r := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipNet(dst.Masked())}
		switch {
		case via.IsValid():
			r.Gw = via.AsSlice()
			if !v6 {
				r.Flags = int(netlink.FLAG_ONLINK)
			}
		case !v6:
			r.Scope = netlink.SCOPE_LINK
		}
		if err := h.RouteAdd(r); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("%s: route %v via %v dev %s: %w", n.Label, dst, via, ifname, err)
		}
		return nil
	})
}

// WaitIPv6Ready waits (at most timeout) until no IPv6 address in namespace
// n is still tentative, i.e. duplicate address detection of the link-local
// addresses made when the links came up is over. A router without a usable
// link-local address cannot send neighbor solicitations, so it cannot
// forward IPv6 yet.
func WaitIPv6Ready(n *NS, timeout time.Duration) error {
	h, err := netlink.NewHandleAt(n.Handle)
	if err != nil {
		return err
	}
	defer h.Close()
	deadline := time.Now().Add(timeout)
	for {
		addrs, err := h.AddrList(nil, netlink.FAMILY_V6)
		if err != nil {
			return fmt.Errorf("%s: list addresses: %w", n.Label, err)
		}
		var pending []string
		for _, a := range addrs {
			if a.Flags&unix.IFA_F_DADFAILED != 0 {
				return fmt.Errorf("%s: duplicate address detection failed for %v", n.Label, a.IPNet)
			}
			if a.Flags&unix.IFA_F_TENTATIVE != 0 {
				pending = append(pending, a.IPNet.String())
			}
		}
		if len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: addresses still tentative after %v: %v", n.Label, timeout, pending)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func udpNet(a netip.Addr) string {
	if a.Is4() || a.Is4In6() {
		return "udp4"
	}
	return "udp6"
}

// SendUDPFrom sends one datagram carrying data from src to dst (IPv4 or
// IPv6) through a socket made inside namespace n and bound to src. A local
// EPERM (a drop in n's own output path) is not an error.
func SendUDPFrom(n *NS, src, dst netip.AddrPort, data []byte) error {
	var conn *net.UDPConn
	err := InNS(n.Handle, func() error {
		var err error
		conn, err = net.ListenUDP(udpNet(src.Addr()), net.UDPAddrFromAddrPort(src))
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: bind udp %v: %w", n.Label, src, err)
	}
	defer conn.Close()
	if _, err := conn.WriteToUDPAddrPort(data, dst); err != nil && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%s: send udp %v -> %v: %w", n.Label, src, dst, err)
	}
	return nil
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

// StartTCPConnect starts a TCP connection attempt from src to dst inside
// namespace n: a non-blocking socket bound to src connects, so its SYN leaves
// at once, and nothing waits for an answer. The returned function closes the
// socket (which also stops SYN retransmissions); call it once the test has
// looked where the SYN went.
func StartTCPConnect(n *NS, src, dst netip.AddrPort) (func(), error) {
	fd := -1
	err := InNS(n.Handle, func() error {
		fam := unix.AF_INET6
		if src.Addr().Is4() {
			fam = unix.AF_INET
		}
		s, err := unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			unix.Close(s)
			return err
		}
		if err := unix.Bind(s, sockaddr(src)); err != nil {
			unix.Close(s)
			return fmt.Errorf("bind %v: %w", src, err)
		}
		if err := unix.Connect(s, sockaddr(dst)); err != nil && !errors.Is(err, unix.EINPROGRESS) {
			unix.Close(s)
			return fmt.Errorf("connect %v -> %v: %w", src, dst, err)
		}
		fd = s
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: tcp connect: %w", n.Label, err)
	}
	var once sync.Once
	return func() { once.Do(func() { unix.Close(fd) }) }, nil
}

// Arrival is one UDP or TCP packet a Sniffer saw delivered locally.
type Arrival struct {
	Proto   int // unix.IPPROTO_UDP or unix.IPPROTO_TCP
	From    netip.AddrPort
	DstPort uint16
	SYN     bool // TCP: SYN set (and ACK not): a connection attempt
	At      time.Time
}

// Sniffer records every UDP and TCP packet, IPv4 and IPv6, that namespace n
// delivers locally. It reads raw IP sockets, which get a copy of each
// packet after the namespace's netfilter input hook and routing decided
// to deliver it here, whether or not a socket listens on its port. Packets
// forwarded through n, and packets n sends, are not seen.
type Sniffer struct {
	NS *NS

	conns []*net.IPConn
	wg    sync.WaitGroup
	mu    sync.Mutex
	cond  *sync.Cond
	got   []Arrival
}

// StartSniffer starts a Sniffer in n; it stops at test cleanup.
func StartSniffer(t testing.TB, n *NS) *Sniffer {
	t.Helper()
	s := &Sniffer{NS: n}
	s.cond = sync.NewCond(&s.mu)
	for _, nw := range []struct {
		network string
		proto   int
	}{{"ip4:udp", unix.IPPROTO_UDP}, {"ip4:tcp", unix.IPPROTO_TCP}, {"ip6:udp", unix.IPPROTO_UDP}, {"ip6:tcp", unix.IPPROTO_TCP}} {
		var c *net.IPConn
		err := InNS(n.Handle, func() error {
			var err error
			c, err = net.ListenIP(nw.network, nil)
			return err
		})
		if err != nil {
			s.Close()
			t.Fatalf("netnstest: raw %s socket in %s: %v", nw.network, n.Label, err)
		}
		_ = c.SetReadBuffer(1 << 20)
		s.conns = append(s.conns, c)
		s.wg.Add(1)
		go s.loop(c, nw.proto)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *Sniffer) loop(c *net.IPConn, proto int) {
	defer s.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFromIP(buf)
		if err != nil {
			s.mu.Lock()
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
		if n < 4 || from == nil {
			continue
		}
		src, ok := netip.AddrFromSlice(from.IP)
		if !ok {
			continue
		}
		a := Arrival{
			Proto:   proto,
			From:    netip.AddrPortFrom(src.Unmap(), uint16(buf[0])<<8|uint16(buf[1])),
			DstPort: uint16(buf[2])<<8 | uint16(buf[3]),
			At:      time.Now(),
		}
		if proto == unix.IPPROTO_TCP && n >= 14 {
			a.SYN = buf[13]&0x02 != 0 && buf[13]&0x10 == 0
		}
		s.mu.Lock()
		s.got = append(s.got, a)
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// Close stops the sniffer; safe to call more than once.
func (s *Sniffer) Close() {
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.wg.Wait()
}

// Matching returns the arrivals for which match is true.
func (s *Sniffer) Matching(match func(Arrival) bool) []Arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Arrival
	for _, a := range s.got {
		if match(a) {
			out = append(out, a)
		}
	}
	return out
}

// Wait waits until an arrival for which match is true has been seen or
// timeout passes, and reports whether one was seen.
func (s *Sniffer) Wait(match func(Arrival) bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	defer wakeAfter(s.cond, timeout)()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for _, a := range s.got {
			if match(a) {
				return true
			}
		}
		if !time.Now().Before(deadline) {
			return false
		}
		s.cond.Wait()
	}
}

// LinkMAC returns the hardware address of interface ifname inside n.
func LinkMAC(n *NS, ifname string) (mac net.HardwareAddr, err error) {
	err = onLink(n, ifname, func(_ *netlink.Handle, l netlink.Link) error {
		mac = l.Attrs().HardwareAddr
		return nil
	})
	return mac, err
}

// AddNeighbor adds (or replaces) a permanent neighbor entry, ARP or NDP,
// for addr with hardware address mac on ifname inside n. Tests use it so no
// neighbor discovery travels through the firewall under test: an IPv6
// neighbor solicitation carries the sender's address, and a rule that drops
// that source would drop the solicitation before the packet under test.
func AddNeighbor(n *NS, ifname string, addr netip.Addr, mac net.HardwareAddr) error {
	return onLink(n, ifname, func(h *netlink.Handle, l netlink.Link) error {
		fam := netlink.FAMILY_V4
		if addr.Is6() {
			fam = netlink.FAMILY_V6
		}
		nb := &netlink.Neigh{LinkIndex: l.Attrs().Index, Family: fam, State: netlink.NUD_PERMANENT, IP: addr.AsSlice(), HardwareAddr: mac}
		if err := h.NeighSet(nb); err != nil {
			return fmt.Errorf("%s: neighbor %v lladdr %v dev %s: %w", n.Label, addr, mac, ifname, err)
		}
		return nil
	})
}
