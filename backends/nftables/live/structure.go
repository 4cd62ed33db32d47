package live

// The structure digest lets a plan keep using the state cache after other
// tools committed (fail2ban bans an address in its own table: the global
// ruleset generation moves, table inet voicewall does not). It covers
// everything of table inet voicewall that a read without set elements
// returns: the table's flags and identity, every set's handle, definition
// and element count (NFTA_SET_COUNT), every chain's handle and header, and
// every rule's handle, comment and decoded statements (counters excluded).
// An apply records it, read back from the kernel, next to the set contents;
// a later read whose digest is the same finds the same objects, and sets
// with as many elements as voicewall left. docs/live.md has the argument
// and its one limit (an edit that removes and adds as many intervals in one
// set keeps the count).

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// structDigest digests st's structure. ok is false when it cannot vouch
// for the sets' contents: a kernel without element counts, or no table.
func structDigest(st *State) (d [32]byte, ok bool) {
	if st == nil || !st.Exists {
		return d, false
	}
	h := sha256.New()
	h.Write([]byte("voicewall structure 1\x00"))
	putU64(h, uint64(st.Flags))
	putStr(h, string(st.Nonce))
	putU64(h, uint64(len(st.Sets)))
	for _, s := range st.Sets {
		putStr(h, s.Name)
		putU64(h, s.Handle)
		putStr(h, s.Definition())
		if s.Dynamic || s.Live {
			continue // the datapath's meter, bans, trusted phones: their elements come and go
		}
		if !s.HasCount {
			return d, false
		}
		putU64(h, uint64(s.Count))
	}
	putU64(h, uint64(len(st.Chains)))
	for _, c := range st.Chains {
		putStr(h, c.Name)
		putU64(h, c.Handle)
		putStr(h, liveChainHeader(c))
		putU64(h, uint64(len(c.Rules)))
		for _, r := range c.Rules {
			putU64(h, r.Handle)
			putStr(h, r.Text()) // with the comment; counters at zero
		}
	}
	copy(d[:], h.Sum(nil))
	return d, true
}

func putU64(h hash.Hash, v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	h.Write(b[:])
}

func putStr(h hash.Hash, s string) {
	putU64(h, uint64(len(s)))
	h.Write([]byte(s))
}
