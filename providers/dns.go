package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/lang"
)

// Resolver looks names up with Go's own resolver, which reads
// /etc/resolv.conf itself: under `ip netns exec NS` that is the namespace's
// /etc/netns/NS/resolv.conf, so a gateway in a namespace resolves through
// its own DNS server.
type Resolver struct {
	R       *net.Resolver
	Timeout time.Duration // per name
}

// SystemResolver is the resolver voicewall uses.
func SystemResolver() *Resolver {
	return &Resolver{R: &net.Resolver{PreferGo: true}, Timeout: 5 * time.Second}
}

// srvPrefixes are the SRV names whose targets are followed (RFC 3263).
var srvPrefixes = []string{"_sip._udp.", "_sip._tcp.", "_sips._tcp."}

// IsSRV reports whether name is looked up as a SIP SRV record.
func IsSRV(name string) bool {
	for _, p := range srvPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Lookup resolves one name: A and AAAA, or for an SRV name the A and AAAA
// of every target. An empty answer is an error: it must never empty a set.
func (r *Resolver) Lookup(ctx context.Context, name string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	hosts := []string{name}
	if IsSRV(name) {
		_, srvs, err := r.R.LookupSRV(ctx, "", "", name)
		if err != nil {
			return nil, err
		}
		hosts = hosts[:0]
		for _, s := range srvs {
			if s.Target != "." {
				hosts = append(hosts, s.Target)
			}
		}
		if len(hosts) == 0 {
			return nil, fmt.Errorf("SRV %s has no targets", name)
		}
	}
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	var lastErr error
	for _, h := range hosts {
		as, err := r.R.LookupNetIP(ctx, "ip", h)
		if err != nil {
			lastErr = err
			continue
		}
		for _, a := range as {
			a = a.Unmap()
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		if lastErr == nil {
			lastErr = errors.New("no addresses")
		}
		return nil, lastErr
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out, nil
}

// AnswersPath is where the last answers are kept.
func AnswersPath(libDir string) string { return filepath.Join(libDir, "dns", "answers.json") }

// Record is what is kept of one name.
type Record struct {
	Addrs      []netip.Addr `json:"addrs"`
	ResolvedAt time.Time    `json:"resolved_at"`
	// Applied are the answers the last successful apply used.
	Applied   []netip.Addr `json:"applied,omitempty"`
	AppliedAt time.Time    `json:"applied_at,omitzero"`
}

// Answers is the kept answers file.
type Answers struct {
	Names map[string]*Record `json:"names"`
}

// ReadAnswers reads the kept answers; a missing file is an empty set.
func ReadAnswers(libDir string) (*Answers, error) {
	a := &Answers{Names: map[string]*Record{}}
	b, err := live.ReadTrusted(AnswersPath(libDir)) // never believe what others could write
	if errors.Is(err, fs.ErrNotExist) {
		return a, nil
	}
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(b, a); err != nil {
		return &Answers{Names: map[string]*Record{}}, fmt.Errorf("%s: %v", AnswersPath(libDir), err)
	}
	if a.Names == nil {
		a.Names = map[string]*Record{}
	}
	return a, nil
}

// Write keeps the answers (safefile: never half-written).
func (a *Answers) Write(libDir string) error { return writeJSON(AnswersPath(libDir), a) }

// Resolve looks up every name. A name that resolves gets its fresh answer
// (and it is kept in a); one that fails gets its kept answer, marked Kept,
// or no addresses when none is kept (lang then reports it where the policy
// names it). changed tells whether a changed.
func Resolve(ctx context.Context, r *Resolver, names []string, a *Answers, now time.Time) (out map[string]lang.DNSAnswer, changed bool) {
	out = map[string]lang.DNSAnswer{}
	for _, n := range names {
		addrs, err := r.Lookup(ctx, n)
		rec := a.Names[n]
		if err == nil {
			if rec == nil {
				rec = &Record{}
				a.Names[n] = rec
			}
			if !slices.Equal(rec.Addrs, addrs) || rec.ResolvedAt.IsZero() {
				changed = true
			}
			rec.Addrs, rec.ResolvedAt = addrs, now.UTC()
			changed = true
			out[n] = lang.DNSAnswer{Addrs: addrs, ResolvedAt: rec.ResolvedAt}
			continue
		}
		if rec != nil && len(rec.Addrs) > 0 {
			out[n] = lang.DNSAnswer{Addrs: rec.Addrs, ResolvedAt: rec.ResolvedAt, Kept: true, Err: err.Error()}
		} else {
			out[n] = lang.DNSAnswer{Err: err.Error()}
		}
	}
	return out, changed
}

// KeptAnswers are the kept answers, without looking anything up: for units
// that have no network (apply, metrics) while `providers update` keeps the
// answers fresh. A name without a kept answer gets none (lang reports it).
func KeptAnswers(names []string, a *Answers) map[string]lang.DNSAnswer {
	out := map[string]lang.DNSAnswer{}
	for _, n := range names {
		if rec := a.Names[n]; rec != nil && len(rec.Addrs) > 0 {
			out[n] = lang.DNSAnswer{Addrs: rec.Addrs, ResolvedAt: rec.ResolvedAt}
		} else {
			out[n] = lang.DNSAnswer{Err: "VOICEWALL_DNS=kept and no answer is kept yet (run voicewall providers update PATH)"}
		}
	}
	return out
}

// MarkApplied records the answers a successful apply used.
func (a *Answers) MarkApplied(uses []lang.DNSUse, now time.Time) {
	for _, u := range uses {
		rec := a.Names[u.Name]
		if rec == nil {
			rec = &Record{Addrs: u.Addrs, ResolvedAt: u.ResolvedAt}
			a.Names[u.Name] = rec
		}
		rec.Applied, rec.AppliedAt = append([]netip.Addr{}, u.Addrs...), now.UTC()
	}
}
