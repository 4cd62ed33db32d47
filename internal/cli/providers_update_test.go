package cli

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"
)

// The binary refreshes the catalog from a local HTTPS stand-in it trusts
// through SSL_CERT_FILE, as it would trust Zoom and Microsoft through the
// system's CA store.
func TestProvidersUpdateCommand(t *testing.T) {
	testenv.SkipShort(t, "builds and runs the voicewall binary")
	mux := http.NewServeMux()
	mux.HandleFunc("/ZoomPhone.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "8.5.128.0/23\n173.231.92.0/24\n") })
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"latest":"2026112800"}`) })
	mux.HandleFunc("/endpoints", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `[{"id":11,"serviceArea":"Skype","category":"Optimize","ips":["13.107.64.0/18","52.112.0.0/14","52.122.0.0/15","2603:1063::/38"]}]`)
	})
	mux.HandleFunc("/voice.json", func(w http.ResponseWriter, r *http.Request) {
		// Every address of the embedded entry and one more: a list that
		// dropped most of them would be refused as a shrink.
		var eps []string
		for i, n := range []string{"46.19.209", "46.19.210", "46.19.212", "46.19.213", "46.19.214", "46.19.215", "185.238.173", "46.19.216"} {
			eps = append(eps, fmt.Sprintf(`{"ipv4":"%s.14","ipv6":"2a01:ad00:%d:14::14"}`, n, []int{1, 2, 4, 5, 6, 7, 8, 9}[i]))
		}
		fmt.Fprint(w, `{"version":"2026-12-01","inbound":{"signaling":{"static_sip_uri":{"endpoints":[`+strings.Join(eps, ",")+
			`]},"sip_registration":{"registrars":[{"ipv4":["46.19.209.49","185.238.173.49"],"ipv6":["2a01:ad00:1:1::49","2a01:ad00:8:1::49"]}]}}}}`)
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "SSL_CERT_FILE="+ca, "VOICEWALL_LIB_DIR="+filepath.Join(dir, "lib"))
	vw := func(args ...string) (int, string) {
		cmd := exec.Command(voicewallBinary(t), args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	code, out := vw("providers", "update", "--source", "zoom-phone="+srv.URL+"/ZoomPhone.txt",
		"--source", "microsoft-teams="+srv.URL+"/endpoints", "--source", "microsoft-teams.version="+srv.URL+"/version", "--source", "didww="+srv.URL+"/voice.json")
	if code != 0 || !strings.Contains(out, "zoom-phone: updated, 2 ranges") || !strings.Contains(out, "microsoft-teams: updated, 4 ranges, version 2026112800") || !strings.Contains(out, "didww: updated, 20 ranges, version 2026-12-01") || !strings.Contains(out, "  + 46.19.216.14/32") || !strings.Contains(out, "  - 52.120.0.0/15") {
		t.Fatalf("update: %d\n%s", code, out)
	}
	if code, out = vw("providers", "show", "zoom-phone"); code != 0 || !strings.Contains(out, "8.5.128.0/23") || !strings.Contains(out, "(update)") {
		t.Errorf("show after update: %d\n%s", code, out)
	}
	// Without the stand-in's certificate the download is refused, and the
	// last good lists stay.
	env = append(os.Environ(), "SSL_CERT_FILE="+filepath.Join(dir, "none.pem"), "VOICEWALL_LIB_DIR="+filepath.Join(dir, "lib"))
	code, out = vw("providers", "update", "--source", "zoom-phone="+srv.URL+"/ZoomPhone.txt", "--source", "microsoft-teams="+srv.URL+"/endpoints", "--source", "microsoft-teams.version="+srv.URL+"/version", "--source", "didww="+srv.URL+"/voice.json")
	if code != 1 || !strings.Contains(out, "REFUSED") {
		t.Errorf("untrusted certificate: %d\n%s", code, out)
	}
	if code, out = vw("providers", "show", "zoom-phone"); code != 0 || !strings.Contains(out, "8.5.128.0/23") {
		t.Errorf("last good lost: %d\n%s", code, out)
	}
}
