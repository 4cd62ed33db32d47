package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/voicewall/voicewall/lang"
)

// parseProm reads the exposition with Prometheus' own text parser (what
// node_exporter's textfile collector uses), failing on any syntax error.
func parseProm(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("prometheus parser: %v\n%s", err, text)
	}
	return fams
}

// promValue is the value of the one sample of name whose labels include
// want; ok is false when there is none.
func promValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, w := range want {
			if labels[k] != w {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// seriesIDs is every series as name{sorted labels}.
func seriesIDs(fams map[string]*dto.MetricFamily) []string {
	var ids []string
	for name, f := range fams {
		for _, m := range f.Metric {
			var ls []string
			for _, l := range m.Label {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(ls)
			ids = append(ids, name+"{"+strings.Join(ls, ",")+"}")
		}
	}
	slices.Sort(ids)
	return ids
}

var filePos = regexp.MustCompile(`\.hcl:\d+`)

// TestStatusPrometheus: what an admin alerts on, read back by Prometheus'
// parser from status --format prometheus and from --textfile, with series
// that do not change when the policy file is edited above a block.
func TestStatusPrometheus(t *testing.T) {
	ns := gwNS(t, false)
	t.Setenv("VOICEWALL_EXE", voicewallBinary(t))
	// A copy of the example, to edit.
	dir := t.TempDir()
	policy, list := smbBlocklist(t)
	vcWriteFiles(t, dir, map[string][]byte{"policy.hcl": policy, "blocklists/voipbl.txt": list})
	old := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	if err := os.Chtimes(filepath.Join(dir, "blocklists", "voipbl.txt"), old, old); err != nil {
		t.Fatal(err)
	}

	before := time.Now()
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: %s", r.stderr)
	}
	r := vw1("", "status", dir, "--netns", ns.Name, "--format", "prometheus")
	if r.code != 0 {
		t.Fatalf("status: %d %s", r.code, r.stderr)
	}
	if filePos.MatchString(r.stdout) {
		t.Errorf("a series names a file:line:\n%s", r.stdout)
	}
	fams := parseProm(t, r.stdout)
	nsl := map[string]string{"netns": ns.Name}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"netns": ns.Name}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, reason := range lang.DropReasons {
		if _, ok := promValue(fams, "voicewall_dropped_packets_total", with("reason", reason)); !ok {
			t.Errorf("no voicewall_dropped_packets_total{reason=%q}", reason)
		}
	}
	if v, ok := promValue(fams, "voicewall_packets_total", with("rule", "blocklist_scanners_v4", "block", `blocklist "scanners"`, "kind", "blocklist", "reason", "blocklist", "action", "drop")); !ok || v != 0 {
		t.Errorf("blocklist rule series: %v %v", v, ok)
	}
	// The PBX's DNAT of the provider's SIP is that provider's traffic.
	if _, ok := promValue(fams, "voicewall_packets_total", with("rule", "dnat_office_cloudpbx_sip_udp_v4", "block", `pbx "office"`, "kind", "dnat", "provider", "cloudpbx")); !ok {
		t.Error("the DNAT rule has no provider label")
	}
	if v, ok := promValue(fams, "voicewall_table_present", nsl); !ok || v != 1 {
		t.Errorf("table_present = %v %v", v, ok)
	}
	if v, ok := promValue(fams, "voicewall_blocklist_ranges", with("blocklist", "scanners", "family", "ipv4")); !ok || v < 2 {
		t.Errorf("blocklist_ranges{scanners,ipv4} = %v %v", v, ok)
	}
	if v, ok := promValue(fams, "voicewall_blocklist_file_modified_timestamp_seconds", with("blocklist", "scanners", "file", "blocklists/voipbl.txt")); !ok || v != float64(old.Unix()) {
		t.Errorf("blocklist file mtime = %v %v, want %d", v, ok, old.Unix())
	}
	if v, ok := promValue(fams, "voicewall_blocklist_file_age_seconds", with("blocklist", "scanners")); !ok || v < 3*3600 || v > 3*3600+300 {
		t.Errorf("blocklist file age = %v %v, want about 3h", v, ok)
	}
	if v, ok := promValue(fams, "voicewall_rate_limit_meter_entries", with("family", "ipv4")); !ok || v != 0 {
		t.Errorf("meter entries = %v %v", v, ok)
	}
	if v, ok := promValue(fams, "voicewall_rate_limit_meter_size", with("family", "ipv4")); !ok || v <= 0 {
		t.Errorf("meter size = %v %v", v, ok)
	}
	if v, ok := promValue(fams, "voicewall_last_apply_success", nsl); !ok || v != 1 {
		t.Errorf("last_apply_success = %v %v", v, ok)
	}
	applied, _ := promValue(fams, "voicewall_last_apply_timestamp_seconds", nsl)
	if applied < float64(before.Unix())-1 || applied > float64(time.Now().Unix())+1 {
		t.Errorf("last_apply_timestamp = %v, want between %d and now", applied, before.Unix())
	}
	if v, ok := promValue(fams, "voicewall_rollback_pending", nsl); !ok || v != 0 {
		t.Errorf("rollback_pending = %v %v", v, ok)
	}
	ids := seriesIDs(fams)

	// An edit above every block (a comment) moves every line: the series
	// stay the same.
	vcWriteFiles(t, dir, map[string][]byte{"policy.hcl": append([]byte("# reviewed by ops\n\n\n"), policy...)})
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatalf("apply after the edit: %s", r.stderr)
	}
	r = vw1("", "status", dir, "--netns", ns.Name, "--format", "prometheus")
	if after := seriesIDs(parseProm(t, r.stdout)); !slices.Equal(after, ids) {
		t.Errorf("series changed with an edit that moved lines:\nbefore %q\nafter  %q", ids, after)
	}

	// A failed apply: the result is 0, the last success stays.
	okAt, _ := promValue(fams, "voicewall_last_successful_apply_timestamp_seconds", nsl)
	vcWriteFiles(t, dir, map[string][]byte{"broken.hcl": []byte("provider \"x\" {\n  signaling = [\"0.0.0.0/0\"]\n}\n")})
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code == 0 {
		t.Fatal("apply of a broken policy succeeded")
	}
	os.Remove(filepath.Join(dir, "broken.hcl"))

	// A pending rollback, written with --textfile: atomically, parsed.
	if r := vw1("", "apply", example("asterisk-udp-trunk"), "--netns", ns.Name, "--auto-approve", "--confirm-timeout", "120s"); r.code != 0 {
		t.Fatalf("apply --confirm-timeout: %s", r.stderr)
	}
	t.Cleanup(func() { vw1("", "confirm", "--netns", ns.Name) })
	tf := t.TempDir()
	if r := vw1("", "status", dir, "--netns", ns.Name, "--textfile", tf); r.code != 0 {
		t.Fatalf("status --textfile: %d %s", r.code, r.stderr)
	}
	ents, _ := os.ReadDir(tf)
	if len(ents) != 1 || ents[0].Name() != "voicewall-"+ns.Name+".prom" {
		t.Fatalf("textfile dir holds %v, want only voicewall-%s.prom", ents, ns.Name)
	}
	b, err := os.ReadFile(filepath.Join(tf, ents[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	fams = parseProm(t, string(b))
	if v, _ := promValue(fams, "voicewall_rollback_pending", nsl); v != 1 {
		t.Errorf("rollback_pending = %v during a confirm timeout", v)
	}
	if v, ok := promValue(fams, "voicewall_rollback_deadline_timestamp_seconds", nsl); !ok || v < float64(time.Now().Unix()+60) || v > float64(time.Now().Unix()+121) {
		t.Errorf("rollback deadline = %v %v, want about 120s from now", v, ok)
	}
	if v, _ := promValue(fams, "voicewall_last_apply_success", nsl); v != 1 {
		t.Errorf("the confirm-timeout apply is recorded as %v", v)
	}
	if v, _ := promValue(fams, "voicewall_last_successful_apply_timestamp_seconds", nsl); v < okAt {
		t.Errorf("last success went back from %v to %v", okAt, v)
	}
	if r := vw1("", "confirm", "--netns", ns.Name); r.code != 0 {
		t.Fatalf("confirm: %s", r.stderr)
	}
	if r := vw1("", "status", "--netns", ns.Name, "--format", "text", "--textfile", tf); r.code != 1 || !strings.Contains(r.stderr+r.stdout, "--textfile writes the prometheus format") {
		t.Errorf("--textfile with --format text: %d %s", r.code, r.stderr)
	}
}

// TestFailedApplyIsRecorded: a refused apply is a 0 result; the time of
// the last success is kept.
func TestFailedApplyIsRecorded(t *testing.T) {
	ns := gwNS(t, false)
	if r := vw1("", "apply", example("smb-blocklist"), "--netns", ns.Name, "--auto-approve"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	fams := parseProm(t, vw1("", "status", "--netns", ns.Name, "--format", "prometheus").stdout)
	okAt, _ := promValue(fams, "voicewall_last_successful_apply_timestamp_seconds", nil)
	dir := t.TempDir()
	vcWriteFiles(t, dir, map[string][]byte{"gw.hcl": []byte("provider \"x\" {\n  signaling = [\"0.0.0.0/0\"]\n}\n")})
	time.Sleep(10 * time.Millisecond)
	if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code == 0 {
		t.Fatal("a broken policy applied")
	}
	fams = parseProm(t, vw1("", "status", "--netns", ns.Name, "--format", "prometheus").stdout)
	if v, _ := promValue(fams, "voicewall_last_apply_success", nil); v != 0 {
		t.Errorf("last_apply_success = %v after a failed apply", v)
	}
	if v, _ := promValue(fams, "voicewall_last_successful_apply_timestamp_seconds", nil); v != okAt || v == 0 {
		t.Errorf("last success = %v, want %v", v, okAt)
	}
	if at, _ := promValue(fams, "voicewall_last_apply_timestamp_seconds", nil); at <= okAt {
		t.Errorf("last apply time %v is not after the success at %v", at, okAt)
	}
}

// smbBlocklist reads the smb-blocklist example's policy and its blocklist,
// for a test to write an edited copy with vcWriteFiles.
func smbBlocklist(t *testing.T) (policy, list []byte) {
	t.Helper()
	src := example("smb-blocklist")
	policy, err := os.ReadFile(filepath.Join(src, "policy.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	list, err = os.ReadFile(filepath.Join(src, "blocklists", "voipbl.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return policy, list
}

func vcWriteFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
