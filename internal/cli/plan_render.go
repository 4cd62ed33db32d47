package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"go4.org/netipx"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/nftables/live"
)

// showRanges: sets (and deltas) up to this many ranges are listed; larger
// ones are shown as counts.
const showRanges = 8

// planItem is one change line, with its group (policy block).
type planItem struct {
	group string
	lines []string
}

func rangesText(rs []netipx.IPRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(vw.AppendRange(nil, r))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// ruleBody is the rule text without its comment (the change line names it).
func ruleBody(text string) string {
	if i := strings.Index(text, ` comment "`); i >= 0 {
		text = text[:i]
	}
	return strings.ReplaceAll(text, "counter packets 0 bytes 0", "counter")
}

// groupLabel normalizes a block label so added rules (`provider "x" (f:1)`)
// and removed ones (from their comment: `provider x (f:1)`) group together.
func groupKey(label string) string { return strings.ReplaceAll(label, `"`, "") }

func planItems(p *live.Plan) []planItem {
	var items []planItem
	for _, s := range p.Sets {
		var l []string
		switch s.Op {
		case live.OpAdd:
			set := findSet(p.Desired, s.Name)
			desc := fmt.Sprintf("+ set %s: %s, %s", s.Name, s.Def, plural(s.Elements, "range", "ranges"))
			if set != nil && !set.Dynamic && s.Elements > 0 && s.Elements <= showRanges {
				desc = fmt.Sprintf("+ set %s: %s { %s }", s.Name, s.Def, rangesText(set.Elements))
			} else if set != nil && set.Dynamic {
				desc = fmt.Sprintf("+ set %s: %s", s.Name, s.Def)
			}
			l = append(l, desc)
		case live.OpRemove:
			l = append(l, fmt.Sprintf("- set %s: %s, %s", s.Name, s.Def, plural(s.Elements, "range", "ranges")))
		case live.OpChange:
			if s.Delta == nil {
				l = append(l, fmt.Sprintf("~ set %s: becomes %s (the table is replaced)", s.Name, s.Def))
				break
			}
			d := s.Delta
			// What the policy added and removed, not the merged ranges
			// the kernel swaps (see addressDelta).
			added, removed := addressDelta(d)
			l = append(l, fmt.Sprintf("~ set %s: %s → %s (+%d -%d)", s.Name,
				plural(s.Elements-len(d.Add)+len(d.Del), "range", "ranges"), plural(s.Elements, "range", "ranges"), len(added), len(removed)))
			if len(added)+len(removed) <= showRanges {
				if len(added) > 0 {
					l = append(l, "    + "+rangesText(added))
				}
				if len(removed) > 0 {
					l = append(l, "    - "+rangesText(removed))
				}
			}
		}
		g := s.Source
		if g == "" {
			g = "voicewall"
		}
		items = append(items, planItem{group: g, lines: l})
	}
	for _, c := range p.Chains {
		var l []string
		switch c.Op {
		case live.OpAdd:
			l = append(l, "+ chain "+c.Name+headerNote(c.After))
		case live.OpRemove:
			note := ""
			if c.Rules > 0 {
				note = " (and its " + plural(c.Rules, "rule", "rules") + ")"
			}
			l = append(l, "- chain "+c.Name+headerNote(c.Before)+note)
		case live.OpChange:
			l = append(l, "~ chain "+c.Name, "    - "+c.Before, "    + "+c.After)
		}
		items = append(items, planItem{group: chainGroup(p, c.Name), lines: l})
	}
	for _, r := range p.Rules {
		var l []string
		name := "rule " + r.Key + " in " + r.Chain
		if r.Key == "" {
			name = "rule in " + r.Chain
		}
		switch r.Op {
		case live.OpAdd:
			l = append(l, "+ "+name, "    "+ruleBody(r.After))
		case live.OpRemove:
			l = append(l, "- "+name, "    "+ruleBody(r.Before))
		case live.OpChange:
			l = append(l, "~ "+name, "    - "+ruleBody(r.Before), "    + "+ruleBody(r.After))
		}
		g := r.Source
		if g == "" {
			g = "voicewall"
		}
		items = append(items, planItem{group: g, lines: l})
	}
	return items
}

func headerNote(h string) string {
	if h == "" {
		return ""
	}
	return " { " + h + " }"
}

// chainGroup: a log chain belongs to the block of the rules jumping to it.
func chainGroup(p *live.Plan, name string) string {
	for _, c := range p.Desired.Chains {
		for _, r := range c.Rules {
			for _, s := range r.Stmts {
				if v, ok := s.(vw.Verdict); ok && v.Kind == "jump" && v.Chain == name {
					return live.RuleSource(r)
				}
			}
		}
	}
	return "voicewall"
}

func findSet(t *vw.Table, name string) *vw.Set {
	for _, s := range t.Sets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// groupOrder sorts groups by file and line, built-in ones last.
func groupLess(a, b string) bool {
	pa, pb := groupPos(a), groupPos(b)
	if (pa.file == "") != (pb.file == "") {
		return pa.file != ""
	}
	if pa.file != pb.file {
		return pa.file < pb.file
	}
	if pa.line != pb.line {
		return pa.line < pb.line
	}
	return a < b
}

type pos struct {
	file string
	line int
}

func groupPos(label string) pos {
	i := strings.LastIndex(label, " (")
	if i < 0 || !strings.HasSuffix(label, ")") {
		return pos{}
	}
	fl := label[i+2 : len(label)-1]
	j := strings.LastIndex(fl, ":")
	if j < 0 {
		return pos{}
	}
	var n int
	fmt.Sscanf(fl[j+1:], "%d", &n)
	return pos{fl[:j], n}
}

// printPlan writes the Terraform-style plan. applying: the header says
// "will" instead of "would".
func (e *env) printPlan(lp *livePlan, applying bool) {
	w := e.stdout
	p := lp.Plan
	fmt.Fprintf(w, "voicewall plan: %s → table inet voicewall in %s (ruleset generation %d)\n", lp.Path, lp.Target, p.GenID)
	switch {
	case p.State.CacheHit && p.State.Foreign:
		fmt.Fprintln(w, "  (set contents from voicewall's cache: other tables changed since voicewall's last apply; table inet voicewall, its rules and its sets' sizes did not)")
	case p.State.CacheHit:
		fmt.Fprintln(w, "  (set contents from voicewall's cache: nothing committed since voicewall's last apply)")
	}
	printLinks(w, lp.Links)
	printPolicyWarnings(w, planWarnings(lp, applying))
	for _, x := range lp.Warnings {
		fmt.Fprintf(w, "\nWarning: %s\n", x)
	}
	if lp.Pending != nil {
		fmt.Fprintf(w, "\nWarning: %s\n", pendingText(lp.Pending, lp.Target))
	}
	if !lp.Changes() {
		fmt.Fprintln(w, "\nNo changes. The kernel's table inet voicewall matches the policy.")
		return
	}
	if p.Empty() {
		fmt.Fprintln(w, "\nThe table inet voicewall matches the policy; only interfaces change.")
		return
	}
	fmt.Fprintln(w, "\nvoicewall will perform the following actions:")
	switch {
	case p.Create:
		fmt.Fprintln(w, "\n  # table inet voicewall will be created")
	case p.Recreate != "":
		fmt.Fprintf(w, "\n  # table inet voicewall will be replaced in one atomic batch (%s); counters and rate-limit state restart\n", p.Recreate)
	}
	items := planItems(p)
	var groups []string
	byGroup := map[string][]planItem{}
	label := map[string]string{}
	for _, it := range items {
		k := groupKey(it.group)
		if _, ok := byGroup[k]; !ok {
			groups = append(groups, k)
			label[k] = it.group
		}
		if strings.Contains(it.group, `"`) {
			label[k] = it.group // prefer the quoted form
		}
		byGroup[k] = append(byGroup[k], it)
	}
	sort.SliceStable(groups, func(i, j int) bool { return groupLess(label[groups[i]], label[groups[j]]) })
	for _, g := range groups {
		fmt.Fprintf(w, "\n  # %s\n", label[g])
		for _, it := range byGroup[g] {
			for _, l := range it.lines {
				fmt.Fprintf(w, "  %s\n", l)
			}
		}
	}
	add, change, remove := p.Counts()
	fmt.Fprintf(w, "\nPlan: %d to add, %d to change, %d to remove.\n", add, change, remove)
}

func printLinks(w io.Writer, ls []live.Link) {
	var lines []string
	for _, l := range ls {
		switch {
		case l.Create:
			lines = append(lines, fmt.Sprintf("  + create VLAN link %s (802.1Q id %d on %s) for voice_vlan %q (%s)", l.Name, l.ID, l.Parent, l.Zone, l.Origin.Pos()))
		case l.Note != "" && !l.Exists:
			lines = append(lines, "  ! "+l.Note)
		case l.Note != "":
			lines = append(lines, "  ✓ "+l.Note)
		case l.ID != 0:
			lines = append(lines, fmt.Sprintf("  ✓ %s: VLAN %d on %s (voice_vlan %q)", l.Name, l.ID, l.Parent, l.Zone))
		default:
			lines = append(lines, fmt.Sprintf("  ✓ %s: %s (%s)", l.Zone, l.Name, l.Kind))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintln(w, "\nInterfaces:")
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
}

func netnsFlag(n string) string { return live.NetnsFlag(n) }

// JSON form of a plan.
type jsonPlan struct {
	FormatVersion string         `json:"format_version"`
	Policy        string         `json:"policy"`
	Netns         string         `json:"netns"`
	GenID         uint32         `json:"genid"`
	Digest        string         `json:"digest"`
	Changes       bool           `json:"changes"`
	Create        bool           `json:"create"`
	Recreate      string         `json:"recreate,omitempty"`
	Summary       map[string]int `json:"summary"`
	Links         []jsonLink     `json:"links"`
	Warnings      []string       `json:"warnings"`
	// PolicyWarnings are the policy's own findings, as validate reports
	// them.
	PolicyWarnings []jsonDiag   `json:"policy_warnings"`
	Resources      []jsonChange `json:"resource_changes"`
	CacheHit       bool         `json:"cache_hit"`
	// CacheForeign: the cache was written before other tables changed;
	// voicewall's table did not (docs/live.md).
	CacheForeign bool `json:"cache_after_foreign_changes,omitempty"`
	// Pending is set while an apply --confirm-timeout awaits confirmation.
	Pending *jsonPending `json:"pending_confirmation,omitempty"`
}

// jsonPending is an apply that awaits `voicewall confirm`.
type jsonPending struct {
	Deadline    time.Time `json:"deadline"` // the rollback runs then
	HelperPID   int       `json:"helper_pid"`
	HelperAlive bool      `json:"helper_alive"`
	Confirm     string    `json:"confirm_command"`
}

func pendingJSON(p *live.Pending, t *live.Target) *jsonPending {
	if p == nil {
		return nil
	}
	return &jsonPending{Deadline: p.Deadline.UTC(), HelperPID: p.HelperPID, HelperAlive: p.HelperAlive(), Confirm: "voicewall confirm" + netnsFlag(t.Name)}
}

// pendingText says that an apply awaits confirmation, until when, and what
// happens then (plan and status both show it).
func pendingText(p *live.Pending, t *live.Target) string {
	when := p.Deadline.Local().Format("15:04:05 MST 2006-01-02")
	if left := time.Until(p.Deadline).Round(time.Second); left > 0 {
		when += fmt.Sprintf(", in %v", left)
	}
	if !p.HelperAlive() {
		return fmt.Sprintf("an earlier apply on %s awaits `voicewall confirm%s` (deadline %s), but its rollback helper (pid %d) is gone: confirm to keep the current table, or run `voicewall rollback --state %s` to restore the previous one",
			t, netnsFlag(t.Name), when, p.HelperPID, p.File)
	}
	return fmt.Sprintf("an earlier apply on %s is waiting for confirmation: run `voicewall confirm%s` before %s, or its pending rollback restores the previous table then",
		t, netnsFlag(t.Name), when)
}

type jsonLink struct {
	Name   string `json:"name"`
	Zone   string `json:"zone"`
	Kind   string `json:"kind,omitempty"`
	Create bool   `json:"create"`
	Note   string `json:"note,omitempty"`
}

type jsonChange struct {
	Op      string   `json:"op"`
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Chain   string   `json:"chain,omitempty"`
	Block   string   `json:"block,omitempty"`
	Source  string   `json:"source,omitempty"`
	Before  string   `json:"before,omitempty"`
	After   string   `json:"after,omitempty"`
	Ranges  *int     `json:"ranges,omitempty"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	NAdded  *int     `json:"added_count,omitempty"`
	NRemove *int     `json:"removed_count,omitempty"`
}

func splitLabel(label string) (block, source string) {
	if p := groupPos(label); p.file != "" {
		i := strings.LastIndex(label, " (")
		return label[:i], fmt.Sprintf("%s:%d", p.file, p.line)
	}
	return label, ""
}

func ptr(n int) *int { return &n }

func planJSON(lp *livePlan) jsonPlan {
	p := lp.Plan
	add, change, remove := p.Counts()
	j := jsonPlan{FormatVersion: "1", Policy: lp.Path, Netns: lp.Target.Name, GenID: p.GenID, Digest: lp.Digest(),
		Changes: lp.Changes(), Create: p.Create, Recreate: p.Recreate, CacheHit: p.State.CacheHit, CacheForeign: p.State.CacheHit && p.State.Foreign,
		Summary: map[string]int{"add": add, "change": change, "remove": remove}, Links: []jsonLink{}, Warnings: lp.Warnings, Resources: []jsonChange{},
		Pending: pendingJSON(lp.Pending, lp.Target)}
	if j.Warnings == nil {
		j.Warnings = []string{}
	}
	j.PolicyWarnings = policyWarningsJSON(planWarnings(lp, false))
	for _, l := range lp.Links {
		j.Links = append(j.Links, jsonLink{Name: l.Name, Zone: l.Zone, Kind: l.Kind, Create: l.Create, Note: l.Note})
	}
	for _, s := range p.Sets {
		c := jsonChange{Op: s.Op.String(), Type: "set", Name: s.Name, After: s.Def, Ranges: ptr(s.Elements)}
		c.Block, c.Source = splitLabel(s.Source)
		if s.Delta != nil {
			// Addresses the policy added and removed, not the merged
			// ranges the kernel swaps (see addressDelta).
			added, removed := addressDelta(s.Delta)
			c.NAdded, c.NRemove = ptr(len(added)), ptr(len(removed))
			if len(added)+len(removed) <= 1000 {
				for _, r := range added {
					c.Added = append(c.Added, string(vw.AppendRange(nil, r)))
				}
				for _, r := range removed {
					c.Removed = append(c.Removed, string(vw.AppendRange(nil, r)))
				}
			}
		}
		j.Resources = append(j.Resources, c)
	}
	for _, ch := range p.Chains {
		c := jsonChange{Op: ch.Op.String(), Type: "chain", Name: ch.Name, Before: ch.Before, After: ch.After}
		c.Block, c.Source = splitLabel(chainGroup(p, ch.Name))
		j.Resources = append(j.Resources, c)
	}
	for _, r := range p.Rules {
		c := jsonChange{Op: r.Op.String(), Type: "rule", Name: r.Key, Chain: r.Chain, Before: r.Before, After: r.After}
		c.Block, c.Source = splitLabel(r.Source)
		j.Resources = append(j.Resources, c)
	}
	return j
}
