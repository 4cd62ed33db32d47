package lang

// "Any" in pieces. A whitelist that is 0.0.0.0/0 in one entry is VW012; so
// is one that covers as much in several: ["0.0.0.0/1", "128.0.0.0/1"], two
// providers with a /1 each, ["::/1", "8000::/1"]. Beyond all of an address
// family, a whitelist that covers more than a sane share of it is no
// whitelist either. The share, decided from real providers' published
// ranges:
//
//   - IPv4: more than 2^24 addresses (a /8's worth). The widest range a
//     real VoIP provider publishes is Twilio's global media range
//     168.86.128.0/18 (16,384 addresses, https://www.twilio.com/docs/voice/voice-media-ip-expansion-security-faq,
//     2023); a /8's worth is 1,024 times that.
//   - IPv6: more than 2^112 addresses (a /16's worth). Providers publish
//     /32 to /64 ranges; a regional registry's own allocation from IANA is
//     a /12, so a /16's worth is a sixteenth of a whole region.
//
// The union is measured per provider and attribute (its signaling, its
// media) and over every provider's signaling and media together. Each
// error lists every range that contributes, located at its file:line:col.

import (
	"fmt"
	"math/big"
	"net/netip"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Whitelist share limits: more than this many addresses of a family is the
// VW012 error.
var (
	maxWhitelist4 = new(big.Int).Lsh(big.NewInt(1), 24)  // a /8's worth
	maxWhitelist6 = new(big.Int).Lsh(big.NewInt(1), 112) // a /16's worth
)

// whitelistPiece is one range a provider lists, where it is written.
type whitelistPiece struct {
	pfx      netip.Prefix
	rng      hcl.Range
	provider string
	attr     string // "signaling" or "media"
}

// familyBits is the address length of a family.
func familyBits(v6 bool) int {
	if v6 {
		return 128
	}
	return 32
}

// prefixesSize is the number of addresses the pieces of one family cover,
// overlaps counted once (AddrSet merges them).
func prefixesSize(ps []whitelistPiece, v6 bool) *big.Int {
	pfx := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		pfx = append(pfx, p.pfx)
	}
	n := new(big.Int)
	for _, p := range NewAddrSet(pfx...).Prefixes(v6) {
		n.Add(n, new(big.Int).Lsh(big.NewInt(1), uint(familyBits(v6)-p.Bits())))
	}
	return n
}

// wideWhitelist checks the union of pieces per family and returns the
// VW012 errors (nil when within the share). scope says whose whitelist it
// is ("provider \"a\" signaling", "all providers together").
func wideWhitelist(pieces []whitelistPiece, scope string) (hcl.Diagnostics, []whitelistPiece) {
	var out hcl.Diagnostics
	var involved []whitelistPiece
	for _, v6 := range []bool{false, true} {
		size := prefixesSize(pieces, v6)
		limit, fam, share := maxWhitelist4, "IPv4", "a /8's worth (16,777,216 addresses)"
		if v6 {
			limit, fam, share = maxWhitelist6, "IPv6", "a /16's worth"
		}
		if size.Cmp(limit) <= 0 {
			continue
		}
		var fam6 []whitelistPiece
		for _, p := range pieces {
			if p.pfx.Addr().Is6() == v6 {
				fam6 = append(fam6, p)
			}
		}
		// Widest first: the pieces that matter most lead.
		sort.SliceStable(fam6, func(i, j int) bool { return fam6[i].pfx.Bits() < fam6[j].pfx.Bits() })
		all := new(big.Int).Lsh(big.NewInt(1), uint(familyBits(v6)))
		how := "covers all of " + fam
		if size.Cmp(all) < 0 {
			how = fmt.Sprintf("covers %s of %s, more than %s", shareText(size, all), fam, share)
		}
		var b strings.Builder
		const shown = 12
		for i, p := range fam6 {
			if i == shown {
				fmt.Fprintf(&b, "\n  ... and %d more", len(fam6)-shown)
				break
			}
			fmt.Fprintf(&b, "\n  %s:%d:%d: %q (provider %q %s)", p.rng.Filename, p.rng.Start.Line, p.rng.Start.Column, p.pfx.String(), p.provider, p.attr)
		}
		d := errorf(IDAnyWhitelist, fam6[0].rng, "\"Any\" is not a whitelist",
			"The %s whitelist of %s %s: together its ranges admit SIP or RTP from a large part of the Internet, as \"any\" would. List the providers' published addresses instead (see their interconnect guides). The ranges:%s",
			fam, scope, how, b.String())
		out = append(out, d)
		involved = append(involved, fam6...)
	}
	return out, involved
}

// shareText says how much of the family size is ("1/2", "3/4", "0.4%").
func shareText(size, all *big.Int) string {
	f, _ := new(big.Rat).SetFrac(size, all).Float64()
	if f >= 0.01 {
		return fmt.Sprintf("%.0f%%", f*100)
	}
	return fmt.Sprintf("%.3g%%", f*100)
}

// checkWhitelistShares runs after every provider is decoded: each
// provider's signaling and media on their own, then all of them together
// (only when no provider alone was already too wide).
func (d *decoder) checkWhitelistShares() {
	var all, involved []whitelistPiece
	var errs hcl.Diagnostics
	for _, key := range d.whitelistOrder {
		ps := d.whitelists[key]
		all = append(all, ps...)
		e, in := wideWhitelist(ps, fmt.Sprintf("provider %q (%s)", ps[0].provider, ps[0].attr))
		errs, involved = append(errs, e...), append(involved, in...)
	}
	if len(errs) == 0 {
		errs, involved = wideWhitelist(all, "all providers together (signaling and media)")
	}
	if len(errs) == 0 {
		return
	}
	// A range that is part of the error needs no "very broad" warning too.
	inErr := map[hcl.Pos]string{}
	for _, p := range involved {
		inErr[p.rng.Start] = p.rng.Filename
	}
	kept := d.diags[:0]
	for _, x := range d.diags {
		if FindingID(x) == IDBroadProvider && x.Subject != nil && inErr[x.Subject.Start] == x.Subject.Filename {
			continue
		}
		kept = append(kept, x)
	}
	d.diags = append(kept, errs...)
}

// noteWhitelist records the ranges a provider attribute lists, for
// checkWhitelistShares.
func (d *decoder) noteWhitelist(provider, attr string, pfx []netip.Prefix, items []strItem) {
	if len(pfx) == 0 {
		return
	}
	if d.whitelists == nil {
		d.whitelists = map[string][]whitelistPiece{}
	}
	key := provider + "\x00" + attr
	if _, ok := d.whitelists[key]; !ok {
		d.whitelistOrder = append(d.whitelistOrder, key)
	}
	for i, p := range pfx {
		d.whitelists[key] = append(d.whitelists[key], whitelistPiece{pfx: p, rng: items[i].rng, provider: provider, attr: attr})
	}
}

// noteWhitelistAt records ranges that all come from one place (a catalog
// entry, located at the provider's catalog attribute).
func (d *decoder) noteWhitelistAt(provider, attr string, pfx []netip.Prefix, rng hcl.Range) {
	items := make([]strItem, len(pfx))
	for i, p := range pfx {
		items[i] = strItem{s: p.String(), rng: rng}
	}
	d.noteWhitelist(provider, attr, pfx, items)
}
