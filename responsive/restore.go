package responsive

// Putting recorded bans back. An apply that creates or recreates table
// inet voicewall, or adds its ban sets, starts them empty: afterwards the
// unexpired recorded bans go back into the kernel with what is left of
// their timeouts. Each is checked again against the policy that applied
// (a ban that now covers a provider, a voice VLAN, a PBX or ban.never is
// not put back, is lifted if the kernel still holds it, and leaves the
// record). Restoring never fails an apply: bans only add drops of
// attackers, so anything that goes wrong is a warning.
//
// The last good table (loaded at boot when the policy does not apply) and
// a rollback's previous table have no policy that loads: their check is
// the protected addresses of the last policy that applied and was kept as
// the last good one, saved next to the record (bans/<namespace>.protected.json).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go4.org/netipx"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/lang"
)

// guard says whether a prefix must never be banned, and by what.
type guard interface {
	protected(netip.Prefix) (string, bool)
}

type policyGuard struct{ p *lang.Policy }

func (g policyGuard) protected(pfx netip.Prefix) (string, bool) {
	prot, ok := g.p.Protected(pfx)
	return prot.String(), ok
}

// savedGuard is a policy's protected addresses as saved after an apply.
type savedGuard struct {
	Policy    string           `json:"policy"`
	Protected []protectedRange `json:"protected"`
}

type protectedRange struct {
	From netip.Addr `json:"from"`
	To   netip.Addr `json:"to"`
	What string     `json:"what"`
}

func (g *savedGuard) protected(pfx netip.Prefix) (string, bool) {
	r := netipx.RangeOfPrefix(pfx.Masked())
	for _, x := range g.Protected {
		if x.From.Is4() == r.From().Is4() && x.From.Compare(r.To()) <= 0 && r.From().Compare(x.To) <= 0 {
			return x.What, true
		}
	}
	return "", false
}

// guardOf lists what p.Protected checks, in its order.
func guardOf(p *lang.Policy, path string) *savedGuard {
	g := &savedGuard{Policy: path, Protected: []protectedRange{}}
	addSet := func(s lang.AddrSet, what string) {
		for _, v6 := range []bool{false, true} {
			for _, r := range s.Ranges(v6) {
				g.Protected = append(g.Protected, protectedRange{r.From(), r.To(), what})
			}
		}
	}
	for _, pr := range p.Providers {
		addSet(pr.Signaling, lang.Protection{Origin: pr.Origin, What: "signaling"}.String())
		addSet(pr.Media, lang.Protection{Origin: pr.Origin, What: "media"}.String())
	}
	for _, v := range p.VoiceVLANs {
		addSet(v.Management, lang.Protection{Origin: v.Origin, What: "management"}.String())
		addSet(v.Subnets, lang.Protection{Origin: v.Origin, What: "subnets"}.String())
	}
	for _, x := range p.PBXes {
		for _, a := range x.Addresses() {
			g.Protected = append(g.Protected, protectedRange{a, a, lang.Protection{Origin: x.Origin, What: "address"}.String()})
		}
	}
	if p.Ban != nil {
		for _, n := range p.Ban.NeverAt {
			o := p.Ban.Origin
			o.Range = n.Range
			r := netipx.RangeOfPrefix(n.Prefix.Masked())
			g.Protected = append(g.Protected, protectedRange{r.From(), r.To(), lang.Protection{Origin: o, What: "never"}.String()})
		}
	}
	return g
}

func guardPath(s *Store) string { return strings.TrimSuffix(s.Path, ".json") + ".protected.json" }

func loadGuard(s *Store) (*savedGuard, error) {
	b, err := live.ReadTrusted(guardPath(s))
	if err != nil {
		return nil, err
	}
	g := &savedGuard{}
	if err := json.Unmarshal(b, g); err != nil {
		return nil, fmt.Errorf("%s: %w", guardPath(s), err)
	}
	for _, x := range g.Protected {
		if !x.From.IsValid() || !x.To.IsValid() || x.From.Is4() != x.To.Is4() || x.To.Less(x.From) {
			return nil, fmt.Errorf("%s: the range %s-%s is not valid", guardPath(s), x.From, x.To)
		}
	}
	return g, nil
}

// Restored is what a restore did.
type Restored struct {
	// Record is the ban record's path.
	Record string
	// Restored bans went back into the kernel; Present ones were there.
	Restored, Present int
	// Dropped bans now cover a protected address: out of the record (and
	// lifted, if the kernel held them).
	Dropped int
	// Kept bans stay recorded without being in the kernel (no ban set of
	// their family, or the kernel refused them).
	Kept int
}

// PlanEmptiesBans reports whether an apply of plan leaves the ban sets
// empty: it creates or recreates the table, or adds a ban set. (A
// recreate carries the kernel's bans over in its own batch; the record
// fills in whatever it did not hold.)
func PlanEmptiesBans(p *live.Plan) bool {
	if p == nil {
		return false
	}
	if p.Create || p.Recreate != "" {
		return true
	}
	for _, s := range p.Sets {
		if s.Op == live.OpAdd && (s.Name == banSet(false) || s.Name == banSet(true)) {
			return true
		}
	}
	return false
}

// AfterApply runs after every apply of policy p (loaded from path) that
// succeeded in t: recorded bans p now protects are dropped (and lifted),
// and with restore (PlanEmptiesBans) the others go back into the kernel.
// With keep (the applied table is the last good one) p's protected
// addresses are saved for a later fallback or rollback. It never fails:
// what goes wrong is said through warn.
func AfterApply(t *live.Target, p *lang.Policy, path string, restore, keep bool, warn func(string)) Restored {
	s := StoreFor(t.Name)
	s.Warn = warn
	if keep {
		if err := saveGuard(guardPath(s), p, path); err != nil {
			warn(fmt.Sprintf("warning: could not save the policy's protected addresses (%s): %v; a fallback to the last good table will not restore bans", guardPath(s), err))
		}
	}
	if p.BannedSet() == nil {
		restore = false
		if recs, err := s.Load(); err == nil && len(recs) > 0 {
			warn(fmt.Sprintf("warning: the policy has no ban block: the %d recorded bans (%s) are kept, not restored", len(recs), s.Path))
		}
	}
	return reconcile(t, s, policyGuard{p}, restore, warn)
}

func pendingGuardPath(s *Store) string {
	return strings.TrimSuffix(s.Path, ".json") + ".protected.pending.json"
}

// SavePendingGuard keeps the protected addresses of p, applied with a
// confirmation deadline, aside until the apply is confirmed
// (PromotePendingGuard): until then the last good policy's stay the ones a
// fallback or a rollback checks recorded bans against.
func SavePendingGuard(t *live.Target, p *lang.Policy, path string, warn func(string)) {
	s := StoreFor(t.Name)
	if err := saveGuard(pendingGuardPath(s), p, path); err != nil {
		warn(fmt.Sprintf("warning: could not keep the policy's protected addresses for its confirmation (%s): %v", pendingGuardPath(s), err))
	}
}

// saveGuard writes p's protected addresses (loaded from path) to file,
// unless it already holds them.
func saveGuard(file string, p *lang.Policy, path string) error {
	b, err := json.Marshal(guardOf(p, path))
	if err != nil {
		return err
	}
	if old, err := live.ReadTrusted(file); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return live.WriteState(file, b)
}

// PromotePendingGuard makes the protected addresses saved by
// SavePendingGuard those of the last good policy: the apply they belong to
// was confirmed. Nothing pending: nothing to do.
func PromotePendingGuard(netns string, warn func(string)) {
	s := StoreFor(netns)
	b, err := live.ReadTrusted(pendingGuardPath(s))
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err == nil {
		var g savedGuard
		if err = json.Unmarshal(b, &g); err == nil {
			err = live.WriteState(guardPath(s), b)
		}
	}
	if err != nil {
		warn(fmt.Sprintf("warning: the confirmed policy's protected addresses could not be kept (%s): %v; a fallback checks recorded bans against the previous policy's", pendingGuardPath(s), err))
		return
	}
	os.Remove(pendingGuardPath(s))
}

// RestoreSaved puts the recorded bans back after the last good table was
// loaded (a boot whose policy did not apply) or a rollback restored the
// previous table: checked against the protected addresses saved with the
// last good table. Without them nothing is restored (the record stays).
func RestoreSaved(t *live.Target, warn func(string)) Restored {
	s := StoreFor(t.Name)
	s.Warn = warn
	g, err := loadGuard(s)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if recs, lerr := s.Load(); lerr != nil || len(recs) == 0 {
				return Restored{Record: s.Path}
			}
			err = errors.New("no apply has saved them yet")
		}
		warn(fmt.Sprintf("warning: recorded bans (%s) are not restored: the protected addresses they are checked against cannot be read: %v", s.Path, err))
		return Restored{Record: s.Path}
	}
	return reconcile(t, s, g, true, warn)
}

// reconcile drops the recorded bans g protects (lifting them in the
// kernel) and, with restore, adds the missing ones with their remaining
// timeouts, all under the record's lock.
func reconcile(t *live.Target, s *Store, g guard, restore bool, warn func(string)) Restored {
	res := Restored{Record: s.Path}
	if recs, err := s.Load(); err == nil && len(recs) == 0 {
		return res // nothing recorded (or all expired): nothing to lock or write
	}
	err := s.Update(func(recs []Record, now time.Time) ([]Record, bool) {
		var keep []Record
		lift := map[bool][]netipx.IPRange{}
		for _, r := range recs {
			if what, ok := g.protected(r.Prefix); ok {
				warn(fmt.Sprintf("warning: not restoring the ban of %s (%s, %s left): it is in %s, which is never banned; removed from %s",
					prefixText(r.Prefix), r.Reason, lang.FormatDuration(r.Expires.Sub(now).Truncate(time.Second)+time.Second), what, s.Path))
				lift[r.Prefix.Addr().Is6()] = append(lift[r.Prefix.Addr().Is6()], netipx.RangeOfPrefix(r.Prefix))
				res.Dropped++
				continue
			}
			keep = append(keep, r)
		}
		for _, v6 := range []bool{false, true} {
			var fam []Record
			for _, r := range keep {
				if r.Prefix.Addr().Is6() == v6 {
					fam = append(fam, r)
				}
			}
			if !restore {
				fam = nil
			}
			if len(fam) == 0 && len(lift[v6]) == 0 {
				continue
			}
			set := banSet(v6)
			cur, err := live.ReadLive(t, set)
			if err != nil {
				if len(fam) > 0 {
					warn(fmt.Sprintf("warning: %d recorded bans are kept in %s but not restored: %v", len(fam), s.Path, err))
					res.Kept += len(fam)
				}
				continue
			}
			var add, del []live.LiveElem
			for _, r := range lift[v6] {
				for _, c := range cur {
					if c.Range == r {
						del = append(del, c)
					}
				}
			}
			for _, r := range fam {
				rng := netipx.RangeOfPrefix(r.Prefix)
				left := r.Expires.Sub(now)
				if left < time.Second {
					continue // expires before it could matter
				}
				present, clash := false, ""
				for _, c := range cur {
					if c.Range == rng {
						present = true
					} else if c.Range.From().Compare(rng.To()) <= 0 && rng.From().Compare(c.Range.To()) <= 0 {
						clash = c.String()
					}
				}
				switch {
				case present:
					res.Present++
				case clash != "":
					warn(fmt.Sprintf("warning: the recorded ban of %s is not restored: it overlaps the ban of %s in the kernel", prefixText(r.Prefix), clash))
					res.Kept++
				default:
					add = append(add, live.LiveElem{Range: rng, Timeout: left.Truncate(time.Millisecond), Reason: r.Reason})
				}
			}
			if len(add)+len(del) == 0 {
				continue
			}
			if _, err := live.ApplyLive(t, live.LiveChange{Set: set, Interval: true, Del: del, Add: add}); err != nil {
				warn(fmt.Sprintf("warning: could not put %d recorded bans back into %s (they stay recorded): %v", len(add), set, err))
				res.Kept += len(add)
				continue
			}
			res.Restored += len(add)
		}
		return keep, res.Dropped > 0
	})
	if err != nil {
		warn(fmt.Sprintf("warning: recorded bans are not restored: %v", err))
	}
	return res
}

// Summary is one line for people ("" when nothing was restored or dropped).
func (r Restored) Summary() string {
	var parts []string
	if r.Restored > 0 {
		parts = append(parts, fmt.Sprintf("restored %d recorded bans", r.Restored))
	}
	if r.Dropped > 0 {
		parts = append(parts, fmt.Sprintf("dropped %d that now cover protected addresses", r.Dropped))
	}
	if r.Kept > 0 {
		parts = append(parts, fmt.Sprintf("kept %d recorded but not in the kernel", r.Kept))
	}
	if len(parts) == 0 {
		return ""
	}
	s := strings.Join(parts, ", ")
	return strings.ToUpper(s[:1]) + s[1:] + " (" + filepath.Base(filepath.Dir(r.Record)) + "/" + filepath.Base(r.Record) + ")."
}
