package cli

import (
	"path/filepath"
	"sort"

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
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
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
	ID               string    `json:"id"`
	ShortDescription sarifText `json:"shortDescription"`
	HelpURI          string    `json:"helpUri,omitempty"`
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
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

func sarifLog(l *lang.Loaded) sarifDoc {
	ds := append(hcl.Diagnostics(nil), l.Diags...)
	lang.SortDiagnostics(ds)
	ids := map[string]string{}
	for _, d := range ds {
		if _, ok := ids[lang.FindingID(d)]; !ok {
			ids[lang.FindingID(d)] = lang.FindingTitle(lang.FindingID(d))
		}
	}
	var ruleIDs []string
	for id := range ids {
		ruleIDs = append(ruleIDs, id)
	}
	sort.Strings(ruleIDs)
	index := map[string]int{}
	rules := []sarifRule{}
	for i, id := range ruleIDs {
		index[id] = i
		rules = append(rules, sarifRule{ID: id, ShortDescription: sarifText{ids[id]}, HelpURI: "docs/rules.md#" + id})
	}
	results := []sarifResult{}
	for _, d := range ds {
		id := lang.FindingID(d)
		level := "error"
		if d.Severity == hcl.DiagWarning {
			level = "warning"
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		r := sarifResult{RuleID: id, RuleIndex: index[id], Level: level, Message: sarifText{msg}}
		if d.Subject != nil {
			uri := d.Subject.Filename
			if root := policyDir(l); root != "" && !filepath.IsAbs(uri) {
				uri = filepath.ToSlash(filepath.Join(root, uri))
			}
			r.Locations = []sarifLocation{{sarifPhysical{sarifArtifact{uri}, sarifRegion{
				StartLine: d.Subject.Start.Line, StartColumn: max(d.Subject.Start.Column, 1),
				EndLine: d.Subject.End.Line, EndColumn: d.Subject.End.Column}}}}
		}
		results = append(results, r)
	}
	return sarifDoc{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool:    sarifTool{sarifDriver{Name: "voicewall", Version: Version, InformationURI: "https://github.com/voicewall/voicewall", Rules: rules}},
			Results: results,
		}},
	}
}

// policyDir makes SARIF paths relative to the repository (the working
// directory), as review tools expect, rather than to the policy root.
func policyDir(l *lang.Loaded) string { return l.Root }
