package providers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicewall/voicewall/feeds"
)

// stand-in is a local HTTPS server playing Zoom's and Microsoft's lists.
type standIn struct {
	mu                    sync.Mutex
	zoom, version, m365   string
	didww                 string
	zoomLength            int // a Content-Length to announce (0: the real one)
	versionHits, m365Hits int
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/ZoomPhone.txt":
		if s.zoomLength > 0 {
			w.Header().Set("Content-Length", fmt.Sprint(s.zoomLength))
		}
		fmt.Fprint(w, s.zoom)
	case "/version":
		s.versionHits++
		fmt.Fprintf(w, `{"instance":"Worldwide","latest":%q}`, s.version)
	case "/voice.json":
		fmt.Fprint(w, s.didww)
	case "/endpoints":
		s.m365Hits++
		fmt.Fprint(w, s.m365)
	default:
		http.NotFound(w, r)
	}
}

const m365JSON = `[{"id":11,"serviceArea":"Skype","category":"Optimize","ips":["13.107.64.0/18","52.112.0.0/14","52.122.0.0/15","2603:1063::/38"],"udpPorts":"3478,3479,3480,3481"},
{"id":12,"serviceArea":"Skype","category":"Allow","ips":["52.238.119.141/32"]},
{"id":1,"serviceArea":"Exchange","category":"Optimize","ips":["13.107.6.152/31"]}]`

func TestUpdateAgainstHTTPSStandIn(t *testing.T) {
	si := &standIn{zoom: "# Zoom Phone\n8.5.128.0/23\n173.231.92.0/24\n", version: "2026112800", m365: m365JSON}
	srv := httptest.NewTLSServer(si)
	defer srv.Close()
	lib := t.TempDir()
	srcs := []UpdateSource{
		{Entry: "zoom-phone", Kind: "lines", URL: srv.URL + "/ZoomPhone.txt"},
		{Entry: "microsoft-teams", Kind: "m365", URL: srv.URL + "/endpoints", VersionURL: srv.URL + "/version"},
	}
	f := &feeds.Fetcher{Client: srv.Client()}
	day := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	update := func() map[string]Outcome {
		t.Helper()
		res, err := Update(context.Background(), UpdateOptions{LibDir: lib, Sources: srcs, Fetcher: f, Now: day})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]Outcome{}
		for _, r := range res {
			m[r.Entry] = r
		}
		return m
	}
	r := update()
	if r["zoom-phone"].Status != "updated" || r["zoom-phone"].Ranges != 2 || r["microsoft-teams"].Status != "updated" || r["microsoft-teams"].Version != "2026112800" || r["microsoft-teams"].Ranges != 4 {
		t.Fatalf("first update: %+v", r)
	}
	cat, warn, err := LoadCatalog(lib)
	if err != nil || warn != "" {
		t.Fatal(err, warn)
	}
	z, ok := cat.Get("zoom-phone")
	if !ok || z.Origin != "update" || z.Verified != "2026-12-05" || len(z.Sources) != 1 || !strings.HasPrefix(z.Sources[0].URL, "https://") {
		t.Fatalf("zoom-phone entry: %+v", z)
	}
	ms, _ := cat.Get("microsoft-teams")
	if strings.Join(ms.Signaling, ",") != "13.107.64.0/18,52.112.0.0/14,52.122.0.0/15,2603:1063::/38" || len(ms.DNS) != 3 || ms.TLSPort != 5061 {
		t.Errorf("microsoft-teams keeps the embedded entry's transports and names, takes Optimize ranges: %+v", ms)
	}

	// The same version is not downloaded again.
	if r = update(); r["microsoft-teams"].Status != "unchanged" || si.m365Hits != 1 {
		t.Errorf("unchanged version: %+v, %d downloads", r["microsoft-teams"], si.m365Hits)
	}

	// Refused lists keep the last good entry.
	for name, bad := range map[string]func(){
		"private range":            func() { si.zoom = "8.5.128.0/23\n10.0.0.0/8\n" },
		"documentation":            func() { si.zoom = "192.0.2.0/24\n" },
		"empty":                    func() { si.zoom = "# nothing today\n" },
		"html":                     func() { si.zoom = "<html><body>maintenance</body></html>" },
		"garbage line":             func() { si.zoom = "8.5.128.0/23\nnot-an-address\n" },
		"truncated":                func() { si.zoom, si.zoomLength = "8.5.128.0/23\n", 4000 },
		"over the cap":             func() { si.zoom = strings.Repeat("8.5.128.0/23\n", (maxUpdateBytes/13)+10) },
		"another provider's range": func() { si.zoom = "168.86.128.0/18\n" },
	} {
		bad()
		r = update()
		si.zoomLength = 0
		if r["zoom-phone"].Status != "refused" {
			t.Errorf("%s: not refused: %+v", name, r["zoom-phone"])
		}
		cat, _, _ := LoadCatalog(lib)
		if z, _ := cat.Get("zoom-phone"); z == nil || strings.Join(z.Signaling, ",") != "8.5.128.0/23,173.231.92.0/24" {
			t.Errorf("%s: the last good entry did not stay: %+v", name, z)
		}
	}

	// Plain http is refused outright.
	plain := httptest.NewServer(si)
	defer plain.Close()
	res, _ := Update(context.Background(), UpdateOptions{LibDir: lib, Sources: []UpdateSource{{Entry: "zoom-phone", Kind: "lines", URL: plain.URL + "/ZoomPhone.txt"}}, Fetcher: &feeds.Fetcher{}, Now: day})
	if len(res) != 1 || res[0].Status != "refused" || !strings.Contains(res[0].Reason, "https") {
		t.Errorf("http: %+v", res)
	}
}

// didwwJSON has the shape of DIDWW's voice.json (its inbound signaling
// part) with one location more than the embedded entry.
const didwwJSON = `{"version": "VERSION", "updated_at": "2026-12-01T00:00:00Z",
 "inbound": {"signaling": {
  "static_sip_uri": {"description": "Endpoints DIDWW originates calls from", "endpoints": [
   {"location": "New York", "ipv4": "46.19.209.14", "ipv6": "2a01:ad00:1:14::14"},
   {"location": "Frankfurt", "ipv4": "46.19.210.14", "ipv6": "2a01:ad00:2:14::14"},
   {"location": "Los Angeles", "ipv4": "46.19.212.14", "ipv6": "2a01:ad00:4:14::14"},
   {"location": "Miami", "ipv4": "46.19.213.14", "ipv6": "2a01:ad00:5:14::14"},
   {"location": "Singapore", "ipv4": "46.19.214.14", "ipv6": "2a01:ad00:6:14::14"},
   {"location": "Hong Kong", "ipv4": "46.19.215.14", "ipv6": "2a01:ad00:7:14::14"},
   {"location": "Amsterdam", "ipv4": "185.238.173.14", "ipv6": "2a01:ad00:8:14::14"},
   {"location": "Somewhere new", "ipv4": "46.19.216.14", "ipv6": "2a01:ad00:9:14::14"}]},
  "sip_registration": {"registrars": [
   {"fqdn": "sip.didww.com", "scope": "global", "ipv4": ["46.19.209.49", "185.238.173.49"], "ipv6": ["2a01:ad00:1:1::49", "2a01:ad00:8:1::49"]}]}}},
 "outbound": {"signaling": [{"location": "New York", "ipv4": "46.19.209.44"}]}}`

func TestUpdateDIDWW(t *testing.T) {
	si := &standIn{didww: strings.Replace(didwwJSON, "VERSION", "2026-12-01", 1)}
	srv := httptest.NewTLSServer(si)
	defer srv.Close()
	lib := t.TempDir()
	srcs := []UpdateSource{{Entry: "didww", Kind: "didww", URL: srv.URL + "/voice.json"}}
	update := func() Outcome {
		t.Helper()
		res, err := Update(context.Background(), UpdateOptions{LibDir: lib, Sources: srcs, Fetcher: &feeds.Fetcher{Client: srv.Client()}, Now: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)})
		if err != nil || len(res) != 1 {
			t.Fatal(err, res)
		}
		return res[0]
	}
	if r := update(); r.Status != "updated" || r.Version != "2026-12-01" || r.Ranges != 20 ||
		strings.Join(r.Added, ",") != "46.19.216.14/32,2a01:ad00:9:14::14/128" || len(r.Removed) != 0 {
		t.Fatalf("first update: %+v", r)
	}
	cat, warn, err := LoadCatalog(lib)
	if err != nil || warn != "" {
		t.Fatal(err, warn)
	}
	d, _ := cat.Get("didww")
	// Signaling only: the outbound load balancer is not an inbound source,
	// and media stays unpublished (symmetric_rtp), as in the embedded entry.
	if d == nil || !slices.Contains(d.Signaling, "46.19.216.14/32") || slices.Contains(d.Signaling, "46.19.209.44/32") || len(d.Media) != 0 || !d.SymmetricRTP || d.Origin != "update" || len(d.DNS) != 3 {
		t.Fatalf("didww entry: %+v", d)
	}
	if r := update(); r.Status != "unchanged" {
		t.Errorf("same version: %+v", r)
	}
	si.didww = strings.Replace(strings.Replace(didwwJSON, "VERSION", "2026-12-02", 1), "46.19.216.14", "10.0.0.14", 1)
	if r := update(); r.Status != "refused" || !strings.Contains(r.Reason, "10.0.0.14") {
		t.Errorf("a private address: %+v", r)
	}
	si.didww = "<html>maintenance</html>"
	if r := update(); r.Status != "refused" {
		t.Errorf("html: %+v", r)
	}
	cat, _, _ = LoadCatalog(lib)
	if d, _ := cat.Get("didww"); d == nil || !slices.Contains(d.Signaling, "46.19.216.14/32") {
		t.Errorf("the last good entry did not stay: %+v", d)
	}
}

// TestUpdateRefusesAShrink: a list that drops most of a provider's
// addresses is refused unattended (applying it would drop the provider's
// calls) unless the entry is named with AllowShrink.
func TestUpdateRefusesAShrink(t *testing.T) {
	si := &standIn{zoom: "8.5.128.0/23\n173.231.92.0/24\n170.114.0.0/16\n"}
	srv := httptest.NewTLSServer(si)
	defer srv.Close()
	lib := t.TempDir()
	update := func(allow ...string) Outcome {
		t.Helper()
		res, err := Update(context.Background(), UpdateOptions{LibDir: lib, Sources: []UpdateSource{{Entry: "zoom-phone", Kind: "lines", URL: srv.URL + "/ZoomPhone.txt"}},
			Fetcher: &feeds.Fetcher{Client: srv.Client()}, Now: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC), AllowShrink: allow})
		if err != nil || len(res) != 1 {
			t.Fatal(err, res)
		}
		return res[0]
	}
	if r := update(); r.Status != "updated" {
		t.Fatalf("first list: %+v", r)
	}
	// The /16 gone: 512+256 of 66,304 addresses kept.
	si.zoom = "8.5.128.0/23\n173.231.92.0/24\n"
	r := update()
	if r.Status != "refused" || !strings.Contains(r.Reason, "keeps 1% of the IPv4 addresses") || !strings.Contains(r.Reason, "--allow-shrink zoom-phone") || strings.Join(r.Removed, ",") != "170.114.0.0/16" {
		t.Fatalf("a shrink: %+v", r)
	}
	cat, _, _ := LoadCatalog(lib)
	if z, _ := cat.Get("zoom-phone"); z == nil || !slices.Contains(z.Signaling, "170.114.0.0/16") {
		t.Errorf("the last good list did not stay: %+v", z)
	}
	// The refusal is on record for the metrics, the success before it too.
	g, err := UpdateGauges(lib)
	if err != nil || len(g) != 1 || g[0].Entry != "zoom-phone" || g[0].Refusals != 1 || g[0].LastSuccess.IsZero() || !g[0].LastAttempt.Equal(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("update record: %+v %v", g, err)
	}
	// Named with AllowShrink, the shrink is kept.
	if r := update("zoom-phone"); r.Status != "updated" || strings.Join(r.Removed, ",") != "170.114.0.0/16" {
		t.Fatalf("allowed shrink: %+v", r)
	}
	if g, _ := UpdateGauges(lib); len(g) != 1 || g[0].Refusals != 1 {
		t.Errorf("a success does not reset the refusal count: %+v", g)
	}
}
