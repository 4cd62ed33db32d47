package semdiff

import (
	"slices"
	"testing"
)

// pairs are realistic revisions of every example: what a pull request to
// a policy repository changes.
var pairs = []pairCase{
	{name: "provider address added", example: "asterisk-udp-trunk",
		edits: []edit{replace("gateway.hcl", `signaling  = ["203.0.113.10", "203.0.113.11"]`, `signaling  = ["203.0.113.10", "203.0.113.11", "198.51.100.7"]`)},
		want: []string{
			"198.51.100.7 → anywhere, 5060/udp: drop → accept, forwarded to pbx \"asterisk\" 10.20.0.10 (provider \"carrier\", gateway.hcl:15)",
		},
	},
	{name: "skinny port opened", example: "asterisk-udp-trunk",
		edits: []edit{replace("gateway.hcl", `ports = ["2000/tcp", "5038/tcp", "8088/tcp"]`, `ports = ["5038/tcp", "8088/tcp"]`)},
		want: []string{
			"any → anywhere, 2000/tcp: drop → not managed (close, gateway.hcl:37 changed)",
		},
	},
	{name: "close block removed", example: "asterisk-udp-trunk",
		edits: []edit{replace("gateway.hcl", "close {\n  ports = [\"2000/tcp\", \"5038/tcp\", \"8088/tcp\"]\n}\n", "")},
		want: []string{
			"any → anywhere, 2000/tcp, 5038/tcp, 8088/tcp: drop → not managed (close, gateway.hcl:37 removed)",
		},
	},
	{name: "split and reordered", example: "asterisk-udp-trunk",
		edits: []edit{split("gateway.hcl", "providers.hcl", `provider "carrier"`, `pbx "asterisk"`, `rate_limit {`, `expect "ami is closed"`)}},

	{name: "v6 media range removed", example: "dual-stack",
		edits: []edit{replace("site.hcl", `media      = ["203.0.113.64/26", "2001:db8:20::/48"]`, `media      = ["203.0.113.64/26"]`)},
		want: []string{
			"2001:db8:20::/48 → anywhere, 10000-20000/udp: accept, forwarded to pbx \"freepbx\" 2001:db8:abcd:40::5 → drop (rtp, site.hcl:35; was provider \"carrier\", site.hcl:10)",
		},
	},
	{name: "ntp dropped from allow_out", example: "dual-stack",
		edits: []edit{replace("site.hcl", `allow_out = ["53/udp", "53/tcp", "123/udp",`, `allow_out = ["53/udp", "53/tcp",`)},
		want: []string{
			"any on handsets → any but voice_vlan \"handsets\", pbx \"freepbx\", 123/udp from port 1-9999, 20001-65535: accept → drop (voice_vlan \"handsets\", site.hcl:24)",
		},
	},
	{name: "split", example: "dual-stack",
		edits: []edit{split("site.hcl", "vlan.hcl", `voice_vlan "handsets"`, `target "fortigate"`)}},

	{name: "provisioning server moved", example: "hosted-tls-vlan",
		edits: []edit{replace("office.hcl", `"192.0.2.80:443/tcp"]`, `"192.0.2.81:443/tcp"]`)},
		want: []string{
			"any IPv4 on phones → 192.0.2.81, 443/tcp: drop → accept (voice_vlan \"phones\", office.hcl:33)",
			"any IPv4 on phones → 192.0.2.80, 443/tcp: accept → drop (voice_vlan \"phones\", office.hcl:33)",
		},
	},
	{name: "management widened", example: "hosted-tls-vlan",
		edits: []edit{replace("office.hcl", `management = ["10.0.0.0/24"]`, `management = ["10.0.0.0/24", "10.0.1.0/24"]`)},
		want: []string{
			"10.0.1.0/24 on lan, phones → voice_vlan \"phones\" 10.20.0.0/24, 22-23/tcp, 80/tcp, 443/tcp, 8080/tcp, 8443/tcp; 161/udp: drop → accept (voice_vlan \"phones\", office.hcl:33)",
		},
	},
	{name: "dscp changed", example: "hosted-tls-vlan",
		edits: []edit{replace("office.hcl", `dscp       = "ef"`, `dscp       = "af41"`)},
		want: []string{
			"any IPv4 on phones → provider \"hostedpbx\" media (192.0.2.128/25), any udp port: accept, dscp ef → accept, dscp af41 (voice_vlan \"phones\", office.hcl:33)",
		},
	},

	{name: "blocklist grown", example: "smb-blocklist",
		edits: []edit{appendTo("blocklists/voipbl.txt", "193.32.162.7\n45.95.147.0/24 # seen 2026-12-01\n")},
		want: []string{
			"45.95.147.0/24, 193.32.162.7 → anywhere, every protocol and port but 2000/tcp, 5060-5061/tcp, 5060/udp, 5080/udp, 10000-10999/udp: not managed → drop (blocklist \"scanners\", policy.hcl:35)",
		},
	},
	{name: "blocklist entry removed", example: "smb-blocklist",
		edits: []edit{replace("blocklists/voipbl.txt", "167.172.231.50\n", "")},
		want: []string{
			"167.172.231.50 → anywhere, every protocol and port but 2000/tcp, 5060-5061/tcp, 5060/udp, 5080/udp, 10000-10999/udp: drop → not managed (blocklist \"scanners\", policy.hcl:35 changed)",
		},
	},
	{name: "rtp range narrowed", example: "smb-blocklist",
		edits: []edit{replace("policy.hcl", "rtp {\n  ports = \"10000-10999\"", "rtp {\n  ports = \"10000-10499\""), replace("policy.hcl", `rtp_ports = "10000-10999"`, `rtp_ports = "10000-10499"`)},
		want: []string{
			"any but blocklist \"scanners\", provider \"cloudpbx\" media → anywhere, 10500-10999/udp: drop → not managed (rtp, policy.hcl:31 changed)",
			"provider \"cloudpbx\" media (203.0.113.128/25) → anywhere, 10500-10999/udp: accept, forwarded to pbx \"office\" 192.168.10.5 → not managed (provider \"cloudpbx\", policy.hcl:19 changed)",
		},
	},

	{name: "media published", example: "symmetric-rtp-trunk",
		edits: []edit{replace("gateway.hcl", "symmetric_rtp = true # media omitted: accepted only on flows the PBX opened", "media         = [\"34.226.36.64/27\"]")},
		want: []string{
			"provider \"flowroute\" media (34.226.36.64/27) → anywhere, 10000-20000/udp: drop → accept, forwarded to pbx \"asterisk\" 10.20.0.10 (provider \"flowroute\", gateway.hcl:16; was rtp, gateway.hcl:28)",
			"any IPv4 on phones → provider \"flowroute\" media (34.226.36.64/27), any udp port but 53, 123 from port 1-9999, 20001-65535; 5060/udp from port 10000-20000: drop → accept (voice_vlan \"phones\", gateway.hcl:79)",
			"any IPv4 on phones → any IPv4 but provider \"flowroute\" media, voice_vlan \"phones\", pbx \"asterisk\", any udp port but 5060 from port 10000-20000: accept → drop (voice_vlan \"phones\", gateway.hcl:79)",
			"any IPv6 on phones → any IPv6, any udp port but 5060 from port 10000-20000: accept → drop (voice_vlan \"phones\", gateway.hcl:79)",
			"any IPv4 on phones → provider \"flowroute\" media (34.226.36.64/27), 53/udp, 123/udp from port 1-9999, 20001-65535: accept, dscp none → accept, dscp ef (voice_vlan \"phones\", gateway.hcl:79)",
		},
	},
	{name: "phones allowed https out", example: "symmetric-rtp-trunk",
		edits: []edit{replace("gateway.hcl", `allow_out  = ["53/udp", "123/udp"]`, `allow_out  = ["53/udp", "123/udp", "443/tcp"]`)},
		want: []string{
			"any on phones → any but voice_vlan \"phones\", pbx \"asterisk\", 443/tcp: drop → accept (voice_vlan \"phones\", gateway.hcl:79)",
		},
	},

	{name: "fleet carrier media grows", example: "fleet", policy: "sites/hq-linux",
		edits: []edit{replace("common/providers.hcl", `media      = ["203.0.113.0/26"]`, `media      = ["203.0.113.0/26", "203.0.113.192/27"]`)},
		want: []string{
			"203.0.113.192/27 → anywhere, 10000-20000/udp: drop → accept, forwarded to pbx \"asterisk\" 10.10.0.10 (provider \"carrier\", ../../common/providers.hcl:7; was rtp, site.hcl:21)",
		},
	},
	{name: "fleet site rate limit", example: "fleet", policy: "sites/branch-fortigate",
		edits: []edit{replace("sites/branch-fortigate/site.hcl", `sip   = "5/second"`, `sip   = "2/second"`)},
		want: []string{
			"provider \"hostedpbx\" signaling (192.0.2.64/28) → anywhere, 5061/tcp: accept, rate limit 5/second, burst 10 → accept, rate limit 2/second, burst 10 (provider \"hostedpbx\", ../../common/providers.hcl:16)",
		},
	},
	{name: "fleet store split", example: "fleet", policy: "sites/store-pfsense",
		edits: []edit{split("sites/store-pfsense/site.hcl", "pbx.hcl", `pbx "freepbx"`, `rtp {`)}},
}

// gapPairs change only what a target can carry: the policy's meaning is
// the same, the targets' is not.
var gapPairs = []pairCase{
	{name: "draytek no longer accepts the dscp gap", example: "hosted-tls-vlan",
		edits: []edit{replace("office.hcl", `accept_gaps = ["rate_limit", "dscp"]`, `accept_gaps = ["rate_limit"]`)},
		gaps: []string{
			"draytek: voice_vlan \"phones\" (office.hcl:33): dscp gap (DSCP marking of voice traffic not enforced) now not accepted (the compile fails without --allow-degraded); was accepted in accept_gaps",
		}},
	{name: "fortigate loses its wan ipv6 address", example: "dual-stack",
		edits: []edit{replace("site.hcl", `wan_address6 = "2001:db8:ffff::2"`, `version = "7.4"`)},
		gaps: []string{
			"fortigate: pbx \"freepbx\" (site.hcl:18) is no longer enforced: forwarding to the IPv6 PBX address 2001:db8:abcd:40::5 needs a vip6 (IPv6 port forward): set wan_address6 in target \"fortigate\" to the WAN's IPv6 address, which the vip6 listens on (address6 gap, not accepted (the compile fails without --allow-degraded))",
		}},
}

func TestExamplePairs(t *testing.T) {
	for _, c := range append(pairs, gapPairs...) {
		t.Run(c.example+"/"+c.name, func(t *testing.T) {
			old, new, rep, lines, gaps := report(t, c)
			if !slices.Equal(lines, c.want) || !slices.Equal(gaps, c.gaps) {
				t.Errorf("change lines:\n%s\ngap lines:\n%s", quoted(lines), quoted(gaps))
			}
			n := 20000
			if testing.Short() {
				n = 2000 // the full lane draws ten times as many
			}
			crossCheck(t, old, new, rep, n)
		})
	}
}
