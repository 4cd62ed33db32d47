package pfsense

import (
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// AttrProviderConnRate opts in to max-src-conn-rate on the TCP provider SIP
// pass rules, with its consequence (overload <virusprot> flush global).
const AttrProviderConnRate = "provider_conn_rate"

// langSpec is what lang reads a target "pfsense" block by
// (docs/targets-pfsense.md documents the attributes).
var langSpec = lang.TargetSpec{
	Name: target, WAN: "wan", LAN: "lan",
	Attrs: []lang.TargetAttr{{Name: "blocklist_url", URL: true}, {Name: "wan_if"}, {Name: "lan_if"}, {Name: AttrProviderConnRate, Bool: true}},
	Gaps: map[string]string{
		lang.GapDSCP:       "pfSense rules match DSCP (tos) but cannot set it",
		lang.GapRateLimit:  "pf's max-src-conn-rate counts TCP connections only (no per-source packet rate for UDP SIP), and on TCP it blocks the offending source everywhere and flushes its states (opt in with provider_conn_rate = true)",
		lang.GapBlocklist:  "an alias holds at most 5,000 entries; a larger blocklist needs blocklist_url (urltable alias)",
		lang.GapResponsive: "timed bans and trusted remote phones are sets voicewall fills at run time through Linux netlink; config.xml has no alias voicewall could fill at run time, and pf's own overload tables are filled only by max-src-conn-rate",
	},
}

// Spec declares the pfSense target.
var Spec = backends.Spec{TargetSpec: &langSpec, File: FileName, Compile: Compile, ReadDevice: ReadDevice, Audited: true}
