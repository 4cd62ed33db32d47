package netnstest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Voice link kinds (Config.VoiceLink, Topology.VoiceLinkKind).
const (
	VoiceLinkAuto    = "auto"    // real 802.1Q VLAN when the kernel has it, else macvlan
	VoiceLinkVLAN    = "vlan"    // real 802.1Q VLAN; New fails if the kernel lacks it
	VoiceLinkMacvlan = "macvlan" // macvlan stand-in on eth1 named like the VLAN
)

// Config is the address plan of a Topology. Zero fields take the defaults
// of DefaultConfig, so a test can set only what its policy needs.
//
//	provider ─┐                               ┌─ pbx   eth0 10.20.0.10/24
//	attacker ─┼─ [sw: bridge wan] ─ eth0  gw  eth1 ─ [sw: bridge lan] ─┤
//	          │   192.0.2.0/24     192.0.2.1  10.20.0.1                 └─ phone eth0 10.30.0.20/24
//	                                          eth1.20 10.30.0.1 (VLAN 20 or macvlan stand-in on eth1)
//
// WAN hosts carry their public addresses as /32s on their eth0, with an
// on-link default route through the gateway's WAN address; the gateway has
// an on-link default route out of eth0, so every address of every WAN host is
// reachable without per-host routes.
type Config struct {
	GWWAN   netip.Prefix // gateway eth0 (WAN); default 192.0.2.1/24
	GWLAN   netip.Prefix // gateway eth1 (LAN, PBX segment); default 10.20.0.1/24
	GWVoice netip.Prefix // gateway voice VLAN interface; default 10.30.0.1/24

	VoiceVLAN int    // VLAN id of the voice interface; default 20 (names it "eth1.20")
	VoiceLink string // VoiceLinkAuto (default), VoiceLinkVLAN or VoiceLinkMacvlan

	Provider []netip.Addr // provider host addresses; default 203.0.113.10
	Attacker []netip.Addr // attacker host addresses; default 198.51.100.66, 198.51.100.67
	PBX      netip.Addr   // PBX address on the LAN (prefix length of GWLAN); default 10.20.0.10
	Phone    netip.Addr   // phone address on the voice VLAN (prefix of GWVoice); default 10.30.0.20
}

// DefaultConfig returns the default address plan.
func DefaultConfig() Config {
	return Config{
		GWWAN:     netip.MustParsePrefix("192.0.2.1/24"),
		GWLAN:     netip.MustParsePrefix("10.20.0.1/24"),
		GWVoice:   netip.MustParsePrefix("10.30.0.1/24"),
		VoiceVLAN: 20,
		VoiceLink: VoiceLinkAuto,
		Provider:  []netip.Addr{netip.MustParseAddr("203.0.113.10")},
		Attacker:  []netip.Addr{netip.MustParseAddr("198.51.100.66"), netip.MustParseAddr("198.51.100.67")},
		PBX:       netip.MustParseAddr("10.20.0.10"),
		Phone:     netip.MustParseAddr("10.30.0.20"),
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if !c.GWWAN.IsValid() {
		c.GWWAN = d.GWWAN
	}
	if !c.GWLAN.IsValid() {
		c.GWLAN = d.GWLAN
	}
	if !c.GWVoice.IsValid() {
		c.GWVoice = d.GWVoice
	}
	if c.VoiceVLAN == 0 {
		c.VoiceVLAN = d.VoiceVLAN
	}
	if c.VoiceLink == "" {
		c.VoiceLink = d.VoiceLink
	}
	if len(c.Provider) == 0 {
		c.Provider = d.Provider
	}
	if len(c.Attacker) == 0 {
		c.Attacker = d.Attacker
	}
	if !c.PBX.IsValid() {
		c.PBX = d.PBX
	}
	if !c.Phone.IsValid() {
		c.Phone = d.Phone
	}
	return c
}

func (c Config) validate() error {
	for _, p := range []netip.Prefix{c.GWWAN, c.GWLAN, c.GWVoice} {
		if !p.Addr().Is4() {
			return fmt.Errorf("gateway prefix %v: only IPv4 is supported", p)
		}
	}
	all := append(append([]netip.Addr{c.PBX, c.Phone}, c.Provider...), c.Attacker...)
	for _, a := range all {
		if !a.Is4() {
			return fmt.Errorf("host address %v: only IPv4 is supported", a)
		}
	}
	if !c.GWLAN.Masked().Contains(c.PBX) {
		return fmt.Errorf("PBX %v is not inside GWLAN %v", c.PBX, c.GWLAN)
	}
	if !c.GWVoice.Masked().Contains(c.Phone) {
		return fmt.Errorf("phone %v is not inside GWVoice %v", c.Phone, c.GWVoice)
	}
	switch c.VoiceLink {
	case VoiceLinkAuto, VoiceLinkVLAN, VoiceLinkMacvlan:
	default:
		return fmt.Errorf("unknown VoiceLink %q", c.VoiceLink)
	}
	if c.VoiceVLAN < 1 || c.VoiceVLAN > 4094 {
		return fmt.Errorf("VoiceVLAN %d out of range 1..4094", c.VoiceVLAN)
	}
	return nil
}

// Interface names inside the namespaces.
const (
	WANIf  = "eth0" // gateway WAN interface
	LANIf  = "eth1" // gateway LAN interface
	HostIf = "eth0" // the single interface of provider, attacker, pbx, phone
)

// Topology is a running set of namespaces. All fields are read-only.
type Topology struct {
	Config Config

	GW       *NS // the gateway: eth0 (WAN), eth1 (LAN), eth1.<vlan> (voice)
	Provider *NS // WAN host with Config.Provider addresses
	Attacker *NS // WAN host with Config.Attacker addresses
	PBX      *NS // LAN host behind eth1
	Phone    *NS // voice VLAN host behind eth1.<vlan>
	Switch   *NS // holds the bridges "wan" and "lan"; no addresses

	// VoiceIf is the gateway's voice interface name, e.g. "eth1.20".
	VoiceIf string
	// VoiceLinkKind is VoiceLinkVLAN or VoiceLinkMacvlan: what VoiceIf
	// really is on this kernel.
	VoiceLinkKind string
	// VLANErr is why a real VLAN was not used (e.g. EOPNOTSUPP: no 802.1Q
	// module), nil when it was or was not tried.
	VLANErr error
	// Elapsed is how long New took to build the topology.
	Elapsed time.Duration
}

// New builds the default topology. See NewWithConfig.
func New(t testing.TB) *Topology {
	t.Helper()
	return NewWithConfig(t, Config{})
}

// NewWithConfig builds the topology of cfg (zero fields take defaults) and
// removes it when the test ends. It calls Require(t, "root", "ip").
func NewWithConfig(t testing.TB, cfg Config) *Topology {
	t.Helper()
	Require(t, "root", "ip")
	start := time.Now()
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		t.Fatalf("netnstest: config: %v", err)
	}
	tp := &Topology{Config: cfg, VoiceIf: fmt.Sprintf("%s.%d", LANIf, cfg.VoiceVLAN)}
	prefix := newGroupPrefix()
	mk := func(label string) *NS {
		n, err := createNS(prefix+label, label)
		if err != nil {
			t.Fatalf("netnstest: %v", err)
		}
		t.Cleanup(func() { n.destroy(t) })
		return n
	}
	tp.Switch = mk("sw")
	tp.GW = mk("gw")
	tp.Provider = mk("provider")
	tp.Attacker = mk("attacker")
	tp.PBX = mk("pbx")
	tp.Phone = mk("phone")
	if err := tp.build(); err != nil {
		t.Fatalf("netnstest: build topology: %v", err)
	}
	tp.Elapsed = time.Since(start)
	t.Logf("netnstest: topology %s* up in %v (voice link %s %s)", prefix, tp.Elapsed.Round(time.Millisecond), tp.VoiceIf, tp.VoiceLinkKind)
	return tp
}

// NS returns the namespace with the given label: "gw", "provider",
// "attacker", "pbx", "phone" or "sw".
func (tp *Topology) NS(label string) *NS {
	for _, n := range tp.all() {
		if n.Label == label {
			return n
		}
	}
	panic(fmt.Sprintf("netnstest: no namespace %q in topology (want gw, provider, attacker, pbx, phone or sw)", label))
}

// NsHandle returns the namespace handle of the labelled namespace.
func (tp *Topology) NsHandle(label string) netns.NsHandle { return tp.NS(label).Handle }

// Run runs argv in the labelled namespace (ip netns exec) and returns its
// combined output.
func (tp *Topology) Run(label string, argv ...string) (string, error) {
	return tp.NS(label).Run(argv...)
}

func (tp *Topology) all() []*NS {
	return []*NS{tp.GW, tp.Provider, tp.Attacker, tp.PBX, tp.Phone, tp.Switch}
}

func (tp *Topology) build() error {
	cfg := tp.Config
	handles := map[*NS]*netlink.Handle{}
	defer func() {
		for _, h := range handles {
			h.Close()
		}
	}()
	for _, n := range tp.all() {
		h, err := netlink.NewHandleAt(n.Handle)
		if err != nil {
			return fmt.Errorf("netlink handle in %s: %w", n.Label, err)
		}
		handles[n] = h
		if err := linkUp(h, "lo"); err != nil {
			return fmt.Errorf("%s: %w", n.Label, err)
		}
	}
	sw := handles[tp.Switch]

	// Bridges in the switch namespace.
	for _, br := range []string{"wan", "lan"} {
		if err := sw.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: br}}); err != nil {
			return fmt.Errorf("sw: add bridge %s: %w", br, err)
		}
		if err := linkUp(sw, br); err != nil {
			return err
		}
	}
	// Cables: switch port <-> host interface, created from the switch side
	// with the peer born directly in the host namespace.
	cables := []struct {
		bridge, port string
		host         *NS
		hostIf       string
	}{
		{"wan", "wan-gw", tp.GW, WANIf},
		{"wan", "wan-prov", tp.Provider, HostIf},
		{"wan", "wan-att", tp.Attacker, HostIf},
		{"lan", "lan-gw", tp.GW, LANIf},
		{"lan", "lan-pbx", tp.PBX, HostIf},
		{"lan", "lan-phone", tp.Phone, HostIf},
	}
	for _, c := range cables {
		v := &netlink.Veth{
			LinkAttrs:     netlink.LinkAttrs{Name: c.port},
			PeerName:      c.hostIf,
			PeerNamespace: netlink.NsFd(int(c.host.Handle)),
		}
		if err := sw.LinkAdd(v); err != nil {
			return fmt.Errorf("sw: add veth %s <-> %s/%s: %w", c.port, c.host.Label, c.hostIf, err)
		}
		port, err := sw.LinkByName(c.port)
		if err != nil {
			return err
		}
		br, err := sw.LinkByName(c.bridge)
		if err != nil {
			return err
		}
		if err := sw.LinkSetMaster(port, br); err != nil {
			return fmt.Errorf("sw: %s master %s: %w", c.port, c.bridge, err)
		}
		if err := sw.LinkSetUp(port); err != nil {
			return err
		}
		if err := linkUp(handles[c.host], c.hostIf); err != nil {
			return fmt.Errorf("%s: %w", c.host.Label, err)
		}
	}

	gw := handles[tp.GW]
	// Sysctls of the gateway only, written inside its namespace.
	for _, kv := range [][2]string{
		{"net/ipv4/ip_forward", "1"},
		// eth1 and the voice link share a wire: only the interface that
		// owns an address answers ARP for it.
		{"net/ipv4/conf/all/arp_ignore", "1"},
		{"net/ipv4/conf/default/arp_ignore", "1"},
	} {
		if err := WriteSysctl(tp.GW.Handle, kv[0], kv[1]); err != nil {
			return fmt.Errorf("gw sysctl %s: %w", kv[0], err)
		}
	}

	// Voice interface on the gateway: real VLAN or macvlan stand-in.
	phoneIf := HostIf
	switch cfg.VoiceLink {
	case VoiceLinkAuto, VoiceLinkVLAN:
		err := AddVLAN(gw, LANIf, tp.VoiceIf, cfg.VoiceVLAN)
		if err == nil {
			// The phone tags its frames too.
			phoneIf = fmt.Sprintf("%s.%d", HostIf, cfg.VoiceVLAN)
			if err = AddVLAN(handles[tp.Phone], HostIf, phoneIf, cfg.VoiceVLAN); err != nil {
				return fmt.Errorf("phone: %w", err)
			}
			tp.VoiceLinkKind = VoiceLinkVLAN
			break
		}
		tp.VLANErr = err
		if cfg.VoiceLink == VoiceLinkVLAN {
			return err
		}
		fallthrough
	case VoiceLinkMacvlan:
		if err := AddMacvlanStandIn(gw, LANIf, tp.VoiceIf); err != nil {
			return err
		}
		tp.VoiceLinkKind = VoiceLinkMacvlan
	}
	if err := linkUp(gw, tp.VoiceIf); err != nil {
		return err
	}
	if err := linkUp(handles[tp.Phone], phoneIf); err != nil {
		return err
	}

	// Gateway addresses and its on-link default route to the WAN.
	for _, a := range []struct {
		ifname string
		p      netip.Prefix
	}{{WANIf, cfg.GWWAN}, {LANIf, cfg.GWLAN}, {tp.VoiceIf, cfg.GWVoice}} {
		if err := addAddr(gw, a.ifname, a.p); err != nil {
			return fmt.Errorf("gw: %w", err)
		}
	}
	if err := addRoute(gw, WANIf, netip.Prefix{}, netip.Addr{}, cfg.GWWAN.Addr()); err != nil {
		return fmt.Errorf("gw: default route: %w", err)
	}

	// WAN hosts: /32 addresses, on-link routes through the gateway.
	for _, w := range []struct {
		ns    *NS
		addrs []netip.Addr
	}{{tp.Provider, cfg.Provider}, {tp.Attacker, cfg.Attacker}} {
		h := handles[w.ns]
		for _, a := range w.addrs {
			if err := addAddr(h, HostIf, netip.PrefixFrom(a, 32)); err != nil {
				return fmt.Errorf("%s: %w", w.ns.Label, err)
			}
		}
		if err := addRoute(h, HostIf, cfg.GWWAN.Masked(), netip.Addr{}, w.addrs[0]); err != nil {
			return fmt.Errorf("%s: WAN route: %w", w.ns.Label, err)
		}
		if err := addRoute(h, HostIf, netip.Prefix{}, cfg.GWWAN.Addr(), w.addrs[0]); err != nil {
			return fmt.Errorf("%s: default route: %w", w.ns.Label, err)
		}
	}
	// LAN hosts.
	for _, l := range []struct {
		ns     *NS
		ifname string
		addr   netip.Addr
		gw     netip.Prefix
	}{{tp.PBX, HostIf, cfg.PBX, cfg.GWLAN}, {tp.Phone, phoneIf, cfg.Phone, cfg.GWVoice}} {
		h := handles[l.ns]
		if err := addAddr(h, l.ifname, netip.PrefixFrom(l.addr, l.gw.Bits())); err != nil {
			return fmt.Errorf("%s: %w", l.ns.Label, err)
		}
		if err := addRoute(h, l.ifname, netip.Prefix{}, l.gw.Addr(), netip.Addr{}); err != nil {
			return fmt.Errorf("%s: default route: %w", l.ns.Label, err)
		}
	}
	return nil
}

// AddVLAN creates an 802.1Q link name on parent with the given id through
// the netlink handle h (whose namespace it is created in). On kernels without
// the 8021q module the error wraps unix.EOPNOTSUPP: check with
// errors.Is(err, unix.EOPNOTSUPP) or IsVLANUnsupported.
func AddVLAN(h *netlink.Handle, parent, name string, id int) error {
	p, err := h.LinkByName(parent)
	if err != nil {
		return fmt.Errorf("vlan parent %s: %w", parent, err)
	}
	v := &netlink.Vlan{
		LinkAttrs: netlink.LinkAttrs{Name: name, ParentIndex: p.Attrs().Index},
		VlanId:    id,
	}
	if err := h.LinkAdd(v); err != nil {
		return fmt.Errorf("add vlan %s (parent %s, id %d): %w", name, parent, id, err)
	}
	return nil
}

// IsVLANUnsupported reports whether err says the kernel cannot create
// 802.1Q links (no 8021q module: EOPNOTSUPP).
func IsVLANUnsupported(err error) bool {
	return errors.Is(err, unix.EOPNOTSUPP)
}

// TryVLAN creates a VLAN link inside namespace n (on parent, with id, named
// name) and reports the kernel's answer: nil when it works (the link then
// exists in n), an error wrapping EOPNOTSUPP on kernels without 802.1Q.
func TryVLAN(n *NS, parent, name string, id int) error {
	h, err := netlink.NewHandleAt(n.Handle)
	if err != nil {
		return err
	}
	defer h.Close()
	return AddVLAN(h, parent, name, id)
}

// AddMacvlanStandIn creates a macvlan (bridge mode) on parent named name,
// e.g. "eth1.20": the stand-in for a voice VLAN on kernels without 802.1Q.
// It carries its own MAC on the parent's wire, so traffic to and from it is
// seen on its own interface (iifname/oifname "eth1.20"), as with a VLAN.
func AddMacvlanStandIn(h *netlink.Handle, parent, name string) error {
	p, err := h.LinkByName(parent)
	if err != nil {
		return fmt.Errorf("macvlan parent %s: %w", parent, err)
	}
	m := &netlink.Macvlan{
		LinkAttrs: netlink.LinkAttrs{Name: name, ParentIndex: p.Attrs().Index},
		Mode:      netlink.MACVLAN_MODE_BRIDGE,
	}
	if err := h.LinkAdd(m); err != nil {
		return fmt.Errorf("add macvlan %s on %s: %w", name, parent, err)
	}
	return nil
}

func linkUp(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("link %s up: %w", name, err)
	}
	return nil
}

func setLinkUpByName(n *NS, name string) error {
	h, err := netlink.NewHandleAt(n.Handle)
	if err != nil {
		return err
	}
	defer h.Close()
	return linkUp(h, name)
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func addAddr(h *netlink.Handle, ifname string, p netip.Prefix) error {
	l, err := h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("link %s: %w", ifname, err)
	}
	if err := h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(p)}); err != nil {
		return fmt.Errorf("addr %v on %s: %w", p, ifname, err)
	}
	return nil
}

// addRoute adds dst (default route when invalid) out of ifname, via gw when
// valid (on-link), with preferred source src when valid.
func addRoute(h *netlink.Handle, ifname string, dst netip.Prefix, gw, src netip.Addr) error {
	l, err := h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("link %s: %w", ifname, err)
	}
	r := &netlink.Route{LinkIndex: l.Attrs().Index}
	if dst.IsValid() {
		r.Dst = ipNet(dst)
	} else {
		r.Dst = ipNet(netip.MustParsePrefix("0.0.0.0/0"))
	}
	if gw.IsValid() {
		r.Gw = gw.AsSlice()
		r.Flags = int(netlink.FLAG_ONLINK)
	} else {
		r.Scope = netlink.SCOPE_LINK
	}
	if src.IsValid() {
		r.Src = src.AsSlice()
	}
	if err := h.RouteAdd(r); err != nil {
		return fmt.Errorf("route %v via %v dev %s: %w", r.Dst, gw, ifname, err)
	}
	return nil
}
