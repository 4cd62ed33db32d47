package fortigate

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/voicewall/voicewall/backends"
)

// ---------------------------------------------------------------- render

func (c *compiler) render() string {
	w := &writer{}
	w.comment("voicewall: FortiOS CLI script (" + FileName + "), generated; do not edit by hand.")
	w.comment(fmt.Sprintf("Target FortiOS %s, WAN interface %s, LAN interface %s%s.", c.ver, c.t.WAN, c.t.LAN, map[bool]string{true: ", VDOM " + c.vdom, false: ""}[c.vdom != ""]))
	w.comment("Paste the whole script into the CLI (or run it as a script); pasting it again changes nothing.")
	w.comment("voicewall owns: objects named vw-*, firewall policies " + strconv.Itoa(policyIDBase) + "-" + strconv.Itoa(policyIDBase+policyIDSpan-1) + ",")
	w.comment(fmt.Sprintf("local-in policies from %d and DoS policies from %d, and the VoIP ALG settings below.", localInIDBase, dosIDBase))
	if c.base == nil {
		w.comment("Compiled without --base: what an earlier voicewall version created and this policy no longer")
		w.comment("has is NOT deleted, and the policies are not moved above yours. Compile with --base set to")
		w.comment("a backup of this FortiGate (or the fortigate.conf pasted last time) to get those commands.")
	} else {
		w.comment("Compiled with --base: stale voicewall objects are deleted at the end, and voicewall's policies")
		w.comment("are moved above the first policy of your own.")
	}
	clean := func(s string) string { return commentText(s, 400) }
	for _, l := range slices.Concat(backends.Listing("ACTION REQUIRED (this script cannot do it):", c.actions, clean),
		backends.Listing("NOT ENFORCED on this FortiGate:", c.Gaps.Lines, clean), backends.Listing("Notes:", c.notes, clean),
		backends.Listing("Provider ranges from the catalog and DNS (fixed here until the next compile):", backends.ProviderSources(c.p), clean)) {
		w.comment(l)
	}
	w.blank()

	if c.vdom != "" {
		if len(c.ifaces) > 0 {
			w.config("global")
			c.renderInterfaces(w)
			w.end()
			w.blank()
		}
		w.config("vdom")
		w.edit(q(c.vdom))
	} else {
		c.renderInterfaces(w)
	}
	c.renderALG(w)
	c.renderAddresses(w)
	c.renderServices(w)
	c.renderVIPs(w)
	c.renderVIPs6(w)
	c.renderPolicies(w)
	c.renderLocalIn(w)
	c.renderDoS(w)
	c.renderStale(w)
	if c.vdom != "" {
		w.next()
		w.end()
	}
	return w.b.String()
}

func (c *compiler) renderALG(w *writer) {
	w.comment("SIP ALG off: SIP is not handed to the VoIP proxy (ALG); the kernel SIP helper does no")
	w.comment("expectation (pinholes) and no NAT tracing. voicewall's own services also set helper disable.")
	w.config("system settings")
	w.set("default-voip-alg-mode", "kernel-helper-based")
	if c.ver.sipHelperSetting() {
		w.set("sip-helper", "disable")
	}
	if c.ver.sipExpectation() {
		w.set("sip-expectation", "disable")
	}
	w.set("sip-nat-trace", "disable")
	w.end()
	w.blank()
	w.comment("SIP session helper: FortiOS keeps it in config system session-helper under an id that")
	w.comment("differs between builds, and the CLI cannot delete an entry by name. Find the id with")
	w.comment("    show system session-helper | grep -f sip")
	w.comment("(the edit N whose set name is sip, protocol 17, port 5060).")
	switch {
	case len(c.sipHelperIDs) > 0:
		w.comment(c.sipHelperWhy + ": deleting it. Pasting again reports entry not found, which is")
		w.comment("harmless. Re-enabling the ALG later may need a reboot.")
		w.config("system session-helper")
		for _, id := range c.sipHelperIDs {
			w.line("delete " + id)
		}
		w.end()
	case c.sipHelperWhy != "":
		w.comment(c.sipHelperWhy + ".")
	default:
		w.comment("NOT DELETED by this script (see ACTION REQUIRED at the top): delete it by hand")
		w.comment("(config system session-helper / delete N / end), set sip_helper_index = N in target")
		w.comment("fortigate, or compile with --base <backup>. Never delete an id blindly.")
	}
	w.blank()
}

func (c *compiler) renderInterfaces(w *writer) {
	if len(c.ifaces) == 0 {
		return
	}
	vdom := c.vdom
	if vdom == "" {
		vdom = "root"
	}
	w.comment("Voice VLAN interfaces (tagged on their parent interface).")
	table(w, "system interface", c.ifaces, func(vi *vlanIface) string { return q(vi.name) }, func(vi *vlanIface) {
		w.setq("vdom", vdom)
		w.setq("interface", vi.parent)
		w.set("vlanid", strconv.Itoa(int(vi.id)))
		if vi.ip4.IsValid() {
			w.set("ip", vi.ip4.Addr().String(), maskText(vi.ip4.Bits()))
		}
		w.set("allowaccess", "ping")
		w.set("role", "lan")
		w.setq("description", text(vi.comment, maxComment))
		if vi.ip6.IsValid() {
			w.config("ipv6")
			w.set("ip6-address", vi.ip6.String())
			w.end()
		}
	})
}

func maskText(bits int) string {
	var b [4]byte
	for i := 0; i < bits; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(b).String()
}

func (c *compiler) renderAddresses(w *writer) {
	for _, v6 := range []bool{false, true} {
		if len(c.addrs[v6]) > 0 {
			table(w, map[bool]string{false: "firewall address", true: "firewall address6"}[v6], c.addrs[v6], func(a *address) string { return q(a.name) }, func(a *address) {
				p, isPrefix := a.rng.Prefix()
				switch {
				case isPrefix && !v6:
					w.set("type", "ipmask")
					w.set("subnet", p.Addr().String(), maskText(p.Bits()))
				case isPrefix:
					w.set("type", "ipprefix")
					w.set("ip6", p.String())
				default:
					w.set("type", "iprange")
					w.set("start-ip", a.rng.From().String())
					w.set("end-ip", a.rng.To().String())
				}
				w.setq("comment", text(a.comment, maxComment))
			})
		}
		if len(c.groups[v6]) > 0 {
			table(w, map[bool]string{false: "firewall addrgrp", true: "firewall addrgrp6"}[v6], c.groups[v6], func(g *addrGroup) string { return q(g.name) }, func(g *addrGroup) {
				w.setq("member", g.members...)
				w.setq("comment", text(g.comment, maxComment))
			})
		}
	}
	if len(c.feeds) > 0 {
		w.comment("Large blocklists as external threat feeds (IP address lists fetched by the FortiGate).")
		table(w, "system external-resource", c.feeds, func(f *feed) string { return q(f.name) }, func(f *feed) {
			w.set("status", "enable")
			w.set("type", "address")
			w.setq("resource", f.url)
			w.set("refresh-rate", strconv.Itoa(feedRefresh))
			w.setq("comments", text(f.comment, maxComment))
		})
	}
}

func (c *compiler) renderServices(w *writer) {
	if len(c.svcList) == 0 {
		return
	}
	w.comment("Services: one protocol each (udp and tcp never share a service); helper disable keeps")
	w.comment("every session helper (the SIP helper too) away from voicewall's flows.")
	table(w, "firewall service custom", c.svcList, func(s *service) string { return q(s.name) }, func(s *service) {
		w.set(s.proto.String()+"-portrange", s.item)
		w.set("helper", "disable")
		w.setq("comment", text(s.comment, maxComment))
	})
}

func (c *compiler) renderVIPs(w *writer) {
	if len(c.vips) == 0 {
		return
	}
	w.comment("Port forwards to the PBX, one protocol and port range each, only from the provider's addresses.")
	if c.wanIP == "0.0.0.0" {
		w.comment("extip 0.0.0.0 stands for the address of the external interface (set wan_ip to pin it).")
	}
	table(w, "firewall vip", c.vips, func(v *vip) string { return q(v.name) }, func(v *vip) { vipSettings(w, v, true) })
}

func (c *compiler) renderVIPs6(w *writer) {
	if len(c.vips6) == 0 {
		return
	}
	w.comment("IPv6 port forwards to the PBX's address6 on the WAN's IPv6 address (wan_address6), only from the provider's addresses.")
	table(w, "firewall vip6", c.vips6, func(v *vip) string { return q(v.name) }, func(v *vip) { vipSettings(w, v, false) })
}

// vipSettings are the settings of one entry of `config firewall vip` or
// `vip6`; only the IPv4 table names the external interface.
func vipSettings(w *writer, v *vip, extintf bool) {
	w.set("type", "static-nat")
	w.set("extip", v.extip)
	if extintf {
		w.setq("extintf", v.extintf)
	}
	w.set("portforward", "enable")
	w.set("protocol", v.proto)
	w.set("extport", v.ports)
	w.setq("mappedip", v.mapped)
	w.set("mappedport", v.ports)
	if len(v.srcFilter) > 0 { // remote phones' forward: from any source
		w.setq("src-filter", v.srcFilter...)
	}
	w.setq("comment", text(v.comment, maxComment))
}

func (c *compiler) renderPolicies(w *writer) {
	if len(c.policies) == 0 {
		return
	}
	first := c.firstForeignPolicy()
	w.comment("Firewall policies in voicewall's rule order (moved into that order at the end of the block).")
	if first != "" {
		w.comment("FortiOS evaluates policies top-down: the first move puts voicewall's policies above")
		w.comment("policy " + first + ", the first of your own in the base configuration.")
	} else {
		w.comment("FortiOS evaluates policies top-down, and a broader accept of your own above these wins. Put")
		w.comment(fmt.Sprintf("them first: config firewall policy / move %d before <id of your first policy> / end, then", c.policies[0].id))
		w.comment("paste this script again (its move ... after ... lines pull the others behind it).")
	}
	w.config("firewall policy")
	for _, p := range c.policies {
		w.editID(p.id)
		w.setq("name", p.name)
		w.set("status", "enable")
		w.setq("srcintf", p.srcintf...)
		w.setq("dstintf", p.dstintf...)
		if len(p.srcaddr) > 0 {
			w.setq("srcaddr", p.srcaddr...)
			w.setq("dstaddr", p.dstaddr...)
		}
		if len(p.srcaddr6) > 0 {
			w.setq("srcaddr6", p.srcaddr6...)
			w.setq("dstaddr6", p.dstaddr6...)
		}
		w.set("action", p.action)
		w.setq("schedule", "always")
		w.setq("service", p.service...)
		if p.action == "deny" && p.matchVIP {
			w.set("match-vip", "enable")
		}
		if p.action == "accept" {
			w.set("nat", map[bool]string{true: "enable", false: "disable"}[p.nat])
			if p.nat {
				w.set("fixedport", "enable")
			}
			if p.dscp != "" {
				w.set("diffserv-forward", "enable")
				w.set("diffservcode-forward", p.dscp)
			}
		}
		if p.logtraffic != "" {
			w.set("logtraffic", p.logtraffic)
		}
		w.setq("comments", "voicewall: "+text(p.comment, maxPolicyComment-20))
		w.next()
	}
	if first != "" {
		w.line(fmt.Sprintf("move %d before %s", c.policies[0].id, first))
	}
	for i := 1; i < len(c.policies); i++ {
		w.line(fmt.Sprintf("move %d after %d", c.policies[i].id, c.policies[i-1].id))
	}
	w.end()
	w.blank()
}

func (c *compiler) renderLocalIn(w *writer) {
	for _, v6 := range []bool{false, true} {
		list := c.localIn
		path := "firewall local-in-policy"
		if v6 {
			list, path = c.localIn6, "firewall local-in-policy6"
		}
		if len(list) == 0 {
			continue
		}
		if !v6 {
			w.comment("Traffic addressed to the FortiGate itself from the WAN, in the same order.")
			if !c.ver.localInLogtraffic() && c.p.LogsDrops() {
				w.comment(fmt.Sprintf("FortiOS %s has no per-policy logging on local-in policies; local-in denies are logged", c.ver))
				w.comment("when config log setting has set local-in-deny-unicast enable.")
			}
		}
		// Local-in policies match top-down like firewall policies: an admin's
		// earlier accept would shadow voicewall's denies, so they move too.
		first := c.firstForeign(path)
		if first != "" {
			w.comment(fmt.Sprintf("%s: the first move puts voicewall's above %s, the first of your own in the base configuration.", path, first))
		} else {
			w.comment(fmt.Sprintf("%s matches top-down: a broader accept of your own above these wins. Put them first:", path))
			w.comment(fmt.Sprintf("config %s / move %d before <id of your first local-in policy> / end, then paste this script again.", path, list[0].id))
		}
		w.config(path)
		for _, li := range list {
			w.edit(strconv.Itoa(li.id))
			w.setq("intf", li.intf)
			w.setq("srcaddr", li.srcaddr...)
			w.setq("dstaddr", li.dstaddr...)
			w.set("action", li.action)
			w.setq("service", li.service...)
			w.setq("schedule", "always")
			if c.ver.localInLogtraffic() && li.log {
				w.set("logtraffic", "enable")
			}
			w.setq("comments", "voicewall: "+text(li.comment, maxPolicyComment-20))
			w.next()
		}
		if first != "" {
			w.line(fmt.Sprintf("move %d before %s", list[0].id, first))
		}
		for i := 1; i < len(list); i++ {
			w.line(fmt.Sprintf("move %d after %d", list[i].id, list[i-1].id))
		}
		w.end()
		w.blank()
	}
}

func (c *compiler) renderDoS(w *writer) {
	for _, v6 := range []bool{false, true} {
		list := c.dos
		path := "firewall DoS-policy"
		if v6 {
			list, path = c.dos6, "firewall DoS-policy6"
		}
		if len(list) == 0 {
			continue
		}
		table(w, path, list, func(d *dosPolicy) string { return strconv.Itoa(d.id) }, func(d *dosPolicy) {
			if c.ver.dosPolicyName() {
				w.setq("name", d.name)
			}
			w.set("status", "enable")
			w.setq("interface", d.intf)
			w.setq("srcaddr", "all")
			w.setq("dstaddr", "all")
			w.setq("service", d.service...)
			w.config("anomaly")
			for _, a := range d.anomalies {
				w.edit(q(a.name))
				w.set("status", "enable")
				w.set("log", map[bool]string{true: "enable", false: "disable"}[a.log])
				w.set("action", "block")
				w.set("threshold", strconv.Itoa(a.threshold))
				w.next()
			}
			w.end()
			w.setq("comments", "voicewall: "+text(d.comment, maxPolicyComment-20))
		})
	}
}

func famName(v6 bool) string {
	if v6 {
		return "IPv6"
	}
	return "IPv4"
}
