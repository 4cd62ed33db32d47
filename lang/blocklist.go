package lang

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"unsafe"

	"github.com/hashicorp/hcl/v2"
)

// maxFileDiags bounds how many bad lines of one blocklist file are reported
// individually; a feed in the wrong format would otherwise print a million.
const maxFileDiags = 20

// maxSnippetSource bounds how much of a blocklist file with bad lines is
// held in memory to show them; a larger file is reported without snippets.
const maxSnippetSource = 64 << 20

// ReadBlocklist streams one blocklist file into b: one address or CIDR a
// line, '#' starts a comment (own line or after an entry), blank lines are
// ignored. Host bits in a CIDR are masked, as feeds often carry them.
// Bad lines are reported at file:line, all of them up to maxFileDiags.
// overlap, when not nil, says which provider addresses an entry would
// block ("" when none): such entries are errors, never added.
func ReadBlocklist(path, display string, b PrefixAdder, overlap func(netip.Prefix) string) (entries int, diags hcl.Diagnostics) {
	return readBlocklistFile(nil, path, display, b, overlap)
}

// readBlocklistFile is ReadBlocklist for a file a policy names: it must be
// inside what the policy may read (scope; nil: anywhere).
func readBlocklistFile(scope *readScope, path, display string, b PrefixAdder, overlap func(netip.Prefix) string) (entries int, diags hcl.Diagnostics) {
	// A FIFO would block the open itself, a device (a typo like /dev/zero)
	// would never end: the open refuses both without blocking.
	f, _, err := scope.open(path)
	if errors.Is(err, ErrOutsideScope) {
		return 0, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Blocklist file outside what the policy may read",
			Detail: fmt.Sprintf("%s. voicewall shows nothing of its content.", errText(err)), Extra: Finding{IDBlocklistFile}}}
	}
	if errors.Is(err, ErrNotRegular) {
		return 0, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Blocklist is not a regular file",
			Detail: fmt.Sprintf("%v; name a text file with one address or CIDR a line.", err), Extra: Finding{IDBlocklistFile}}}
	}
	if err != nil {
		return 0, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read blocklist file",
			Detail: fmt.Sprintf("%v. File paths are relative to the policy file that names them.", err), Extra: Finding{IDBlocklistFile}}}
	}
	defer f.Close()
	return readBlocklist(f, display, b, overlap)
}

func readBlocklist(r io.Reader, display string, b PrefixAdder, overlap func(netip.Prefix) string) (entries int, diags hcl.Diagnostics) {
	br := bufio.NewReaderSize(r, 1<<16)
	bad := 0
	line := 0
	off := 0 // byte offset of the current line, for diagnostic snippets
	for {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// An absurdly long line: drain it and report it.
			line++
			lineOff := off
			off += len(raw)
			for errors.Is(err, bufio.ErrBufferFull) {
				raw, err = br.ReadSlice('\n')
				off += len(raw)
			}
			if err != nil && err != io.EOF {
				return entries, append(diags, readError(display, line, err))
			}
			bad++
			if bad <= maxFileDiags {
				diags = append(diags, lineDiag(display, line, 1, lineOff, 1, IDBlocklistFile, "Bad blocklist line", "The line is longer than 64 KiB; expected one address or CIDR a line."))
			}
			if err != nil {
				break
			}
			continue
		}
		if err != nil && err != io.EOF {
			return entries, append(diags, readError(display, line+1, err))
		}
		if len(raw) == 0 && err != nil {
			break
		}
		line++
		lineOff := off
		off += len(raw)
		text := raw
		if i := bytes.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		start := 0
		for start < len(text) && isSpace(text[start]) {
			start++
		}
		end := len(text)
		for end > start && isSpace(text[end-1]) {
			end--
		}
		if start < end {
			entry := text[start:end]
			p, perr := parseEntry(entry)
			if perr != nil {
				bad++
				if bad <= maxFileDiags {
					diags = append(diags, lineDiag(display, line, start+1, lineOff+start, end-start, IDBlocklistFile, "Bad blocklist line",
						fmt.Sprintf("%s. Each line holds one IPv4/IPv6 address or CIDR; '#' starts a comment.", perr)))
				}
			} else {
				entries++
				hit := ""
				if overlap != nil {
					hit = overlap(p)
				}
				if hit != "" {
					bad++
					if bad <= maxFileDiags {
						diags = append(diags, lineDiag(display, line, start+1, lineOff+start, end-start, IDBlockProvider, "Blocklist entry blocks a provider",
							fmt.Sprintf("%s overlaps %s, so that provider's calls would be dropped. Remove the line, or fix the provider's addresses.", p, hit)))
					}
				} else {
					b.AddPrefix(p)
				}
			}
		}
		if err != nil {
			break
		}
	}
	if bad > maxFileDiags {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "More bad blocklist lines",
			Detail: fmt.Sprintf("%s has %d bad lines in all; only the first %d are shown.", display, bad, maxFileDiags), Extra: Finding{IDBlocklistFile}})
	}
	return entries, diags
}

// readError reports a failed read (EIO, a vanished network share): the
// entries after it were never seen, so the blocklist is incomplete.
func readError(display string, line int, err error) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read blocklist file",
		Detail: fmt.Sprintf("Reading %s failed at line %d: %v. The blocklist would be incomplete; fix the file or the disk and try again.", display, line, err), Extra: Finding{IDBlocklistFile}}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

// parseEntry parses without copying the line: netip does not keep the string.
func parseEntry(b []byte) (netip.Prefix, error) {
	s := unsafe.String(unsafe.SliceData(b), len(b))
	if bytes.IndexByte(b, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not a valid CIDR", string(b))
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not a valid IP address", string(b))
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func lineDiag(file string, line, col, byteOff, n int, id, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: summary, Detail: detail,
		Subject: &hcl.Range{Filename: file, Start: hcl.Pos{Line: line, Column: col, Byte: byteOff}, End: hcl.Pos{Line: line, Column: col + n, Byte: byteOff + n}},
		Extra:   Finding{id},
	}
}
