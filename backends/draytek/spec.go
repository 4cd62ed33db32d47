package draytek

import (
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// AttrFloodDefence opts in to the router-wide DoS defence for an accepted
// rate_limit gap, at a threshold derived from the policy's call capacity.
const AttrFloodDefence = "flood_defence"

// langSpec is what lang reads a target "draytek" block by
// (docs/targets-draytek.md documents the attributes).
var langSpec = lang.TargetSpec{
	Name: Target, WAN: "WAN1", LAN: "LAN1",
	Attrs: []lang.TargetAttr{{Name: "wan_index"}, {Name: "object_base"}, {Name: "group_base"}, {Name: "service_base"},
		{Name: "filter_set"}, {Name: "rule_base"}, {Name: "nat_base"}, {Name: "vlan_base"}, {Name: "lan_base"},
		{Name: AttrFloodDefence, Bool: true}},
	Gaps: map[string]string{
		lang.GapDSCP:       "the Vigor CLI syntax for DSCP marking (qos) is unconfirmed",
		lang.GapRateLimit:  "Vigor DoS defence thresholds are global, not per source address (flood_defence = true emits a router-wide UDP flood defence sized to the call capacity)",
		lang.GapAddress6:   "port redirection and open ports take IPv4 private addresses only",
		lang.GapCapacity:   "object, group, service, filter and NAT tables have fixed sizes",
		lang.GapBlocklist:  "a blocklist must fit the IP object and group tables (192 objects, 32 groups)",
		lang.GapResponsive: "timed bans and trusted remote phones are sets voicewall fills at run time through Linux netlink, which a Vigor command script has no equivalent of; and remote phones' SIP from any source is not forwarded, because the Vigor has no per-source limit of new flows (DoS defence is global)",
	},
}

// Spec declares the DrayTek target.
var Spec = backends.Spec{TargetSpec: &langSpec, File: FileName, Compile: Compile, ReadDevice: ReadDevice, Audited: true}
