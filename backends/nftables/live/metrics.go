package live

// Monitoring: what `voicewall status --format prometheus` exports. Series
// are named by what survives an edit of the policy: the policy block
// (`blocklist "scanners"`), the rule key (derived from block labels) and a
// fixed drop-reason vocabulary (lang.DropReasons), never a file:line.

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/lang"
)

// ApplyRecord is the outcome of the latest apply on a target.
type ApplyRecord struct {
	Time   time.Time `json:"time"`
	OK     bool      `json:"ok"`
	Error  string    `json:"error,omitempty"`
	Policy string    `json:"policy,omitempty"`
	// LastOK is the time of the latest successful apply (equal to Time
	// when this one succeeded).
	LastOK time.Time `json:"last_ok,omitzero"`
}

// ApplyRecordPath is where apply records its outcome on t.
func ApplyRecordPath(t *Target) string {
	return filepath.Join(StateDir(), "applied", t.ID()+".json")
}

// RecordApply notes the outcome of an apply on t (applyErr nil: success),
// keeping the time of the last success across failures. The file is
// replaced atomically: a reader sees the old record or the new one.
func RecordApply(t *Target, policy string, when time.Time, applyErr error) error {
	rec := ApplyRecord{Time: when.UTC(), OK: applyErr == nil, Policy: policy}
	if applyErr != nil {
		rec.Error = applyErr.Error()
		if prev, _ := LoadApplyRecord(t); prev != nil {
			rec.LastOK = prev.LastOK
		}
	} else {
		rec.LastOK = rec.Time
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return WriteState(ApplyRecordPath(t), b)
}

// LoadApplyRecord returns the latest apply's record on t, or nil.
func LoadApplyRecord(t *Target) (*ApplyRecord, error) {
	b, err := readTrusted(ApplyRecordPath(t))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec := &ApplyRecord{}
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("apply record %s: %w", ApplyRecordPath(t), err)
	}
	return rec, nil
}

// Metrics is one reading of everything status exports.
type Metrics struct {
	Netns   string // label value when status reads a named namespace
	Present bool
	Rules   []RuleCounter
	Meters  []MeterGauge
	// Bans and Trusted: the run-time sets' elements now (bans by reason).
	Bans    []BanGauge
	Trusted []MeterGauge
	Lists   []BlocklistGauge
	Files   []BlocklistFile
	// LastApply is nil when no apply was recorded on this target.
	LastApply *ApplyRecord
	// Pending is the apply awaiting `voicewall confirm`, or nil.
	Pending *Pending
	// Feeds is the last refresh of each blocklist feed (the caller reads
	// the refresh state; nil without PATH or before any refresh).
	Feeds []FeedGauge
	// Providers says, per provider of the policy, whether its ranges drifted
	// from the catalog or DNS (voicewall providers check; nil without PATH).
	Providers []ProviderDriftGauge
	// ProviderUpdates is the providers update record (the caller reads
	// it; nil before the first update).
	ProviderUpdates []ProviderUpdateGauge
	Now             time.Time
}

// ProviderDriftGauge is one provider's `providers check` result.
type ProviderDriftGauge struct {
	Provider string
	Drift    bool
	// CatalogEntry and CatalogVerified: the catalog entry it was compared
	// with and the day that entry was verified (zero: none).
	CatalogEntry    string
	CatalogVerified time.Time
}

// ProviderUpdateGauge is one catalog entry's `providers update` record.
type ProviderUpdateGauge struct {
	Entry       string
	LastAttempt time.Time
	LastSuccess time.Time // zero: never
	Refusals    uint64
}

// FeedGauge is one blocklist feed's refresh record.
type FeedGauge struct {
	Blocklist   string
	Feed        string // the URL (without its query) or "apiban:sip"
	OK          bool   // the last refresh replaced the file, or found it current
	LastAttempt time.Time
	LastSuccess time.Time // zero: never
	Entries     int       // entries of the last good file
	// Refusals counts refused candidates by reason since the state began;
	// every reason the refresh knows is present (0 too).
	Refusals map[string]uint64
}

// BanGauge counts the timed bans of one family and reason.
type BanGauge struct {
	Family, Reason string
	Bans           int
}

// MeterGauge is a rate-limit meter: sources it tracks now, and its
// capacity.
type MeterGauge struct {
	Set, Family   string
	Entries, Size int
}

// BlocklistGauge is a blocklist's size: the addresses its files list (from
// the policy) and the merged ranges the kernel holds per family.
type BlocklistGauge struct {
	Blocklist string // the block's label
	Family    string // ipv4, ipv6
	Ranges    int
}

// BlocklistFile is one file of a blocklist, as written in the policy.
type BlocklistFile struct {
	Blocklist, File string
	Modified        time.Time
	Err             string // the file cannot be read (then Modified is zero)
}

// GatherMetrics assembles a reading from the table read (st, with
// elements), the counters, the compiled policy and the policy itself (nil
// without a PATH: blocklist sizes and files need it), and the target's
// state files.
func GatherMetrics(t *Target, st *State, cs []RuleCounter, desired *vw.Table, p *lang.Policy, now time.Time) (*Metrics, error) {
	m := &Metrics{Netns: t.Name, Present: st.Exists, Rules: cs, Now: now}
	owner := map[string]lang.Origin{}
	if desired != nil {
		for _, s := range desired.Sets {
			owner[s.Name] = s.Origin
		}
	}
	for _, ls := range st.Sets {
		family := "ipv4"
		if ls.Type == vw.SetIPv6 {
			family = "ipv6"
		}
		switch o := owner[ls.Name]; {
		case ls.Dynamic && o.Kind == "remote_phones":
			// remote_phones' own meter: its sources are strangers trying to
			// register; the trusted gauge and the drop counters tell more.
		case ls.Dynamic:
			m.Meters = append(m.Meters, MeterGauge{Set: ls.Name, Family: family, Entries: ls.Entries, Size: int(ls.Size)})
		case ls.Live && o.Kind == "remote_phones":
			m.Trusted = append(m.Trusted, MeterGauge{Set: ls.Name, Family: family, Entries: ls.Entries})
		case ls.Live:
			es, err := ReadLive(t, ls.Name)
			if err != nil {
				return nil, err
			}
			by := map[string]int{}
			for _, e := range es {
				by[cmp.Or(e.Reason, "unknown")]++
			}
			for r, n := range by {
				m.Bans = append(m.Bans, BanGauge{Family: family, Reason: r, Bans: n})
			}
		case o.Kind == "blocklist" && ls.Content != nil:
			m.Lists = append(m.Lists, BlocklistGauge{Blocklist: o.Name, Family: family, Ranges: len(ls.Content.Ranges)})
		}
	}
	sort.Slice(m.Meters, func(i, j int) bool { return m.Meters[i].Family < m.Meters[j].Family })
	sort.Slice(m.Bans, func(i, j int) bool {
		return m.Bans[i].Family < m.Bans[j].Family || m.Bans[i].Family == m.Bans[j].Family && m.Bans[i].Reason < m.Bans[j].Reason
	})
	sort.Slice(m.Lists, func(i, j int) bool {
		a, b := m.Lists[i], m.Lists[j]
		return a.Blocklist < b.Blocklist || a.Blocklist == b.Blocklist && a.Family < b.Family
	})
	if p != nil {
		for _, bl := range p.Blocklists {
			for i, f := range bl.Files {
				bf := BlocklistFile{Blocklist: bl.Name, File: f}
				if i < len(bl.FilePaths) {
					if fi, err := os.Stat(bl.FilePaths[i]); err != nil {
						bf.Err = err.Error()
					} else {
						bf.Modified = fi.ModTime()
					}
				}
				m.Files = append(m.Files, bf)
			}
		}
	}
	var err error
	if m.LastApply, err = LoadApplyRecord(t); err != nil {
		return nil, err
	}
	if m.Pending, err = LoadPending(t); err != nil {
		return nil, err
	}
	return m, nil
}

// promWriter writes metric families in the Prometheus text format.
type promWriter struct {
	b     strings.Builder
	netns string
}

func (w *promWriter) family(name, typ, help string) {
	fmt.Fprintf(&w.b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// sample writes one sample; labels are name, value pairs.
func (w *promWriter) sample(name string, v float64, labels ...string) {
	if w.netns != "" {
		labels = append(labels, "netns", w.netns)
	}
	w.b.WriteString(name)
	sep := byte('{')
	for i := 0; i+1 < len(labels); i += 2 {
		if labels[i+1] == "" {
			continue // an empty label is no label to Prometheus
		}
		w.b.WriteByte(sep)
		sep = ','
		w.b.WriteString(labels[i] + `="` + promEscape(labels[i+1]) + `"`)
	}
	if sep == ',' {
		w.b.WriteByte('}')
	}
	w.b.WriteString(" " + strconv.FormatFloat(v, 'f', -1, 64) + "\n")
}

func promEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "\n", `\n`)
	return strings.ReplaceAll(s, `"`, `\"`)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// WritePrometheus writes m in the Prometheus text exposition format.
func WritePrometheus(out io.Writer, m *Metrics) error {
	w := &promWriter{netns: m.Netns}
	w.family("voicewall_table_present", "gauge", "Whether table inet voicewall exists (0: the gateway runs without its VoIP policy).")
	w.sample("voicewall_table_present", boolValue(m.Present))

	ruleLabels := func(c RuleCounter) []string {
		return []string{"rule", c.Rule, "block", c.Block, "kind", c.Kind, "reason", c.Reason, "provider", c.Provider, "chain", c.Chain, "action", c.Action}
	}
	w.family("voicewall_packets_total", "counter", "Packets matched by a voicewall rule, by rule key and policy block.")
	for _, c := range m.Rules {
		w.sample("voicewall_packets_total", float64(c.Packets), ruleLabels(c)...)
	}
	w.family("voicewall_bytes_total", "counter", "Bytes matched by a voicewall rule, by rule key and policy block.")
	for _, c := range m.Rules {
		w.sample("voicewall_bytes_total", float64(c.Bytes), ruleLabels(c)...)
	}

	// Every reason, also at 0: an alert on a reason has a series from the
	// first scrape.
	pk, by := map[string]uint64{}, map[string]uint64{}
	for _, c := range m.Rules {
		if c.Reason != "" {
			pk[c.Reason] += c.Packets
			by[c.Reason] += c.Bytes
		}
	}
	w.family("voicewall_dropped_packets_total", "counter", "Packets voicewall dropped, by reason.")
	for _, r := range lang.DropReasons {
		w.sample("voicewall_dropped_packets_total", float64(pk[r]), "reason", r)
	}
	w.family("voicewall_dropped_bytes_total", "counter", "Bytes voicewall dropped, by reason.")
	for _, r := range lang.DropReasons {
		w.sample("voicewall_dropped_bytes_total", float64(by[r]), "reason", r)
	}

	if len(m.Meters) > 0 {
		w.family("voicewall_rate_limit_meter_entries", "gauge", "Sources the SIP rate-limit meter tracks now.")
		for _, g := range m.Meters {
			w.sample("voicewall_rate_limit_meter_entries", float64(g.Entries), "family", g.Family)
		}
		w.family("voicewall_rate_limit_meter_size", "gauge", "Sources the SIP rate-limit meter can track (its set size).")
		for _, g := range m.Meters {
			w.sample("voicewall_rate_limit_meter_size", float64(g.Size), "family", g.Family)
		}
	}
	if len(m.Bans) > 0 || len(m.Trusted) > 0 {
		w.family("voicewall_bans", "gauge", "Timed bans in the kernel now, by family and reason (cli, watch, fail2ban).")
		for _, g := range m.Bans {
			w.sample("voicewall_bans", float64(g.Bans), "family", g.Family, "reason", g.Reason)
		}
	}
	if len(m.Trusted) > 0 {
		w.family("voicewall_trusted_phones", "gauge", "Remote phone addresses trusted now (a successful registration seen by watch).")
		for _, g := range m.Trusted {
			w.sample("voicewall_trusted_phones", float64(g.Entries), "family", g.Family)
		}
	}
	if len(m.Lists) > 0 {
		w.family("voicewall_blocklist_ranges", "gauge", "Merged address ranges of a blocklist in the kernel.")
		for _, g := range m.Lists {
			w.sample("voicewall_blocklist_ranges", float64(g.Ranges), "blocklist", g.Blocklist, "family", g.Family)
		}
	}
	if len(m.Files) > 0 {
		w.family("voicewall_blocklist_file_modified_timestamp_seconds", "gauge", "Modification time of a blocklist file (alert on time() minus this).")
		for _, f := range m.Files {
			if f.Err == "" {
				w.sample("voicewall_blocklist_file_modified_timestamp_seconds", unixSeconds(f.Modified), "blocklist", f.Blocklist, "file", f.File)
			}
		}
		w.family("voicewall_blocklist_file_age_seconds", "gauge", "Age of a blocklist file when status ran; -1 when it cannot be read.")
		for _, f := range m.Files {
			age := -1.0
			if f.Err == "" {
				age = math.Max(0, m.Now.Sub(f.Modified).Seconds())
			}
			w.sample("voicewall_blocklist_file_age_seconds", age, "blocklist", f.Blocklist, "file", f.File)
		}
	}

	// Written (0) before any apply was recorded, so an alert on a stale
	// or never-successful apply has a series.
	var lastAt, lastOK float64
	if a := m.LastApply; a != nil {
		lastAt = unixSeconds(a.Time)
		if !a.LastOK.IsZero() {
			lastOK = unixSeconds(a.LastOK)
		}
	}
	w.family("voicewall_last_apply_timestamp_seconds", "gauge", "When voicewall apply last ran on this target (0: never recorded).")
	w.sample("voicewall_last_apply_timestamp_seconds", lastAt)
	if m.LastApply != nil {
		w.family("voicewall_last_apply_success", "gauge", "Whether the last apply succeeded (1) or failed (0).")
		w.sample("voicewall_last_apply_success", boolValue(m.LastApply.OK))
	}
	w.family("voicewall_last_successful_apply_timestamp_seconds", "gauge", "When an apply last succeeded on this target (0: never recorded).")
	w.sample("voicewall_last_successful_apply_timestamp_seconds", lastOK)

	if len(m.Feeds) > 0 {
		w.family("voicewall_feed_last_refresh_success", "gauge", "Whether the last refresh of a blocklist feed succeeded (1) or was refused or failed (0: the last good file stays).")
		for _, f := range m.Feeds {
			w.sample("voicewall_feed_last_refresh_success", boolValue(f.OK), "blocklist", f.Blocklist, "feed", f.Feed)
		}
		w.family("voicewall_feed_last_refresh_timestamp_seconds", "gauge", "When a blocklist feed was last refreshed, successfully or not.")
		for _, f := range m.Feeds {
			w.sample("voicewall_feed_last_refresh_timestamp_seconds", unixSeconds(f.LastAttempt), "blocklist", f.Blocklist, "feed", f.Feed)
		}
		w.family("voicewall_feed_last_success_timestamp_seconds", "gauge", "When a blocklist feed last refreshed successfully (0: never).")
		for _, f := range m.Feeds {
			v := 0.0
			if !f.LastSuccess.IsZero() {
				v = unixSeconds(f.LastSuccess)
			}
			w.sample("voicewall_feed_last_success_timestamp_seconds", v, "blocklist", f.Blocklist, "feed", f.Feed)
		}
		w.family("voicewall_feed_entries", "gauge", "Entries of a feed's last good blocklist file.")
		for _, f := range m.Feeds {
			w.sample("voicewall_feed_entries", float64(f.Entries), "blocklist", f.Blocklist, "feed", f.Feed)
		}
		w.family("voicewall_feed_refusals_total", "counter", "Downloaded feed lists refused (the last good file kept), by reason.")
		for _, f := range m.Feeds {
			reasons := make([]string, 0, len(f.Refusals))
			for r := range f.Refusals {
				reasons = append(reasons, r)
			}
			sort.Strings(reasons)
			for _, r := range reasons {
				w.sample("voicewall_feed_refusals_total", float64(f.Refusals[r]), "blocklist", f.Blocklist, "feed", f.Feed, "reason", r)
			}
		}
	}

	if len(m.Providers) > 0 {
		w.family("voicewall_provider_drift", "gauge", "Whether a provider's ranges in the policy drifted from the provider catalog or its DNS answers (1; `voicewall providers check` names the ranges) or are current (0).")
		for _, p := range m.Providers {
			w.sample("voicewall_provider_drift", boolValue(p.Drift), "provider", p.Provider)
		}
		w.family("voicewall_provider_catalog_verified_timestamp_seconds", "gauge", "When the catalog entry a provider is compared with was last verified against the provider's page (or refreshed by `voicewall providers update`).")
		for _, p := range m.Providers {
			if !p.CatalogVerified.IsZero() {
				w.sample("voicewall_provider_catalog_verified_timestamp_seconds", unixSeconds(p.CatalogVerified), "provider", p.Provider, "entry", p.CatalogEntry)
			}
		}
	}

	if len(m.ProviderUpdates) > 0 {
		w.family("voicewall_provider_update_last_attempt_timestamp_seconds", "gauge", "When `voicewall providers update` last tried to refresh the catalog entry.")
		for _, u := range m.ProviderUpdates {
			w.sample("voicewall_provider_update_last_attempt_timestamp_seconds", unixSeconds(u.LastAttempt), "entry", u.Entry)
		}
		w.family("voicewall_provider_update_last_success_timestamp_seconds", "gauge", "When the entry's list was last downloaded and kept, or found unchanged (0: never).")
		for _, u := range m.ProviderUpdates {
			v := 0.0
			if !u.LastSuccess.IsZero() {
				v = unixSeconds(u.LastSuccess)
			}
			w.sample("voicewall_provider_update_last_success_timestamp_seconds", v, "entry", u.Entry)
		}
		w.family("voicewall_provider_update_refusals_total", "counter", "Downloaded provider lists refused (the last good entry kept): not https, too large, cut off, not a list, special-purpose ranges, another provider's ranges, or a shrink.")
		for _, u := range m.ProviderUpdates {
			w.sample("voicewall_provider_update_refusals_total", float64(u.Refusals), "entry", u.Entry)
		}
	}

	w.family("voicewall_rollback_pending", "gauge", "Whether an apply awaits `voicewall confirm` (its rollback runs at the deadline).")
	w.sample("voicewall_rollback_pending", boolValue(m.Pending != nil))
	if m.Pending != nil {
		w.family("voicewall_rollback_deadline_timestamp_seconds", "gauge", "When the pending rollback restores the previous table unless confirmed.")
		w.sample("voicewall_rollback_deadline_timestamp_seconds", unixSeconds(m.Pending.Deadline))
	}
	_, err := io.WriteString(out, w.b.String())
	return err
}
