// Package backends holds what every target backend shares: the compile
// options, the output shape and diagnostic helpers. Each target lives in its
// own sub-package with a pure Compile(*lang.Policy, Options); no backend
// imports another.
package backends

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
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
}

// Main is the target's main file.
func (o *Output) Main() File { return o.Files[0] }

// CompileFunc is the signature every target implements.
type CompileFunc func(*lang.Policy, Options) (*Output, hcl.Diagnostics)

// Gap reports a protection the target cannot express. It is an error unless
// AllowDegraded, and then a warning whose text the backend also writes into
// the output as a comment. The diagnostic points at the policy block.
func Gap(opts Options, target string, o lang.Origin, what string) *hcl.Diagnostic {
	sev := hcl.DiagError
	detail := fmt.Sprintf("%s cannot express this on %s. Change the policy, or pass --allow-degraded to compile without it (the output will say what is missing).", o.Block(), target)
	if opts.AllowDegraded {
		sev = hcl.DiagWarning
		detail = fmt.Sprintf("Compiled with --allow-degraded: %s is NOT enforced on %s.", o.Block(), target)
	}
	r := o.Range
	return &hcl.Diagnostic{
		Severity: sev,
		Summary:  fmt.Sprintf("%s: %s", target, what),
		Detail:   detail,
		Subject:  rangePtr(r),
		Extra:    lang.Finding{ID: lang.IDCapabilityGap},
	}
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
