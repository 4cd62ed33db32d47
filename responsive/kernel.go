package responsive

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"syscall"
	"time"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/lang"
	"go4.org/netipx"
)

// Reasons a ban carries (the element's comment).
var Reasons = []string{"cli", "watch", "fail2ban"}

// Kernel bans, unbans and trusts in one network namespace's table, for
// one policy (which says what is protected and how long things last).
type Kernel struct {
	Target *live.Target
	Policy *lang.Policy
	// Store, when set, records every ban and unban (store.go) so that an
	// apply after a reboot puts the bans back; nil: the kernel only.
	Store *Store
	// Warn reports what does not stop a ban or unban (a record that could
	// not be written); nil: not reported.
	Warn func(string)
}

func (k *Kernel) warn(format string, a ...any) {
	if k.Warn != nil {
		k.Warn(fmt.Sprintf(format, a...))
	}
}

// recorded runs change (the kernel's part) under the record's lock and,
// when it succeeds, edit on the record. Without a store, or when the
// record cannot be locked or read, the kernel's change is made anyway
// (the record is an extra: it must never stop a ban) and what was not
// recorded is reported through Warn.
func (k *Kernel) recorded(what string, change func() error, edit func(recs []Record, now time.Time) ([]Record, bool)) error {
	if k.Store == nil {
		return change()
	}
	var kerr error
	ran := false
	err := k.Store.Update(func(recs []Record, now time.Time) ([]Record, bool) {
		ran = true
		if kerr = change(); kerr != nil {
			return recs, false
		}
		return edit(recs, now)
	})
	if !ran {
		kerr = change()
	}
	if kerr == nil && err != nil {
		k.warn("warning: %s in the kernel, but not in the ban record: %v", what, err)
	}
	return kerr
}

// Ban is one timed ban as the kernel holds it.
type Ban struct {
	Address string        `json:"address"`
	Reason  string        `json:"reason"`
	Expires time.Duration `json:"-"`
	// ExpiresIn is Expires in whole seconds (JSON).
	ExpiresIn int64 `json:"expires_in_seconds"`
	Timeout   int64 `json:"timeout_seconds"`
	// Recorded: the ban record holds it, so an apply after a reboot puts
	// it back.
	Recorded bool `json:"recorded"`
}

// ProtectedError refuses a ban of an address the policy protects.
type ProtectedError struct {
	Prefix     netip.Prefix
	Protection lang.Protection
}

func (e *ProtectedError) Error() string {
	return fmt.Sprintf("%s is never banned: it is in %s. Remove it there first if it really must be banned", prefixText(e.Prefix), e.Protection)
}

func prefixText(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// ParseTarget reads ADDR or ADDR/PREFIX (host bits must be clear).
func ParseTarget(s string) (netip.Prefix, error) {
	p, err := lang.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, fmt.Errorf("%s is every address; ban single sources or their networks", s)
	}
	return p, nil
}

func banSet(v6 bool) string {
	if v6 {
		return "banned_v6"
	}
	return "banned_v4"
}

func trustSet(v6 bool) string {
	if v6 {
		return "remote_trusted_v6"
	}
	return "remote_trusted_v4"
}

func (k *Kernel) needBan() error {
	if k.Policy.BannedSet() == nil {
		return errors.New("the policy has no ban block (nor a watch or remote_phones block, which imply one): add `ban { default = \"1h\" }` and apply it")
	}
	return nil
}

// Ban bans pfx for d (0: ban.default) with reason. A ban of exactly the
// same prefix is renewed; one that overlaps another ban is refused.
// Protected addresses are refused with the block that protects them.
func (k *Kernel) Ban(pfx netip.Prefix, d time.Duration, reason string) error {
	if err := k.needBan(); err != nil {
		return err
	}
	if !validReason(reason) {
		return fmt.Errorf("reason %q: use one of %s", reason, strings.Join(Reasons, ", "))
	}
	if pfx.Addr().Is4In6() {
		pfx = netip.PrefixFrom(pfx.Addr().Unmap(), max(pfx.Bits()-96, 0))
	}
	pfx = pfx.Masked()
	if prot, ok := k.Policy.Protected(pfx); ok {
		return &ProtectedError{Prefix: pfx, Protection: prot}
	}
	if d == 0 {
		d = k.Policy.Ban.Default
	}
	if d < time.Second || d > lang.MaxTimeout {
		return fmt.Errorf("a ban lasts 1s to %s", lang.FormatDuration(lang.MaxTimeout))
	}
	return k.recorded("the ban of "+prefixText(pfx)+" is", func() error { return k.ban(pfx, d, reason) },
		func(recs []Record, now time.Time) ([]Record, bool) {
			return put(recs, Record{Prefix: pfx, Reason: reason, Expires: now.Add(d).UTC()}), true
		})
}

func (k *Kernel) ban(pfx netip.Prefix, d time.Duration, reason string) error {
	e := live.LiveElem{Range: netipx.RangeOfPrefix(pfx), Timeout: d, Reason: reason}
	set := banSet(pfx.Addr().Is6())
	_, err := live.ApplyLive(k.Target, live.LiveChange{Set: set, Interval: true, Add: []live.LiveElem{e}})
	if err == nil || !exists(err) {
		return setErr(set, err)
	}
	// Already there, or overlapping another ban: look.
	cur, rerr := live.ReadLive(k.Target, set)
	if rerr != nil {
		return rerr
	}
	for _, c := range cur {
		if c.Range == e.Range {
			_, err := live.ApplyLive(k.Target, live.LiveChange{Set: set, Interval: true, Del: []live.LiveElem{c}, Add: []live.LiveElem{e}})
			return setErr(set, err)
		}
		if c.Range.From().Compare(e.Range.To()) <= 0 && e.Range.From().Compare(c.Range.To()) <= 0 {
			return fmt.Errorf("%s overlaps the ban of %s (%s, %s left); unban that first", prefixText(pfx), c, c.Reason, lang.FormatDuration(c.Expires.Truncate(time.Second)+time.Second))
		}
	}
	return setErr(set, err)
}

func exists(err error) bool {
	return errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY)
}

func setErr(set string, err error) error {
	if errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("set %s is not in table inet %s: apply the policy (with its ban block) first", set, vw.TableName)
	}
	return err
}

func validReason(r string) bool {
	for _, x := range Reasons {
		if r == x {
			return true
		}
	}
	return false
}

// Unban lifts the ban of exactly pfx, in the kernel and in the record.
// It needs no policy: lifting a ban never endangers anyone. A ban only
// the record holds (the kernel's set is gone or empty after a reboot) is
// removed from the record, with a note through Warn.
func (k *Kernel) Unban(pfx netip.Prefix) error {
	pfx = pfx.Masked()
	if k.Store == nil {
		return k.unban(pfx)
	}
	var kerr error
	ran := false
	err := k.Store.Update(func(recs []Record, now time.Time) ([]Record, bool) {
		ran = true
		kerr = k.unban(pfx)
		recs, had := drop(recs, pfx)
		if kerr != nil && had {
			k.warn("note: %s was not banned in the kernel (%v); its recorded ban is removed, so no apply puts it back", prefixText(pfx), kerr)
			kerr = nil
		}
		return recs, had
	})
	if !ran {
		kerr = k.unban(pfx)
	}
	if kerr == nil && err != nil {
		k.warn("warning: %s is unbanned in the kernel, but the ban record could not be updated (%v): an apply after a reboot may ban it again; run voicewall unban %s again once %s is fixed", prefixText(pfx), err, prefixText(pfx), k.Store.Path)
	}
	return kerr
}

func (k *Kernel) unban(pfx netip.Prefix) error {
	set := banSet(pfx.Addr().Is6())
	cur, err := live.ReadLive(k.Target, set)
	if err != nil {
		return err
	}
	r := netipx.RangeOfPrefix(pfx)
	for _, c := range cur {
		if c.Range == r {
			_, err := live.ApplyLive(k.Target, live.LiveChange{Set: set, Interval: true, Del: []live.LiveElem{c}})
			return setErr(set, err)
		}
	}
	for _, c := range cur {
		if c.Range.Contains(pfx.Addr()) {
			return fmt.Errorf("%s is not banned itself; it is inside the ban of %s: unban %s", prefixText(pfx), c, c)
		}
	}
	return fmt.Errorf("%s is not banned", prefixText(pfx))
}

// Bans lists the timed bans of both families, by address; with a Store,
// each says whether the record holds it (a record that cannot be read is
// reported through Warn, and every ban is then unrecorded).
func (k *Kernel) Bans() ([]Ban, error) {
	rec := map[netip.Prefix]bool{}
	if k.Store != nil {
		recs, err := k.Store.Load()
		if err != nil {
			k.warn("warning: %v", err)
		}
		for _, r := range recs {
			rec[r.Prefix] = true
		}
	}
	var out []Ban
	for _, v6 := range []bool{false, true} {
		es, err := live.ReadLive(k.Target, banSet(v6))
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			p, ok := e.Range.Prefix()
			out = append(out, Ban{Address: e.String(), Reason: e.Reason, Expires: e.Expires,
				ExpiresIn: int64((e.Expires + time.Second - 1) / time.Second), Timeout: int64(e.Timeout / time.Second),
				Recorded: ok && rec[p]})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Expires < out[j].Expires })
	return out, nil
}

// Trust adds a remote phone's address to the trusted set for the
// policy's trust_for (renewing it when it is there).
func (k *Kernel) Trust(a netip.Addr, d time.Duration) error {
	if k.Policy.TrustedSet() == nil {
		return errors.New("the policy has no remote_phones block: nothing is trusted")
	}
	a = a.Unmap()
	set := trustSet(a.Is6())
	e := live.LiveElem{Range: netipx.IPRangeFrom(a, a), Timeout: d, Reason: "watch"}
	_, err := live.ApplyLive(k.Target, live.LiveChange{Set: set, Add: []live.LiveElem{e}})
	if err == nil || !exists(err) {
		return setErr(set, err)
	}
	_, err = live.ApplyLive(k.Target, live.LiveChange{Set: set, Del: []live.LiveElem{e}, Add: []live.LiveElem{e}})
	return setErr(set, err)
}

// Trusted lists the trusted remote phones.
func (k *Kernel) Trusted() ([]live.LiveElem, error) {
	var out []live.LiveElem
	for _, v6 := range []bool{false, true} {
		es, err := live.ReadLive(k.Target, trustSet(v6))
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}
