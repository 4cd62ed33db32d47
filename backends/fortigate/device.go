package fortigate

// The device reader: FortiOS configuration as a FortiGate holds it (a full
// backup, `show` or `show full-configuration` output, or a script), read
// liberally — any indentation, `#` header lines, quoted strings with spaces
// and escapes across lines, `config vdom` / `config global` sections,
// commands the audit does not need are skipped — and lowered into the
// target-neutral devmodel for voicewall audit. The tests also read
// voicewall's own output back strictly (ParseFortiOS, reader_test.go).

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/voicewall/voicewall/devmodel"
)

// MaxConfigBytes bounds what the device reader accepts (a large FortiGate
// backup is a few MB).
const MaxConfigBytes = 64 << 20

const maxDepth = 64

type cfgBlock struct {
	path     string
	line     int
	settings map[string]cfgValue
	entries  []*cfgEntry
	subs     []*cfgBlock
	moves    []cfgMove
	vdom     string
	byKey    map[string]*cfgEntry // edits of an existing key change that entry
}

type cfgEntry struct {
	key   string
	line  int
	attrs map[string]cfgValue
	subs  []*cfgBlock
}

type cfgValue struct {
	vals []string
	line int
}

type cfgMove struct {
	id, where, other string
	line             int
}

type cfgTree struct {
	file   string
	blocks []*cfgBlock
}

// stmt is one CLI statement: its words and the line it starts on.
type stmt struct {
	words []string
	line  int
}

// splitStatements tokenizes the whole text: words separated by blanks,
// "double" or 'single' quoted strings (with \ escapes) that may span lines,
// `#` comments at the start of a statement.
func splitStatements(src string) ([]stmt, error) {
	var out []stmt
	var cur []string
	line, start := 1, 1
	var word strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			cur = append(cur, word.String())
			word.Reset()
			inWord = false
		}
	}
	end := func() {
		flush()
		if len(cur) > 0 {
			out = append(out, stmt{cur, start})
		}
		cur = nil
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			end()
			line++
		case c == '\r' || c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord && len(cur) == 0:
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case c == '"' || c == '\'':
			if len(cur) == 0 && !inWord {
				start = line
			}
			q := c
			qline := line
			inWord = true
			i++
			for ; i < len(src) && src[i] != q; i++ {
				if src[i] == '\\' && i+1 < len(src) {
					i++
				}
				if src[i] == '\n' {
					line++
				}
				word.WriteByte(src[i])
			}
			if i >= len(src) {
				return nil, fmt.Errorf("%d: quoted string never closed", qline)
			}
		default:
			if len(cur) == 0 && !inWord {
				start = line
			}
			if c == '\\' && i+1 < len(src) && src[i+1] != '\n' {
				i++
				c = src[i]
			}
			inWord = true
			word.WriteByte(c)
		}
	}
	end()
	return out, nil
}

type dframe struct {
	block *cfgBlock
	entry *cfgEntry
}

// readTree builds the config tree from a device's configuration.
func readTree(file string, src []byte) (*cfgTree, error) {
	if len(src) > MaxConfigBytes {
		return nil, fmt.Errorf("%s: %d bytes is more than the %d a FortiGate configuration can be", file, len(src), MaxConfigBytes)
	}
	if !utf8.Valid(src) {
		return nil, fmt.Errorf("%s: not UTF-8 text (an encrypted or binary backup? export it unencrypted)", file)
	}
	stmts, err := splitStatements(string(src))
	if err != nil {
		return nil, fmt.Errorf("%s:%v", file, err)
	}
	t := &cfgTree{file: file}
	var stack []dframe
	vdomOf := func() string {
		for i := len(stack) - 1; i >= 0; i-- {
			if f := stack[i]; f.entry != nil && f.block.path == "vdom" {
				return f.entry.key
			}
		}
		return ""
	}
	for _, s := range stmts {
		w := s.words
		var top *dframe
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch w[0] {
		case "config":
			if len(w) < 2 {
				return nil, fmt.Errorf("%s:%d: config without a path", file, s.line)
			}
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("%s:%d: config nested deeper than %d", file, s.line, maxDepth)
			}
			path := strings.Join(w[1:], " ")
			siblings := &t.blocks
			switch {
			case top == nil:
			case top.entry != nil:
				siblings = &top.entry.subs
			default:
				siblings = &top.block.subs
			}
			// `config X` again at the same place re-enters the same table,
			// as on a FortiGate (concatenated scripts, show output pasted
			// after a backup); so do config vdom / edit NAME and config
			// global (a multi-VDOM backup followed by a script).
			var b *cfgBlock
			for _, x := range *siblings {
				if x.path == path {
					b = x
				}
			}
			if b == nil {
				b = &cfgBlock{path: path, line: s.line, settings: map[string]cfgValue{}, vdom: vdomOf()}
				*siblings = append(*siblings, b)
			}
			stack = append(stack, dframe{block: b})
		case "edit":
			if top == nil || len(w) < 2 {
				return nil, fmt.Errorf("%s:%d: edit outside a config block", file, s.line)
			}
			if top.entry != nil { // a missing next: the previous edit ends here
				stack = stack[:len(stack)-1]
				top = &stack[len(stack)-1]
			}
			if top.block.byKey == nil {
				top.block.byKey = map[string]*cfgEntry{}
			}
			e := top.block.byKey[w[1]]
			if e == nil {
				e = &cfgEntry{key: w[1], line: s.line, attrs: map[string]cfgValue{}}
				top.block.entries = append(top.block.entries, e)
				top.block.byKey[w[1]] = e
			}
			stack = append(stack, dframe{block: top.block, entry: e})
		case "next":
			if top != nil && top.entry != nil {
				stack = stack[:len(stack)-1]
			} else if top != nil && len(stack) >= 2 && stack[len(stack)-2].entry != nil {
				// a next inside a nested config (config ipv6 within an
				// edit): that config was never closed; blame it, not the
				// outermost block the rest of the file then leaves open
				return nil, fmt.Errorf("%s:%d: config %s is never closed with end: the next at line %d ends the edit it is in (add end before it)", file, top.block.line, top.block.path, s.line)
			}
		case "end":
			if top == nil {
				continue // a stray end (pasted output); nothing open
			}
			if top.entry != nil {
				stack = stack[:len(stack)-1]
			}
			stack = stack[:len(stack)-1]
		case "set", "unset", "append", "select", "unselect":
			if top == nil || len(w) < 2 {
				continue
			}
			attrs := top.block.settings
			if top.entry != nil {
				attrs = top.entry.attrs
			}
			k := w[1]
			switch w[0] {
			case "set", "select":
				attrs[k] = cfgValue{vals: w[2:], line: s.line}
			case "unset":
				delete(attrs, k)
			case "append":
				v := attrs[k]
				attrs[k] = cfgValue{vals: append(v.vals, w[2:]...), line: s.line}
			case "unselect":
				v := attrs[k]
				var keep []string
				for _, x := range v.vals {
					if !slices.Contains(w[2:], x) {
						keep = append(keep, x)
					}
				}
				attrs[k] = cfgValue{vals: keep, line: v.line}
			}
		case "delete":
			if top != nil && top.entry == nil && len(w) == 2 {
				es := top.block.entries[:0]
				for _, e := range top.block.entries {
					if e.key != w[1] {
						es = append(es, e)
					}
				}
				top.block.entries = es
				delete(top.block.byKey, w[1])
			}
		case "move":
			if top != nil && top.entry == nil && len(w) == 4 {
				top.block.moves = append(top.block.moves, cfgMove{w[1], w[2], w[3], s.line})
			}
		case "rename":
			if top != nil && top.entry == nil && len(w) == 4 && w[2] == "to" {
				if e := top.block.byKey[w[1]]; e != nil {
					e.key = w[3]
					delete(top.block.byKey, w[1])
					top.block.byKey[w[3]] = e
				}
			}
		default:
			// purge, clone, show, get, execute, a prompt line: nothing the
			// audit evaluates.
		}
	}
	if len(stack) > 0 {
		b := stack[len(stack)-1].block
		return nil, fmt.Errorf("%s:%d: config %s is never closed with end (a truncated file?)", file, b.line, b.path)
	}
	return t, nil
}

// find returns every block with that path, inside config vdom / config
// global wrappers too.
func (t *cfgTree) find(path string) []*cfgBlock {
	var out []*cfgBlock
	var walk func(bs []*cfgBlock)
	walk = func(bs []*cfgBlock) {
		for _, b := range bs {
			if b.path == path {
				out = append(out, b)
			}
			if b.path == "vdom" || b.path == "global" {
				walk(b.subs)
				for _, e := range b.entries {
					walk(e.subs)
				}
			}
		}
	}
	walk(t.blocks)
	return out
}

// ordered applies a table's moves to its entries.
func (b *cfgBlock) ordered() []*cfgEntry {
	list := append([]*cfgEntry(nil), b.entries...)
	idx := func(k string) int {
		for i, e := range list {
			if e.key == k {
				return i
			}
		}
		return -1
	}
	for _, m := range b.moves {
		i := idx(m.id)
		if i < 0 || idx(m.other) < 0 {
			continue
		}
		e := list[i]
		list = append(list[:i], list[i+1:]...)
		j := idx(m.other)
		if m.where == "after" {
			j++
		}
		list = append(list[:j], append([]*cfgEntry{e}, list[j:]...)...)
	}
	return list
}

func (t *cfgTree) loc(line int) devmodel.Loc { return devmodel.Loc{File: t.file, Line: line} }
