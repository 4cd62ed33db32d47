package live

// The no-op fast path. An apply that leaves table inet voicewall exactly
// as its inputs compile records, in the state cache next to the set
// contents, a digest of those inputs: voicewall's own identity, the
// policy's .hcl files and every blocklist file they name (names and
// contents; package inputs computes it, the caller passes it in). A later
// plan or apply computes the digest again (it parses the HCL, never a
// blocklist) and reads the table's identity nonce and the
// ruleset generation: when the cache entry for that nonce was written at
// that generation and carries the same input digest, the kernel still
// holds what that apply verified, and the inputs compile to the same
// table, so the plan is "No changes" without loading the blocklists.
// Links, SIP helpers and pending rollbacks are not nftables state; the
// fast path checks them live as the full path does. docs/live.md has the
// argument in full.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

// Inputs is a digest of a policy's input files, taken by the caller
// (package inputs) before the policy is loaded.
type Inputs interface {
	// Sum is the digest: voicewall's identity and every input file's
	// name and content.
	Sum() [32]byte
	// Unchanged reports whether no input changed since the digest was
	// taken (so a policy loaded in between came from the digested bytes).
	Unchanged() bool
}

// InputRecord is what the cache keeps about the inputs of the apply that
// produced a generation: their digest, the compiled table's digest (plan
// --format json shows it) and what CheckLinks needs of the policy (the
// nftables target's interfaces and the voice VLANs), so that a fast plan
// checks the links live without loading the policy.
type InputRecord struct {
	Inputs string `json:"inputs"` // hex of Inputs.Sum
	Netns  string `json:"netns"`  // Target.ID()
	Table  string `json:"table"`  // Digest(desired)
	LinkSpec
}

// inputRecordOf is the record for inputs in compiled to the table with
// digest table (Digest(desired)) on t.
func inputRecordOf(t *Target, in Inputs, links LinkSpec, table string) *InputRecord {
	return &InputRecord{Inputs: fmt.Sprintf("%x", in.Sum()), Netns: t.ID(), Table: table, LinkSpec: links}
}

// TableIdentity reads, consistently (the generation before and after is the
// same), whether table inet voicewall exists, its identity nonce and the
// ruleset generation: three small netlink round trips.
func TableIdentity(t *Target) (exists bool, nonce []byte, genid uint32, err error) {
	s, err := nlwire.Open(t.FD(), 0)
	if err != nil {
		return false, nil, 0, err
	}
	defer s.Close()
	for attempt := 0; attempt < 5; attempt++ {
		g0, err := nlwire.GenID(s)
		if err != nil {
			return false, nil, 0, err
		}
		exists, nonce, err = readTable(s)
		if err != nil {
			return false, nil, 0, err
		}
		g1, err := nlwire.GenID(s)
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
// inputs with in's digest compile to: table inet voicewall carries the
// identity nonce of a cache entry written by an apply of the same inputs in
// the same namespace, at the current generation, or at an earlier one with
// the table's structure digest (structure.go) still the same: then only
// other tables changed since. It returns that apply's record and the state
// the plan shows. Any doubt (no cache, another digest, a read error) gives
// ok false: take the full path.
func FastNoChange(t *Target, in Inputs) (rec *InputRecord, st *State, ok bool) {
	if in == nil {
		return nil, nil, false
	}
	exists, nonce, genid, err := TableIdentity(t)
	if err != nil || !exists || nonce == nil {
		return nil, nil, false
	}
	rec, recGen, structure := loadInputHead(nonce)
	if rec == nil || rec.Netns != t.ID() || rec.Inputs != fmt.Sprintf("%x", in.Sum()) {
		return nil, nil, false
	}
	if recGen == genid {
		return rec, &State{GenID: genid, Exists: true, CacheHit: true}, true
	}
	if structure == ([32]byte{}) {
		return nil, nil, false
	}
	cur, err := Read(t, ReadOptions{SkipElements: true})
	if err != nil {
		return nil, nil, false
	}
	if d, ok := structDigest(cur); !ok || d != structure || !bytes.Equal(cur.Nonce, nonce) {
		return nil, nil, false
	}
	return rec, &State{GenID: cur.GenID, Exists: true, CacheHit: true, Foreign: true}, true
}

// RecordInputs notes that the kernel's table inet voicewall, as read
// consistently in st, is exactly desired, compiled from a policy loaded
// from the inputs in. The caller vouches for the first part (Diff(st,
// desired) is empty). RecordInputs checks the rest: the table is still
// the one read (same nonce), and no input changed since in was taken, so
// the policy came from the hashed bytes. Otherwise it records nothing
// (plans take the full path). It reports whether it recorded.
func RecordInputs(t *Target, st *State, desired *vw.Table, links LinkSpec, in Inputs) bool {
	if in == nil || desired == nil || st == nil || !in.Unchanged() {
		return false
	}
	exists, nonce, _, err := TableIdentity(t)
	if err != nil || !exists || nonce == nil || !bytes.Equal(nonce, st.Nonce) {
		return false
	}
	rec, err := json.Marshal(inputRecordOf(t, in, links, Digest(desired)))
	if err != nil {
		return false
	}
	structure, _ := structDigest(st)
	return recordCache(nonce, st.GenID, structure, desired, rec)
}

// loadInputHead reads only the head of the cache file for nonce (the set
// contents after it are not read): its input record, the generation it was
// written at and the structure digest.
func loadInputHead(nonce []byte) (rec *InputRecord, genid uint32, structure [32]byte) {
	f, _, err := trustedFile(cachePath(nonce))
	if err != nil {
		return nil, 0, structure
	}
	defer f.Close()
	var head [cacheHead]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return nil, 0, structure
	}
	if string(head[:4]) != cacheMagic || !bytes.Equal(head[4:20], nonce) {
		return nil, 0, structure
	}
	genid = binary.BigEndian.Uint32(head[20:24])
	copy(structure[:], head[24:56])
	n := binary.BigEndian.Uint32(head[56:60])
	if n == 0 || n > 1<<20 {
		return nil, 0, structure
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, 0, structure
	}
	rec = &InputRecord{}
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, 0, structure
	}
	return rec, genid, structure
}
