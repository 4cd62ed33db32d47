package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/lang"
)

func (e *env) validateCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "validate [PATH]",
		Short: "Check a policy: exit 0 when valid, 1 when invalid (warnings do not fail)",
		Example: `  voicewall validate examples/hosted-tls-vlan
  voicewall validate . --format json
  voicewall validate . --format sarif > voicewall.sarif`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l := loadPolicy(pathArg(args), false)
			if !l.Diags.HasErrors() && l.Policy != nil {
				// The gaps compile would report for the declared targets: validate is the CI gate.
				l.Diags = append(l.Diags, registry.CheckDeclared(l.Policy, l.Diags)...)
			}
			switch format {
			case "text":
				e.printDiags(l)
				if !l.Diags.HasErrors() {
					fmt.Fprintf(e.stdout, "%s is valid: %s.\n", lang.Printable(pathArg(args), 4096, false), summary(l))
				} else {
					errs, warns := countDiags(l.Diags)
					fmt.Fprintf(e.stderr, "%s is invalid: %s, %s.\n", lang.Printable(pathArg(args), 4096, false), plural(errs, "error", "errors"), plural(warns, "warning", "warnings"))
				}
			case "json":
				if err := writeJSON(e.stdout, diagsJSON(l)); err != nil {
					return err
				}
			case "sarif":
				if err := writeJSON(e.stdout, sarifLog(l)); err != nil {
					return err
				}
			default:
				return fmt.Errorf("unknown --format %q: use text, json or sarif", format)
			}
			if l.Diags.HasErrors() {
				return exitError{1}
			}
			return nil
		},
	}
	formatFlag(c, &format, "text", "json", "sarif")
	return c
}

func summary(l *lang.Loaded) string {
	p := l.Policy
	_, w := countDiags(l.Diags)
	return strings.Join([]string{plural(len(p.Providers), "provider", "providers"), fmt.Sprintf("%d pbx", len(p.PBXes)),
		plural(len(p.VoiceVLANs), "voice VLAN", "voice VLANs"), plural(len(p.Blocklists), "blocklist", "blocklists"),
		plural(len(p.Rules), "rule", "rules"), plural(w, "warning", "warnings")}, ", ")
}

func (e *env) printDiags(l *lang.Loaded) {
	if len(l.Diags) == 0 {
		return
	}
	_ = lang.WriteDiagnostics(e.stderr, l.Files, l.Diags, l.Root)
}

// writeJSON is how every command prints JSON: indented, and without
// HTML escaping (a reader sees "->" and "<", not "\u003e").
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

type jsonDiag struct {
	Severity string   `json:"severity"`
	RuleID   string   `json:"rule_id"`
	Summary  string   `json:"summary"`
	Detail   string   `json:"detail,omitempty"`
	File     string   `json:"file,omitempty"`
	Start    *jsonPos `json:"start,omitempty"`
	End      *jsonPos `json:"end,omitempty"`
}

type jsonValidate struct {
	Valid       bool       `json:"valid"`
	Errors      int        `json:"errors"`
	Warnings    int        `json:"warnings"`
	Diagnostics []jsonDiag `json:"diagnostics"`
}

func diagsJSON(l *lang.Loaded) jsonValidate {
	out := jsonValidate{Valid: !l.Diags.HasErrors(), Diagnostics: []jsonDiag{}}
	ds := append(hcl.Diagnostics(nil), l.Diags...)
	lang.SortDiagnostics(ds)
	for _, d := range ds {
		// Escaped like the text output: JSON escapes only C0 controls,
		// and a terminal acts on DEL, C1 controls and bidi overrides too.
		j := jsonDiag{Severity: "error", RuleID: lang.FindingID(d), Summary: lang.PrintableText(d.Summary), Detail: lang.PrintableText(d.Detail)}
		if d.Severity == hcl.DiagWarning {
			j.Severity = "warning"
			out.Warnings++
		} else {
			out.Errors++
		}
		if d.Subject != nil {
			j.File = lang.PrintableText(d.Subject.Filename)
			j.Start = &jsonPos{d.Subject.Start.Line, d.Subject.Start.Column}
			j.End = &jsonPos{d.Subject.End.Line, d.Subject.End.Column}
		}
		out.Diagnostics = append(out.Diagnostics, j)
	}
	return out
}

func countDiags(ds hcl.Diagnostics) (errs, warns int) {
	for _, d := range ds {
		if d.Severity == hcl.DiagError {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}
