package fortigate

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"

	"github.com/hashicorp/hcl/v2"
	"go4.org/netipx"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

const basePolicy = `
provider "telnyx" {
  signaling  = ["192.76.120.10", "64.16.250.0/24", "2001:db8:10::/48"]
  media      = ["36.255.198.128/25"]
  transports = ["udp", "tls"]
}
provider "sipgate" {
  signaling  = ["217.10.79.9"]
  media      = ["217.10.64.0/20"]
}
pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["telnyx"]
}
voice_vlan "phones" {
  id         = 20
  parent     = "lan"
  subnet     = "10.20.0.0/24"
  providers  = ["telnyx", "sipgate"]
  management = ["10.0.0.0/24"]
  dscp       = "ef"
}
rtp {
  ports = "10000-20000"
}
close {
  ports = ["2000/tcp"]
}
rate_limit {
  sip   = "10/second"
  burst = 20
}
blocklist "scanners" {
  addresses = ["198.51.100.0/24", "203.0.113.7"]
}
log {
  dropped = true
  prefix  = "voicewall"
  rate    = "10/minute"
}
`

func load(t testing.TB, src string) *lang.Policy {
	t.Helper()
	p, diags := lang.LoadSource("gw.hcl", []byte(src))
	if diags.HasErrors() || p == nil {
		t.Fatalf("policy does not load: %v", diags)
	}
	return p
}

func compile(t testing.TB, p *lang.Policy, opts backends.Options) (*backends.Output, *Tree, hcl.Diagnostics) {
	t.Helper()
	out, diags := Compile(p, opts)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	if out == nil || len(out.Files) == 0 || out.Main().Name != FileName {
		t.Fatalf("no %s in output", FileName)
	}
	tree, err := ParseFortiOS(string(out.Main().Data))
	if err != nil {
		t.Fatalf("strict reader rejects the output: %v\n%s", err, out.Main().Data)
	}
	checkFacts(t, p, tree, opts.Base != nil)
	return out, tree, diags
}

func mustCompile(t testing.TB, p *lang.Policy, opts backends.Options) (*backends.Output, *Tree, hcl.Diagnostics) {
	t.Helper()
	out, tree, diags := compile(t, p, opts)
	if out == nil {
		t.Fatalf("compile failed: %v", diags)
	}
	return out, tree, diags
}

// ---------------------------------------------------------------- facts

// addrSet resolves an address, group, VIP-free name to its addresses.
func addrSet(t testing.TB, tree *Tree, name string, v6 bool) *netipx.IPSet {
	t.Helper()
	var b netipx.IPSetBuilder
	var add func(n string, depth int)
	add = func(n string, depth int) {
		if depth > 4 {
			t.Fatalf("address group nesting too deep at %s", n)
		}
		if n == "all" {
			if v6 {
				b.AddPrefix(netip.MustParsePrefix("::/0"))
			} else {
				b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
			}
			return
		}
		grp, addr := "firewall addrgrp", "firewall address"
		if v6 {
			grp, addr = "firewall addrgrp6", "firewall address6"
		}
		if g := tree.Entry(grp, n); g != nil {
			for _, m := range g.Attrs["member"] {
				add(m, depth+1)
			}
			return
		}
		if a := tree.Entry(addr, n); a != nil {
			switch a.Attrs["type"][0] {
			case "ipmask":
				ip := netip.MustParseAddr(a.Attrs["subnet"][0])
				mask := netip.MustParseAddr(a.Attrs["subnet"][1]).As4()
				bits := 0
				for _, x := range mask {
					for i := 7; i >= 0; i-- {
						if x&(1<<i) != 0 {
							bits++
						}
					}
				}
				b.AddPrefix(netip.PrefixFrom(ip, bits))
			case "ipprefix":
				b.AddPrefix(netip.MustParsePrefix(a.Attrs["ip6"][0]))
			case "iprange":
				b.AddRange(netipx.IPRangeFrom(netip.MustParseAddr(a.Attrs["start-ip"][0]), netip.MustParseAddr(a.Attrs["end-ip"][0])))
			default:
				t.Fatalf("address %s has unexpected type %v", n, a.Attrs["type"])
			}
			return
		}
		if f := tree.Entry("system external-resource", n); f != nil {
			return // a feed: contents live in the feed file
		}
		t.Fatalf("address %q (v6=%v) is not defined", n, v6)
	}
	add(name, 0)
	s, _ := b.IPSet()
	return s
}

func subset(a, b *netipx.IPSet) bool {
	var bb netipx.IPSetBuilder
	bb.AddSet(a)
	bb.RemoveSet(b)
	s, _ := bb.IPSet()
	return len(s.Ranges()) == 0
}

type svcItem struct {
	proto    lang.Proto
	dst, src lang.PortRange
}

func parseRange(t testing.TB, s string) lang.PortRange {
	t.Helper()
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		hi = lo
	}
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		t.Fatalf("bad port range %q", s)
	}
	return lang.PortRange{First: uint16(a), Last: uint16(b)}
}

func serviceItems(t testing.TB, tree *Tree, names []string) []svcItem {
	t.Helper()
	var out []svcItem
	for _, n := range names {
		if n == "ALL" {
			out = append(out, svcItem{lang.UDP, lang.PortRange{First: 1, Last: 65535}, lang.PortRange{First: 1, Last: 65535}},
				svcItem{lang.TCP, lang.PortRange{First: 1, Last: 65535}, lang.PortRange{First: 1, Last: 65535}})
			continue
		}
		e := tree.Entry("firewall service custom", n)
		if e == nil {
			t.Fatalf("service %q is not defined", n)
		}
		if _, both := e.Attrs["udp-portrange"]; both {
			if _, tcp := e.Attrs["tcp-portrange"]; tcp {
				t.Fatalf("service %s mixes udp and tcp", n)
			}
		}
		if h := e.Attrs["helper"]; len(h) != 1 || h[0] != "disable" {
			t.Errorf("service %s does not set helper disable", n)
		}
		for _, p := range []lang.Proto{lang.UDP, lang.TCP} {
			for _, item := range e.Attrs[p.String()+"-portrange"] {
				d, s, hasSrc := strings.Cut(item, ":")
				it := svcItem{proto: p, dst: parseRange(t, d), src: lang.PortRange{First: 1, Last: 65535}}
				if hasSrc {
					it.src = parseRange(t, s)
				}
				out = append(out, it)
			}
		}
	}
	return out
}

func overlaps(a, b lang.PortRange) bool { return a.First <= b.Last && b.First <= a.Last }

// checkFacts asserts what every FortiGate output must hold, whatever the policy.
// checkFacts: withBase says the compile had --base, whose session-helper
// table may give the SIP helper's id.
func checkFacts(t testing.TB, p *lang.Policy, tree *Tree, withBase bool) {
	t.Helper()
	tg := p.Target(&langSpec)
	wan := tg.WAN

	// SIP ALG off.
	settings := tree.Find("system settings")
	if len(settings) != 1 {
		t.Fatalf("want one config system settings, got %d", len(settings))
	}
	s := settings[0].Settings
	if v := s["default-voip-alg-mode"]; len(v) != 1 || v[0] != "kernel-helper-based" {
		t.Errorf("default-voip-alg-mode = %v", v)
	}
	if v := s["sip-nat-trace"]; len(v) != 1 || v[0] != "disable" {
		t.Errorf("sip-nat-trace = %v", v)
	}
	ver, _ := parseVersion(map[bool]string{true: tg.Extra["version"], false: DefaultVersion}[tg.Extra["version"] != ""])
	if ver.atLeast(6, 2, 0) {
		if v := s["sip-expectation"]; len(v) != 1 || v[0] != "disable" {
			t.Errorf("sip-expectation = %v", v)
		}
		if _, ok := s["sip-helper"]; ok {
			t.Errorf("sip-helper set on FortiOS %s", ver)
		}
	} else {
		if v := s["sip-helper"]; len(v) != 1 || v[0] != "disable" {
			t.Errorf("sip-helper = %v", v)
		}
		if _, ok := s["sip-expectation"]; ok {
			t.Errorf("sip-expectation set on FortiOS %s", ver)
		}
	}
	// The session helper is deleted only by the index the user gave.
	var deletes []string
	for _, b := range tree.Find("system session-helper") {
		deletes = append(deletes, b.Deletes...)
	}
	if idx, ok := tg.Extra["sip_helper_index"]; ok {
		if len(deletes) != 1 || deletes[0] != idx {
			t.Errorf("session-helper deletes %v, want [%s]", deletes, idx)
		}
	} else if len(deletes) != 0 && !withBase {
		t.Errorf("blind session-helper delete %v", deletes)
	}

	// Names within limits.
	for _, path := range []string{"firewall address", "firewall address6", "firewall addrgrp", "firewall addrgrp6", "firewall vip", "firewall vip6", "firewall service custom", "system external-resource"} {
		for _, e := range tree.Entries(path) {
			if len(e.Key) > 79 || len(e.Key) > maxObjectName {
				t.Errorf("%s name %q is %d characters", path, e.Key, len(e.Key))
			}
		}
	}
	for _, e := range tree.Entries("system interface") {
		if len(e.Key) > 15 {
			t.Errorf("interface name %q too long", e.Key)
		}
	}
	names := map[string]bool{}
	for _, path := range []string{"firewall policy", "firewall DoS-policy", "firewall DoS-policy6"} {
		for _, e := range tree.Entries(path) {
			if _, err := strconv.ParseUint(e.Key, 10, 32); err != nil {
				t.Errorf("%s id %q is not numeric", path, e.Key)
			}
			if n := e.Attrs["name"]; len(n) == 1 {
				if len(n[0]) > 35 {
					t.Errorf("%s name %q is %d characters", path, n[0], len(n[0]))
				}
				if path == "firewall policy" {
					if names[n[0]] {
						t.Errorf("duplicate policy name %q", n[0])
					}
					names[n[0]] = true
				}
			}
		}
	}
	ids := map[string]bool{}
	for _, e := range tree.Entries("firewall policy") {
		if ids[e.Key] {
			t.Errorf("duplicate policy id %s", e.Key)
		}
		ids[e.Key] = true
	}

	// What providers may send.
	var sigB, mediaB netipx.IPSetBuilder
	for _, pr := range p.Providers {
		sigB.AddSet(pr.Signaling.IPSet())
		mediaB.AddSet(pr.Media.IPSet())
	}
	sig, _ := sigB.IPSet()
	media, _ := mediaB.IPSet()
	var bothB netipx.IPSetBuilder
	bothB.AddSet(sig)
	bothB.AddSet(media)
	sigOrMedia, _ := bothB.IPSet()
	sipPorts := p.SIPPorts()
	rtp := p.RTPRanges()
	isSIP := func(it svcItem) bool {
		for _, s := range sipPorts {
			if s.Proto == it.proto && overlaps(s.Ports, it.dst) {
				return true
			}
		}
		return false
	}
	isRTP := func(it svcItem) bool {
		for _, r := range rtp {
			if it.proto == lang.UDP && overlaps(r, it.dst) {
				return true
			}
		}
		return false
	}
	pbx := map[string]bool{}
	for _, x := range p.PBXes {
		pbx[x.Address.String()] = true
		if x.Address6.IsValid() {
			pbx[x.Address6.String()] = true
		}
	}
	// remote_phones asks for SIP (never RTP) from any source, forwarded
	// to its PBX behind the per-source DoS policy.
	remoteOnly := func(svcs []string) bool {
		rp := p.RemotePhones
		items := serviceItems(t, tree, svcs)
		if rp == nil || len(items) == 0 || len(tree.Entries("firewall DoS-policy")) == 0 {
			return false
		}
		for _, it := range items {
			ok := false
			for _, s := range rp.SIPServices() {
				ok = ok || it.proto == s.Proto && it.dst == s.Ports
			}
			if !ok {
				return false
			}
		}
		return true
	}
	checkSources := func(what string, srcNames []string, v6 bool, svcs []string) {
		for _, n := range srcNames {
			if n == "all" && remoteOnly(svcs) {
				continue
			}
			if n == "all" {
				for _, it := range serviceItems(t, tree, svcs) {
					if isSIP(it) || isRTP(it) {
						t.Errorf("%s accepts SIP/RTP (%v) from all", what, it)
					}
				}
				continue
			}
			set := addrSet(t, tree, n, v6)
			for _, it := range serviceItems(t, tree, svcs) {
				sipItem, rtpItem := isSIP(it), isRTP(it)
				switch {
				case sipItem && rtpItem:
					// The policy's RTP range includes a SIP port (lang warns,
					// VW112): that port is SIP from signaling and RTP from media.
					if !subset(set, sigOrMedia) {
						t.Errorf("%s accepts SIP/RTP from %s, beyond the providers' signaling and media", what, n)
					}
				case sipItem && !subset(set, sig):
					t.Errorf("%s accepts SIP from %s, beyond the providers' signaling", what, n)
				case rtpItem && !subset(set, media):
					t.Errorf("%s accepts RTP from %s, beyond the providers' media", what, n)
				}
			}
		}
	}
	for _, e := range tree.Entries("firewall policy") {
		a := e.Attrs
		for _, f := range []string{"srcaddr", "dstaddr", "srcaddr6", "dstaddr6"} {
			for _, n := range a[f] {
				if n != "all" && tree.Entry("firewall vip", n) == nil && tree.Entry("firewall vip6", n) == nil {
					addrSet(t, tree, n, strings.HasSuffix(f, "6")) // must resolve
				}
			}
		}
		serviceItems(t, tree, a["service"]) // must resolve
		if len(a["srcaddr"]) == 0 && len(a["srcaddr6"]) == 0 {
			t.Errorf("policy %s has no source address", e.Key)
		}
		fromWAN := false
		for _, i := range a["srcintf"] {
			fromWAN = fromWAN || i == wan || i == "any" && !wanDenied(tree, wan, e)
		}
		if a["action"][0] == "deny" && fromWAN {
			if v := a["match-vip"]; len(v) != 1 || v[0] != "enable" {
				t.Errorf("deny policy %s from the WAN does not match VIP traffic", e.Key)
			}
		}
		if a["action"][0] != "accept" || !fromWAN {
			continue
		}
		what := "policy " + e.Key
		checkSources(what, a["srcaddr"], false, a["service"])
		checkSources(what, a["srcaddr6"], true, a["service"])
		for _, f := range []struct {
			field, table string
			v6           bool
		}{{"dstaddr", "firewall vip", false}, {"dstaddr6", "firewall vip6", true}} {
			for _, d := range a[f.field] {
				v := tree.Entry(f.table, d)
				if v == nil {
					t.Errorf("%s accepts from the WAN to %s, which is not a port forward (%s)", what, d, f.table)
					continue
				}
				if m := v.Attrs["mappedip"]; len(m) != 1 || !pbx[m[0]] {
					t.Errorf("%s %s maps to %v, not a PBX", f.table, d, m)
				} else if a := netip.MustParseAddr(m[0]); a.Is6() != f.v6 {
					t.Errorf("%s %s maps to %s, the wrong family", f.table, d, a)
				}
				if f.v6 {
					// A vip6 has no extintf: it listens on wan_address6.
					want, _ := netip.ParseAddr(tg.Extra["wan_address6"])
					if x := v.Attrs["extip"]; len(x) != 1 || x[0] != want.String() || len(v.Attrs["extintf"]) != 0 {
						t.Errorf("vip6 %s on extip %v extintf %v, not the WAN's IPv6 address %q", d, x, v.Attrs["extintf"], tg.Extra["wan_address6"])
					}
				} else if v.Attrs["extintf"][0] != wan {
					t.Errorf("VIP %s on %v, not the WAN", d, v.Attrs["extintf"])
				}
				var fb netipx.IPSetBuilder
				for _, r := range v.Attrs["src-filter"] {
					if pf, err := netip.ParsePrefix(r); err == nil && pf.Addr().Is6() == f.v6 {
						fb.AddPrefix(pf)
					} else if rg, err := netipx.ParseIPRange(r); err == nil && rg.From().Is6() == f.v6 {
						fb.AddRange(rg)
					} else {
						t.Errorf("%s %s src-filter %q unreadable or of the wrong family", f.table, d, r)
					}
				}
				fs, _ := fb.IPSet()
				remoteVIP := p.RemotePhones != nil && len(v.Attrs["src-filter"]) == 0 && remoteOnly(a["service"]) && p.RemotePhones.PBX.HasAddress(netip.MustParseAddr(v.Attrs["mappedip"][0]))
				if !remoteVIP && (len(v.Attrs["src-filter"]) == 0 || !subset(fs, sig) && !subset(fs, media)) {
					t.Errorf("%s %s src-filter %v is not provider addresses", f.table, d, v.Attrs["src-filter"])
				}
			}
		}
	}
	// Local-in accepts only what the policy sends to the FortiGate's own
	// address: never SIP/RTP of a family that is port-forwarded to a PBX,
	// and never from anything but provider addresses.
	forwarded := map[[2]string][]lang.Service{} // comment, family of a port-forwarded WAN accept → what is forwarded
	for _, r := range p.RulesIn(lang.ChainWAN) {
		for _, n := range r.Forwards {
			// An IPv6 forward without a vip6 is the address6 gap: that
			// traffic is accepted towards the FortiGate itself instead
			// (the header says so).
			if n.DNAT.IsValid() && (n.DNAT.Is4() || hasVIP6To(tree, n.DNAT)) {
				k := [2]string{"voicewall: " + text(ruleComment(r), maxPolicyComment-20), fmt.Sprint(n.DNAT.Is6())}
				forwarded[k] = append(forwarded[k], n.Services...)
			}
		}
	}
	for _, path := range []string{"firewall local-in-policy", "firewall local-in-policy6"} {
		v6 := strings.HasSuffix(path, "6")
		for _, e := range tree.Entries(path) {
			if e.Attrs["action"][0] == "accept" {
				// What the rule accepts beyond its forwards (RTP outside
				// the PBX's rtp_ports) may reach the FortiGate; never a
				// forwarded port.
				for _, fs := range forwarded[[2]string{strings.Join(e.Attrs["comments"], " "), fmt.Sprint(v6)}] {
					for _, it := range serviceItems(t, tree, e.Attrs["service"]) {
						if it.proto == fs.Proto && overlaps(it.dst, fs.Ports) {
							t.Errorf("%s %s accepts port-forwarded %s to the FortiGate itself", path, e.Key, fs)
						}
					}
				}
				checkSources(path+" "+e.Key, e.Attrs["srcaddr"], v6, e.Attrs["service"])
			}
		}
	}
	// A delete never names what the script itself defines.
	for _, b := range allBlocks(tree.Blocks) {
		for _, d := range b.Deletes {
			for _, other := range tree.Find(b.Path) {
				for _, e := range other.Entries {
					if e.Key == d && b.Path != "system session-helper" {
						t.Errorf("%s: the script defines %s and deletes it", b.Path, d)
					}
				}
			}
		}
	}
}

func hasVIP6To(tree *Tree, a netip.Addr) bool {
	for _, v := range tree.Entries("firewall vip6") {
		if m := v.Attrs["mappedip"]; len(m) == 1 && m[0] == a.String() {
			return true
		}
	}
	return false
}

func allBlocks(bs []*Block) []*Block {
	var out []*Block
	for _, b := range bs {
		out = append(out, b)
		out = append(out, allBlocks(b.Subs)...)
		for _, e := range b.Entries {
			out = append(out, allBlocks(e.Subs)...)
		}
	}
	return out
}

// wanDenied reports whether an accept from "any" interface is preceded by a
// deny of the same traffic from the WAN (management is allowed from anywhere
// but the WAN), so the WAN never reaches it.
func wanDenied(tree *Tree, wan string, acc *Entry) bool {
	same := func(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }
	for _, e := range tree.Entries("firewall policy") {
		if e == acc {
			return false // only denies planned before it
		}
		a, b := e.Attrs, acc.Attrs
		if len(a["srcintf"]) == 1 && a["srcintf"][0] == wan && a["action"][0] == "deny" && same(a["dstintf"], b["dstintf"]) &&
			same(a["dstaddr"], b["dstaddr"]) && same(a["dstaddr6"], b["dstaddr6"]) && same(a["service"], b["service"]) &&
			(len(a["srcaddr"]) == 0 || a["srcaddr"][0] == "all") && (len(a["srcaddr6"]) == 0 || a["srcaddr6"][0] == "all") {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- tests

func TestCompileBase(t *testing.T) {
	p := load(t, basePolicy)
	out, tree, diags := mustCompile(t, p, backends.Options{})
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			t.Errorf("unexpected error %s", d.Summary)
		}
	}
	if len(out.Files) != 1 {
		t.Errorf("want only %s, got %d files", FileName, len(out.Files))
	}

	// VIPs to the PBX per protocol and port, filtered to the provider.
	vips := tree.Entries("firewall vip")
	if len(vips) != 3 {
		t.Fatalf("want 3 VIPs (sip udp, sip tls, rtp), got %d", len(vips))
	}
	seen := map[string]bool{}
	for _, v := range vips {
		if v.Attrs["mappedip"][0] != "10.20.0.10" || v.Attrs["portforward"][0] != "enable" {
			t.Errorf("VIP %s: %v", v.Key, v.Attrs)
		}
		seen[v.Attrs["protocol"][0]+"/"+v.Attrs["extport"][0]+"/"+strings.Join(v.Attrs["src-filter"], ",")] = true
	}
	for _, want := range []string{"udp/5060/64.16.250.0/24,192.76.120.10/32", "tcp/5061/64.16.250.0/24,192.76.120.10/32", "udp/10000-20000/36.255.198.128/25"} {
		if !seen[want] {
			t.Errorf("missing VIP %s; have %v", want, seen)
		}
	}

	// Policy order: blocklist first, accepts before the catch-all drops.
	ordered, err := tree.Find("firewall policy")[0].Ordered()
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, e := range ordered {
		pos[e.Attrs["name"][0]] = i
	}
	if ordered[0].Attrs["name"][0] != "vw-blocklist-scanners" {
		t.Errorf("first policy is %v", ordered[0].Attrs["name"])
	}
	for _, e := range ordered {
		if e.Attrs["action"][0] == "accept" && e.Attrs["srcintf"][0] == "wan1" && pos[e.Attrs["name"][0]] > pos["vw-sip-drop"] {
			t.Errorf("accept %v after the SIP catch-all drop", e.Attrs["name"])
		}
	}

	// Phones: egress only to providers, DSCP marked, NAT keeping ports.
	var egress int
	for _, e := range ordered {
		a := e.Attrs
		if a["srcintf"][0] != "vw-phones" || a["dstintf"][0] != "wan1" {
			continue
		}
		if a["action"][0] == "deny" {
			if a["dstaddr"][0] != "all" || a["logtraffic"][0] != "all" {
				t.Errorf("phone drop %s: %v", e.Key, a)
			}
			continue
		}
		if len(a["dstaddr"]) == 0 {
			// The IPv6 half of a rule of both families: never source NAT.
			if len(a["dstaddr6"]) == 0 || a["nat"][0] != "disable" {
				t.Errorf("phone accept %s: no IPv4 destination, and not an IPv6 policy without NAT: %v", e.Key, a)
			}
			continue
		}
		egress++
		dst := addrSet(t, tree, a["dstaddr"][0], false)
		var all netipx.IPSetBuilder
		for _, pr := range p.Providers {
			all.AddSet(pr.Signaling.IPSet())
			all.AddSet(pr.Media.IPSet())
		}
		allS, _ := all.IPSet()
		if !subset(dst, allS) {
			t.Errorf("phone egress %s reaches beyond the providers", e.Key)
		}
		code := a["diffservcode-forward"]
		items := serviceItems(t, tree, a["service"])
		wantCode := "011000" // cs3 for SIP
		if items[0].src.First == 10000 || items[0].proto == lang.UDP && items[0].dst == lang.AllPorts {
			wantCode = "101110" // ef for RTP (from the RTP range, or to the provider's media from any port)
		}
		if len(code) != 1 || code[0] != wantCode || a["diffserv-forward"][0] != "enable" {
			t.Errorf("phone egress %s DSCP %v, want %s", a["name"], code, wantCode)
		}
		if a["nat"][0] != "enable" || a["fixedport"][0] != "enable" {
			t.Errorf("phone egress %s without NAT/fixedport", a["name"])
		}
	}
	if egress != 4 { // 2 providers × SIP, RTP
		t.Errorf("want 4 phone egress accepts, got %d", egress)
	}

	// Management only from management, never from the WAN.
	for _, e := range ordered {
		a := e.Attrs
		if a["dstintf"][0] != "vw-phones" || a["action"][0] != "accept" || a["srcintf"][0] == "wan1" && len(a["dstaddr"]) > 0 && tree.Entry("firewall vip", a["dstaddr"][0]) != nil {
			continue
		}
		for _, i := range a["srcintf"] {
			if i == "wan1" || i == "any" && !wanDenied(tree, "wan1", e) {
				t.Errorf("management policy %s open from %s", a["name"], i)
			}
		}
		if !subset(addrSet(t, tree, a["srcaddr"][0], false), p.VoiceVLAN("phones").Management.IPSet()) {
			t.Errorf("management policy %s from beyond management", a["name"])
		}
	}

	// Voice VLAN on the parent interface.
	vi := tree.Entry("system interface", "vw-phones")
	if vi == nil || vi.Attrs["vlanid"][0] != "20" || vi.Attrs["interface"][0] != "internal" || vi.Attrs["ip"][0] != "10.20.0.1" {
		t.Errorf("voice VLAN interface: %+v", vi)
	}

	// DoS policy for the SIP rate limit.
	dos := tree.Entries("firewall DoS-policy")
	if len(dos) != 1 || dos[0].Attrs["interface"][0] != "wan1" {
		t.Fatalf("DoS policy: %+v", dos)
	}
	if an := dos[0].Subs; len(an) != 1 || an[0].Path != "anomaly" || len(an[0].Entries) != 2 {
		t.Errorf("DoS anomalies: %+v", an)
	}

	// Every policy points back at its block.
	for _, e := range tree.Entries("firewall policy") {
		c := e.Attrs["comments"]
		if len(c) != 1 || !strings.Contains(c[0], "(gw.hcl:") && !strings.Contains(c[0], "(default)") {
			t.Errorf("policy %s comment %v has no origin", e.Key, c)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, _, _ := mustCompile(t, load(t, basePolicy), backends.Options{})
	b, _, _ := mustCompile(t, load(t, basePolicy), backends.Options{})
	if !bytes.Equal(a.Main().Data, b.Main().Data) {
		t.Fatal("two compiles of the same policy differ")
	}
}

func TestALGByVersion(t *testing.T) {
	for _, tc := range []struct {
		target string
		want   map[string]string
		absent []string
		delete bool
	}{
		{`target "fortigate" { version = "6.0" }`, map[string]string{"sip-helper": "disable"}, []string{"sip-expectation"}, false},
		{`target "fortigate" { version = "6.2.9" }`, map[string]string{"sip-expectation": "disable"}, []string{"sip-helper"}, false},
		{`target "fortigate" { version = "7.4" }`, map[string]string{"sip-expectation": "disable"}, []string{"sip-helper"}, false},
		{`target "fortigate" {
  version = "7.6.1"
  sip_helper_index = "13"
}`, map[string]string{"sip-expectation": "disable"}, nil, true},
	} {
		p := load(t, basePolicy+tc.target)
		out, tree, diags := mustCompile(t, p, backends.Options{AllowDegraded: true}) // IPv6 provider: a gap before 6.4
		s := tree.Find("system settings")[0].Settings
		for k, v := range tc.want {
			if got := s[k]; len(got) != 1 || got[0] != v {
				t.Errorf("%s: %s = %v", tc.target, k, got)
			}
		}
		for _, k := range tc.absent {
			if _, ok := s[k]; ok {
				t.Errorf("%s: %s must not be set", tc.target, k)
			}
		}
		warned := false
		for _, d := range diags {
			warned = warned || strings.Contains(d.Summary, "session helper")
		}
		if tc.delete == warned {
			t.Errorf("%s: session helper warning = %v", tc.target, warned)
		}
		if !strings.Contains(string(out.Main().Data), "show system session-helper | grep -f sip") {
			t.Errorf("%s: no lookup instruction", tc.target)
		}
	}
}

func TestBadTargetAttributes(t *testing.T) {
	for _, attr := range []string{`version = "5.6"`, `version = "seven"`, `sip_helper_index = "0"`, `wan_ip = "2001:db8::1"`} {
		p := load(t, basePolicy+"target \"fortigate\" {\n  "+attr+"\n}\n")
		out, diags := Compile(p, backends.Options{})
		if out != nil || !diags.HasErrors() {
			t.Errorf("%s: accepted", attr)
		}
	}
}

func TestV6OnOldFortiOSIsAGap(t *testing.T) {
	p := load(t, basePolicy+`target "fortigate" { version = "6.2" }`)
	if out, diags := Compile(p, backends.Options{}); out != nil || !diags.HasErrors() {
		t.Fatal("IPv6 provider on FortiOS 6.2 compiled without a gap")
	}
	out, _, diags := mustCompile(t, p, backends.Options{AllowDegraded: true})
	if diags.HasErrors() || !strings.Contains(string(out.Main().Data), "NOT ENFORCED") {
		t.Fatalf("degraded output does not say what is missing: %v", diags)
	}
}

func bigBlocklist(n int) string {
	var b strings.Builder
	b.WriteString("blocklist \"voipbl\" {\n  addresses = [")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		// every other address: nothing merges
		fmt.Fprintf(&b, "%q", fmt.Sprintf("100.%d.%d.%d", 64+i/32768, (i/128)%256, (i%128)*2))
	}
	b.WriteString("]\n}\n")
	return b.String()
}

func TestLargeBlocklist(t *testing.T) {
	src := basePolicy + bigBlocklist(externalThreshold+1)
	p := load(t, src)
	out, diags := Compile(p, backends.Options{})
	if out != nil || !diags.HasErrors() || !strings.Contains(diags.Error(), "blocklist_url") {
		t.Fatalf("large blocklist without URL: %v", diags)
	}
	out, _, diags = mustCompile(t, p, backends.Options{AllowDegraded: true})
	if !strings.Contains(string(out.Main().Data), "NOT ENFORCED") || len(out.Files) != 2 {
		t.Errorf("degraded: %d files, diags %v", len(out.Files), diags)
	}

	p = load(t, src+"target \"fortigate\" {\n  blocklist_url = \"https://feeds.example.net/voicewall/\"\n}\n")
	out, tree, diags := mustCompile(t, p, backends.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	f := tree.Entry("system external-resource", "vw-bl-voipbl")
	if f == nil || f.Attrs["type"][0] != "address" || f.Attrs["resource"][0] != "https://feeds.example.net/voicewall/fortigate-blocklist-voipbl.txt" {
		t.Fatalf("external resource: %+v", f)
	}
	var file []byte
	for _, x := range out.Files[1:] {
		if x.Name == "fortigate-blocklist-voipbl.txt" {
			file = x.Data
		}
	}
	lines := strings.Split(strings.TrimSpace(string(file)), "\n")
	if len(lines) != externalThreshold+2 { // header + entries
		t.Errorf("feed file has %d lines", len(lines))
	}
	used := false
	for _, e := range tree.Entries("firewall policy") {
		if len(e.Attrs["srcaddr"]) == 1 && e.Attrs["srcaddr"][0] == "vw-bl-voipbl" && e.Attrs["action"][0] == "deny" {
			used = true
		}
	}
	if !used {
		t.Error("no deny policy uses the threat feed")
	}
	if n := len(tree.Entries("firewall address")); n > 100 {
		t.Errorf("%d address objects: the blocklist was not kept out of the address table", n)
	}
}

func TestVDOM(t *testing.T) {
	p := load(t, basePolicy+"target \"fortigate\" {\n  vdom = \"voice\"\n  wan_ip = \"203.0.113.2\"\n}\n")
	_, tree, _ := mustCompile(t, p, backends.Options{})
	if len(tree.Blocks) != 2 || tree.Blocks[0].Path != "global" || tree.Blocks[1].Path != "vdom" || tree.Blocks[1].Entries[0].Key != "voice" {
		t.Fatalf("VDOM wrapping: %+v", tree.Blocks)
	}
	if v := tree.Entries("firewall vip"); len(v) == 0 || v[0].Attrs["extip"][0] != "203.0.113.2" {
		t.Errorf("wan_ip not used as extip")
	}
	if i := tree.Entry("system interface", "vw-phones"); i == nil || i.Attrs["vdom"][0] != "voice" {
		t.Errorf("VLAN interface not in the VDOM")
	}
}

func TestTLSOnly(t *testing.T) {
	src := strings.Replace(basePolicy, `transports = ["udp", "tls"]`, `transports = ["tls"]`, 1)
	src = strings.Replace(src, `signaling  = ["217.10.79.9"]`, "signaling  = [\"217.10.79.9\"]\n  transports = [\"tls\"]", 1)
	_, tree, _ := mustCompile(t, load(t, src), backends.Options{})
	for _, e := range tree.Entries("firewall policy") {
		if e.Attrs["action"][0] != "accept" || e.Attrs["srcintf"][0] != "wan1" {
			continue
		}
		for _, it := range serviceItems(t, tree, e.Attrs["service"]) {
			if it.dst.First == 5060 {
				t.Errorf("TLS-only policy accepts cleartext SIP in %s", e.Key)
			}
		}
	}
}

// A name lang would reject must never reach the output, even if it gets here.
func TestHostileNamesRejected(t *testing.T) {
	p := load(t, basePolicy)
	for _, r := range p.Rules {
		if r.Src != nil && r.Kind == lang.RuleBlocklist {
			r.Src = &lang.AddrRef{Name: `evil" set action accept`, Set: r.Src.Set}
		}
	}
	out, diags := Compile(p, backends.Options{AllowDegraded: true})
	if out != nil || !diags.HasErrors() {
		t.Fatal("unsafe set name compiled")
	}
	p = load(t, basePolicy)
	p.VoiceVLANs[0].Name = "ph\none"
	if out, diags := Compile(p, backends.Options{}); out != nil || !diags.HasErrors() {
		t.Fatal("unsafe VLAN name compiled")
	}
}

func TestNamerShortening(t *testing.T) {
	n := newNamer(35)
	long := strings.Repeat("provider-very-long-name-", 3)
	a := n.Name("a", long+"sip")
	b := n.Name("b", long+"rtp")
	c := n.Name("c", long+"sip") // same wanted name, different key
	if len(a) > 35 || len(b) > 35 || len(c) > 35 || a == b || a == c || b == c {
		t.Fatalf("names %q %q %q", a, b, c)
	}
	if n.Name("a", "whatever") != a {
		t.Fatal("a key changed its name")
	}
	for _, s := range []string{a, b, c} {
		if !safeString(s) {
			t.Fatalf("unsafe %q", s)
		}
	}
}

func TestReaderRejects(t *testing.T) {
	for _, bad := range []string{
		"config firewall policy\n", // unbalanced
		"end\n",                    // end without config
		"config firewall address\n    edit \"a\n    next\nend\n", // unterminated quote
		"config firewall address\n    edit \"a'b\"\n    next\nend\n",
		"config firewall address\n    edit a\n    next\nend\n", // bare non-numeric key
		"config firewall address\n  edit \"a\"\n  next\nend\n", // indentation
		"config system settings\n    set a b\n    set a c\nend\n",
		"config firewall policy\n    edit 1\n    next\n    edit 1\n    next\nend\n",
		"config firewall policy\n    append srcaddr \"x\"\nend\n",
		"config system settings\n    set x \"a\\b\"\nend\n",
	} {
		if _, err := ParseFortiOS(bad); err == nil {
			t.Errorf("reader accepts %q", bad)
		}
	}
}

// Examples written by others, when they exist.
func TestExamples(t *testing.T) {
	dirs := testenv.ExampleDirs(t, "../..")
	if len(dirs) == 0 {
		t.Skip("no examples yet")
	}
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		t.Run(filepath.Base(d), func(t *testing.T) {
			p, diags := lang.Load(d)
			if diags.HasErrors() {
				t.Skipf("example does not load: %v", diags)
			}
			a, _, _ := compile(t, p, backends.Options{AllowDegraded: true})
			if a == nil {
				t.Fatalf("example does not compile even degraded")
			}
			p2, _ := lang.Load(d)
			b, _, _ := compile(t, p2, backends.Options{AllowDegraded: true})
			if !bytes.Equal(a.Main().Data, b.Main().Data) {
				t.Fatal("not deterministic")
			}
		})
	}
}

// TestManagementFromVPN: the phones' management is open to the
// management addresses from any interface (an SSL-VPN or IPsec tunnel
// included), and a deny of the same traffic from the WAN comes first.
func TestManagementFromVPN(t *testing.T) {
	_, tree, _ := mustCompile(t, load(t, basePolicy), backends.Options{})
	var accept, wanDeny int = -1, -1
	var order []string
	for _, e := range tree.Entries("firewall policy") {
		order = append(order, e.Key)
	}
	for i, e := range tree.Entries("firewall policy") {
		a := e.Attrs
		if len(a["dstintf"]) != 1 || a["dstintf"][0] != "vw-phones" {
			continue
		}
		if a["action"][0] == "accept" && len(a["name"]) == 1 && a["name"][0] == "vw-vlan-phones-management" {
			accept = i
			if len(a["srcintf"]) != 1 || a["srcintf"][0] != "any" {
				t.Errorf("management accept %s is bound to %v: an admin on a VPN tunnel is locked out", e.Key, a["srcintf"])
			}
			if !wanDenied(tree, "wan1", e) {
				t.Errorf("management accept %s from any interface without a deny from the WAN before it", e.Key)
			}
		}
		if a["action"][0] == "deny" && len(a["srcintf"]) == 1 && a["srcintf"][0] == "wan1" {
			wanDeny = i
		}
	}
	if accept < 0 || wanDeny < 0 || wanDeny > accept {
		t.Errorf("want the WAN deny before the management accept, got deny %d accept %d (%v)", wanDeny, accept, order)
	}
}

// dualStackPBX has an IPv6 provider and a PBX with address6: IPv6 SIP/RTP
// is forwarded to address6 where the target can express it.
const dualStackPBX = `
provider "carrier" {
  signaling = ["192.0.2.10", "2001:db8:10::/48"]
  media     = ["192.0.2.0/24", "2001:db8:20::/48"]
}
pbx "asterisk" {
  address   = "10.20.0.10"
  address6  = "2001:db8:abcd:40::5"
  providers = ["carrier"]
  rtp_ports = "10000-10999"
}
rtp {
  ports = "10000-20000"
}
`

func TestVIP6(t *testing.T) {
	// Without the WAN's IPv6 address: the address6 gap, which says what to set.
	p := load(t, dualStackPBX+`target "fortigate" {}`)
	out, diags := Compile(p, backends.Options{})
	if out != nil || !diags.HasErrors() || !strings.Contains(diags.Error(), "wan_address6") {
		t.Fatalf("IPv6 forward without wan_address6 compiled, or the gap does not name wan_address6: %v", diags)
	}
	// FortiOS before 6.4 has no dstaddr6 in firewall policies: still a gap.
	p = load(t, dualStackPBX+`target "fortigate" {
  version      = "6.2"
  wan_address6 = "2001:db8:ffff::1"
}`)
	if out, diags := Compile(p, backends.Options{}); out != nil || !diags.HasErrors() || !strings.Contains(diags.Error(), "6.4") {
		t.Fatalf("vip6 on FortiOS 6.2 compiled, or the gap does not say why: %v", diags)
	}

	p = load(t, dualStackPBX+`target "fortigate" {
  wan_address6 = "2001:DB8:ffff:0::1"
}`)
	out, tree, diags := mustCompile(t, p, backends.Options{})
	for _, d := range diags {
		if strings.Contains(d.Summary+d.Detail, "address6") {
			t.Errorf("address6 still reported: %s: %s", d.Summary, d.Detail)
		}
	}
	vips := tree.Entries("firewall vip6")
	if len(vips) == 0 {
		t.Fatalf("no vip6:\n%s", out.Main().Data)
	}
	protos := map[string]bool{}
	for _, v := range vips {
		a := v.Attrs
		if a["extip"][0] != "2001:db8:ffff::1" || a["mappedip"][0] != "2001:db8:abcd:40::5" || a["portforward"][0] != "enable" || a["extport"][0] != a["mappedport"][0] {
			t.Errorf("vip6 %s: %v", v.Key, a)
		}
		for _, f := range a["src-filter"] {
			if !netip.MustParsePrefix(f).Addr().Is6() {
				t.Errorf("vip6 %s filters IPv4 source %s", v.Key, f)
			}
		}
		protos[a["protocol"][0]+" "+a["extport"][0]] = true
	}
	if !protos["udp 5060"] || !protos["udp 10000-10999"] {
		t.Errorf("vip6 forwards %v, want SIP 5060/udp and RTP 10000-10999/udp", protos)
	}
	// One policy accepts the providers' IPv6 addresses to those vip6s.
	found := 0
	for _, e := range tree.Entries("firewall policy") {
		a := e.Attrs
		if len(a["dstaddr6"]) == 0 || tree.Entry("firewall vip6", a["dstaddr6"][0]) == nil {
			continue
		}
		found++
		if a["action"][0] != "accept" || len(a["srcaddr"]) != 0 || len(a["dstaddr"]) != 0 || a["srcintf"][0] != "wan1" {
			t.Errorf("vip6 policy %s: %v", e.Key, a)
		}
		for _, d := range a["dstaddr6"] {
			if tree.Entry("firewall vip6", d) == nil {
				t.Errorf("vip6 policy %s mixes %s into its vip6s", e.Key, d)
			}
		}
	}
	if found == 0 {
		t.Errorf("no firewall policy accepts to the vip6s:\n%s", out.Main().Data)
	}
	// The forwarded RTP no longer reaches the FortiGate itself over IPv6;
	// the rest of rtp.ports (outside the PBX's rtp_ports) still does.
	for _, e := range tree.Entries("firewall local-in-policy6") {
		if e.Attrs["action"][0] != "accept" {
			continue
		}
		for _, it := range serviceItems(t, tree, e.Attrs["service"]) {
			if overlaps(lang.PortRange{First: 5060, Last: 5060}, it.dst) || overlaps(lang.PortRange{First: 10000, Last: 10999}, it.dst) {
				t.Errorf("local-in-policy6 %s accepts forwarded %v to the FortiGate itself", e.Key, it)
			}
		}
	}

	for _, bad := range []string{"192.0.2.1", "::", "fe80::1", "::ffff:192.0.2.1", "ff02::1", "wan1"} {
		p := load(t, dualStackPBX+"target \"fortigate\" {\n  wan_address6 = \""+bad+"\"\n}\n")
		if out, diags := Compile(p, backends.Options{}); out != nil || !diags.HasErrors() || !strings.Contains(diags.Error(), "wan_address6") {
			t.Errorf("wan_address6 = %q accepted: %v", bad, diags)
		}
	}
}

// TestCommentsAndNATReadBack reads every example's output back: header
// notes keep their apostrophes ("FortiOS's", not "FortiOSs"); no note says
// a DSCP class applies to no accepted flow while an accept policy of the
// same block sets it; and no accept policy mixes IPv6 with "nat enable"
// (FortiOS's nat enable is IPv4 source NAT: a rule of both families is an
// IPv4 policy with NAT and an IPv6 policy without).
func TestCommentsAndNATReadBack(t *testing.T) {
	checked := 0
	for _, ex := range testenv.Examples(t, filepath.Join("..", "..")) {
		p, diags := lang.Load(ex.Dir)
		if diags.HasErrors() {
			continue
		}
		out, diags := Compile(p, backends.Options{AllowDegraded: true})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", ex.Name, diags)
		}
		src := string(out.Main().Data)
		for _, bad := range []string{"voicewalls", "FortiOSs", "providers media"} {
			if strings.Contains(src, bad) {
				t.Errorf("%s: %q: an apostrophe was dropped", ex.Name, bad)
			}
		}
		tree, err := ParseFortiOS(src)
		if err != nil {
			t.Fatalf("%s: %v", ex.Name, err)
		}
		for _, b := range tree.Find("firewall policy") {
			for _, e := range b.Entries {
				a := e.Attrs
				if len(a["nat"]) > 0 && a["nat"][0] == "enable" && len(a["srcaddr6"]) > 0 {
					t.Errorf("%s: policy %s sets nat enable with IPv6 addresses", ex.Name, e.Key)
				}
				checked++
				if code := a["diffservcode-forward"]; len(code) > 0 {
					for class, v := range lang.DSCPValues {
						if fmt.Sprintf("%06b", v) == code[0] && strings.Contains(src, "DSCP "+class+" marking applies to no accepted flow") {
							// The note is per block: it may stand only for a block no accept of which marks.
							for _, line := range strings.Split(src, "\n") {
								if strings.Contains(line, "DSCP "+class+" marking applies to no accepted flow") && strings.Contains(strings.Join(a["comments"], " "), strings.SplitN(strings.TrimPrefix(strings.TrimSpace(line), "#   - "), ":", 2)[0]) {
									t.Errorf("%s: %q contradicts policy %s", ex.Name, line, e.Key)
								}
							}
						}
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no policy checked")
	}
}
