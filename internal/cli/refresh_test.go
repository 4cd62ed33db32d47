package cli

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicewall/voicewall/internal/netnstest"
	"github.com/voicewall/voicewall/internal/testenv"
)

// unitLines reads a systemd unit's directive values, in order (the test
// follows the real unit, not a copy of its command).
func unitLines(t *testing.T, unit, key string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("../../contrib/systemd", unit))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), key+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

// runUnit runs a unit's ExecStart lines in ns as systemd would run them
// there: voicewall and /etc/voicewall replaced by the test's, under the
// unit's capability bounding set when setpriv is there (ns nil: in the
// test's own namespace, for a unit that only reads it). It returns the
// combined output and the first failure.
func runUnit(t *testing.T, ns *netnstest.NS, unit, policy string, env ...string) (string, error) {
	t.Helper()
	bin := voicewallBinary(t)
	var caps []string
	for _, c := range unitLines(t, unit, "CapabilityBoundingSet") {
		for _, f := range strings.Fields(c) {
			caps = append(caps, "+"+strings.ToLower(strings.TrimPrefix(f, "CAP_")))
		}
	}
	var all strings.Builder
	for _, line := range unitLines(t, unit, "ExecStart") {
		argv := strings.Fields(line)
		for i, a := range argv {
			argv[i] = strings.NewReplacer("/usr/bin/voicewall", bin, "/etc/voicewall", policy).Replace(a)
		}
		if _, err := exec.LookPath("setpriv"); err == nil {
			argv = append([]string{"setpriv", "--bounding-set=-all" + prefixComma(strings.Join(caps, ",")), "--inh-caps=-all", "--"}, argv...)
		}
		var cmd *exec.Cmd
		if ns != nil {
			cmd = ns.Command(t.Context(), argv...)
		} else {
			cmd = exec.CommandContext(t.Context(), argv[0], argv[1:]...)
		}
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		all.Write(out)
		if err != nil {
			return all.String(), fmt.Errorf("%s: %w", line, err)
		}
	}
	return all.String(), nil
}

func prefixComma(s string) string {
	if s == "" {
		return ""
	}
	return "," + s
}

func copyPolicy(t *testing.T, example string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "etc-voicewall")
	if out, err := exec.Command("cp", "-r", filepath.Join("../../examples", example), dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return dir
}

// Boot never fails open: a policy that no longer loads at boot (the
// ruleset flushed as a reboot leaves it) gets the last good table back
// from the apply unit's own ExecStart, and the unit still fails.
func TestBootFallsBackToLastGood(t *testing.T) {
	testenv.SkipShort(t, "kernel, network namespaces")
	ns := gwNS(t, false)
	t.Setenv("VOICEWALL_LIB_DIR", t.TempDir())
	policy := copyPolicy(t, "smb-blocklist")
	if out, err := runUnit(t, ns, "voicewall-apply.service", policy); err != nil {
		t.Fatalf("first boot: %v\n%s", err, out)
	}
	applied := listed(t, ns)
	if applied == "" {
		t.Fatal("no table after the first apply")
	}
	// The reboot, and a policy broken meanwhile (a feed line moved into
	// place by hand).
	if _, err := ns.Run("nft", "flush", "ruleset"); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(filepath.Join(policy, "blocklists/voipbl.txt"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("1.2.3.4/33\n")
	f.Close()
	out, err := runUnit(t, ns, "voicewall-apply.service", policy)
	if err == nil {
		t.Fatalf("the unit succeeded with a broken policy:\n%s", out)
	}
	if !strings.Contains(out, "THE POLICY DID NOT APPLY. Loaded the LAST GOOD TABLE") || !strings.Contains(out, `"1.2.3.4/33" is not a valid CIDR`) {
		t.Errorf("not said loudly:\n%s", out)
	}
	if got := listed(t, ns); got != applied {
		t.Errorf("the table after the fallback differs from the one applied:\n%s\nwant:\n%s", got, applied)
	}
	// With the table in place, the fallback leaves it and the unit fails.
	out, err = runUnit(t, ns, "voicewall-apply.service", policy)
	if err == nil || !strings.Contains(out, "is in place") {
		t.Errorf("second failing run: %v\n%s", err, out)
	}
	// Without a last good table there is nothing to load: said, and failed.
	ns.Run("nft", "flush", "ruleset")
	os.RemoveAll(filepath.Join(os.Getenv("VOICEWALL_LIB_DIR"), "last-good"))
	out, err = runUnit(t, ns, "voicewall-apply.service", policy)
	if err == nil || !strings.Contains(out, "THERE IS NO FIREWALL TABLE") {
		t.Errorf("no last good table: %v\n%s", err, out)
	}
}

// feedServer is a local HTTPS feed whose answer the test switches; its
// certificate is trusted only through SSL_CERT_FILE (the system CA path).
type feedServer struct {
	*httptest.Server
	mu      sync.Mutex
	handler http.HandlerFunc
	caFile  string
}

func (s *feedServer) set(h http.HandlerFunc) { s.mu.Lock(); s.handler = h; s.mu.Unlock() }

func newFeedServer(t *testing.T) *feedServer {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "voicewall test feed"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	s := &feedServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		h := s.handler
		s.mu.Unlock()
		h(w, r)
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	s.StartTLS()
	t.Cleanup(s.Close)
	s.caFile = filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(s.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	return s
}

func body(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s) }
}

func scanners(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "198.51.%d.%d\n", 101+i/250, i%250+1)
	}
	return b.String()
}

// cutOff lists every IPv4 address except the provider's /24, and all of
// IPv6 in two halves: the feed that cuts a gateway off.
func cutOff(keep netip.Prefix) string {
	var b strings.Builder
	for bits := 1; bits <= keep.Bits(); bits++ {
		anc, _ := keep.Addr().Prefix(bits)
		a := anc.Addr().As4()
		a[(bits-1)/8] ^= 1 << (7 - (bits-1)%8)
		fmt.Fprintf(&b, "%s\n", netip.PrefixFrom(netip.AddrFrom4(a), bits))
	}
	return b.String() + "::/1\n8000::/1\n"
}

// The feed attacks against a gateway in a namespace: each is refused, the
// last good file and the kernel's table stay, the refusal is said and
// counted; a good feed is applied.
func TestRefreshAttacks(t *testing.T) {
	testenv.SkipShort(t, "kernel, network namespaces")
	ns := gwNS(t, false)
	t.Setenv("VOICEWALL_LIB_DIR", t.TempDir())
	for _, c := range [][]string{
		{"ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"},
		{"ip", "link", "set", "eth0", "up"},
		{"ip", "link", "set", "peer0", "up"},
		{"ip", "route", "add", "default", "via", "192.0.2.1"},
	} {
		if _, err := ns.Run(c...); err != nil {
			t.Fatal(err)
		}
	}
	// The namespace's resolver, as `ip netns exec` shows it.
	etc := filepath.Join("/etc/netns", ns.Name)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte("nameserver 192.0.2.53\n"), 0o644)

	srv := newFeedServer(t)
	policy := copyPolicy(t, "smb-blocklist")
	hcl := filepath.Join(policy, "policy.hcl")
	src, _ := os.ReadFile(hcl)
	src = []byte(strings.Replace(string(src), `file      = "blocklists/voipbl.txt"`, `file      = "blocklists/voipbl.txt"
  feed      = "`+srv.URL+`/voipbl"`, 1))
	os.WriteFile(hcl, src, 0o644)
	list := filepath.Join(policy, "blocklists/voipbl.txt")
	bin := voicewallBinary(t)
	refresh := func(env ...string) (string, error) {
		cmd := exec.Command(bin, "refresh", policy, "--netns", ns.Name, "--apply")
		cmd.Env = append(os.Environ(), append([]string{"SSL_CERT_FILE=" + srv.caFile, "SSH_CONNECTION="}, env...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	// The refresh unit's download step, as the unit runs it: root without
	// any capability (it only reads the routes of the namespace it is in).
	srv.set(body("# scanners\n" + scanners(300)))
	if out, err := runUnit(t, nil, "voicewall-refresh.service", policy, "SSL_CERT_FILE="+srv.caFile); err != nil || !strings.Contains(out, "replaced, 300 entries") {
		t.Fatalf("the refresh unit without capabilities: %v\n%s", err, out)
	}
	srv.set(body("# scanners\n" + scanners(400)))
	out, err := refresh()
	if err != nil || !strings.Contains(out, "replaced, 400 entries") || !strings.Contains(out, "Apply complete!") {
		t.Fatalf("good feed: %v\n%s", err, out)
	}
	good, _ := os.ReadFile(list)
	table := listed(t, ns)

	truncated := func(w http.ResponseWriter, r *http.Request) {
		s := scanners(400)
		w.Header().Set("Content-Length", fmt.Sprint(len(s)))
		io.WriteString(w, s[:len(s)/2])
		c, _, _ := w.(http.Hijacker).Hijack()
		c.Close()
	}
	for _, c := range []struct {
		name string
		h    http.HandlerFunc
		env  []string
		want []string
	}{
		{"cut-off", body(cutOff(netip.MustParsePrefix("203.0.113.0/24"))), nil,
			[]string{"refused (protected)", "covers 192.0.2.53/32, the DNS resolver (/etc/netns/" + ns.Name + "/resolv.conf)"}},
		{"bad CIDR", body(scanners(400) + "1.2.3.4/33\n"), nil,
			[]string{"refused (invalid)", `blocklists/voipbl.txt:403: Bad blocklist line: "1.2.3.4/33" is not a valid CIDR`}},
		{"3xx body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusMultipleChoices) // no Location: nothing to follow
			io.WriteString(w, scanners(400))
		}, nil, []string{"refused (status)", "answered 300 Multiple Choices; only a 200 answer is a list"}},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, nil, []string{"refused (status)", "more than 5 redirects"}},
		{"truncated", truncated, nil, []string{"refused (truncated)"}},
		{"untrusted certificate", body(scanners(400)), []string{"SSL_CERT_FILE=/dev/null"}, []string{"refused (download)", "certificate"}},
	} {
		srv.set(c.h)
		out, err := refresh(c.env...)
		if err == nil {
			t.Errorf("%s: refresh exited 0:\n%s", c.name, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", c.name, w, out)
			}
		}
		if now, _ := os.ReadFile(list); string(now) != string(good) {
			t.Errorf("%s: the last good file changed", c.name)
		}
		if got := listed(t, ns); got != table {
			t.Errorf("%s: the kernel's table changed", c.name)
		}
	}
	// Plain http without the policy's opt-in is a policy error.
	os.WriteFile(hcl, []byte(strings.Replace(string(src), srv.URL, strings.Replace(srv.URL, "https:", "http:", 1), 1)), 0o644)
	if out, err := refresh(); err == nil || !strings.Contains(out, "a cleartext http download can be changed") {
		t.Errorf("plain http: %v\n%s", err, out)
	}
	os.WriteFile(hcl, src, 0o644)

	// A reboot after the refused /33 still applies: the file on disk is
	// the last good one.
	ns.Run("nft", "flush", "ruleset")
	if out, err := runUnit(t, ns, "voicewall-apply.service", policy); err != nil || listed(t, ns) != table {
		t.Errorf("boot after the refusals: %v\n%s", err, out)
	}

	// The refusals are in the metrics.
	cmd := exec.Command(bin, "status", policy, "--netns", ns.Name, "--format", "prometheus")
	prom, err := cmd.CombinedOutput()
	nl := `,netns="` + ns.Name + `"} `
	for _, w := range []string{
		`voicewall_feed_last_refresh_success{blocklist="scanners",feed="` + srv.URL + `/voipbl"` + nl + `0`,
		`reason="protected"` + nl + `1`, `reason="invalid"` + nl + `1`, `reason="status"` + nl + `2`, `reason="truncated"` + nl + `1`, `reason="download"` + nl + `1`,
	} {
		if !strings.Contains(string(prom), w) {
			t.Errorf("metrics lack %s: %v\n%s", w, err, grepLines(string(prom), "voicewall_feed"))
		}
	}

	// A hand edit that blocks the resolver is refused by the apply itself,
	// unattended (no SSH session).
	os.WriteFile(list, append(good, "192.0.2.0/24\n"...), 0o644)
	cmd = exec.Command(bin, "apply", policy, "--netns", ns.Name, "--auto-approve")
	cmd.Env = append(os.Environ(), "SSH_CONNECTION=")
	out2, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out2), "covers 192.0.2.53/32, the DNS resolver") || listed(t, ns) != table {
		t.Errorf("unattended apply of a list covering the resolver: %v\n%s", err, out2)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
