package live

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/lang"
)

// Op is the kind of a change, as Terraform prints it.
type Op byte

const (
	OpAdd    Op = '+'
	OpRemove Op = '-'
	OpChange Op = '~'
)

func (o Op) String() string { return string(rune(o)) }

// Plan is the difference between the kernel's table and the compiled one,
// and how apply will close it.
type Plan struct {
	GenID   uint32    // generation the plan was read at (the batch carries it)
	Desired *vw.Table // what the policy compiles to
	State   *State    // what the kernel holds

	// Create: the table does not exist yet.
	Create bool
	// Recreate, when set, says why the table is replaced whole (in one
	// atomic batch) instead of changed in place: counters and rate-limit
	// state restart.
	Recreate string

	Chains []ChainChange
	Sets   []SetChange
	Rules  []RuleChange

	// carry: the run-time sets' elements a recreated table gets back
	// (CarryLive reads them before the batch is built).
	carry liveCarry
}

// ChainChange adds, removes or changes a chain.
type ChainChange struct {
	Op     Op
	Name   string
	Before string // chain header as listed, "" when added
	After  string // "" when removed
	Rules  int    // rules a removed chain takes with it
	chain  *vw.Chain
}

// SetChange adds or removes a set, or changes its elements.
type SetChange struct {
	Op       Op
	Name     string
	Def      string // type and flags
	Elements int    // ranges in the desired set (or the removed one)
	Delta    *SetDelta
	Source   string // the policy block of the rules using it
	set      *vw.Set
}

// RuleChange adds, removes or replaces one rule.
type RuleChange struct {
	Op     Op
	Chain  string
	Key    string
	Before string // the rule as the kernel lists it (removed, changed)
	After  string // the rule as compiled (added, changed)
	// Source is the policy block and file:line the rule comes from:
	// `provider "carrier" (gateway.hcl:15)`, or "voicewall" for built-in
	// rules.
	Source string
	Origin *lang.Origin // nil for removed rules
	Handle uint64       // kernel handle of the removed/replaced rule
	rule   *vw.Rule
	pos    rulePos
}

// Empty reports whether applying would change nothing.
func (p *Plan) Empty() bool {
	return !p.Create && p.Recreate == "" && len(p.Chains) == 0 && len(p.Sets) == 0 && len(p.Rules) == 0
}

// Counts returns how many objects are added, changed and removed (a set
// whose elements change counts as changed).
func (p *Plan) Counts() (add, change, remove int) {
	count := func(o Op) {
		switch o {
		case OpAdd:
			add++
		case OpChange:
			change++
		case OpRemove:
			remove++
		}
	}
	for _, c := range p.Chains {
		count(c.Op)
	}
	for _, s := range p.Sets {
		count(s.Op)
	}
	for _, r := range p.Rules {
		count(r.Op)
	}
	return
}

// ChainHeader is a chain's first line inside the braces, as nft lists it
// ("" for a regular chain).
func ChainHeader(c *vw.Chain) string {
	if !c.Base() {
		return ""
	}
	return "type " + c.Type + " hook " + c.Hook + " priority " + c.Priority + "; policy " + c.Policy + ";"
}

var prioNames = map[string]map[int32]string{
	"filter": {-300: "raw", -150: "mangle", -100: "dstnat", 0: "filter", 50: "security", 100: "srcnat"},
	"nat":    {-100: "dstnat", 100: "srcnat", 0: "filter"},
	"route":  {-150: "mangle", 0: "filter"},
}

func liveChainHeader(c *LiveChain) string {
	if !c.Base() {
		return ""
	}
	prio := fmt.Sprint(c.PrioNum)
	if n, ok := prioNames[c.Type][c.PrioNum]; ok {
		prio = n
	}
	return "type " + c.Type + " hook " + c.Hook + " priority " + prio + "; policy " + c.Policy + ";"
}

// SetDef is a set's header as nft lists it, on one line.
func SetDef(s *vw.Set) string {
	if s.Dynamic {
		timeout := s.Timeout
		if d, err := parseNftDuration(s.Timeout); err == nil {
			timeout = formatNftDuration(d)
		}
		return fmt.Sprintf("type %s size %d flags dynamic,timeout timeout %s", s.Type, s.Size, timeout)
	}
	if s.Live {
		if s.Interval {
			return "type " + string(s.Type) + " flags interval,timeout"
		}
		return "type " + string(s.Type) + " flags timeout"
	}
	return "type " + string(s.Type) + " flags interval"
}

func liveSetDef(s *LiveSet) string { return s.Definition() }

// ruleKey identifies a rule for the diff: the key in its comment, or (for
// comment-less helper rules) its text.
func ruleKey(r *vw.Rule) string {
	if r.Comment != "" {
		return vw.KeyOf(r.Comment)
	}
	return "text:" + vw.RuleText(r)
}

func liveRuleKey(r *LiveRule) string {
	if r.Comment != "" {
		return r.Key
	}
	if r.DecodeErr != nil {
		return ""
	}
	return "text:" + r.Text()
}

// commentSource is the block part of a rule comment: after "key: ".
func commentSource(c string) string {
	if _, s, ok := strings.Cut(c, ": "); ok {
		return s
	}
	return ""
}

// RuleSource names the policy block of a compiled rule.
func RuleSource(r *vw.Rule) string {
	if r.Source == nil {
		return "voicewall"
	}
	return originSource(r.Source.Origin)
}

func originSource(o lang.Origin) string {
	if o.Range.Filename == "" {
		return o.Block()
	}
	return o.String()
}

// setSources maps each set to the policy block that declares it (a table
// rebuilt from the kernel has no blocks: voicewall's own).
func setSources(t *vw.Table) map[string]string {
	m := map[string]string{}
	for _, s := range t.Sets {
		m[s.Name] = "voicewall"
		if s.Origin.Kind != "" {
			m[s.Name] = originSource(s.Origin)
		}
	}
	return m
}

// Diff compares the kernel's table with the compiled one.
func Diff(st *State, want *vw.Table) *Plan {
	p := &Plan{GenID: st.GenID, Desired: want, State: st}
	srcs := setSources(want)
	if !st.Exists {
		p.Create = true
		for _, s := range want.Sets {
			p.Sets = append(p.Sets, SetChange{Op: OpAdd, Name: s.Name, Def: SetDef(s), Elements: len(s.Elements), Source: srcs[s.Name], set: s})
		}
		for _, c := range want.Chains {
			p.Chains = append(p.Chains, ChainChange{Op: OpAdd, Name: c.Name, After: ChainHeader(c), chain: c})
			for _, r := range c.Rules {
				p.Rules = append(p.Rules, RuleChange{Op: OpAdd, Chain: c.Name, Key: r.Key, After: vw.RuleText(r), Source: RuleSource(r), Origin: origin(r), rule: r})
			}
		}
		return p
	}

	// Sets.
	wantSets := map[string]*vw.Set{}
	for _, s := range want.Sets {
		wantSets[s.Name] = s
	}
	var keptSets []string
	for _, ls := range st.Sets {
		ws := wantSets[ls.Name]
		if ws == nil {
			n := 0
			if ls.Content != nil {
				n = len(ls.Content.Ranges)
			}
			p.Sets = append(p.Sets, SetChange{Op: OpRemove, Name: ls.Name, Def: liveSetDef(ls), Elements: n})
			continue
		}
		keptSets = append(keptSets, ls.Name)
		if liveSetDef(ls) != SetDef(ws) {
			p.recreate(fmt.Sprintf("set %s changes from %q to %q", ls.Name, liveSetDef(ls), SetDef(ws)))
			p.Sets = append(p.Sets, SetChange{Op: OpChange, Name: ws.Name, Def: SetDef(ws), Elements: len(ws.Elements), Source: srcs[ws.Name], set: ws})
			continue
		}
		if ws.Dynamic || ws.Live || ls.Content == nil {
			continue // a meter's state, or run-time elements: never the policy's
		}
		if ls.Content.Odd > 0 {
			p.recreate(fmt.Sprintf("set %s holds %d elements that are not intervals", ls.Name, ls.Content.Odd))
		}
		del, add := rangeDelta(ls.Content.Ranges, ws.Elements)
		d := &SetDelta{Del: del, Add: add}
		if m := needsMarker(ws.Elements); m != ls.Content.Marker {
			d.AddMarker, d.DelMarker = m, !m
		}
		if len(del) > 0 || len(add) > 0 || d.AddMarker || d.DelMarker {
			p.Sets = append(p.Sets, SetChange{Op: OpChange, Name: ws.Name, Def: SetDef(ws), Elements: len(ws.Elements), Delta: d, Source: srcs[ws.Name], set: ws})
		}
	}
	var newSets []string
	for _, s := range want.Sets {
		if st.Set(s.Name) == nil {
			newSets = append(newSets, s.Name)
			p.Sets = append(p.Sets, SetChange{Op: OpAdd, Name: s.Name, Def: SetDef(s), Elements: len(s.Elements), Source: srcs[s.Name], set: s})
		}
	}
	if !orderAppendable(keptSets, newSets, names(want.Sets)) {
		p.recreate("new sets would be listed out of the compiled order")
	}

	// Chains.
	wantChains := map[string]*vw.Chain{}
	for _, c := range want.Chains {
		wantChains[c.Name] = c
	}
	var keptChains []string
	for _, lc := range st.Chains {
		wc := wantChains[lc.Name]
		if wc == nil {
			// Its rules go with it (not listed one by one).
			p.Chains = append(p.Chains, ChainChange{Op: OpRemove, Name: lc.Name, Before: liveChainHeader(lc), Rules: len(lc.Rules)})
			continue
		}
		keptChains = append(keptChains, lc.Name)
		if lc.Base() != wc.Base() || liveChainHeader(lc) != ChainHeader(wc) {
			p.recreate(fmt.Sprintf("chain %s changes from %q to %q", lc.Name, liveChainHeader(lc), ChainHeader(wc)))
			p.Chains = append(p.Chains, ChainChange{Op: OpChange, Name: wc.Name, Before: liveChainHeader(lc), After: ChainHeader(wc), chain: wc})
		}
	}
	var newChains []string
	for _, c := range want.Chains {
		if st.Chain(c.Name) == nil {
			newChains = append(newChains, c.Name)
			p.Chains = append(p.Chains, ChainChange{Op: OpAdd, Name: c.Name, After: ChainHeader(c), chain: c})
		}
	}
	if !orderAppendable(keptChains, newChains, chainNames(want.Chains)) {
		p.recreate("new chains would be listed out of the compiled order")
	}

	// Rules, chain by chain, in the compiled order.
	for _, c := range want.Chains {
		var live []*LiveRule
		if lc := st.Chain(c.Name); lc != nil {
			live = lc.Rules
		}
		p.Rules = append(p.Rules, diffRules(c, live)...)
	}
	return p
}

func (p *Plan) recreate(why string) {
	if p.Recreate == "" {
		p.Recreate = why
	}
}

func origin(r *vw.Rule) *lang.Origin {
	if r.Source == nil {
		return nil
	}
	o := r.Source.Origin
	return &o
}

func names(sets []*vw.Set) []string {
	out := make([]string, len(sets))
	for i, s := range sets {
		out[i] = s.Name
	}
	return out
}

func chainNames(cs []*vw.Chain) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// orderAppendable reports whether the kernel, which lists sets and chains
// in creation order, will list kept followed by added in the order want
// has them: kept must come first in want, in the same order.
func orderAppendable(kept, added, want []string) bool {
	if len(added) == 0 {
		// Removals keep the relative order; but kept must match want's order.
		return slices.Equal(kept, want)
	}
	return slices.Equal(append(append([]string(nil), kept...), added...), want)
}

// diffRules lines the kernel's rules of a chain up with the compiled ones
// by key (longest common subsequence, so order is kept): kept rules whose
// text differs are replaced in place, others are removed or inserted at
// their place.
func diffRules(c *vw.Chain, live []*LiveRule) []RuleChange {
	want := c.Rules
	wk := make([]string, len(want))
	for i, r := range want {
		wk[i] = ruleKey(r)
	}
	lk := make([]string, len(live))
	seen := map[string]bool{}
	for i, r := range live {
		k := liveRuleKey(r)
		if k == "" || seen[k] {
			k = "" // foreign or duplicate: never matched, removed
		}
		seen[k] = true
		lk[i] = k
	}
	// LCS table.
	n, m := len(live), len(want)
	dp := make([][]int32, n+1)
	for i := range dp {
		dp[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case lk[i] != "" && lk[i] == wk[j]:
				dp[i][j] = dp[i+1][j+1] + 1
			case dp[i+1][j] >= dp[i][j+1]:
				dp[i][j] = dp[i+1][j]
			default:
				dp[i][j] = dp[i][j+1]
			}
		}
	}
	match := make([]int, m) // want index → live index, -1 when added
	for j := range match {
		match[j] = -1
	}
	keptLive := make([]bool, n)
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case lk[i] != "" && lk[i] == wk[j]:
			match[j] = i
			keptLive[i] = true
			i++
			j++
		case dp[i+1][j] >= dp[i][j+1]:
			i++
		default:
			j++
		}
	}
	var out []RuleChange
	for i, r := range live {
		if !keptLive[i] {
			out = append(out, RuleChange{Op: OpRemove, Chain: c.Name, Key: r.Key, Before: r.Text(), Source: commentSource(r.Comment), Handle: r.Handle})
		}
	}
	for j, r := range want {
		if i := match[j]; i >= 0 {
			lr := live[i]
			if lr.DecodeErr != nil || lr.Text() != vw.RuleText(r) {
				out = append(out, RuleChange{Op: OpChange, Chain: c.Name, Key: r.Key, Before: lr.Text(), After: vw.RuleText(r),
					Source: RuleSource(r), Origin: origin(r), Handle: lr.Handle, rule: r, pos: rulePos{Replace: lr.Handle}})
			}
			continue
		}
		var pos rulePos
		for k := j + 1; k < m; k++ {
			if i := match[k]; i >= 0 {
				pos.Before = live[i].Handle
				break
			}
		}
		out = append(out, RuleChange{Op: OpAdd, Chain: c.Name, Key: r.Key, After: vw.RuleText(r), Source: RuleSource(r), Origin: origin(r), rule: r, pos: pos})
	}
	return out
}

// Digest identifies a compiled table: saved plans carry it, and apply
// refuses a plan whose policy no longer compiles to the same table.
func Digest(t *vw.Table) string {
	h := sha256.New()
	for _, s := range t.Sets {
		fmt.Fprintf(h, "set %s %s\n", s.Name, SetDef(s))
		// Binary, a chunk at a time: formatting a million ranges as text
		// cost more than hashing them.
		buf := make([]byte, 0, 32<<10)
		for _, r := range s.Elements {
			if r.From().Is4() {
				f, t := r.From().As4(), r.To().As4()
				buf = append(append(buf, f[:]...), t[:]...)
			} else {
				f, t := r.From().As16(), r.To().As16()
				buf = append(append(buf, f[:]...), t[:]...)
			}
			if len(buf) > 32<<10-40 {
				h.Write(buf)
				buf = buf[:0]
			}
		}
		h.Write(buf)
	}
	for _, c := range t.Chains {
		fmt.Fprintf(h, "chain %s %s\n", c.Name, ChainHeader(c))
		for _, r := range c.Rules {
			fmt.Fprintln(h, vw.RuleText(r))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// contentOf is what the kernel holds for an interval set once the desired
// table is applied.
func contentOf(s *vw.Set) *SetContent {
	return &SetContent{Ranges: s.Elements, Marker: needsMarker(s.Elements)}
}
