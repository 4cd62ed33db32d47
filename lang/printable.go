package lang

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what one diagnostic prints: a 50 MB value was echoed three
// times (157 MB of stderr) before.
const (
	maxSummaryLen = 200  // characters of a summary or file name
	maxDetailLen  = 2000 // characters of a detail
	maxSnippetLen = 160  // characters of a source line
	maxShownDiags = 100  // diagnostics printed; then a count of the rest
)

// Printable makes text safe for a terminal: control characters (ESC starts
// terminal sequences: title changes, colours, worse), line and paragraph
// separators, bidi overrides and bytes that are not UTF-8 are written as Go
// escapes (\x1b, \u202e, \xff); a backslash stays as it is. Line breaks are
// kept when keepNewlines, else escaped. The result is cut to max
// characters with "…" and how much was cut.
func Printable(s string, max int, keepNewlines bool) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if n >= max {
			fmt.Fprintf(&b, "… (%d more bytes)", len(s)-i)
			break
		}
		b.WriteString(escapeRune(r, size, s[i], keepNewlines))
		n++
		i += size
	}
	return b.String()
}

func escapeRune(r rune, size int, first byte, keepNewlines bool) string {
	switch {
	case r == utf8.RuneError && size == 1:
		return fmt.Sprintf(`\x%02x`, first)
	case r == '\n' && keepNewlines, r == ' ', unicode.IsPrint(r):
		return string(r)
	case r == '\t':
		return " "
	case r < 0x80:
		return fmt.Sprintf(`\x%02x`, r)
	case r <= 0xffff:
		return fmt.Sprintf(`\u%04x`, r)
	}
	return fmt.Sprintf(`\U%08x`, r)
}

// PrintableText is Printable for a diagnostic's text in JSON or SARIF:
// line breaks kept, at most maxDetailLen characters.
func PrintableText(s string) string { return Printable(s, maxDetailLen, true) }
