package feeds

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"strings"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/lang"
)

// globalUnicast6 is where all public IPv6 lives: a v6 list's share is of
// this space, so "most of the Internet" means the same in both families.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// entry is one line of a candidate list.
type entry struct {
	line   int
	text   string
	prefix netip.Prefix
}

// candidateEntries reads the entries of a candidate that the loader has
// accepted (so every entry line parses).
func candidateEntries(b []byte) []entry {
	var out []entry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for n := 1; sc.Scan(); n++ {
		t := sc.Text()
		if i := strings.IndexByte(t, '#'); i >= 0 {
			t = t[:i]
		}
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(t, "/") {
			p, err = netip.ParsePrefix(t)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(t); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			continue
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, entry{n, t, p.Masked()})
	}
	return out
}

func entryPrefixes(es []entry) []netip.Prefix {
	out := make([]netip.Prefix, len(es))
	for i, e := range es {
		out[i] = e.prefix
	}
	return out
}

// share is the fraction of its family's space a prefix covers: of all
// IPv4, or of IPv6's global unicast 2000::/3.
func share(p netip.Prefix) float64 {
	if p.Addr().Is4() {
		return math.Ldexp(1, -p.Bits())
	}
	switch {
	case p.Bits() <= globalUnicast6.Bits():
		if p.Contains(globalUnicast6.Addr()) {
			return 1
		}
		return 0
	case globalUnicast6.Contains(p.Addr()):
		return math.Ldexp(1, -(p.Bits() - globalUnicast6.Bits()))
	}
	return 0
}

// setShare is the share of the merged set, per family.
func setShare(s lang.AddrSet, v6 bool) float64 {
	t := 0.0
	for _, p := range s.Prefixes(v6) {
		t += share(p)
	}
	return t
}

func pct(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", f*100), "0"), ".") + "%"
}

// guard checks a candidate the policy accepted (the gateway's addresses
// first, then the policy's own: the first one covered is reported): display names the file,
// merged is the blocklist's whole set with the candidate in place,
// lastGood the entry count of the file it would replace (-1: none yet).
func guard(f lang.NamedFeed, display string, cand []byte, merged lang.AddrSet, gateway []live.Protected, p *lang.Policy, lastGood int) *Refusal {
	entries := candidateEntries(cand)
	for _, g := range gateway {
		for _, e := range entries {
			if e.prefix.Overlaps(g.Prefix) {
				return refuse(ReasonProtected, "%s:%d: %s covers %s, the %s: the list would cut it off", display, e.line, e.text, g.Prefix, g.What)
			}
		}
	}
	// The policy's own addresses, as lang decides them for bans and feeds.
	for _, e := range entries {
		if x, ok := p.Protected(e.prefix); ok {
			return refuse(ReasonProtected, "%s:%d: %s covers %s: the list would cut it off", display, e.line, e.text, x)
		}
	}
	for _, e := range entries {
		if s := share(e.prefix); s > f.MaxShare {
			return refuse(ReasonShare, "%s:%d: %s alone covers %s of the %s address space, more than max_share = %q allows", display, e.line, e.text, pct(s), family(e.prefix.Addr().Is6()), pct(f.MaxShare))
		}
	}
	for _, v6 := range []bool{false, true} {
		if s := setShare(merged, v6); s > f.MaxShare {
			return refuse(ReasonShare, "%s: its entries together cover %s of the %s address space, more than max_share = %q allows (a real scanner feed covers a tiny fraction; this is what cutting the gateway off looks like)", display, pct(s), family(v6), pct(f.MaxShare))
		}
	}
	if lastGood > 0 {
		n := len(entries)
		base := func(x int) float64 { return float64(max(x, lang.MinChangeBase)) }
		switch {
		case n == 0:
			return refuse(ReasonChange, "%s: the new list is empty and the last good one has %d entries", display, lastGood)
		case base(n) > base(lastGood)*f.MaxChange:
			return refuse(ReasonChange, "%s: the list grew from %d to %d entries, more than max_change = %g allows", display, lastGood, n, f.MaxChange)
		case float64(n)*f.MaxChange < float64(lastGood):
			return refuse(ReasonChange, "%s: the list shrank from %d to %d entries, more than max_change = %g allows", display, lastGood, n, f.MaxChange)
		}
	}
	return nil
}

func family(v6 bool) string {
	if v6 {
		return "IPv6 global unicast (2000::/3)"
	}
	return "IPv4"
}
