package backends

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/lang"
)

// Report gathers one compile's diagnostics for one target: its errors, its
// notes on how it renders the policy and its capability gaps. A backend's
// compiler embeds it, so every target reports the same way.
type Report struct {
	Diags hcl.Diagnostics
	Gaps  *Gaps
}

// NewReport starts the report of one compile for target.
func NewReport(p *lang.Policy, target *lang.TargetSpec, opts Options) Report {
	return Report{Gaps: NewGaps(p, target, opts)}
}

// Errorf reports an error of the target at the policy block o.
func (r *Report) Errorf(o lang.Origin, summary, detail string, args ...any) {
	r.Diags = append(r.Diags, Diag(hcl.DiagError, r.Gaps.target, o, summary, detail, args...))
}

// Warnf reports a note on how the target renders the block o.
func (r *Report) Warnf(o lang.Origin, summary, detail string, args ...any) {
	r.Diags = append(r.Diags, Diag(hcl.DiagWarning, r.Gaps.target, o, summary, detail, args...))
}

// Gap reports a protection the target cannot express (once per block and
// text): an error, or (accepted in accept_gaps, or with AllowDegraded) a
// warning plus a header line in Gaps.Lines. It returns the diagnostic, nil
// for a repeat.
func (r *Report) Gap(gap string, o lang.Origin, what string) *hcl.Diagnostic {
	d := r.Gaps.Add(gap, o, what)
	if d != nil {
		r.Diags = append(r.Diags, d)
	}
	return d
}

// Done ends a compile: the files (the main one first) and every
// diagnostic, stale accept_gaps entries included; no output at all once
// anything is an error.
func (r *Report) Done(main File, more ...File) (*Output, hcl.Diagnostics) {
	if r.Diags.HasErrors() {
		return nil, r.Diags
	}
	return &Output{Files: append([]File{main}, more...), Gaps: r.Gaps.Entries()}, append(r.Diags, r.Gaps.Stale()...)
}

// Listing is a header section of an output: a blank line, the title and
// one "  - " line per item (each passed through clean when given); nothing
// when there are no items.
func Listing(title string, items []string, clean func(string) string) []string {
	if len(items) == 0 {
		return nil
	}
	out := []string{"", title}
	for _, it := range items {
		if clean != nil {
			it = clean(it)
		}
		out = append(out, "  - "+it)
	}
	return out
}

// ProviderSources are header lines saying where provider ranges came from
// besides the policy's own text: catalog entries (with the date they were
// verified) and, from DNSSources, the signaling_dns answers.
func ProviderSources(p *lang.Policy) []string {
	var out []string
	for _, pr := range p.Providers {
		if pr.Catalog != "" {
			out = append(out, fmt.Sprintf("provider %q: ranges from catalog entry %s (verified %s, %s)", pr.Name, pr.Catalog, pr.CatalogVerified, pr.CatalogSource))
		}
	}
	return append(out, DNSSources(p)...)
}

// DNSSources are header lines naming each signaling_dns answer the output
// holds and when it was resolved: the addresses are fixed in the output
// until the next compile.
func DNSSources(p *lang.Policy) []string {
	var out []string
	for _, pr := range p.Providers {
		for _, u := range pr.DNS {
			out = append(out, fmt.Sprintf("provider %q: signaling_dns %s", pr.Name, u))
		}
	}
	return out
}
