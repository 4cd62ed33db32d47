package providers

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/voicewall/voicewall/catalog"
	"github.com/voicewall/voicewall/lang"
	"go4.org/netipx"
)

// Drift is one provider whose ranges no longer match their source.
type Drift struct {
	Provider string `json:"provider"`
	// Kind is what it was compared with: "catalog" (its catalog entry vs
	// the ranges it pins), "overlap" (a provider written by hand whose
	// addresses fall in a catalog entry), "dns" (current answers vs the
	// last applied).
	Kind  string `json:"kind"`
	Entry string `json:"entry,omitempty"` // the catalog entry, or the DNS name
	// Missing are ranges the source has and the policy (or the kernel, for
	// dns) does not; Stale the policy's that the source no longer has.
	Missing []string `json:"missing,omitempty"`
	Stale   []string `json:"stale,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// Status is one provider's result.
type Status struct {
	Provider string   `json:"provider"`
	At       string   `json:"at"`      // the provider block: file:line
	Checked  []string `json:"checked"` // what it was compared with
	Drift    []Drift  `json:"drift,omitempty"`
	// CatalogEntry is the catalog entry it was compared with (named, or by
	// overlap) and CatalogVerified the day that entry was last checked
	// against the provider's page (or refreshed by providers update).
	CatalogEntry    string `json:"catalog_entry,omitempty"`
	CatalogVerified string `json:"catalog_verified,omitempty"`
}

// Check compares every provider of p with the catalog and, for
// signaling_dns, the answers the policy was loaded with (resolved now, or
// kept when DNS failed) with those the last apply used. It changes nothing.
func Check(p *lang.Policy, cat *catalog.Catalog, kept *Answers) []Status {
	var out []Status
	for _, pr := range p.Providers {
		st := Status{Provider: pr.Name, At: pr.Origin.Pos()}
		if pr.Catalog != "" {
			if e, ok := cat.Get(pr.Catalog); ok {
				st.Checked = append(st.Checked, "catalog "+e.Name)
				st.CatalogEntry, st.CatalogVerified = e.Name, e.Verified
				if d := pinnedDrift(pr, e); d != nil {
					st.Drift = append(st.Drift, *d)
				}
			}
		} else if e := bestOverlap(pr, cat); e != nil {
			st.Checked = append(st.Checked, "catalog "+e.Name+" (by overlap)")
			st.CatalogEntry, st.CatalogVerified = e.Name, e.Verified
			if d := overlapDrift(pr, e, cat); d != nil {
				st.Drift = append(st.Drift, *d)
			}
		}
		for _, u := range pr.DNS {
			st.Checked = append(st.Checked, "dns "+u.Name)
			if d := dnsDrift(pr.Name, u, kept); d != nil {
				st.Drift = append(st.Drift, *d)
			}
		}
		out = append(out, st)
	}
	return out
}

// DefaultMaxAge is how old a catalog entry may be before check calls it
// drift: providers move (Twilio moved all media in 2023) and a year-old copy
// of their ranges is no longer known to be current.
const DefaultMaxAge = 365 * 24 * time.Hour

// Aged adds an "age" drift to every status whose catalog entry was last
// verified more than maxAge before now (maxAge 0: never). The ranges may
// still be right; nothing says so any more.
func Aged(sts []Status, now time.Time, maxAge time.Duration) {
	if maxAge <= 0 {
		return
	}
	for i := range sts {
		s := &sts[i]
		if s.CatalogEntry == "" {
			continue
		}
		verified, err := time.Parse(time.DateOnly, s.CatalogVerified)
		if err != nil {
			continue // Validate guarantees the date; an overlay written by hand may not
		}
		age := now.Sub(verified)
		if age <= maxAge {
			continue
		}
		s.Drift = append(s.Drift, Drift{Provider: s.Provider, Kind: "age", Entry: s.CatalogEntry,
			Note: fmt.Sprintf("catalog entry %s was last verified on %s, %d days ago (more than %d): its ranges are no longer known to be current. Run voicewall providers update (it refreshes the entries providers publish machine-readable), upgrade voicewall for a newer catalog, or check the provider's page (voicewall providers show %s names it)",
				s.CatalogEntry, s.CatalogVerified, int(age.Hours()/24), int(maxAge.Hours()/24), s.CatalogEntry)})
	}
}

// Drifting tells whether any provider drifted.
func Drifting(sts []Status) bool {
	for _, s := range sts {
		if len(s.Drift) > 0 {
			return true
		}
	}
	return false
}

func setOf(ps []netip.Prefix) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, p := range ps {
		b.AddPrefix(p)
	}
	s, _ := b.IPSet()
	return s
}

// uncovered lists the prefixes of ps that have addresses outside in.
func uncovered(ps []netip.Prefix, in *netipx.IPSet) []string {
	var out []string
	for _, p := range ps {
		if !in.ContainsPrefix(p) {
			out = append(out, p.String())
		}
	}
	return out
}

// outside lists the prefixes of ps that share no address with in.
func outside(ps []netip.Prefix, in *netipx.IPSet) []string {
	var out []string
	for _, p := range ps {
		if !in.OverlapsPrefix(p) {
			out = append(out, p.String())
		}
	}
	return out
}

// pinnedDrift: ranges a catalog provider pins itself that its entry does not
// hold (old ranges kept next to the catalog's).
func pinnedDrift(pr *lang.Provider, e *catalog.Entry) *Drift {
	if e.Partial {
		return nil // the provider's other ranges are not in the entry: pinned ones are not known to be stale
	}
	stale := append(uncovered(pr.PinnedSignaling, setOf(e.SignalingPrefixes())), uncovered(pr.PinnedMedia, setOf(e.MediaPrefixes()))...)
	if len(stale) == 0 {
		return nil
	}
	return &Drift{Provider: pr.Name, Kind: "catalog", Entry: e.Name, Stale: stale,
		Note: "pinned next to catalog = \"" + e.Name + "\" but not in the entry (verified " + e.Verified + "): remove them, or tell voicewall's catalog if they are new"}
}

// bestOverlap is the catalog entry a hand-written provider is most likely:
// the one whose signaling ranges its signaling covers most, then the one
// with the fewest ranges it lacks.
func bestOverlap(pr *lang.Provider, cat *catalog.Catalog) *catalog.Entry {
	sig, media := setOf(pr.PinnedSignaling), setOf(pr.PinnedMedia)
	var best *catalog.Entry
	bestScore, bestMissing := 0, 0
	for _, e := range cat.Entries() {
		score := 0
		for _, p := range e.SignalingPrefixes() {
			if sig.OverlapsPrefix(p) {
				score++
			}
		}
		if score == 0 {
			continue
		}
		missing := len(uncovered(e.SignalingPrefixes(), sig)) + len(uncovered(e.MediaPrefixes(), media))
		if best == nil || score > bestScore || score == bestScore && missing < bestMissing {
			best, bestScore, bestMissing = e, score, missing
		}
	}
	return best
}

// overlapDrift compares a hand-written provider with the entry it matches
// best: missing are that entry's ranges the policy lacks; stale the
// policy's ranges no entry of the provider's family holds (a policy may
// list several of its regions), never for a partial family.
func overlapDrift(pr *lang.Provider, e *catalog.Entry, cat *catalog.Catalog) *Drift {
	sig, media := setOf(pr.PinnedSignaling), setOf(pr.PinnedMedia)
	missing := uncovered(e.SignalingPrefixes(), sig)
	if !pr.SymmetricRTP && !e.SymmetricRTP {
		missing = append(missing, uncovered(e.MediaPrefixes(), media)...)
	}
	var stale []string
	var famSig, famMedia []netip.Prefix
	partial := false
	for _, f := range cat.Entries() {
		if f.Family == e.Family {
			famSig, famMedia = append(famSig, f.SignalingPrefixes()...), append(famMedia, f.MediaPrefixes()...)
			partial = partial || f.Partial
		}
	}
	if !partial { // a partial family lacks some of the provider's ranges: one outside it may be current
		stale = outside(pr.PinnedSignaling, setOf(famSig))
		if len(famMedia) > 0 {
			stale = append(stale, outside(pr.PinnedMedia, setOf(famMedia))...)
		}
	}
	if len(missing)+len(stale) == 0 {
		return nil
	}
	return &Drift{Provider: pr.Name, Kind: "overlap", Entry: e.Name, Missing: missing, Stale: stale,
		Note: "written by hand, with addresses of catalog entry " + e.Name + " (verified " + e.Verified + "); catalog = \"" + e.Name + "\" keeps it current"}
}

func dnsDrift(provider string, now lang.DNSUse, kept *Answers) *Drift {
	d := &Drift{Provider: provider, Kind: "dns", Entry: now.Name}
	if now.Kept {
		d.Note = "does not resolve now (" + now.Err + "); the last answers, resolved " + now.ResolvedAt.UTC().Format(time.RFC3339) + ", are kept"
		return d
	}
	var applied []netip.Addr
	if kept != nil && kept.Names[now.Name] != nil {
		applied = kept.Names[now.Name].Applied
	}
	if applied == nil {
		d.Note = "never applied: run voicewall apply"
		d.Missing = addrStrings(now.Addrs)
		return d
	}
	d.Missing = addrDiff(now.Addrs, applied)
	d.Stale = addrDiff(applied, now.Addrs)
	if len(d.Missing)+len(d.Stale) == 0 {
		return nil
	}
	d.Note = "the answers changed since the last apply: run voicewall plan, then apply"
	return d
}

func addrDiff(a, b []netip.Addr) []string {
	in := map[netip.Addr]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x.String())
		}
	}
	sort.Strings(out)
	return out
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}
