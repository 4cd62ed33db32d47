package audit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voicewall/voicewall/backends/registry"
)

// got lists findings as "ID@line".
func got(r *Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, fmt.Sprintf("%s@%d", f.ID, f.Loc.Line))
	}
	sort.Strings(out)
	return out
}

func auditFile(t *testing.T, target, path string) *Report {
	t.Helper()
	r, err := Audit(path, Options{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantFindings(t *testing.T, r *Report, want ...string) {
	t.Helper()
	g := got(r)
	sort.Strings(want)
	if strings.Join(g, " ") != strings.Join(want, " ") {
		var b bytes.Buffer
		r.WriteText(&b)
		t.Errorf("findings\n got %v\nwant %v\n%s", g, want, b.String())
	}
	if !r.Failed() {
		t.Error("audit does not fail")
	}
}

func TestOfficeFortiGate(t *testing.T) {
	r := auditFile(t, "fortigate", "testdata/office-fortigate.conf")
	wantFindings(t, r,
		"VW303@21",             // https, ssh on wan1
		"VW301@37",             // default-voip-alg-mode proxy-based
		"VW301@46", "VW309@46", // session-helper 13
		"VW306@93",  // PBX-SIP from any source
		"VW307@93",  // no DoS policy on the SIP forward
		"VW302@102", // PBX-RTP from any source
		"VW302@125", // policy 2 from all
	)
}

func TestOfficePfSense(t *testing.T) {
	r := auditFile(t, "pfsense", "testdata/office-pfsense.xml")
	wantFindings(t, r,
		"VW306@63", "VW307@63", // SIP forward from any, UDP: no limit (note)
		"VW302@78",  // RTP forward from any
		"VW305@94",  // automatic outbound NAT with a PBX behind it
		"VW302@98",  // pass SIP from any
		"VW302@115", // pass RTP from any
		"VW303@131", // web UI from any
	)
}

func TestOfficeVigor(t *testing.T) {
	r := auditFile(t, "draytek", "testdata/office-vigor.txt")
	wantFindings(t, r,
		"VW301@2",              // sys sip_alg -e 1
		"VW303@4",              // https remote management
		"VW306@18", "VW307@18", // SIP forward from any, no DoS defence
		"VW302@19", // RTP open port from any
		"VW302@21", // pass SIP/RTP from any
	)
}

// TestVDOMFortiGate: a multi-VDOM backup, a settings block without the ALG
// mode (FortiOS's default is the ALG), tabs and escaped quotes, and a
// drop policy below a broader accept.
func TestVDOMFortiGate(t *testing.T) {
	r := auditFile(t, "fortigate", "testdata/vdom-fortigate.conf")
	wantFindings(t, r,
		"VW303@25", // ip6-allowaccess https on the WAN
		"VW301@38", // settings without default-voip-alg-mode
		"VW308@59", // vw drop below "Allow all outbound"
	)
	if i := r.Device.Interface("port1"); i == nil || i.Role != "wan" {
		t.Errorf("port1 not read as WAN: %+v", i)
	}
}

// TestWellConfiguredDevicesAuditClean: strict in findings — a
// well-kept configuration of each vendor has none.
func TestWellConfiguredDevicesAuditClean(t *testing.T) {
	for target, file := range map[string]string{"fortigate": "testdata/good-fortigate.conf", "pfsense": "testdata/good-pfsense.xml", "draytek": "testdata/good-vigor.txt"} {
		r := auditFile(t, target, file)
		if r.Failed() {
			var b bytes.Buffer
			r.WriteText(&b)
			t.Errorf("%s:\n%s", file, b.String())
		}
	}
}

// TestDriftOnHandKeptConfig: a hand-kept FortiGate that implements the
// branch policy audits clean against it; widening the SIP VIP's source
// filter and the trunk's address object to the provider's whole /24 is
// drift (widening only the object is not: the VIP still filters).
func TestDriftOnHandKeptConfig(t *testing.T) {
	p, diags := registry.Load("testdata/branch-policy")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	r, err := Audit("testdata/good-fortigate.conf", Options{Target: "fortigate", Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed() || r.Compared < 30 {
		var b bytes.Buffer
		r.WriteText(&b)
		t.Fatalf("hand-kept config against its policy:\n%s", b.String())
	}
	src, _ := os.ReadFile("testdata/good-fortigate.conf")
	src = bytes.ReplaceAll(src, []byte(`set subnet 198.51.100.16 255.255.255.248`), []byte(`set subnet 198.51.100.0 255.255.255.0`))
	src = bytes.ReplaceAll(src, []byte(`set src-filter "198.51.100.16/29"`), []byte(`set src-filter "198.51.100.0/24"`))
	d, err := Read("fortigate", "widened.conf", src)
	if err != nil {
		t.Fatal(err)
	}
	r = Check(d, src, Options{Target: "fortigate", Policy: p})
	found := false
	for _, f := range r.Findings {
		if f.ID == IDDrift && f.Loc.Line == 95 && strings.Contains(f.Message, "the device accept") {
			found = true
		}
	}
	if !found {
		var b bytes.Buffer
		r.WriteText(&b)
		t.Errorf("widened trunk address not reported as drift at policy 3 (line 95):\n%s", b.String())
	}
}

// A config.xml exported on one line (minified): every finding is at line
// 1, and each shows the start of that line, not the whole file again.
func TestOneLineConfigSnippetsBounded(t *testing.T) {
	src, err := os.ReadFile("testdata/office-pfsense.xml")
	if err != nil {
		t.Fatal(err)
	}
	one := bytes.ReplaceAll(bytes.ReplaceAll(src, []byte("\n"), nil), []byte("\t"), nil)
	d, err := Read("pfsense", "min.xml", one)
	if err != nil {
		t.Fatal(err)
	}
	r := Check(d, one, Options{Target: "pfsense"})
	if len(r.Findings) < 2 {
		t.Fatalf("want the office findings, got %v", got(r))
	}
	var text, js bytes.Buffer
	r.WriteText(&text)
	r.WriteJSON(&js)
	for name, out := range map[string]int{"text": text.Len(), "json": js.Len()} {
		if limit := len(r.Findings) * 1500; out > limit {
			t.Errorf("%s output is %d bytes for %d findings of a %d-byte line (limit %d)", name, out, len(r.Findings), len(one), limit)
		}
	}
	if !strings.Contains(text.String(), "more bytes)") {
		t.Errorf("the cut is not said:\n%s", text.String())
	}
}

// VW304 says a TLS trunk sits beside cleartext SIP open to anyone. 5061
// admitted from anyone is no TLS trunk (VW302 reports it): no VW304; a
// 5061 restricted to the trunk's address beside 5060 from anyone is.
func TestCleartextBesideNeedsARestrictedTLSTrunk(t *testing.T) {
	conf := func(tlsSrc string) []byte {
		return []byte(`config firewall address
    edit "trunk"
        set subnet 198.51.100.10 255.255.255.255
    next
end
config firewall service custom
    edit "SIP-TLS"
        set tcp-portrange 5061
    next
    edit "SIP-UDP"
        set udp-portrange 5060
    next
end
config firewall policy
    edit 1
        set srcintf "wan1"
        set dstintf "internal"
        set srcaddr "` + tlsSrc + `"
        set dstaddr "all"
        set action accept
        set service "SIP-TLS"
    next
    edit 2
        set srcintf "wan1"
        set dstintf "internal"
        set srcaddr "all"
        set dstaddr "all"
        set action accept
        set service "SIP-UDP"
    next
end
`)
	}
	for src, want := range map[string]bool{"all": false, "trunk": true} {
		d, err := Read("fortigate", "fgt.conf", conf(src))
		if err != nil {
			t.Fatal(err)
		}
		r := Check(d, nil, Options{Target: "fortigate"})
		has := false
		for _, f := range r.Findings {
			has = has || f.ID == IDCleartextBeside
		}
		if has != want {
			t.Errorf("TLS from %q: VW304 %v, want %v (%v)", src, has, want, got(r))
		}
	}
}

// TestReadFileRefusesFIFO: a FIFO in place of the configuration (no writer
// ever comes) is refused at once, from the opened descriptor: before, a
// file swapped for a FIFO between the stat and the open hung audit.
func TestReadFileRefusesFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fw.conf")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := ReadFile("fortigate", path)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("want a refusal naming the named pipe, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("audit blocks on a FIFO")
	}
}

// TestReadFileSwapRace: the configuration's path is swapped between a
// regular file and a FIFO while audit reads it, over and over: every read
// either reads the file or refuses the FIFO, and none waits on it (before,
// 5 runs in 60 hung on a FIFO swapped in between the stat and the open).
func TestReadFileSwapRace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fw.conf")
	conf := []byte("config system settings\n    set default-voip-alg-mode kernel-helper-based\nend\n")
	regular, fifo := filepath.Join(dir, "regular"), filepath.Join(dir, "fifo")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				if os.WriteFile(regular, conf, 0o600) == nil {
					os.Rename(regular, path)
				}
			} else if syscall.Mkfifo(fifo, 0o600) == nil {
				os.Rename(fifo, path)
			}
		}
	}()
	deadline := time.After(20 * time.Second)
	for i := 0; i < 300; i++ {
		res := make(chan error, 1)
		go func() {
			_, _, err := ReadFile("fortigate", path)
			res <- err
		}()
		select {
		case err := <-res:
			if err != nil && !strings.Contains(err.Error(), "named pipe") && !strings.Contains(err.Error(), "no such file") {
				t.Errorf("read %d: %v", i, err)
			}
		case <-deadline:
			close(stop)
			t.Fatalf("read %d blocks on the swapped-in FIFO", i)
		}
	}
	close(stop)
	<-done
}
