package nftables

import (
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

// TestHandWrittenRefused: what the reader cannot give a meaning to is an
// error naming the file and line and saying audit cannot judge the
// ruleset, never a partial read.
func TestHandWrittenRefused(t *testing.T) {
	const head = "table inet f {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
	for _, c := range []struct{ text, line, why string }{
		{"include \"/etc/nftables.d/*.nft\"\n", "gw.nft:1:", "audit reads one file"},
		{"table bridge br {\n}\n", "gw.nft:1:", "bridge tables"},
		{"table netdev ing {\n}\n", "gw.nft:1:", "netdev tables"},
		{"define WAN = eth0\n" + head + "\t\tiifname $LAN accept\n\t}\n}\n", "gw.nft:5:", "$LAN is not defined"},
		{head + "\t}\n\tchain input2 {\n\t\ttype filter hook input priority 10; policy accept;\n\t}\n}\n", "gw.nft:5:", "a second filter chain on hook input"},
		{"table ip nat {\n\tchain post {\n\t\ttype nat hook postrouting priority srcnat;\n\t\toifname \"eth0\" udp dport 5060 drop\n\t}\n}\n", "gw.nft:4:", "drop on hook postrouting"},
		{"table inet f {\n\tchain post {\n\t\ttype filter hook postrouting priority 0; policy drop;\n\t}\n}\n", "gw.nft:3:", "policy drop on hook postrouting"},
		{head + "\t\tjump a\n\t}\n\tchain a {\n\t\tudp dport 5060 goto b\n\t\taccept\n\t}\n\tchain b {\n\t}\n}\n", "gw.nft:7:", "goto in a chain jumped to"},
		{head + "\t\tjump a\n\t}\n\tchain a {\n\t\tudp dport 5060 return\n\t\taccept\n\t}\n}\n", "gw.nft:7:", "return under a match"},
		{head + "\t\tip saddr . udp dport vmap { 192.0.2.1 . 5060 : accept }\n\t}\n}\n", "gw.nft:4:", "concatenation"},
		{head + "\t\tjump nowhere\n\t}\n}\n", "gw.nft:4:", "no such chain"},
		{head + "\t\tct helper \"sip\" accept\n\t}\n}\n", "gw.nft:4:", "ct helper"},
		{head + "\t\tmeta mark 1 accept\n\t}\n}\n", "gw.nft:4:", "meta mark"},
		{"table inet f {\n\tset ports {\n\t\ttype inet_service\n\t\telements = { 5060, 5061 }\n\t}\n}\n", "gw.nft:4:", "set ports"},
		{"table inet f {\n\tchain e {\n\t\ttype filter hook ingress device eth0 priority 0;\n\t}\n}\n", "gw.nft:2:", "hook ingress"},
		{"add rule inet f input udp dport 5060 accept\n", "gw.nft:1:", "unexpected"},
	} {
		_, err := ReadDevice("gw.nft", []byte(c.text))
		if err == nil {
			t.Errorf("%q: read", c.text)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, c.line) || !strings.Contains(msg, c.why) || !strings.HasSuffix(msg, "(audit cannot judge this ruleset)") {
			t.Errorf("%q: %v; want %s ... %s ... (audit cannot judge this ruleset)", c.text, err, c.line, c.why)
		}
	}
}

// filterForms is a hand-written filter ruleset in the forms gateways use:
// an input chain with verdict maps, a jump to a user chain that returns,
// a goto from the base chain, an unconditional return at a chain's end, a
// forward chain deciding by ct status dnat. Comments say what nft(8) says
// each packet meets.
const filterForms = `table inet vwtest {
	set trusted {
		type ipv4_addr
		flags interval
		elements = { 198.51.100.67 }
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ct state vmap { established : accept, related : accept, invalid : drop }
		iifname "lo" accept
		udp dport 7104 goto sip_in
		udp dport 7104 accept
		iifname vmap { "eth0" : jump wan_in }
		udp dport { 7103, 7105 } accept
	}

	chain wan_in {
		udp dport vmap { 7101 : accept, 7102 : drop, 7103 : jump sip_in }
		udp dport 7105 jump ret
		udp dport 7106 reject
	}

	chain sip_in {
		ip saddr @trusted counter accept
	}

	chain ret {
		ip saddr @trusted drop
		return
		accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct status dnat udp dport 7202 drop
		ct status dnat accept
	}
}
table ip vwnat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "eth0" udp dport { 7201, 7202 } dnat to 10.20.0.10
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" masquerade
	}
}
`

// TestFilterFormsKernel: the running kernel, with real datagrams from a
// stranger (198.51.100.66) and a trusted source (198.51.100.67) to the
// gateway (input) and through it (forward), against the reader's model of
// the same ruleset as written and as nft lists it back: every datagram is
// delivered exactly when the model's Evaluate accepts it. 7101 accept,
// 7102 drop (vmap); 7103 the jump's chain accepts the trusted source and
// returns the stranger, whom input's later rule accepts; 7104 the goto's
// chain accepts the trusted source, and the stranger meets the policy
// (the accept after the goto is not reached); 7105 the trusted source is
// dropped, the stranger returned (the rule after return is dead) and
// accepted; 7106 rejected; 7108 no rule: policy drop; 7201 forwarded by
// ct status dnat accept, 7202 dropped before it.
func TestFilterFormsKernel(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft")
	tp := netnstest.New(t)
	path := filepath.Join(t.TempDir(), "filter.nft")
	if err := os.WriteFile(path, []byte(filterForms), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := tp.GW.Run("nft", "-f", path); err != nil {
		t.Fatalf("nft -f: %v\n%s", err, out)
	}
	listed, err := tp.GW.Run("nft", "list", "ruleset")
	if err != nil {
		t.Fatalf("nft list ruleset: %v\n%s", err, listed)
	}
	wan := tp.Config.GWWAN.Addr()
	local := []uint16{7101, 7102, 7103, 7104, 7105, 7106, 7108}
	fwd := []uint16{7201, 7202}
	type key struct {
		src  netip.Addr
		port uint16
	}
	ls := map[uint16]*netnstest.UDPListener{}
	for _, p := range local {
		ls[p] = netnstest.ListenUDP(t, tp.GW, netip.AddrPortFrom(wan, p))
	}
	for _, p := range fwd {
		ls[p] = netnstest.ListenUDP(t, tp.PBX, netip.AddrPortFrom(tp.Config.PBX, p))
	}
	srcs := tp.Config.Attacker[:2]
	got := map[key]bool{}
	for _, p := range append(slices.Clone(local), fwd...) {
		for i, s := range srcs {
			before := ls[p].Count()
			if err := netnstest.SendUDPFrom(tp.Attacker, netip.AddrPortFrom(s, uint16(43000+int(p)%1000*2+i)), netip.AddrPortFrom(wan, p), []byte("probe")); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(400 * time.Millisecond)
			for time.Now().Before(deadline) && ls[p].Count() == before {
				time.Sleep(10 * time.Millisecond)
			}
			got[key{s, p}] = ls[p].Count() > before
		}
	}
	for k, v := range got {
		t.Logf("%v to %d: delivered %v", k.src, k.port, v)
	}
	route := func(dst netip.Addr, in string) string { return "eth1" }
	for _, text := range []string{filterForms, listed} {
		d, err := ReadDevice("filter.nft", []byte(text))
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		n := 0
		for k, delivered := range got {
			res := d.Evaluate(devmodel.Packet{In: "eth0", Src: k.src, SrcPort: 43000, Proto: devmodel.UDP, DstPort: k.port}, route)
			if (res.Verdict == devmodel.Accept) != delivered {
				t.Errorf("%v to %d: the kernel delivered it: %v; the model: %v by %s", k.src, k.port, delivered, res.Verdict, res.Where())
			}
			if delivered {
				n++
			}
		}
		if n == 0 || n == len(got) {
			t.Errorf("%d of %d delivered: the test proves nothing", n, len(got))
		}
	}
}

// A ct helper object of type "sip" assigned by a rule is the kernel's SIP
// ALG: a SIP helper setting at the assigning rule's line (what audit
// reports as VW301); the rule's other statements still decide. The text
// is as `nft list ruleset` printed it after `nft -f` loaded the written
// form in a namespace (nftables 1.0.6).
func TestReadCtHelper(t *testing.T) {
	const listed = `table inet filter {
	ct helper sip-5060 {
		type "sip" protocol udp
		l3proto inet
	}

	ct helper ftp-21 {
		type "ftp" protocol tcp
		l3proto inet
	}

	chain prerouting {
		type filter hook prerouting priority filter; policy accept;
		udp dport 5060 ct helper set "sip-5060"
		tcp dport 21 ct helper set "ftp-21"
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		udp dport 5060 ip saddr 203.0.113.10 ct helper set "sip-5060" accept
	}
}
`
	d, err := ReadDevice("gw.nft", []byte(listed))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.SIPHelpers) != 2 || d.SIPHelpers[0].Loc.Line != 14 || d.SIPHelpers[1].Loc.Line != 21 || !strings.Contains(d.SIPHelpers[0].What, `type "sip"`) {
		t.Fatalf("SIP helpers: %+v", d.SIPHelpers)
	}
	accepted := false
	for _, r := range d.Rules {
		accepted = accepted || r.Loc.Line == 21 && r.Action == devmodel.Accept
	}
	if !accepted {
		t.Error("the rule that assigns the helper and accepts no longer accepts")
	}
	if _, err := ReadDevice("gw.nft", []byte(strings.Replace(listed, `ct helper sip-5060 {`, `ct helper sip-other {`, 1))); err == nil || !strings.Contains(err.Error(), `ct helper "sip-5060" is not defined`) {
		t.Errorf("an undefined helper: %v", err)
	}
}
