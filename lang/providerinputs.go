package lang

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/catalog"
)

// CatalogOf is a provider catalog as a load input.
func CatalogOf(c *catalog.Catalog) Catalog { return catalogAdapter{c} }

type catalogAdapter struct{ c *catalog.Catalog }

func (a catalogAdapter) Names() []string { return a.c.Names() }

func (a catalogAdapter) Entry(name string) (CatalogEntry, bool) {
	e, ok := a.c.Get(name)
	if !ok {
		return CatalogEntry{}, false
	}
	le := CatalogEntry{
		Name: e.Name, Signaling: e.SignalingPrefixes(), Media: e.MediaPrefixes(), SymmetricRTP: e.SymmetricRTP,
		SIPPort: uint16(e.SIPPort), TLSPort: uint16(e.TLSPort), Verified: e.Verified,
	}
	if lo, hi, ok := e.SIPPortRange(); ok && hi > lo {
		le.SIPPort, le.SIPPortLast = uint16(lo), uint16(hi)
	}
	for _, t := range e.Transports {
		le.Transports = append(le.Transports, Transport(t))
	}
	if len(e.Sources) > 0 {
		le.Source = e.Sources[0].URL
	}
	return le, true
}

// Catalog is the provider catalog as lang needs it.
type Catalog interface {
	Entry(name string) (CatalogEntry, bool)
	Names() []string
}

// CatalogEntry is one catalog provider: its published ranges and defaults.
type CatalogEntry struct {
	Name         string
	Signaling    []netip.Prefix
	Media        []netip.Prefix
	Transports   []Transport // empty: the provider block's default
	SIPPort      uint16      // 0: default
	SIPPortLast  uint16      // a range SIPPort..SIPPortLast (0: SIPPort alone)
	TLSPort      uint16      // 0: default
	SymmetricRTP bool
	Source       string // the first source URL, for comments
	Verified     string // YYYY-MM-DD
}

// DNSAnswer is what a signaling_dns name resolved to.
type DNSAnswer struct {
	Addrs      []netip.Addr
	ResolvedAt time.Time
	// Kept: the lookup failed now and these are the last answers kept.
	Kept bool
	Err  string // why the lookup failed (Kept, or no answer at all)
}

// DNSUse is one signaling_dns name as the policy used it.
type DNSUse struct {
	Name       string
	Addrs      []netip.Addr
	ResolvedAt time.Time
	Kept       bool
	Err        string // why the lookup failed now (Kept)
	Range      hcl.Range
}

// DNSUses lists the signaling_dns answers every provider used, by provider
// then name, for output headers and plan notes.
func (p *Policy) DNSUses() []DNSUse {
	var out []DNSUse
	for _, pr := range p.Providers {
		out = append(out, pr.DNS...)
	}
	return out
}

// DNSNamesOf lists the distinct signaling_dns names of a load, sorted.
func (l *Loaded) dnsNamesSorted(names map[string]bool) []string {
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// catalogProvider applies `catalog = "NAME"` and `signaling_dns` to pr.
// literalSig and literalMedia are what the block wrote itself.
func (d *decoder) providerInputs(pr *Provider, b *rawBlock, literalSig, literalMedia []netip.Prefix) (entry *CatalogEntry) {
	pr.PinnedSignaling, pr.PinnedMedia = literalSig, literalMedia
	sig := append([]netip.Prefix{}, literalSig...)
	media := append([]netip.Prefix{}, literalMedia...)
	if a := b.attrs["catalog"]; a != nil {
		if v, ok := d.str(a); ok {
			entry = d.catalogEntry(v, pr.Name)
			if entry != nil {
				pr.Catalog = entry.Name
				pr.CatalogSource, pr.CatalogVerified = entry.Source, entry.Verified
				sig = append(sig, entry.Signaling...)
				media = append(media, entry.Media...)
				d.noteWhitelistAt(pr.Name, "signaling", entry.Signaling, a.Expr.Range())
				d.noteWhitelistAt(pr.Name, "media", entry.Media, a.Expr.Range())
				if len(literalSig)+len(literalMedia) > 0 {
					d.add(warnf(IDCatalogExtra, a.Expr.Range(), "Ranges added to a catalog provider",
						"provider %q takes its ranges from catalog entry %q (verified %s) and also lists its own signaling or media; those are added to the catalog's. If they are the provider's new ranges, say so to voicewall's catalog; if they are old ones, remove them (`voicewall providers check` compares them).", pr.Name, entry.Name, entry.Verified))
				}
			}
		}
	}
	if a := b.attrs["signaling_dns"]; a != nil {
		if items, ok := d.strList(a); ok {
			if len(items) == 0 {
				d.add(errorf(IDBadValue, a.Expr.Range(), "Empty signaling_dns list", "list the provider's SIP host names, e.g. [\"sip.example.com\", \"_sips._tcp.example.com\"], or remove signaling_dns."))
			}
			seen := map[string]bool{}
			for _, it := range items {
				name := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(it.s), "."))
				if !validDNSName(name) {
					d.add(errorf(IDBadValue, it.rng, "Bad DNS name", "%q is not a host name; write e.g. \"sip.example.com\" or an SRV name \"_sips._tcp.example.com\".", it.s))
					continue
				}
				if seen[name] {
					d.add(errorf(IDDuplicate, it.rng, "Duplicate DNS name", "%q is listed twice.", it.s))
					continue
				}
				seen[name] = true
				d.dnsNames[name] = true
				if d.opts.DNS == nil {
					// Not resolved: the caller collects the names (and loads again
					// with answers). Never a policy that silently lacks them.
					d.add(errorf(IDDNSMissing, it.rng, "signaling_dns not resolved",
						"this load was given no DNS answers, so provider %q has no addresses from %q. voicewall's commands resolve signaling_dns themselves; a program using lang must resolve Loaded.DNSNames and load again with LoadOptions.DNS.", pr.Name, name))
					continue
				}
				ans, ok := d.opts.DNS[name]
				if !ok || len(ans.Addrs) == 0 {
					why := "it was not resolved"
					if ans.Err != "" {
						why = ans.Err
					}
					d.add(errorf(IDDNSMissing, it.rng, "No DNS answer and none kept",
						"signaling_dns %q has no answer (%s) and no earlier answer is kept, so provider %q would have no signaling addresses from it. Check the name and the resolver (/etc/resolv.conf; /etc/netns/NAME/resolv.conf under ip netns exec), or list the addresses in signaling.", name, Printable(why, 200, false), pr.Name))
					continue
				}
				if ans.Kept {
					age := "unknown age"
					if !d.opts.Now.IsZero() && !ans.ResolvedAt.IsZero() {
						age = d.opts.Now.Sub(ans.ResolvedAt).Truncate(time.Second).String() + " old"
					}
					d.add(warnf(IDDNSKept, it.rng, "DNS failed: last answers kept",
						"signaling_dns %q did not resolve now (%s); provider %q keeps the last answers, resolved %s (%s): %s. The set is never emptied by a failed lookup; fix the resolver to pick up changes.", name, Printable(ans.Err, 200, false), pr.Name, ans.ResolvedAt.UTC().Format(time.RFC3339), age, addrList(ans.Addrs)))
				}
				var used []netip.Addr
				for _, ad := range ans.Addrs {
					ad = ad.Unmap()
					// An answer no provider can send from (a resolver's sinkhole,
					// a misconfigured zone) is never admitted.
					if !ad.IsValid() || ad.IsUnspecified() || ad.IsLoopback() || ad.IsMulticast() || ad.IsLinkLocalUnicast() || ad.IsInterfaceLocalMulticast() {
						d.add(warnf(IDDNSKept, it.rng, "DNS answer ignored",
							"signaling_dns %q answered %s, which no provider sends SIP from (unspecified, loopback, multicast or link-local); it is not admitted. Check the zone and the resolver.", name, ad))
						continue
					}
					used = append(used, ad)
					sig = append(sig, netip.PrefixFrom(ad, ad.BitLen()))
				}
				if len(used) == 0 {
					d.add(errorf(IDDNSMissing, it.rng, "No usable DNS answer", "signaling_dns %q has no address a provider can send from; provider %q would have no signaling addresses from it.", name, pr.Name))
					continue
				}
				pr.DNS = append(pr.DNS, DNSUse{Name: name, Addrs: used, ResolvedAt: ans.ResolvedAt, Kept: ans.Kept, Err: ans.Err, Range: it.rng})
			}
		}
	}
	pr.Signaling = NewAddrSet(sig...)
	pr.Media = NewAddrSet(media...)
	return entry
}

func (d *decoder) catalogEntry(v strItem, provider string) *CatalogEntry {
	name := strings.TrimSpace(v.s)
	if d.opts.Catalog == nil {
		d.add(errorf(IDUnknownCatalog, v.rng, "No provider catalog", "provider %q names catalog entry %q, but this load was given no catalog. voicewall itself always passes its catalog; a program using lang must set LoadOptions.Catalog.", provider, name))
		return nil
	}
	e, ok := d.opts.Catalog.Entry(name)
	if !ok {
		if regions := entriesOf(name, d.opts.Catalog.Names()); len(regions) > 0 {
			d.add(errorf(IDUnknownCatalog, v.rng, "Catalog entries are per region",
				"%q has several catalog entries, one per region or product: %s. Name the one your trunk uses; where the provider fails over between regions, the entry that covers all of them (`voicewall providers list` shows each entry's region).", name, strings.Join(regions, ", ")))
			return nil
		}
		d.add(errorf(IDUnknownCatalog, v.rng, "Unknown catalog entry",
			"%q is not in voicewall's provider catalog.%s List the entries with `voicewall providers list`, or write the provider's signaling and media yourself.", name, suggest(name, d.opts.Catalog.Names())))
		return nil
	}
	return &e
}

// entriesOf are the catalog entries named provider-REGION for a provider
// name: "twilio" gives twilio-all, twilio-apac, ...
func entriesOf(provider string, names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, strings.ToLower(provider)+"-") {
			out = append(out, n)
		}
	}
	return out
}

func addrList(as []netip.Addr) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}

// validDNSName accepts host names and SRV owner names (labels may start
// with an underscore).
func validDNSName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return strings.Contains(s, ".")
}

// String renders an answer for headers: "name -> a, b (resolved T)".
func (u DNSUse) String() string {
	kept := ""
	if u.Kept {
		kept = ", kept: DNS failed"
	}
	return fmt.Sprintf("%s -> %s (resolved %s%s)", u.Name, addrList(u.Addrs), u.ResolvedAt.UTC().Format(time.RFC3339), kept)
}
