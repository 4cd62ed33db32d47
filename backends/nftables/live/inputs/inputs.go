// Package inputs digests a policy's input files for the no-op fast path
// (docs/live.md): voicewall's own identity, the policy's .hcl files and
// every blocklist file they name, with what is needed to tell later whether
// any of them changed. The caller (the command) takes the snapshot and
// hands it to package live, which never lists or reads policy files itself.
package inputs

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/voicewall/voicewall/lang"
)

// BuildID is the Go build ID of the running executable (the
// .note.go.buildid ELF note of /proc/self/exe, the inode this process runs
// even when the file was replaced since). The go command derives it from
// every input of the build: the source of every package linked in, the
// toolchain, flags and -X settings. It identifies "this voicewall" without
// hashing the whole binary.
func BuildID() (string, error) {
	buildIDOnce.Do(func() { buildID, buildIDErr = readBuildID("/proc/self/exe") })
	return buildID, buildIDErr
}

var (
	buildIDOnce sync.Once
	buildID     string
	buildIDErr  error
)

func readBuildID(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := f.Section(".note.go.buildid")
	if s == nil {
		return "", errors.New("no .note.go.buildid section")
	}
	b, err := s.Data()
	if err != nil {
		return "", err
	}
	// namesz, descsz, type, "Go\0\0", build id.
	if len(b) < 16 {
		return "", errors.New("short .note.go.buildid")
	}
	nsz, dsz := f.ByteOrder.Uint32(b), f.ByteOrder.Uint32(b[4:])
	if nsz != 4 || string(b[12:16]) != "Go\x00\x00" || uint64(len(b)) < 16+uint64(dsz) || dsz == 0 {
		return "", errors.New("bad .note.go.buildid")
	}
	return string(b[16 : 16+dsz]), nil
}

// inputStat is what identifies one version of an input file.
type inputStat struct {
	dev, ino, size uint64
	mtime, ctime   unix.Timespec
}

func statOf(st *unix.Stat_t) inputStat {
	return inputStat{uint64(st.Dev), st.Ino, uint64(st.Size), st.Mtim, st.Ctim}
}

// Snapshot is a digest of a policy's inputs, with what is needed to
// tell later whether the files changed since.
type Snapshot struct {
	Digest [32]byte
	Path   string   // the policy path as given
	Files  []string // lang.InputFiles(Path)
	stats  []inputStat
	start  time.Time // before the first file was read
}

// Take lists the policy's inputs (lang.InputFiles: the HCL is
// parsed, blocklists are not) and hashes them with identity, which stands
// for voicewall itself. It fails when the HCL does not parse or a file
// cannot be read or changes while it is hashed; callers then take the full
// path.
//
// With wait (apply, which records snapshots), it first waits until every
// input's ctime is older than the settle time (at most a few seconds), so
// that lists refreshed just before `voicewall apply` can still be recorded
// (see Unchanged).
func Take(identity []byte, path string, wait bool) (*Snapshot, error) {
	files, diags := lang.InputFiles(path)
	if diags.HasErrors() {
		return nil, diags
	}
	if wait {
		waitSettled(files)
	}
	start := time.Now()
	s := &Snapshot{Path: path, Files: files, start: start}
	h := sha256.New()
	io.WriteString(h, "voicewall inputs 1\x00")
	writeField(h, identity)
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	writeField(h, []byte(abs))
	writeUint(h, uint64(len(files)))
	buf := make([]byte, 1<<16)
	for _, f := range files {
		st, err := hashFile(h, f, buf)
		if err != nil {
			return nil, err
		}
		s.stats = append(s.stats, st)
	}
	copy(s.Digest[:], h.Sum(nil))
	return s, nil
}

func writeUint(h hash.Hash, n uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	h.Write(b[:])
}

func writeField(h hash.Hash, b []byte) {
	writeUint(h, uint64(len(b)))
	h.Write(b)
}

// hashFile writes the file's absolute path, size and content into h
// (streamed, no copy of the file) and returns the stat it was read at.
func hashFile(h hash.Hash, path string, buf []byte) (inputStat, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return inputStat{}, err
	}
	// Stat before open, and open without blocking: opening a FIFO for
	// reading would wait for a writer forever. A file swapped for a FIFO
	// between the two is caught by the fstat.
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return inputStat{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return inputStat{}, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return inputStat{}, err
	}
	defer f.Close()
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return inputStat{}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return inputStat{}, fmt.Errorf("%s is not a regular file", path)
	}
	writeField(h, []byte(abs))
	writeUint(h, uint64(st.Size))
	n, err := io.CopyBuffer(h, f, buf)
	if err != nil {
		return inputStat{}, err
	}
	if n != st.Size {
		return inputStat{}, fmt.Errorf("%s changed while it was read", path)
	}
	return statOf(&st), nil
}

// settle is how old a file's ctime must be, at the start of a snapshot,
// for Unchanged to trust that a write after the snapshot would have moved
// it: a write in the same timestamp granule as the one before could leave
// ctime as it was. Filesystems with whole-second timestamps (nanoseconds
// always 0) get two seconds, the others (nanosecond fields, stamped from a
// clock that ticks at least every 10 ms) a tenth of a second.
func settle(ctime unix.Timespec) time.Duration {
	if ctime.Nsec == 0 {
		return 2 * time.Second
	}
	return 100 * time.Millisecond
}

// waitSettled sleeps until every file's ctime is older than its settle
// time, when that is at most 3 s away (a ctime further in the future means
// a clock step: Unchanged then refuses, and nothing is recorded).
func waitSettled(files []string) {
	var until time.Time
	for _, f := range files {
		var st unix.Stat_t
		if unix.Stat(f, &st) != nil {
			continue
		}
		if t := time.Unix(st.Ctim.Sec, st.Ctim.Nsec).Add(settle(st.Ctim) + time.Millisecond); t.After(until) {
			until = t
		}
	}
	if d := time.Until(until); d > 0 && d <= 3*time.Second {
		time.Sleep(d)
	}
}

// Sum is the digest of the inputs.
func (s *Snapshot) Sum() [32]byte { return s.Digest }

// Unchanged reports whether no input changed since the snapshot was taken:
// the input list is the same and every file is the same inode with the
// same size, mtime and ctime, and each ctime was older than the settle
// time when the snapshot began (so a later write would have moved it).
// The kernel sets ctime on every write, truncate and rename, and nobody can
// set it back, so an apply that loaded the policy between the snapshot and
// a true Unchanged compiled exactly the bytes the digest covers.
func (s *Snapshot) Unchanged() bool {
	files, diags := lang.InputFiles(s.Path)
	if diags.HasErrors() || len(files) != len(s.Files) {
		return false
	}
	for i, f := range files {
		if f != s.Files[i] {
			return false
		}
		var st unix.Stat_t
		if err := unix.Stat(f, &st); err != nil || statOf(&st) != s.stats[i] {
			return false
		}
		ct := time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
		if !ct.Before(s.start.Add(-settle(st.Ctim))) {
			return false
		}
	}
	return true
}
