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
		`udp dport 5080-5089 dnat to 10.20.0.10:5060-5069/5080`, // a base port (a shifted map)
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
