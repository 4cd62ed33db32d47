package responsive

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/voicewall/voicewall/lang"
)

// Action is what the watcher does about an event.
type Action string

const (
	ActNone    Action = ""        // counted, nothing to do yet
	ActTrust   Action = "trust"   // a successful registration: trust the address
	ActBan     Action = "ban"     // too many failures: ban the address
	ActRefused Action = "refused" // too many failures, but the policy protects the address
)

// Decision is the watcher's answer to one event.
type Decision struct {
	Action Action
	Addr   netip.Addr
	For    time.Duration
	// Why, in words: "3 failed authentications within 10m" or the
	// protecting block for a refusal.
	Why string
}

// Tracker decides, from security events and the time they were read,
// whom to trust and whom to ban. It is pure: no clock, no kernel.
type Tracker struct {
	policy *lang.Policy
	watch  *lang.Watch
	fails  map[netip.Addr][]time.Time

	// Counts since start, for metrics.
	Events    map[EventKind]int
	Bans      int
	Trusts    int
	Refused   int
	Ambiguous int
}

// maxTracked bounds the failure windows kept: a flood from many sources
// sweeps expired windows instead of growing without limit.
const maxTracked = 1 << 16

// NewTracker follows one watch block of the policy.
func NewTracker(p *lang.Policy, w *lang.Watch) *Tracker {
	return &Tracker{policy: p, watch: w, fails: map[netip.Addr][]time.Time{}, Events: map[EventKind]int{}}
}

// Line reads one log line and decides (ActNone for lines that are not
// events, or not ones to act on).
func (t *Tracker) Line(line string, now time.Time) Decision {
	ev, ok, ambiguous := ParseAsterisk(line)
	if ambiguous {
		t.Ambiguous++
	}
	if !ok {
		return Decision{}
	}
	return t.Observe(ev, now)
}

// Observe decides about one event read at now.
func (t *Tracker) Observe(ev Event, now time.Time) Decision {
	t.Events[ev.Kind]++
	a := ev.Remote
	switch {
	case ev.Kind == EventSuccessfulAuth:
		delete(t.fails, a)
		if t.policy.RemotePhones == nil {
			return Decision{}
		}
		t.Trusts++
		return Decision{Action: ActTrust, Addr: a, For: t.policy.RemotePhones.TrustFor,
			Why: fmt.Sprintf("%s registered (%s account %s)", a, ev.Service, ev.Account)}
	case !ev.Kind.Failure():
		return Decision{}
	}
	if len(t.fails) >= maxTracked {
		t.sweep(now)
	}
	cut := now.Add(-t.watch.Within)
	w := t.fails[a]
	k := sort.Search(len(w), func(i int) bool { return w[i].After(cut) })
	w = append(w[k:], now)
	if len(w) < t.watch.Failures {
		t.fails[a] = w
		return Decision{}
	}
	delete(t.fails, a)
	why := fmt.Sprintf("%d failed authentications within %s", len(w), lang.FormatDuration(t.watch.Within))
	if prot, ok := t.policy.Protected(netip.PrefixFrom(a, a.BitLen())); ok {
		t.Refused++
		return Decision{Action: ActRefused, Addr: a, Why: why + "; never banned: " + prot.String()}
	}
	t.Bans++
	return Decision{Action: ActBan, Addr: a, For: t.watch.BanFor, Why: why}
}

// sweep forgets windows whose last failure is older than within.
func (t *Tracker) sweep(now time.Time) {
	cut := now.Add(-t.watch.Within)
	for a, w := range t.fails {
		if len(w) == 0 || !w[len(w)-1].After(cut) {
			delete(t.fails, a)
		}
	}
}

// Tracked is how many sources have failures in their window now.
func (t *Tracker) Tracked() int { return len(t.fails) }
