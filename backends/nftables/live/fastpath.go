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

func inputRecordOf(t *Target, in Inputs, links LinkSpec, desired *vw.Table) *InputRecord {
	return &InputRecord{Inputs: fmt.Sprintf("%x", in.Sum()), Netns: t.ID(), Table: Digest(desired), LinkSpec: links}
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
func FastNoChange(t *Target, in Inputs) (rec *InputRecord, genid uint32, ok bool) {
	if in == nil {
		return nil, 0, false
	}
	exists, nonce, genid, err := TableIdentity(t)
	if err != nil || !exists || nonce == nil {
		return nil, 0, false
	}
	rec = loadInputRecord(nonce, genid)
	if rec == nil || rec.Netns != t.ID() || rec.Inputs != fmt.Sprintf("%x", in.Sum()) {
		return nil, 0, false
	}
	return rec, genid, true
}

// RecordInputs notes that the kernel's table inet voicewall at generation
// genid is exactly desired, compiled from p, which was loaded from the
// inputs in. The caller vouches for the first part: an apply that was
// sent at genid-1 and verified, or a consistent read at genid that Diff
// found equal to desired. RecordInputs checks the rest: the generation (and
// the table's nonce) is still genid, so nothing committed since, and no
// input changed since snap was taken, so p came from the hashed bytes.
// Otherwise it records nothing (plans take the full path). It reports
// whether it recorded.
func RecordInputs(t *Target, genid uint32, desired *vw.Table, links LinkSpec, in Inputs) bool {
	if in == nil || desired == nil || !in.Unchanged() {
		return false
	}
	exists, nonce, g, err := TableIdentity(t)
	if err != nil || !exists || nonce == nil || g != genid {
		return false
	}
	rec, err := json.Marshal(inputRecordOf(t, in, links, desired))
	if err != nil {
		return false
	}
	return recordCache(nonce, genid, desired, rec)
}

// loadInputRecord reads only the head of the cache file for nonce (the
// set contents after it are not read) and returns its input record when
// the entry was written at genid.
func loadInputRecord(nonce []byte, genid uint32) *InputRecord {
	f, err := trustedFile(cachePath(nonce))
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
