package nftables

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/voicewall/voicewall/lang"
	"go4.org/netipx"
)

// Render writes the table exactly as `nft list table inet voicewall` prints
// it after loading (counters at zero), so the kernel's listing can be
// compared with the compiled text byte for byte.
func Render(t *Table) string { return string(RenderBytes(t)) }

// RenderBytes is Render without the final copy into a string: at a million
// blocklist entries every avoided copy is tens of megabytes.
func RenderBytes(t *Table) []byte { return appendTable(nil, t) }

// FileHeader comes before the table in the compiled file. The two commands
// at its end make the file reloadable in one `nft -f` transaction: the
// first declares the table (a no-op when it exists), the second deletes it
// whatever it holds, and the table definition then recreates it exactly.
// nft applies the file as one batch, so no packet sees the table missing,
// and an error anywhere leaves the old table in place. Debian 12's nft
// 1.0.6 has no `destroy table` (nft 1.0.8, kernel 6.3), so the
// declare-then-delete idiom is the one that works everywhere.
const FileHeader = `# voicewall: the table inet voicewall compiled from the policy.
# Load with "nft -f nftables.nft" or include it from /etc/nftables.conf:
# every load replaces the whole table atomically (counters and the SIP
# rate-limit meter start again from zero); nothing outside it is touched.
table ` + TableFamily + " " + TableName + `
delete table ` + TableFamily + " " + TableName + `
`

// RenderFile is the compiled file: FileHeader, then the table exactly as
// Render writes it (principle 2 holds for the part after the header).
func RenderFile(t *Table) []byte {
	return appendTable([]byte(FileHeader), t)
}

// RenderFileNoted is RenderFile with notes (the signaling_dns answers the
// table holds, with their resolution time) as comment lines after the
// header's comments; without notes it is RenderFile.
func RenderFileNoted(t *Table, notes []string) []byte {
	if len(notes) == 0 {
		return RenderFile(t)
	}
	head, cmds, _ := strings.Cut(FileHeader, "table ")
	var b strings.Builder
	b.WriteString(head)
	b.WriteString("# Provider addresses from DNS (fixed here until the next compile):\n")
	for _, n := range notes {
		b.WriteString("#   - " + commentText(n) + "\n")
	}
	b.WriteString("table " + cmds)
	return appendTable([]byte(b.String()), t)
}

// commentText keeps a note on its comment line.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// appendTable appends the table text to dst, growing it once for the
// expected size.
func appendTable(dst []byte, t *Table) []byte {
	b := &buffer{b: append(make([]byte, 0, len(dst)+4096+34*elementCount(t)), dst...)}
	b.WriteString("table " + TableFamily + " " + TableName + " {\n")
	first := true
	block := func() {
		if !first {
			b.writeByte('\n')
		}
		first = false
	}
	for _, s := range t.Sets {
		block()
		renderSet(b, s)
	}
	for _, c := range t.Chains {
		block()
		renderChain(b, c)
	}
	b.WriteString("}\n")
	return b.b
}

// buffer is an append-only byte buffer with the strings.Builder methods
// the renderer uses.
type buffer struct{ b []byte }

func (w *buffer) WriteString(s string) { w.b = append(w.b, s...) }
func (w *buffer) writeByte(c byte)     { w.b = append(w.b, c) }
func (w *buffer) Write(p []byte)       { w.b = append(w.b, p...) }

func elementCount(t *Table) int {
	n := 0
	for _, s := range t.Sets {
		n += len(s.Elements)
	}
	return n
}

func renderSet(b *buffer, s *Set) {
	b.WriteString("\tset " + s.Name + " {\n")
	b.WriteString("\t\ttype " + string(s.Type) + "\n")
	if s.Dynamic {
		b.WriteString("\t\tsize " + strconv.FormatUint(uint64(s.Size), 10) + "\n")
		b.WriteString("\t\tflags dynamic,timeout\n")
		b.WriteString("\t\ttimeout " + s.Timeout + "\n")
	} else if s.Live {
		if s.Interval {
			b.WriteString("\t\tflags interval,timeout\n")
		} else {
			b.WriteString("\t\tflags timeout\n")
		}
	} else {
		b.WriteString("\t\tflags interval\n")
		if len(s.Elements) > 0 {
			b.WriteString("\t\telements = { ")
			// nft breaks IPv4 address lists after every second element
			// and IPv6 lists after every element.
			perLine := 2
			if s.V6() {
				perLine = 1
			}
			for i, r := range s.Elements {
				if i > 0 {
					if i%perLine == 0 {
						b.WriteString(",\n\t\t\t     ")
					} else {
						b.WriteString(", ")
					}
				}
				b.b = AppendRange(b.b, r)
			}
			b.WriteString(" }\n")
		}
	}
	b.WriteString("\t}\n")
}

// AppendRange writes an interval as nft prints it: a prefix when the range
// is exactly one (a host without /32 or /128), else "first-last".
func AppendRange(buf []byte, r netipx.IPRange) []byte {
	if p, ok := r.Prefix(); ok {
		buf = p.Addr().AppendTo(buf)
		if p.Bits() != p.Addr().BitLen() {
			buf = append(buf, '/')
			buf = strconv.AppendInt(buf, int64(p.Bits()), 10)
		}
		return buf
	}
	buf = r.From().AppendTo(buf)
	buf = append(buf, '-')
	return r.To().AppendTo(buf)
}

func renderChain(b *buffer, c *Chain) {
	b.WriteString("\tchain " + c.Name + " {\n")
	if c.Base() {
		b.WriteString("\t\ttype " + c.Type + " hook " + c.Hook + " priority " + c.Priority + "; policy " + c.Policy + ";\n")
	}
	for _, r := range c.Rules {
		b.WriteString("\t\t")
		b.WriteString(RuleText(r))
		b.writeByte('\n')
	}
	b.WriteString("\t}\n")
}

// RuleText is one rule as nft lists it.
func RuleText(r *Rule) string {
	parts := make([]string, 0, len(r.Stmts)+1)
	for _, s := range r.Stmts {
		parts = append(parts, StmtText(s))
	}
	if r.Comment != "" {
		parts = append(parts, "comment "+quoted(r.Comment, maxComment))
	}
	return strings.Join(parts, " ")
}

func ipFamily(v6 bool) string {
	if v6 {
		return "ip6"
	}
	return "ip"
}

// StmtText renders one statement.
func StmtText(s Stmt) string {
	switch s := s.(type) {
	case MatchIface:
		kw := "iifname"
		if s.Out {
			kw = "oifname"
		}
		if s.Neg {
			return kw + " != " + quoted(s.Name, maxIfname)
		}
		return kw + " " + quoted(s.Name, maxIfname)
	case MatchCtState:
		return "ct state " + strings.Join(s.States, ",")
	case MatchNfproto:
		if s.V6 {
			return "meta nfproto ipv6"
		}
		return "meta nfproto ipv4"
	case MatchAddrSet:
		return ipFamily(s.V6) + " " + string(s.Dir) + "addr @" + s.Set
	case MatchPorts:
		return s.Proto.String() + " " + string(s.Dir) + "port " + portsText(s.Ranges)
	case MeterLimit:
		t := "update @" + s.Set + " { " + ipFamily(s.V6) + " saddr limit rate over " + rateText(s.Rate)
		if s.Burst != 5 { // nft's default burst is not printed
			t += " burst " + strconv.FormatUint(uint64(s.Burst), 10) + " packets"
		}
		return t + " }"
	case Limit:
		return "limit rate " + rateText(s.Rate)
	case Log:
		return "log prefix " + quoted(s.Prefix, maxLogPrefix)
	case Counter:
		return "counter packets 0 bytes 0"
	case SetDSCP:
		return ipFamily(s.V6) + " dscp set " + s.Class
	case DNAT:
		return "dnat " + ipFamily(s.Addr.Is6()) + " to " + s.Addr.String()
	case Verdict:
		if s.Kind == "jump" {
			return "jump " + s.Chain
		}
		return s.Kind
	}
	panic("nftables: unknown statement")
}

// Limits nft and the kernel put on the strings voicewall writes: comments
// are userdata of NFTNL_UDATA_COMMENT_MAXLEN bytes, interface names
// IFNAMSIZ-1, log prefixes NF_LOG_PREFIXLEN-1.
const (
	maxComment   = 128
	maxIfname    = 15
	maxLogPrefix = 127
)

// quoted is the one writer of nft strings: nft's scanner ends a quoted
// string at the next '"' and knows no escapes, so a quote or a line break in
// a file name or label would end the comment and start a rule. Text is made
// safe (see safeText) rather than refused: lang has validated every name
// already, so what this changes is free text such as file names.
func quoted(s string, max int) string { return `"` + safeText(s, max) + `"` }

// safeText keeps printable characters except '"' and '\' (nft versions
// differ on backslashes), turns everything else (control characters, line
// and paragraph separators, bidi overrides) into '_', and cuts the result
// to max bytes on a character boundary. It is idempotent, so text made safe
// in the IR (which apply sends over netlink) renders unchanged.
func safeText(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if r == '"' || r == '\\' || r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '_'
		}
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

func rateText(r lang.Rate) string { return strconv.FormatUint(uint64(r.Count), 10) + "/" + r.Unit }

func portsText(rs []lang.PortRange) string {
	if len(rs) == 1 {
		return rs[0].String()
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}
