package live

// The last good table: boot never fails open. Every apply that leaves the
// kernel holding the compiled table (verified, or found already equal)
// keeps that table under LibDir()/last-good/, as the netlink batch that
// creates it and, for people, as nft text. When the policy does not load at
// boot (a bad feed line, a half-finished rollout), `voicewall apply
// --fallback-last-good` sends that batch, so the gateway comes up with the
// last table that worked instead of none, says so loudly, and still fails.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"
	"github.com/voicewall/voicewall/internal/safefile"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

// LastGood is a saved table.
type LastGood struct {
	File    string    `json:"-"`
	Saved   time.Time `json:"saved"`
	Policy  string    `json:"policy"` // the policy path it was applied from
	Netns   string    `json:"netns"`
	Digest  string    `json:"digest"` // the compiled table's digest
	Restore []rawMsg  `json:"restore"`
}

// LastGoodPath is the saved table of the namespace named netns ("" is the
// one voicewall runs in): by name, since a namespace's identity does not
// survive a reboot.
func LastGoodPath(netns string) string {
	name := netns
	if name == "" {
		name = "default"
	}
	return filepath.Join(LibDir(), "last-good", name+".json")
}

func lastGoodDigestPath(file string) string { return strings.TrimSuffix(file, ".json") + ".digest" }

// LastGoodTextPath is the nft text of the saved table, for people (nft -f
// loads it by hand in an emergency).
func LastGoodTextPath(file string) string { return strings.TrimSuffix(file, ".json") + ".nft" }

// SaveLastGood keeps tab, which the kernel holds now, as t's last good
// table. An unchanged table (same digest) is not written again.
func SaveLastGood(t *Target, tab *vw.Table, policy, digest string) error {
	file := LastGoodPath(t.Name)
	if b, err := readTrusted(lastGoodDigestPath(file)); err == nil && string(b) == digest {
		if _, err := os.Stat(file); err == nil {
			return nil
		}
	}
	msgs, err := CreateMsgs(tab, newNonce())
	if err != nil {
		return err
	}
	lg := LastGood{Saved: time.Now().UTC(), Policy: policy, Netns: t.Name, Digest: digest}
	for _, m := range msgs {
		lg.Restore = append(lg.Restore, rawMsg{T: m.Type, F: m.Flags, D: m.Data, W: m.What})
	}
	b, err := json.Marshal(lg)
	if err != nil {
		return err
	}
	if err := mkStateDir(filepath.Dir(file)); err != nil {
		return fmt.Errorf("cannot keep the last good table: %w", err)
	}
	// The batch first, then its digest: a crash in between leaves a
	// digest that does not match, and the next apply writes both again.
	if err := safefile.Write(file, b, safefile.Options{Mode: 0o600}); err != nil {
		return err
	}
	if err := safefile.Write(LastGoodTextPath(file), vw.RenderFile(tab), safefile.Options{Mode: 0o600}); err != nil {
		return err
	}
	return safefile.Write(lastGoodDigestPath(file), []byte(digest), safefile.Options{Mode: 0o600})
}

// LoadLastGood reads the last good table of the namespace named netns.
func LoadLastGood(netns string) (*LastGood, error) {
	file := LastGoodPath(netns)
	b, err := readTrusted(file)
	if err != nil {
		return nil, err
	}
	lg := &LastGood{File: file}
	if err := json.Unmarshal(b, lg); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(lg.Restore) == 0 {
		return nil, fmt.Errorf("%s holds no table", file)
	}
	return lg, nil
}

// ErrTablePresent: the fallback found table inet voicewall in place and
// left it (it is the last applied one, newer than any saved copy).
var ErrTablePresent = errors.New("table inet voicewall is in place; the last good table is only loaded when there is none")

// FallbackLastGood loads the last good table into the namespace named
// netns when it has no table inet voicewall (a boot whose policy did not
// load). It returns what it loaded.
func FallbackLastGood(netns string) (*LastGood, error) {
	t, err := Open(netns)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	st, err := Read(t, ReadOptions{SkipElements: true, NoCache: true})
	if err != nil {
		return nil, fmt.Errorf("reading table inet voicewall in %s: %w", t, err)
	}
	if st.Exists {
		return nil, ErrTablePresent
	}
	lg, err := LoadLastGood(netns)
	if err != nil {
		return nil, fmt.Errorf("no last good table to fall back to: %w", err)
	}
	msgs := make([]Msg, 0, len(lg.Restore))
	for _, m := range lg.Restore {
		msgs = append(msgs, Msg{Type: m.T, Flags: m.F, Data: m.D, What: m.W})
	}
	if _, err := nlwire.SendBatch(t.FD(), msgs, 0); err != nil {
		return nil, fmt.Errorf("loading the last good table %s: %w", lg.File, err)
	}
	return lg, nil
}
