package fortigate

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A strict reader of the FortiOS CLI config tree, independent of the
// writer: it tokenizes each line itself and rejects anything the generator
// must never produce (unbalanced blocks, bad indentation, unknown commands,
// quotes that do not pair, forbidden characters, duplicate keys or settings).

// Block is one `config PATH` ... `end`.
type Block struct {
	Path     string
	Settings map[string][]string // `set` directly in the block (settings tables)
	Entries  []*Entry            // `edit` entries, in order
	Subs     []*Block            // nested config blocks without edit (e.g. config global)
	Deletes  []string
	Moves    [][3]string // id, before|after, id
}

// Entry is one `edit KEY` ... `next`.
type Entry struct {
	Key   string
	Attrs map[string][]string
	Subs  []*Block
}

// Tree is the whole script.
type Tree struct {
	Blocks []*Block
}

type token struct {
	s      string
	quoted bool
}

var bareRe = regexp.MustCompile(`^[A-Za-z0-9_.:/,+-]+$`)

func tokenize(line string) ([]token, error) {
	var out []token
	i := 0
	for i < len(line) {
		switch c := line[i]; {
		case c == ' ':
			i++
		case c == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			s := line[i+1 : i+1+j]
			if strings.ContainsAny(s, "'<>\\") {
				return nil, fmt.Errorf("forbidden character in %q", s)
			}
			for _, r := range s {
				if r < 0x20 || r == 0x7f {
					return nil, fmt.Errorf("control character in %q", s)
				}
			}
			if s == "" {
				return nil, fmt.Errorf("empty quoted string")
			}
			i += j + 2
			if i < len(line) && line[i] != ' ' {
				return nil, fmt.Errorf("no space after quoted string")
			}
			out = append(out, token{s, true})
		default:
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			s := line[i : i+j]
			if !bareRe.MatchString(s) {
				return nil, fmt.Errorf("bad bare word %q", s)
			}
			out = append(out, token{s, false})
			i += j
		}
	}
	return out, nil
}

type frame struct {
	block *Block
	entry *Entry
}

// ParseFortiOS parses a script into a tree or fails on the first defect.
func ParseFortiOS(src string) (*Tree, error) {
	if !strings.HasSuffix(src, "\n") {
		return nil, fmt.Errorf("script does not end with a newline")
	}
	t := &Tree{}
	var stack []frame // alternating: block frames and entry frames
	depth := func() int { return len(stack) }
	for n, line := range strings.Split(strings.TrimSuffix(src, "\n"), "\n") {
		ln := n + 1
		fail := func(f string, a ...any) error { return fmt.Errorf("line %d: %s: %q", ln, fmt.Sprintf(f, a...), line) }
		if strings.TrimSpace(line) == "" {
			if line != "" {
				return nil, fail("whitespace-only line")
			}
			continue
		}
		if strings.ContainsAny(line, "\t\r") {
			return nil, fail("tab or CR")
		}
		body := strings.TrimLeft(line, " ")
		indent := len(line) - len(body)
		if strings.HasSuffix(body, " ") {
			return nil, fail("trailing space")
		}
		if strings.HasPrefix(body, "#") {
			if indent != 4*depth() {
				return nil, fail("comment indented %d, want %d", indent, 4*depth())
			}
			continue
		}
		toks, err := tokenize(body)
		if err != nil {
			return nil, fail("%v", err)
		}
		cmd := toks[0]
		if cmd.quoted {
			return nil, fail("command is quoted")
		}
		want := 4 * depth()
		if cmd.s == "end" || cmd.s == "next" {
			want -= 4
		}
		if indent != want {
			return nil, fail("indented %d, want %d", indent, want)
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		inBlock := top != nil && top.entry == nil
		inEntry := top != nil && top.entry != nil
		switch cmd.s {
		case "config":
			if len(toks) < 2 {
				return nil, fail("config without path")
			}
			var parts []string
			for _, x := range toks[1:] {
				if x.quoted {
					return nil, fail("quoted config path")
				}
				parts = append(parts, x.s)
			}
			b := &Block{Path: strings.Join(parts, " "), Settings: map[string][]string{}}
			switch {
			case top == nil:
				t.Blocks = append(t.Blocks, b)
			case inEntry:
				top.entry.Subs = append(top.entry.Subs, b)
			default:
				if len(top.block.Entries) > 0 || len(top.block.Settings) > 0 {
					return nil, fail("nested config mixed with edits or settings")
				}
				top.block.Subs = append(top.block.Subs, b)
			}
			stack = append(stack, frame{block: b})
		case "end":
			if !inBlock || len(toks) != 1 {
				return nil, fail("end outside a config block")
			}
			stack = stack[:len(stack)-1]
		case "edit":
			if !inBlock || len(toks) != 2 {
				return nil, fail("edit outside a config block or without one key")
			}
			if len(top.block.Settings) > 0 || len(top.block.Subs) > 0 {
				return nil, fail("edit in a settings block")
			}
			key := toks[1].s
			if !toks[1].quoted {
				if _, err := strconv.ParseUint(key, 10, 32); err != nil {
					return nil, fail("unquoted edit key must be a number")
				}
			}
			for _, e := range top.block.Entries {
				if e.Key == key {
					return nil, fail("duplicate edit %s", key)
				}
			}
			e := &Entry{Key: key, Attrs: map[string][]string{}}
			top.block.Entries = append(top.block.Entries, e)
			stack = append(stack, frame{block: top.block, entry: e})
		case "next":
			if !inEntry || len(toks) != 1 {
				return nil, fail("next outside an edit")
			}
			stack = stack[:len(stack)-1]
		case "set":
			if len(toks) < 3 || toks[1].quoted {
				return nil, fail("set needs an attribute and a value")
			}
			var vals []string
			for _, x := range toks[2:] {
				vals = append(vals, x.s)
			}
			var attrs map[string][]string
			switch {
			case inEntry:
				attrs = top.entry.Attrs
			case inBlock:
				if len(top.block.Entries) > 0 || len(top.block.Subs) > 0 {
					return nil, fail("set beside edits")
				}
				attrs = top.block.Settings
			default:
				return nil, fail("set outside a block")
			}
			if _, dup := attrs[toks[1].s]; dup {
				return nil, fail("attribute set twice")
			}
			attrs[toks[1].s] = vals
		case "delete":
			if !inBlock || len(toks) != 2 {
				return nil, fail("delete outside a table")
			}
			// voicewall deletes ids (policies, the session helper) and, of
			// named tables, only its own vw- objects.
			if toks[1].quoted {
				if !strings.HasPrefix(toks[1].s, "vw-") {
					return nil, fail("delete of a name voicewall does not own")
				}
			} else if _, err := strconv.ParseUint(toks[1].s, 10, 32); err != nil {
				return nil, fail("delete of a non-numeric key")
			}
			top.block.Deletes = append(top.block.Deletes, toks[1].s)
		case "move":
			if !inBlock || len(toks) != 4 || (toks[2].s != "before" && toks[2].s != "after") {
				return nil, fail("bad move")
			}
			top.block.Moves = append(top.block.Moves, [3]string{toks[1].s, toks[2].s, toks[3].s})
		default:
			return nil, fail("unknown command %q", cmd.s)
		}
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("unbalanced: %d blocks still open at the end", len(stack))
	}
	return t, nil
}

// Find returns every block with that path, searching inside config vdom /
// config global wrappers too.
func (t *Tree) Find(path string) []*Block {
	var out []*Block
	var walk func(bs []*Block)
	walk = func(bs []*Block) {
		for _, b := range bs {
			if b.Path == path {
				out = append(out, b)
			}
			walk(b.Subs)
			if b.Path == "vdom" {
				for _, e := range b.Entries {
					walk(e.Subs)
				}
			}
		}
	}
	walk(t.Blocks)
	return out
}

// Entries of every block with that path, in order.
func (t *Tree) Entries(path string) []*Entry {
	var out []*Entry
	for _, b := range t.Find(path) {
		out = append(out, b.Entries...)
	}
	return out
}

// Entry looks one entry up by key.
func (t *Tree) Entry(path, key string) *Entry {
	for _, e := range t.Entries(path) {
		if e.Key == key {
			return e
		}
	}
	return nil
}

// Ordered applies the moves of a policy table to its entries.
func (b *Block) Ordered() ([]*Entry, error) {
	list := append([]*Entry(nil), b.Entries...)
	idx := func(k string) int {
		for i, e := range list {
			if e.Key == k {
				return i
			}
		}
		return -1
	}
	for _, m := range b.Moves {
		i, j := idx(m[0]), idx(m[2])
		if i < 0 || j < 0 {
			return nil, fmt.Errorf("move of unknown policy %v", m)
		}
		e := list[i]
		list = append(list[:i], list[i+1:]...)
		j = idx(m[2])
		if m[1] == "after" {
			j++
		}
		list = append(list[:j], append([]*Entry{e}, list[j:]...)...)
	}
	return list, nil
}
