package lang

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Finding identifies the kind of a diagnostic with a stable rule ID; it is
// carried in hcl.Diagnostic.Extra so that SARIF and JSON output can name it.
type Finding struct {
	ID string
}

// FindingID returns the stable rule ID of a diagnostic: the Finding in its
// Extra, found through any chain of wrapped extras (hcl.DiagnosticExtra).
// lang tags HCL's own diagnostics where it receives them (see tagHCL), so
// no ID is ever guessed from HCL's message text.
func FindingID(d *hcl.Diagnostic) string {
	if f, ok := hcl.DiagnosticExtra[finding](d); ok {
		return f.findingID()
	}
	return IDSyntax
}

// finding is what names a diagnostic's rule ID in its Extra.
type finding interface{ findingID() string }

func (f Finding) findingID() string { return f.ID }

// hclTag is the Extra lang puts on a diagnostic HCL made: the finding ID,
// with HCL's own Extra still reachable by unwrapping.
type hclTag struct {
	Finding
	inner any
}

func (t hclTag) UnwrapDiagnosticExtra() any { return t.inner }

// tagHCL gives HCL's diagnostics the finding ID of the step that produced
// them (parsing: syntax; matching blocks to the schema: schema).
func tagHCL(diags hcl.Diagnostics, id string) hcl.Diagnostics {
	for _, d := range diags {
		if _, ok := hcl.DiagnosticExtra[finding](d); !ok {
			d.Extra = hclTag{Finding{id}, d.Extra}
		}
	}
	return diags
}

// Stable finding IDs. docs/rules.md explains each one and the practice it
// enforces; never renumber.
const (
	IDSyntax          = "VW001" // HCL syntax error
	IDSchema          = "VW002" // unknown or missing block/attribute
	IDDuplicate       = "VW003" // duplicate block label or singleton block
	IDUnsafeName      = "VW004" // name a target cannot carry safely
	IDBadValue        = "VW005" // wrong type or value
	IDBadAddress      = "VW010" // bad address or CIDR
	IDHostBits        = "VW011" // CIDR with host bits set
	IDAnyWhitelist    = "VW012" // signaling/media is 0.0.0.0/0 or ::/0
	IDAnyManagement   = "VW013" // management contains "any"
	IDBlockProvider   = "VW014" // blocklist entry overlaps a provider
	IDBlocklistFile   = "VW015" // blocklist file unreadable or bad line
	IDBadPort         = "VW020" // port outside 1..65535
	IDInvertedRange   = "VW021" // inverted port range
	IDBadService      = "VW022" // bad PORT/PROTO
	IDClosedConflict  = "VW023" // a closed port is one a provider uses
	IDBadVLAN         = "VW030" // VLAN id outside 1..4094
	IDDuplicateVLAN   = "VW031" // two voice VLANs share an id or overlap
	IDUnknownRef      = "VW032" // unknown provider or zone
	IDPBXConflict     = "VW033" // a provider forwarded to two PBXes
	IDBadExpect       = "VW040" // invalid expect block
	IDUnknownCatalog  = "VW050" // catalog names no entry of the provider catalog
	IDDNSMissing      = "VW051" // a signaling_dns name has no answer and none kept
	IDCleartext       = "VW101" // cleartext SIP transport
	IDNoRateLimit     = "VW102" // no rate_limit block
	IDNoLog           = "VW103" // no log block
	IDWideRTP         = "VW104" // RTP range wider than needed
	IDRTPWiderThanPBX = "VW105" // rtp.ports wider than every PBX's range
	IDVLANNoProviders = "VW106" // voice VLAN without a provider list
	IDFamilyMismatch  = "VW107" // v6 provider addresses, v4-only local side
	IDNoMedia         = "VW108" // provider without media addresses
	IDBroadProvider   = "VW109" // very broad provider range
	IDNoProviders     = "VW110" // policy without providers
	IDUnusedProvider  = "VW111" // provider not used by any pbx or voice VLAN
	IDSymmetricRTP    = "VW116" // provider media accepted only as replies (symmetric RTP)
	IDEgressOpen      = "VW117" // voice VLAN without allow_out: other egress open
	IDCatalogExtra    = "VW130" // literal ranges added to a catalog provider's
	IDDNSKept         = "VW131" // DNS failed; the last answers of signaling_dns are kept
	IDCapabilityGap   = "VW201" // a target cannot express a protection
	IDTargetNote      = "VW202" // a target emulates a protection or needs a manual step
	IDAcceptedGap     = "VW203" // a capability gap accepted in target.accept_gaps
	IDStaleGap        = "VW204" // accept_gaps lists a gap the target does not have
	IDInvariant       = "VW090" // the lowered policy breaks a safety invariant (a voicewall bug)
)

func errorf(id string, rng hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	r := rng
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: &r, Extra: Finding{id}}
}

func warnf(id string, rng hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	r := rng
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: &r, Extra: Finding{id}}
}

// suggest returns ` Did you mean "x"?` for the closest candidate, or "".
func suggest(given string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(given, c)
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" && bestD <= 3 && bestD < len(given) {
		return fmt.Sprintf(" Did you mean %q?", best)
	}
	return ""
}

// editDistance is the optimal string alignment distance: Levenshtein plus
// the transposition of two adjacent characters as one edit, so "tsl" is
// closer to "tls" than to "tcp".
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// Files is the source text of every file a policy was loaded from, keyed by
// the name diagnostics use; it lets printers show the offending line.
type Files map[string]*hcl.File

// WriteDiagnostics prints diagnostics the way users read them:
//
//	gw.hcl:18:16: warning[VW101]: Cleartext SIP transport
//	   18 |   transports = ["udp"]
//	      |                ^^^^^
//	  SIP over udp is unencrypted: ... (the fix)
//
// root is joined to file names so the location can be opened as printed.
func WriteDiagnostics(w io.Writer, files Files, diags hcl.Diagnostics, root string) error {
	sorted := append(hcl.Diagnostics(nil), diags...)
	SortDiagnostics(sorted)
	var b strings.Builder
	for i, d := range sorted {
		if i == maxShownDiags {
			errs := 0
			for _, d := range sorted[i:] {
				if d.Severity == hcl.DiagError {
					errs++
				}
			}
			fmt.Fprintf(&b, "voicewall: %d more diagnostics (%d of them errors) not shown; fix the ones above first.\n", len(sorted)-i, errs)
			break
		}
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		// Everything printed is escaped and bounded: file names, source
		// lines, values and OS error texts come from outside.
		loc := "voicewall"
		if d.Subject != nil {
			loc = fmt.Sprintf("%s:%d:%d", Printable(joinRoot(root, d.Subject.Filename), maxSummaryLen, false), d.Subject.Start.Line, d.Subject.Start.Column)
		}
		fmt.Fprintf(&b, "%s: %s[%s]: %s\n", loc, sev, FindingID(d), Printable(d.Summary, maxSummaryLen, false))
		if d.Subject != nil {
			if f := files[d.Subject.Filename]; f != nil {
				writeSnippet(&b, f.Bytes, *d.Subject)
			}
		}
		if d.Detail != "" {
			for _, line := range wrap(Printable(d.Detail, maxDetailLen, true), 96) {
				b.WriteString("  " + line + "\n")
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func joinRoot(root, name string) string {
	if root == "" || root == "." || strings.HasPrefix(name, "/") {
		return name
	}
	if strings.HasPrefix(name, "../") { // a file taken through a use block
		return path.Clean(root + "/" + name)
	}
	return strings.TrimSuffix(root, "/") + "/" + name
}

// writeSnippet prints the subject's first line with the span underlined.
func writeSnippet(b *strings.Builder, src []byte, r hcl.Range) {
	line := r.Start.Line
	cur := 1
	start := 0
	for i := 0; i < len(src) && cur < line; i++ {
		if src[i] == '\n' {
			cur++
			start = i + 1
		}
	}
	if cur != line || start > len(src) {
		return
	}
	end := start
	for end < len(src) && src[end] != '\n' {
		end++
	}
	col := r.Start.Column
	if col < 1 {
		col = 1
	}
	width := 1
	if r.End.Line == r.Start.Line && r.End.Column > r.Start.Column {
		width = r.End.Column - r.Start.Column
	}
	text, caret, width := snippetLine(strings.TrimRight(string(src[start:end]), "\r"), col-1, width)
	num := fmt.Sprintf("%5d", line)
	fmt.Fprintf(b, "%s | %s\n", num, text)
	fmt.Fprintf(b, "%s | %s%s\n", strings.Repeat(" ", len(num)), strings.Repeat(" ", caret), strings.Repeat("^", width))
}

// snippetLine is a source line as printed: every character escaped (see
// Printable), and a line longer than maxSnippetLen cut to a window around
// the span, marked with "…". It returns the caret's position and width in
// the printed line; col and width count characters, as HCL columns do.
func snippetLine(line string, col, width int) (text string, caret, caretWidth int) {
	var cells []string // the printed form of each character
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		cells = append(cells, escapeRune(r, size, line[i], false))
		i += size
	}
	col = min(col, len(cells))
	width = max(1, min(width, len(cells)+1-col))
	from, to := 0, len(cells)
	if to > maxSnippetLen {
		from = max(0, col-maxSnippetLen/3)
		to = min(len(cells), from+maxSnippetLen)
		from = max(0, min(from, to-maxSnippetLen))
	}
	var b strings.Builder
	if from > 0 {
		b.WriteString("…")
		caret = 1
	}
	for i := from; i < to; i++ {
		if i < col {
			caret += utf8.RuneCountInString(cells[i])
		} else if i < col+width {
			caretWidth += utf8.RuneCountInString(cells[i])
		}
		b.WriteString(cells[i])
	}
	if to < len(cells) {
		b.WriteString("…")
	}
	if col >= to { // the span starts at or after the end of the window
		caret = utf8.RuneCountInString(b.String())
		caretWidth = 0
	}
	return b.String(), caret, max(1, caretWidth)
}

func wrap(s string, width int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			if line != "" && len(line)+1+len(w) > width {
				out = append(out, line)
				line = w
				continue
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		out = append(out, line)
	}
	return out
}

// SortDiagnostics orders errors before warnings (what must be fixed comes
// first), each by file, line and column.
func SortDiagnostics(d hcl.Diagnostics) {
	sort.SliceStable(d, func(i, j int) bool {
		if d[i].Severity != d[j].Severity {
			return d[i].Severity == hcl.DiagError
		}
		a, b := d[i].Subject, d[j].Subject
		switch {
		case a == nil && b == nil:
			return d[i].Severity < d[j].Severity
		case a == nil:
			return false
		case b == nil:
			return true
		}
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Start.Line != b.Start.Line {
			return a.Start.Line < b.Start.Line
		}
		return a.Start.Column < b.Start.Column
	})
}

// findingTitles are the short descriptions SARIF and docs/rules.md show.
var findingTitles = map[string]string{
	IDSyntax:          "HCL syntax error",
	IDSchema:          "Unknown or missing block or attribute",
	IDDuplicate:       "Duplicate block, label or list entry",
	IDUnsafeName:      "Name or value a target cannot carry safely",
	IDBadValue:        "Wrong type or value",
	IDBadAddress:      "Bad IP address or CIDR",
	IDHostBits:        "CIDR with host bits set",
	IDAnyWhitelist:    "Provider whitelist is \"any\"",
	IDAnyManagement:   "Phone management open to \"any\"",
	IDBlockProvider:   "Blocklist entry blocks a provider",
	IDBlocklistFile:   "Blocklist file unreadable or bad line",
	IDBadPort:         "Port outside 1..65535",
	IDInvertedRange:   "Inverted port range",
	IDBadService:      "Bad PORT/PROTO",
	IDClosedConflict:  "Closed port needed by a provider or RTP",
	IDBadVLAN:         "VLAN id outside 1..4094",
	IDDuplicateVLAN:   "Voice VLANs share an id or subnet",
	IDUnknownRef:      "Unknown provider, zone or target",
	IDPBXConflict:     "Provider forwarded to two PBXes",
	IDBadExpect:       "Invalid expect block",
	IDUnknownCatalog:  "Unknown catalog entry",
	IDDNSMissing:      "signaling_dns name without an answer",
	IDCleartext:       "Cleartext SIP transport",
	IDNoRateLimit:     "No SIP rate limit",
	IDNoLog:           "No logging of drops",
	IDWideRTP:         "RTP range wider than needed",
	IDRTPWiderThanPBX: "RTP range wider than the PBX's",
	IDVLANNoProviders: "Voice VLAN without a provider list (toll fraud)",
	IDFamilyMismatch:  "Address families do not match",
	IDNoMedia:         "Provider without media addresses",
	IDBroadProvider:   "Very broad provider range",
	IDNoProviders:     "Policy without providers",
	IDUnusedProvider:  "Provider serves no PBX or voice VLAN",
	IDRTPOverlapsSIP:  "RTP range includes a SIP port",
	IDMgmtFromVoice:   "Phone management reachable from a voice VLAN",
	IDLooseRateLimit:  "SIP rate limit too loose",
	IDExpectUnmanaged: "Expectation not decided by voicewall",
	IDSymmetricRTP:    "Provider media accepted only on flows opened from inside (symmetric RTP)",
	IDEgressOpen:      "Voice VLAN egress open besides SIP and RTP",
	IDCatalogExtra:    "Ranges added to a catalog provider",
	IDDNSKept:         "DNS failed, last answers kept",
	IDAllowOutNoop:    "allow_out entry without effect",
	IDCapabilityGap:   "Target cannot express a protection",
	IDTargetNote:      "Target emulates a protection or needs a manual step",
	IDAcceptedGap:     "Capability gap accepted in the policy",
	IDStaleGap:        "Stale accepted gap",
	IDInvariant:       "Safety invariant broken",
}

// FindingTitle is the short description of a finding ID.
func FindingTitle(id string) string { return findingTitles[id] }

// FindingIDs lists every finding ID, sorted.
func FindingIDs() []string {
	out := make([]string, 0, len(findingTitles))
	for id := range findingTitles {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
