package pfsense

import (
	"bytes"
	"fmt"
	"html"
	"net/netip"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/lang"
)

func compileOK(t testing.TB, p *lang.Policy, opts backends.Options) (*backends.Output, hcl.Diagnostics) {
	t.Helper()
	out, diags := Compile(p, opts)
	if diags.HasErrors() {
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				t.Errorf("compile error: %s: %s", d.Summary, d.Detail)
			}
		}
		t.FailNow()
	}
	if out == nil || len(out.Files) == 0 || out.Main().Name != FileName {
		t.Fatalf("no %s in output", FileName)
	}
	return out, diags
}

func degraded() backends.Options { return backends.Options{AllowDegraded: true} }

func portsOverlap(port string, lo, hi int) bool {
	if port == "" {
		return true
	}
	a, b, err := parsePorts(port)
	if err != nil {
		return false
	}
	return a <= hi && lo <= b
}

func subset(got []netip.Prefix, of lang.AddrSet) bool {
	for _, p := range got {
		if !of.Contains(p.Addr()) || !of.Contains(lastAddr(p)) {
			return false
		}
	}
	return true
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().AsSlice()
	bits := p.Bits()
	for i := range a {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				a[i] |= 0x80 >> j
			}
		}
	}
	r, _ := netip.AddrFromSlice(a)
	return r
}

// vlanPass reports whether r is the rule that passes a voice VLAN's own
// traffic in (any protocol, from exactly the VLAN's subnets, never on the
// WAN interface and never for packets tagged as arriving on the WAN).
func vlanPass(p *lang.Policy, aliases map[string]rAlias, r rRule) bool {
	a, ok := aliases[r.Source.Address]
	if !ok || r.Destination.Any == nil || r.Interface == p.Target(&langSpec).WAN {
		return false
	}
	// Floating, in, not quick (the admin's own rules still decide first);
	// on "any" only for packets that did not arrive on the WAN.
	if r.Floating != "yes" || r.Direction != "in" || r.Quick != "" {
		return false
	}
	if r.Interface == "any" && (r.NotTagged == nil || r.Tagged == "") {
		return false
	}
	for _, v := range p.VoiceVLANs {
		if subset(aliasSet(a), v.Subnets) && subset(append(v.Subnets.Prefixes(false), v.Subnets.Prefixes(true)...), lang.NewAddrSet(aliasSet(a)...)) {
			return true
		}
	}
	return false
}

// checkFacts asserts what the policy asked for in a parsed fragment.
func checkFacts(t testing.TB, p *lang.Policy, d *rDoc) {
	t.Helper()
	aliases := d.aliasMap()
	var sig, media lang.AddrSet
	var sigP, medP []netip.Prefix
	for _, pr := range p.Providers {
		sigP = append(sigP, pr.Signaling.Prefixes(false)...)
		sigP = append(sigP, pr.Signaling.Prefixes(true)...)
		medP = append(medP, pr.Media.Prefixes(false)...)
		medP = append(medP, pr.Media.Prefixes(true)...)
	}
	sig, media = lang.NewAddrSet(sigP...), lang.NewAddrSet(medP...)
	sipPorts := map[string][][2]int{}
	for _, s := range p.SIPServices() {
		sipPorts[s.Proto.String()] = append(sipPorts[s.Proto.String()], [2]int{int(s.Ports.First), int(s.Ports.Last)})
	}
	isSIP := func(proto, port string) bool {
		for _, r := range sipPorts[proto] {
			if portsOverlap(port, r[0], r[1]) {
				return true
			}
		}
		return false
	}
	isRTP := func(proto, port string) bool {
		if proto != "udp" {
			return false
		}
		for _, r := range p.RTPRanges() {
			if portsOverlap(port, int(r.First), int(r.Last)) {
				return true
			}
		}
		return false
	}
	// remote_phones asks for SIP (never RTP) from any source, forwarded to
	// its PBX, with pf's per-source limit on the pass rule.
	remoteSIP := func(proto, port string) bool {
		if p.RemotePhones == nil {
			return false
		}
		for _, s := range p.RemotePhones.SIPServices() {
			if s.Proto.String() == proto && port == s.Ports.String() {
				return true
			}
		}
		return false
	}
	var wanSIPPass, wanRTPPass int
	for _, r := range d.Filter.Rule {
		if r.Type != "pass" {
			continue
		}
		if r.Source.Any != nil && remoteSIP(r.Protocol, r.Destination.Port) {
			if r.MaxSrcConnRate == "" {
				t.Errorf("remote phones' SIP pass from any without max-src-conn-rate: %s", r.Descr)
			}
			continue
		}
		if r.Protocol == "" && !vlanPass(p, aliases, r) {
			t.Errorf("pass rule without protocol: %s", r.Descr)
		}
		sipish, rtpish := isSIP(r.Protocol, r.Destination.Port), isRTP(r.Protocol, r.Destination.Port)
		if (sipish || rtpish) && r.Source.Any != nil && r.Tagged == "" {
			t.Errorf("pass rule for SIP/RTP from any: %s", r.Descr)
		}
		if r.Floating == "" && r.Interface == p.Target(&langSpec).WAN {
			a, ok := aliases[r.Source.Address]
			if !ok {
				t.Errorf("WAN pass rule not from an alias: %s", r.Descr)
				continue
			}
			if sipish {
				wanSIPPass++
				if !subset(aliasSet(a), sig) {
					t.Errorf("SIP pass from %s which is not provider signaling: %s", a.Name, r.Descr)
				}
			}
			if rtpish {
				wanRTPPass++
				if !subset(aliasSet(a), media) {
					t.Errorf("RTP pass from %s which is not provider media: %s", a.Name, r.Descr)
				}
			}
		}
	}
	wantRTP := false // symmetric-RTP providers' media arrives only as replies (state), no pass rule
	for _, pr := range p.Providers {
		wantRTP = wantRTP || !pr.SymmetricRTP && !pr.Media.Empty()
	}
	if len(p.Providers) > 0 && (wanSIPPass == 0 || wantRTP && wanRTPPass == 0 || !wantRTP && wanRTPPass != 0) {
		t.Errorf("want SIP and RTP pass rules on the WAN, got %d/%d", wanSIPPass, wanRTPPass)
	}
	// Blocklist first among WAN rules.
	if len(p.Blocklists) > 0 {
		for _, r := range d.Filter.Rule {
			if r.Floating == "" && r.Interface == p.Target(&langSpec).WAN {
				if r.Type != "block" || !strings.Contains(r.Descr, "blocklist") {
					t.Errorf("first WAN rule is not the blocklist: %s", r.Descr)
				}
				break
			}
		}
	}
	// Logged drops.
	if p.Log != nil && p.Log.Dropped {
		for _, r := range d.Filter.Rule {
			if r.Type == "block" && r.Log == nil {
				t.Errorf("drop without <log/>: %s", r.Descr)
			}
		}
	}
	// Port forwards go to the PBX, from provider aliases only.
	for _, x := range p.PBXes {
		n := 0
		for _, r := range d.NAT.Rule {
			if r.Target != x.Address.String() {
				continue
			}
			n++
			if r.Source.Any != nil && remoteSIP(r.Protocol, r.Destination.Port) && p.RemotePhones.PBX == x {
				continue
			}
			a, ok := aliases[r.Source.Address]
			if !ok || !(subset(aliasSet(a), sig) || subset(aliasSet(a), media)) {
				t.Errorf("port forward to the PBX not restricted to provider addresses: %s", r.Descr)
			}
			if r.Destination.Network != "wanip" {
				t.Errorf("port forward not on the WAN address: %s", r.Descr)
			}
		}
		reachable := false
		for _, pr := range x.Providers {
			reachable = reachable || pr.Signaling.Has(x.Address.Is6())
		}
		if n == 0 && reachable {
			t.Errorf("no port forward to PBX %s", x.Address)
		}
	}
	// Static-port hybrid outbound NAT for the voice hosts.
	var hosts []netip.Addr
	for _, x := range p.PBXes {
		hosts = append(hosts, x.Address)
	}
	for _, v := range p.VoiceVLANs {
		for _, s := range v.Subnets.Prefixes(false) {
			hosts = append(hosts, s.Addr())
		}
	}
	if len(hosts) > 0 {
		o := d.NAT.Outbound
		if o == nil || (o.Mode != "hybrid" && o.Mode != "advanced") {
			t.Fatalf("outbound NAT not hybrid: %+v", o)
		}
		for _, h := range hosts {
			found := false
			for _, r := range o.Rule {
				a, ok := aliases[r.Source.Network]
				if r.StaticNATPort == nil || !ok {
					continue
				}
				if lang.NewAddrSet(aliasSet(a)...).Contains(h) {
					found = true
				}
			}
			if !found {
				t.Errorf("no static-port outbound NAT for voice host %s", h)
			}
		}
	}
}

func TestCompileFacts(t *testing.T) {
	p := build(defaultSpec())
	out, diags := compileOK(t, p, degraded())
	d, err := readFragment(out.Main().Data)
	if err != nil {
		t.Fatalf("strict reader: %v\n%s", err, out.Main().Data)
	}
	checkFacts(t, p, d)
	main := string(out.Main().Data)
	for _, want := range []string{"<mode>hybrid</mode>", "<staticnatport></staticnatport>", "NOT ENFORCED", "DSCP",
		"in this order:\n       1. Aliases\n       2. NAT\n       3. Firewall Rules\n", "Interfaces > Assignments: add VLAN 20 on <NIC of lan>.20"} {
		if !strings.Contains(main, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// pfSense cannot restore an empty area: the VLAN's parent NIC is
	// unknown here, so there is no VLANS area at all.
	if strings.Contains(main, "<vlans") {
		t.Errorf("output has a VLANS area without a VLAN")
	}
	// 5061 is TCP only; the TLS rule carries the rate limit.
	var tls, udpSIP bool
	for _, r := range d.Filter.Rule {
		if r.Type == "pass" && r.Destination.Port == "5061" && r.Floating == "" {
			if r.Protocol != "tcp" {
				t.Errorf("5061 rule with protocol %q", r.Protocol)
			}
			tls = true
			// No overload by default: it would flush the provider's live calls.
			if r.MaxSrcConnRate != "" || r.MaxSrcConnRates != "" {
				t.Errorf("TLS SIP rate limit = %s/%s without provider_conn_rate, want none", r.MaxSrcConnRate, r.MaxSrcConnRates)
			}
		}
		if r.Type == "pass" && r.Destination.Port == "5060" && r.Protocol == "udp" && r.Floating == "" {
			udpSIP = true
		}
	}
	if !tls || !udpSIP {
		t.Errorf("missing provider SIP rules: tls=%v udp=%v", tls, udpSIP)
	}
	// Degraded: the gaps are warnings naming the blocks.
	var gaps []string
	for _, dg := range diags {
		if dg.Severity == hcl.DiagWarning && strings.HasPrefix(dg.Summary, "pfsense:") {
			gaps = append(gaps, dg.Summary)
		}
	}
	joined := strings.Join(gaps, "\n")
	if !strings.Contains(joined, "DSCP") || !strings.Contains(joined, "UDP SIP") || !strings.Contains(joined, "TCP SIP (5061/tcp)") {
		t.Errorf("want DSCP and UDP and TCP rate-limit gaps, got:\n%s", joined)
	}
	// Egress guard: floating out on WAN, by tag.
	var egress, tagger, mgmt bool
	for _, r := range d.Filter.Rule {
		if r.Type == "match" && r.Tag == "VW_IN_PHONES" {
			tagger = true
		}
		if r.Type == "block" && r.Direction == "out" && r.Interface == "wan" && r.Tagged == "VW_IN_PHONES" && r.Destination.Port == "5060" {
			egress = true
		}
		// management passes in on any interface but the WAN (a VPN, a routed admin network) and out to the phones
		if r.Type == "pass" && r.Direction == "any" && r.Interface == "any" && r.Tagged == "VW_IN_WAN" && r.NotTagged != nil && r.Destination.Port == "443" {
			mgmt = true
		}
	}
	if !egress || !tagger || !mgmt {
		t.Errorf("egress/management guard missing: egress=%v tagger=%v mgmt=%v\n%s", egress, tagger, mgmt, main)
	}
}

func TestGapsAreErrors(t *testing.T) {
	p := build(defaultSpec())
	out, diags := Compile(p, backends.Options{})
	if !diags.HasErrors() || out != nil {
		t.Fatalf("want errors for DSCP and UDP rate limit, got %v", diags)
	}
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Subject == nil {
			t.Errorf("gap without source range: %s", d.Summary)
		}
	}
	// Without dscp and with TLS-only transports, the TCP rate limit is the
	// only gap; provider_conn_rate = true opts in and closes it.
	s := defaultSpec()
	s.dscp = ""
	s.transports = []lang.Transport{lang.TransportTLS}
	_, diags = Compile(build(s), backends.Options{})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "TCP SIP (5061/tcp)") {
		t.Fatalf("want the TCP rate-limit gap, got %v", diags)
	}
	if _, diags := Compile(optInConnRate(build(s)), backends.Options{}); diags.HasErrors() {
		t.Fatalf("unexpected errors with provider_conn_rate: %s", diags.Error())
	}
}

func optInConnRate(p *lang.Policy) *lang.Policy {
	p.Targets[target] = &lang.Target{Name: target, WAN: "wan", LAN: "lan", Origin: origin("target", target, 50),
		Extra: map[string]string{AttrProviderConnRate: "true"}}
	return p
}

// TestProviderConnRateReadBack reads the output back into devmodel: by
// default no provider pass rule carries a per-source limit (pf's overload
// would flush live calls and block the provider everywhere); opted in, the
// TCP ones do, and the header states the consequence.
func TestProviderConnRateReadBack(t *testing.T) {
	for _, optIn := range []bool{false, true} {
		p := build(defaultSpec())
		if optIn {
			p = optInConnRate(p)
		}
		out, _ := compileOK(t, p, degraded())
		d, err := ReadDevice(FileName, out.Main().Data)
		if err != nil {
			t.Fatal(err)
		}
		limited := 0
		for _, r := range d.Rules {
			if r.RateLimited {
				limited++
				if r.Action != devmodel.Accept || len(r.Services) != 1 || r.Services[0].Proto != 6 {
					t.Errorf("rate limit on %s (%s)", r.Ref, r.Name)
				}
			}
		}
		main := string(out.Main().Data)
		consequence := strings.Contains(main, "overload <virusprot> flush global") && strings.Contains(main, "live calls")
		if optIn != (limited > 0) || optIn != consequence {
			t.Errorf("provider_conn_rate=%v: %d rate-limited rules, consequence stated %v", optIn, limited, consequence)
		}
	}
}

// TestDescrApostrophe: descriptions carry ' as &#039; (pfSense's own
// writer); the device reader, which decodes like pfSense 2.7.x
// (ENT_HTML401: no &apos;), reads the apostrophe back.
func TestDescrApostrophe(t *testing.T) {
	out, _ := compileOK(t, build(defaultSpec()), degraded())
	main := string(out.Main().Data)
	if strings.Contains(main, "&apos;") || !strings.Contains(main, "&#039;") {
		t.Fatalf("want &#039; and no &apos;:\n%s", main)
	}
	d, err := ReadDevice(FileName, out.Main().Data)
	if err != nil {
		t.Fatal(err)
	}
	apos := 0
	for _, r := range d.Rules {
		if strings.Contains(r.Name, "&") {
			t.Errorf("%s: descr shows an entity: %q", r.Ref, r.Name)
		}
		if strings.Contains(r.Name, "'") {
			apos++
		}
	}
	if apos == 0 {
		t.Error("no description read back with an apostrophe")
	}
	if got := pfDecode("provider&apos;s"); got != "provider&apos;s" {
		t.Errorf("pfDecode(&apos;) = %q: pfSense 2.7.x shows it literally", got)
	}
}

// TestResetStatesStep: after the static-port outbound NAT, Netgate's PBX
// guide requires killing the voice hosts' states; the header says so.
func TestResetStatesStep(t *testing.T) {
	out, _ := compileOK(t, build(defaultSpec()), degraded())
	main := string(out.Main().Data)
	for _, want := range []string{"Diagnostics > States", "Filter by each of 10.20.0.0/24", "Kill filtered states"} {
		if !strings.Contains(main, want) {
			t.Errorf("header lacks %q", want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := compileOK(t, build(defaultSpec()), degraded())
	b, _ := compileOK(t, build(defaultSpec()), degraded())
	if len(a.Files) != len(b.Files) {
		t.Fatal("different file counts")
	}
	for i := range a.Files {
		if a.Files[i].Name != b.Files[i].Name || !bytes.Equal(a.Files[i].Data, b.Files[i].Data) {
			t.Fatalf("file %s differs between runs", a.Files[i].Name)
		}
	}
}

func TestAliasNames(t *testing.T) {
	n := newNamer()
	long1 := strings.Repeat("a", 40) + "_one"
	long2 := strings.Repeat("a", 40) + "_two"
	x, y := n.name(long1), n.name(long2)
	if x == y || len(x) > 31 || len(y) > 31 {
		t.Fatalf("bad shortening: %q %q", x, y)
	}
	if n.name(long1) != x {
		t.Fatal("not stable")
	}
	n2 := newNamer()
	n2.Reserve("VW_SIP")
	if got := n2.name("sip"); got == "VW_SIP" || checkAliasName(got) != nil {
		t.Fatalf("collision not avoided: %q", got)
	}
	for _, bad := range []string{"sip", "port", "ANY", "123", "___", "a-b", strings.Repeat("x", 32)} {
		if ValidAliasName(bad) {
			t.Errorf("ValidAliasName(%q) = true", bad)
		}
	}
	// The same inputs give the same names in a fresh namer.
	if newNamer().name(long1) != x {
		t.Fatal("not deterministic")
	}
}

func TestLargeBlocklist(t *testing.T) {
	s := defaultSpec()
	s.block = nil
	for i := 0; i < 6000; i++ {
		s.block = append(s.block, netip.PrefixFrom(netip.AddrFrom4([4]byte{203, byte(i >> 8), byte(i), 1}), 32))
	}
	p := build(s)
	// Without a URL: a gap.
	if _, diags := Compile(p, backends.Options{}); !diags.HasErrors() || !strings.Contains(diags.Error(), "blocklist_url") {
		t.Fatalf("want a gap naming blocklist_url, got %v", diags)
	}
	p.Targets["pfsense"] = &lang.Target{Name: "pfsense", WAN: "wan", LAN: "lan", Extra: map[string]string{"blocklist_url": "https://fw.example/lists/"}}
	out, _ := compileOK(t, p, degraded())
	d, err := readFragment(out.Main().Data)
	if err != nil {
		t.Fatal(err)
	}
	var url string
	for _, a := range d.Aliases.Alias {
		if a.Type == "urltable" {
			url = a.URL
		}
	}
	if url != "https://fw.example/lists/pfsense-blocklist-scanners.txt" {
		t.Fatalf("urltable url = %q", url)
	}
	if len(out.Files) != 2 || out.Files[1].Name != "pfsense-blocklist-scanners.txt" {
		t.Fatalf("files: %v", len(out.Files))
	}
	lines := strings.Split(strings.TrimSpace(string(out.Files[1].Data)), "\n")
	if len(lines) != 6000 {
		t.Fatalf("blocklist file has %d lines", len(lines))
	}
	checkFacts(t, p, d)
}

func TestBlocklistURLForms(t *testing.T) {
	for _, c := range []struct {
		url   string
		lists int
		want  string
	}{
		// {name} is the blocklist's name on every target (docs/language.md).
		{"https://x/{name}.txt", 2, "https://x/spam.txt"},
		{"https://x/dir/", 2, "https://x/dir/f.txt"},
		{"https://x/one.txt", 1, "https://x/one.txt"},
		{"https://x/a/one.txt", 2, "https://x/a/f.txt"},
	} {
		if got := blocklistURL(c.url, "spam", "f.txt", c.lists); got != c.want {
			t.Errorf("blocklistURL(%q) = %q, want %q", c.url, got, c.want)
		}
	}
}

func TestTrackersUniqueUnderCollisions(t *testing.T) {
	c := &compiler{trackers: backends.NewStableIDs(trackerBase, trackerSpan)}
	seen := map[string]bool{}
	for i := 0; i < 20000; i++ {
		tr := c.tracker(fmt.Sprintf("r%d", i%5000)) // repeated keys collide on purpose
		if seen[tr] {
			t.Fatalf("duplicate tracker %s", tr)
		}
		seen[tr] = true
	}
}

func TestDescrEscaping(t *testing.T) {
	s := defaultSpec()
	p := build(s)
	p.Rules[0].Origin.Range.Filename = `we&ird]]>"name<--.hcl`
	out, _ := compileOK(t, p, degraded())
	d, err := readFragment(out.Main().Data)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.Main().Data)
	}
	// What pfSense shows is what its reader makes of the CDATA:
	// html_entity_decode($data, ENT_QUOTES | ENT_SUBSTITUTE | ENT_XML1)
	// (xmlparse.inc cData()), restated here as html.UnescapeString. It
	// must be the raw text, with no entity left over.
	var found bool
	for _, r := range d.Filter.Rule {
		shown := html.UnescapeString(r.Descr)
		if strings.Contains(shown, `we&ird]]>"name<--.hcl`) {
			found = true
		}
		if strings.Contains(shown, "&quot;") || strings.Contains(shown, "&amp;") {
			t.Errorf("pfSense would show an entity: %q", shown)
		}
	}
	if !found {
		t.Errorf("no description shows the raw file name")
	}
}

// A fragment pfSense cannot restore is rejected: an empty area (the old
// `<vlans></vlans>`), or a header whose restore list differs from the areas
// the fragment has.
func TestReaderRejectsUnrestorableFragment(t *testing.T) {
	out, _ := compileOK(t, build(defaultSpec()), degraded())
	good := string(out.Main().Data)
	if _, err := readFragment([]byte(good)); err != nil {
		t.Fatalf("strict reader rejects the output: %v", err)
	}
	for name, bad := range map[string]string{
		"empty vlans": strings.Replace(good, "</pfsense>", "\t<vlans></vlans>\n</pfsense>", 1),
		"order":       strings.Replace(strings.Replace(good, "1. Aliases", "1. X", 1), "2. NAT", "1. Aliases", 1),
		"unlisted":    strings.Replace(good, "       2. NAT\n", "", 1),
	} {
		if bad == good {
			t.Fatalf("%s: the mutation changed nothing", name)
		}
		_, err := readFragment([]byte(bad))
		if err == nil {
			t.Errorf("%s: strict reader accepts it", name)
		}
		if name == "empty vlans" && !strings.Contains(fmt.Sprint(err), "cannot restore an empty area") {
			t.Errorf("empty vlans rejected for another reason: %v", err)
		}
	}
}

// With the parent NIC known (lan_if), the fragment creates the VLAN, lists
// VLANS first among the areas to restore, says exactly how to assign it,
// and passes the phones' traffic in; every tag obeys pfSense's tag rules.
func TestVLANWithoutBase(t *testing.T) {
	p, diags := lang.LoadSource("gw.hcl", []byte(`
target "pfsense" {
  lan_if = "igb1"
}
provider "provider_with_long_name1" {
  signaling = ["203.0.113.10"]
  media     = ["203.0.113.0/26"]
}
voice_vlan "handsets_third_floor_lab" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = ["provider_with_long_name1"]
}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	out, _ := compileOK(t, p, degraded())
	main := string(out.Main().Data)
	d, err := readFragment(out.Main().Data)
	if err != nil {
		t.Fatalf("strict reader: %v\n%s", err, main)
	}
	checkFacts(t, p, d)
	if d.VLANs == nil || len(d.VLANs.VLAN) != 1 || d.VLANs.VLAN[0].If != "igb1" || d.VLANs.VLAN[0].Tag != "20" || d.VLANs.VLAN[0].VLANIf != "igb1.20" {
		t.Fatalf("VLAN not created on igb1: %+v", d.VLANs)
	}
	for _, want := range []string{"1. VLANS\n       2. Aliases", "Interfaces > Assignments: add VLAN 20 on igb1.20", "address 10.20.0.1/24"} {
		if !strings.Contains(main, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	var pass bool
	for _, r := range d.Filter.Rule {
		for _, tg := range []string{r.Tag, r.Tagged} {
			if len(tg) > MaxAliasLen || (tg != "" && !ValidAliasName(tg)) {
				t.Errorf("tag %q is not a valid pfSense tag", tg)
			}
		}
		if vlanPass(p, d.aliasMap(), r) && r.Type == "pass" && r.Protocol == "" {
			pass = true
		}
	}
	if !pass {
		t.Errorf("no rule passes the phones' traffic in on the VLAN")
	}
}
