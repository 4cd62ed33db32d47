package lang_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/lang"
)

// The policies below are written from the language's documentation
// (docs/language.md) only, not from the implementation. Expected
// positions are located in the source text itself (see want.at), so a case
// states exactly which token a diagnostic must point at.

// base is a valid, warning-free policy that cases extend.
const base = `provider "telnyx" {
  signaling  = ["192.76.120.10", "64.16.250.0/24", "2001:db8:10::/48"]
  media      = ["36.255.198.128/25", "2001:db8:20::/48"]
  transports = ["tls"]
}

rate_limit {
  sip   = "10/second"
  burst = 20
}

log {
  dropped = true
  prefix  = "voicewall"
  rate    = "10/minute"
}
`

// want is one expected diagnostic. at locates it: the first occurrence of
// at (without the optional '|') in the file; the diagnostic starts at '|'
// when present, else at the start of the match.
type want struct {
	sev  hcl.DiagnosticSeverity
	id   string
	file string // default "p.hcl"
	at   string
	line int // instead of at, for files whose text the case does not hold
	col  int
	text string // substring of Summary + " " + Detail
}

func wErr(id, at, text string) want  { return want{sev: hcl.DiagError, id: id, at: at, text: text} }
func wWarn(id, at, text string) want { return want{sev: hcl.DiagWarning, id: id, at: at, text: text} }

type vcase struct {
	name  string
	src   string            // p.hcl; "+" prefix: appended to base
	files map[string]string // other files in the policy directory
	want  []want
}

func policySrc(src string) string {
	if strings.HasPrefix(src, "+") {
		return base + src[1:]
	}
	return src
}

// locate returns the 1-based line and column (in characters) of at in src.
func locate(t *testing.T, src, at string) (int, int) {
	t.Helper()
	mark := strings.IndexByte(at, '|')
	needle := strings.Replace(at, "|", "", 1)
	i := strings.Index(src, needle)
	if i < 0 {
		t.Fatalf("test bug: %q not in source", needle)
	}
	if mark > 0 {
		i += mark
	}
	line := strings.Count(src[:i], "\n") + 1
	col := len([]rune(src[strings.LastIndexByte(src[:i], '\n')+1:i])) + 1
	return line, col
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fmtDiags(ds hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		loc := "-"
		if d.Subject != nil {
			loc = fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		fmt.Fprintf(&b, "\n  %s %s[%s] %s: %s", loc, sev, lang.FindingID(d), d.Summary, d.Detail)
	}
	return b.String()
}

// runCase loads the case and checks: every wanted diagnostic is there with
// its severity, finding ID and exact position, and no error is reported that
// the case does not want (warnings beyond the wanted ones are allowed).
func runCase(t *testing.T, c vcase) *lang.Loaded {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"p.hcl": policySrc(c.src)}
	for k, v := range c.files {
		files[k] = v
	}
	writeFiles(t, dir, files)
	l := registry.LoadFull(filepath.Join(dir, "p.hcl"))
	matched := map[*hcl.Diagnostic]bool{}
	for _, w := range c.want {
		file := w.file
		if file == "" {
			file = "p.hcl"
		}
		line, col := w.line, w.col
		if w.at != "" {
			line, col = locate(t, files[file], w.at)
		}
		found := false
		for _, d := range l.Diags {
			if d.Severity != w.sev || lang.FindingID(d) != w.id || d.Subject == nil ||
				d.Subject.Filename != file || d.Subject.Start.Line != line || d.Subject.Start.Column != col ||
				!strings.Contains(d.Summary+" "+d.Detail, w.text) {
				continue
			}
			found, matched[d] = true, true
			break
		}
		if !found {
			sev := "error"
			if w.sev == hcl.DiagWarning {
				sev = "warning"
			}
			t.Errorf("want %s:%d:%d %s[%s] containing %q; got:%s", file, line, col, sev, w.id, w.text, fmtDiags(l.Diags))
		}
	}
	for _, d := range l.Diags {
		if d.Severity == hcl.DiagError && !matched[d] {
			t.Errorf("unexpected error:%s", fmtDiags(hcl.Diagnostics{d}))
		}
	}
	if l.Diags.HasErrors() != (l.Policy == nil) {
		t.Errorf("Policy must be nil exactly when there are errors (errors: %v, policy: %v)", l.Diags.HasErrors(), l.Policy != nil)
	}
	return l
}

func TestBaseIsValidAndQuiet(t *testing.T) {
	l := runCase(t, vcase{src: base})
	if len(l.Diags) != 0 {
		t.Fatalf("base policy should have no findings:%s", fmtDiags(l.Diags))
	}
}

func TestValidation(t *testing.T) {
	cases := []vcase{
		// --- addresses ---
		{name: "bad v4 address in signaling list points at the element",
			src: `+provider "b" {
  signaling  = ["192.0.2.1", "192.0.2.256", "192.0.2.3"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}
`, want: []want{wErr(lang.IDBadAddress, `"192.0.2.256"`, "192.0.2.256")}},
		{name: "bad v6 address in media",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["2001:db8::1", "2001:zz::1"]
  transports = ["tls"]
}
`, want: []want{wErr(lang.IDBadAddress, `"2001:zz::1"`, "2001:zz::1")}},
		{name: "v4 prefix length over 32",
			src: `+provider "b" {
  signaling  = ["192.0.2.0/33"]
  transports = ["tls"]
  media      = ["192.0.2.128/25"]
}
`, want: []want{wErr(lang.IDBadAddress, `"192.0.2.0/33"`, "not a valid CIDR")}},
		{name: "v6 prefix length over 128",
			src: `+provider "b" {
  signaling  = ["2001:db8::/129"]
  transports = ["tls"]
  media      = ["192.0.2.128/25"]
}
`, want: []want{wErr(lang.IDBadAddress, `"2001:db8::/129"`, "not a valid CIDR")}},
		{name: "v4 host bits",
			src: `+provider "b" {
  signaling  = ["192.0.2.1/24"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}
`, want: []want{wErr(lang.IDHostBits, `"192.0.2.1/24"`, `"192.0.2.0/24"`)}},
		{name: "v6 host bits",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["2001:db8:1::1/48"]
  transports = ["tls"]
}
`, want: []want{wErr(lang.IDHostBits, `"2001:db8:1::1/48"`, `"2001:db8:1::/48"`)}},
		{name: "pbx address not an address",
			src: `+pbx "pbx" {
  address   = "10.20.0.300"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDBadAddress, `"10.20.0.300"`, "10.20.0.300")}},
		{name: "pbx address is a CIDR",
			src: `+pbx "pbx" {
  address   = "10.20.0.0/24"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDBadAddress, `"10.20.0.0/24"`, "single IP address")}},
		{name: "bad voice vlan subnet",
			src: `+voice_vlan "phones" {
  id        = 20
  subnet    = "10.20.0.0/33"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDBadAddress, `"10.20.0.0/33"`, "10.20.0.0/33")}},
		{name: "bad address in subnets list",
			src: `+voice_vlan "phones" {
  id        = 20
  subnets   = ["10.20.0.0/24", "2001:db8:20::/64x"]
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDBadAddress, `"2001:db8:20::/64x"`, "")}},
		{name: "empty subnets list",
			src: `+voice_vlan "phones" {
  id        = 20
  subnets   = []
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDSchema, `[]`, "at least one subnet")}},
		{name: "voice_vlan without subnet",
			src: `+voice_vlan "phones" {
  id        = 20
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDSchema, `voice_vlan "phones"`, "subnet")}},
		{name: "bad management address",
			src: `+voice_vlan "phones" {
  id         = 20
  subnet     = "10.20.0.0/24"
  providers  = ["telnyx"]
  management = ["10.0.0.0/24", "10.0.0.999"]
}
`, want: []want{wErr(lang.IDBadAddress, `"10.0.0.999"`, "")}},
		{name: "expect from not an address",
			src: `+expect "x" {
  from    = "carrier"
  to      = "5060/udp"
  verdict = "drop"
}
`, want: []want{wErr(lang.IDBadExpect, `"carrier"`, "from must be one IP address")}},

		// --- ports ---
		{name: "sip_port 0",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
  sip_port   = 0
}
`, want: []want{wErr(lang.IDBadPort, `sip_port   = |0`, "1 and 65535")}},
		{name: "sip_port range inverted",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["udp"]
  sip_port   = "5099-5090"
}
`, want: []want{wErr(lang.IDInvertedRange, `"5099-5090"`, "write 5090-5099")}},
		{name: "sip_port range from 0",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["udp"]
  sip_port   = "0-10"
}
`, want: []want{wErr(lang.IDBadPort, `"0-10"`, "")}},
		{name: "tls_port inside the sip_port range",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tcp", "tls"]
  sip_port   = "5090-5099"
  tls_port   = 5095
}
`, want: []want{wErr(lang.IDBadValue, `provider "b"`, "same port 5095")}},
		{name: "sip_port 65536",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
  sip_port   = 65536
}
`, want: []want{wErr(lang.IDBadPort, `65536`, "65536")}},
		{name: "tls_port 70000",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
  tls_port   = 70000
}
`, want: []want{wErr(lang.IDBadPort, `70000`, "tls_port")}},
		{name: "negative tls_port",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
  tls_port   = -1
}
`, want: []want{wErr(lang.IDBadPort, `-1`, "tls_port")}},
		{name: "rtp range starting at 0",
			src: `+rtp {
  ports = "0-100"
}
`, want: []want{wErr(lang.IDBadPort, `"0-100"`, "outside 1..65535")}},
		{name: "rtp range ending past 65535",
			src: `+rtp {
  ports = "10000-65536"
}
`, want: []want{wErr(lang.IDBadPort, `"10000-65536"`, "65536")}},
		{name: "pbx rtp_ports past 65535",
			src: `+pbx "pbx" {
  address   = "10.20.0.10"
  providers = ["telnyx"]
  rtp_ports = "10000-99999"
}
`, want: []want{wErr(lang.IDBadPort, `"10000-99999"`, "99999")}},
		{name: "close port 0 and 65536, each at its element",
			src: `+close {
  ports = ["2000/tcp", "0/udp", "65536/tcp"]
}
`, want: []want{
				wErr(lang.IDBadPort, `"0/udp"`, "port 0"),
				wErr(lang.IDBadPort, `"65536/tcp"`, "port 65536"),
			}},
		{name: "close port without protocol",
			src: `+close {
  ports = ["2000"]
}
`, want: []want{wErr(lang.IDBadService, `"2000"`, "PORT/PROTO")}},
		{name: "close port with unknown protocol",
			src: `+close {
  ports = ["2000/icmp"]
}
`, want: []want{wErr(lang.IDBadService, `"2000/icmp"`, "icmp")}},
		{name: "management_ports out of range",
			src: `+voice_vlan "phones" {
  id               = 20
  subnet           = "10.20.0.0/24"
  providers        = ["telnyx"]
  management_ports = ["443/tcp", "0/tcp"]
}
`, want: []want{wErr(lang.IDBadPort, `"0/tcp"`, "")}},
		{name: "inverted rtp range",
			src: `+rtp {
  ports = "20000-10000"
}
`, want: []want{wErr(lang.IDInvertedRange, `"20000-10000"`, "10000-20000")}},
		{name: "inverted pbx rtp_ports",
			src: `+pbx "pbx" {
  address   = "10.20.0.10"
  providers = ["telnyx"]
  rtp_ports = "10999-10000"
}
`, want: []want{wErr(lang.IDInvertedRange, `"10999-10000"`, "inverted")}},
		{name: "inverted close range",
			src: `+close {
  ports = ["2010-2000/tcp"]
}
`, want: []want{wErr(lang.IDInvertedRange, `"2010-2000/tcp"`, "2000-2010")}},

		// --- VLAN ids ---
		{name: "vlan id 0",
			src: `+voice_vlan "phones" {
  id        = 0
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDBadVLAN, `id        = |0`, "1 and 4094")}},
		{name: "vlan id 4095",
			src: `+voice_vlan "phones" {
  id        = 4095
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDBadVLAN, `4095`, "1 and 4094")}},
		{name: "vlan id 1e300 is not echoed in 301 digits",
			src: `+voice_vlan "phones" {
  id        = 1e300
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDBadVLAN, `1e300`, "got 1e+300.")}},
		{name: "vlan ids 1 and 4094 are fine",
			src: `+voice_vlan "a" {
  id        = 1
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}

voice_vlan "b" {
  id        = 4094
  subnet    = "10.21.0.0/24"
  providers = []
}
`},
		{name: "two voice vlans share an id",
			src: `+voice_vlan "a" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}

voice_vlan "b" {
  id        = 20
  subnet    = "10.21.0.0/24"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDDuplicateVLAN, "voice_vlan \"b\" {\n  id        = |20", `voice_vlan "a" (p.hcl:17)`)}},

		// --- references ---
		{name: "unknown provider in pbx, with did you mean",
			src: `+pbx "pbx" {
  address   = "10.20.0.10"
  providers = ["telnix"]
}
`, want: []want{wErr(lang.IDUnknownRef, `"telnix"`, `Did you mean "telnyx"?`)}},
		{name: "unknown provider in voice_vlan, second element",
			src: `+voice_vlan "phones" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = ["telnyx", "twilio"]
}
`, want: []want{wErr(lang.IDUnknownRef, `"twilio"`, `Known providers: telnyx`)}},
		{name: "unknown provider when none is declared",
			src: `pbx "pbx" {
  address   = "10.20.0.10"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDUnknownRef, `[|"telnyx"]`, "provider block")}},
		{name: "unknown zone as voice_vlan parent",
			src: `+voice_vlan "phones" {
  id        = 20
  parent    = "lna"
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDUnknownRef, `"lna"`, `Did you mean "lan"?`)}},
		{name: "voice_vlan parent wan is refused",
			src: `+voice_vlan "phones" {
  id        = 20
  parent    = "wan"
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDUnknownRef, `"wan"`, "")}},
		{name: "unknown zone in expect",
			src: `+voice_vlan "phones" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}

expect "phones call out" {
  from    = "10.20.0.50"
  zone    = "phone"
  to      = "192.76.120.10:5061/tcp"
  verdict = "accept"
}
`, want: []want{wErr(lang.IDUnknownRef, `"phone"`, `Did you mean "phones"?`)}},
		{name: "expect zone naming a voice vlan is fine",
			src: `+voice_vlan "phones" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}

expect "phones call out" {
  from    = "10.20.0.50"
  zone    = "phones"
  to      = "192.76.120.10:5061/tcp"
  verdict = "accept"
}
`},

		// --- duplicates ---
		{name: "duplicate provider",
			src: `+provider "telnyx" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}
`, want: []want{wErr(lang.IDDuplicate, "\n|provider \"telnyx\" {\n  signaling  = [\"192.0.2.1\"]", "p.hcl:1:1")}},
		{name: "duplicate provider differing in case",
			src: `+provider "Telnyx" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}
`, want: []want{wErr(lang.IDDuplicate, `provider "Telnyx"`, "p.hcl:1:1")}},
		{name: "duplicate pbx",
			src: `+pbx "pbx" {
  address   = "10.20.0.10"
  providers = ["telnyx"]
}

pbx "pbx" {
  address = "10.20.0.11"
}
`, want: []want{wErr(lang.IDDuplicate, "}\n\n|pbx \"pbx\" {\n  address = \"10.20.0.11\"", "the first is at p.hcl:17:1")}},
		{name: "duplicate voice_vlan",
			src: `+voice_vlan "phones" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}

voice_vlan "phones" {
  id        = 21
  subnet    = "10.21.0.0/24"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDDuplicate, "}\n\n|voice_vlan \"phones\" {\n  id        = 21", "the first is at p.hcl:17:1")}},
		{name: "duplicate blocklist",
			src: `+blocklist "scanners" {
  addresses = ["198.51.100.0/24"]
}

blocklist "scanners" {
  addresses = ["198.51.101.0/24"]
}
`, want: []want{wErr(lang.IDDuplicate, "}\n\n|blocklist \"scanners\" {\n  addresses = [\"198.51.101.0/24\"]", "the first is at p.hcl:17:1")}},
		{name: "duplicate expect",
			src: `+expect "scanner" {
  from    = "198.51.100.7"
  to      = "5060/udp"
  verdict = "drop"
}

expect "scanner" {
  from    = "198.51.100.8"
  to      = "5060/udp"
  verdict = "drop"
}
`, want: []want{wErr(lang.IDDuplicate, "}\n\n|expect \"scanner\" {\n  from    = \"198.51.100.8\"", "the first is at p.hcl:17:1")}},
		{name: "duplicate rtp",
			src: `+rtp {
  ports = "10000-20000"
}

rtp {
  ports = "10000-10999"
}
`, want: []want{wErr(lang.IDDuplicate, "}\n\n|rtp {\n  ports = \"10000-10999\"", "the first is at p.hcl:17:1")}},
		{name: "duplicate close",
			src: `+close {
  ports = ["2000/tcp"]
}

close {
  ports = ["2001/tcp"]
}
`, want: []want{wErr(lang.IDDuplicate, "}\n\n|close {\n  ports = [\"2001/tcp\"]", "the first is at p.hcl:17:1")}},
		{name: "duplicate rate_limit",
			src: `+rate_limit {
  sip = "5/second"
}
`, want: []want{wErr(lang.IDDuplicate, "\n|rate_limit {\n  sip = \"5/second\"", "p.hcl:7:1")}},
		{name: "duplicate log",
			src: `+log {
  dropped = false
}
`, want: []want{wErr(lang.IDDuplicate, "\n|log {\n  dropped = false", "p.hcl:12:1")}},

		// --- whitelists that are "any" ---
		{name: "signaling 0.0.0.0/0",
			src: `+provider "b" {
  signaling  = ["0.0.0.0/0"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}
`, want: []want{wErr(lang.IDAnyWhitelist, `"0.0.0.0/0"`, "every address")}},
		{name: "signaling ::/0",
			src: `+provider "b" {
  signaling  = ["192.0.2.1", "::/0"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}
`, want: []want{wErr(lang.IDAnyWhitelist, `"::/0"`, "every address")}},
		{name: "media 0.0.0.0/0 and ::/0",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["0.0.0.0/0", "::/0"]
  transports = ["tls"]
}
`, want: []want{
				wErr(lang.IDAnyWhitelist, `"0.0.0.0/0"`, "media"),
				wErr(lang.IDAnyWhitelist, `"::/0"`, "media"),
			}},
		{name: "signaling written as any",
			src: `+provider "b" {
  signaling  = ["any"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}
`, want: []want{wErr(lang.IDAnyWhitelist, `"any"`, "every address")}},
		{name: "management any, 0.0.0.0/0 and ::/0",
			src: `+voice_vlan "phones" {
  id         = 20
  subnet     = "10.20.0.0/24"
  providers  = ["telnyx"]
  management = ["10.0.0.0/24", "any", "0.0.0.0/0", "::/0"]
}
`, want: []want{
				wErr(lang.IDAnyManagement, `"any"`, "Internet"),
				wErr(lang.IDAnyManagement, `"0.0.0.0/0"`, "Internet"),
				wErr(lang.IDAnyManagement, `"::/0"`, "Internet"),
			}},

		// --- blocklists that would block a provider ---
		{name: "blocklist address overlapping provider signaling",
			src: `+blocklist "scanners" {
  addresses = ["198.51.100.0/24", "64.16.0.0/16"]
}
`, want: []want{wErr(lang.IDBlockProvider, `"64.16.0.0/16"`, `provider "telnyx" (p.hcl:1) signaling 64.16.250.0/24`)}},
		{name: "blocklist host inside provider media",
			src: `+blocklist "scanners" {
  addresses = ["36.255.198.200"]
}
`, want: []want{wErr(lang.IDBlockProvider, `"36.255.198.200"`, `provider "telnyx" (p.hcl:1) media 36.255.198.128/25`)}},
		{name: "blocklist v6 overlapping provider signaling",
			src: `+blocklist "scanners" {
  addresses = ["2001:db8::/32"]
}
`, want: []want{wErr(lang.IDBlockProvider, `"2001:db8::/32"`, `provider "telnyx" (p.hcl:1) signaling 2001:db8:10::/48; provider "telnyx" (p.hcl:1) media 2001:db8:20::/48`)}},
		{name: "blocklist declared before its provider still checked",
			src: `blocklist "scanners" {
  addresses = ["192.76.120.10"]
}

provider "telnyx" {
  signaling  = ["192.76.120.10"]
  media      = ["36.255.198.128/25"]
  transports = ["tls"]
}
`, want: []want{wErr(lang.IDBlockProvider, `[|"192.76.120.10"]`, "provider")}},
		{name: "blocklist file line overlapping a provider",
			src: `+blocklist "voipbl" {
  file = "voipbl.txt"
}
`, files: map[string]string{"voipbl.txt": "# feed\n198.51.100.7\n64.16.250.77\n"},
			want: []want{{sev: hcl.DiagError, id: lang.IDBlockProvider, file: "voipbl.txt", line: 3, col: 1, text: `64.16.250.77/32 overlaps provider "telnyx" (p.hcl:1) signaling 64.16.250.0/24`}}},

		// --- unsafe names ---
		{name: "provider name with a quote",
			src:  "+provider \"tel\\\"nyx\" {\n  signaling  = [\"192.0.2.1\"]\n  media      = [\"192.0.2.128/25\"]\n  transports = [\"tls\"]\n}\n",
			want: []want{wErr(lang.IDUnsafeName, `"tel\"nyx"`, "quotes")}},
		{name: "provider name with a newline",
			src:  "+provider \"tel\\nnyx\" {\n  signaling  = [\"192.0.2.1\"]\n  media      = [\"192.0.2.128/25\"]\n  transports = [\"tls\"]\n}\n",
			want: []want{wErr(lang.IDUnsafeName, `"tel\nnyx"`, "control characters")}},
		{name: "provider name over MaxNameLen",
			src: `+provider "` + strings.Repeat("a", lang.MaxNameLen+1) + `" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}
`, want: []want{wErr(lang.IDUnsafeName, `"`+strings.Repeat("a", lang.MaxNameLen+1)+`"`, fmt.Sprintf("at most %d", lang.MaxNameLen))}},
		{name: "provider name exactly MaxNameLen is fine",
			src: `+provider "` + strings.Repeat("a", lang.MaxNameLen) + `" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}
`},
		{name: "provider name with unicode",
			src: `+provider "télnyx" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}
`, want: []want{wErr(lang.IDUnsafeName, `"télnyx"`, "letters, digits")}},
		{name: "pbx name with a single quote",
			src: `+pbx "o'brien" {
  address   = "10.20.0.10"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDUnsafeName, `"o'brien"`, "quotes")}},
		{name: "voice_vlan name with a space",
			src: `+voice_vlan "desk phones" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDUnsafeName, `"desk phones"`, `"desk_phones"`)}},
		{name: "blocklist name with a semicolon",
			src: `+blocklist "a;b" {
  addresses = ["198.51.100.0/24"]
}
`, want: []want{wErr(lang.IDUnsafeName, `"a;b"`, "")}},
		{name: "name starting with a digit",
			src: `+blocklist "1scanners" {
  addresses = ["198.51.100.0/24"]
}
`, want: []want{wErr(lang.IDUnsafeName, `"1scanners"`, "start with a letter")}},
		{name: "expect name with a newline",
			src:  "+expect \"a\\nb\" {\n  from    = \"198.51.100.7\"\n  to      = \"5060/udp\"\n  verdict = \"drop\"\n}\n",
			want: []want{wErr(lang.IDBadExpect, `"a\nb"`, "newlines")}},
		{name: "expect name with spaces is fine",
			src: `+expect "a scanner is dropped" {
  from    = "198.51.100.7"
  to      = "5060/udp"
  verdict = "drop"
}
`},
		{name: "log prefix with a quote",
			src:  "provider \"telnyx\" {\n  signaling  = [\"192.0.2.1\"]\n  media      = [\"192.0.2.128/25\"]\n  transports = [\"tls\"]\n}\n\nrate_limit {\n  sip = \"10/second\"\n}\n\nlog {\n  prefix = \"vw\\\" accept\"\n}\n",
			want: []want{wErr(lang.IDUnsafeName, `"vw\" accept"`, "log prefix")}},
		{name: "target interface with a quote",
			src:  "+target \"nftables\" {\n  wan = \"eth0\\\"\"\n  lan = \"eth1\"\n}\n",
			want: []want{wErr(lang.IDUnsafeName, `"eth0\""`, "")}},

		{name: "blocklist_url with {name} and a query string is fine",
			src: `+target "pfsense" {
  blocklist_url = "https://feeds.example.com/vw/{name}?token=a1&fmt=txt"
}
`},
		{name: "blocklist_url with a quote",
			src:  "+target \"fortigate\" {\n  blocklist_url = \"https://x.example/a\\\"b\"\n}\n",
			want: []want{wErr(lang.IDUnsafeName, `"https://`, "URL")}},
		{name: "blocklist_url that is not http",
			src: `+target "fortigate" {
  blocklist_url = "file:///etc/passwd"
}
`, want: []want{wErr(lang.IDUnsafeName, `"file:///etc/passwd"`, "URL")}},

		// --- schema: unknown blocks and attributes ---
		{name: "unknown block with did you mean",
			src: `+provder "b" {
  signaling = ["192.0.2.1"]
}
`, want: []want{wErr(lang.IDSchema, `provder`, `Did you mean "provider"?`)}},
		{name: "unknown singleton block with did you mean",
			src: `+ratelimit {
  sip = "10/second"
}
`, want: []want{wErr(lang.IDSchema, `ratelimit`, `Did you mean "rate_limit"?`)}},
		{name: "unknown attribute with did you mean",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
  sip_prot   = 5070
}
`, want: []want{wErr(lang.IDSchema, `sip_prot`, `Did you mean "sip_port"?`)}},
		{name: "unknown attribute in voice_vlan",
			src: `+voice_vlan "phones" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
  managment = ["10.0.0.0/24"]
}
`, want: []want{wErr(lang.IDSchema, `managment`, `Did you mean "management"?`)}},
		{name: "unknown target with did you mean",
			src: `+target "nftabels" {
  wan = "eth0"
}
`, want: []want{wErr(lang.IDUnknownRef, `"nftabels"`, `Did you mean "nftables"?`)}},
		{name: "missing required attribute",
			src: `+pbx "pbx" {
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDSchema, `pbx "pbx" |{`, `"address" is required`)}},
		{name: "variables are refused",
			src: `+pbx "pbx" {
  address   = pbx_ip
  providers = ["telnyx"]
}
`, want: []want{wErr(lang.IDSyntax, `pbx_ip`, "literal values")}},

		// --- values ---
		{name: "bad transport with did you mean",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls", "tsl"]
}
`, want: []want{wErr(lang.IDBadValue, `"tsl"`, `Did you mean "tls"?`)}},
		{name: "unknown transport",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["sctp"]
}
`, want: []want{wErr(lang.IDBadValue, `"sctp"`, "not a SIP transport")}},
		{name: "empty transports",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = []
}
`, want: []want{wErr(lang.IDBadValue, `[]`, "at least one")}},
		{name: "transports not a list",
			src: `+provider "b" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = "tls"
}
`, want: []want{wErr(lang.IDBadValue, `"tls"
}`, "list")}},
		{name: "bad rate word",
			src: `provider "telnyx" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}

rate_limit {
  sip = "ten/second"
}

log {
}
`, want: []want{wErr(lang.IDBadValue, `"ten/second"`, "COUNT/UNIT")}},
		{name: "bad rate unit",
			src: `provider "telnyx" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}

rate_limit {
  sip = "10/fortnight"
}

log {
}
`, want: []want{wErr(lang.IDBadValue, `"10/fortnight"`, "COUNT/UNIT")}},
		{name: "zero rate",
			src: `provider "telnyx" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}

rate_limit {
  sip = "0/second"
}

log {
}
`, want: []want{wErr(lang.IDBadValue, `"0/second"`, "")}},
		{name: "bad log rate",
			src: `provider "telnyx" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}

rate_limit {
  sip = "10/second"
}

log {
  rate = "fast"
}
`, want: []want{wErr(lang.IDBadValue, `"fast"`, "COUNT/UNIT")}},
		{name: "burst 0",
			src: `provider "telnyx" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}

rate_limit {
  sip   = "10/second"
  burst = 0
}

log {
}
`, want: []want{wErr(lang.IDBadValue, `burst = |0`, "burst")}},
		{name: "bad dscp with did you mean",
			src: `+voice_vlan "phones" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
  dscp      = "eff"
}
`, want: []want{wErr(lang.IDBadValue, `"eff"`, `Did you mean "ef"?`)}},
		{name: "unknown accepted gap with did you mean",
			src: `+target "draytek" {
  accept_gaps = ["rate-limit", "dscp"]
}
`, want: []want{wErr(lang.IDBadValue, `"rate-limit"`, `Did you mean "rate_limit"?`)}},
		{name: "accepted gap listed twice",
			src: `+target "pfsense" {
  accept_gaps = ["dscp", "dscp"]
}
`, want: []want{wErr(lang.IDDuplicate, `"dscp"]`, "listed twice")}},
		{name: "bad verdict",
			src: `+expect "x" {
  from    = "198.51.100.7"
  to      = "5060/udp"
  verdict = "allow"
}
`, want: []want{wErr(lang.IDBadExpect, `"allow"`, `"accept" or "drop"`)}},
		{name: "verdict typo with did you mean",
			src: `+expect "x" {
  from    = "198.51.100.7"
  to      = "5060/udp"
  verdict = "dorp"
}
`, want: []want{wErr(lang.IDBadExpect, `"dorp"`, `Did you mean "drop"?`)}},
		{name: "expect destination without protocol",
			src: `+expect "x" {
  from    = "198.51.100.7"
  to      = "5060"
  verdict = "drop"
}
`, want: []want{wErr(lang.IDBadExpect, `"5060"`, "PORT/PROTO")}},
		{name: "expect destination with a bad address",
			src: `+expect "x" {
  from    = "198.51.100.7"
  to      = "10.20.0.300:5060/udp"
  verdict = "drop"
}
`, want: []want{wErr(lang.IDBadExpect, `"10.20.0.300:5060/udp"`, "")}},
		{name: "expect destination port out of range",
			src: `+expect "x" {
  from    = "198.51.100.7"
  to      = "70000/udp"
  verdict = "drop"
}
`, want: []want{wErr(lang.IDBadExpect, `"70000/udp"`, "65535")}},
		{name: "expect destination is a range",
			src: `+expect "x" {
  from    = "198.51.100.7"
  to      = "10000-10010/udp"
  verdict = "drop"
}
`, want: []want{wErr(lang.IDBadExpect, `"10000-10010/udp"`, "one destination port")}},
		{name: "expect v6 destination in brackets is fine",
			src: `+expect "x" {
  from    = "2001:db8:bad::9"
  to      = "[2001:db8:1::10]:5060/udp"
  verdict = "drop"
}
`},
		{name: "expect v6 destination without brackets is ambiguous",
			src: `+expect "x" {
  from    = "2001:db8:bad::9"
  to      = "2001:db8:1::10:5060/udp"
  verdict = "drop"
}
`, want: []want{wErr(lang.IDBadExpect, `"2001:db8:1::10:5060/udp"`, "in brackets")}},

		// --- warnings ---
		{name: "cleartext udp and tcp transports warn at each element",
			src: `provider "telnyx" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["udp", "tcp", "tls"]
  tls_port   = 5062
}

rate_limit {
  sip = "10/second"
}

log {
}
`, want: []want{
				wWarn(lang.IDCleartext, `"udp"`, "udp"),
				wWarn(lang.IDCleartext, `"tcp"`, "tcp"),
			}},
		{name: "default transport is cleartext udp",
			src: `provider "telnyx" {
  signaling = ["192.0.2.1"]
  media     = ["192.0.2.128/25"]
}

rate_limit {
  sip = "10/second"
}

log {
}
`, want: []want{wWarn(lang.IDCleartext, `provider "telnyx"`, `"udp"`)}},
		{name: "missing rate_limit",
			src: `provider "telnyx" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}

log {
}
`, want: []want{wWarn(lang.IDNoRateLimit, `provider "telnyx"`, "rate_limit")}},
		{name: "missing log",
			src: `provider "telnyx" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}

rate_limit {
  sip = "10/second"
}
`, want: []want{wWarn(lang.IDNoLog, `provider "telnyx"`, "log")}},
		{name: "wide rtp range",
			src: `+rtp {
  ports = "1024-65535"
}
`, want: []want{wWarn(lang.IDWideRTP, `"1024-65535"`, "64512 ports")}},
		{name: "default-sized rtp range does not warn",
			src: `+rtp {
  ports = "10000-20000"
}
`},
		{name: "voice vlan without providers warns (toll fraud)",
			src: `+voice_vlan "phones" {
  id     = 20
  subnet = "10.20.0.0/24"
}
`, want: []want{wWarn(lang.IDVLANNoProviders, `voice_vlan "phones"`, "toll fraud")}},

		// --- blocklist files ---
		{name: "blocklist file: comments, blank lines, v6, CRLF",
			src: `+blocklist "voipbl" {
  file = "lists/voipbl.txt"
}
`, files: map[string]string{"lists/voipbl.txt": "# VoIPBL\r\n\r\n198.51.100.0/24\r\n  203.0.113.5   # trailing comment\r\n\t\r\n2001:db8:bad::/48\r\n2001:db8:beef::1 # v6 host\r\n# the end\r\n198.51.101.1"}},
		{name: "blocklist file bad lines at file:line:col",
			src: `+blocklist "voipbl" {
  file = "voipbl.txt"
}
`, files: map[string]string{"voipbl.txt": "# feed\n198.51.100.0/24\nnot-an-ip\n  10.0.0.0/33 # typo\r\n2001:db8::zz\n"},
			want: []want{
				{sev: hcl.DiagError, id: lang.IDBlocklistFile, file: "voipbl.txt", line: 3, col: 1, text: "not-an-ip"},
				{sev: hcl.DiagError, id: lang.IDBlocklistFile, file: "voipbl.txt", line: 4, col: 3, text: "10.0.0.0/33"},
				{sev: hcl.DiagError, id: lang.IDBlocklistFile, file: "voipbl.txt", line: 5, col: 1, text: "2001:db8::zz"},
			}},
		{name: "missing blocklist file points at the attribute",
			src: `+blocklist "voipbl" {
  file = "lists/nope.txt"
}
`, want: []want{wErr(lang.IDBlocklistFile, `"lists/nope.txt"`, "relative to the policy file")}},
		{name: "blocklist files list, second missing",
			src: `+blocklist "voipbl" {
  files = ["a.txt", "b.txt"]
}
`, files: map[string]string{"a.txt": "198.51.100.1\n"},
			want: []want{wErr(lang.IDBlocklistFile, `"b.txt"`, "")}},
		{name: "empty blocklist",
			src: `+blocklist "voipbl" {
}
`, want: []want{wErr(lang.IDSchema, `blocklist "voipbl"`, "addresses")}},

		// --- syntax ---
		{name: "syntax error at its position",
			src: `+provider "b" {
  signaling = ["192.0.2.1",
}
`, want: []want{wErr(lang.IDSyntax, "\"192.0.2.1\",\n|}", "")}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) { runCase(t, c) })
	}
}

func TestBlocklistFileEntries(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"p.hcl": base + `
blocklist "voipbl" {
  addresses = ["198.51.102.0/24"]
  file      = "voipbl.txt"
}
`,
		"voipbl.txt": "# c\r\n\r\n198.51.100.0/24 # t\r\n2001:db8:bad::/48\r\n203.0.113.5\r\n",
	})
	p, diags := registry.Load(filepath.Join(dir, "p.hcl"))
	if diags.HasErrors() {
		t.Fatalf("load:%s", fmtDiags(diags))
	}
	bl := p.Blocklists[0]
	if bl.Entries != 4 {
		t.Errorf("Entries = %d, want 4 (1 address + 3 file lines)", bl.Entries)
	}
	for _, a := range []string{"198.51.100.77", "198.51.102.1", "203.0.113.5", "2001:db8:bad::1"} {
		if !bl.Addresses.Contains(mustAddr(t, a)) {
			t.Errorf("blocklist should contain %s", a)
		}
	}
	if bl.Addresses.Contains(mustAddr(t, "203.0.113.6")) {
		t.Errorf("blocklist should not contain 203.0.113.6")
	}
	if len(bl.Files) != 1 || bl.Files[0] != "voipbl.txt" {
		t.Errorf("Files = %v", bl.Files)
	}
}

func TestTooManyBadBlocklistLinesAreCapped(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 1000; i++ {
		b.WriteString("garbage\n")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"p.hcl":      base + "\nblocklist \"x\" {\n  file = \"x.txt\"\n}\n",
		"x.txt":      b.String(),
		"unused.hcl": "",
	})
	l := registry.LoadFull(filepath.Join(dir, "p.hcl"))
	if !l.Diags.HasErrors() || len(l.Diags) > 30 {
		t.Fatalf("want a capped number of errors, got %d", len(l.Diags))
	}
	last := l.Diags[len(l.Diags)-1]
	if !strings.Contains(last.Detail, "1000 bad lines") {
		t.Errorf("last diagnostic should count all bad lines: %s", last.Detail)
	}
}

// --- directories and relative paths ---

func TestDirectoryMerge(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a-providers.hcl": base,
		"b-site.hcl": `pbx "asterisk" {
  address   = "10.20.0.10"
  providers = ["telnyx"]
}
`,
		"notes.txt": "not a policy",
	})
	p, diags := registry.Load(dir)
	if diags.HasErrors() {
		t.Fatalf("load:%s", fmtDiags(diags))
	}
	if len(p.Providers) != 1 || len(p.PBXes) != 1 || p.PBXes[0].Providers[0] != p.Providers[0] {
		t.Fatalf("the pbx in one file must resolve the provider of the other: %v", p)
	}
	if got := p.PBXes[0].Origin.Range.Filename; got != "b-site.hcl" {
		t.Errorf("origin file = %q, want b-site.hcl (relative to the directory)", got)
	}
}

func TestDuplicateAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	second := `# the same trunk, declared again by mistake
provider "telnyx" {
  signaling  = ["192.0.2.1"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}
`
	writeFiles(t, dir, map[string]string{"a.hcl": base, "b.hcl": second})
	l := registry.LoadFull(dir)
	var dups []*hcl.Diagnostic
	for _, d := range l.Diags {
		if d.Severity == hcl.DiagError {
			dups = append(dups, d)
		}
	}
	if len(dups) != 1 {
		t.Fatalf("want one error:%s", fmtDiags(l.Diags))
	}
	d := dups[0]
	if lang.FindingID(d) != lang.IDDuplicate || d.Subject.Filename != "b.hcl" || d.Subject.Start.Line != 2 || d.Subject.Start.Column != 1 {
		t.Errorf("want the duplicate at b.hcl:2:1:%s", fmtDiags(dups))
	}
	if !strings.Contains(d.Detail, "a.hcl:1:1") {
		t.Errorf("the detail should name the first declaration a.hcl:1:1: %s", d.Detail)
	}
}

func TestEmptyDirectoryAndMissingPath(t *testing.T) {
	for name, path := range map[string]string{
		"empty dir": t.TempDir(),
		"missing":   filepath.Join(t.TempDir(), "nope.hcl"),
	} {
		p, diags := registry.Load(path)
		if p != nil || !diags.HasErrors() {
			t.Errorf("%s: want an error, got %v / %v", name, p, diags)
		}
	}
}

func TestBlocklistPathRelativeToNamingFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"site/p.hcl": base + `
blocklist "voipbl" {
  file = "lists/voipbl.txt"
}
`,
		"site/lists/voipbl.txt": "198.51.100.0/24\nbad-line\n",
		"lists/voipbl.txt":      "198.51.100.0/24\n", // the wrong one: relative to the cwd
	})
	t.Chdir(dir)
	l := registry.LoadFull("site/p.hcl")
	var got *hcl.Diagnostic
	for _, d := range l.Diags {
		if d.Severity == hcl.DiagError {
			got = d
		}
	}
	// The bad line proves the file next to p.hcl was read, not ./lists/voipbl.txt.
	if got == nil || got.Subject == nil || got.Subject.Filename != "lists/voipbl.txt" || got.Subject.Start.Line != 2 {
		t.Fatalf("want an error at lists/voipbl.txt:2 (relative to site/):%s", fmtDiags(l.Diags))
	}
	// Printed, the location is the path the user can open from the cwd.
	var b strings.Builder
	if err := lang.WriteDiagnostics(&b, l.Files, l.Diags, l.Root); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "site/lists/voipbl.txt:2:1: error[VW015]") || !strings.Contains(b.String(), "    2 | bad-line") {
		t.Errorf("printed diagnostics should locate and quote the bad line:\n%s", b.String())
	}

	// In a directory policy, too.
	l = registry.LoadFull("site")
	if !l.Diags.HasErrors() || l.Diags[0].Subject == nil || l.Diags[0].Subject.Filename != "lists/voipbl.txt" {
		t.Fatalf("directory load:%s", fmtDiags(l.Diags))
	}
}

func TestWriteDiagnosticsShowsSourceLine(t *testing.T) {
	src := base + `
voice_vlan "phones" {
  id        = 4095
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}
`
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"gw.hcl": src})
	l := registry.LoadFull(filepath.Join(dir, "gw.hcl"))
	var b strings.Builder
	if err := lang.WriteDiagnostics(&b, l.Files, l.Diags, "site"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, s := range []string{
		"site/gw.hcl:19:15: error[VW030]: Value out of range",
		"   19 |   id        = 4095",
		"      |               ^^^^",
		"between 1 and 4094",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

// --- lowering ---

// ruleDump renders the rules with everything that defines them.
func ruleDump(p *lang.Policy) string {
	var b strings.Builder
	for _, r := range p.Rules {
		src, dst := "", ""
		if r.Src != nil {
			src = r.Src.Name + fmt.Sprint(r.Src.Set.Prefixes(false), r.Src.Set.Prefixes(true))
		}
		if r.Dst != nil {
			dst = r.Dst.Name + fmt.Sprint(r.Dst.Set.Prefixes(false), r.Dst.Set.Prefixes(true))
		}
		fmt.Fprintf(&b, "%s %s %s in=%s !in=%s out=%s src=%s dst=%s svc=%v ssvc=%v est=%v %s dnat=%v dscp=%s log=%v %q %s\n",
			r.Chain, r.ID, r.Kind, r.InZone, r.NotInZone, r.OutZone, src, dst, r.Services, r.SrcServices, r.Established,
			r.Action, r.DNAT, r.DSCP, r.Log, r.Comment, r.Origin)
	}
	return b.String()
}

const fullPolicy = `target "nftables" {
  wan = "eth0"
  lan = "eth1"
}

provider "zeta" {
  signaling  = ["203.0.113.50", "203.0.113.51", "2001:db8:50::/48"]
  media      = ["203.0.113.128/25"]
  transports = ["udp", "tcp"]
}

provider "alpha" {
  signaling  = ["192.0.2.64/28"]
  media      = ["192.0.2.128/25"]
  transports = ["tls"]
}

pbx "office" {
  address   = "10.20.0.10"
  providers = ["zeta"]
  rtp_ports = "10000-10999"
}

voice_vlan "phones" {
  id         = 20
  subnet     = "10.30.0.0/24"
  providers  = ["alpha"]
  management = ["10.0.0.0/24"]
}

rtp {
  ports = "10000-10999"
}

close {
  ports = ["2000/tcp", "5080/udp"]
}

rate_limit {
  sip = "10/second"
}

blocklist "scanners" {
  addresses = ["198.51.100.0/24", "2001:db8:bad::/48"]
}

log {
  dropped = true
}
`

func TestRuleOrder(t *testing.T) {
	p := mustLoadSource(t, "gw.hcl", fullPolicy)
	var ids []string
	for _, r := range p.Rules {
		ids = append(ids, string(r.Chain)+":"+r.ID)
	}
	want := []string{
		// WAN: blocklists → closed → rate limit → established → provider SIP → provider RTP → catch-all drops
		"wan:blocklist_scanners",
		"wan:closed_2000_tcp",
		"wan:closed_5080_udp",
		"wan:rate_limit_sip",
		"wan:established",
		"wan:provider_alpha_sip_tls",
		"wan:provider_zeta_sip_udp",
		"wan:provider_zeta_sip_tcp",
		"wan:provider_alpha_rtp",
		"wan:provider_zeta_rtp",
		"wan:sip_drop",
		"wan:rtp_drop",
		"nat:dnat_office_zeta_sip_udp",
		"nat:dnat_office_zeta_sip_tcp",
		"nat:dnat_office_zeta_rtp",
		"voice_egress:vlan_phones_dscp_sip",
		"voice_egress:vlan_phones_dscp_rtp",
		"voice_egress:vlan_phones_alpha_dscp_rtp",
		"voice_egress:vlan_phones_alpha_sip",
		"voice_egress:vlan_phones_alpha_rtp",
		"voice_egress:vlan_phones_sip_drop",
		"voice_egress:vlan_phones_rtp_drop",
		"voice_ingress:vlan_phones_management",
		"voice_ingress:vlan_phones_management_drop",
	}
	if strings.Join(ids, "\n") != strings.Join(want, "\n") {
		t.Errorf("rule order:\n got: %s\nwant: %s", strings.Join(ids, " "), strings.Join(want, " "))
	}
	// The standard SIP ports are guarded even though no provider uses 5061/tcp... here alpha does;
	// and 5060/udp+tcp through zeta. Check the catch-all covers all three explicitly.
	for _, r := range p.Rules {
		if r.ID == "sip_drop" {
			got := fmt.Sprint(r.Services)
			for _, s := range []string{"5060/tcp", "5061/tcp", "5060/udp"} {
				if !strings.Contains(got, s) {
					t.Errorf("sip_drop services %s lack %s", got, s)
				}
			}
		}
		if r.Origin.Kind == "" {
			t.Errorf("rule %s has no origin", r.ID)
		}
	}
}

func TestLoweringIsDeterministic(t *testing.T) {
	first := mustLoadSource(t, "gw.hcl", fullPolicy)
	want := ruleDump(first)
	for i := 0; i < 20; i++ {
		if got := ruleDump(mustLoadSource(t, "gw.hcl", fullPolicy)); got != want {
			t.Fatalf("run %d differs:\n%s\nvs\n%s", i, got, want)
		}
	}
	// Splitting the same blocks over two files in a directory changes only
	// the file names in origins, never the rules.
	dir := t.TempDir()
	cut := strings.Index(fullPolicy, `pbx "office"`)
	writeFiles(t, dir, map[string]string{"gw.hcl": fullPolicy[:cut], "pbx.hcl": fullPolicy[cut:]})
	p, diags := registry.Load(dir)
	if diags.HasErrors() {
		t.Fatalf("load dir:%s", fmtDiags(diags))
	}
	strip := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if i := strings.LastIndex(l, " ("); i >= 0 {
				l = l[:i]
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	}
	if strip(ruleDump(p)) != strip(want) {
		t.Errorf("directory load gives other rules:\n%s\nvs\n%s", ruleDump(p), want)
	}
}

func TestDefaults(t *testing.T) {
	src := `provider "telnyx" {
  signaling = ["192.76.120.10"]
  media     = ["36.255.198.128/25"]
}

voice_vlan "phones" {
  id        = 20
  subnet    = "10.20.0.0/24"
  providers = ["telnyx"]
}

pbx "asterisk" {
  address = "10.20.0.10"
}

rate_limit {
  sip = "10/second"
}

log {
}
`
	p := mustLoadSource(t, "gw.hcl", src)
	pr := p.Providers[0]
	if pr.SIPPort != 5060 || pr.TLSPort != 5061 || len(pr.Transports) != 1 || pr.Transports[0] != lang.TransportUDP {
		t.Errorf("provider defaults: sip %d tls %d transports %v", pr.SIPPort, pr.TLSPort, pr.Transports)
	}
	if p.RTP != (lang.PortRange{First: 10000, Last: 20000}) {
		t.Errorf("rtp default = %v", p.RTP)
	}
	v := p.VoiceVLANs[0]
	if v.DSCP != "ef" || v.Parent != "lan" || len(v.ManagementPorts) == 0 {
		t.Errorf("voice_vlan defaults: dscp %q parent %q mgmt ports %v", v.DSCP, v.Parent, v.ManagementPorts)
	}
	x := p.PBXes[0]
	if x.RTPPorts != p.RTP || len(x.Providers) != 1 || x.Zone != "phones" {
		t.Errorf("pbx defaults: rtp %v providers %d zone %q (providers omitted: all)", x.RTPPorts, len(x.Providers), x.Zone)
	}
	if p.RateLimit.Burst != 10 {
		t.Errorf("burst default = %d, want the rate count 10", p.RateLimit.Burst)
	}
	if !p.Log.Dropped || p.Log.Prefix != "voicewall" || p.Log.Rate.String() != "10/minute" {
		t.Errorf("log defaults: %+v", p.Log)
	}
}

func TestTLSOnlyClosesCleartextSIP(t *testing.T) {
	p := mustLoadSource(t, "gw.hcl", base)
	var closed []string
	for _, c := range p.Closed {
		if c.Auto {
			closed = append(closed, c.Service.String())
		}
	}
	if strings.Join(closed, " ") != "5060/udp 5060/tcp" {
		t.Errorf("auto-closed = %v, want 5060/udp 5060/tcp", closed)
	}
}

func TestProvidersEmptyVersusOmitted(t *testing.T) {
	load := func(providers string) *lang.Policy {
		src := base + "\nvoice_vlan \"phones\" {\n  id     = 20\n  subnet = \"10.20.0.0/24\"\n" + providers + "}\n"
		return mustLoadSource(t, "gw.hcl", src)
	}
	has := func(p *lang.Policy, id string) bool {
		for _, r := range p.Rules {
			if r.ID == id {
				return true
			}
		}
		return false
	}
	if p := load(""); has(p, "vlan_phones_sip_drop") {
		t.Errorf("providers omitted: no toll-fraud guard is enforced (only warned about)")
	}
	if p := load("  providers = []\n"); !has(p, "vlan_phones_sip_drop") || has(p, "vlan_phones_telnyx_sip") {
		t.Errorf("providers = []: phones may reach no provider, SIP to the WAN is dropped")
	}
}

// mustLoadSource loads one in-memory file and fails the test on any error.
func mustLoadSource(t testing.TB, name, src string) *lang.Policy {
	t.Helper()
	p, diags := registry.LoadSource(name, []byte(src))
	if diags.HasErrors() {
		t.Fatalf("load %s:%s", name, fmtDiags(diags))
	}
	return p
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
