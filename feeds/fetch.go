// Package feeds refreshes blocklist files from their feeds (`voicewall
// refresh`): it downloads each feed strictly (https, the system CA store, no
// scheme-changing redirect, a size cap, a complete body, 200 only),
// converts it into the blocklist format, validates the candidate with the
// whole policy (through lang's overlay, never by writing it first), guards it
// (protected addresses, share of the address space, change against the last
// good file) and only then replaces the last good file atomically. A refused
// candidate leaves the file, and so the kernel, as they were. The outcome of
// every feed is recorded for the metrics.
package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Reason classifies a refusal (the `reason` label of the metrics).
type Reason string

const (
	ReasonDownload  Reason = "download"  // network, DNS, TLS (an untrusted certificate)
	ReasonStatus    Reason = "status"    // not 200: a 3xx/4xx/5xx body is never a list
	ReasonScheme    Reason = "scheme"    // plain http without allow_http, or a redirect to another scheme
	ReasonSize      Reason = "size"      // larger than the cap
	ReasonTruncated Reason = "truncated" // shorter than its Content-Length, or cut off
	ReasonFormat    Reason = "format"    // not a list (no address lines, HTML, bad JSON)
	ReasonInvalid   Reason = "invalid"   // the policy does not load with the candidate
	ReasonProtected Reason = "protected" // covers a provider, management, PBX, VLAN, resolver, gateway
	ReasonShare     Reason = "share"     // covers more of the address space than max_share
	ReasonChange    Reason = "change"    // grew or shrank beyond max_change
	ReasonAPI       Reason = "api"       // the API refused (key, rate limit, ban)
)

// Reasons lists every reason, for metrics that show zero counts too.
var Reasons = []Reason{ReasonDownload, ReasonStatus, ReasonScheme, ReasonSize, ReasonTruncated, ReasonFormat, ReasonInvalid, ReasonProtected, ReasonShare, ReasonChange, ReasonAPI}

// Refusal is why a feed's candidate did not replace its file.
type Refusal struct {
	Reason Reason
	Msg    string
	// statusBody is the start of a non-200 answer's body: never a list,
	// only searched by an API client for its own markers.
	statusBody []byte
}

func (r *Refusal) Error() string { return r.Msg }

func refuse(r Reason, format string, args ...any) *Refusal {
	return &Refusal{Reason: r, Msg: fmt.Sprintf(format, args...)}
}

// DefaultMaxBytes caps one download: a 1,000,000-line list of IPv6 CIDRs
// is about 45 MB.
const DefaultMaxBytes = 64 << 20

// Fetcher downloads feeds. The zero value is ready: it uses the system's CA
// store (SSL_CERT_FILE and SSL_CERT_DIR are honoured) and the proxy from
// the environment.
type Fetcher struct {
	// Client, when set, replaces the default client (tests); its redirect
	// policy is replaced by the fetcher's own.
	Client   *http.Client
	MaxBytes int64         // 0: DefaultMaxBytes
	Timeout  time.Duration // per feed; 0: 2 minutes
	// APIBANURL is APIBAN's API root (default DefaultAPIBANURL).
	APIBANURL string
	// Sleep waits between API pages and after a rate limit (tests shorten it).
	Sleep func(context.Context, time.Duration) error
	// APIBANPause is the pause between two APIBAN requests (0: 1s).
	APIBANPause time.Duration
}

func (f *Fetcher) maxBytes() int64 {
	if f.MaxBytes > 0 {
		return f.MaxBytes
	}
	return DefaultMaxBytes
}

func (f *Fetcher) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return 2 * time.Minute
}

func (f *Fetcher) sleep(ctx context.Context, d time.Duration) error {
	if f.Sleep != nil {
		return f.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// client returns the HTTP client with the fetcher's redirect rule: at most
// 5 hops, never to another scheme (an https feed never continues over
// http, an http mirror never wanders off to somewhere else's https).
func (f *Fetcher) client() *http.Client {
	c := &http.Client{}
	if f.Client != nil {
		*c = *f.Client
	} else {
		c.Transport = http.DefaultTransport
	}
	c.Timeout = 0 // the context bounds each feed
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return refuse(ReasonStatus, "more than 5 redirects")
		}
		if from := via[0].URL.Scheme; req.URL.Scheme != from {
			return refuse(ReasonScheme, "redirected from %s to %s (%s): a feed never changes scheme", from, req.URL.Scheme, redactURL(req.URL))
		}
		return nil
	}
	return c
}

// get does one request and returns the body of a 200 response, whole:
// the size cap and Content-Length are enforced; any other status is an
// error whose body is never read as a list.
func (f *Fetcher) get(ctx context.Context, req *http.Request, budget *int64) ([]byte, *http.Response, error) {
	resp, err := f.client().Do(req.WithContext(ctx))
	if err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			return nil, nil, r
		}
		return nil, nil, refuse(ReasonDownload, "downloading %s: %v", redactURL(req.URL), cleanErr(err, req.URL))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r := refuse(ReasonStatus, "%s answered %s; only a 200 answer is a list (the old file stays)", redactURL(req.URL), printable(resp.Status))
		r.statusBody, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, resp, r
	}
	if resp.ContentLength > *budget {
		return nil, resp, refuse(ReasonSize, "%s announces %d bytes, more than the %d-byte cap", redactURL(req.URL), resp.ContentLength, f.maxBytes())
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, *budget+1))
	if err != nil {
		return nil, resp, refuse(ReasonTruncated, "the download of %s broke off after %d bytes: %v", redactURL(req.URL), len(body), cleanErr(err, req.URL))
	}
	if int64(len(body)) > *budget {
		return nil, resp, refuse(ReasonSize, "%s sent more than the %d-byte cap", redactURL(req.URL), f.maxBytes())
	}
	if resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength {
		return nil, resp, refuse(ReasonTruncated, "%s sent %d bytes of the %d its Content-Length announced", redactURL(req.URL), len(body), resp.ContentLength)
	}
	*budget -= int64(len(body))
	return body, resp, nil
}

// FetchURL downloads a list URL. http is refused unless allowHTTP.
func (f *Fetcher) FetchURL(ctx context.Context, raw string, allowHTTP bool) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, refuse(ReasonScheme, "bad feed URL: %v", err)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	default:
		return nil, refuse(ReasonScheme, "%s: feeds are downloaded over https; a cleartext mirror needs allow_http = true in the policy", redactURL(u))
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, refuse(ReasonScheme, "bad feed URL: %v", err)
	}
	req.Header.Set("User-Agent", "voicewall-refresh")
	budget := f.maxBytes()
	body, _, err := f.get(ctx, req, &budget)
	return body, err
}

// redactURL drops a query string (tokens live there) from messages.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	return printable(c.String())
}

// cleanErr strips the URL the http client repeats in its errors.
func cleanErr(err error, u *url.URL) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return printable(strings.ReplaceAll(err.Error(), u.String(), redactURL(u)))
}

// printable keeps server-controlled text (a status line) from writing
// control characters to a terminal or a log.
func printable(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
