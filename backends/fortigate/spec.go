package fortigate

import (
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// langSpec is what lang reads a target "fortigate" block by
// (docs/targets-fortigate.md documents the attributes).
var langSpec = lang.TargetSpec{
	Name: target, WAN: "wan1", LAN: "internal",
	Attrs: []lang.TargetAttr{{Name: "version"}, {Name: "sip_helper_index"}, {Name: "blocklist_url", URL: true}, {Name: "wan_ip"}, {Name: "wan_address6"}, {Name: "vdom"}},
	Gaps: map[string]string{
		lang.GapBlocklist:  "a blocklist larger than the address tables voicewall uses needs blocklist_url (external threat feed); releases before 7.2.4 cannot use a feed in local-in policies",
		lang.GapIPv6:       "FortiOS before 6.4 keeps IPv6 in policy6 tables, which voicewall does not generate",
		lang.GapAddress6:   "forwarding to an IPv6 PBX needs a vip6 on the WAN's IPv6 address: set wan_address6 (FortiOS 6.4 or later)",
		lang.GapCapacity:   "an address set beyond the address tables voicewall uses (only blocklists become threat feeds)",
		lang.GapResponsive: "timed bans and trusted remote phones are sets voicewall fills at run time through Linux netlink; a FortiGate configuration file has no such set (FortiOS would need its REST API at run time, which voicewall does not drive)",
	},
}

// Spec declares the FortiGate target.
var Spec = backends.Spec{TargetSpec: &langSpec, File: FileName, Compile: Compile, ReadDevice: ReadDevice, Audited: true}
