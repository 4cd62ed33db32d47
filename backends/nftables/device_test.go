package nftables

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/internal/netnstest"
	"golang.org/x/sys/unix"
)

// natRuleset is a hand-written nat table as the reader and nft both read
// it, with DNAT as RULE.
const natRuleset = `table ip vwtest {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		RULE
	}
}
`

func readDNAT(t *testing.T, rule string) (*devmodel.Forward, error) {
	t.Helper()
	d, err := ReadDevice("nat.nft", []byte(strings.Replace(natRuleset, "RULE", rule, 1)))
	if err != nil {
		return nil, err
	}
	if len(d.Forwards) != 1 {
		t.Fatalf("%s: %d forwards", rule, len(d.Forwards))
	}
	return d.Forwards[0], nil
}

// TestReadDNATTargets: the forms of the dnat statement (nft(8), NAT
// STATEMENTS), read with their meaning: a port kept, every port to one,
// or a port picked from a range for each connection.
func TestReadDNATTargets(t *testing.T) {
	for _, c := range []struct {
		rule   string
		to     string
		port   uint16 // the packet's outside port
		mapped devmodel.PortRange
	}{
		{`udp dport 5060 dnat ip to 10.20.0.10`, "10.20.0.10", 5060, devmodel.PortRange{Lo: 5060, Hi: 5060}},
		{`udp dport 5080 dnat to 10.20.0.10:5060`, "10.20.0.10", 5080, devmodel.PortRange{Lo: 5060, Hi: 5060}},
		{`iifname "eth0" tcp dport { 15060, 15070 } dnat ip to 10.20.0.10:5060`, "10.20.0.10", 15070, devmodel.PortRange{Lo: 5060, Hi: 5060}},
		// a range: any port of it, whatever the outside port
		{`udp dport 5080 dnat to 10.20.0.10:5060-5070`, "10.20.0.10", 5080, devmodel.PortRange{Lo: 5060, Hi: 5070}},
		{`iifname "eth0" udp dport 10000-20000 counter dnat ip to 10.20.0.10:10000-20000`, "10.20.0.10", 15000, devmodel.PortRange{Lo: 10000, Hi: 20000}},
		{`udp dport 5080-5090 dnat ip to 10.20.0.10:5060-5062 random`, "10.20.0.10", 5085, devmodel.PortRange{Lo: 5060, Hi: 5062}},
		{`udp dport 5080-5090 dnat ip to 10.20.0.10:5060-5062 fully-random,persistent`, "10.20.0.10", 5090, devmodel.PortRange{Lo: 5060, Hi: 5062}},
		{`tcp dport 5061 dnat ip6 to [2001:db8::10]:5061-5062`, "2001:db8::10", 5061, devmodel.PortRange{Lo: 5061, Hi: 5062}},
		{`tcp dport 5061 dnat ip6 to [2001:db8::10]:5060`, "2001:db8::10", 5061, devmodel.PortRange{Lo: 5060, Hi: 5060}},
		{`tcp dport 5061 dnat ip6 to 2001:db8::10`, "2001:db8::10", 5061, devmodel.PortRange{Lo: 5061, Hi: 5061}},
		{`udp dport 5080 dnat to 10.20.0.10:5060-5060`, "10.20.0.10", 5080, devmodel.PortRange{Lo: 5060, Hi: 5060}},
	} {
		f, err := readDNAT(t, c.rule)
		if err != nil {
			t.Errorf("%s: %v", c.rule, err)
			continue
		}
		if f.To != netip.MustParseAddr(c.to) || f.MapRange(c.port) != c.mapped {
			t.Errorf("%s: to %v, %d reaches %v; want %s, %v", c.rule, f.To, c.port, f.MapRange(c.port), c.to, c.mapped)
		}
		for _, m := range f.Mapping() {
			if m.In.Lo > c.mapped.Lo || m.In.Hi < c.mapped.Hi {
				t.Errorf("%s: mapping %v does not hold %v", c.rule, m, c.mapped)
			}
		}
	}
	// what the reader cannot give a meaning to is refused, located
	for _, rule := range []string{
		`udp dport 5080 dnat to 10.20.0.10-10.20.0.12`,          // an address range
		`udp dport 5080 dnat to 10.20.0.10:5070-5060`,           // a reversed range
		`udp dport 5080-5089 dnat to 10.20.0.10:5060-5069/5080`, // a base port: iptables syntax, nft refuses it
		`dnat to 10.20.0.10:5060`,                               // a port without a protocol
		`udp dport 5080 dnat to 10.20.0.10:5060 netmap`,
		`udp dport 5080 dnat to 10.20.0.10:`,
		`udp dport 5080 dnat ip6 to [2001:db8::10]:`,
		`udp dport 5080 dnat to 10.20.0.10:0`,
		`udp dport 5080 dnat to [2001:db8::10`,
	} {
		if _, err := readDNAT(t, rule); err == nil || !strings.HasPrefix(err.Error(), "nat.nft:4: ") {
			t.Errorf("%s: %v, want a located error", rule, err)
		}
	}
}

// TestPickedPortEvaluated: the device model sends a packet of a forward
// that picks its port to the pick it is given, the default of a current
// kernel otherwise (its own port in the range, else the first).
func TestPickedPortEvaluated(t *testing.T) {
	f, err := readDNAT(t, `iifname "eth0" udp dport 5080-5090 dnat to 10.20.0.10:5060-5070`)
	if err != nil {
		t.Fatal(err)
	}
	d := &devmodel.Device{Forwards: []*devmodel.Forward{f}, DefaultForward: devmodel.Accept}
	p := devmodel.Packet{In: "eth0", Src: netip.MustParseAddr("198.51.100.7"), Proto: devmodel.UDP, DstPort: 5085}
	if d.ForwardOf(p) != f || f.MapPort(5085) != 5060 || f.MapPort(5065) != 5065 {
		t.Fatalf("forward %v, 5085 -> %d, 5065 -> %d", d.ForwardOf(p), f.MapPort(5085), f.MapPort(5065))
	}
	d.Rules = []*devmodel.Rule{{Ref: "drop 5061", Hook: devmodel.HookForward, Quick: true, MatchForwarded: true, Src: devmodel.AnyAddr(), Dst: devmodel.AnyAddr(),
		Services: []devmodel.Service{{Proto: devmodel.UDP, DstPorts: devmodel.PortsOf(5061, 5061)}}, Action: devmodel.Drop}}
	for pick, want := range map[uint16]devmodel.Action{0: devmodel.Accept, 5061: devmodel.Drop, 5062: devmodel.Accept, 9999: devmodel.Accept} {
		p.NATPort = pick
		if got := d.Evaluate(p, nil).Verdict; got != want {
			t.Errorf("picked %d: %v, want %v", pick, got, want)
		}
	}
}

// TestDNATRangeKernel: what the running kernel does with dnat to A:P1-P2,
// with real traffic between namespaces. One source socket sends to three
// outside ports the rule takes: the three connections reach three
// different inside ports, so every port of the range is reached and which
// one a packet reaches is the sender's to steer (the kernel skips a port
// whose tuple is in use; before a 2024 fix it started at a random one). A
// packet to a port already in the range keeps it. The reader's model of
// the same text must hold every port the kernel delivered to.
func TestDNATRangeKernel(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft")
	tp := netnstest.New(t)
	rules := `iifname "eth0" udp dport 5080-5082 dnat to 10.20.0.10:5060-5062
		iifname "eth0" udp dport 6000-6002 dnat to 10.20.0.10:6000-6002`
	text := strings.Replace(natRuleset, "RULE", rules, 1)
	path := filepath.Join(t.TempDir(), "nat.nft")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := tp.GW.Run("nft", "-f", path); err != nil {
		t.Fatalf("nft -f: %v\n%s", err, out)
	}
	pbx := tp.Config.PBX
	got := map[uint16]*netnstest.UDPListener{}
	for _, port := range []uint16{5060, 5061, 5062, 6000, 6001, 6002} {
		got[port] = netnstest.ListenUDP(t, tp.PBX, netip.AddrPortFrom(pbx, port))
	}
	wan := tp.Config.GWWAN.Addr()
	attacker := tp.Config.Attacker[0]
	src := netip.AddrPortFrom(attacker, 40000)
	for _, out := range []uint16{5080, 5081, 5082} {
		if err := netnstest.SendUDPFrom(tp.Attacker, src, netip.AddrPortFrom(wan, out), []byte(fmt.Sprint("to ", out))); err != nil {
			t.Fatal(err)
		}
	}
	if err := netnstest.SendUDPFrom(tp.Attacker, netip.AddrPortFrom(attacker, 40001), netip.AddrPortFrom(wan, 6001), []byte("in range")); err != nil {
		t.Fatal(err)
	}
	reached := map[uint16]int{}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n := 0
		for port, l := range got {
			reached[port] = l.Count()
			n += l.Count()
		}
		if n >= 4 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("datagrams by inside port: %v", reached)
	for _, port := range []uint16{5060, 5061, 5062} {
		if reached[port] != 1 {
			t.Errorf("inside port %d got %d datagrams of the three sent from one socket to 5080-5082; want one each (every port of the range reached)", port, reached[port])
		}
	}
	if reached[6001] != 1 || reached[6000]+reached[6002] != 0 {
		t.Errorf("a packet to 6001, inside the range, reached %v; want 6001 kept", reached)
	}
	d, err := ReadDevice(path, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range d.Forwards {
		for _, m := range f.Mapping() {
			for port, n := range reached {
				if n > 0 && port >= f.ToPort && port <= f.ToLast && (port < m.In.Lo || port > m.In.Hi) {
					t.Errorf("%s: the kernel delivered to %d, which the model's %v does not hold", f.Loc, port, m)
				}
			}
		}
		for p := f.Ports[0].Lo; p <= f.Ports[0].Hi; p++ {
			if r := f.MapRange(p); r.Lo != f.ToPort || r.Hi != f.ToLast {
				t.Errorf("%s: %d reaches %v in the model, not the whole range", f.Loc, p, r)
			}
		}
	}
	if !slices.ContainsFunc(d.Forwards, func(f *devmodel.Forward) bool { return f.Picks() }) {
		t.Error("no forward read as picking its port")
	}
}

// natForms is a hand-written nat table in the forms real rulesets use
// besides dnat to A[:P]: redirect, meta l4proto with th dport, and dnat
// through anonymous and named maps.
const natForms = `table inet vwtest {
	map m {
		type ipv4_addr . inet_service : ipv4_addr . inet_service
		elements = { 192.0.2.1 . 7001 : 10.20.0.10 . 5060, 192.0.2.1 . 7002 : 10.30.0.20 . 5062 }
	}

	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "eth0" udp dport 7010 redirect to :5070
		iifname "eth0" udp dport 7011 counter redirect
		iifname "eth0" udp dport 7012-7014 redirect to :5071-5073
		iifname "eth0" meta l4proto udp th dport 7020 dnat ip to 10.20.0.10:5060
		iifname "eth0" meta l4proto { tcp, udp } th dport 7021 dnat ip to 10.20.0.10:5061
		iifname "eth0" dnat ip to udp dport map { 7030 : 10.20.0.10, 7031 : 10.30.0.20 }
		iifname "eth0" dnat ip to udp dport map { 7033 : 10.30.0.20 . 5063 }
		iifname "eth0" dnat ip to tcp dport map { 7032 : 10.30.0.20 . 5064 }
		iifname "eth0" meta l4proto udp dnat ip to ip daddr . th dport map @m
	}
}
`

// TestNATFormsKernel: the running kernel, with real traffic between
// namespaces, against the reader's model of the same ruleset, both as
// written (nft -f) and as nft lists it back (nft list ruleset rewrites
// meta l4proto udp th dport as udp dport). Every datagram or SYN a WAN
// host sends lands where the model's forward sends it: on the PBX or the
// phone at a port of MapRange, on the gateway itself for a redirect
// (Forward.ToSelf), and on the gateway at its own port when the model has
// no forward for it (a protocol or map key the rule does not take).
func TestNATFormsKernel(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft")
	tp := netnstest.New(t)
	path := filepath.Join(t.TempDir(), "nat.nft")
	if err := os.WriteFile(path, []byte(natForms), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := tp.GW.Run("nft", "-f", path); err != nil {
		t.Fatalf("nft -f: %v\n%s", err, out)
	}
	listed, err := tp.GW.Run("nft", "list", "ruleset")
	if err != nil {
		t.Fatalf("nft list ruleset: %v\n%s", err, listed)
	}
	t.Logf("nft list ruleset:\n%s", listed)
	hosts := map[string]*netnstest.Sniffer{"gw": netnstest.StartSniffer(t, tp.GW), "pbx": netnstest.StartSniffer(t, tp.PBX), "phone": netnstest.StartSniffer(t, tp.Phone)}
	hostOf := map[netip.Addr]string{tp.Config.PBX: "pbx", tp.Config.Phone: "phone"}
	wan := tp.Config.GWWAN.Addr()
	attacker := tp.Config.Attacker[0]
	type send struct {
		proto   uint8
		port    uint16
		srcPort uint16
		toWAN   bool // the model's destination: the WAN address (a map keyed on ip daddr), else the device itself
	}
	var sends []send
	for i, p := range []uint16{7010, 7011, 7020, 7021, 7030, 7031, 7032, 7033, 7001, 7002, 7003} {
		sends = append(sends, send{devmodel.UDP, p, uint16(41000 + i), p < 7010})
	}
	for i, p := range []uint16{7020, 7021, 7030, 7032} {
		sends = append(sends, send{devmodel.TCP, p, uint16(42000 + i), false})
	}
	for _, p := range []uint16{7012, 7013, 7014} {
		sends = append(sends, send{devmodel.UDP, p, 40000, false}) // one socket: three connections, three picks
	}
	for _, s := range sends {
		src, dst := netip.AddrPortFrom(attacker, s.srcPort), netip.AddrPortFrom(wan, s.port)
		if s.proto == devmodel.UDP {
			if err := netnstest.SendUDPFrom(tp.Attacker, src, dst, []byte("probe")); err != nil {
				t.Fatal(err)
			}
			continue
		}
		stop, err := netnstest.StartTCPConnect(tp.Attacker, src, dst)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
	}
	// where each send landed: the host and the port
	type landing struct {
		host string
		port uint16
	}
	landed := func(s send, seen map[landing]bool) []landing {
		var out []landing
		for name, sn := range hosts {
			for _, a := range sn.Matching(func(a netnstest.Arrival) bool {
				return a.From == netip.AddrPortFrom(attacker, s.srcPort) && (s.proto == devmodel.UDP) == (a.Proto == unix.IPPROTO_UDP)
			}) {
				l := landing{name, a.DstPort}
				if !seen[l] {
					seen[l] = true
					out = append(out, l)
				}
			}
		}
		return out
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n := 0
		for _, s := range sends {
			if len(landed(s, map[landing]bool{})) > 0 {
				n++
			}
		}
		if n == len(sends) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, text := range []string{natForms, listed} {
		d, err := ReadDevice("nat.nft", []byte(text))
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		for _, s := range sends {
			got := landed(s, map[landing]bool{})
			p := devmodel.Packet{In: "eth0", Src: attacker, SrcPort: s.srcPort, Proto: s.proto, DstPort: s.port}
			if s.toWAN {
				p.Dst = wan
			}
			f := d.ForwardOf(p)
			if s.srcPort == 40000 {
				// one socket's three connections to 7012-7014: the kernel
				// picks 5071, 5072 and 5073 of the gateway itself, every
				// one in the model's range
				if f == nil || !f.ToSelf || !f.Picks() || len(got) != 3 {
					t.Errorf("%d/udp: landed %v; the model's forward %v", s.port, got, fwdLoc(f))
					continue
				}
				for _, g := range got {
					if r := f.MapRange(s.port); g.host != "gw" || g.port < r.Lo || g.port > r.Hi {
						t.Errorf("%d/udp: landed %v, outside the model's %v", s.port, g, r)
					}
				}
				continue
			}
			if len(got) != 1 {
				t.Errorf("%d/%s: landed %v, want one place", s.port, devmodel.ProtoName(s.proto), got)
				continue
			}
			want := landing{"gw", s.port}
			in := devmodel.PortRange{Lo: s.port, Hi: s.port}
			if f != nil {
				in = f.MapRange(s.port)
				want = landing{hostOf[f.To], got[0].port}
				if f.ToSelf {
					want.host = "gw"
				}
			}
			if got[0] != want || got[0].port < in.Lo || got[0].port > in.Hi {
				t.Errorf("%d/%s: the kernel delivered it to %v; the model's forward %v sends it to %s ports %v", s.port, devmodel.ProtoName(s.proto), got[0], fwdLoc(f), want.host, in)
			}
		}
	}
}

func fwdLoc(f *devmodel.Forward) string {
	if f == nil {
		return "none"
	}
	return f.Ref + " (" + f.Loc.String() + ")"
}

// TestReadHandWrittenNAT: the nat forms of public rulesets, read with their
// meaning (TestNATFormsKernel checks the meaning on the kernel): lines of
// nftables' own test dumps (netfilter nftables, tests/shell/testcases/
// optimizations/dumps/merge_nat.nft, tests/py/ip/redirect.t), of OpenWrt
// firewall4's expected output (tests/03_rules/07_redirect), of nft(8) and
// of the nftables wiki ("Multiple NATs using nftables maps").
func TestReadHandWrittenNAT(t *testing.T) {
	type fwd struct {
		proto    uint8
		ports    string // the outside ports ("any": every port)
		src, ext string // "" any, the device itself
		to       string // "self": the device itself
		reach    string // the inside ports a packet to the first outside port may reach
		in       string
	}
	for _, c := range []struct {
		table, rule string
		want        []fwd
	}{
		{"ip", `tcp dport 22 redirect to :2222`, []fwd{{devmodel.TCP, "22", "", "", "self", "2222-2222", ""}}},      // nft(8)
		{"ip", `udp dport 53 redirect`, []fwd{{devmodel.UDP, "53", "", "", "self", "53-53", ""}}},                   // redirect.t
		{"ip", `udp dport 53 redirect random,persistent`, []fwd{{devmodel.UDP, "53", "", "", "self", "53-53", ""}}}, // redirect.t
		{"ip", `ip protocol 6 redirect to :100-200`, []fwd{{devmodel.TCP, "any", "", "", "self", "100-200", ""}}},   // redirect.t
		{"inet", `meta nfproto ipv4 tcp dport 26 counter redirect to 26 comment "!fw4: Redirect test #7"`, []fwd{{devmodel.TCP, "26", "", "", "self", "26-26", ""}}},
		{"inet", `udp dport 53 counter redirect to 53 comment "!fw4: Redirect test #2"`, []fwd{{devmodel.UDP, "53", "", "", "self", "53-53", ""}}},
		{"ip", `dnat to ip saddr map { 4.4.4.4 : 1.1.1.1, 5.5.5.5 : 2.2.2.2 }`, []fwd{
			{0, "any", "4.4.4.4", "", "1.1.1.1", "0-0", ""}, {0, "any", "5.5.5.5", "", "2.2.2.2", "0-0", ""}}}, // merge_nat.nft
		{"ip", `dnat ip to tcp dport map { 80 : 1.1.1.1 . 8001, 81 : 2.2.2.2 . 9001 }`, []fwd{
			{devmodel.TCP, "80", "", "", "1.1.1.1", "8001-8001", ""}, {devmodel.TCP, "81", "", "", "2.2.2.2", "9001-9001", ""}}}, // merge_nat.nft
		{"ip", `dnat ip to ip daddr . tcp dport map { 1.1.1.1 . 80 : 4.4.4.4 . 8000, 2.2.2.2 . 81 : 3.3.3.3 . 9000 }`, []fwd{
			{devmodel.TCP, "80", "", "1.1.1.1", "4.4.4.4", "8000-8000", ""}, {devmodel.TCP, "81", "", "2.2.2.2", "3.3.3.3", "9000-9000", ""}}}, // merge_nat.nft
		{"ip", `ip protocol udp dnat ip addr . port to udp dport map @foo`, []fwd{ // the wiki
			{devmodel.UDP, "1100", "", "", "192.168.1.2", "5061-5061", ""}, {devmodel.UDP, "1101", "", "", "192.168.1.3", "5061-5061", ""}, {devmodel.UDP, "1400", "", "", "192.168.1.4", "5061-5061", ""}}},
		{"inet", `iifname "eth0" meta l4proto { tcp, udp } th dport 5060 dnat ip to 10.20.0.10`, []fwd{{0, "5060", "", "", "10.20.0.10", "5060-5060", "eth0"}}},
		{"inet", `iifname "eth0" meta l4proto { tcp, udp } dnat ip to 10.20.0.10`, []fwd{
			{devmodel.TCP, "any", "", "", "10.20.0.10", "0-0", "eth0"}, {devmodel.UDP, "any", "", "", "10.20.0.10", "0-0", "eth0"}}},
		{"inet", `iifname "eth0" ip saddr { 203.0.113.10, 198.51.100.0/24 } ip daddr 192.0.2.1 udp dport 5060 dnat ip to 10.20.0.10`, []fwd{{devmodel.UDP, "5060", "203.0.113.10, 198.51.100.0/24", "192.0.2.1", "10.20.0.10", "5060-5060", "eth0"}}},
		// the rule's ports narrow the map's: 5061 is never looked up
		{"inet", `iifname "eth0" udp dport { 5060, 5080 } dnat ip to udp dport map { 5060 : 10.20.0.10, 5061 : 10.20.0.11, 5080-5090 : 10.20.0.12 . 5060 }`, []fwd{
			{devmodel.UDP, "5060", "", "", "10.20.0.10", "5060-5060", "eth0"}, {devmodel.UDP, "5080", "", "", "10.20.0.12", "5060-5060", "eth0"}}},
	} {
		text := "table " + c.table + ` vwtest {
	map foo {
		type inet_service : ipv4_addr . inet_service
		elements = { 1100 : 192.168.1.2 . 5061,
			     1101 : 192.168.1.3 . 5061,
			     1400 : 192.168.1.4 . 5061 }
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		` + c.rule + `
	}
}
`
		d, err := ReadDevice("nat.nft", []byte(text))
		if err != nil {
			t.Errorf("%s: %v", c.rule, err)
			continue
		}
		var got []fwd
		for _, f := range d.Forwards {
			g := fwd{proto: f.Proto, ports: f.Ports.String(), to: f.To.String(), in: strings.Join(f.In, ",")}
			if !f.Src.Any {
				g.src = f.Src.Text
			}
			if !f.Ext.Self {
				g.ext = f.Ext.Text
			}
			if f.ToSelf {
				g.to = "self"
			}
			first := uint16(0)
			if len(f.Ports) > 0 {
				first = f.Ports[0].Lo
			}
			g.reach = f.MapRange(first).String()
			if r := f.MapRange(first); r.Lo == r.Hi {
				g.reach = fmt.Sprintf("%d-%d", r.Lo, r.Hi)
			}
			got = append(got, g)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.rule, got, c.want)
		}
	}
	// what the reader cannot give a meaning to is refused, located, saying what
	for rule, why := range map[string]string{
		`udp dport 5080 dnat to 10.20.0.10:5060-5069/5080`:                               "iptables syntax",
		`dnat to numgen inc mod 2 map { 0 : 192.168.10.100, 1 : 192.168.20.200 }`:        "numgen",
		`dnat to jhash ip saddr mod 2 map { 0 : 192.168.20.100, 1 : 192.168.30.100 }`:    "jhash",
		`dnat ip to udp dport map { 5092 : 10.20.0.10 }:udp dport map { 5092 : 5060 }`:   "a port map",
		`redirect to :tcp dport map { 83 : 8083, 84 : 8084 }`:                            "port map",
		`th dport 5060 dnat to 10.20.0.10`:                                               "without meta l4proto",
		`meta l4proto udp tcp dport 5060 dnat to 10.20.0.10`:                             "exclude each other",
		`dnat ip to ip saddr . tcp dport map { 192.168.1.2 . 80 : 10.141.10.0/24 . 80 }`: "one address",
		`ip daddr != 192.0.2.1 udp dport 5060 dnat to 10.20.0.10`:                        "negated",
		`udp sport 5060 dnat to 10.20.0.10`:                                              "source port",
		`dnat ip to udp dport map @nosuch`:                                               "no such map",
	} {
		_, err := readDNAT(t, rule)
		if err == nil || !strings.HasPrefix(err.Error(), "nat.nft:4: ") || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: %v, want a located error saying %q", rule, err, why)
		}
	}
}

// FuzzReadDevice: no text, however broken, makes the reader panic; an
// error is an error, never a half-read model.
func FuzzReadDevice(f *testing.F) {
	f.Add([]byte(natForms))
	f.Add([]byte(filterForms))
	f.Add([]byte("define WAN = eth0\ndefine P = {\n\t192.0.2.1,\n\t192.0.2.2\n}\ntable inet f {\n\tchain input {\n\t\ttype filter hook input priority 0; policy drop;\n\t\tiifname $WAN ip saddr $P tcp dport vmap { 22 : accept, 5060 : goto g }\n\t}\n\tchain g {\n\t\treturn\n\t}\n}\n"))
	f.Add([]byte(strings.Replace(natRuleset, "RULE", `iifname "eth0" meta l4proto { tcp, udp } th dport 5060 dnat ip to udp dport map { 5060 : 10.0.0.1 . 5060 }`, 1)))
	f.Add([]byte("table ip t {\n\tmap m { type ifname . inet_service : ipv4_addr; flags interval; elements = { \"eth0\" . 5060-5070 : 10.0.0.1 } }\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		d, err := ReadDevice("fuzz.nft", src)
		if err != nil && d != nil {
			t.Fatal("a model beside an error")
		}
	})
}
