package feeds

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/lang"
)

const policy = `provider "carrier" {
  signaling  = ["203.0.113.0/24"]
  media      = ["203.0.113.0/24"]
  transports = ["tls"]
}
voice_vlan "phones" {
  id         = 20
  subnet     = "10.20.0.0/24"
  providers  = ["carrier"]
  management = ["10.0.0.0/24"]
}
rate_limit {
  sip   = "10/second"
  burst = 20
}
log {
  dropped = true
}
blocklist "scanners" {
  file = "blocklists/scanners.txt"
  feed = "%s"
}
`

// site writes a policy whose blocklist feeds from url, with a last good
// file (nil: none yet).
func site(t *testing.T, url string, lastGood []byte) (dir, file string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gw.hcl"), fmt.Appendf(nil, policy, url), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "blocklists"), 0o755)
	file = filepath.Join(dir, "blocklists", "scanners.txt")
	if lastGood != nil {
		if err := os.WriteFile(file, lastGood, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("VOICEWALL_LIB_DIR", t.TempDir())
	return dir, file
}

func scannerList(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "198.51.%d.%d\n", i/250, i%250+1)
	}
	return b.String()
}

func serve(t *testing.T, h http.HandlerFunc) (*httptest.Server, *Fetcher) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv, &Fetcher{Client: srv.Client(), APIBANPause: time.Millisecond}
}

func refresh(t *testing.T, dir string, f *Fetcher, gw ...live.Protected) Result {
	t.Helper()
	rep, l, err := Refresh(context.Background(), Options{Path: dir, Fetcher: f, Gateway: gw})
	if err != nil {
		t.Fatalf("refresh: %v %v", err, l.Diags)
	}
	return rep.Results[0]
}

func wantRefused(t *testing.T, r Result, reason Reason, msg string, file string, lastGood []byte) {
	t.Helper()
	if r.Status != StatusRefused || r.Refusal.Reason != reason || !strings.Contains(r.Refusal.Msg, msg) {
		t.Errorf("got %s %+v, want refused (%s) with %q", r.Status, r.Refusal, reason, msg)
	}
	got, err := os.ReadFile(file)
	if lastGood == nil {
		if err == nil {
			t.Errorf("a refused first download wrote %s", file)
		}
	} else if string(got) != string(lastGood) {
		t.Errorf("the last good file changed:\n%s", got)
	}
}

func TestRefreshReplaces(t *testing.T) {
	srv, f := serve(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "# VoIP scanners\n198.51.100.7 ; seen 3 times\n198.51.100.0/25,2024-01-01\n2001:db8:bad::/48\n<not an address>\n")
	})
	dir, file := site(t, srv.URL+"/list.txt", nil)
	r := refresh(t, dir, f)
	if r.Status != StatusReplaced || r.Entries != 3 {
		t.Fatalf("%+v", r)
	}
	b, _ := os.ReadFile(file)
	if !strings.HasSuffix(string(b), "198.51.100.7\n198.51.100.0/25\n2001:db8:bad::/48\n") {
		t.Errorf("candidate:\n%s", b)
	}
	if p, d := lang.Load(dir); d.HasErrors() || !p.Blocklists[0].Addresses.Contains(netip.MustParseAddr("198.51.100.100")) {
		t.Errorf("the policy does not load the new list: %v", d)
	}
	if r := refresh(t, dir, f); r.Status != StatusUnchanged {
		t.Errorf("second refresh: %+v", r)
	}
	Record(&Report{Results: []Result{r}}, time.Now())
	g, err := Gauges()
	if err != nil || len(g) != 1 || !g[0].OK || g[0].Entries != 3 || g[0].LastSuccess.IsZero() || g[0].Refusals["share"] != 0 {
		t.Errorf("gauges: %+v %v", g, err)
	}
}

// Each attack on a feed is refused and keeps the last good file.
func TestRefreshRefusals(t *testing.T) {
	good := []byte("# last good\n" + scannerList(300))
	gw := []live.Protected{
		{Prefix: netip.MustParsePrefix("192.0.2.53/32"), What: "DNS resolver (/etc/resolv.conf)"},
		{Prefix: netip.MustParsePrefix("192.0.2.1/32"), What: "default gateway via eth0"},
	}
	// Every address except the provider's /24, plus both halves of IPv6.
	var cutoff strings.Builder
	for _, p := range exceptPrefix(netip.MustParsePrefix("203.0.113.0/24")) {
		cutoff.WriteString(p.String() + "\n")
	}
	cutoff.WriteString("::/1\n8000::/1\n")
	for _, c := range []struct {
		name    string
		h       http.HandlerFunc
		gw      []live.Protected
		reason  Reason
		msg     string
		scheme  string
		lastNil bool
	}{
		{name: "cut-off", h: text(cutoff.String()), gw: gw, reason: ReasonProtected, msg: "covers 192.0.2.53/32, the DNS resolver"},
		{name: "cut-off without gateway facts", h: text(cutoff.String()), reason: ReasonProtected, msg: `0.0.0.0/1 covers voice_vlan "phones" management (gw.hcl:6)`},
		{name: "VLAN subnet", h: text(scannerList(300) + "10.20.0.128/25\n"), reason: ReasonProtected, msg: `covers voice_vlan "phones" subnets`},
		{name: "share of one entry", h: text(scannerList(300) + "128.0.0.0/2\n"), reason: ReasonShare, msg: "128.0.0.0/2 alone covers 25% of the IPv4 address space"},
		{name: "bad CIDR", h: text(scannerList(300) + "1.2.3.4/33\n"), reason: ReasonInvalid, msg: `blocklists/scanners.txt:303: Bad blocklist line: "1.2.3.4/33" is not a valid CIDR`},
		{name: "provider", h: text(scannerList(300) + "203.0.113.9\n"), reason: ReasonInvalid, msg: "blocks a provider"},
		{name: "management", h: text(scannerList(300) + "10.0.0.0/16\n"), reason: ReasonProtected, msg: `voice_vlan "phones" management`},
		{name: "gateway", h: text(scannerList(300) + "192.0.2.0/28\n"), gw: gw, reason: ReasonProtected, msg: "the default gateway via eth0"},
		{name: "share of the union", h: text(scannerList(300) + many("%d.0.0.0/12", 20, 50)), reason: ReasonShare, msg: "together cover"},
		{name: "v6 share", h: text(scannerList(300) + "2000::/9\n"), reason: ReasonShare, msg: "IPv6 global unicast"},
		{name: "shrink", h: text("198.51.100.1\n198.51.100.2\n"), reason: ReasonChange, msg: "shrank from 300 to 2"},
		{name: "grow", h: text(scannerList(4000)), reason: ReasonChange, msg: "grew from 300 to 4000"},
		{name: "redirect loop", h: redirect(http.StatusFound, "/elsewhere"), reason: ReasonStatus, msg: "more than 5 redirects"},
		{name: "3xx body", h: status(http.StatusMovedPermanently, scannerList(300)), reason: ReasonStatus, msg: "only a 200 answer is a list"},
		{name: "5xx body", h: status(http.StatusServiceUnavailable, scannerList(300)), reason: ReasonStatus, msg: "503"},
		{name: "truncated", h: truncated(scannerList(300)), reason: ReasonTruncated, msg: "broke off"},
		{name: "html", h: text("<html><body>maintenance</body></html>"), reason: ReasonFormat, msg: "sent HTML"},
		{name: "empty", h: text("# nothing today\n"), reason: ReasonFormat, msg: "no address"},
		{name: "http", h: text(scannerList(300)), reason: ReasonScheme, msg: "downloaded over https", scheme: "http"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, f := serve(t, c.h)
			url := srv.URL + "/list"
			if c.scheme == "http" {
				url = strings.Replace(url, "https://", "http://", 1)
				// The policy does not opt in; Feeds refuses it (lang), and a
				// fetcher handed one anyway refuses it too.
				if _, err := f.FetchURL(context.Background(), url, false); err == nil || !strings.Contains(err.Error(), c.msg) {
					t.Errorf("http fetched: %v", err)
				}
				return
			}
			dir, file := site(t, url, good)
			r := refresh(t, dir, f, c.gw...)
			wantRefused(t, r, c.reason, c.msg, file, good)
			Record(&Report{Results: []Result{r}}, time.Now())
			if g, _ := Gauges(); len(g) != 1 || g[0].OK || g[0].Refusals[string(c.reason)] != 1 {
				t.Errorf("metrics: %+v", g)
			}
		})
	}
}

func TestLock(t *testing.T) {
	t.Setenv("VOICEWALL_LIB_DIR", t.TempDir())
	unlock, err := Lock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(); err == nil || !strings.Contains(err.Error(), "another voicewall refresh is running") {
		t.Errorf("second lock: %v", err)
	}
	unlock()
	u2, err := Lock()
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	u2()
}

func TestRedirectSameScheme(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old", redirect(http.StatusFound, "/new"))
	mux.HandleFunc("/new", text(scannerList(5)))
	srv, f := serve(t, mux.ServeHTTP)
	if b, err := f.FetchURL(context.Background(), srv.URL+"/old", false); err != nil || !strings.Contains(string(b), "198.51.0.5") {
		t.Errorf("same-scheme redirect: %v", err)
	}
	// To http: refused, whatever the answer there.
	srv2, f2 := serve(t, redirect(http.StatusFound, "http://127.0.0.1:1/x"))
	if _, err := f2.FetchURL(context.Background(), srv2.URL+"/x", false); err == nil || !strings.Contains(err.Error(), "redirected from https to http") {
		t.Errorf("https→http redirect: %v", err)
	}
}

func TestSizeCap(t *testing.T) {
	srv, f := serve(t, text(scannerList(2000)))
	f.MaxBytes = 1000
	if _, err := f.FetchURL(context.Background(), srv.URL, false); err == nil || asRefusal(err).Reason != ReasonSize {
		t.Errorf("over the cap: %v", err)
	}
	// Without a Content-Length (chunked), the cap still holds.
	srv, f = serve(t, func(w http.ResponseWriter, r *http.Request) {
		for range 100 {
			io.WriteString(w, scannerList(20))
			w.(http.Flusher).Flush()
		}
	})
	f.MaxBytes = 1000
	if _, err := f.FetchURL(context.Background(), srv.URL, false); err == nil || asRefusal(err).Reason != ReasonSize {
		t.Errorf("chunked over the cap: %v", err)
	}
}

// A candidate that is fine is validated with the whole policy: another
// feed's missing file (its first refresh) counts as empty, not an error.
func TestFirstRefresh(t *testing.T) {
	srv, f := serve(t, text(scannerList(3)))
	dir, file := site(t, srv.URL, nil)
	r := refresh(t, dir, f)
	if r.Status != StatusReplaced {
		t.Fatalf("%+v", r)
	}
	if b, _ := os.ReadFile(file); CountEntries(b) != 3 {
		t.Errorf("%s", b)
	}
}

func TestLegacyFeedsConf(t *testing.T) {
	srv, f := serve(t, text(scannerList(4)))
	dir, _ := site(t, srv.URL, []byte(scannerList(4)))
	os.WriteFile(filepath.Join(dir, "blocklists", "feeds.conf"), []byte("# old way\nvoipbl "+srv.URL+"/v\n"), 0o644)
	rep, _, err := Refresh(context.Background(), Options{Path: dir, Fetcher: f})
	if err != nil || len(rep.Results) != 2 {
		t.Fatalf("%v %+v", err, rep)
	}
	if r := rep.Results[1]; r.Blocklist != "voipbl" || r.Status != StatusReplaced || r.File != "blocklists/voipbl.txt" {
		t.Errorf("%+v", r)
	}
}

func TestAPIBAN(t *testing.T) {
	var calls, limited atomic.Int32
	pages := map[string]apibanAnswer{
		"100":  {IPs: []string{"198.51.100.1", "198.51.100.2"}, ID: "1001"},
		"1001": {IPs: []string{"198.51.100.3", "2001:db8:bad::1"}, ID: "1002"},
	}
	h := func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/api/get" || r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"ipaddress":["unauthorized"],"ID":"unauthorized"}`)
			return
		}
		var q struct{ Set, ID string }
		json.NewDecoder(r.Body).Decode(&q)
		if q.ID == "1001" && limited.Add(1) == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if p, ok := pages[q.ID]; ok && q.Set == "sip" {
			json.NewEncoder(w).Encode(p)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"ipaddress":["no new bans"],"ID":"none"}`)
	}
	srv, f := serve(t, h)
	var waited []time.Duration
	f.Sleep = func(_ context.Context, d time.Duration) error { waited = append(waited, d); return nil }
	f.APIBANURL = srv.URL + "/api/"
	dir := t.TempDir()
	key := filepath.Join(dir, "apiban.key")
	os.WriteFile(key, []byte("s3cret\n"), 0o600)
	body, err := f.FetchAPIBAN(context.Background(), "sip", key)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != "198.51.100.1\n198.51.100.2\n198.51.100.3\n2001:db8:bad::1\n" {
		t.Errorf("list: %q", body)
	}
	// Pauses between pages, and the 429's Retry-After honoured.
	if fmt.Sprint(waited) != "[1ms 2s 1ms 1ms]" || calls.Load() != 4 {
		t.Errorf("waits %v, calls %d", waited, calls.Load())
	}
	// A bad key, a loose key file, a ban (418).
	os.WriteFile(key, []byte("wrong\n"), 0o600)
	if _, err := f.FetchAPIBAN(context.Background(), "sip", key); err == nil || !strings.Contains(err.Error(), "refused the key") {
		t.Errorf("bad key: %v", err)
	}
	os.Chmod(key, 0o644)
	if _, err := f.FetchAPIBAN(context.Background(), "sip", key); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Errorf("loose key file: %v", err)
	}
	os.Chmod(key, 0o600)
	srv418, f418 := serve(t, status(http.StatusTeapot, ""))
	f418.APIBANURL = srv418.URL + "/api/"
	if _, err := f418.FetchAPIBAN(context.Background(), "sip", key); err == nil || !strings.Contains(err.Error(), "banned this address") {
		t.Errorf("418: %v", err)
	}
	// A server that keeps answering 429 is given up on, not hammered.
	srv429, f429 := serve(t, status(http.StatusTooManyRequests, ""))
	f429.APIBANURL, f429.Sleep = srv429.URL+"/api/", func(context.Context, time.Duration) error { return nil }
	if _, err := f429.FetchAPIBAN(context.Background(), "sip", key); err == nil || !strings.Contains(err.Error(), "kept answering 429") {
		t.Errorf("429 forever: %v", err)
	}
}

func text(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s) }
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code); io.WriteString(w, body) }
}

func redirect(code int, to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, code) }
}

// truncated announces the whole body and sends half of it.
func truncated(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(s)))
		io.WriteString(w, s[:len(s)/2])
		if hj, ok := w.(http.Hijacker); ok {
			c, _, _ := hj.Hijack()
			c.Close()
		}
	}
}

func many(format string, from, n int) string {
	var b strings.Builder
	for i := from; i < from+n && i < 256; i++ {
		fmt.Fprintf(&b, format+"\n", i)
	}
	return b.String()
}

// exceptPrefix lists the prefixes covering all of IPv4 but p.
func exceptPrefix(p netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for bits := 1; bits <= p.Bits(); bits++ {
		// The sibling of p's ancestor at this length.
		anc, _ := p.Addr().Prefix(bits)
		b := anc.Addr().As4()
		i := (bits - 1) / 8
		b[i] ^= 1 << (7 - (bits-1)%8)
		out = append(out, netip.PrefixFrom(netip.AddrFrom4(b), bits))
	}
	return out
}
