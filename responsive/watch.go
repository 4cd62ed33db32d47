package responsive

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/voicewall/voicewall/lang"
)

// WatchOptions tune Watch.
type WatchOptions struct {
	Log      io.Writer // one line per decision (journald reads stderr)
	Textfile string    // a directory for voicewall-watch.prom ("" none)
	Poll     time.Duration
	// FromStart reads the log from its beginning (default: only new lines).
	FromStart bool
	// Now is the clock (tests may slow or speed it); nil: time.Now.
	Now func() time.Time
	// Decided, when set, sees every decision after it was carried out
	// (err is the kernel's answer).
	Decided func(Decision, error)
}

// Watch follows the log of w until ctx ends: successful registrations
// trust the address, repeated failures ban it, through k. A kernel error
// on one decision is logged and the watch goes on (the next failure of the
// same source tries again); a log that cannot be read ends it.
func Watch(ctx context.Context, k *Kernel, w *lang.Watch, opts WatchOptions) error {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logf := func(format string, a ...any) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, format+"\n", a...)
		}
	}
	t := NewTracker(k.Policy, w)
	dirty := true
	flush := func() {
		if opts.Textfile == "" || !dirty {
			return
		}
		if err := t.WriteMetrics(opts.Textfile); err != nil {
			logf("metrics: %v", err)
		}
		dirty = false
	}
	f := &Follower{Path: w.Log, Poll: opts.Poll, FromStart: opts.FromStart}
	logf("watching %s (%s): %d failures within %s ban for %s%s", w.Log, w.Origin, w.Failures, lang.FormatDuration(w.Within), lang.FormatDuration(w.BanFor), trustNote(k.Policy))
	flush() // the counters exist (at zero) from the start
	last := time.Time{}
	err := f.Run(ctx, func(line string) {
		before := t.Ambiguous
		d := t.Line(line, now())
		if t.Ambiguous != before {
			logf("ignored a security event with a repeated field (possibly forged): %s", clip(line))
		}
		dirty = true
		var err error
		switch d.Action {
		case ActNone:
			return
		case ActTrust:
			err = k.Trust(d.Addr, d.For)
			report(logf, "trust", d, err)
		case ActBan:
			err = k.Ban(netip.PrefixFrom(d.Addr, d.Addr.BitLen()), d.For, "watch")
			report(logf, "ban", d, err)
		case ActRefused:
			logf("not banning %s: %s", d.Addr, d.Why)
		}
		if opts.Decided != nil {
			opts.Decided(d, err)
		}
		if n := now(); n.Sub(last) > time.Second { // at most once a second
			flush()
			last = n
		}
	})
	flush()
	return err
}

func report(logf func(string, ...any), what string, d Decision, err error) {
	if err != nil {
		logf("%s %s failed: %v (%s)", what, d.Addr, err, d.Why)
		return
	}
	logf("%s %s for %s: %s", what, d.Addr, lang.FormatDuration(d.For), d.Why)
}

func trustNote(p *lang.Policy) string {
	if p.RemotePhones == nil {
		return "; no remote_phones block, so registrations trust nobody"
	}
	return "; a registration trusts the address for " + lang.FormatDuration(p.RemotePhones.TrustFor)
}

// clip keeps a log line printable and short for our own log.
func clip(s string) string {
	s = promSafe(s)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.TrimSpace(s)
}
