package draytek

import (
	"bytes"
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"

	"github.com/hashicorp/hcl/v2"
	"go4.org/netipx"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/lang"
)

const fullPolicy = `
target "draytek" {
  wan = "WAN1"
  lan = "LAN1"
}
provider "telnyx" {
  signaling  = ["192.76.120.10", "64.16.250.0/24", "2001:db8:10::/48"]
  media      = ["36.255.198.128/25"]
  transports = ["udp", "tls"]
}
provider "voipms" {
  signaling = ["208.100.60.8", "208.100.60.9"]
  media     = ["208.100.60.0/24"]
}
pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["telnyx", "voipms"]
}
voice_vlan "phones" {
  id         = 20
  subnet     = "10.20.0.0/24"
  providers  = ["telnyx"]
  management = ["10.0.0.0/24"]
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

// tlsOnly has no gap at all on a Vigor: no rate_limit, no voice VLAN (DSCP).
const tlsOnly = `
provider "carrier" {
  signaling  = ["203.0.113.0/28"]
  media      = ["203.0.113.64/26"]
  transports = ["tls"]
  tls_port   = 5062
}
pbx "pbx" {
  address   = "192.168.1.20"
  providers = ["carrier"]
  rtp_ports = "16384-16484"
}
rtp {
  ports = "16384-16484"
}
log {
  dropped = false
}
`

const noPBX = `
provider "a" {
  signaling = ["198.18.0.1"]
  media     = ["198.18.0.0/24"]
}
voice_vlan "desk-phones" {
  id        = 30
  subnets   = ["172.16.30.0/24", "2001:db8:30::/64"]
  providers = ["a"]
}
`

func load(t testing.TB, src string) *lang.Policy {
	t.Helper()
	p, d := lang.LoadSource("gw.hcl", []byte(src))
	if d.HasErrors() {
		t.Fatalf("policy does not load: %v", errorsOnly(d))
	}
	return p
}

func errorsOnly(d hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, x := range d {
		if x.Severity == hcl.DiagError {
			out = append(out, x)
		}
	}
	return out
}

func compileOK(t testing.TB, p *lang.Policy, opts backends.Options) (string, *vigor) {
	t.Helper()
	out, diags := Compile(p, opts)
	if diags.HasErrors() || out == nil {
		t.Fatalf("compile failed: %v", diags)
	}
	if len(out.Files) != 1 || out.Files[0].Name != "draytek.txt" {
		t.Fatalf("want one file draytek.txt, got %+v", out.Files)
	}
	return checkOutput(t, p, opts, out)
}

// checkOutput runs the strict reader and the policy facts over out, and
// compiles again to check that the output is deterministic.
func checkOutput(t testing.TB, p *lang.Policy, opts backends.Options, out *backends.Output) (string, *vigor) {
	t.Helper()
	text := string(out.Main().Data)
	v, err := parseVigor(text)
	if err != nil {
		t.Fatalf("strict reader rejects the output: %v\n%s", err, text)
	}
	if err := checkFacts(p, v); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	again, _ := Compile(p, opts)
	if again == nil || !bytes.Equal(again.Main().Data, out.Main().Data) {
		t.Fatalf("output is not deterministic")
	}
	return text, v
}

func TestFullPolicyDegraded(t *testing.T) {
	p := load(t, fullPolicy)
	text, v := compileOK(t, p, backends.Options{AllowDegraded: true})
	for _, want := range []string{"NOT ENFORCED", "per-source SIP rate limit", "DSCP marking"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The Vigor's flood defence is router-wide and drops media: not by default.
	if len(v.dos) != 0 || strings.Contains(text, "DoS defence (all interfaces and hosts)") {
		t.Errorf("degraded rate_limit turned on the router-wide DoS defence: %v", v.dos)
	}
	if !strings.Contains(text, "rate_limit: nothing router-wide is emitted") || !strings.Contains(text, "= 1000000 pkt/s") {
		t.Errorf("the header does not say that nothing router-wide is emitted, with the threshold the call capacity needs")
	}
	if v.vlanVID[1] != 20 || !v.vlanTagged[1] || !v.vlanOn {
		t.Errorf("voice VLAN not configured: %v %v %v", v.vlanVID, v.vlanTagged, v.vlanOn)
	}
	if m := v.msubnet[2]; m["addr"] != "10.20.0.1" || m["nmask"] != "255.255.255.0" || m["switch"] != "On" {
		t.Errorf("LAN2 addressing: %v", m)
	}
	if !v.commit {
		t.Errorf("no sys commit")
	}
	// IPv6 signaling is whitelisted with an IPv6 object (index 1 is the placeholder).
	if len(v.ip6) != 2 || v.ip6[neverIndex].addr.From() != never6 {
		t.Errorf("want the placeholder and one IPv6 object, got %v", v.ip6)
	}
}

func TestGapsAreErrorsWithoutDegraded(t *testing.T) {
	p := load(t, fullPolicy)
	out, diags := Compile(p, backends.Options{})
	if out != nil || !diags.HasErrors() {
		t.Fatalf("want errors and no output, got %v", diags)
	}
	var summaries []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			summaries = append(summaries, d.Summary)
			if d.Subject == nil {
				t.Errorf("gap %q does not point at the policy block", d.Summary)
			}
		}
	}
	all := strings.Join(summaries, "\n")
	for _, want := range []string{"per-source SIP rate limit", "DSCP marking"} {
		if !strings.Contains(all, want) {
			t.Errorf("missing gap %q in %s", want, all)
		}
	}
}

func TestNoGapPolicy(t *testing.T) {
	p := load(t, tlsOnly)
	text, v := compileOK(t, p, backends.Options{})
	if strings.Contains(text, "NOT ENFORCED") {
		t.Errorf("unexpected degradation")
	}
	if len(v.forwards) != 2 {
		t.Errorf("want a portmap for 5062/tcp and an open port for RTP, got %d", len(v.forwards))
	}
	for _, r := range v.rules {
		if r.log != 0 {
			t.Errorf("log.dropped = false but rule %d %d logs", r.set, r.rule)
		}
	}
}

func TestEgressAndIPv6Subnets(t *testing.T) {
	p := load(t, noPBX)
	_, v := compileOK(t, p, backends.Options{AllowDegraded: true})
	if len(v.forwards) != 0 {
		t.Errorf("no pbx, yet forwards: %v", v.forwards)
	}
	// the VLAN has an IPv6 subnet: its drop rules cover IPv6 phones too
	var v6drop bool
	for _, r := range v.rules {
		if r.dir == 0 && r.action == 1 && strings.HasPrefix(r.src, "o6 ") {
			v6drop = true
		}
	}
	if !v6drop {
		t.Errorf("no IPv6 toll-fraud drop for the IPv6 phone subnet")
	}
}

func TestLargeBlocklistGap(t *testing.T) {
	var b strings.Builder
	b.WriteString("provider \"p\" {\n  signaling = [\"192.0.2.1\"]\n  media = [\"192.0.2.0/24\"]\n}\nblocklist \"huge\" {\n  addresses = [")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&b, "\"10.%d.%d.1\", ", i/200, i%200)
	}
	b.WriteString("]\n}\n")
	p := load(t, b.String())
	out, diags := Compile(p, backends.Options{})
	if out != nil || !diags.HasErrors() || !strings.Contains(fmt.Sprint(diags), `blocklist "huge"`) {
		t.Fatalf("want a gap naming the blocklist, got %v", diags)
	}
	if !strings.Contains(fmt.Sprint(diags), "To fit it: merge it into fewer, wider ranges") {
		t.Errorf("the gap does not say how to make the blocklist fit: %v", diags)
	}
	text, v := compileOK(t, p, backends.Options{AllowDegraded: true})
	if !strings.Contains(text, `blocklist "huge"`) || !strings.Contains(text, "NOT ENFORCED") {
		t.Errorf("degraded output does not say the blocklist is missing")
	}
	if len(v.ip4) > maxIPObj {
		t.Errorf("%d objects", len(v.ip4))
	}
}

func TestBlocklistJustFits(t *testing.T) {
	var b strings.Builder
	b.WriteString("provider \"p\" {\n  signaling = [\"192.0.2.1\"]\n  media = [\"192.0.2.0/24\"]\n}\nblocklist \"big\" {\n  addresses = [")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "\"10.0.%d.1\", ", i)
	}
	b.WriteString("]\n}\n")
	p := load(t, b.String())
	_, v := compileOK(t, p, backends.Options{})
	if len(v.grp4) < 4 {
		t.Errorf("100 blocklist objects should need 4 groups of 32, got %d groups", len(v.grp4))
	}
}

func TestManyProvidersSpillIntoNextSet(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&b, "provider \"prov%02d\" {\n  signaling = [\"198.51.%d.1\"]\n  media = [\"198.51.%d.0/28\"]\n  transports = [\"udp\", \"tcp\"]\n}\n", i, i, 100+i)
	}
	p := load(t, b.String())
	_, v := compileOK(t, p, backends.Options{})
	if len(v.setNext) == 0 {
		t.Errorf("expected the rules to continue in a second filter set")
	}
}

func TestWANIndex(t *testing.T) {
	p := load(t, "target \"draytek\" {\n  wan = \"WAN3\"\n}\n"+tlsOnly)
	text, _ := compileOK(t, p, backends.Options{})
	if !strings.Contains(text, " wan3 1\n") || !strings.Contains(text, "-w 3 1") {
		t.Errorf("forwards not bound to WAN3")
	}
	p = load(t, "target \"draytek\" {\n  wan = \"uplink\"\n  wan_index = \"2\"\n}\n"+tlsOnly)
	text, _ = compileOK(t, p, backends.Options{})
	if !strings.Contains(text, " wan2 1\n") {
		t.Errorf("wan_index not used")
	}
	p = load(t, "target \"draytek\" {\n  wan = \"uplink\"\n}\n"+tlsOnly)
	if out, d := Compile(p, backends.Options{}); out != nil || !d.HasErrors() {
		t.Errorf("an unknown WAN name must be an error")
	}
	p = load(t, "target \"draytek\" {\n  wan_index = \"13\"\n}\n"+tlsOnly)
	if out, d := Compile(p, backends.Options{}); out != nil || !d.HasErrors() {
		t.Errorf("wan_index 13 must be an error")
	}
}

func TestExtraBases(t *testing.T) {
	p := load(t, tlsOnly)
	p.Targets["draytek"] = &lang.Target{Name: "draytek", WAN: "WAN1", LAN: "LAN1", Extra: map[string]string{
		"object_base": "100", "group_base": "20", "service_base": "50", "filter_set": "7", "rule_base": "25", "nat_base": "200"}}
	_, v := compileOK(t, p, backends.Options{})
	for i := range v.ip4 {
		if i < 100 && i != neverIndex {
			t.Errorf("object %d below object_base", i)
		}
	}
	for i := range v.svc {
		if i < 50 {
			t.Errorf("service %d below service_base", i)
		}
	}
	if v.rules[0].set != 7 || v.rules[0].rule != 25 {
		t.Errorf("rules start at %d %d", v.rules[0].set, v.rules[0].rule)
	}
	if v.setNext[7] != 8 {
		t.Errorf("set 7 should continue in set 8: %v", v.setNext)
	}
	p.Targets["draytek"].Extra = map[string]string{"object_base": "0"}
	if out, d := Compile(p, backends.Options{}); out != nil || !d.HasErrors() {
		t.Errorf("object_base 0 must be an error")
	}
}

// A hand-built policy (no loader): the invariants hold for the model alone.
func TestHandBuiltPolicyRefusesAcceptFromAny(t *testing.T) {
	p := &lang.Policy{Root: "hand", Targets: map[string]*lang.Target{}, RTP: lang.PortRange{First: 10000, Last: 20000}}
	p.Rules = []*lang.Rule{{ID: "bad", Chain: lang.ChainWAN, Kind: lang.RuleProviderSIP, InZone: lang.ZoneWAN,
		Services: []lang.Service{{Proto: lang.UDP, Ports: lang.PortRange{First: 5060, Last: 5060}}}, Action: lang.ActionAccept,
		Origin: lang.Origin{Kind: "provider", Name: "x"}}}
	if out, d := Compile(p, backends.Options{AllowDegraded: true}); out != nil || !d.HasErrors() {
		t.Fatalf("an accept of SIP from any must be refused, got %v", d)
	}
	p.Rules[0].Action, p.Rules[0].Chain, p.Rules[0].Kind = lang.ActionDNAT, lang.ChainNAT, lang.RuleDNAT
	p.Rules[0].DNAT = netip.MustParseAddr("10.0.0.5")
	if out, d := Compile(p, backends.Options{AllowDegraded: true}); out != nil || !d.HasErrors() {
		t.Fatalf("a forward from any must be refused, got %v", d)
	}
}

func TestHandBuiltMinimal(t *testing.T) {
	sig := &lang.AddrRef{Name: "provider_x_signaling", Set: lang.NewAddrSet(netip.MustParsePrefix("192.0.2.0/30")), Role: lang.RoleSignaling, Owner: lang.Origin{Kind: "provider", Name: "x"}}
	p := &lang.Policy{Root: "hand", Targets: map[string]*lang.Target{}, RTP: lang.PortRange{First: 10000, Last: 20000},
		Providers: []*lang.Provider{{Name: "x", Signaling: sig.Set, Transports: []lang.Transport{lang.TransportUDP}, SIPPort: 5060, TLSPort: 5061}}}
	sipSvc := []lang.Service{{Proto: lang.UDP, Ports: lang.PortRange{First: 5060, Last: 5060}}}
	p.Rules = []*lang.Rule{
		{ID: "sip", Chain: lang.ChainWAN, Kind: lang.RuleProviderSIP, InZone: lang.ZoneWAN, Src: sig, Services: sipSvc, Action: lang.ActionAccept, Origin: lang.Origin{Kind: "provider", Name: "x"}},
		{ID: "sip_drop", Chain: lang.ChainWAN, Kind: lang.RuleSIPDefault, InZone: lang.ZoneWAN, Services: p.SIPPorts(), Action: lang.ActionDrop, Origin: lang.Origin{Kind: "voicewall"}},
		{ID: "rtp_drop", Chain: lang.ChainWAN, Kind: lang.RuleRTPDefault, InZone: lang.ZoneWAN, Services: []lang.Service{{Proto: lang.UDP, Ports: p.RTP}}, Action: lang.ActionDrop, Origin: lang.Origin{Kind: "rtp"}},
	}
	_, v := compileOK(t, p, backends.Options{})
	if len(v.rules) != 6 {
		t.Errorf("want 3 rules x 2 directions, got %d", len(v.rules))
	}
	if v.ip4[2].addr.String() != "192.0.2.0-192.0.2.3" || v.ip4[neverIndex].addr.From() != never4 {
		t.Errorf("objects 1, 2 = %v, %v", v.ip4[1].addr, v.ip4[2].addr)
	}
}

func TestNamer(t *testing.T) {
	n := newNamer()
	seen := map[string]bool{}
	for i := 0; i < 500; i++ {
		for _, base := range []string{"a_very_long_provider_name_sig", "a_very_long_provider_name_sig" + fmt.Sprint(i), "short", "bl_x" + fmt.Sprint(i%7)} {
			got := n.name(base)
			if len(got) > maxName || seen[got] || !nameRE.MatchString(got) {
				t.Fatalf("bad name %q for %q", got, base)
			}
			seen[got] = true
		}
	}
	if a, b := newNamer().name("a_very_long_provider_name_sig"), newNamer().name("a_very_long_provider_name_sig"); a != b {
		t.Errorf("names are not deterministic: %q %q", a, b)
	}
}

func TestCommentCannotInject(t *testing.T) {
	p := load(t, tlsOnly)
	p.Root = "evil\nsys sip_alg -e 1\n"
	text, _ := compileOK(t, p, backends.Options{})
	if strings.Contains(text, "\nsys sip_alg -e 1") {
		t.Fatalf("a newline in a comment became a command")
	}
}

// Examples written by the team, when they exist.
func TestExamples(t *testing.T) {
	var n int
	for _, ex := range testenv.Examples(t, filepath.Join("..", "..")) {
		d := ex.Dir
		n++
		t.Run(ex.Name, func(t *testing.T) {
			p, diags := lang.Load(d)
			if diags.HasErrors() {
				t.Skipf("example does not load: %v", diags)
			}
			compileOK(t, p, backends.Options{AllowDegraded: true})
			if out, diags := Compile(p, backends.Options{}); out == nil && !diags.HasErrors() {
				t.Errorf("no output and no error")
			}
		})
	}
	if n == 0 {
		t.Skip("no examples yet")
	}
}

// ---------------------------------------------------------------------------
// facts the policy asked for, checked on the parsed output

func subset(a, b *netipx.IPSet) bool {
	if a == nil {
		return true
	}
	var x netipx.IPSetBuilder
	x.AddSet(a)
	x.RemoveSet(b)
	s, _ := x.IPSet()
	return len(s.Ranges()) == 0
}

func union(sets ...lang.AddrSet) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, s := range sets {
		b.AddSet(s.IPSet())
	}
	s, _ := b.IPSet()
	return s
}

func family(s *netipx.IPSet, v6 bool) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, r := range s.Ranges() {
		if r.From().Is6() == v6 {
			b.AddRange(r)
		}
	}
	out, _ := b.IPSet()
	return out
}

func overlaps(a, b [2]int) bool { return a[0] <= b[1] && b[0] <= a[1] }

func covers(ps []rPorts, proto int, r lang.PortRange) bool {
	for _, p := range ps {
		if (p.proto == proto || p.proto == 0) && p.dst[0] <= int(r.First) && int(r.Last) <= p.dst[1] && p.src == [2]int{1, 65535} {
			return true
		}
	}
	return false
}

func touches(ps []rPorts, svcs []lang.Service) bool {
	for _, p := range ps {
		for _, s := range svcs {
			if (p.proto == 0 || p.proto == int(s.Proto)) && overlaps(p.dst, [2]int{int(s.Ports.First), int(s.Ports.Last)}) {
				return true
			}
		}
	}
	return false
}

func checkFacts(p *lang.Policy, v *vigor) error {
	if v.firstCommand != "sys sip_alg -e 0" {
		return fmt.Errorf("first command is %q, want sys sip_alg -e 0", v.firstCommand)
	}
	for _, x := range v.sipALG {
		if x != "0" {
			return fmt.Errorf("SIP ALG enabled")
		}
	}
	if used := v.usedIndexes(); !reflect.DeepEqual(used, v.header) {
		return fmt.Errorf("header indexes %v != used indexes %v", v.header, used)
	}
	// filter sets chain in order
	sets := map[int]bool{}
	for _, r := range v.rules {
		sets[r.set] = true
	}
	for s := range sets {
		if sets[s+1] && v.setNext[s] != s+1 {
			return fmt.Errorf("filter set %d does not continue in %d", s, s+1)
		}
	}
	var sigs, media []lang.AddrSet
	for _, pr := range p.Providers {
		sigs = append(sigs, pr.Signaling)
		media = append(media, pr.Media)
	}
	sigAll, mediaAll := union(sigs...), union(media...)
	sip := p.SIPPorts()
	rtp := []lang.Service{}
	for _, r := range p.RTPRanges() {
		rtp = append(rtp, lang.Service{Proto: lang.UDP, Ports: r})
	}
	type resolved struct {
		*rRule
		src, dst rAddr
		svc      []rPorts
	}
	var rs []resolved
	for _, r := range v.rules {
		s, _ := v.addrs(r.src)
		d, _ := v.addrs(r.dst)
		sv, _ := v.services(r.svc)
		rs = append(rs, resolved{r, s, d, sv})
	}
	firstCatchAll := len(rs)
	for i, r := range rs {
		wan := r.dir == 1 || r.dir == 3
		if r.action == 0 && r.src.any && r.dst.any {
			return fmt.Errorf("ipf rule %d %d passes any to any", r.set, r.rule)
		}
		if r.action == 0 && wan {
			if r.src.any {
				return fmt.Errorf("ipf rule %d %d passes from any on the WAN", r.set, r.rule)
			}
			sipRule, rtpRule := touches(r.svc, sip), touches(r.svc, rtp)
			switch {
			case sipRule && rtpRule:
				// The policy's RTP range includes a SIP port (lang warns,
				// VW112): that port is SIP from signaling and RTP from media.
				if !subset(r.src.set, union(append(sigs, media...)...)) {
					return fmt.Errorf("ipf rule %d %d passes SIP/RTP from outside the providers' signaling and media", r.set, r.rule)
				}
			case sipRule && !subset(r.src.set, sigAll):
				return fmt.Errorf("ipf rule %d %d passes SIP from outside the providers' signaling", r.set, r.rule)
			case rtpRule && !subset(r.src.set, mediaAll):
				return fmt.Errorf("ipf rule %d %d passes RTP from outside the providers' media", r.set, r.rule)
			}
		}
		if r.action == 1 && r.dir == 1 && r.src.any && r.dst.any && (r.opts["-M"] == "vw_sipx" || r.opts["-M"] == "vw_rtpx") && firstCatchAll == len(rs) {
			firstCatchAll = i
		}
		// allow_out entries and RTP to a symmetric-RTP provider (media
		// unpublished) are the policy's own egress beyond the providers.
		beyond := strings.HasPrefix(r.opts["-M"], "vw_out_") || strings.HasPrefix(r.opts["-M"], "vw_prtps")
		if r.action == 0 && r.dir == 0 && !beyond && (r.dst.any || !subset(r.dst.set, union(append(sigs, media...)...))) {
			return fmt.Errorf("ipf rule %d %d lets phones send voice outside the providers", r.set, r.rule)
		}
	}
	// catch-all drops of SIP and RTP from any, after every WAN pass
	for _, want := range append(append([]lang.Service{}, sip...), rtp...) {
		found := false
		for _, r := range rs {
			if r.action == 1 && r.dir == 1 && r.src.any && covers(r.svc, int(want.Proto), want.Ports) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("no catch-all drop of %s from the WAN", want)
		}
	}
	for i, r := range rs {
		if r.action == 0 && r.dir == 1 && i > firstCatchAll && (touches(r.svc, sip) || touches(r.svc, rtp)) {
			return fmt.Errorf("ipf rule %d %d passes SIP/RTP after the catch-all drop", r.set, r.rule)
		}
	}
	// every provider is whitelisted for each transport and family, RTP from media
	passFrom := func(set *netipx.IPSet, proto int, ports lang.PortRange) bool {
		for _, r := range rs {
			if r.action == 0 && r.dir == 1 && !r.src.any && covers(r.svc, proto, ports) && subset(set, r.src.set) {
				return true
			}
		}
		return false
	}
	for _, pr := range p.Providers {
		for _, v6 := range []bool{false, true} {
			sig := family(pr.Signaling.IPSet(), v6)
			if len(sig.Ranges()) > 0 {
				for _, s := range pr.SIPServices() {
					if !passFrom(sig, int(s.Proto), s.Ports) {
						return fmt.Errorf("provider %s: no pass of %s from its signaling (v6=%v)", pr.Name, s, v6)
					}
				}
			}
			med := family(pr.Media.IPSet(), v6)
			if len(med.Ranges()) > 0 && !passFrom(med, int(lang.UDP), p.RTP) {
				return fmt.Errorf("provider %s: no pass of RTP from its media (v6=%v)", pr.Name, v6)
			}
		}
	}
	// blocklists first (when they fit the object tables)
	for _, b := range p.Blocklists {
		if b.Addresses.Empty() || !fitsObjects(b) {
			continue
		}
		var got netipx.IPSetBuilder
		for _, r := range rs {
			if r.action == 0 {
				break
			}
			if r.dir == 1 && !r.src.any && subset(r.src.set, b.Addresses.IPSet()) {
				got.AddSet(r.src.set)
			}
		}
		g, _ := got.IPSet()
		if !subset(b.Addresses.IPSet(), g) {
			return fmt.Errorf("blocklist %s is not dropped before the first pass", b.Name)
		}
	}
	// forwards to the PBX
	for _, f := range v.forwards {
		src, _ := v.addrs(map[int]string{0: "o", 1: "g"}[f.srcType] + " " + fmt.Sprint(f.srcIdx))
		s := lang.Service{Proto: map[string]lang.Proto{"udp": lang.UDP, "tcp": lang.TCP}[f.proto], Ports: lang.PortRange{First: uint16(f.first), Last: uint16(f.last)}}
		if touches([]rPorts{{proto: int(s.Proto), dst: [2]int{f.first, f.last}}}, sip) && !subset(src.set, sigAll) {
			return fmt.Errorf("%s %d forwards SIP from outside the signaling", f.kind, f.idx)
		}
		if touches([]rPorts{{proto: int(s.Proto), dst: [2]int{f.first, f.last}}}, rtp) && !subset(src.set, mediaAll) {
			return fmt.Errorf("%s %d forwards RTP from outside the media", f.kind, f.idx)
		}
	}
	for _, x := range p.PBXes {
		if !x.Address.Is4() {
			continue
		}
		for _, pr := range x.Providers {
			need := map[lang.Service]*netipx.IPSet{}
			if sig := family(pr.Signaling.IPSet(), false); len(sig.Ranges()) > 0 {
				for _, s := range pr.SIPServices() {
					need[s] = sig
				}
			}
			if med := family(pr.Media.IPSet(), false); len(med.Ranges()) > 0 {
				need[lang.Service{Proto: lang.UDP, Ports: x.RTPPorts}] = med
			}
			for s, from := range need {
				found := false
				for _, f := range v.forwards {
					src, _ := v.addrs(map[int]string{0: "o", 1: "g"}[f.srcType] + " 1 " + fmt.Sprint(f.srcIdx))
					if f.priv == x.Address && f.proto == s.Proto.String() && f.first <= int(s.Ports.First) && int(s.Ports.Last) <= f.last && subset(from, src.set) {
						found = true
					}
				}
				if !found {
					return fmt.Errorf("pbx %s: no forward of %s from provider %s", x.Name, s, pr.Name)
				}
			}
		}
	}
	return nil
}

func fitsObjects(b *lang.Blocklist) bool {
	return b.Addresses.Count(false) <= maxIPObj/2 && b.Addresses.Count(true) <= maxIP6Obj/2
}

// The strict reader holds object references to the two-number form of the
// Vigor3912 UG (pp. 636-637, "o <field> <index>"): the one-number form the
// backend once wrote ("o 1") is rejected, and so are fields beyond the
// slots a rule side has and index 0 ("none").
func TestReaderRejectsOneNumberObjectRef(t *testing.T) {
	p := load(t, tlsOnly)
	text, _ := compileOK(t, p, backends.Options{})
	ref := regexp.MustCompile(`-([sd]) "(o|g|o6|g6) 1 (\d+)"`)
	if !ref.MatchString(text) {
		t.Fatalf("no two-number object reference in the output:\n%s", text)
	}
	for name, repl := range map[string]string{
		"one number":  `-$1 "$2 $3"`,
		"field 4":     `-$1 "$2 4 $3"`,
		"index 0":     `-$1 "$2 1 0"`,
		"three slots": `-$1 "$2 1 $3 1"`,
	} {
		bad := ref.ReplaceAllString(text, repl)
		if _, err := parseVigor(bad); err == nil {
			t.Errorf("%s: the strict reader accepts %q", name, ref.FindString(bad))
		}
	}
	// The service reference has no field and stays one number.
	if !regexp.MustCompile(`-S "[og] \d+"`).MatchString(text) {
		t.Errorf("service references are not -S \"o N\" / \"g N\"")
	}
}

// An open-port line that names no entry (srv nat openport -c 1, a help or
// view command) or no local host forwards nothing: the device reader adds
// no forward for it, so audit reports no "SIP open to any" on it; a
// complete entry is still read.
func TestDeviceOpenportWithoutEntryOrHost(t *testing.T) {
	src := "srv nat openport -c 1\r\n" +
		"srv nat openport -v\r\n" +
		"srv nat openport 2 1 -a 1 -c SIP -w 1 1 -p UDP -s 5060 -e 5060\r\n" +
		"srv nat openport 3 1 -a 1 -c RTP -i 192.168.1.10 -w 1 1 -p UDP -s 10000 -e 20000\r\n"
	d, err := ReadDevice("vigor.txt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Forwards) != 1 || d.Forwards[0].Loc.Line != 4 || d.Forwards[0].To.String() != "192.168.1.10" {
		for _, f := range d.Forwards {
			t.Logf("forward %s at line %d to %s", f.Ref, f.Loc.Line, f.To)
		}
		t.Fatalf("want only the complete entry of line 4, got %d forwards", len(d.Forwards))
	}
}

// TestFloodDefence reads the output back into devmodel. By default an
// accepted rate_limit gap emits no router-wide flood defence (at the
// factory 2000 pkt/s it discards RTP of about 40 calls); with
// flood_defence = true the udpflood threshold carries the policy's call
// capacity (RTP ranges / 2 calls x 50 pkt/s x 2) and the header states it.
func TestFloodDefence(t *testing.T) {
	for _, optIn := range []bool{false, true} {
		p := load(t, fullPolicy)
		p.Targets[Target] = &lang.Target{Name: Target, WAN: "WAN1", LAN: "LAN1", Extra: map[string]string{}}
		if optIn {
			p.Targets[Target].Extra[AttrFloodDefence] = "true"
		}
		out, diags := Compile(p, backends.Options{AllowDegraded: true})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		text := string(out.Main().Data)
		if _, err := parseVigor(text); err != nil {
			t.Fatalf("strict reader: %v", err)
		}
		d, err := ReadDevice(FileName, out.Main().Data)
		if err != nil {
			t.Fatal(err)
		}
		calls, pps := FloodThreshold(p)
		// PBX 10000-20000 and the phones' 10000-20000: 5000 calls each.
		if calls != 10000 || pps != 10000*50*2 {
			t.Fatalf("capacity %d calls, %d pkt/s", calls, pps)
		}
		var udp *devmodel.Limit
		for _, l := range d.Limits {
			if len(l.Services) == 1 && l.Services[0].Proto == devmodel.UDP {
				udp = l
			}
		}
		switch {
		case !optIn && len(d.Limits) != 0:
			t.Errorf("default: router-wide limits %+v", d.Limits)
		case optIn && (udp == nil || udp.PPS != pps || udp.PPS < calls*50):
			t.Errorf("flood_defence: udpflood limit %+v, want %d pkt/s", udp, pps)
		case optIn && !strings.Contains(text, "udpflood threshold 10000 calls"):
			t.Errorf("flood_defence: the header does not state the threshold's derivation")
		}
	}
	// A small PBX: never below the factory default.
	p := load(t, tlsOnly)
	if calls, pps := FloodThreshold(p); calls != 50 || pps != 5000 {
		t.Errorf("tlsOnly: %d calls, %d pkt/s", calls, pps)
	}
}

// TestBothReadingsAgree reads every example's output, and a policy with
// IPv4 and IPv6 objects and groups, back into devmodel twice: with
// -s "o 1 N" as slot 1 holding object N (the UG's syntax line) and as the
// list of objects 1 and N (the UG's example). Every rule must match the
// same addresses both ways: index 1 is the never-matching placeholder.
// The control: an object of the policy's at index 1 makes them differ.
func TestBothReadingsAgree(t *testing.T) {
	srcs := map[string][]byte{}
	for _, dir := range testenv.ExampleDirs(t, "../..") {
		p, diags := lang.Load(dir)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if out, diags := Compile(p, backends.Options{AllowDegraded: true}); !diags.HasErrors() {
			srcs[filepath.Base(dir)] = out.Main().Data
		}
	}
	full, _ := Compile(load(t, fullPolicy), backends.Options{AllowDegraded: true})
	srcs["full"] = full.Main().Data
	differ := func(src []byte) (string, bool) {
		slot, err1 := readDevice(FileName, src, false)
		list, err2 := readDevice(FileName, src, true)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for i, r := range slot.Rules {
			l := list.Rules[i]
			if !sameAddr(r.Src, l.Src) || !sameAddr(r.Dst, l.Dst) {
				return r.Ref, true
			}
		}
		return "", false
	}
	refs := 0
	for name, src := range srcs {
		refs += strings.Count(string(src), `"o 1 `) + strings.Count(string(src), `"g 1 `) + strings.Count(string(src), `"o6 1 `) + strings.Count(string(src), `"g6 1 `)
		if ref, bad := differ(src); bad {
			t.Errorf("%s: %s matches other addresses under the list reading", name, ref)
		}
	}
	if refs == 0 {
		t.Fatal("no object references checked")
	}
	// Control: without the placeholder (object 1 a real address), the
	// list reading widens the rules.
	broken := strings.ReplaceAll(string(srcs["full"]), "-a 1 "+never4.String(), "-a 1 198.18.0.1")
	if _, bad := differ([]byte(broken)); !bad {
		t.Error("the readings agree even with a real object at index 1: the test proves nothing")
	}
}

// sameAddr: the same addresses a packet can carry (the placeholder's
// reserved addresses aside).
func sameAddr(a, b devmodel.Addr) bool {
	if a.Any || b.Any || a.Set == nil || b.Set == nil {
		return a.Any == b.Any && (a.Set == nil) == (b.Set == nil)
	}
	real := func(s *netipx.IPSet) *netipx.IPSet {
		var bld netipx.IPSetBuilder
		bld.AddSet(s)
		bld.Remove(never4)
		bld.Remove(never6)
		out, _ := bld.IPSet()
		return out
	}
	return real(a.Set).Equal(real(b.Set))
}

// --base is refused for DrayTek, saying why and what to do instead: it was
// silently ignored.
func TestBaseRefused(t *testing.T) {
	p, diags := lang.LoadSource("p.hcl", []byte(`target "draytek" {}
provider "carrier" {
  signaling = ["203.0.113.10"]
  media     = ["203.0.113.0/26"]
  transports = ["udp"]
}
pbx "pbx" {
  address = "10.20.0.10"
}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	out, diags := Compile(p, backends.Options{AllowDegraded: true, Base: []byte("sys sip_alg -e 0\n")})
	if out != nil || !diags.HasErrors() || !strings.Contains(diags.Error(), "--base is not supported for DrayTek") || !strings.Contains(diags.Error(), "rule_base") {
		t.Errorf("want --base refused with a way forward, got %v", diags)
	}
}
