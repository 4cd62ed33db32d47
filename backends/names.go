package backends

import (
	"hash/fnv"
	"strings"
)

// Namer hands out names unique in one of a target's name tables, within
// the table's limits, deterministically: the same inputs in the same order
// give the same names. A name that is too long, taken or refused keeps its
// head and gets a short hash tag for a tail; the next attempt hashes again.
// What differs per target is data: the length limit, the tag's form, the
// characters trimmed before it, case folding and the target's own rules.
type Namer struct {
	Max  int                                        // longest name, in bytes
	Tag  func(key, want string, attempt int) string // the tail that makes attempt n unique, separator included
	Trim string                                     // characters trimmed from the head before a tag
	// TrimCut trims the head only where it was cut, not when a name that
	// fits gets a tag.
	TrimCut bool
	Fold    bool                   // the table compares names case-insensitively
	Valid   func(name string) bool // the target's own rules (reserved words); nil: any
	taken   map[string]bool
	byKey   map[string]string
}

// Reserve marks a name as taken (one the device already has).
func (n *Namer) Reserve(name string) {
	if n.taken == nil {
		n.taken = map[string]bool{}
	}
	n.taken[n.fold(name)] = true
}

func (n *Namer) fold(s string) string {
	if n.Fold {
		return strings.ToLower(s)
	}
	return s
}

// Name is the name for key, wanted as want; the same key always gets the
// same name within one compile.
func (n *Namer) Name(key, want string) string {
	if v, ok := n.byKey[key]; ok {
		return v
	}
	if n.byKey == nil {
		n.byKey = map[string]string{}
	}
	v := n.New(key, want)
	n.byKey[key] = v
	return v
}

// New allocates a fresh name for want, the tags hashing key.
func (n *Namer) New(key, want string) string {
	cand := want
	for i := 0; ; i++ {
		if i > 0 || len(cand) > n.Max {
			tag := n.Tag(key, want, i)
			head := want
			cut := len(head) > n.Max-len(tag)
			if cut {
				head = head[:max(n.Max-len(tag), 0)]
			}
			if cut || !n.TrimCut {
				head = strings.TrimRight(head, n.Trim)
			}
			cand = head + tag
		}
		if !n.taken[n.fold(cand)] && (n.Valid == nil || n.Valid(cand)) {
			break
		}
		if i > 1000 { // unreachable: tags are hashes; keep the loop finite
			panic("backends: cannot allocate a name for " + want)
		}
	}
	n.Reserve(cand)
	return cand
}

// Hash32 is FNV-1a of s, the hash every name tag and stable id uses.
func Hash32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}
