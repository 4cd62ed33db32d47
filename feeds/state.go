package feeds

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/internal/safefile"
)

// StatePath is the refresh record the metrics read: persistent (LibDir),
// so a refusal counted before a reboot still counts after it.
func StatePath() string { return filepath.Join(live.LibDir(), "refresh.json") }

type feedState struct {
	Blocklist   string            `json:"blocklist"`
	Feed        string            `json:"feed"`
	OK          bool              `json:"ok"`
	LastAttempt time.Time         `json:"last_attempt"`
	LastSuccess time.Time         `json:"last_success,omitzero"`
	Entries     int               `json:"entries"`
	Reason      string            `json:"reason,omitempty"`
	Message     string            `json:"message,omitempty"`
	Refusals    map[string]uint64 `json:"refusals"`
}

func loadState() (map[string]*feedState, error) {
	st := map[string]*feedState{}
	b, err := live.ReadTrusted(StatePath())
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	var list []*feedState
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, err
	}
	for _, f := range list {
		st[f.Blocklist+"\x00"+f.Feed] = f
	}
	return st, nil
}

// Record adds a refresh's outcome to the state file. A state file that
// cannot be read is started afresh (the counters restart; the refresh
// itself is what matters).
func Record(rep *Report, at time.Time) error {
	st, err := loadState()
	if err != nil {
		st = map[string]*feedState{}
	}
	for _, r := range rep.Results {
		k := r.Blocklist + "\x00" + r.Feed
		f := st[k]
		if f == nil {
			f = &feedState{Blocklist: r.Blocklist, Feed: r.Feed, Refusals: map[string]uint64{}}
			st[k] = f
		}
		f.LastAttempt, f.OK, f.Reason, f.Message = at.UTC(), r.Status != StatusRefused, "", ""
		if r.Entries >= 0 {
			f.Entries = r.Entries
		}
		if f.OK {
			f.LastSuccess = at.UTC()
		} else {
			f.Reason, f.Message = string(r.Refusal.Reason), r.Refusal.Msg
			f.Refusals[string(r.Refusal.Reason)]++
		}
	}
	list := make([]*feedState, 0, len(st))
	for _, f := range st {
		list = append(list, f)
	}
	sort.Slice(list, func(i, j int) bool {
		return list[i].Blocklist < list[j].Blocklist || list[i].Blocklist == list[j].Blocklist && list[i].Feed < list[j].Feed
	})
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := live.MkStateDir(filepath.Dir(StatePath())); err != nil {
		return err
	}
	return safefile.Write(StatePath(), b, safefile.Options{Mode: 0o600})
}

// Gauges reads the state for the metrics: every recorded feed, with every
// refusal reason present (0 too) so alerts have a series from the start.
func Gauges() ([]live.FeedGauge, error) {
	st, err := loadState()
	if err != nil {
		return nil, err
	}
	var out []live.FeedGauge
	for _, f := range st {
		g := live.FeedGauge{Blocklist: f.Blocklist, Feed: f.Feed, OK: f.OK, LastAttempt: f.LastAttempt, LastSuccess: f.LastSuccess, Entries: f.Entries, Refusals: map[string]uint64{}}
		for _, r := range Reasons {
			g.Refusals[string(r)] = f.Refusals[string(r)]
		}
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Blocklist < out[j].Blocklist || out[i].Blocklist == out[j].Blocklist && out[i].Feed < out[j].Feed
	})
	return out, nil
}

// Lock takes the refresh lock (LibDir()/refresh.lock): a manual refresh
// and the timer's never validate against each other's half-way state. It
// fails at once when another refresh holds it.
func Lock() (unlock func(), err error) {
	dir := filepath.Dir(StatePath())
	if err := live.MkStateDir(dir); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "refresh.lock"), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errors.New("another voicewall refresh is running; try again when it is done")
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
