package audit

import (
	"fmt"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
)

// bigFortiGate is a backup of a large site: n addresses, n policies from
// the LAN to the WAN.
func bigFortiGate(n int) []byte {
	var b strings.Builder
	b.WriteString("#config-version=FG600E-7.4.3\nconfig system interface\n    edit \"wan1\"\n        set role wan\n    next\nend\nconfig firewall address\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    edit \"host-%d\"\n        set subnet 10.%d.%d.0 255.255.255.0\n    next\n", i, i/256%256, i%256)
	}
	b.WriteString("end\nconfig firewall policy\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    edit %d\n        set name \"p %d\"\n        set srcintf \"internal\"\n        set dstintf \"wan1\"\n        set srcaddr \"host-%d\"\n        set dstaddr \"all\"\n        set action accept\n        set service \"HTTPS\" \"DNS\"\n    next\n", i+1, i, i)
	}
	b.WriteString("end\n")
	return []byte(b.String())
}

// wanFortiGate is n WAN policies admitting SIP from one partner network
// each to a host of their own, then (deny) a deny of SIP from all, then an
// accept of SIP from all: the suspect every source class must be probed
// for, open (deny false) or shadowed (deny true).
func wanFortiGate(n int, deny bool) []byte {
	var b strings.Builder
	b.WriteString("config system interface\n    edit \"wan1\"\n        set role wan\n    next\n    edit \"internal\"\n        set role lan\n        set ip 10.20.0.1 255.255.255.0\n    next\nend\nconfig firewall address\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    edit \"net-%d\"\n        set subnet 100.%d.%d.0 255.255.255.0\n    next\n", i, 64+i/256%64, i%256)
	}
	b.WriteString("end\nconfig firewall policy\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    edit %d\n        set srcintf \"wan1\"\n        set dstintf \"internal\"\n        set srcaddr \"net-%d\"\n        set dstaddr \"net-%d\"\n        set action accept\n        set service \"SIP\"\n    next\n", i+1, i, (i+1)%n)
	}
	if deny {
		b.WriteString("    edit 99998\n        set srcintf \"wan1\"\n        set dstintf \"internal\"\n        set srcaddr \"all\"\n        set dstaddr \"all\"\n        set action deny\n        set service \"SIP\"\n    next\n")
	}
	b.WriteString("    edit 99999\n        set srcintf \"wan1\"\n        set dstintf \"internal\"\n        set srcaddr \"all\"\n        set dstaddr \"all\"\n        set action accept\n        set service \"SIP\"\n    next\nend\n")
	return []byte(b.String())
}

// nestedGroups is `levels` levels of groups of `k` members each (every
// group of a level names every group of the level below), the top one the
// source of a WAN SIP policy: 17 levels of 4 ran for minutes when each
// path through the nesting was resolved again.
func nestedGroups(target string, levels, k int) []byte {
	var b strings.Builder
	name := func(l, j int) string {
		if l < 0 {
			return fmt.Sprintf("198.18.%d.0/24", j)
		}
		return fmt.Sprintf("g%d_%d", l, j)
	}
	members := func(l int, sep string, quote bool) string {
		var m []string
		for j := 0; j < k; j++ {
			n := name(l-1, j)
			if l == 0 && !quote {
				n = fmt.Sprintf("198.18.%d.0/24", j)
			} else if l == 0 {
				n = fmt.Sprintf("a%d", j)
			}
			if quote {
				n = `"` + n + `"`
			}
			m = append(m, n)
		}
		return strings.Join(m, sep)
	}
	if target == "fortigate" {
		b.WriteString("config system interface\n    edit \"wan1\"\n        set role wan\n    next\nend\nconfig firewall address\n")
		for j := 0; j < k; j++ {
			fmt.Fprintf(&b, "    edit \"a%d\"\n        set subnet 198.18.%d.0 255.255.255.0\n    next\n", j, j)
		}
		b.WriteString("end\nconfig firewall addrgrp\n")
		for l := 0; l < levels; l++ {
			for j := 0; j < k; j++ {
				fmt.Fprintf(&b, "    edit %q\n        set member %s\n    next\n", name(l, j), members(l, " ", true))
			}
		}
		fmt.Fprintf(&b, "end\nconfig firewall policy\n    edit 1\n        set srcintf \"wan1\"\n        set dstintf \"internal\"\n        set srcaddr %q\n        set dstaddr \"all\"\n        set action accept\n        set service \"SIP\"\n    next\nend\n", name(levels-1, 0))
		return []byte(b.String())
	}
	b.WriteString("<?xml version=\"1.0\"?>\n<pfsense>\n<aliases>\n")
	for l := 0; l < levels; l++ {
		for j := 0; j < k; j++ {
			fmt.Fprintf(&b, "<alias><name>%s</name><type>network</type><address>%s</address></alias>\n", name(l, j), members(l, " ", false))
		}
	}
	fmt.Fprintf(&b, "</aliases>\n<filter><rule><type>pass</type><interface>wan</interface><protocol>udp</protocol><source><address>%s</address></source><destination><any/><port>5060</port></destination></rule></filter>\n</pfsense>\n", name(levels-1, 0))
	return []byte(b.String())
}

func benchAudit(b *testing.B, target string, src []byte, policy string) {
	var o Options
	o.Target = target
	if policy != "" {
		p, diags := registry.Load(policy)
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		o.Policy = p
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		d, err := Read(target, "big", src)
		if err != nil {
			b.Fatal(err)
		}
		Check(d, src, o)
	}
}

// BenchmarkAuditLargeFortiGate: read, check and drift-check a 10,000-policy
// backup against an example policy (goal: under 2 s).
func BenchmarkAuditLargeFortiGate(b *testing.B) {
	benchAudit(b, "fortigate", bigFortiGate(10000), "../examples/dual-stack")
}

// BenchmarkAuditWANPolicies: 10,000 WAN SIP policies from partner
// networks and an accept of SIP from all below them, open (every source
// class a candidate) and shadowed by a deny of SIP from all (goal: under
// 2 s each; 2,000 shadowed took 21 s).
func BenchmarkAuditWANPolicies(b *testing.B) {
	b.Run("open", func(b *testing.B) { benchAudit(b, "fortigate", wanFortiGate(10000, false), "") })
	b.Run("shadowed", func(b *testing.B) { benchAudit(b, "fortigate", wanFortiGate(10000, true), "") })
}

// BenchmarkAuditNestedGroups: 17 levels of 4-member groups (goal: under
// 1 s; they ran for minutes).
func BenchmarkAuditNestedGroups(b *testing.B) {
	b.Run("fortigate", func(b *testing.B) { benchAudit(b, "fortigate", nestedGroups("fortigate", 17, 4), "") })
	b.Run("pfsense", func(b *testing.B) { benchAudit(b, "pfsense", nestedGroups("pfsense", 17, 4), "") })
}

// openForwards is n SIP forwards open to any source, each with the filter
// rule that admits it, in the target's own syntax: FortiGate VIPs of
// 5060/udp with a policy from all each, pfSense port forwards with their
// WAN pass rules, Vigor port redirections (each suspect was evaluated over
// every rule: the audit cost the square of n).
func openForwards(target string, n int) []byte {
	var b strings.Builder
	ext := func(i int) string { return fmt.Sprintf("198.18.%d.%d", i/250, 1+i%250) }
	in := func(i int) string { return fmt.Sprintf("10.20.%d.%d", i/250, 1+i%250) }
	switch target {
	case "fortigate":
		b.WriteString("config system interface\n    edit \"wan1\"\n        set role wan\n    next\n    edit \"internal\"\n        set role lan\n        set ip 10.20.0.254 255.255.0.0\n    next\nend\nconfig firewall vip\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "    edit \"sip-%d\"\n        set extip %s\n        set mappedip \"%s\"\n        set extintf \"wan1\"\n        set portforward enable\n        set protocol udp\n        set extport 5060\n        set mappedport 5060\n    next\n", i, ext(i), in(i))
		}
		b.WriteString("end\nconfig firewall policy\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "    edit %d\n        set srcintf \"wan1\"\n        set dstintf \"internal\"\n        set srcaddr \"all\"\n        set dstaddr \"sip-%d\"\n        set action accept\n        set service \"SIP\"\n    next\n", i+1, i)
		}
		b.WriteString("end\n")
	case "pfsense":
		b.WriteString("<?xml version=\"1.0\"?>\n<pfsense>\n<interfaces><wan><if>em0</if><ipaddr>dhcp</ipaddr></wan><lan><if>em1</if><ipaddr>10.20.0.254</ipaddr><subnet>16</subnet></lan></interfaces>\n<nat>\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "<rule><interface>wan</interface><protocol>udp</protocol><source><any/></source><destination><address>%s</address><port>5060</port></destination><target>%s</target><local-port>5060</local-port><associated-rule-id>nat_%d</associated-rule-id></rule>\n", ext(i), in(i), i)
		}
		b.WriteString("</nat>\n<filter>\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "<rule><type>pass</type><interface>wan</interface><protocol>udp</protocol><source><any/></source><destination><address>%s</address><port>5060</port></destination><associated-rule-id>nat_%d</associated-rule-id></rule>\n", in(i), i)
		}
		b.WriteString("</filter>\n</pfsense>\n")
	case "draytek":
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "srv nat openport %d 1 -a 1 -c sip%d -i %s -w 1 1 -p %s -s %d -e %d -l 0 -g 0\n", i+1, i, in(i), []string{"UDP", "TCP"}[i%2], 5060+i%2, 5060+i%2)
		}
	}
	return []byte(b.String())
}

// insideForwards is n forwards open to any source from outside ports
// 20000+i onto SIP 5060 of a host each (FortiGate VIPs with their
// policies, Vigor port redirections): every one a suspect of its own
// services.
func insideForwards(target string, n int) []byte {
	src := string(openForwards(target, n))
	var b strings.Builder
	switch target {
	case "fortigate":
		for i, part := range strings.Split(src, "        set extport 5060\n") {
			if i > 0 {
				fmt.Fprintf(&b, "        set extport %d\n", 20000+i-1)
			}
			b.WriteString(part)
		}
	case "draytek":
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "srv nat portmap add %d alt%d udp %d 0 0 10.20.%d.%d 5060 wan1 1\n", i+1, i, 20000+i, i/250, 1+i%250)
		}
	case "nftables":
		// each a dnat to a range holding 5060, which the kernel picks from;
		// the filter drops some of the picks
		b.WriteString("table inet gw {\n\tchain fwd {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tudp dport 5061-5063 drop\n\t\tudp dport 5066 drop\n\t}\n")
		b.WriteString("\tchain nat_pre {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "\t\tiifname \"eth0\" udp dport %d dnat ip to 10.20.%d.%d:5060-5069\n", 20000+i, i/250, 1+i%250)
		}
		b.WriteString("\t}\n}\n")
	}
	return []byte(b.String())
}

// BenchmarkAuditOpenForwards: 100, 1,000 and 5,000 open SIP forwards on
// each vendor target (goal: the time in proportion to n); inside-*: each
// from its own outside port onto SIP inside (nftables: onto a range holding
// it, each port of which is probed).
func BenchmarkAuditOpenForwards(b *testing.B) {
	for _, target := range []string{"fortigate", "pfsense", "draytek"} {
		for _, n := range []int{100, 1000, 5000} {
			b.Run(fmt.Sprintf("%s/%d", target, n), func(b *testing.B) { benchAudit(b, target, openForwards(target, n), "") })
		}
	}
	for _, target := range []string{"fortigate", "draytek", "nftables"} {
		for _, n := range []int{100, 1000, 5000} {
			b.Run(fmt.Sprintf("inside-%s/%d", target, n), func(b *testing.B) { benchAudit(b, target, insideForwards(target, n), "") })
		}
	}
}
