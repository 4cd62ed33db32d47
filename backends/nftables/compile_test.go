package nftables

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
	"go4.org/netipx"
)

func load(t *testing.T, src string) *lang.Policy {
	t.Helper()
	p, diags := lang.LoadSource("gw.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	return p
}

func examplePolicies(t *testing.T) map[string]*lang.Policy {
	t.Helper()
	dirs := testenv.ExampleDirs(t, "../..")
	out := map[string]*lang.Policy{}
	for _, d := range dirs {
		p, diags := lang.Load(d)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", d, diags)
		}
		out[filepath.Base(d)] = p
	}
	if len(out) == 0 {
		t.Fatal("no examples")
	}
	return out
}

// Keys identify rules for plan/apply and status: they must be unique in the
// table, and each must survive the comment round trip.
func TestRuleKeysUnique(t *testing.T) {
	for name, p := range examplePolicies(t) {
		seen := map[string]bool{}
		for _, c := range Build(p).Chains {
			for _, r := range c.Rules {
				if seen[r.Key] {
					t.Errorf("%s: duplicate rule key %q", name, r.Key)
				}
				seen[r.Key] = true
				if r.Comment != "" && KeyOf(r.Comment) != r.Key {
					t.Errorf("%s: comment %q does not round-trip key %q", name, r.Comment, r.Key)
				}
				if len(r.Comment) > maxComment {
					t.Errorf("%s: comment over %d bytes: %q", name, maxComment, r.Comment)
				}
			}
		}
	}
}

// Principle 3: the compiler never emits a rule that accepts or forwards
// SIP or RTP from the WAN without a source set.
func TestNeverAcceptsVoiceFromAny(t *testing.T) {
	for name, p := range examplePolicies(t) {
		for _, c := range Build(p).Chains {
			for _, r := range c.Rules {
				var wan, src, ports, established bool
				var verdict string
				for _, s := range r.Stmts {
					switch s := s.(type) {
					case MatchIface:
						wan = wan || (!s.Out && !s.Neg && s.Name == p.Target(&langSpec).WAN)
					case MatchAddrSet:
						src = src || s.Dir == Src
					case MatchPorts:
						ports = true
					case MatchCtState:
						established = true
					case Verdict:
						verdict = s.Kind
					case DNAT:
						verdict = "dnat"
					}
				}
				if wan && ports && !src && !established && (verdict == "accept" || verdict == "dnat") && !p.RemoteException(r.Source) {
					t.Errorf("%s: %s accepts voice from any: %s", name, c.Name, RuleText(r))
				}
			}
		}
	}
}

func TestNoCtHelper(t *testing.T) {
	for name, p := range examplePolicies(t) {
		if txt := Render(Build(p)); strings.Contains(txt, "helper") {
			t.Errorf("%s: output mentions a ct helper", name)
		}
	}
}

func TestElementWrapping(t *testing.T) {
	var b netipx.IPSetBuilder
	for _, s := range []string{"192.0.2.1/32", "192.0.2.3/32", "192.0.2.5/32", "198.51.100.0/24", "203.0.113.7/32", "203.0.113.8/31"} {
		b.AddPrefix(netip.MustParsePrefix(s))
	}
	s4, _ := b.IPSet()
	var b6 netipx.IPSetBuilder
	b6.AddPrefix(netip.MustParsePrefix("2001:db8::1/128"))
	b6.AddPrefix(netip.MustParsePrefix("2001:db8:1::/48"))
	s6, _ := b6.IPSet()
	tab := &Table{Sets: []*Set{
		{Name: "a_v4", Type: SetIPv4, Elements: lang.AddrSetOf(s4).Ranges(false)},
		{Name: "a_v6", Type: SetIPv6, Elements: lang.AddrSetOf(s6).Ranges(true)},
	}}
	want := "table inet voicewall {\n" +
		"\tset a_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n" +
		"\t\telements = { 192.0.2.1, 192.0.2.3,\n\t\t\t     192.0.2.5, 198.51.100.0/24,\n\t\t\t     203.0.113.7-203.0.113.9 }\n\t}\n\n" +
		"\tset a_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n" +
		"\t\telements = { 2001:db8::1,\n\t\t\t     2001:db8:1::/48 }\n\t}\n}\n"
	if diff := cmp.Diff(want, Render(tab)); diff != "" {
		t.Error(diff)
	}
}

func TestDualStackRules(t *testing.T) {
	p := load(t, `
provider "c" {
  signaling  = ["203.0.113.10", "2001:db8:10::/48"]
  media      = ["203.0.113.64/26"]
  transports = ["tls"]
}
pbx "x" {
  address = "10.1.0.5"
}
`)
	txt := Render(Build(p))
	for _, want := range []string{
		`iifname "eth0" ip saddr @provider_c_signaling_v4 tcp dport 5061 counter packets 0 bytes 0 accept comment "provider_c_sip_tls_v4: provider c (gw.hcl:2)"`,
		`iifname "eth0" ip6 saddr @provider_c_signaling_v6 tcp dport 5061 counter packets 0 bytes 0 accept comment "provider_c_sip_tls_v6: provider c (gw.hcl:2)"`,
		`iifname "eth0" ip saddr @provider_c_signaling_v4 tcp dport 5061 counter packets 0 bytes 0 dnat ip to 10.1.0.5 comment "dnat_x_c_sip_tls_v4: pbx x (gw.hcl:7)"`,
		`iifname "eth0" udp dport 5060 counter packets 0 bytes 0 drop comment "closed_5060_udp: voicewall"`,
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("missing rule:\n%s\nin:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "provider_c_media_v6") {
		t.Error("a v6 media set was rendered for a v4-only media list")
	}
	if strings.Contains(txt, "dnat ip6") {
		t.Error("v6 traffic DNATed to a v4 PBX")
	}
}

// The real nft accepts what Render writes for policies exercising every
// statement kind (the golden test checks the examples).
func TestNftAcceptsEveryStatement(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTools(t, "nft", "unshare")
	p := load(t, `
provider "c" {
  signaling  = ["203.0.113.10", "2001:db8:10::/48"]
  media      = ["203.0.113.64/26", "2001:db8:20::/48"]
  transports = ["udp", "tcp", "tls"]
  sip_port   = 5080
  tls_port   = 5081
}
pbx "x" {
  address   = "2001:db8:abcd::5"
  rtp_ports = "30000-30100"
}
voice_vlan "v" {
  id         = 4094
  subnets    = ["10.30.0.1/24", "2001:db8:abcd:30::/64"]
  providers  = ["c"]
  management = ["10.0.0.0/24"]
  management_ports = ["80/tcp", "69/udp"]
  dscp       = "af41"
}
blocklist "b" {
  addresses = ["198.51.100.0/24", "2001:db8:bad::/48", "192.0.2.5"]
}
close {
  ports = ["2000-2010/tcp", "5038/tcp"]
}
rate_limit {
  sip   = "3/minute"
  burst = 5
}
log {
  prefix = "vw:edge"
  rate   = "1/second"
}
`)
	dir := t.TempDir()
	path := filepath.Join(dir, "t.nft")
	if err := writeFile(path, Render(Build(p))); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unshare", "-n", "nft", "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("nft -c: %v\n%s\n%s", err, out, Render(Build(p)))
	}
}
