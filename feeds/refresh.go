package feeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/internal/safefile"
	"github.com/voicewall/voicewall/lang"
)

// Options are one refresh's inputs.
type Options struct {
	Path    string // the policy (file or directory)
	Fetcher *Fetcher
	// Gateway lists the target namespace's resolvers and default gateways
	// (live.GatewayProtected); the caller reads them from the kernel.
	Gateway []live.Protected
	// Only, when set, refreshes just these blocklists (by name).
	Only []string
	// Load loads the policy as the program does (catalog, DNS answers,
	// readable directories) with o.Overlay in place of files; nil loads
	// through the registry with the embedded catalog.
	Load func(path string, o lang.LoadOptions) *lang.Loaded
	Now  func() time.Time
}

// Status is one feed's outcome.
type Status string

const (
	StatusReplaced  Status = "replaced"  // the file now holds the new list
	StatusUnchanged Status = "unchanged" // the new list equals the file
	StatusRefused   Status = "refused"   // the last good file stays
)

// Result is one feed's refresh.
type Result struct {
	Blocklist string
	Feed      string // URL (redacted) or "apiban:sip"
	File      string // as the policy names it
	Status    Status
	Entries   int // of the file now in place (-1: none)
	Refusal   *Refusal
	// Loaded is the policy loaded with the refused candidate when the
	// refusal is the policy's own diagnostics (ReasonInvalid), to render.
	Loaded *lang.Loaded
}

// Report is a whole refresh.
type Report struct {
	Results []Result
}

// Refused reports whether any feed was refused.
func (r *Report) Refused() bool {
	for _, x := range r.Results {
		if x.Status == StatusRefused {
			return true
		}
	}
	return false
}

// FeedLabel names a feed in messages and metrics: its URL without a query
// string, or "apiban:SET".
func FeedLabel(f *lang.Feed) string {
	if f.APIBAN != "" {
		return "apiban:" + f.APIBAN
	}
	if u, err := url.Parse(f.URL); err == nil {
		return redactURL(u)
	}
	return printable(f.URL)
}

// Refresh refreshes every feed of the policy in turn. Each candidate is
// validated with the whole policy as it stands then (the feeds accepted
// before it included) and guarded; only then does it replace its file.
// The returned error is for a policy that cannot be read at all; refused
// feeds are in the report.
func Refresh(ctx context.Context, o Options) (*Report, *lang.Loaded, error) {
	feeds, loaded := lang.Feeds(o.Path)
	if loaded.Diags.HasErrors() {
		return nil, loaded, errors.New("the policy has errors")
	}
	legacy, err := LegacyFeeds(o.Path)
	if err != nil {
		return nil, nil, err
	}
	for _, lf := range legacy {
		// A feed declared on a blocklist wins over the old list's line
		// for the same file.
		if !slices.ContainsFunc(feeds, func(f lang.NamedFeed) bool { return f.File == lf.File }) {
			feeds = append(feeds, lf)
		}
	}
	if len(feeds) == 0 {
		return nil, nil, fmt.Errorf("%s declares no feed: add feed = \"https://...\" to a blocklist (docs/refresh.md)", o.Path)
	}
	if len(o.Only) > 0 {
		var sel []lang.NamedFeed
		for _, name := range o.Only {
			found := false
			for _, f := range feeds {
				if f.Blocklist == name {
					sel, found = append(sel, f), true
				}
			}
			if !found {
				return nil, nil, fmt.Errorf("no blocklist %q with a feed in %s", name, o.Path)
			}
		}
		feeds = sel
	}
	fetcher := o.Fetcher
	if fetcher == nil {
		fetcher = &Fetcher{}
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	rep := &Report{}
	for _, f := range feeds {
		r := refreshOne(ctx, o, fetcher, f, feeds, now())
		rep.Results = append(rep.Results, r)
	}
	return rep, nil, nil
}

func refreshOne(ctx context.Context, o Options, fetcher *Fetcher, f lang.NamedFeed, all []lang.NamedFeed, at time.Time) Result {
	res := Result{Blocklist: f.Blocklist, Feed: FeedLabel(f.Feed), File: f.Display, Entries: -1}
	old, oldErr := lang.ReadRegular(f.File, maxLastGood)
	if oldErr == nil {
		res.Entries = CountEntries(old)
	} else if !errors.Is(oldErr, fs.ErrNotExist) {
		res.Status, res.Refusal = StatusRefused, refuse(ReasonInvalid, "cannot read the last good file %s: %v", f.Display, oldErr)
		return res
	}
	fail := func(r *Refusal) Result {
		res.Status, res.Refusal = StatusRefused, r
		return res
	}
	var body []byte
	var err error
	if f.APIBAN != "" {
		body, err = fetcher.FetchAPIBAN(ctx, f.APIBAN, f.KeyFile)
	} else {
		body, err = fetcher.FetchURL(ctx, f.URL, f.AllowHTTP)
	}
	if err != nil {
		return fail(asRefusal(err))
	}
	cand, _, err := Convert(body, fmt.Sprintf("blocklist %q from %s, written by voicewall refresh.\nEdits are replaced at the next refresh.", f.Blocklist, res.Feed))
	if err != nil {
		return fail(asRefusal(err))
	}
	// The whole policy with the candidate in place. A feed whose file does
	// not exist yet (its first refresh is still to come) counts as empty.
	overlay := map[string][]byte{f.File: cand}
	for _, g := range all {
		if _, err := os.Lstat(g.File); g.File != f.File && errors.Is(err, fs.ErrNotExist) {
			overlay[g.File] = nil
		}
	}
	load := o.Load
	if load == nil {
		load = registry.LoadFullWith
	}
	l := load(o.Path, lang.LoadOptions{Overlay: overlay})
	if l.Diags.HasErrors() {
		res.Loaded = l
		return fail(refuse(ReasonInvalid, "the policy does not load with the new %s: %s", f.Display, firstError(l.Diags)))
	}
	// The blocklist's whole set with the candidate in place; a feeds.conf
	// list no blocklist names yet is guarded on its own entries.
	merged := lang.NewAddrSet(entryPrefixes(candidateEntries(cand))...)
	for _, b := range l.Policy.Blocklists {
		if slices.Contains(b.FilePaths, f.File) {
			merged = b.Addresses
		}
	}
	lastGood := -1
	if oldErr == nil {
		lastGood = res.Entries
	}
	if r := guard(f, f.Display, cand, merged, o.Gateway, l.Policy, lastGood); r != nil {
		return fail(r)
	}
	if bytes.Equal(old, cand) {
		res.Status = StatusUnchanged
		return res
	}
	if err := safefile.Write(f.File, cand, safefile.Options{Mode: 0o644}); err != nil {
		return fail(refuse(ReasonInvalid, "writing %s: %v (the last good file stays)", f.Display, err))
	}
	res.Status, res.Entries = StatusReplaced, CountEntries(cand)
	return res
}

func asRefusal(err error) *Refusal {
	var r *Refusal
	if errors.As(err, &r) {
		return r
	}
	return refuse(ReasonDownload, "%v", err)
}

func firstError(d hcl.Diagnostics) string {
	for _, x := range d {
		if x.Severity != hcl.DiagError {
			continue
		}
		s := x.Summary
		if x.Subject != nil {
			s = fmt.Sprintf("%s:%d: %s", x.Subject.Filename, x.Subject.Start.Line, s)
		}
		if x.Detail != "" {
			s += ": " + x.Detail
		}
		return s
	}
	return d.Error()
}

// maxLastGood bounds reading the file a candidate would replace.
const maxLastGood = 256 << 20
