package feeds

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// addrLike matches what a feed line's first field must look like to be
// kept: an IPv4 or IPv6 address, with an optional /prefix. Whether it is a
// valid one is for the policy's loader to say (at the candidate's line).
var addrLike = regexp.MustCompile(`^([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)(/[0-9]+)?$`)

// Convert turns a downloaded list into voicewall's blocklist format: the
// first field of each line (split at blanks, ',' or ';') when it looks like
// an address or CIDR; comments (#, ;), headers and other lines are dropped.
// header is written first, as comment lines. It returns the candidate and
// the number of entries; a body that is HTML, or has no address line, is
// refused: an error page is not an empty list.
func Convert(body []byte, header string) ([]byte, int, error) {
	trim := bytes.TrimLeft(body, " \t\r\n\ufeff")
	if bytes.HasPrefix(trim, []byte("<")) {
		return nil, 0, refuse(ReasonFormat, "the feed sent HTML (%q...), not a list of addresses", printable(string(firstLine(trim))))
	}
	var out bytes.Buffer
	for _, l := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		fmt.Fprintf(&out, "# %s\n", l)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == '\r' })
		if len(f) == 0 || !addrLike.MatchString(f[0]) {
			continue
		}
		out.WriteString(f[0])
		out.WriteByte('\n')
		n++
	}
	if err := sc.Err(); err != nil {
		return nil, 0, refuse(ReasonFormat, "the feed has a line longer than 64 KiB: not a list of addresses")
	}
	if n == 0 {
		return nil, 0, refuse(ReasonFormat, "the feed holds no address or CIDR line (%d bytes); an empty or unreadable answer never empties the blocklist", len(body))
	}
	return out.Bytes(), n, nil
}

// CountEntries counts the entry lines of a blocklist file as the loader
// reads them (not blank, not only a comment).
func CountEntries(b []byte) int {
	n := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		var line []byte
		if i < 0 {
			line, b = b, nil
		} else {
			line, b = b[:i], b[i+1:]
		}
		if j := bytes.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		if len(bytes.TrimSpace(line)) > 0 {
			n++
		}
	}
	return n
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return b
}
