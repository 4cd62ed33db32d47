package cli

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"github.com/voicewall/voicewall/lang"
)

func init() { extraCommands = append(extraCommands, (*env).testCmd) }

func (e *env) testCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "test [PATH]",
		Short: "Evaluate every expect block: exit 0 when all hold, 1 when any fails",
		Long: `test sends the packet each expect block describes through the policy's rules
(the same ordered rules every target renders, evaluated without a kernel)
and compares the verdict with the one expected. Each expectation is printed
with the rule that decided it and the policy block that rule came from.`,
		Example: `  voicewall test examples/asterisk-udp-trunk
  voicewall test . --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("unknown --format %q: use text or json", format)
			}
			path := pathArg(args)
			l := loadPolicy(path, false)
			if l.Diags.HasErrors() {
				return e.invalidPolicy(l, format)
			}
			rep := runTests(l)
			if format == "json" {
				if err := writeJSON(e.stdout, rep); err != nil {
					return err
				}
			} else {
				e.printTests(path, rep)
			}
			if rep.Failed > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	formatFlag(c, &format, "text", "json")
	return c
}

// invalidPolicy reports a policy that does not load: diagnostics on stderr
// (text) or in the JSON document, and exit 1.
func (e *env) invalidPolicy(l *lang.Loaded, format string) error {
	if format == "json" {
		d := diagsJSON(l)
		if err := writeJSON(e.stdout, struct {
			Valid       bool       `json:"valid"`
			Diagnostics []jsonDiag `json:"diagnostics"`
		}{false, d.Diagnostics}); err != nil {
			return err
		}
		return exitError{1}
	}
	errs := hcl.Diagnostics{}
	for _, d := range l.Diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		}
	}
	_ = lang.WriteDiagnostics(e.stderr, l.Files, errs, l.Root)
	fmt.Fprintln(e.stderr, "The policy is invalid; fix the errors above before its expectations can be tested.")
	return exitError{1}
}

type jsonTestReport struct {
	Valid   bool             `json:"valid"`
	Total   int              `json:"total"`
	Passed  int              `json:"passed"`
	Failed  int              `json:"failed"`
	Results []jsonTestResult `json:"results"`
}

type jsonTestResult struct {
	Name     string   `json:"name"`
	File     string   `json:"file"` // as printed: joined with the policy root
	Line     int      `json:"line"`
	Pass     bool     `json:"pass"`
	Packet   string   `json:"packet"`
	Expected string   `json:"expected"`
	Actual   string   `json:"actual"`
	Managed  bool     `json:"managed"`
	RuleID   string   `json:"rule_id,omitempty"`
	Rule     string   `json:"rule,omitempty"`   // the deciding rule in words, with file:line
	Source   string   `json:"source,omitempty"` // the policy block it came from: provider "x" (f.hcl:3)
	DNAT     string   `json:"dnat,omitempty"`
	Decision string   `json:"decision"`
	Trace    []string `json:"trace"`
}

func runTests(l *lang.Loaded) jsonTestReport {
	rep := jsonTestReport{Valid: true, Results: []jsonTestResult{}}
	// Rule and block positions are relative to the policy root (as in the
	// compiled output); the expect's own location is given as the user can
	// open it from here. Both are written the same way: from here.
	var pairs []string
	seen := map[string]bool{}
	for _, o := range originFiles(l.Policy) {
		if !seen[o] && policyFile(l.Root, o) != o {
			seen[o] = true
			pairs = append(pairs, "("+o+":", "("+policyFile(l.Root, o)+":")
		}
	}
	here := strings.NewReplacer(pairs...)
	for _, x := range l.Policy.Expects {
		ok, r := l.Policy.Check(x)
		j := jsonTestResult{
			Name: x.Name, File: policyFile(l.Root, x.Origin.Range.Filename), Line: x.Origin.Range.Start.Line,
			Pass: ok, Packet: packetText(x.Packet()), Expected: string(x.Verdict), Actual: string(r.Verdict),
			Managed: r.Managed, Source: here.Replace(r.Source()), Decision: here.Replace(r.Decision()), Trace: []string{},
		}
		if r.Rule != nil {
			j.RuleID, j.Rule = r.Rule.ID, here.Replace(lang.RuleName(r.Rule))
		}
		if r.DNAT.IsValid() {
			j.DNAT = r.DNAT.String()
		}
		for _, s := range r.Trace {
			j.Trace = append(j.Trace, here.Replace(s.String()))
		}
		rep.Total++
		if ok {
			rep.Passed++
		} else {
			rep.Failed++
		}
		rep.Results = append(rep.Results, j)
	}
	return rep
}

func (e *env) printTests(path string, rep jsonTestReport) {
	if rep.Total == 0 {
		fmt.Fprintf(e.stdout, "%s has no expect blocks: nothing to test. Add expect \"name\" { from, to, verdict } blocks to test the policy.\n", lang.Printable(path, 4096, false))
		return
	}
	var b strings.Builder
	for _, r := range rep.Results {
		if r.Pass {
			fmt.Fprintf(&b, "PASS  %s (%s:%d): %s\n", r.Name, r.File, r.Line, r.Decision)
			if r.Source != "" {
				fmt.Fprintf(&b, "      from %s\n", r.Source)
			}
			continue
		}
		fmt.Fprintf(&b, "FAIL  %s (%s:%d): expected %s, got %s\n", r.Name, r.File, r.Line, r.Expected, r.Actual)
		fmt.Fprintf(&b, "      packet: %s\n", r.Packet)
		fmt.Fprintf(&b, "      %s\n", r.Decision)
		if r.Source != "" {
			fmt.Fprintf(&b, "      from %s\n", r.Source)
		}
		b.WriteString("      trace:\n")
		for _, s := range r.Trace {
			fmt.Fprintf(&b, "        %s\n", s)
		}
	}
	if rep.Failed == 0 {
		fmt.Fprintf(&b, "\nok: all %d expectations hold.\n", rep.Total)
	} else {
		fmt.Fprintf(&b, "\nFAILED: %d of %d expectations do not hold.\n", rep.Failed, rep.Total)
	}
	// file names come from the user's directory: escaped like every path
	_, _ = fmt.Fprint(e.stdout, lang.Printable(b.String(), b.Len(), true))
}

// packetText describes a test packet: `203.0.113.10 (zone wan) -> the gateway 5060/udp`.
func packetText(p lang.Packet) string {
	src := p.Src.String()
	if p.SrcPort != 0 {
		src = netip.AddrPortFrom(p.Src, p.SrcPort).String()
	}
	zone := p.Zone
	if zone == "" {
		zone = lang.ZoneWAN
	}
	dst := "the gateway"
	if p.Dst.IsValid() {
		dst = p.Dst.String()
	}
	return fmt.Sprintf("%s (zone %s) -> %s %d/%s", src, zone, dst, p.DstPort, p.Proto)
}

// policyFile is a file name from a diagnostic or origin (relative to the
// policy root) as the user can open it: joined with the root.
func policyFile(root, name string) string {
	if root == "" || root == "." || filepath.IsAbs(name) {
		return name
	}
	return filepath.ToSlash(filepath.Join(root, name))
}

// originFiles are the files the policy's rules and expects come from, as
// their origins name them (relative to the policy root).
func originFiles(p *lang.Policy) []string {
	var out []string
	for _, r := range p.Rules {
		if f := r.Origin.Range.Filename; f != "" {
			out = append(out, f)
		}
	}
	for _, x := range p.Expects {
		if f := x.Origin.Range.Filename; f != "" {
			out = append(out, f)
		}
	}
	return out
}
