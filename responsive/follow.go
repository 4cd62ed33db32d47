package responsive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/voicewall/voicewall/internal/safefile"
)

// Follower reads the lines appended to a log file, as `tail -F` does: it
// starts at the end (old lines are history, not new attempts), and follows
// the file through rotation: a rename and a new file (the old one is read
// to its end first), or copytruncate (the file shrinks: read from the
// start again). A missing file is waited for.
type Follower struct {
	Path string
	// Poll is how often the file is checked for new lines and rotation.
	Poll time.Duration
	// FromStart reads what the file holds already (tests, replays).
	FromStart bool

	f       *os.File
	ino     uint64
	off     int64
	partial []byte
}

// maxLine bounds one line: a log line longer than this is cut (its start
// is kept) so a garbage writer cannot grow memory.
const maxLine = 64 << 10

// Run calls line for every complete line until ctx ends.
func (f *Follower) Run(ctx context.Context, line func(string)) error {
	if f.Poll <= 0 {
		f.Poll = 200 * time.Millisecond
	}
	defer f.close()
	first := true
	tick := time.NewTicker(f.Poll)
	defer tick.Stop()
	for {
		if err := f.step(first, line); err != nil {
			return err
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (f *Follower) close() {
	if f.f != nil {
		f.f.Close()
		f.f = nil
	}
}

// step reads what is new, then handles rotation.
func (f *Follower) step(first bool, line func(string)) error {
	if f.f == nil {
		if err := f.open(first && !f.FromStart); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // not there yet (or rotated away): wait
			}
			return err
		}
	}
	fi, err := f.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() < f.off { // copytruncate: the file was emptied in place
		f.off, f.partial = 0, f.partial[:0]
		if _, err := f.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
	}
	if err := f.drain(line); err != nil {
		return err
	}
	// Renamed away and replaced? Finish the old file (done above), then
	// switch to the new one and read it from its start.
	cur, err := os.Stat(f.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // rotated, the new file not there yet: keep the old open
		}
		return err
	}
	if ino := inode(cur); ino != f.ino {
		f.close()
		f.partial = f.partial[:0]
		if err := f.open(false); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if f.f != nil {
			return f.drain(line)
		}
	}
	return nil
}

func (f *Follower) open(atEnd bool) error {
	fh, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return err
	}
	if !fi.Mode().IsRegular() {
		fh.Close()
		return fmt.Errorf("%s is not a regular file", f.Path)
	}
	f.f, f.ino, f.off = fh, inode(fi), 0
	if atEnd {
		if f.off, err = fh.Seek(0, io.SeekEnd); err != nil {
			return err
		}
	}
	return nil
}

func (f *Follower) drain(line func(string)) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := f.f.Read(buf)
		if n > 0 {
			f.off += int64(n)
			data := buf[:n]
			for {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					if room := maxLine - len(f.partial); room > 0 {
						f.partial = append(f.partial, data[:min(len(data), room)]...)
					}
					break
				}
				if room := maxLine - len(f.partial); room > 0 {
					f.partial = append(f.partial, data[:min(i, room)]...)
				}
				line(strings.TrimRight(string(f.partial), "\r"))
				f.partial = f.partial[:0]
				data = data[i+1:]
			}
		}
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// Metrics writes the tracker's counts in the Prometheus text format.
func (t *Tracker) Metrics() []byte {
	var b strings.Builder
	b.WriteString("# HELP voicewall_watch_events_total Security events read from the PBX's log, by event.\n# TYPE voicewall_watch_events_total counter\n")
	kinds := make([]string, 0, len(t.Events))
	for k := range t.Events {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, "voicewall_watch_events_total{event=%q} %d\n", promSafe(k), t.Events[EventKind(k)])
	}
	fmt.Fprintf(&b, "# HELP voicewall_watch_bans_total Sources the watcher banned for failed authentications.\n# TYPE voicewall_watch_bans_total counter\nvoicewall_watch_bans_total %d\n", t.Bans)
	fmt.Fprintf(&b, "# HELP voicewall_watch_trusts_total Successful registrations that trusted a remote phone's address.\n# TYPE voicewall_watch_trusts_total counter\nvoicewall_watch_trusts_total %d\n", t.Trusts)
	fmt.Fprintf(&b, "# HELP voicewall_watch_refused_total Bans the watcher refused because the policy protects the address.\n# TYPE voicewall_watch_refused_total counter\nvoicewall_watch_refused_total %d\n", t.Refused)
	fmt.Fprintf(&b, "# HELP voicewall_watch_ambiguous_lines_total Security log lines not acted on: a field appeared twice (possibly forged through a remote-controlled value).\n# TYPE voicewall_watch_ambiguous_lines_total counter\nvoicewall_watch_ambiguous_lines_total %d\n", t.Ambiguous)
	fmt.Fprintf(&b, "# HELP voicewall_watch_tracked_sources Sources with failed authentications inside the window now.\n# TYPE voicewall_watch_tracked_sources gauge\nvoicewall_watch_tracked_sources %d\n", t.Tracked())
	return []byte(b.String())
}

// promSafe keeps a label value printable (event names come from the log).
func promSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, s)
}

// WriteMetrics replaces DIR/voicewall-watch.prom with the tracker's counts.
func (t *Tracker) WriteMetrics(dir string) error {
	return safefile.Write(dir+"/voicewall-watch.prom", t.Metrics(), safefile.Options{Mode: 0o644})
}
