package live

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/voicewall/voicewall/internal/testenv"

	"go4.org/netipx"
	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/internal/netnstest"
	"github.com/voicewall/voicewall/lang"
)

// TestKernelAgreesWithExpectations proves the evaluator against the kernel:
// for every example, the compiled table is applied to the gateway of a
// namespace topology laid out after the policy (its interfaces, voice VLAN,
// PBX and the addresses its expect blocks use), and every expect is sent as
// one real packet (a UDP datagram, or a TCP SYN) from a host in the zone it
// arrives on. The kernel's verdict (the packet was delivered where the
// evaluator says it goes: the gateway itself, the PBX after the DNAT, a
// phone, a host on the Internet; or nowhere) and the rule counters that
// moved must be what the evaluator's walk says: its verdict and every rule
// it matched on the way (DNAT and DSCP marks included), and nothing else.
func TestKernelAgreesWithExpectations(t *testing.T) {
	netnstest.Require(t, "root", "ip")
	dirs := testenv.ExampleDirs(t, "../../..")
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) { agreeExample(t, dir) })
	}
}

// agreeHosts are the topology's namespaces a packet can be delivered in.
var agreeHosts = []string{"gw", "provider", "attacker", "pbx", "phone"}

// agreeCase is one expect block and what the evaluator says about it.
type agreeCase struct {
	x      *lang.Expect
	pkt    lang.Packet
	res    lang.Result
	from   string     // namespace that sends it
	to     string     // namespace it is delivered in when it passes
	arrive netip.Addr // address it is delivered to (after DNAT); invalid: the gateway itself
}

// agreeLayout is the address plan of the topology for one policy: where
// every address the expects (and PBXes) use lives, and the gateway's own
// prefixes on each interface.
type agreeLayout struct {
	p       *lang.Policy
	vlan    *lang.VoiceVLAN
	voiceIf string

	place map[netip.Addr]string // host address → namespace label
	order []netip.Addr

	gwPfx  map[string][]netip.Prefix // gateway interface → its addresses (with prefix length)
	wan4   netip.Prefix              // gateway WAN address
	wan6   netip.Prefix
	v6     bool
	filled map[string]netip.Addr // namespace → filler address given to netnstest.Config
	cfg    netnstest.Config

	universe *netipx.IPSet // every address the policy names
	cases    []*agreeCase
}

func agreeExample(t *testing.T, dir string) {
	p := loadPolicy(t, dir)
	if len(p.Expects) == 0 {
		t.Fatalf("%s has no expect blocks: every example must state what it expects", dir)
	}
	l, err := agreePlan(p)
	if err != nil {
		t.Fatalf("cannot lay the topology out for %s: %v", dir, err)
	}
	tab := vw.Build(p)

	tp := netnstest.NewWithConfig(t, l.cfg)
	if tp.VoiceIf != l.voiceIf {
		t.Fatalf("topology voice link %s, policy needs %s", tp.VoiceIf, l.voiceIf)
	}
	l.extend(t, tp)

	t.Setenv("VOICEWALL_STATE_DIR", t.TempDir())
	tg, err := Open(tp.GW.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ls, err := CheckLinks(tg, LinkSpecOf(p))
	if err != nil {
		t.Fatal(err)
	}
	if err := LinkProblems(ls); err != nil {
		t.Fatalf("gateway links do not fit the policy: %v", err)
	}
	st, err := Read(tg, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(tg, Diff(st, tab), ApplyOptions{Verify: true}); err != nil {
		t.Fatalf("apply: %v", err)
	}

	// Resolve every neighbour first (one echo from the gateway to each host
	// address, answered or not): on a loaded machine the first packet to a
	// fresh neighbour can wait in the ARP/NDP queue past a case's window.
	for _, a := range l.order {
		_ = netnstest.Ping(tp.GW, netip.Addr{}, a, 500*time.Millisecond)
	}

	sniff := map[string]*netnstest.Sniffer{}
	for _, h := range agreeHosts {
		sniff[h] = netnstest.StartSniffer(t, tp.NS(h))
	}
	listeners := map[string]*netnstest.UDPListener{}

	port := uint16(40000) // fresh ephemeral source ports: every packet is a new flow
	for _, c := range l.cases {
		pos := filepath.ToSlash(filepath.Join(dir, c.x.Origin.Pos()))
		pos = strings.TrimPrefix(pos, "../../../")
		label := fmt.Sprintf("expect %q (%s)", c.x.Name, pos)

		sport := c.pkt.SrcPort
		if sport == 0 {
			port++
			sport = port
		}
		src := netip.AddrPortFrom(c.pkt.Src.Unmap(), sport)
		sendTo := c.pkt.Dst.Unmap()
		if !sendTo.IsValid() {
			if sendTo, err = l.gwOwn(c.pkt); err != nil {
				t.Errorf("%s: %v", label, err)
				continue
			}
		}
		dst := netip.AddrPortFrom(sendTo, c.pkt.DstPort)
		proto := unix.IPPROTO_UDP
		if c.pkt.Proto == lang.TCP {
			proto = unix.IPPROTO_TCP
		}
		var ln *netnstest.UDPListener
		if proto == unix.IPPROTO_UDP {
			k := fmt.Sprintf("%s/%d", c.to, c.pkt.DstPort)
			if ln = listeners[k]; ln == nil {
				ln = netnstest.ListenUDP(t, tp.NS(c.to), netip.AddrPortFrom(netip.IPv6Unspecified(), c.pkt.DstPort))
				listeners[k] = ln
			}
		}
		match := func(a netnstest.Arrival) bool {
			return a.Proto == proto && a.From == src && a.DstPort == c.pkt.DstPort && (proto == unix.IPPROTO_UDP || a.SYN)
		}

		// A trusted or banned expect states run-time set membership that
		// `voicewall watch`/`ban` would give: put the source there for
		// this case only, as they would (an element with a timeout).
		undo := agreeRuntimeState(t, tg, c.pkt)
		before := agreeCounters(t, tg, tab)
		stop := func() {}
		if proto == unix.IPPROTO_UDP {
			err = netnstest.SendUDPFrom(tp.NS(c.from), src, dst, []byte("voicewall expect "+c.x.Name))
		} else {
			stop, err = netnstest.StartTCPConnect(tp.NS(c.from), src, dst)
		}
		if err != nil {
			t.Errorf("%s: sending %v -> %v from %s: %v", label, src, dst, c.from, err)
			continue
		}
		if c.res.Verdict == lang.Accept {
			sniff[c.to].Wait(match, 1500*time.Millisecond)
			time.Sleep(30 * time.Millisecond) // a copy delivered elsewhere too would show now
		} else {
			// A drop leaves no arrival to wait for: wait for the counters
			// the evaluator names (a SYN can leave late on a loaded machine).
			agreeAwaitCounters(t, tg, tab, before, c.res, c.pkt, 2*time.Second)
			time.Sleep(250 * time.Millisecond) // and for any counter it did not name
		}
		stop()
		undo()
		var where []string
		for _, h := range agreeHosts {
			if len(sniff[h].Matching(match)) > 0 {
				where = append(where, h)
			}
		}
		after := agreeCounters(t, tg, tab)

		// The kernel's verdict.
		evalSays := c.res.Decision()
		if c.res.Verdict == lang.Accept {
			goal := c.to
			if c.arrive.IsValid() {
				goal += " " + netip.AddrPortFrom(c.arrive, c.pkt.DstPort).String()
			}
			if len(where) != 1 || where[0] != c.to {
				t.Errorf("%s: %v -> %v/%s from %s: evaluator: %s, delivered to %s; kernel: %s",
					label, src, dst, c.pkt.Proto, c.from, evalSays, goal, agreeWhere(where))
			} else if ln != nil && !slices.ContainsFunc(ln.Received(), func(d netnstest.Datagram) bool { return d.From == src }) {
				t.Errorf("%s: delivered in %s but the UDP listener on port %d did not get it", label, c.to, c.pkt.DstPort)
			}
		} else if len(where) > 0 {
			t.Errorf("%s: %v -> %v/%s from %s: evaluator: %s; kernel: delivered to %s",
				label, src, dst, c.pkt.Proto, c.from, evalSays, agreeWhere(where))
		}

		// Which counters moved.
		want, problems := agreeWantKeys(tab, c.res, c.pkt)
		for _, pr := range problems {
			t.Errorf("%s: %s", label, pr)
		}
		var moved []string
		for k, n := range after {
			if n > before[k] {
				moved = append(moved, k)
			}
		}
		sort.Strings(moved)
		if !slices.Equal(moved, want) {
			t.Errorf("%s: %v -> %v/%s: evaluator: %s, so rule counters %s should move; kernel: %s moved",
				label, src, dst, c.pkt.Proto, evalSays, agreeList(want), agreeList(moved))
		}
		t.Logf("%s: %s; kernel: %s; counters %s", label, c.res.Verdict, agreeWhere(where), agreeList(moved))
	}
}

func agreeWhere(where []string) string {
	if len(where) == 0 {
		return "dropped (delivered nowhere)"
	}
	return "delivered to " + strings.Join(where, ", ")
}

func agreeList(ks []string) string {
	if len(ks) == 0 {
		return "none"
	}
	return strings.Join(ks, ", ")
}

// agreeCounters reads every rule counter of the table as "chain/key" → packets.
func agreeCounters(t *testing.T, tg *Target, tab *vw.Table) map[string]uint64 {
	t.Helper()
	st, err := Read(tg, ReadOptions{SkipElements: true})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, c := range Counters(st, tab) {
		out[c.Chain+"/"+c.Rule] += c.Packets
	}
	return out
}

// agreeAwaitCounters polls until every counter the evaluator says moves has
// moved since before, or until the window ends (the caller then reports it).
func agreeAwaitCounters(t *testing.T, tg *Target, tab *vw.Table, before map[string]uint64, res lang.Result, pkt lang.Packet, window time.Duration) {
	t.Helper()
	want, _ := agreeWantKeys(tab, res, pkt)
	for deadline := time.Now().Add(window); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		now := agreeCounters(t, tg, tab)
		if !slices.ContainsFunc(want, func(k string) bool { return now[k] <= before[k] }) {
			return
		}
	}
}

// agreeWantKeys lists, sorted, the counters ("chain/key") the evaluator's
// walk says move: every rule it matched (marks, DNAT, the deciding accept
// or drop), in the nft rule written for the packet's family and protocol.
func agreeWantKeys(tab *vw.Table, res lang.Result, pkt lang.Packet) ([]string, []string) {
	var want, problems []string
	v6 := pkt.Src.Unmap().Is6()
	for _, s := range res.Trace {
		if !s.Matched || s.Rule == nil {
			continue
		}
		var keys []string
		for _, c := range tab.Chains {
			if c.Hook == "" {
				continue
			}
			for _, r := range c.Rules {
				if r.Source == s.Rule && agreeKeyFits(r.Key, s.Rule.ID, v6, pkt.Proto) {
					keys = append(keys, c.Name+"/"+r.Key)
				}
			}
		}
		if len(keys) != 1 {
			problems = append(problems, fmt.Sprintf("the evaluator matched %s (rule %s), but the compiled table has %d nft rules for it for IPv%s/%s: %v",
				lang.RuleName(s.Rule), s.Rule.ID, len(keys), map[bool]string{false: "4", true: "6"}[v6], pkt.Proto, keys))
		}
		want = append(want, keys...)
	}
	sort.Strings(want)
	return slices.Compact(want), problems
}

// agreeKeyFits reports whether an nft rule key is the rendering of rule id
// for a packet of that family and protocol: the key is the id, then
// "_v4"/"_v6" when the rule is split by family, then "_tcp"/"_udp" when it
// is split by protocol.
func agreeKeyFits(key, id string, v6 bool, proto lang.Proto) bool {
	rest, ok := strings.CutPrefix(key, id)
	if !ok {
		return false
	}
	if f, ok := strings.CutPrefix(rest, "_v4"); ok {
		if v6 {
			return false
		}
		rest = f
	} else if f, ok := strings.CutPrefix(rest, "_v6"); ok {
		if !v6 {
			return false
		}
		rest = f
	}
	switch rest {
	case "":
		return true
	case "_tcp":
		return proto == lang.TCP
	case "_udp":
		return proto == lang.UDP
	}
	return false
}

// gwOwn is the gateway's own address a packet with no destination is sent
// to: its address of the packet's family on the interface of the zone the
// packet arrives on.
func (l *agreeLayout) gwOwn(pkt lang.Packet) (netip.Addr, error) {
	v6 := pkt.Src.Unmap().Is6()
	switch pkt.Zone {
	case "", lang.ZoneWAN:
		if v6 {
			return l.wan6.Addr(), nil
		}
		return l.wan4.Addr(), nil
	}
	ifname := l.voiceIf
	if pkt.Zone == lang.ZoneLAN {
		ifname = netnstest.LANIf
	}
	var first netip.Addr
	for _, pf := range l.gwPfx[ifname] {
		if pf.Addr().Is6() != v6 {
			continue
		}
		if pf.Masked().Contains(pkt.Src.Unmap()) {
			return pf.Addr(), nil
		}
		if !first.IsValid() {
			first = pf.Addr()
		}
	}
	if first.IsValid() {
		return first, nil
	}
	return netip.Addr{}, fmt.Errorf("the gateway has no IPv%s address on %s", map[bool]string{false: "4", true: "6"}[v6], ifname)
}

// agreePlan lays the topology out for the policy.
func agreePlan(p *lang.Policy) (*agreeLayout, error) {
	tgt := p.Target(vw.Spec.TargetSpec)
	if tgt.WAN != netnstest.WANIf || tgt.LAN != netnstest.LANIf {
		return nil, fmt.Errorf("target nftables uses wan=%s lan=%s; the topology has %s and %s", tgt.WAN, tgt.LAN, netnstest.WANIf, netnstest.LANIf)
	}
	l := &agreeLayout{p: p, place: map[netip.Addr]string{}, gwPfx: map[string][]netip.Prefix{}, filled: map[string]netip.Addr{}}
	switch len(p.VoiceVLANs) {
	case 0:
		l.voiceIf = fmt.Sprintf("%s.%d", netnstest.LANIf, 20)
	case 1:
		l.vlan = p.VoiceVLANs[0]
		if l.vlan.Parent != lang.ZoneLAN {
			return nil, fmt.Errorf("voice VLAN %s is on %s; the topology has voice VLANs on the LAN only", l.vlan.Name, l.vlan.Parent)
		}
		l.voiceIf = tgt.VLANInterface(l.vlan)
	default:
		return nil, fmt.Errorf("%d voice VLANs; the topology has one", len(p.VoiceVLANs))
	}

	var b netipx.IPSetBuilder
	for _, ref := range p.Sets() {
		b.AddSet(ref.Set.IPSet())
	}
	for _, v := range p.VoiceVLANs {
		b.AddSet(v.Subnets.IPSet())
		b.AddSet(v.Management.IPSet())
	}
	for _, x := range p.PBXes {
		if x.Address.IsValid() {
			b.Add(x.Address.Unmap())
		}
	}
	for _, x := range p.Expects {
		b.Add(x.From.Unmap())
		if x.To.IsValid() {
			b.Add(x.To.Unmap())
		}
	}
	var err error
	if l.universe, err = b.IPSet(); err != nil {
		return nil, err
	}

	// Where each address lives: PBXes first (the PBX host is the PBX), then
	// every expect's source and where it is delivered.
	for _, x := range p.PBXes {
		if x.Address.IsValid() {
			if err := l.put(x.Address, l.hostFor(x.Zone, x.Address)); err != nil {
				return nil, err
			}
		}
	}
	for _, x := range p.Expects {
		c := &agreeCase{x: x, pkt: x.Packet()}
		c.res = p.Evaluate(c.pkt)
		if z := c.pkt.Zone; z != "" && z != lang.ZoneWAN && z != lang.ZoneLAN && (l.vlan == nil || z != l.vlan.Name) {
			return nil, fmt.Errorf("expect %q: unknown zone %s", x.Name, z)
		}
		c.from = l.hostFor(c.pkt.Zone, c.pkt.Src)
		if err := l.put(c.pkt.Src, c.from); err != nil {
			return nil, fmt.Errorf("expect %q: %v", x.Name, err)
		}
		c.arrive = c.pkt.Dst.Unmap()
		if c.res.DNAT.IsValid() {
			c.arrive = c.res.DNAT.Unmap()
		}
		c.to = "gw"
		if c.arrive.IsValid() {
			c.to = l.hostFor(c.res.OutZone, c.arrive)
			if err := l.put(c.arrive, c.to); err != nil {
				return nil, fmt.Errorf("expect %q: %v", x.Name, err)
			}
		}
		if c.pkt.Src.Unmap().Is6() || c.arrive.Is6() {
			l.v6 = true
		}
		l.cases = append(l.cases, c)
	}

	// The gateway's prefixes behind the LAN and on the voice VLAN: the
	// VLAN's subnets, then a /24 (/64) around every host address not in one.
	if l.vlan != nil {
		for _, sp := range l.vlan.SubnetPrefixes {
			if err := l.addGW(l.voiceIf, sp.Masked()); err != nil {
				return nil, err
			}
		}
	}
	for _, a := range l.order {
		ifname := l.gwIf(l.place[a])
		if ifname == netnstest.WANIf {
			continue
		}
		if _, ok := l.covering(ifname, a); ok {
			continue
		}
		if err := l.addGW(ifname, agreeAround(a)); err != nil {
			return nil, err
		}
	}
	// Fillers: netnstest wants IPv4 on the LAN and the voice link even when
	// the policy has none there.
	for _, f := range []struct {
		ifname, host string
		cands        []string
	}{
		{netnstest.LANIf, "pbx", []string{"10.20.0.0/24", "10.99.0.0/24", "172.31.253.0/24"}},
		{l.voiceIf, "phone", []string{"10.30.0.0/24", "10.98.0.0/24", "172.31.252.0/24"}},
	} {
		if l.first4(f.ifname).IsValid() {
			continue
		}
		pf, err := l.free(f.cands)
		if err != nil {
			return nil, err
		}
		if err := l.addGW(f.ifname, pf); err != nil {
			return nil, err
		}
	}
	// The WAN: the gateway's addresses outside everything the policy names.
	if l.wan4, err = l.free([]string{"100.64.0.0/24", "100.64.77.0/24", "172.31.254.0/24"}); err != nil {
		return nil, err
	}
	l.wan4 = netip.PrefixFrom(l.wan4.Addr().Next(), l.wan4.Bits())
	if l.wan6, err = l.free([]string{"fd00:64::/64", "fd00:64:77::/64"}); err != nil {
		return nil, err
	}
	l.wan6 = netip.PrefixFrom(l.wan6.Addr().Next(), l.wan6.Bits())
	for _, a := range l.order {
		if l.gwIf(l.place[a]) != netnstest.WANIf {
			continue
		}
		for _, ifname := range []string{netnstest.LANIf, l.voiceIf} {
			if pf, ok := l.covering(ifname, a); ok {
				return nil, fmt.Errorf("%v must be on the Internet side but lies in the gateway's %s prefix %v", a, ifname, pf.Masked())
			}
		}
	}

	// netnstest's own plan: the first IPv4 host of each kind.
	l.cfg = netnstest.Config{GWWAN: l.wan4, VoiceLink: netnstest.VoiceLinkAuto}
	if l.vlan != nil {
		l.cfg.VoiceVLAN = int(l.vlan.ID)
	}
	for _, h := range []string{"provider", "attacker", "pbx", "phone"} {
		var v4 []netip.Addr
		for _, a := range l.order {
			if l.place[a] == h && a.Is4() {
				v4 = append(v4, a)
			}
		}
		if len(v4) == 0 {
			a, err := l.fillHost(h)
			if err != nil {
				return nil, err
			}
			v4 = []netip.Addr{a}
			l.filled[h] = a
		}
		switch h {
		case "provider":
			l.cfg.Provider = v4
		case "attacker":
			l.cfg.Attacker = v4
		case "pbx":
			l.cfg.PBX = v4[0]
			l.cfg.GWLAN, _ = l.covering(netnstest.LANIf, v4[0])
		case "phone":
			l.cfg.Phone = v4[0]
			l.cfg.GWVoice, _ = l.covering(l.voiceIf, v4[0])
		}
	}
	return l, nil
}

// hostFor names the namespace an address of a zone lives in: provider
// addresses on the provider host, other Internet addresses on the attacker
// host, the LAN on the PBX host, the voice VLAN on the phone.
func (l *agreeLayout) hostFor(zone string, a netip.Addr) string {
	switch zone {
	case "", lang.ZoneWAN:
		for _, pr := range l.p.Providers {
			if pr.Signaling.Contains(a.Unmap()) || pr.Media.Contains(a.Unmap()) {
				return "provider"
			}
		}
		return "attacker"
	case lang.ZoneLAN:
		return "pbx"
	}
	return "phone"
}

func (l *agreeLayout) gwIf(host string) string {
	switch host {
	case "pbx":
		return netnstest.LANIf
	case "phone":
		return l.voiceIf
	}
	return netnstest.WANIf
}

func (l *agreeLayout) put(a netip.Addr, host string) error {
	a = a.Unmap()
	if old, ok := l.place[a]; ok {
		if old != host {
			return fmt.Errorf("%v would have to live on both the %s and the %s host", a, old, host)
		}
		return nil
	}
	l.place[a] = host
	l.order = append(l.order, a)
	return nil
}

// covering returns the gateway prefix on ifname that holds a.
func (l *agreeLayout) covering(ifname string, a netip.Addr) (netip.Prefix, bool) {
	for _, pf := range l.gwPfx[ifname] {
		if pf.Masked().Contains(a) {
			return pf, true
		}
	}
	return netip.Prefix{}, false
}

func (l *agreeLayout) first4(ifname string) netip.Addr {
	for _, pf := range l.gwPfx[ifname] {
		if pf.Addr().Is4() {
			return pf.Addr()
		}
	}
	return netip.Addr{}
}

// addGW gives the gateway an address in subnet on ifname: the first host
// address no test host uses.
func (l *agreeLayout) addGW(ifname string, subnet netip.Prefix) error {
	for other, pfs := range l.gwPfx {
		for _, pf := range pfs {
			if pf.Masked().Overlaps(subnet) && (other != ifname || pf.Masked() != subnet) {
				return fmt.Errorf("prefix %v on %s overlaps %v on %s", subnet, ifname, pf.Masked(), other)
			}
			if pf.Masked() == subnet {
				return nil
			}
		}
	}
	a := subnet.Addr().Next()
	for i := 0; i < 16 && subnet.Contains(a); i, a = i+1, a.Next() {
		if _, used := l.place[a]; !used {
			l.gwPfx[ifname] = append(l.gwPfx[ifname], netip.PrefixFrom(a, subnet.Bits()))
			return nil
		}
	}
	return fmt.Errorf("no free gateway address in %v", subnet)
}

// free returns the first candidate prefix that shares no address with the
// policy or the gateway's other prefixes.
func (l *agreeLayout) free(cands []string) (netip.Prefix, error) {
next:
	for _, s := range cands {
		pf := netip.MustParsePrefix(s)
		if l.universe.OverlapsPrefix(pf) {
			continue
		}
		for _, pfs := range l.gwPfx {
			for _, o := range pfs {
				if o.Masked().Overlaps(pf) {
					continue next
				}
			}
		}
		return pf, nil
	}
	return netip.Prefix{}, fmt.Errorf("every candidate of %v overlaps the policy's addresses", cands)
}

// fillHost picks an address for a host no expect uses (netnstest gives
// every host one).
func (l *agreeLayout) fillHost(h string) (netip.Addr, error) {
	var base netip.Addr
	switch h {
	case "provider":
		base = netip.MustParseAddr("100.64.200.9")
	case "attacker":
		base = netip.MustParseAddr("100.64.201.9")
	default:
		base = l.first4(l.gwIf(h))
	}
	a := base.Next()
	for i := 0; i < 32; i, a = i+1, a.Next() {
		if _, used := l.place[a]; used || l.universe.Contains(a) || a == l.wan4.Addr() {
			continue
		}
		if h == "provider" || h == "attacker" || a != l.first4(l.gwIf(h)) {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no free address for the %s host", h)
}

func agreeAround(a netip.Addr) netip.Prefix {
	if a.Is4() {
		return netip.PrefixFrom(a, 24).Masked()
	}
	return netip.PrefixFrom(a, 64).Masked()
}

// extend adds what netnstest.Config cannot say: the gateway's further
// prefixes and IPv6, the hosts' further addresses and routes, and static
// neighbor entries between the gateway and every test address (so no
// ARP/NDP crosses the firewall: an IPv6 solicitation from a blocklisted
// source would be dropped by the blocklist and move its counter).
func (l *agreeLayout) extend(t *testing.T, tp *netnstest.Topology) {
	t.Helper()
	gw := tp.GW
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	inCfg := map[netip.Prefix]bool{l.cfg.GWWAN: true, l.cfg.GWLAN: true, l.cfg.GWVoice: true}
	for ifname, pfs := range l.gwPfx {
		for _, pf := range pfs {
			if !inCfg[pf] {
				must(netnstest.AddAddress(gw, ifname, pf))
			}
		}
	}
	if l.v6 {
		must(netnstest.WriteSysctl(gw.Handle, "net/ipv6/conf/all/forwarding", "1"))
		must(netnstest.AddAddress(gw, netnstest.WANIf, l.wan6))
		must(netnstest.AddRouteVia(gw, netnstest.WANIf, netip.PrefixFrom(netip.IPv6Unspecified(), 0), netip.Addr{}))
	}
	hostIf := func(h string) string {
		if h == "phone" {
			return tp.PhoneVoiceIf()
		}
		return netnstest.HostIf
	}
	macs := map[string]net.HardwareAddr{}
	mac := func(n *netnstest.NS, ifname string) net.HardwareAddr {
		k := n.Label + "/" + ifname
		if macs[k] == nil {
			m, err := netnstest.LinkMAC(n, ifname)
			must(err)
			macs[k] = m
		}
		return macs[k]
	}
	inHostCfg := map[netip.Addr]bool{l.cfg.PBX: true, l.cfg.Phone: true}
	for _, a := range append(slices.Clone(l.cfg.Provider), l.cfg.Attacker...) {
		inHostCfg[a] = true
	}
	routed6 := map[string]bool{}
	hosts := slices.Clone(l.order)
	for h, a := range l.filled {
		if h == "provider" || h == "attacker" {
			hosts = append(hosts, a)
			l.place[a] = h
		}
	}
	for _, a := range hosts {
		h := l.place[a]
		n, hif, gif := tp.NS(h), hostIf(h), l.gwIf(h)
		if gif == netnstest.WANIf {
			if !inHostCfg[a] {
				must(netnstest.AddAddress(n, hif, netip.PrefixFrom(a, a.BitLen())))
			}
			if a.Is6() && !routed6[h] {
				routed6[h] = true
				must(netnstest.AddRouteVia(n, hif, l.wan6.Masked(), netip.Addr{}))
				must(netnstest.AddRouteVia(n, hif, netip.Prefix{}, l.wan6.Addr()))
			}
			gwa := l.wan4.Addr()
			if a.Is6() {
				gwa = l.wan6.Addr()
			}
			must(netnstest.AddNeighbor(n, hif, gwa, mac(gw, gif)))
		} else {
			pf, _ := l.covering(gif, a)
			if !inHostCfg[a] {
				must(netnstest.AddAddress(n, hif, netip.PrefixFrom(a, pf.Bits())))
			}
			if a.Is6() && !routed6[h] {
				routed6[h] = true
				must(netnstest.AddRouteVia(n, hif, netip.Prefix{}, pf.Addr()))
			}
			for _, g := range l.gwPfx[gif] {
				if g.Addr().Is6() == a.Is6() {
					must(netnstest.AddNeighbor(n, hif, g.Addr(), mac(gw, gif)))
				}
			}
		}
		must(netnstest.AddNeighbor(gw, gif, a, mac(n, hif)))
	}
}

// agreeRuntimeState adds the packet's source to the run-time set its
// expect names (remote_trusted_* for trusted, banned_* for banned) and
// returns what removes it again.
func agreeRuntimeState(t *testing.T, tg *Target, pkt lang.Packet) func() {
	t.Helper()
	if !pkt.Trusted && !pkt.Banned {
		return func() {}
	}
	src := pkt.Src.Unmap()
	fam := "_v4"
	if src.Is6() {
		fam = "_v6"
	}
	c := LiveChange{Set: "remote_trusted" + fam}
	if pkt.Banned {
		c = LiveChange{Set: "banned" + fam, Interval: true}
	}
	e := LiveElem{Range: netipx.RangeOfPrefix(netip.PrefixFrom(src, src.BitLen())), Timeout: time.Minute, Reason: "test"}
	c.Add = []LiveElem{e}
	if _, err := ApplyLive(tg, c); err != nil {
		t.Fatalf("adding %s to %s: %v", src, c.Set, err)
	}
	return func() {
		if _, err := ApplyLive(tg, LiveChange{Set: c.Set, Interval: c.Interval, Del: []LiveElem{e}}); err != nil {
			t.Errorf("removing %s from %s: %v", src, c.Set, err)
		}
	}
}
