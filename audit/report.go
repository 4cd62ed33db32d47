package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// safe escapes what must not reach a terminal raw: control characters
// and invalid UTF-8 of a device's configuration.
func safe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case r == 0xFFFD || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// line returns the text of a line of the source (1-based), or "".
func line(src []byte, n int) string { return newLines(src).text(n) }

// lines indexes where each line of a source starts, so printing many
// findings of a large backup does not rescan it for each one.
type lines struct {
	src    []byte
	starts []int
}

func newLines(src []byte) *lines {
	l := &lines{src: src, starts: []int{0}}
	for i, c := range src {
		if c == '\n' {
			l.starts = append(l.starts, i+1)
		}
	}
	return l
}

func (l *lines) text(n int) string {
	if n < 1 || n > len(l.starts) || l.starts[n-1] >= len(l.src) {
		return ""
	}
	start := l.starts[n-1]
	end := len(l.src)
	if n < len(l.starts) {
		end = l.starts[n] - 1
	}
	if end-start > maxSnippetBytes+64 {
		// a minified config.xml is one line: echo its start, not the file
		cut := start + maxSnippetBytes
		for cut > start && !utf8.RuneStart(l.src[cut]) {
			cut--
		}
		return fmt.Sprintf("%s… (%d more bytes)", l.src[start:cut], end-cut)
	}
	return strings.TrimRight(string(l.src[start:end]), "\r")
}

// maxSnippetBytes is how much of a config line a finding shows.
const maxSnippetBytes = 160

// WriteText prints the findings grouped by severity, each with its config
// line, and a one-line summary.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	src := newLines(r.Source)
	for _, sev := range []Severity{SevError, SevWarning, SevNote} {
		var fs []Finding
		for _, f := range r.Findings {
			if f.Severity == sev {
				fs = append(fs, f)
			}
		}
		if len(fs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s (%d)\n\n", map[Severity]string{SevError: "Errors", SevWarning: "Warnings", SevNote: "Notes"}[sev], len(fs))
		for _, f := range fs {
			fmt.Fprintf(&b, "%s: %s[%s]: %s\n", safe(f.Loc.String()), f.Severity, f.ID, f.Title)
			if t := src.text(f.Loc.Line); t != "" {
				// like validate's snippets: the line, its text underlined
				num := fmt.Sprintf("%5d", f.Loc.Line)
				shown := safe(t)
				body := strings.TrimLeft(shown, " ")
				fmt.Fprintf(&b, "%s | %s\n", num, shown)
				if body != "" {
					fmt.Fprintf(&b, "%s | %s%s\n", strings.Repeat(" ", len(num)), strings.Repeat(" ", len(shown)-len(body)), strings.Repeat("^", utf8.RuneCountInString(strings.TrimRight(body, " "))))
				}
			}
			writeWrapped(&b, "  ", safe(f.Message))
			if f.Policy != "" {
				writeWrapped(&b, "  ", "policy: "+safe(f.Policy))
			}
			if f.Fix != "" {
				writeWrapped(&b, "  ", "fix: "+safe(f.Fix))
			}
			b.WriteByte('\n')
		}
	}
	if r.Device != nil && len(r.Device.Notes) > 0 {
		// what the reader skipped or could not resolve: the findings do
		// not cover it
		fmt.Fprintf(&b, "Reader notes (%d): what audit skipped or could not resolve\n", len(r.Device.Notes))
		for _, n := range r.Device.Notes {
			writeWrapped(&b, "  ", safe(n.Loc.String()+": "+n.Text))
		}
		b.WriteByte('\n')
	}
	b.WriteString(safe(r.Summary()) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is the one-line result.
func (r *Report) Summary() string {
	n := map[Severity]int{}
	for _, f := range r.Findings {
		n[f.Severity]++
	}
	s := fmt.Sprintf("audit of %s (%s): %s, %s, %s", r.File, r.Target, plural(n[SevError], "error"), plural(n[SevWarning], "warning"), plural(n[SevNote], "note"))
	if r.Probes > 0 {
		s += fmt.Sprintf("; %d probes, %d decided by the policy and compared", r.Probes, r.Compared)
	}
	if !r.Failed() {
		s += ": clean"
	}
	return s
}

func plural(n int, w string) string {
	if n == 1 {
		return "1 " + w
	}
	return strconv.Itoa(n) + " " + w + "s"
}

type jsonFinding struct {
	Finding
	File string `json:"file"`
	Line int    `json:"line"`
	Text string `json:"text,omitempty"`
}

type jsonReport struct {
	File     string        `json:"file"`
	Target   string        `json:"target"`
	Clean    bool          `json:"clean"`
	Probes   int           `json:"probes,omitempty"`
	Compared int           `json:"compared,omitempty"`
	Findings []jsonFinding `json:"findings"`
	Notes    []string      `json:"reader_notes,omitempty"`
}

// WriteJSON prints the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	j := jsonReport{File: r.File, Target: r.Target, Clean: !r.Failed(), Probes: r.Probes, Compared: r.Compared, Findings: []jsonFinding{}}
	src := newLines(r.Source)
	for _, f := range r.Findings {
		j.Findings = append(j.Findings, jsonFinding{f, f.Loc.File, f.Loc.Line, src.text(f.Loc.Line)})
	}
	if r.Device != nil {
		for _, n := range r.Device.Notes {
			j.Notes = append(j.Notes, n.Loc.String()+": "+n.Text)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}

const rulesDocURI = "https://github.com/voicewall/voicewall/blob/main/docs/rules.md#"

// WriteSARIF prints the report as SARIF 2.1.0 for code-review tools.
func (r *Report) WriteSARIF(w io.Writer, version string) error {
	type text struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID      string `json:"id"`
		Short   text   `json:"shortDescription"`
		HelpURI string `json:"helpUri"`
	}
	type region struct {
		StartLine int `json:"startLine"`
	}
	type phys struct {
		Artifact struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region region `json:"region"`
	}
	type loc struct {
		Physical phys `json:"physicalLocation"`
	}
	type result struct {
		RuleID    string `json:"ruleId"`
		RuleIndex int    `json:"ruleIndex"`
		Level     string `json:"level"`
		Message   text   `json:"message"`
		Locations []loc  `json:"locations"`
	}
	ids := make([]string, 0, len(Titles))
	for id := range Titles {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	index := map[string]int{}
	var rules []rule
	for i, id := range ids {
		index[id] = i
		rules = append(rules, rule{ID: id, Short: text{Titles[id]}, HelpURI: rulesDocURI + strings.ToLower(id)})
	}
	results := []result{}
	for _, f := range r.Findings {
		var l loc
		u := url.URL{Path: filepath.ToSlash(f.Loc.File)}
		l.Physical.Artifact.URI = u.String()
		l.Physical.Region.StartLine = max(f.Loc.Line, 1)
		msg := f.Message
		if f.Fix != "" {
			msg += " Fix: " + f.Fix
		}
		results = append(results, result{RuleID: f.ID, RuleIndex: index[f.ID], Level: string(f.Severity), Message: text{msg}, Locations: []loc{l}})
	}
	doc := map[string]any{
		"$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool":    map[string]any{"driver": map[string]any{"name": "voicewall audit", "version": version, "informationUri": "https://github.com/voicewall/voicewall", "rules": rules}},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// writeWrapped writes text in lines of at most 96 columns after indent.
func writeWrapped(b *strings.Builder, indent, text string) {
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > 96 {
			b.WriteString(indent + line + "\n")
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	b.WriteString(indent + line + "\n")
}
