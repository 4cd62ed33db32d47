package audit

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/internal/testenv"
)

// With --policy, VW302 on a rule looks for SIP on every provider's
// sip_port and tls_port (a range too), as the inside check does, not only
// on 5060/5061: a FortiOS policy from all accepting the provider's 5080 is
// open to SIP scanners there. In FortiOS syntax, read back with the reader.

const fgProviderPort = fgWANAndLAN + `config firewall address
    edit "pbx-real"
        set subnet 10.20.0.10 255.255.255.255
    next
end
config firewall service custom
    edit "ALT"
        set udp-portrange PORTS
    next
end
config firewall policy
    edit 1
        set srcintf "wan1"
        set dstintf "internal"
        set srcaddr "all"
        set dstaddr "pbx-real"
        set action accept
        set schedule "always"
        set service "ALT"
    next
end
`

const providerPortPolicy = `target "fortigate" {
  wan = "wan1"
  lan = "internal"
}

provider "carrier" {
  signaling  = ["203.0.113.10"]
  media      = ["203.0.113.0/26"]
  transports = ["udp"]
  sip_port   = SIPPORT
}

pbx "pbx" {
  address   = "10.20.0.10"
  providers = ["carrier"]
  rtp_ports = "10000-10100"
}

rtp {
  ports = "10000-10100"
}
`

func TestRuleSIPOnProviderPorts(t *testing.T) {
	one := loadPolicy(t, strings.Replace(providerPortPolicy, "SIPPORT", "5080", 1))
	span := loadPolicy(t, strings.Replace(providerPortPolicy, "SIPPORT", `"5070-5080"`, 1))
	conf := func(ports string) []byte { return fill(fgProviderPort, "PORTS", ports) }
	// the provider's port: VW302 with the policy, nothing without (5080 is
	// no standard SIP port)
	expectFindings(t, "5080 with the policy", "fortigate", conf("5080"), one, nil,
		"VW302 firewall policy 1 accepts 5080/udp from any source (all, line 24) on the WAN")
	expectFindings(t, "5080 without a policy", "fortigate", conf("5080"), nil, []string{IDOpenVoice})
	// a range: the part the rule takes
	expectFindings(t, "range", "fortigate", conf("5075-5090"), span, nil,
		"VW302 firewall policy 1 accepts 5075-5080/udp from any source")
	// a port of neither: nothing
	expectFindings(t, "another port", "fortigate", conf("5090"), span, []string{IDOpenVoice})
	// the standard port with a policy: as before, no second mention
	r := expectFindings(t, "5060 with the policy", "fortigate", conf("5060-5061"), span, nil,
		"VW302 firewall policy 1 accepts 5060/udp from any source")
	if strings.Contains(text(r), "5061/udp") {
		t.Errorf("a port of no provider is reported\n%s", text(r))
	}
}

// voicewall's own output for every example, its providers moved to SIP on
// 5080-5090 and TLS on 5071 (the policy text rewritten), has no VW302 or
// VW312 against the policy on any target: the provider ports VW302 now
// looks at on rules are accepted from the providers only (no crying wolf).
// Opening the source of every rule to any makes them VW302 (teeth).
func TestOwnOutputWithProviderPorts(t *testing.T) {
	setLine := regexp.MustCompile(`(?m)^\s*(sip_port|tls_port)\s*=.*\n`)
	open := regexp.MustCompile(`(?m)^(provider "[^"]+" \{\n)`)
	n, teeth := 0, 0
	for _, ex := range testenv.Examples(t, "..") {
		files, _ := filepath.Glob(filepath.Join(ex.Dir, "*.hcl"))
		if strings.Contains(ex.Dir, "sites") || len(files) == 0 {
			continue // a fleet site imports files outside its directory
		}
		dir := t.TempDir()
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b = setLine.ReplaceAll(b, nil)
			b = open.ReplaceAll(b, []byte("${1}  sip_port = \"5080-5090\"\n  tls_port = 5071\n"))
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		p, diags := registry.Load(dir)
		if diags.HasErrors() {
			t.Logf("%s: not loaded with moved ports: %v", ex.Name, diags)
			continue
		}
		n++
		for _, target := range append([]string{"nftables"}, Targets...) {
			src := compile(t, p, target)
			if !strings.Contains(string(src), "5080") {
				t.Errorf("%s/%s: the output has no 5080", ex.Name, target)
			}
			d, err := Read(target, target+".out", src)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range Check(d, src, Options{Target: target, Policy: p}).Findings {
				if f.ID == IDOpenVoice || f.ID == IDShadowedOpen {
					t.Errorf("%s/%s: %s %s", ex.Name, target, f.ID, f.Message)
				}
			}
			// teeth: every WAN accept of 5080/udp (not of 5060 too) and every
			// forward of it, from any source
			opened := false
			for _, r := range d.Rules {
				if r.Action == devmodel.Accept && !r.Disabled && r.Hook&devmodel.HookForward != 0 && svcHas(r.Services, devmodel.UDP, 5080) && !svcHas(r.Services, devmodel.UDP, 5060) &&
					(r.InRole == "wan" || slices.ContainsFunc(r.In, d.IsWAN)) {
					r.Src, opened = devmodel.AnyAddr(), true
				}
			}
			for _, f := range d.Forwards {
				if f.Ports.Contains(5080) && f.Ports != nil {
					f.Src = devmodel.AnyAddr()
				}
			}
			if !opened {
				continue
			}
			found := false
			for _, f := range Check(d, src, Options{Target: target, Policy: p}).Findings {
				found = found || (f.ID == IDOpenVoice || f.ID == IDForwardAnySrc) && strings.Contains(f.Message, "5080")
			}
			if !found {
				t.Errorf("%s/%s: the provider's 5080 opened to any is not reported", ex.Name, target)
			}
			teeth++
		}
	}
	if n < 5 || teeth < n {
		t.Errorf("only %d examples audited with moved provider ports, %d outputs opened", n, teeth)
	}
	t.Logf("%d examples, %d outputs opened", n, teeth)
}
