// Package semdiff compares two policies by meaning, not by text: which
// packets the new policy lets in, shuts out, forwards or marks differently
// from the old one, and which policy block decides each of them.
//
// Classes. The packet space is cut into classes the two policies cannot
// tell apart, exactly, from the policies' own rules: zones (wan, lan and
// every voice VLAN of either policy); source addresses split at every
// boundary of every address set a rule of either policy matches on
// (providers' signaling and media, blocklists, management, ...);
// destinations (the gateway itself, plus addresses split at every boundary
// of the rules' destination sets, the voice VLANs' subnets and the PBXes'
// addresses); protocols (tcp, udp, any other); and per protocol the
// destination and source ports split at every boundary a rule names. The
// address split is a sweep over the sets' sorted range boundaries that
// groups addresses by the sets they are in, so a 100,000-range blocklist
// that grew by a few entries gives a handful of classes (in the old list
// only, in the new only, in both, in neither), each holding its ranges.
//
// Evaluation. Each class is evaluated on one representative packet through
// lang.Policy.Evaluate, in both policies: the same evaluator `voicewall
// test` and `explain` use, so a block the evaluator knows is diffed as
// soon as it yields rules with address sets. Nothing is sampled: every
// class is evaluated (classes a policy cannot tell apart share one
// evaluation). Two outcomes differ when the verdict, whether voicewall
// decides at all, the forwarding address, the DSCP marking or the rate
// limit of the first packet of a new flow differ.
//
// Merge. Differing classes are folded into the fewest lines the merge
// finds: adjacent ports, source ports, all services of one source and
// destination, then sources, destinations and zones with the same change.
//
// Render. Text for people, markdown for a pull-request comment (a table,
// what the change lets in first), JSON for machines. Large address sets
// are shown as a count with a few samples.
//
// Gaps. A change a target cannot carry (a capability gap the policy
// accepts) makes that target mean something else than the policy: gap
// differences per target, from compiling both policies, are listed
// separately from the changes in meaning.
package semdiff

import (
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// Options tune a comparison.
type Options struct {
	// Targets whose capability gaps are compared (both policies compiled
	// with AllowDegraded). Targets neither policy declares, and targets
	// without a capability table, are skipped.
	Targets []backends.Spec
}

// Report is the difference in meaning between two policies.
type Report struct {
	Changes []Change
	Gaps    []GapChange
	// GapNotes: a target's gap covers a block that decides a change, so
	// the change may not (fully) reach that target.
	GapNotes []GapNote
	// Classes is how many packet classes were compared, Evaluations how
	// many evaluations that took (classes a policy cannot tell apart share one).
	Classes, Evaluations int
}

// Same reports whether the two policies mean the same on every target.
func (r *Report) Same() bool { return len(r.Changes) == 0 && len(r.Gaps) == 0 }

// Compare evaluates every packet class in both policies and reports the
// ones whose outcome differs.
func Compare(old, new *lang.Policy, opts Options) *Report {
	s := newSpace(old, new)
	cells, changes := s.run()
	r := &Report{Changes: s.merge(cells, changes, blocks(new)), Classes: s.classes, Evaluations: s.evals}
	r.Gaps, r.GapNotes = compareGaps(old, new, opts.Targets, r.Changes)
	return r
}
