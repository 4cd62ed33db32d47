package providers

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"sort"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live"
)

// UpdateStatePath is the record of every entry's update attempts (for
// status --format prometheus): the timer's failures must be visible before
// the entry grows old.
func UpdateStatePath(libDir string) string {
	return filepath.Join(libDir, "catalog", "update-state.json")
}

// UpdateRecord is one entry's update history.
type UpdateRecord struct {
	Entry       string    `json:"entry"`
	LastAttempt time.Time `json:"last_attempt"`
	LastSuccess time.Time `json:"last_success,omitzero"` // updated or unchanged
	Status      string    `json:"status"`                // of the last attempt
	Reason      string    `json:"reason,omitempty"`
	Refusals    uint64    `json:"refusals"` // since the record began
}

func readUpdateState(libDir string) (map[string]*UpdateRecord, error) {
	b, err := live.ReadTrusted(UpdateStatePath(libDir))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]*UpdateRecord{}, nil
	}
	if err != nil {
		return nil, err
	}
	var recs []*UpdateRecord
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, err
	}
	m := map[string]*UpdateRecord{}
	for _, r := range recs {
		if r != nil && r.Entry != "" {
			m[r.Entry] = r
		}
	}
	return m, nil
}

// recordUpdates adds the outcomes of one run to the record. A record that
// cannot be read starts afresh: it only feeds metrics.
func recordUpdates(libDir string, out []Outcome, now time.Time) error {
	m, err := readUpdateState(libDir)
	if err != nil {
		m = map[string]*UpdateRecord{}
	}
	for _, o := range out {
		r := m[o.Entry]
		if r == nil {
			r = &UpdateRecord{Entry: o.Entry}
			m[o.Entry] = r
		}
		r.LastAttempt, r.Status, r.Reason = now.UTC(), o.Status, o.Reason
		if o.Status == "refused" {
			r.Refusals++
		} else {
			r.LastSuccess = now.UTC()
		}
	}
	recs := make([]*UpdateRecord, 0, len(m))
	for _, r := range m {
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Entry < recs[j].Entry })
	return writeJSON(UpdateStatePath(libDir), recs)
}

// UpdateGauges are the update record as metrics (none before the first
// providers update).
func UpdateGauges(libDir string) ([]live.ProviderUpdateGauge, error) {
	m, err := readUpdateState(libDir)
	if err != nil {
		return nil, err
	}
	var out []live.ProviderUpdateGauge
	for _, r := range m {
		out = append(out, live.ProviderUpdateGauge{Entry: r.Entry, LastAttempt: r.LastAttempt, LastSuccess: r.LastSuccess, Refusals: r.Refusals})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Entry < out[j].Entry })
	return out, nil
}
