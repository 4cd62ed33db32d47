package live

// The no-op fast path. An apply that leaves table inet voicewall exactly
// as its inputs compile records, in the state cache next to the set
// contents, a digest of those inputs: voicewall's own identity, the
// policy's .hcl files and every blocklist file they name (names and
// contents). A later plan or apply computes the digest again (it parses the
// HCL, never a blocklist) and reads the table's identity nonce and the
// ruleset generation: when the cache entry for that nonce was written at
// that generation and carries the same input digest, the kernel still
// holds what that apply verified, and the inputs compile to the same
// table, so the plan is "No changes" without loading the blocklists.
// Links, SIP helpers and pending rollbacks are not nftables state; the
// fast path checks them live as the full path does. docs/live.md has the
// argument in full.

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
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

// InputSnapshot is a digest of a policy's inputs, with what is needed to
// tell later whether the files changed since.
type InputSnapshot struct {
	Digest [32]byte
	Path   string   // the policy path as given
	Files  []string // lang.InputFiles(Path)
	stats  []inputStat
	start  time.Time // before the first file was read
}

// SnapshotInputs lists the policy's inputs (lang.InputFiles: the HCL is
// parsed, blocklists are not) and hashes them with identity, which stands
// for voicewall itself. It fails when the HCL does not parse or a file
// cannot be read or changes while it is hashed; callers then take the full
// path.
//
// With wait (apply, which records snapshots), it first waits until every
// input's ctime is older than the settle time (at most a few seconds), so
// that lists refreshed just before `voicewall apply` can still be recorded
// (see Unchanged).
func SnapshotInputs(identity []byte, path string, wait bool) (*InputSnapshot, error) {
	files, diags := lang.InputFiles(path)
	if diags.HasErrors() {
		return nil, diags
	}
	if wait {
		waitSettled(files)
	}
	start := time.Now()
	s := &InputSnapshot{Path: path, Files: files, start: start}
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
	f, err := os.Open(path)
	if err != nil {
		return inputStat{}, err
	}
	defer f.Close()
	var st unix.Stat_t
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

// Unchanged reports whether no input changed since the snapshot was taken:
// the input list is the same and every file is the same inode with the
// same size, mtime and ctime, and each ctime was older than the settle
// time when the snapshot began (so a later write would have moved it).
// The kernel sets ctime on every write, truncate and rename, and nobody can
// set it back, so an apply that loaded the policy between the snapshot and
// a true Unchanged compiled exactly the bytes the digest covers.
func (s *InputSnapshot) Unchanged() bool {
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

// InputRecord is what the cache keeps about the inputs of the apply that
// produced a generation: their digest, the compiled table's digest (plan
// --format json shows it) and what CheckLinks needs of the policy (the
// nftables target's interfaces and the voice VLANs), so that a fast plan
// checks the links live without loading the policy.
type InputRecord struct {
	Inputs string      `json:"inputs"` // hex of InputSnapshot.Digest
	Netns  string      `json:"netns"`  // Target.ID()
	Table  string      `json:"table"`  // Digest(desired)
	Target lang.Target `json:"target"`
	VLANs  []vlanSpec  `json:"vlans"`
}

type vlanSpec struct {
	Name   string      `json:"name"`
	ID     uint16      `json:"id"`
	Parent string      `json:"parent"`
	Origin lang.Origin `json:"origin"`
}

// LinkPolicy is a policy that carries only what CheckLinks reads: the
// nftables target and the voice VLANs' names, ids, parents and origins.
func (r *InputRecord) LinkPolicy() *lang.Policy {
	tg := r.Target
	p := &lang.Policy{Targets: map[string]*lang.Target{"nftables": &tg}}
	for _, v := range r.VLANs {
		p.VoiceVLANs = append(p.VoiceVLANs, &lang.VoiceVLAN{Name: v.Name, ID: v.ID, Parent: v.Parent, Origin: v.Origin})
	}
	return p
}

func inputRecordOf(t *Target, snap *InputSnapshot, p *lang.Policy, desired *vw.Table) *InputRecord {
	tg := *p.Target("nftables")
	tg.Extra = nil
	r := &InputRecord{Inputs: fmt.Sprintf("%x", snap.Digest), Netns: t.ID(), Table: Digest(desired), Target: tg}
	for _, v := range p.VoiceVLANs {
		r.VLANs = append(r.VLANs, vlanSpec{Name: v.Name, ID: v.ID, Parent: v.Parent, Origin: v.Origin})
	}
	return r
}

// TableIdentity reads, consistently (the generation before and after is the
// same), whether table inet voicewall exists, its identity nonce and the
// ruleset generation: three small netlink round trips.
func TableIdentity(t *Target) (exists bool, nonce []byte, genid uint32, err error) {
	s, err := openSock(t.FD(), 0)
	if err != nil {
		return false, nil, 0, err
	}
	defer s.Close()
	for attempt := 0; attempt < 5; attempt++ {
		g0, err := genOn(s)
		if err != nil {
			return false, nil, 0, err
		}
		exists, nonce, err = readTable(s)
		if err != nil {
			return false, nil, 0, err
		}
		g1, err := genOn(s)
		if err != nil {
			return false, nil, 0, err
		}
		if g0 == g1 {
			return exists, nonce, g0, nil
		}
	}
	return false, nil, 0, errors.New("the ruleset kept changing while it was read")
}

// FastNoChange reports whether the kernel provably holds the table that
// inputs with snap's digest compile to: table inet voicewall carries the
// identity nonce of a cache entry written at the current generation by an
// apply of the same inputs in the same namespace. It returns that apply's
// record and the generation. Any doubt (no cache, another generation,
// another digest, a read error) gives ok false: take the full path.
func FastNoChange(t *Target, snap *InputSnapshot) (rec *InputRecord, genid uint32, ok bool) {
	if snap == nil {
		return nil, 0, false
	}
	exists, nonce, genid, err := TableIdentity(t)
	if err != nil || !exists || nonce == nil {
		return nil, 0, false
	}
	rec = loadInputRecord(nonce, genid)
	if rec == nil || rec.Netns != t.ID() || rec.Inputs != fmt.Sprintf("%x", snap.Digest) {
		return nil, 0, false
	}
	return rec, genid, true
}

// RecordInputs notes that the kernel's table inet voicewall at generation
// genid is exactly desired, compiled from p, which was loaded from the
// inputs of snap. The caller vouches for the first part: an apply that was
// sent at genid-1 and verified, or a consistent read at genid that Diff
// found equal to desired. RecordInputs checks the rest: the generation (and
// the table's nonce) is still genid, so nothing committed since, and no
// input changed since snap was taken, so p came from the hashed bytes.
// Otherwise it records nothing (plans take the full path). It reports
// whether it recorded.
func RecordInputs(t *Target, genid uint32, desired *vw.Table, p *lang.Policy, snap *InputSnapshot) bool {
	if snap == nil || desired == nil || p == nil || !snap.Unchanged() {
		return false
	}
	exists, nonce, g, err := TableIdentity(t)
	if err != nil || !exists || nonce == nil || g != genid {
		return false
	}
	rec, err := json.Marshal(inputRecordOf(t, snap, p, desired))
	if err != nil {
		return false
	}
	return recordCache(nonce, genid, desired, rec)
}

// loadInputRecord reads only the head of the cache file for nonce (the
// set contents after it are not read) and returns its input record when
// the entry was written at genid.
func loadInputRecord(nonce []byte, genid uint32) *InputRecord {
	f, err := os.Open(cachePath(nonce))
	if err != nil {
		return nil
	}
	defer f.Close()
	var head [cacheHead]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return nil
	}
	if string(head[:4]) != cacheMagic || !bytes.Equal(head[4:20], nonce) || binary.BigEndian.Uint32(head[20:24]) != genid {
		return nil
	}
	n := binary.BigEndian.Uint32(head[24:28])
	if n == 0 || n > 1<<20 {
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil
	}
	var rec InputRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil
	}
	return &rec
}
