package fortigate

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/voicewall/voicewall/backends"
)

// forbidden are the characters FortiOS text strings must not contain
// (FortiOS "Text strings": " ' < > are rejected; \ is the CLI escape).
const forbidden = "\"'<>\\"

// safeString reports whether s can be written inside "..." on the FortiOS
// CLI without escaping: no forbidden characters, no control characters, not empty.
func safeString(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(forbidden, r) {
			return false
		}
	}
	return true
}

// q quotes a value that must already be safe. Names are validated (by lang
// and again by the compiler) before they get here; a violation is a bug, so
// it panics rather than emitting a string that would break the script.
func q(s string) string {
	if !safeString(s) {
		panic(fmt.Sprintf("fortigate: unsafe string reached the writer: %q", s))
	}
	return `"` + s + `"`
}

// text makes free text (comments) safe: forbidden and control characters
// become '_', runs of spaces collapse, and the result is cut to max bytes
// on a rune boundary.
func text(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == '"' || r == '\'':
			continue // block labels are shown without their quotes
		case !unicode.IsPrint(r) || strings.ContainsRune(forbidden, r):
			r = '_' // control characters, line separators, bidi overrides
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		if b.Len()+len(string(r)) > max {
			break
		}
		b.WriteRune(r)
	}
	out := strings.TrimSpace(b.String())
	if out == "" {
		out = "voicewall"
	}
	return out
}

// commentText makes free text one '#' comment line's worth: control
// characters become spaces and it is cut to max bytes on a rune boundary.
// Unlike text() it keeps quotes and apostrophes ("voicewall's"): a whole-line
// comment is not a value, and the script's other comment lines carry them too.
func commentText(s string, max int) string {
	s = strings.Join(strings.Fields(backends.Printable(s, ' ')), " ")
	for len(s) > max {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// writer builds the indented config/edit/set/next/end script.
type writer struct {
	b     strings.Builder
	depth int
}

func (w *writer) line(s string) {
	w.b.WriteString(strings.Repeat("    ", w.depth))
	w.b.WriteString(s)
	w.b.WriteByte('\n')
}

// comment writes a whole-line '#' comment; the text is made single-line.
func (w *writer) comment(s string) {
	s = backends.Printable(s, ' ')
	if s == "" {
		w.line("#")
		return
	}
	w.line("# " + s)
}

func (w *writer) blank() { w.b.WriteByte('\n') }

func (w *writer) config(path string) { w.line("config " + path); w.depth++ }
func (w *writer) end()               { w.depth--; w.line("end") }
func (w *writer) edit(key string)    { w.line("edit " + key); w.depth++ }
func (w *writer) editID(id int)      { w.edit(strconv.Itoa(id)) }
func (w *writer) next()              { w.depth--; w.line("next") }

// table writes one config table: `config path`, per item an `edit key`
// block with body's lines, `end`, and a blank line after it.
func table[T any](w *writer, path string, items []T, key func(T) string, body func(T)) {
	w.config(path)
	for _, it := range items {
		w.edit(key(it))
		body(it)
		w.next()
	}
	w.end()
	w.blank()
}

// set writes `set attr v1 v2 ...` with values already quoted or keywords.
func (w *writer) set(attr string, vals ...string) {
	w.line("set " + attr + " " + strings.Join(vals, " "))
}

// setq writes `set attr "v1" "v2" ...`.
func (w *writer) setq(attr string, vals ...string) {
	qs := make([]string, len(vals))
	for i, v := range vals {
		qs[i] = q(v)
	}
	w.set(attr, qs...)
}

// newNamer hands out names unique within one FortiOS name table, inside
// the table's length limit. The same key always gets the same name; a name
// too long is cut and given a hash of the full name; a collision gets a
// counter (after the hash when the name is still too long). Allocation
// order is the (deterministic) compile order.
func newNamer(max int) *backends.Namer {
	return &backends.Namer{Max: max, Trim: "-_.", TrimCut: true, Tag: func(_, want string, i int) string {
		hash := fmt.Sprintf("-%06x", backends.Hash32(want)&0xffffff)
		if i == 0 {
			return hash
		}
		n := "-" + strconv.Itoa(i+1)
		if len(want) <= max-len(n) {
			return n
		}
		return hash + n
	}}
}

// seqAlloc gives sequential ids (for tables whose evaluation may follow id order).
type seqAlloc struct{ next int }

func (s *seqAlloc) id() int { s.next++; return s.next - 1 }
