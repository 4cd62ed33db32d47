package live

// Rollback unless confirmed. Before an apply with a confirm timeout,
// voicewall saves the batch that rebuilds the previous table in a pending
// file (StateDir()/pending/<namespace id>.json) and starts a detached
// helper (`voicewall rollback --state FILE`, its own session, so neither the
// apply process dying nor the SSH session dropping stops it). The helper
// sleeps until the deadline written in the file; if the file is still there
// (nobody confirmed) it restores the previous table in one atomic batch
// touching only inet voicewall, writes what it did next to it (.result) and
// removes the file. `voicewall confirm` (or typing confirm) removes the file
// under the same lock, stops the helper and removes its log.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

// Pending is an apply waiting for confirmation.
type Pending struct {
	File        string    `json:"-"`
	Netns       string    `json:"netns"`      // --netns name ("" current)
	NetnsPath   string    `json:"netns_path"` // namespace file the helper opens
	NetnsIno    uint64    `json:"netns_ino"`  // and checks (names can be reused)
	Deadline    time.Time `json:"deadline"`
	HelperPID   int       `json:"helper_pid"`
	Applied     uint32    `json:"applied_genid"` // generation after the apply (0: not applied yet)
	PrevExisted bool      `json:"prev_existed"`
	Restore     []rawMsg  `json:"restore"` // creates the previous table
}

type rawMsg struct {
	T uint16 `json:"t"`
	F uint16 `json:"f"`
	D []byte `json:"d"`
	W string `json:"w,omitempty"`
}

// PendingPath is the pending file of a target.
func PendingPath(t *Target) string {
	return filepath.Join(StateDir(), "pending", t.ID()+".json")
}

// ResultPath is where the helper reports what it did.
func ResultPath(pendingFile string) string {
	return strings.TrimSuffix(pendingFile, ".json") + ".result"
}

// LogPath is where the helper's output goes. It is kept after a rollback
// that ran (it says what was restored, and when) until the next apply with
// a confirm timeout; a confirmed apply's log is removed with its pending
// file: nothing happened worth reading.
func LogPath(pendingFile string) string {
	return strings.TrimSuffix(pendingFile, ".json") + ".log"
}

// Table rebuilds the compiler's form of the table the kernel holds. It
// needs every rule decoded and every interval set read.
func (s *State) Table() (*vw.Table, error) {
	if !s.Exists {
		return nil, errors.New("no table")
	}
	t := &vw.Table{}
	for _, ls := range s.Sets {
		if ls.Type == "" {
			return nil, fmt.Errorf("set %s has a key type voicewall does not use", ls.Name)
		}
		set := &vw.Set{Name: ls.Name, Type: ls.Type}
		switch {
		case ls.Dynamic:
			set.Dynamic, set.Size, set.Timeout = true, ls.Size, formatNftDuration(ls.Timeout)
		case ls.Live:
			set.Live, set.Interval = true, ls.Interval
		case ls.Content == nil:
			return nil, fmt.Errorf("set %s was not read", ls.Name)
		default:
			set.Elements = ls.Content.Ranges
		}
		t.Sets = append(t.Sets, set)
	}
	for _, lc := range s.Chains {
		c := &vw.Chain{Name: lc.Name}
		if lc.Base() {
			c.Type, c.Hook, c.PrioNum, c.Policy = lc.Type, lc.Hook, lc.PrioNum, lc.Policy
			c.Priority = fmt.Sprint(lc.PrioNum)
			if n, ok := prioNames[lc.Type][lc.PrioNum]; ok {
				c.Priority = n
			}
		}
		for _, lr := range lc.Rules {
			if lr.DecodeErr != nil {
				return nil, fmt.Errorf("chain %s: rule %q: %w", lc.Name, lr.Comment, lr.DecodeErr)
			}
			c.Rules = append(c.Rules, &vw.Rule{Key: lr.Key, Stmts: lr.Stmts, Comment: lr.Comment})
		}
		t.Chains = append(t.Chains, c)
	}
	return t, nil
}

// LoadPending returns the target's pending apply, or nil.
func LoadPending(t *Target) (*Pending, error) {
	return loadPendingFile(PendingPath(t))
}

func loadPendingFile(path string) (*Pending, error) {
	b, err := readTrusted(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p := &Pending{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("pending rollback %s: %w", path, err)
	}
	p.File = path
	return p, nil
}

// SaveRollback writes the pending file for an apply on t whose previous
// table is prev (as read before the apply).
func SaveRollback(t *Target, prev *State, deadline time.Time) (*Pending, error) {
	p := &Pending{File: PendingPath(t), Netns: t.Name, NetnsPath: t.Path, NetnsIno: t.Ino, Deadline: deadline, PrevExisted: prev.Exists}
	// With no --netns the helper, started by this process, inherits its
	// namespace: it opens /proc/self/ns/net and checks the inode.
	if prev.Exists {
		tab, err := prev.Table()
		if err != nil {
			return nil, fmt.Errorf("cannot save the current table for a rollback: %w", err)
		}
		msgs, err := CreateMsgs(tab, prev.Nonce)
		if err != nil {
			return nil, fmt.Errorf("cannot save the current table for a rollback: %w", err)
		}
		for _, m := range msgs {
			p.Restore = append(p.Restore, rawMsg{T: m.Type, F: m.Flags, D: m.Data, W: m.What})
		}
	}
	if err := mkStateDir(filepath.Dir(p.File)); err != nil {
		return nil, fmt.Errorf("cannot arm the rollback: %w", err)
	}
	if _, err := os.Stat(p.File); err == nil {
		return nil, fmt.Errorf("an earlier apply on %s is still waiting for confirmation (%s)", t, p.File)
	}
	os.Remove(ResultPath(p.File))
	os.Remove(LogPath(p.File)) // an earlier rollback's, already reported by its result
	return p, p.write()
}

// write stores the pending file atomically (under its lock when it exists).
func (p *Pending) write() error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return WriteState(p.File, b)
}

// Update rewrites the pending file (deadline, helper pid, applied genid)
// unless it was confirmed or rolled back meanwhile.
func (p *Pending) Update() error {
	return withLock(p.File, func(exists bool) error {
		if !exists {
			return errors.New("the pending rollback is gone (confirmed or already rolled back)")
		}
		return p.write()
	})
}

// withLock runs fn holding an exclusive lock on a lock file next to path;
// exists says whether path is (still) there.
func withLock(path string, fn func(exists bool) error) error {
	lf, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
	_, err = os.Stat(path)
	return fn(err == nil)
}

// Confirm keeps the applied table: the pending file is removed (so the
// helper, if it wakes up, finds nothing to do) and the helper is stopped.
// It reports false when there was nothing to confirm.
func (p *Pending) Confirm() (bool, error) {
	confirmed := false
	err := withLock(p.File, func(exists bool) error {
		if !exists {
			return nil
		}
		confirmed = true
		// The result first: an apply waiting for this pending file sees
		// it gone only once the result says it was confirmed.
		b, _ := json.Marshal(RollbackResult{At: time.Now(), Confirmed: true, Message: "confirmed: the applied table stays"})
		if err := WriteState(ResultPath(p.File), b); err != nil {
			return err
		}
		return os.Remove(p.File)
	})
	if err != nil {
		return false, err
	}
	if confirmed && p.HelperPID > 0 && isHelper(p.HelperPID, p.File) {
		_ = syscall.Kill(p.HelperPID, syscall.SIGTERM)
	}
	os.Remove(p.File + ".lock")
	if confirmed {
		os.Remove(LogPath(p.File))
	}
	return confirmed, nil
}

// isHelper checks that pid is the rollback helper of this pending file
// (pids are reused).
func isHelper(pid int, file string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	return strings.Contains(string(b), "rollback") && strings.Contains(string(b), file)
}

// HelperAlive reports whether the pending rollback's helper still runs.
func (p *Pending) HelperAlive() bool {
	return p.HelperPID > 0 && isHelper(p.HelperPID, p.File)
}

// RollbackResult is what ended a pending apply: the helper's rollback, or
// a confirm (Confirmed), so an apply waiting in another shell can tell
// which.
type RollbackResult struct {
	At        time.Time `json:"at"`
	Restored  bool      `json:"restored"`
	Confirmed bool      `json:"confirmed,omitempty"`
	Message   string    `json:"message"`
}

// ReadResult reads the helper's report for a pending file.
func ReadResult(pendingFile string) (*RollbackResult, error) {
	b, err := readTrusted(ResultPath(pendingFile))
	if err != nil {
		return nil, err
	}
	r := &RollbackResult{}
	return r, json.Unmarshal(b, r)
}

// RunRollback is the helper: it waits for the deadline in the pending file
// and then restores the previous table unless the file was removed
// (confirmed). It returns when there is nothing left to do.
func RunRollback(file string) error {
	for {
		p, err := loadPendingFile(file)
		if err != nil {
			return err
		}
		if p == nil {
			return nil // confirmed
		}
		wait := time.Until(p.Deadline)
		if wait > 0 {
			// Wake up now and then: a confirm removes the file, an
			// update moves the deadline.
			time.Sleep(min(wait, 500*time.Millisecond))
			continue
		}
		var res RollbackResult
		err = withLock(file, func(exists bool) error {
			if !exists {
				return nil
			}
			// Re-read under the lock (the deadline may have moved).
			q, err := loadPendingFile(file)
			if err != nil || q == nil {
				return err
			}
			if time.Until(q.Deadline) > 0 {
				return errRetry
			}
			res = restore(q)
			b, _ := json.Marshal(res)
			_ = WriteState(ResultPath(file), b)
			return os.Remove(file)
		})
		if errors.Is(err, errRetry) {
			continue
		}
		os.Remove(file + ".lock")
		if err != nil {
			return err
		}
		if !res.Restored && res.Message != "" {
			return errors.New(res.Message)
		}
		return nil
	}
}

var errRetry = errors.New("retry")

// restore sends the batch that puts the previous table back.
func restore(p *Pending) RollbackResult {
	res := RollbackResult{At: time.Now()}
	t, err := OpenPath(p.NetnsPath, p.NetnsIno)
	if err != nil {
		res.Message = "rollback not possible: " + err.Error()
		return res
	}
	defer t.Close()
	st, err := Read(t, ReadOptions{SkipElements: true, NoCache: true})
	if err != nil {
		res.Message = "rollback failed reading the table: " + err.Error()
		return res
	}
	var msgs []Msg
	if st.Exists {
		b := newBuilder()
		b.delTable()
		msgs = b.msgs
		dropCache(st.Nonce)
	}
	for _, m := range p.Restore {
		msgs = append(msgs, Msg{Type: m.T, Flags: m.F, Data: m.D, What: m.W})
	}
	if len(msgs) == 0 {
		res.Restored = true
		res.Message = "nothing to restore: there was no voicewall table before, and there is none now"
		return res
	}
	if _, err := nlwire.SendBatch(t.FD(), msgs, 0); err != nil {
		res.Message = "rollback failed: " + err.Error()
		return res
	}
	res.Restored = true
	if p.PrevExisted {
		res.Message = "restored the previous voicewall table"
	} else {
		res.Message = "removed the voicewall table (there was none before the apply)"
	}
	return res
}
