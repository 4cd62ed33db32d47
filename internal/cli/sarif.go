package cli

import (
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/lang"
)

// SARIF 2.1.0, the subset code-review tools read: one run, the tool with
// its rules, and results with a level and a physical location.
type sarifDoc struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool     `json:"tool"`
	ColumnKind string        `json:"columnKind"`
	Results    []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	ShortDescription     sarifText          `json:"shortDescription"`
	HelpURI              string             `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

// sarifSchema is the OASIS SARIF 2.1.0 schema (errata 01).
const sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// rulesDocURI is where each finding ID is explained; SARIF's helpUri must be
// an absolute URI, and docs/rules.md has one "## VWxxx" section per ID.
const rulesDocURI = "https://github.com/voicewall/voicewall/blob/main/docs/rules.md#"

func sarifLevel(d *hcl.Diagnostic) string {
	if d.Severity == hcl.DiagWarning {
		return "warning"
	}
	return "error"
}

func sarifLog(l *lang.Loaded) sarifDoc {
	ds := append(hcl.Diagnostics(nil), l.Diags...)
	lang.SortDiagnostics(ds)
	levels := map[string]string{}
	for _, d := range ds {
		id := lang.FindingID(d)
		if lv, ok := levels[id]; !ok || lv == "warning" {
			levels[id] = sarifLevel(d)
		}
	}
	ruleIDs := slices.Sorted(maps.Keys(levels))
	index := map[string]int{}
	rules := []sarifRule{}
	for i, id := range ruleIDs {
		index[id] = i
		title := lang.FindingTitle(id)
		if title == "" {
			title = id
		}
		rules = append(rules, sarifRule{ID: id, ShortDescription: sarifText{title},
			HelpURI: rulesDocURI + strings.ToLower(id), DefaultConfiguration: sarifConfiguration{levels[id]}})
	}
	results := []sarifResult{}
	for _, d := range ds {
		id := lang.FindingID(d)
		msg := strings.TrimSpace(d.Summary)
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if msg == "" {
			msg = lang.FindingTitle(id)
		}
		r := sarifResult{RuleID: id, RuleIndex: index[id], Level: sarifLevel(d), Message: sarifText{lang.PrintableText(msg)}}
		if loc, ok := sarifLocationOf(l, d); ok {
			r.Locations = []sarifLocation{loc}
		}
		results = append(results, r)
	}
	return sarifDoc{
		Schema:  sarifSchema,
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool:       sarifTool{sarifDriver{Name: "voicewall", Version: Version, InformationURI: "https://github.com/voicewall/voicewall", Rules: rules}},
			ColumnKind: "unicodeCodePoints", // HCL counts columns in characters
			Results:    results,
		}},
	}
}

// sarifLocationOf is the diagnostic's file and region. Findings about the
// policy as a whole (no subject) point at the first line of its first file,
// so review tools, which annotate only located results, still show them.
func sarifLocationOf(l *lang.Loaded, d *hcl.Diagnostic) (sarifLocation, bool) {
	var rng hcl.Range
	switch {
	case d.Subject != nil && d.Subject.Filename != "":
		rng = *d.Subject
	case len(l.Files) > 0:
		first := slices.Min(slices.Collect(maps.Keys(l.Files)))
		rng = hcl.Range{Filename: first, Start: hcl.Pos{Line: 1, Column: 1}, End: hcl.Pos{Line: 1, Column: 1}}
	default:
		return sarifLocation{}, false
	}
	region := sarifRegion{StartLine: max(rng.Start.Line, 1), StartColumn: max(rng.Start.Column, 1)}
	// SARIF: the end is optional; when given it must not precede the start
	// (endColumn is exclusive, like HCL's End.Column).
	if rng.End.Line > region.StartLine || rng.End.Line == region.StartLine && rng.End.Column >= region.StartColumn {
		region.EndLine, region.EndColumn = rng.End.Line, max(rng.End.Column, 1)
	}
	// Joined with the policy root, the name is relative to the working
	// directory (the repository), where review tools resolve it.
	return sarifLocation{sarifPhysical{sarifFileURI(l.Root, rng.Filename), region}}, true
}

// sarifFileURI is a URI reference for a policy file: relative to the
// working directory (the repository root, where review tools resolve it,
// marked with the conventional %SRCROOT% base) or a file:// URI for an
// absolute path. Characters a URI cannot carry are percent-encoded.
func sarifFileURI(root, name string) sarifArtifact {
	p := name
	if root != "" && !filepath.IsAbs(p) {
		p = filepath.Join(root, p)
	}
	p = filepath.ToSlash(filepath.Clean(p))
	if filepath.IsAbs(p) || strings.HasPrefix(p, "/") {
		return sarifArtifact{URI: (&url.URL{Scheme: "file", Path: p}).String()}
	}
	u := (&url.URL{Path: p}).String()
	if strings.HasPrefix(u, "./") {
		u = u[2:]
	}
	return sarifArtifact{URI: u, URIBaseID: "%SRCROOT%"}
}
