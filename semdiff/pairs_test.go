package semdiff

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/voicewall/voicewall/internal/testenv"
)

// pairs are realistic revisions of every example: what a pull request to
// a policy repository changes.
var pairs = []pairCase{
	{name: "provider address added", example: "asterisk-udp-trunk",
		edits: []edit{replace("gateway.hcl", `signaling  = ["203.0.113.10", "203.0.113.11"]`, `signaling  = ["203.0.113.10", "203.0.113.11", "198.51.100.7"]`)}},
	{name: "skinny port opened", example: "asterisk-udp-trunk",
		edits: []edit{replace("gateway.hcl", `ports = ["2000/tcp", "5038/tcp", "8088/tcp"]`, `ports = ["5038/tcp", "8088/tcp"]`)}},
	{name: "close block removed", example: "asterisk-udp-trunk",
		edits: []edit{replace("gateway.hcl", "close {\n  ports = [\"2000/tcp\", \"5038/tcp\", \"8088/tcp\"]\n}\n", "")}},
	{name: "remote phones and bans", example: "asterisk-udp-trunk",
		edits: []edit{appendTo("gateway.hcl", "\nremote_phones {\n  pbx        = \"asterisk\"\n  transports = [\"tls\"]\n  rate       = \"2/minute\"\n  burst      = 5\n  trust_for  = \"2h\"\n}\n\nban {\n  default = \"1h\"\n}\n")}},
	{name: "split and reordered", example: "asterisk-udp-trunk",
		edits: []edit{split("gateway.hcl", "providers.hcl", `provider "carrier"`, `pbx "asterisk"`, `rate_limit {`, `expect "ami is closed"`)}},

	{name: "v6 media range removed", example: "dual-stack",
		edits: []edit{replace("site.hcl", `media      = ["203.0.113.64/26", "2001:db8:20::/48"]`, `media      = ["203.0.113.64/26"]`)}},
	{name: "ntp dropped from allow_out", example: "dual-stack",
		edits: []edit{replace("site.hcl", `allow_out = ["53/udp", "53/tcp", "123/udp",`, `allow_out = ["53/udp", "53/tcp",`)}},
	{name: "split", example: "dual-stack",
		edits: []edit{split("site.hcl", "vlan.hcl", `voice_vlan "handsets"`, `target "fortigate"`)}},

	{name: "provisioning server moved", example: "hosted-tls-vlan",
		edits: []edit{replace("office.hcl", `"192.0.2.80:443/tcp"]`, `"192.0.2.81:443/tcp"]`)}},
	{name: "management widened", example: "hosted-tls-vlan",
		edits: []edit{replace("office.hcl", `management = ["10.0.0.0/24"]`, `management = ["10.0.0.0/24", "10.0.1.0/24"]`)}},
	{name: "dscp changed", example: "hosted-tls-vlan",
		edits: []edit{replace("office.hcl", `dscp       = "ef"`, `dscp       = "af41"`)}},

	{name: "blocklist grown", example: "smb-blocklist",
		edits: []edit{appendTo("blocklists/voipbl.txt", "193.32.162.7\n45.95.147.0/24 # seen 2026-12-01\n")}},
	{name: "blocklist entry removed", example: "smb-blocklist",
		edits: []edit{replace("blocklists/voipbl.txt", "167.172.231.50\n", "")}},
	{name: "rtp range narrowed", example: "smb-blocklist",
		edits: []edit{replace("policy.hcl", "rtp {\n  ports = \"10000-10999\"", "rtp {\n  ports = \"10000-10499\""), replace("policy.hcl", `rtp_ports = "10000-10999"`, `rtp_ports = "10000-10499"`)}},

	{name: "media published", example: "symmetric-rtp-trunk",
		edits: []edit{replace("gateway.hcl", "symmetric_rtp = true # media omitted: accepted only on flows the PBX opened", "media         = [\"34.226.36.64/27\"]")}},
	{name: "phones allowed https out", example: "symmetric-rtp-trunk",
		edits: []edit{replace("gateway.hcl", `allow_out  = ["53/udp", "123/udp"]`, `allow_out  = ["53/udp", "123/udp", "443/tcp"]`)}},

	{name: "remote phones may use tcp and a slower rate", example: "remote-phones",
		edits: []edit{replace("gateway.hcl", "  transports = [\"tls\"]\n  rate       = \"2/minute\"", "  transports = [\"tls\", \"tcp\"]\n  rate       = \"1/minute\"")}},
	{name: "sbc rtp range narrowed", example: "teams-direct-routing",
		edits: []edit{replace("sbc.hcl", `rtp_ports = "20000-21999"`, `rtp_ports = "20000-20999"`), replace("sbc.hcl", `ports = "20000-21999"`, `ports = "20000-20999"`)}},

	{name: "ringcentral sip pinned to 5060", example: "ringcentral-phones",
		edits: []edit{replace("office.hcl", "  catalog = \"ringcentral\"\n}", "  catalog  = \"ringcentral\"\n  sip_port = 5060\n}")}},
	{name: "ringcentral over udp only", example: "ringcentral-phones",
		edits: []edit{replace("office.hcl", "  catalog = \"ringcentral\"\n}", "  catalog    = \"ringcentral\"\n  transports = [\"udp\"]\n}")}},

	{name: "fleet carrier media grows", example: "fleet", policy: "sites/hq-linux",
		edits: []edit{replace("common/providers.hcl", `media      = ["203.0.113.0/26"]`, `media      = ["203.0.113.0/26", "203.0.113.192/27"]`)}},
	{name: "fleet site rate limit", example: "fleet", policy: "sites/branch-fortigate",
		edits: []edit{replace("sites/branch-fortigate/site.hcl", `sip   = "5/second"`, `sip   = "2/second"`)}},
	{name: "fleet store split", example: "fleet", policy: "sites/store-pfsense",
		edits: []edit{split("sites/store-pfsense/site.hcl", "pbx.hcl", `pbx "freepbx"`, `rtp {`)}},
}

// gapPairs change only what a target can carry: the policy's meaning is
// the same, the targets' is not.
var gapPairs = []pairCase{
	{name: "draytek no longer accepts the dscp gap", example: "hosted-tls-vlan",
		edits: []edit{replace("office.hcl", `accept_gaps = ["rate_limit", "dscp"]`, `accept_gaps = ["rate_limit"]`)}},
	{name: "fortigate loses its wan ipv6 address", example: "dual-stack",
		edits: []edit{replace("site.hcl", `wan_address6 = "2001:db8:ffff::2"`, `version = "7.4"`)}},
}

var update = flag.Bool("update", false, "rewrite testdata/pairs.golden from the diffs")

// TestExamplePairs diffs every pair and compares the exact lines with
// testdata/pairs.golden (go test ./semdiff -run ExamplePairs -update
// rewrites it: review the change like a golden file's).
// TestEveryExampleHasPairs: a new example gets its revisions here too.
func TestEveryExampleHasPairs(t *testing.T) {
	for _, ex := range testenv.Examples(t, repo) {
		name, _, _ := strings.Cut(ex.Name, "/") // a fleet's sites share its pairs
		if !slices.ContainsFunc(pairs, func(c pairCase) bool { return c.example == name }) {
			t.Errorf("examples/%s has no revision pair in pairs", name)
		}
	}
}

func TestExamplePairs(t *testing.T) {
	golden := filepath.Join("testdata", "pairs.golden")
	want := map[string]string{}
	if b, err := os.ReadFile(golden); err == nil && !*update {
		for _, sec := range strings.Split(string(b), "== ")[1:] {
			name, body, _ := strings.Cut(sec, " ==\n")
			want[name] = body
		}
	} else if !*update {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, c := range append(pairs, gapPairs...) {
		name := c.example + "/" + c.name
		t.Run(name, func(t *testing.T) {
			old, new, rep, lines, gaps := report(t, c)
			var got strings.Builder
			for _, l := range lines {
				got.WriteString(l + "\n")
			}
			if len(gaps) > 0 {
				got.WriteString("-- gaps --\n")
				for _, l := range gaps {
					got.WriteString(l + "\n")
				}
			}
			fmt.Fprintf(&out, "== %s ==\n%s\n", name, got.String())
			if !*update && want[name] != got.String()+"\n" {
				t.Errorf("lines differ from %s (-want +got):\n%s", golden, cmp.Diff(want[name], got.String()+"\n"))
			}
			n := 20000
			if testing.Short() {
				n = 2000 // the full lane draws ten times as many
			}
			crossCheck(t, old, new, rep, n)
		})
	}
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
