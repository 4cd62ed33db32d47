package providers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"go4.org/netipx"

	"github.com/voicewall/voicewall/catalog"
	"github.com/voicewall/voicewall/feeds"
)

// UpdateSource is a provider's machine-readable range list.
type UpdateSource struct {
	Entry string // the catalog entry it refreshes
	// Kind is the format: "lines" (one address or CIDR a line: Zoom's
	// range files), "m365" (Microsoft's 365 endpoints web service JSON) or
	// "didww" (DIDWW's voice.json: signaling only).
	Kind string
	URL  string
	// VersionURL is the m365 version endpoint: an unchanged version is not
	// downloaded again.
	VersionURL string
}

// m365Client is the clientrequestid Microsoft's web service asks callers to
// send (a GUID per client); one fixed value identifies voicewall.
const m365Client = "b0f4b8e0-3c5a-4b5e-9d0a-7e1c2f3a4b5c"

// DefaultSources are the machine-readable lists providers publish.
var DefaultSources = []UpdateSource{
	{Entry: "zoom-phone", Kind: "lines", URL: "https://assets.zoom.us/docs/ipranges/ZoomPhone.txt"},
	{Entry: "microsoft-teams", Kind: "m365",
		URL:        "https://endpoints.office.com/endpoints/worldwide?ServiceAreas=Skype&clientrequestid=" + m365Client,
		VersionURL: "https://endpoints.office.com/version/worldwide?clientrequestid=" + m365Client},
	{Entry: "didww", Kind: "didww", URL: "https://doc.didww.com/voice.json"},
}

// Guards on a downloaded list.
const (
	maxUpdateBytes  = 1 << 20 // the files are a few kilobytes
	maxUpdateRanges = 2000
)

// templates give a refreshed entry what the machine-readable file does not
// say (transports, ports, notes); the catalog's own entry of that name wins.
var templates = map[string]catalog.Entry{
	"zoom-phone": {Name: "zoom-phone", Provider: "Zoom Phone (BYOC premises peering)", Region: "all", Family: "zoom",
		Transports: []string{"tls"}, TLSPort: 5061,
		Notes: "From Zoom's own range file for Zoom Phone, which does not split signaling from media: both are the whole list. BYOC peering is TLS (5061) with SRTP."},
}

// Outcome is one source's result.
type Outcome struct {
	Entry   string `json:"entry"`
	URL     string `json:"url"`
	Status  string `json:"status"` // "updated", "unchanged", "refused"
	Version string `json:"version,omitempty"`
	Ranges  int    `json:"ranges,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Added and Removed are the ranges the list gained and lost against
	// the entry it replaces (the last good update, else the embedded one).
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

// UpdateOptions configure Update.
type UpdateOptions struct {
	LibDir  string
	Sources []UpdateSource // nil: DefaultSources
	Fetcher *feeds.Fetcher // nil: the default (system CA store, https only)
	Now     time.Time
	// AllowShrink names the entries whose new list may drop more than
	// half of the addresses of the one it replaces (normally refused).
	AllowShrink []string
}

// minKept is the share of a provider's addresses (per family) a new list
// must keep: unattended, a list that suddenly loses most of a provider's
// network is more likely broken than true, and applying it would drop the
// provider's calls.
const minKept = 0.5

// Update downloads every source, checks it (https, size, complete body, a
// list of public ranges, not empty, the whole catalog still valid with it)
// and writes the accepted entries into the overlay under LibDir; a refused
// source keeps its last good entry (or the embedded one). The overlay file
// is replaced atomically, never half-written.
func Update(ctx context.Context, o UpdateOptions) ([]Outcome, error) {
	srcs := o.Sources
	if srcs == nil {
		srcs = DefaultSources
	}
	f := o.Fetcher
	if f == nil {
		f = &feeds.Fetcher{}
	}
	if f.MaxBytes == 0 || f.MaxBytes > maxUpdateBytes {
		cp := *f
		cp.MaxBytes = maxUpdateBytes
		f = &cp
	}
	base, err := embedded()
	if err != nil {
		return nil, err
	}
	prev, err := ReadOverlay(o.LibDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		prev = nil // a broken overlay is replaced by what validates now
	}
	kept := map[string]*catalog.Entry{}
	meta := map[string]UpdatedSource{}
	if prev != nil {
		for _, e := range prev.Entries {
			kept[e.Name] = e
		}
		for _, s := range prev.Sources {
			meta[s.Entry] = s
		}
	}
	var out []Outcome
	changed := false
	for _, s := range srcs {
		res := Outcome{Entry: s.Entry, URL: s.URL}
		e, version, err := fetchEntry(ctx, f, s, base, meta[s.Entry], o.Now)
		switch {
		case err != nil:
			res.Status, res.Reason = "refused", err.Error()
		case e == nil:
			res.Status, res.Version = "unchanged", version
		default:
			old := kept[e.Name]
			if old == nil {
				old, _ = base.Get(e.Name)
			}
			if old != nil {
				res.Added, res.Removed = rangeDiff(old, e)
				if why := shrinks(old, e); why != "" && !slices.Contains(o.AllowShrink, e.Name) {
					res.Status, res.Reason = "refused", why+"; if the provider really retired them, run voicewall providers update --allow-shrink "+e.Name
					break
				}
			}
			trial := map[string]*catalog.Entry{}
			for k, v := range kept {
				trial[k] = v
			}
			trial[e.Name] = e
			if _, err := base.Overlay(values(trial)); err != nil {
				res.Status, res.Reason = "refused", "the catalog would not validate with it: "+err.Error()
				break
			}
			kept = trial
			meta[s.Entry] = UpdatedSource{Entry: s.Entry, URL: s.URL, Version: version, FetchedAt: o.Now.UTC(), Ranges: len(e.Signaling)}
			res.Status, res.Version, res.Ranges = "updated", version, len(e.Signaling)
			changed = true
		}
		out = append(out, res)
	}
	if err := recordUpdates(o.LibDir, out, o.Now); err != nil {
		return out, fmt.Errorf("writing %s: %w", UpdateStatePath(o.LibDir), err)
	}
	if changed {
		ov := &Overlay{Updated: o.Now.UTC(), Entries: values(kept)}
		for _, m := range meta {
			ov.Sources = append(ov.Sources, m)
		}
		sort.Slice(ov.Sources, func(i, j int) bool { return ov.Sources[i].Entry < ov.Sources[j].Entry })
		if err := writeJSON(OverlayPath(o.LibDir), ov); err != nil {
			return out, fmt.Errorf("writing %s: %w", OverlayPath(o.LibDir), err)
		}
	}
	return out, nil
}

func values(m map[string]*catalog.Entry) []*catalog.Entry {
	out := make([]*catalog.Entry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// fetchEntry downloads one source and builds its entry; nil, version when
// the source says it has not changed since last.
func fetchEntry(ctx context.Context, f *feeds.Fetcher, s UpdateSource, base *catalog.Catalog, last UpdatedSource, now time.Time) (*catalog.Entry, string, error) {
	version := ""
	var ranges []netip.Prefix
	switch s.Kind {
	case "lines":
		body, err := f.FetchURL(ctx, s.URL, false)
		if err != nil {
			return nil, "", err
		}
		if ranges, err = parseLines(body); err != nil {
			return nil, "", err
		}
	case "m365":
		if s.VersionURL != "" {
			body, err := f.FetchURL(ctx, s.VersionURL, false)
			if err != nil {
				return nil, "", err
			}
			var v struct {
				Latest string `json:"latest"`
			}
			if err := json.Unmarshal(body, &v); err != nil || v.Latest == "" || len(v.Latest) > 32 {
				return nil, "", fmt.Errorf("%s: not the 365 endpoints version answer", s.VersionURL)
			}
			version = v.Latest
			if version == last.Version && last.URL == s.URL {
				return nil, version, nil
			}
		}
		body, err := f.FetchURL(ctx, s.URL, false)
		if err != nil {
			return nil, "", err
		}
		if ranges, err = parseM365(body); err != nil {
			return nil, "", err
		}
	case "didww":
		body, err := f.FetchURL(ctx, s.URL, false)
		if err != nil {
			return nil, "", err
		}
		if ranges, version, err = parseDIDWW(body); err != nil {
			return nil, "", err
		}
		if version != "" && version == last.Version && last.URL == s.URL {
			return nil, version, nil
		}
	default:
		return nil, "", fmt.Errorf("unknown source kind %q", s.Kind)
	}
	if len(ranges) == 0 {
		return nil, "", errors.New("the list is empty; the last good ranges stay")
	}
	if len(ranges) > maxUpdateRanges {
		return nil, "", fmt.Errorf("%d ranges, more than %d: not a provider's list", len(ranges), maxUpdateRanges)
	}
	for _, p := range ranges {
		if why := catalog.Special(p); why != "" {
			return nil, "", fmt.Errorf("%s is %s: a provider's list never holds it", p, why)
		}
		if (p.Addr().Is4() && p.Bits() < 12) || (p.Addr().Is6() && p.Bits() < 24) {
			return nil, "", fmt.Errorf("%s is far wider than a provider's network", p)
		}
	}
	var e catalog.Entry
	if b, ok := base.Get(s.Entry); ok {
		e = *b
	} else if t, ok := templates[s.Entry]; ok {
		e = t
	} else {
		return nil, "", fmt.Errorf("no catalog entry %q to refresh", s.Entry)
	}
	strs := make([]string, len(ranges))
	for i, p := range ranges {
		strs[i] = p.String()
	}
	e.Signaling = strs
	if s.Kind != "didww" { // Zoom's and Microsoft's lists do not split signaling from media; DIDWW's is signaling
		e.Media = append([]string{}, strs...)
	}
	e.Verified = now.UTC().Format("2006-01-02")
	e.Origin = "update"
	seen := now.UTC().Format("2006-01-02")
	covers := "every range, machine-readable"
	if version != "" {
		covers += "; web service version " + version
	}
	e.Sources = []catalog.Source{{URL: s.URL, Owner: "provider", Seen: seen, Covers: covers}}
	if s.Kind == "didww" {
		e.Notes = "Signaling from DIDWW's voice.json, version " + version + " (static-endpoint origination addresses and registrars). " + e.Notes
	}
	if s.Kind == "m365" {
		e.Notes = "From Microsoft's 365 endpoints web service (service area Skype, category Optimize: Teams media and signaling), version " + version + ". " + e.Notes
	}
	return &e, version, nil
}

// parseLines reads a range file: one address or CIDR a line; blank lines
// and # comments are skipped; anything else refuses the whole file.
func parseLines(body []byte) ([]netip.Prefix, error) {
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
		return nil, errors.New("an HTML page, not a range list")
	}
	var out []netip.Prefix
	sc := bufio.NewScanner(bytes.NewReader(body))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p, err := catalog.ParseRange(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// parseM365 takes the Optimize ranges of service area Skype (Teams) from
// the 365 endpoints web service's JSON.
func parseM365(body []byte) ([]netip.Prefix, error) {
	var sets []struct {
		ID          int      `json:"id"`
		ServiceArea string   `json:"serviceArea"`
		Category    string   `json:"category"`
		IPs         []string `json:"ips"`
	}
	if err := json.Unmarshal(body, &sets); err != nil {
		return nil, fmt.Errorf("not the 365 endpoints JSON: %v", err)
	}
	var out []netip.Prefix
	seen := map[netip.Prefix]bool{}
	for _, s := range sets {
		if s.ServiceArea != "Skype" || s.Category != "Optimize" {
			continue
		}
		for _, ip := range s.IPs {
			p, err := catalog.ParseRange(ip)
			if err != nil {
				return nil, fmt.Errorf("endpoint set %d: %v", s.ID, err)
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// parseDIDWW takes the inbound signaling addresses of DIDWW's voice.json:
// the static-endpoint origination addresses and the registrars, IPv4 and
// IPv6, with the file's version. Other keys (outbound load balancers, the
// description texts) are not the addresses calls arrive from.
func parseDIDWW(body []byte) ([]netip.Prefix, string, error) {
	var doc struct {
		Version string `json:"version"`
		Inbound struct {
			Signaling struct {
				StaticSIPURI struct {
					Endpoints []struct {
						IPv4 string `json:"ipv4"`
						IPv6 string `json:"ipv6"`
					} `json:"endpoints"`
				} `json:"static_sip_uri"`
				SIPRegistration struct {
					Registrars []struct {
						IPv4 []string `json:"ipv4"`
						IPv6 []string `json:"ipv6"`
					} `json:"registrars"`
				} `json:"sip_registration"`
			} `json:"signaling"`
		} `json:"inbound"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, "", fmt.Errorf("not DIDWW's voice.json: %v", err)
	}
	if len(doc.Version) > 32 {
		return nil, "", errors.New("not DIDWW's voice.json: its version is not a version")
	}
	var out []netip.Prefix
	seen := map[netip.Prefix]bool{}
	add := func(s string) error {
		if s == "" {
			return nil
		}
		p, err := catalog.ParseRange(s)
		if err != nil {
			return err
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
		return nil
	}
	for _, ep := range doc.Inbound.Signaling.StaticSIPURI.Endpoints {
		for _, a := range []string{ep.IPv4, ep.IPv6} {
			if err := add(a); err != nil {
				return nil, "", fmt.Errorf("static_sip_uri endpoint: %v", err)
			}
		}
	}
	for _, r := range doc.Inbound.Signaling.SIPRegistration.Registrars {
		for _, a := range append(append([]string{}, r.IPv4...), r.IPv6...) {
			if err := add(a); err != nil {
				return nil, "", fmt.Errorf("registrar: %v", err)
			}
		}
	}
	return out, doc.Version, nil
}

// entrySet is every range of an entry, signaling and media.
func entrySet(e *catalog.Entry) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, list := range [][]string{e.Signaling, e.Media} {
		for _, r := range list {
			if p, err := catalog.ParseRange(r); err == nil {
				b.AddPrefix(p)
			}
		}
	}
	s, _ := b.IPSet()
	return s
}

// rangeDiff lists the addresses the new entry holds that the old one did
// not (added) and those the old one held that the new one no longer does
// (removed), as the fewest prefixes.
func rangeDiff(old, nu *catalog.Entry) (added, removed []string) {
	was, is := entrySet(old), entrySet(nu)
	minus := func(a, b *netipx.IPSet) []string {
		var sb netipx.IPSetBuilder
		sb.AddSet(a)
		sb.RemoveSet(b)
		d, _ := sb.IPSet()
		var out []string
		for _, p := range d.Prefixes() {
			out = append(out, p.String())
		}
		return out
	}
	return minus(is, was), minus(was, is)
}

// shrinks says why nu keeps less than minKept of old's addresses in a
// family ("" when it keeps enough). IPv6 is counted in /64s.
func shrinks(old, nu *catalog.Entry) string {
	was, is := entrySet(old), entrySet(nu)
	var kb netipx.IPSetBuilder
	kb.AddSet(was)
	kb.Intersect(is)
	keptSet, _ := kb.IPSet()
	for _, fam := range []struct {
		name string
		v6   bool
	}{{"IPv4", false}, {"IPv6", true}} {
		before, after := size(was, fam.v6), size(keptSet, fam.v6)
		if before > 0 && after < before*minKept {
			return fmt.Sprintf("the new list keeps %.0f%% of the %s addresses of the last good one", 100*after/before, fam.name)
		}
	}
	return ""
}

// size counts a set's addresses of one family (IPv6 in /64s).
func size(s *netipx.IPSet, v6 bool) float64 {
	n := 0.0
	for _, p := range s.Prefixes() {
		if p.Addr().Is6() != v6 {
			continue
		}
		bits := p.Addr().BitLen() - p.Bits()
		if v6 {
			bits = max(0, 64-p.Bits())
		}
		n += math.Pow(2, float64(bits))
	}
	return n
}
