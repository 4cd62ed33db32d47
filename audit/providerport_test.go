package audit

import (
	"strings"
	"testing"
)

// With --policy, VW302 on a rule looks for SIP on every provider's
// sip_port and tls_port (a range too), as the inside check does, not only
// on 5060/5061: a FortiOS policy from all accepting the provider's 5080 is
// open to SIP scanners there. In FortiOS syntax, read back with the reader.

const fgProviderPort = `config system interface
    edit "wan1"
        set role wan
    next
    edit "internal"
        set role lan
        set ip 10.20.0.1 255.255.255.0
    next
end
config firewall address
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
