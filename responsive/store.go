package responsive

// The ban record: the kernel forgets its ban sets on a reboot, and an
// apply that recreates table inet voicewall (the boot unit's, or one that
// falls back to the last good table) starts them empty. So every ban and
// unban made through a Kernel with a Store is also written to
// LibDir()/bans/<namespace>.json (persistent, root's, 0600, through
// safefile), each ban with its prefix, reason and absolute expiry; the
// apply then puts the unexpired ones back (restore.go). Trusted remote
// phones are not recorded: trust is earned again by a registration.
//
// fail2ban, the watcher and the CLI may write at once: every change is a
// read-modify-write under an flock on bans/<namespace>.lock, held across
// the kernel's change too, so the record and the kernel agree.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/internal/safefile"
)

// Record is one recorded ban.
type Record struct {
	Prefix  netip.Prefix `json:"prefix"`
	Reason  string       `json:"reason"`
	Expires time.Time    `json:"expires"`
}

// recordFile is the file's form.
type recordFile struct {
	Version int      `json:"version"`
	Bans    []Record `json:"bans"`
}

const recordVersion = 1

// Store is the ban record of one network namespace.
type Store struct {
	// Path is the record (bans/<namespace>.json); its lock is next to it.
	Path string
	// Warn reports a record that was set aside (nil: not reported).
	Warn func(string)
	// now is the clock (tests).
	now func() time.Time
}

// StoreFor is the record of the namespace named netns ("" is the one
// voicewall runs in, "default"): by name, as the last good table, since
// a namespace's identity does not survive a reboot.
func StoreFor(netns string) *Store {
	name := netns
	if name == "" {
		name = "default"
	}
	return &Store{Path: filepath.Join(live.LibDir(), "bans", name+".json")}
}

func (s *Store) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func (s *Store) warn(format string, a ...any) {
	if s.Warn != nil {
		s.Warn(fmt.Sprintf(format, a...))
	}
}

// CorruptError is a record that does not parse: it is not trusted.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("the ban record %s is not valid (%v)", e.Path, e.Err)
}

// parseRecord reads the file's bytes; anything unexpected makes the whole
// file untrusted.
func parseRecord(b []byte) ([]Record, error) {
	var f recordFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the record")
	}
	if f.Version != recordVersion {
		return nil, fmt.Errorf("version %d, want %d", f.Version, recordVersion)
	}
	seen := map[netip.Prefix]bool{}
	for _, r := range f.Bans {
		switch {
		case !r.Prefix.IsValid() || r.Prefix.Bits() == 0 || r.Prefix != r.Prefix.Masked() || r.Prefix.Addr().Is4In6() || r.Prefix.Addr().Zone() != "":
			return nil, fmt.Errorf("ban of %q: not a prefix voicewall bans", r.Prefix)
		case !validReason(r.Reason):
			return nil, fmt.Errorf("ban of %s: reason %q", r.Prefix, r.Reason)
		case r.Expires.IsZero():
			return nil, fmt.Errorf("ban of %s: no expiry", r.Prefix)
		case seen[r.Prefix]:
			return nil, fmt.Errorf("ban of %s recorded twice", r.Prefix)
		}
		seen[r.Prefix] = true
	}
	return f.Bans, nil
}

// read returns the record as stored (nil when there is none).
func (s *Store) read() ([]Record, error) {
	b, err := live.ReadTrusted(s.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	recs, err := parseRecord(b)
	if err != nil {
		return nil, &CorruptError{Path: s.Path, Err: err}
	}
	return recs, nil
}

// Load returns the unexpired recorded bans, without the lock (a record is
// replaced whole, so a reader sees the old one or the new one). A record
// that does not parse is a *CorruptError.
func (s *Store) Load() ([]Record, error) {
	recs, err := s.read()
	if err != nil {
		return nil, err
	}
	return unexpired(recs, s.clock()), nil
}

func unexpired(recs []Record, now time.Time) []Record {
	return slices.DeleteFunc(slices.Clone(recs), func(r Record) bool { return !r.Expires.After(now) })
}

// lock takes the record's flock, waiting at most lockWait.
func (s *Store) lock() (unlock func(), err error) {
	dir := filepath.Dir(s.Path)
	if err := live.MkStateDir(dir); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(strings.TrimSuffix(s.Path, ".json")+".lock", os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(lockWait)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, err
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%s is held by another voicewall (ban, unban, watch or apply) for more than %v", f.Name(), lockWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lockWait bounds the wait for the record's lock: its holders take
// milliseconds, and neither a ban nor an apply may hang on a stuck one.
var lockWait = 10 * time.Second

// Update changes the record under its lock: fn gets the unexpired bans
// and the time, and returns the new list and whether it changed. The file
// is written (expired bans pruned) when fn changed it or something expired.
// A record that does not parse is set aside (renamed to
// NAME.json.corrupt-TIME, with a warning) and fn starts from none; one
// that cannot be read or is not trusted (another owner, writable by
// others) is an error, fn is not called and nothing is written.
func (s *Store) Update(fn func(recs []Record, now time.Time) ([]Record, bool)) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	recs, err := s.read()
	var ce *CorruptError
	if errors.As(err, &ce) {
		aside := fmt.Sprintf("%s.corrupt-%s", filepath.Base(s.Path), s.clock().UTC().Format("20060102T150405.000000000Z"))
		if rerr := safefile.Rename(filepath.Dir(s.Path), filepath.Base(s.Path), aside); rerr != nil {
			return fmt.Errorf("%v, and could not be set aside: %w", ce, rerr)
		}
		s.warn("warning: %v: not trusted; kept as %s, starting a new record", ce, filepath.Join(filepath.Dir(s.Path), aside))
		recs, err = nil, nil
	}
	if err != nil {
		return err
	}
	now := s.clock()
	cur := unexpired(recs, now)
	out, changed := fn(slices.Clone(cur), now)
	if !changed && len(cur) == len(recs) {
		return nil
	}
	return s.write(unexpired(out, now))
}

func (s *Store) write(recs []Record) error {
	slices.SortFunc(recs, func(a, b Record) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		return a.Prefix.Bits() - b.Prefix.Bits()
	})
	if recs == nil {
		recs = []Record{}
	}
	b, err := json.Marshal(recordFile{Version: recordVersion, Bans: recs}) // people read it with voicewall bans
	if err != nil {
		return err
	}
	return live.WriteState(s.Path, append(b, '\n'))
}

// put records pfx's ban until exp, replacing an earlier one of the same
// prefix.
func put(recs []Record, r Record) []Record {
	recs = slices.DeleteFunc(recs, func(x Record) bool { return x.Prefix == r.Prefix })
	return append(recs, r)
}

// drop removes pfx's record; it reports whether there was one.
func drop(recs []Record, pfx netip.Prefix) ([]Record, bool) {
	n := len(recs)
	recs = slices.DeleteFunc(recs, func(x Record) bool { return x.Prefix == pfx })
	return recs, len(recs) != n
}
