package backends

import (
	"strings"
	"unicode"

	"github.com/voicewall/voicewall/lang"
)

// The helpers every vendor backend shares: the targets differ in their
// limits and character sets (data each backend keeps), not in these steps.

// PortMatch is one protocol with one destination and one source port
// range, the unit vendor rules and service objects carry (none of them
// shares a rule between udp and tcp). A zero range is "any port"; Proto 0
// is "any protocol" (a rule without services).
type PortMatch struct {
	Proto    lang.Proto
	Dst, Src lang.PortRange
}

// AnyPort is the zero range PortMatch uses for "any port".
var AnyPort = lang.PortRange{}

// PortMatches expands a rule's services into protocol × destination range
// × source range, in the rule's protocol order (tcp, udp), destination
// ranges outer; a rule without services gives one match of any protocol.
func PortMatches(r *lang.Rule) []PortMatch {
	protos := r.Protos()
	if len(protos) == 0 {
		return []PortMatch{{}}
	}
	var out []PortMatch
	for _, p := range protos {
		dsts, srcs := r.ServicesFor(p, false), r.ServicesFor(p, true)
		if len(dsts) == 0 {
			dsts = []lang.PortRange{AnyPort}
		}
		if len(srcs) == 0 {
			srcs = []lang.PortRange{AnyPort}
		}
		for _, d := range dsts {
			for _, s := range srcs {
				out = append(out, PortMatch{Proto: p, Dst: d, Src: s})
			}
		}
	}
	return out
}

// StableIDs hands out numeric ids in [base, base+span) derived from a key
// (FNV-1a), so that the same rule keeps its id across policy edits and a
// re-paste updates it in place; a taken id is probed upwards, wrapping.
type StableIDs struct {
	base, span int
	used       map[int]bool
}

func NewStableIDs(base, span int) *StableIDs {
	return &StableIDs{base: base, span: span, used: map[int]bool{}}
}

// Reserve marks an id as taken (one the device already uses).
func (s *StableIDs) Reserve(id int) { s.used[id] = true }

// ID is the id for key. The spans targets use are far larger than any
// rule table, so running out is a bug.
func (s *StableIDs) ID(key string) int {
	off := int(Hash32(key) % uint32(s.span))
	for i := 0; i < s.span; i++ {
		id := s.base + (off+i)%s.span
		if !s.used[id] {
			s.used[id] = true
			return id
		}
	}
	panic("backends: id space exhausted")
}

// Chunks splits n members into groups of at most size, as [lo, hi)
// bounds: vendor address and service groups have a member limit.
func Chunks(n, size int) [][2]int {
	var out [][2]int
	for lo := 0; lo < n; lo += size {
		out = append(out, [2]int{lo, min(lo+size, n)})
	}
	return out
}

// Printable replaces every character that is not printable (control
// characters, line and paragraph separators, bidi overrides) with repl, or
// drops it when repl is -1: what reaches an output's comment or text field
// can never end the line or hide what follows from a reviewer.
func Printable(s string, repl rune) string {
	return strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return repl
		}
		return r
	}, s)
}

// CleanName keeps ASCII letters, digits, '_' and the extra characters a
// target allows in names; anything else becomes '_'. lang passes validated
// names only, so this is a second fence, not an escape.
func CleanName(s, extra string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r < 128 && strings.ContainsRune(extra, r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Responsive reports whether a rule needs the run-time sets only the Linux
// gateway has (timed bans, trusted remote phones): its source is a set
// voicewall fills at run time through netlink. Other targets report it as
// the responsive gap.
func Responsive(r *lang.Rule) bool { return r.Src != nil && r.Src.Dynamic }

// ResponsiveWhat says, for a gap message, what a responsive rule leaves
// out on a target without run-time sets.
func ResponsiveWhat(r *lang.Rule) string {
	if r.Kind == lang.RuleBan {
		return "timed bans (voicewall ban, watch, fail2ban) are not enforced"
	}
	return "trusted remote phones (" + r.ID + ": " + r.Comment + ") are not rendered, so remote phones get no RTP and stay rate-limited"
}
