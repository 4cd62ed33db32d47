package lang_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/voicewall/voicewall/lang"
)

const remotePolicy = `
provider "carrier" {
  signaling  = ["203.0.113.10"]
  media      = ["203.0.113.0/26"]
  transports = ["tls"]
}
pbx "asterisk" {
  address   = "10.20.0.10"
  address6  = "2001:db8:20::10"
  providers = ["carrier"]
  rtp_ports = "10000-12000"
}
voice_vlan "phones" {
  id         = 20
  subnet     = "10.30.0.0/24"
  providers  = ["carrier"]
  management = ["10.0.0.0/24"]
}
remote_phones {
  pbx       = "asterisk"
  rate      = "2/minute"
  burst     = 5
  trust_for = "3h"
}
ban {
  default = "2h"
  never   = ["192.0.2.0/24"]
}
watch "asterisk" {
  failures = 3
  within   = "5m"
}
rate_limit {
  sip = "10/second"
}
log {
  dropped = true
}
`

func TestRemotePhonesDecode(t *testing.T) {
	p := mustLoadSource(t, "remote.hcl", remotePolicy)
	rp := p.RemotePhones
	if rp == nil || rp.PBX.Name != "asterisk" || rp.TrustFor != 3*time.Hour || rp.Rate.SIP.String() != "2/minute" || rp.Rate.Burst != 5 {
		t.Fatalf("remote_phones = %+v", rp)
	}
	if len(rp.Transports) != 1 || rp.Transports[0] != lang.TransportTLS {
		t.Errorf("default transports = %v, want [tls]", rp.Transports)
	}
	if p.Ban.Default != 2*time.Hour || len(p.Watches) != 1 || p.Watches[0].BanFor != 2*time.Hour || p.Watches[0].Failures != 3 || p.Watches[0].Log != "/var/log/asterisk/security" {
		t.Errorf("ban = %+v, watch = %+v", p.Ban, p.Watches[0])
	}
	if errs := p.Invariants(); len(errs) != 0 {
		t.Errorf("invariants: %v", errs)
	}
}

func TestRemotePhonesEvaluate(t *testing.T) {
	p := mustLoadSource(t, "remote.hcl", remotePolicy)
	stranger := netip.MustParseAddr("198.51.100.66")
	for _, c := range []struct {
		name            string
		src             string
		proto           lang.Proto
		port            uint16
		trusted, banned bool
		want            lang.Verdict
		kind            lang.RuleKind
		dnat            string
	}{
		{"untrusted SIP over TLS is forwarded", "198.51.100.66", lang.TCP, 5061, false, false, lang.Accept, lang.RuleRemoteSIP, "10.20.0.10"},
		{"untrusted RTP is dropped", "198.51.100.66", lang.UDP, 11000, false, false, lang.Drop, lang.RuleRTPDefault, ""},
		{"trusted RTP is forwarded", "198.51.100.66", lang.UDP, 11000, true, false, lang.Accept, lang.RuleRemoteTrustedRTP, "10.20.0.10"},
		{"trusted RTP outside the PBX range is dropped", "198.51.100.66", lang.UDP, 15000, true, false, lang.Drop, lang.RuleRTPDefault, ""},
		{"trusted SIP is accepted", "198.51.100.66", lang.TCP, 5061, true, false, lang.Accept, lang.RuleRemoteTrustedSIP, "10.20.0.10"},
		{"cleartext SIP is not remote phones'", "198.51.100.66", lang.UDP, 5060, false, false, lang.Drop, lang.RuleClosed, ""},
		{"banned source is dropped before anything", "198.51.100.66", lang.TCP, 5061, true, true, lang.Drop, lang.RuleBan, ""},
		{"banned source is dropped on any port", "198.51.100.66", lang.TCP, 443, false, true, lang.Drop, lang.RuleBan, ""},
		{"IPv6 SIP goes to address6", "2001:db8:99::5", lang.TCP, 5061, false, false, lang.Accept, lang.RuleRemoteSIP, "2001:db8:20::10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := netip.MustParseAddr(c.src)
			_ = stranger
			res := p.Evaluate(lang.Packet{Src: src, Proto: c.proto, DstPort: c.port, Trusted: c.trusted, Banned: c.banned})
			if res.Verdict != c.want || res.Rule == nil || res.Rule.Kind != c.kind {
				t.Fatalf("got %s by %v, want %s by %s\n%v", res.Verdict, res.Rule, c.want, c.kind, res.Trace)
			}
			if got := res.DNAT; (c.dnat == "") != !got.IsValid() || c.dnat != "" && got.String() != c.dnat {
				t.Errorf("dnat = %v, want %q", got, c.dnat)
			}
		})
	}
}

func TestRemoteInvariantOnlyWithLimit(t *testing.T) {
	p := mustLoadSource(t, "remote.hcl", remotePolicy)
	// Take the limit out: the SIP-from-any accept is no longer allowed.
	var kept []*lang.Rule
	for _, r := range p.Rules {
		if r.Kind != lang.RuleRemoteRateLimit {
			kept = append(kept, r)
		}
	}
	p.Rules = kept
	errs := p.Invariants()
	if len(errs) == 0 {
		t.Fatal("SIP from any without its per-source limit passed the invariants")
	}
	// An RTP accept from any is never allowed, limit or not.
	p = mustLoadSource(t, "remote.hcl", remotePolicy)
	for _, r := range p.Rules {
		if r.Kind == lang.RuleRemoteTrustedRTP {
			r.Src = nil
		}
	}
	if errs := p.Invariants(); len(errs) == 0 || !strings.Contains(errs[0].Error(), "remote_trusted_rtp") {
		t.Fatalf("RTP from any passed the invariants: %v", errs)
	}
}

func TestProtected(t *testing.T) {
	p := mustLoadSource(t, "remote.hcl", remotePolicy)
	for _, c := range []struct{ pfx, block string }{
		{"203.0.113.10/32", `provider "carrier" signaling (remote.hcl:2)`},
		{"203.0.113.40/32", `provider "carrier" media (remote.hcl:2)`},
		{"203.0.0.0/16", `provider "carrier" signaling (remote.hcl:2)`},
		{"10.0.0.7/32", `voice_vlan "phones" management (remote.hcl:13)`},
		{"10.30.0.9/32", `voice_vlan "phones" subnets (remote.hcl:13)`},
		{"10.20.0.10/32", `pbx "asterisk" address (remote.hcl:7)`},
		{"2001:db8:20::10/128", `pbx "asterisk" address (remote.hcl:7)`},
		{"192.0.2.77/32", `ban never (remote.hcl:27)`},
		{"::ffff:192.0.2.77/128", `ban never (remote.hcl:27)`},
		{"198.51.100.66/32", ""},
	} {
		got, ok := p.Protected(netip.MustParsePrefix(c.pfx))
		if c.block == "" {
			if ok {
				t.Errorf("%s: protected by %s, want not protected", c.pfx, got)
			}
			continue
		}
		if !ok || got.String() != c.block {
			t.Errorf("%s: got %q (%v), want %q", c.pfx, got, ok, c.block)
		}
	}
}

func TestResponsiveErrors(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"unknown pbx", `remote_phones { pbx = "astrisk" }`, `Did you mean "asterisk"?`},
		{"bad duration", `remote_phones {
  pbx = "asterisk"
  trust_for = "2 hours"
}`, `trust_for: "2 hours" is not a duration`},
		{"bad transport", `remote_phones {
  pbx = "asterisk"
  transports = ["tsl"]
}`, `Did you mean "tls"?`},
		{"unknown watch format", `watch "freeswitch" {}`, `is not one`},
		{"relative log", `watch "asterisk" { log = "security" }`, "absolute path"},
		{"closed remote port", `remote_phones { pbx = "asterisk" }
close { ports = ["5061/tcp"] }`, "remote phones' SIP port"},
		{"unknown attribute", `ban { defualt = "1h" }`, `Did you mean "default"?`},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := `pbx "asterisk" { address = "10.20.0.10" }
` + c.src + "\n"
			_, diags := lang.LoadSource("r.hcl", []byte(src))
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			all := fmtDiags(diags)
			if !strings.Contains(all, c.want) {
				t.Fatalf("want %q in:%s", c.want, all)
			}
			for _, d := range diags {
				if d.Severity == 1 && d.Subject == nil {
					t.Errorf("error without a position: %s", d.Summary)
				}
			}
		})
	}
}

func TestRemotePhonesCleartextWarned(t *testing.T) {
	src := strings.Replace(remotePolicy, `  pbx       = "asterisk"`, `  pbx       = "asterisk"
  transports = ["udp", "tls"]`, 1)
	p, diags := lang.LoadSource("remote.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(fmtDiags(diags))
	}
	found := false
	for _, d := range diags {
		found = found || lang.FindingID(d) == lang.IDCleartext && strings.Contains(d.Detail, "remote_phones")
	}
	if !found {
		t.Errorf("cleartext remote phones not warned:%s", fmtDiags(diags))
	}
	// Every provider is TLS-only, but the remote phones speak udp: 5060/udp stays open to them.
	res := p.Evaluate(lang.Packet{Src: netip.MustParseAddr("198.51.100.5"), Proto: lang.UDP, DstPort: 5060})
	if res.Verdict != lang.Accept || res.Rule.Kind != lang.RuleRemoteSIP {
		t.Errorf("udp SIP from a remote phone: %s by %v", res.Verdict, res.Rule)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "10m": 10 * time.Minute, "1h30m": 90 * time.Minute, "7d": 7 * 24 * time.Hour} {
		got, err := lang.ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
		if back, _ := lang.ParseDuration(lang.FormatDuration(got)); back != got {
			t.Errorf("%s: format %q does not read back", in, lang.FormatDuration(got))
		}
	}
	for _, bad := range []string{"", "-1h", "0s", "500ms", "1y", "400d", "d", "1.5d"} {
		if _, err := lang.ParseDuration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
