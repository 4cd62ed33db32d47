// Package backends holds what every target backend shares: the compile
// options, the output shape and diagnostic helpers. Each target lives in its
// own sub-package with a pure Compile(*lang.Policy, Options); no backend
// imports another.
package backends

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/lang"
)

// Options change how a policy is compiled.
type Options struct {
	// AllowDegraded turns capability gaps from errors into warnings; the
	// output then says in a comment what is missing.
	AllowDegraded bool
	// Base is an existing vendor configuration to merge into (pfSense
	// config.xml); nil when not given.
	Base []byte
}

// File is one output file.
type File struct {
	Name string // file name inside the output directory, e.g. "nftables.nft"
	Data []byte
}

// Output is what a backend produces: the main file first, then any files
// that ship beside it (e.g. blocklist feeds for pfSense urltable aliases).
type Output struct {
	Files []File
	// Gaps are the capability gaps this compile met (accepted or, with
	// AllowDegraded, not): what the output does not enforce. semdiff
	// compares them between two policies.
	Gaps []GapEntry
}

// GapEntry is one capability gap of a compile: its class (a lang.Gap*
// name), the policy block it concerns and what is left out.
type GapEntry struct {
	Class    string
	Origin   lang.Origin
	What     string
	Accepted bool // listed in the target's accept_gaps (else only AllowDegraded let it pass)
}

// Main is the target's main file.
func (o *Output) Main() File { return o.Files[0] }

// CompileFunc is the signature every target implements.
type CompileFunc func(*lang.Policy, Options) (*Output, hcl.Diagnostics)

// Gaps collects one target's capability gaps during a compile. A gap is an
// error unless the target block accepts it (accept_gaps, reviewed in the
// policy) or the compile runs with AllowDegraded; then it is a warning, and
// Lines says what is not enforced, for the output's header. Stale reports
// accept_gaps entries no gap used.
type Gaps struct {
	target string
	table  map[string]string // the target's capability table (its spec)
	t      *lang.Target
	opts   Options
	seen   map[string]bool
	used   map[string]bool
	list   []GapEntry
	// Lines are the header lines of what this output does not enforce:
	// `accepted (target "draytek" accept_gaps, gw.hcl:3): rate_limit: ...`.
	Lines []string
}

// NewGaps starts the gap list of one target.
func NewGaps(p *lang.Policy, target *lang.TargetSpec, opts Options) *Gaps {
	return &Gaps{target: target.Name, table: target.Gaps, t: p.Target(target), opts: opts, seen: map[string]bool{}, used: map[string]bool{}}
}

// Add reports a gap of the given class (a lang.Gap* name) at the policy
// block it concerns. The same block and text are reported once; Add then
// returns nil.
func (g *Gaps) Add(gap string, o lang.Origin, what string) *hcl.Diagnostic {
	key := gap + "\x00" + o.String() + "\x00" + what
	if g.seen[key] {
		return nil
	}
	g.seen[key] = true
	if _, declared := g.table[gap]; !declared && gap != lang.GapInternal {
		// What a target cannot do is declared as data in its spec, where
		// reviewers and accept_gaps find it; a gap missing there is a bug.
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("%s: %s", g.target, what), Subject: rangePtr(o.Range),
			Detail: fmt.Sprintf("voicewall bug: %s reports the gap %q, which its capability table (backends/%s/spec.go) does not declare. Please report it.", g.target, gap, g.target),
			Extra:  lang.Finding{ID: lang.IDCapabilityGap}}
	}
	d := &hcl.Diagnostic{
		Summary: fmt.Sprintf("%s: %s", g.target, what),
		Subject: rangePtr(o.Range),
		Extra:   lang.Finding{ID: lang.IDCapabilityGap},
	}
	acc, accepted := g.t.Accepts(gap)
	g.list = append(g.list, GapEntry{Class: gap, Origin: o, What: what, Accepted: accepted && gap != lang.GapInternal})
	switch {
	case gap != lang.GapInternal && accepted:
		g.used[gap] = true
		d.Severity = hcl.DiagWarning
		d.Extra = lang.Finding{ID: lang.IDAcceptedGap}
		d.Detail = fmt.Sprintf("Accepted in target %q (accept_gaps = [%q], %s): this part of %s (the summary above) is NOT enforced on %s; the rest of the block is. The output's header says so.", g.target, gap, posText(acc.Range), o.Block(), g.target)
		g.Lines = append(g.Lines, fmt.Sprintf("accepted %s (accept_gaps, %s): %s: %s", gap, posText(acc.Range), o.String(), what))
	case g.opts.AllowDegraded:
		d.Severity = hcl.DiagWarning
		d.Detail = fmt.Sprintf("Compiled with --allow-degraded: this part of %s (the summary above) is NOT enforced on %s; the rest of the block is.", o.Block(), g.target)
		g.Lines = append(g.Lines, fmt.Sprintf("compiled with the allow-degraded flag: %s: %s", o.String(), what))
	case gap == lang.GapInternal:
		d.Severity = hcl.DiagError
		d.Detail = fmt.Sprintf("%s cannot be rendered on %s. Change the policy, or pass --allow-degraded to compile without it (the output will say what is missing).", o.Block(), g.target)
	default:
		d.Severity = hcl.DiagError
		d.Detail = fmt.Sprintf("%s cannot express this on %s. Change the policy, accept the gap after review with `target %q { accept_gaps = [%q] }`, or pass --allow-degraded for a one-off compile (the output says what is missing).", o.Block(), g.target, g.target, gap)
	}
	return d
}

// Entries are the gaps reported so far, in order.
func (g *Gaps) Entries() []GapEntry { return g.list }

// Fatal reports whether a gap of this class fails the compile (neither
// accepted nor --allow-degraded): a backend then need not plan a fallback.
func (g *Gaps) Fatal(gap string) bool {
	_, accepted := g.t.Accepts(gap)
	return !g.opts.AllowDegraded && (gap == lang.GapInternal || !accepted)
}

// Stale warns about accept_gaps entries no gap of this compile used: the
// target (or the policy) changed and the acceptance no longer applies.
func (g *Gaps) Stale() hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, a := range g.t.AcceptGaps {
		if g.used[a.Name] {
			continue
		}
		if _, has := g.table[a.Name]; !has && g.table != nil {
			continue // never a gap of this target: warned once, when the policy was read
		}
		out = append(out, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  fmt.Sprintf("%s: accepted gap %q does not occur", g.target, a.Name),
			Detail:   fmt.Sprintf("target %q accepts the gap %q, but this policy compiles for %s without it (%s). Remove it from accept_gaps so that a future gap is not accepted unreviewed.", g.target, a.Name, g.target, lang.GapNames[a.Name]),
			Subject:  rangePtr(a.Range),
			Extra:    lang.Finding{ID: lang.IDStaleGap},
		})
	}
	return out
}

func posText(r hcl.Range) string {
	if r.Filename == "" {
		return "default"
	}
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

func rangePtr(r hcl.Range) *hcl.Range {
	if r.Filename == "" {
		return nil
	}
	return &r
}

// Diag is a target's own diagnostic ("fortigate: ..."), pointing at the
// policy block when it has a position. Errors are capability findings
// (VW201), warnings notes on how the target renders the policy (VW202).
func Diag(sev hcl.DiagnosticSeverity, target string, o lang.Origin, summary, detail string, args ...any) *hcl.Diagnostic {
	id := lang.IDTargetNote
	if sev == hcl.DiagError {
		id = lang.IDCapabilityGap
	}
	return &hcl.Diagnostic{Severity: sev, Summary: target + ": " + summary, Detail: fmt.Sprintf(detail, args...), Subject: rangePtr(o.Range), Extra: lang.Finding{ID: id}}
}

// Spec is everything voicewall knows about one target, declared once by
// its backend (spec.go there): lang reads the target block by the
// embedded lang.TargetSpec (name, interface defaults, own attributes,
// capability table); the CLI writes File and runs Compile; audit reads a
// configuration with ReadDevice.
type Spec struct {
	*lang.TargetSpec
	File    string // main output file name with -o DIR
	Compile CompileFunc
	// ReadDevice reads a configuration in the target's syntax into the
	// device model (audit, and the tests that read outputs back).
	ReadDevice ReadDeviceFunc
	// Audited says whether `voicewall audit --target` takes the target's
	// configurations. nftables' ReadDevice reads only voicewall's own
	// output (translation validation): a Linux gateway's ruleset is
	// checked live, by plan and status, not from a file.
	Audited bool
}

// ReadDeviceFunc reads a device configuration (file names it in errors).
type ReadDeviceFunc func(file string, src []byte) (*devmodel.Device, error)
