package semdiff

import (
	"cmp"
	"slices"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// GapState is one capability gap of a target as one policy compiles.
type GapState struct {
	Pos      string `json:"position"` // the block's position in that policy
	What     string `json:"what"`     // what the target leaves out
	Accepted bool   `json:"accepted"` // in the target's accept_gaps (else the compile fails without --allow-degraded)
}

// GapChange is a gap a target has with one policy and not (or not the same
// way) with the other: what that target enforces changes even where the
// policy's meaning does not.
type GapChange struct {
	Target string
	Class  string // a lang.Gap* name
	Block  string // the policy block concerned: `blocklist "scanners"`
	Old    *GapState
	New    *GapState // nil: gone in the new policy
}

// GapNote says that a change's deciding block has a gap on a target.
type GapNote struct {
	Target string `json:"target"`
	Class  string `json:"gap"`
	Block  string `json:"block"`
	What   string `json:"what"`
	Pos    string `json:"position"`
}

// compareGaps compiles both policies for every target either declares
// and compares the gaps.
func compareGaps(old, new *lang.Policy, targets []backends.Spec, changes []Change) ([]GapChange, []GapNote) {
	var out []GapChange
	var notes []GapNote
	deciders := map[string]bool{}
	for _, c := range changes {
		for _, d := range []Decider{c.OldBy, c.NewBy} {
			if d.Pos != "" {
				deciders[d.Block] = true
			}
		}
	}
	for _, t := range targets {
		if len(t.Gaps) == 0 {
			continue // nothing this target cannot express
		}
		_, inOld := old.Targets[t.Name]
		_, inNew := new.Targets[t.Name]
		if !inOld && !inNew {
			continue
		}
		type key struct{ class, block string }
		var before, after map[key]*GapState
		for side, p := range []*lang.Policy{old, new} {
			m := map[key]*GapState{}
			out, diags := t.Compile(p, backends.Options{AllowDegraded: true})
			if diags.HasErrors() || out == nil {
				continue // a target that does not compile at all: validate says why
			}
			for _, g := range out.Gaps {
				k := key{g.Class, g.Origin.Block()}
				if m[k] != nil {
					m[k].What += "; " + g.What
					continue
				}
				m[k] = &GapState{Pos: g.Origin.Pos(), What: g.What, Accepted: g.Accepted}
			}
			if side == 0 {
				before = m
			} else {
				after = m
			}
		}
		keys := map[key]bool{}
		for k := range before {
			keys[k] = true
		}
		for k := range after {
			keys[k] = true
		}
		sorted := make([]key, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		slices.SortFunc(sorted, func(a, b key) int { return cmp.Or(cmp.Compare(a.class, b.class), cmp.Compare(a.block, b.block)) })
		for _, k := range sorted {
			b, a := before[k], after[k]
			// The same gap on both sides (its text may name other values:
			// another DSCP class, a bigger list) changes nothing on the target.
			if b != nil && a != nil && b.Accepted == a.Accepted {
				if deciders[k.block] {
					notes = append(notes, GapNote{Target: t.Name, Class: k.class, Block: k.block, What: a.What, Pos: a.Pos})
				}
				continue
			}
			out = append(out, GapChange{Target: t.Name, Class: k.class, Block: k.block, Old: b, New: a})
		}
	}
	return out, notes
}
