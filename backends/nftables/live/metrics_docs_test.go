package live

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/voicewall/voicewall/lang"
)

// TestMonitoringDocs: the metric names docs/monitoring.md, the alert rules
// and the Grafana dashboard use are the ones WritePrometheus writes, and
// every one it writes is documented.
func TestMonitoringDocs(t *testing.T) {
	now := time.Now()
	full := &Metrics{
		Netns: "gw", Present: true, Now: now,
		Rules: []RuleCounter{
			{Chain: "wan_in", Rule: "blocklist_scanners_v4", Kind: string(lang.RuleBlocklist), Reason: lang.DropBlocklist, Block: `blocklist "scanners"`, Action: "drop", Packets: 3},
			{Chain: "wan_in", Rule: "provider_carrier_sip_udp_v4", Kind: string(lang.RuleProviderSIP), Provider: "carrier", Block: `provider "carrier"`, Action: "accept", Packets: 9},
		},
		Meters:          []MeterGauge{{Set: "rate_limit_sip_v4", Family: "ipv4", Entries: 2, Size: 65535}},
		Bans:            []BanGauge{{Family: "ipv4", Reason: "watch", Bans: 3}},
		Trusted:         []MeterGauge{{Set: "remote_trusted_v4", Family: "ipv4", Entries: 1}},
		Lists:           []BlocklistGauge{{Blocklist: "scanners", Family: "ipv4", Ranges: 10}},
		Files:           []BlocklistFile{{Blocklist: "scanners", File: "blocklists/voipbl.txt", Modified: now.Add(-time.Hour)}},
		LastApply:       &ApplyRecord{Time: now, OK: true, LastOK: now},
		Pending:         &Pending{Deadline: now.Add(time.Minute)},
		Feeds:           []FeedGauge{{Blocklist: "voipbl", Feed: "https://voipbl.example/update/", LastAttempt: now, Refusals: map[string]uint64{"share": 1}}},
		Providers:       []ProviderDriftGauge{{Provider: "carrier", Drift: true, CatalogEntry: "twilio-all", CatalogVerified: now.Add(-48 * time.Hour)}},
		ProviderUpdates: []ProviderUpdateGauge{{Entry: "zoom-phone", LastAttempt: now, LastSuccess: now.Add(-24 * time.Hour), Refusals: 1}},
	}
	var b bytes.Buffer
	if err := WritePrometheus(&b, full); err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, line := range strings.Split(b.String(), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			exported[strings.Fields(name)[0]] = true
		}
	}
	if len(exported) < 15 {
		t.Fatalf("only %d families exported:\n%s", len(exported), b.String())
	}

	names := regexp.MustCompile(`\bvoicewall_[a-z_]+[a-z]\b`)
	read := func(path string) string {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	docs := read("../../../docs/monitoring.md")
	rules := read("../../../contrib/prometheus/voicewall.rules.yml")
	dash := read("../../../contrib/grafana/voicewall.json")
	for path, text := range map[string]string{"docs/monitoring.md": docs, "docs/live.md": read("../../../docs/live.md"), "contrib/prometheus/voicewall.rules.yml": rules, "contrib/grafana/voicewall.json": dash} {
		for _, n := range names.FindAllString(text, -1) {
			// voicewall_watch_* come from the watcher (package responsive,
			// whose own test checks them against these files).
			if !exported[n] && !strings.HasPrefix(n, "voicewall_watch_") {
				t.Errorf("%s names %s, which voicewall does not export", path, n)
			}
		}
	}
	for n := range exported {
		if !strings.Contains(docs, "`"+n+"`") {
			t.Errorf("docs/monitoring.md does not document %s", n)
		}
	}
	for _, r := range lang.DropReasons {
		if !strings.Contains(docs, "| `"+r+"` |") {
			t.Errorf("docs/monitoring.md does not list drop reason %s", r)
		}
	}

	// The rule file and the rules in the docs are well-formed rule groups
	// with the four alerts the docs promise.
	type ruleFile struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Expr        string
				Annotations map[string]string
			}
		}
	}
	var docRules string
	if _, after, ok := strings.Cut(docs, "```yaml\n"); ok {
		docRules, _, _ = strings.Cut(after, "```")
	}
	for name, text := range map[string]string{"rule file": rules, "docs": docRules} {
		var rf ruleFile
		if err := yaml.Unmarshal([]byte(text), &rf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		alerts := map[string]bool{}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" {
					t.Errorf("%s: incomplete rule %+v", name, r)
				}
				alerts[r.Alert] = true
			}
		}
		for _, a := range []string{"VoicewallSIPScan", "VoicewallProviderTrafficStopped", "VoicewallBlocklistFeedStale", "VoicewallRollbackPending"} {
			if !alerts[a] {
				t.Errorf("%s lacks alert %s", name, a)
			}
		}
	}

	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal([]byte(dash), &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if len(d.Panels) == 0 {
		t.Fatal("dashboard has no panels")
	}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 || p.Targets[0].Expr == "" {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
	}
}
