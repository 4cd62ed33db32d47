package cli

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The properties SARIF 2.1.0 (OASIS, errata 01 schema) allows on each
// object voicewall writes; the schema sets additionalProperties: false on
// all of them, so anything else makes the log invalid.
var sarifAllowed = map[string][]string{
	"sarifLog": {"$schema", "version", "runs", "inlineExternalProperties", "properties"},
	"run": {"tool", "invocations", "conversion", "language", "versionControlProvenance", "originalUriBaseIds",
		"artifacts", "logicalLocations", "graphs", "results", "automationDetails", "runAggregates", "baselineGuid",
		"redactionTokens", "defaultEncoding", "defaultSourceLanguage", "newlineSequences", "columnKind",
		"externalPropertyFileReferences", "threadFlowLocations", "taxonomies", "addresses", "translations",
		"policies", "webRequests", "webResponses", "specialLocations", "properties"},
	"tool": {"driver", "extensions", "properties"},
	"toolComponent": {"guid", "name", "organization", "product", "productSuite", "shortDescription", "fullDescription",
		"fullName", "version", "semanticVersion", "dottedQuadFileVersion", "releaseDateUtc", "downloadUri",
		"informationUri", "globalMessageStrings", "notifications", "rules", "taxa", "locations", "language",
		"contents", "isComprehensive", "localizedDataSemanticVersion", "minimumRequiredLocalizedDataSemanticVersion",
		"associatedComponent", "translationMetadata", "supportedTaxonomies", "properties"},
	"reportingDescriptor": {"id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames",
		"shortDescription", "fullDescription", "messageStrings", "defaultConfiguration", "helpUri", "help",
		"relationships", "properties"},
	"multiformatMessageString": {"text", "markdown", "properties"},
	"reportingConfiguration":   {"enabled", "level", "rank", "parameters", "properties"},
	"result": {"ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget", "locations", "guid",
		"correlationGuid", "occurrenceCount", "partialFingerprints", "fingerprints", "stacks", "codeFlows", "graphs",
		"graphTraversals", "relatedLocations", "suppressions", "baselineState", "rank", "attachments",
		"hostedViewerUri", "workItemUris", "provenance", "fixes", "taxa", "webRequest", "webResponse", "properties"},
	"message":          {"text", "markdown", "id", "arguments", "properties"},
	"location":         {"id", "physicalLocation", "logicalLocations", "message", "annotations", "relationships", "properties"},
	"physicalLocation": {"address", "artifactLocation", "region", "contextRegion", "properties"},
	"artifactLocation": {"uri", "uriBaseId", "index", "description", "properties"},
	"region": {"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength", "byteOffset",
		"byteLength", "snippet", "message", "sourceLanguage", "properties"},
}

type obj = map[string]any

// sarifChecker validates a decoded SARIF log against the 2.1.0 rules that
// apply to what voicewall writes: required properties, enums, minimums,
// URI formats, rule references and no unknown properties.
type sarifChecker struct {
	errs []string
}

func (c *sarifChecker) fail(path, f string, a ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(f, a...))
}

func (c *sarifChecker) object(path, kind string, v any, required ...string) obj {
	o, ok := v.(obj)
	if !ok {
		c.fail(path, "want a %s object, got %T", kind, v)
		return obj{}
	}
	allowed := map[string]bool{}
	for _, k := range sarifAllowed[kind] {
		allowed[k] = true
	}
	for k := range o {
		if !allowed[k] {
			c.fail(path, "property %q is not allowed on %s", k, kind)
		}
	}
	for _, k := range required {
		if _, ok := o[k]; !ok {
			c.fail(path, "%s lacks required property %q", kind, k)
		}
	}
	return o
}

func (c *sarifChecker) str(path string, v any, nonEmpty bool) string {
	s, ok := v.(string)
	if !ok {
		c.fail(path, "want a string, got %T", v)
	} else if nonEmpty && s == "" {
		c.fail(path, "empty string")
	}
	return s
}

func (c *sarifChecker) integer(path string, v any, min int) int {
	f, ok := v.(float64)
	if !ok || f != float64(int(f)) {
		c.fail(path, "want an integer, got %v", v)
		return 0
	}
	if int(f) < min {
		c.fail(path, "%d is below the minimum %d", int(f), min)
	}
	return int(f)
}

func (c *sarifChecker) array(path string, v any) []any {
	a, ok := v.([]any)
	if !ok {
		c.fail(path, "want an array, got %T", v)
	}
	return a
}

func (c *sarifChecker) uri(path string, v any, absolute bool) string {
	s := c.str(path, v, true)
	u, err := url.Parse(s)
	switch {
	case err != nil:
		c.fail(path, "not a URI reference: %v", err)
	case strings.ContainsAny(s, " \\\t\n"):
		c.fail(path, "%q has characters a URI cannot carry unencoded", s)
	case absolute && !u.IsAbs():
		c.fail(path, "%q must be an absolute URI", s)
	}
	return s
}

func (c *sarifChecker) message(path, kind string, v any) string {
	o := c.object(path, kind, v)
	if kind == "multiformatMessageString" {
		c.object(path, kind, v, "text")
	} else if _, ok := o["text"]; !ok {
		if _, ok := o["id"]; !ok {
			c.fail(path, "message needs text or id")
		}
	}
	return c.str(path+".text", o["text"], true)
}

func (c *sarifChecker) level(path string, v any) string {
	s := c.str(path, v, true)
	switch s {
	case "none", "note", "warning", "error":
	default:
		c.fail(path, "level %q is not none, note, warning or error", s)
	}
	return s
}

// sarifLoc is what a result points at, for the line checks.
type sarifLoc struct {
	RuleID, Level, URI, Text string
	Line, Column             int
}

func (c *sarifChecker) log(v any) []sarifLoc {
	var out []sarifLoc
	root := c.object("$", "sarifLog", v, "version", "runs")
	if s, ok := root["$schema"]; ok {
		c.uri("$.$schema", s, true)
	}
	if root["version"] != "2.1.0" {
		c.fail("$.version", "want \"2.1.0\", got %v", root["version"])
	}
	runs := c.array("$.runs", root["runs"])
	if len(runs) == 0 {
		c.fail("$.runs", "no run")
	}
	for i, rv := range runs {
		rp := fmt.Sprintf("$.runs[%d]", i)
		run := c.object(rp, "run", rv, "tool")
		if ck, ok := run["columnKind"]; ok && ck != "utf16CodeUnits" && ck != "unicodeCodePoints" {
			c.fail(rp+".columnKind", "bad value %v", ck)
		}
		tool := c.object(rp+".tool", "tool", run["tool"], "driver")
		driver := c.object(rp+".tool.driver", "toolComponent", tool["driver"], "name")
		c.str(rp+".tool.driver.name", driver["name"], true)
		if u, ok := driver["informationUri"]; ok {
			c.uri(rp+".tool.driver.informationUri", u, true)
		}
		var ruleIDs []string
		seen := map[string]bool{}
		if rs, ok := driver["rules"]; ok {
			for j, rv := range c.array(rp+".tool.driver.rules", rs) {
				pp := fmt.Sprintf("%s.tool.driver.rules[%d]", rp, j)
				r := c.object(pp, "reportingDescriptor", rv, "id")
				id := c.str(pp+".id", r["id"], true)
				if seen[id] {
					c.fail(pp, "duplicate rule id %q", id)
				}
				seen[id] = true
				ruleIDs = append(ruleIDs, id)
				if sd, ok := r["shortDescription"]; ok {
					c.message(pp+".shortDescription", "multiformatMessageString", sd)
				}
				if h, ok := r["helpUri"]; ok {
					c.uri(pp+".helpUri", h, true)
				}
				if dc, ok := r["defaultConfiguration"]; ok {
					cfg := c.object(pp+".defaultConfiguration", "reportingConfiguration", dc)
					if lv, ok := cfg["level"]; ok {
						c.level(pp+".defaultConfiguration.level", lv)
					}
				}
			}
		}
		results, ok := run["results"]
		if !ok {
			continue
		}
		for j, resv := range c.array(rp+".results", results) {
			pp := fmt.Sprintf("%s.results[%d]", rp, j)
			res := c.object(pp, "result", resv, "message")
			loc := sarifLoc{Text: c.message(pp+".message", "message", res["message"]), Level: "warning"}
			if id, ok := res["ruleId"]; ok {
				loc.RuleID = c.str(pp+".ruleId", id, true)
			} else {
				c.fail(pp, "no ruleId (code review tools group by it)")
			}
			if ri, ok := res["ruleIndex"]; ok {
				n := c.integer(pp+".ruleIndex", ri, -1)
				if n >= len(ruleIDs) || n >= 0 && ruleIDs[n] != loc.RuleID {
					c.fail(pp+".ruleIndex", "%d does not name rule %q", n, loc.RuleID)
				}
			}
			if lv, ok := res["level"]; ok {
				loc.Level = c.level(pp+".level", lv)
			}
			locs, ok := res["locations"]
			if !ok {
				out = append(out, loc)
				continue
			}
			for k, lv := range c.array(pp+".locations", locs) {
				lp := fmt.Sprintf("%s.locations[%d]", pp, k)
				l := c.object(lp, "location", lv)
				ph := c.object(lp+".physicalLocation", "physicalLocation", l["physicalLocation"], "artifactLocation")
				al := c.object(lp+".physicalLocation.artifactLocation", "artifactLocation", ph["artifactLocation"], "uri")
				loc.URI = c.uri(lp+".physicalLocation.artifactLocation.uri", al["uri"], false)
				if b, ok := al["uriBaseId"]; ok {
					c.str(lp+".physicalLocation.artifactLocation.uriBaseId", b, true)
				}
				reg := c.object(lp+".physicalLocation.region", "region", ph["region"], "startLine")
				loc.Line = c.integer(lp+".region.startLine", reg["startLine"], 1)
				loc.Column = 1
				if sc, ok := reg["startColumn"]; ok {
					loc.Column = c.integer(lp+".region.startColumn", sc, 1)
				}
				if el, ok := reg["endLine"]; ok {
					if e := c.integer(lp+".region.endLine", el, 1); e < loc.Line {
						c.fail(lp+".region", "endLine %d before startLine %d", e, loc.Line)
					}
				}
				if ec, ok := reg["endColumn"]; ok {
					e := c.integer(lp+".region.endColumn", ec, 1)
					if el, _ := reg["endLine"].(float64); (el == 0 || int(el) == loc.Line) && e < loc.Column {
						c.fail(lp+".region", "endColumn %d before startColumn %d on one line", e, loc.Column)
					}
				}
				out = append(out, loc)
			}
		}
	}
	return out
}

func checkSARIF(t *testing.T, out string) []sarifLoc {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	c := &sarifChecker{}
	locs := c.log(v)
	for _, e := range c.errs {
		t.Errorf("invalid SARIF 2.1.0: %s", e)
	}
	return locs
}

// A policy with errors and warnings on known lines.
const sarifPolicy = `provider "carrier" {
  signaling  = ["203.0.113.10", "203.0.113.300"]
  media      = ["0.0.0.0/0"]
  transports = ["udp"]
}

voice_vlan "phones" {
  id        = 5000
  subnet    = "10.20.0.0/24"
  providers = ["carier"]
}

rtp {
  ports = "20000-10000"
}
`

func TestValidateSARIF(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my policy")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "gw.hcl")
	if err := os.WriteFile(file, []byte(sarifPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, "validate", dir, "--format", "sarif")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	locs := checkSARIF(t, out)
	// Every result points at the line and column the text output names.
	_, text, _ := run(t, "validate", dir, "--format", "json")
	var j jsonValidate
	if err := json.Unmarshal([]byte(text), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Diagnostics) != len(locs) {
		t.Fatalf("%d SARIF results for %d diagnostics", len(locs), len(j.Diagnostics))
	}
	var got []string
	for i, l := range locs {
		d := j.Diagnostics[i]
		if d.Start != nil && (l.Line != d.Start.Line || l.Column != d.Start.Column) {
			t.Errorf("result %d at %d:%d, diagnostic at %d:%d", i, l.Line, l.Column, d.Start.Line, d.Start.Column)
		}
		if l.RuleID != d.RuleID || l.Level != d.Severity {
			t.Errorf("result %d is %s/%s, diagnostic %s/%s", i, l.RuleID, l.Level, d.RuleID, d.Severity)
		}
		u, err := url.Parse(l.URI)
		if err != nil || u.Scheme != "file" || u.Path != filepath.ToSlash(file) {
			t.Errorf("result %d uri %q, want file://%s", i, l.URI, file)
		}
		got = append(got, fmt.Sprintf("%s %s %d", l.RuleID, l.Level, l.Line))
	}
	sort.Strings(got)
	have := strings.Join(got, "\n")
	for _, want := range []string{
		"VW010 error 2",  // 203.0.113.300
		"VW012 error 3",  // media is any
		"VW030 error 8",  // VLAN id
		"VW032 error 10", // unknown provider
		"VW021 error 14", // inverted range
	} {
		if !strings.Contains(have, want) {
			t.Errorf("no result %q in\n%s", want, have)
		}
	}
	if !strings.Contains(out, `"uri": "file://`) || !strings.Contains(out, "my%20policy/gw.hcl") {
		t.Errorf("absolute path not a percent-encoded file URI:\n%s", out)
	}
}

// A valid example: warnings only, exit 0, paths relative to the working
// directory so review tools can resolve them in the repository.
func TestValidateSARIFExamples(t *testing.T) {
	for _, dir := range exampleDirs(t) {
		code, out, errOut := run(t, "validate", dir, "--format", "sarif")
		if code != 0 {
			t.Fatalf("%s: exit %d %s", dir, code, errOut)
		}
		for _, l := range checkSARIF(t, out) {
			if l.URI == "" {
				t.Errorf("%s: %s has no location", dir, l.RuleID)
				continue
			}
			p, err := url.PathUnescape(l.URI)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: uri %q does not resolve from the working directory: %v", dir, l.URI, err)
			}
		}
	}
	// A finding with no subject still has a location: the first file.
	dir := writePolicy(t, "log {}\n")
	_, out, _ := run(t, "validate", dir, "--format", "sarif")
	for _, l := range checkSARIF(t, out) {
		if l.URI == "" || l.Line != 1 {
			t.Errorf("%s at %q:%d", l.RuleID, l.URI, l.Line)
		}
	}
	// A syntax error is reported too.
	dir = writePolicy(t, "provider \"x\" {\n  signaling = [\n")
	code, out, _ := run(t, "validate", dir, "--format", "sarif")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	locs := checkSARIF(t, out)
	if len(locs) == 0 || locs[0].RuleID != "VW001" {
		t.Errorf("%+v", locs)
	}
}

// The checker itself rejects what SARIF forbids.
func TestSARIFCheckerRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"no version":    `{"runs":[{"tool":{"driver":{"name":"x"}}}]}`,
		"bad level":     `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"a","level":"warn","message":{"text":"m"}}]}]}`,
		"no message":    `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"a"}]}]}`,
		"zero line":     `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"a","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"},"region":{"startLine":0}}}]}]}]}`,
		"relative help": `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x","rules":[{"id":"a","helpUri":"docs/rules.md#a"}]}}}]}`,
		"extra prop":    `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"a","message":{"text":"m"},"severity":"x"}]}]}`,
		"no driver":     `{"version":"2.1.0","runs":[{"tool":{}}]}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		c := &sarifChecker{}
		c.log(v)
		if len(c.errs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}
