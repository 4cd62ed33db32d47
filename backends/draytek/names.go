package draytek

import (
	"strconv"

	"github.com/voicewall/voicewall/backends"
)

// maxName is the longest object/group name the Vigor CLI takes: the manual
// says "less than 15 characters" for every object kind.
const maxName = 14

// newNamer hands out names that are unique inside one namespace (IP
// objects, IP groups, service objects, ...), at most maxName characters
// long and made only of [A-Za-z0-9_-]. Shortening is deterministic: a name
// that is too long, or already taken, keeps its first characters and gets
// a short hash of the full name; a collision of those is resolved by
// hashing again with a counter. Nothing is ever dropped.
func newNamer() *namer {
	return &namer{backends.Namer{Max: maxName, Tag: func(base, _ string, i int) string {
		if i > 1 { // attempt 1 is the first tag when the name fits but is taken
			base += "#" + strconv.Itoa(i-1)
		}
		return "~" + hash4(base)
	}}}
}

type namer struct{ backends.Namer }

func (n *namer) name(base string) string {
	base = cleanName(base)
	if base == "" {
		base = "vw"
	}
	return n.New(base, base)
}

// cleanName keeps [A-Za-z0-9_-] and turns anything else into '_'.
func cleanName(s string) string { return backends.CleanName(s, "-") }

// shortToken cuts a cleaned token to n characters (rule comments, NAT service
// names); uniqueness is not needed there.
func shortToken(s string, n int) string {
	s = cleanName(s)
	if len(s) > n {
		s = s[:n]
	}
	return s
}

const hashAlphabet = "0123456789abcdefghijklmnopqrstuv"

func hash4(s string) string {
	v := backends.Hash32(s)
	var b [4]byte
	for i := range b {
		b[i] = hashAlphabet[v&31]
		v >>= 5
	}
	return string(b[:])
}

// commentSafe makes a header comment line safe: no control characters (nor
// line separators or bidi overrides), so a policy value or file name can
// never end the comment and start a command line, or hide one from a reviewer.
func commentSafe(s string) string { return backends.Printable(s, '?') }
