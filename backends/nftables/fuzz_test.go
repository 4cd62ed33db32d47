package nftables

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

// fuzzBlocklist is the one relative path above this directory the seeds use.
const fuzzBlocklist = `"../../examples/smb-blocklist/blocklists/voipbl.txt"`

// fuzzUnsafe reports inputs that could make the loader read a device, FIFO
// or pseudo file (file = "/dev/zero" never ends): see lang's FuzzLoad.
func fuzzUnsafe(data []byte) bool {
	data = bytes.ReplaceAll(data, []byte(fuzzBlocklist), nil)
	if !bytes.Contains(data, []byte("file")) {
		return false
	}
	for _, s := range []string{"$", "%{", `\`, "<<", "..", `"/`, "~"} {
		if bytes.Contains(data, []byte(s)) {
			return true
		}
	}
	return false
}

var nftChecked atomic.Int64

// nftCheckEvery: while fuzzing, only every Nth output goes through the real
// nft (a process and a namespace each); seed runs check every output.
const nftCheckEvery = 256

var haveNft = sync.OnceValue(func() bool {
	_, e1 := exec.LookPath("nft")
	_, e2 := exec.LookPath("unshare")
	return os.Geteuid() == 0 && e1 == nil && e2 == nil
})

// fuzzing reports whether the test binary runs with -test.fuzz (go test -fuzz).
func fuzzing() bool { return flag.Lookup("test.fuzz").Value.String() != "" }

// FuzzCompile: any policy that loads compiles without panic, the same way
// twice, never accepts SIP or RTP from any source on the WAN, and (with
// root and nft) the text passes `nft -c -f` in a throwaway network namespace.
func FuzzCompile(f *testing.F) {
	if testenv.CI() && !haveNft() {
		f.Fatal("CI=true: FuzzCompile needs root, nft and unshare to check its output")
	}
	files, _ := filepath.Glob("../../examples/*/*.hcl")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add("fuzz.hcl", testenv.StripComments(bytes.ReplaceAll(b, []byte(`"blocklists/voipbl.txt"`), []byte(fuzzBlocklist))))
	}
	for _, name := range testenv.HostileFileNames {
		f.Add(name, []byte("provider \"p\" {\n  signaling = [\"192.0.2.1\"]\n}\nclose {\n  ports = [\"2000/tcp\"]\n}\n"))
	}
	f.Add("fuzz.hcl", []byte(`provider "p" {
  signaling  = ["192.0.2.1", "2001:db8::/64"]
  media      = ["2001:db8:1::/48"]
  transports = ["tls", "tcp"]
  sip_port   = 1
  tls_port   = 65535
}
pbx "x" {
  address   = "2001:db8:2::1"
  providers = ["p"]
  rtp_ports = "1024-1024"
}
voice_vlan "v" {
  id         = 1
  subnets    = ["10.0.0.0/8", "fd00::/8"]
  providers  = []
  management = ["192.168.0.1"]
  dscp       = "cs7"
}
rate_limit {
  sip   = "1/day"
  burst = 200000
}
log {
  prefix = "a"
  rate   = "1/hour"
}
`))
	fuzz := fuzzing()
	testenv.BoundFuzzMinimization()
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		if fuzzUnsafe(data) || len(data) > 1<<16 {
			t.Skip()
		}
		p, diags := lang.LoadSource(name, data)
		if p == nil || diags.HasErrors() {
			return
		}
		out, cdiags := Compile(p, backends.Options{})
		if cdiags.HasErrors() {
			t.Fatalf("compile: %v", cdiags)
		}
		text := out.Files[0].Data
		// Whatever the file name holds, every line is inside the table
		// (nft -c below checks only every nftCheckEvery-th output).
		table, ok := bytes.CutPrefix(text, []byte(FileHeader))
		if !ok {
			t.Fatalf("output does not start with FileHeader")
		}
		for _, line := range bytes.Split(bytes.TrimSuffix(table, []byte("\n")), []byte("\n")) {
			if len(line) > 0 && line[0] != '\t' && string(line) != "}" && string(line) != "table inet voicewall {" {
				t.Fatalf("line outside the table: %q", line)
			}
		}
		if again, _ := Compile(p, backends.Options{}); !bytes.Equal(again.Files[0].Data, text) {
			t.Fatal("output is not deterministic")
		}
		for _, c := range Build(p).Chains {
			if c.Name != ChainWANIn {
				continue
			}
			for _, r := range c.Rules {
				if acceptsFromAny(r) && !p.RemoteException(r.Source) {
					t.Fatalf("rule %s accepts on the WAN without a source set: %s", r.Key, RuleText(r))
				}
			}
		}
		if !haveNft() {
			return
		}
		if fuzz && nftChecked.Add(1)%nftCheckEvery != 1 {
			return
		}
		path := filepath.Join(t.TempDir(), "fuzz.nft")
		if err := os.WriteFile(path, text, 0o600); err != nil {
			t.Fatal(err)
		}
		if msg, err := exec.Command("unshare", "-n", "nft", "-c", "-f", path).CombinedOutput(); err != nil {
			t.Fatalf("nft -c: %v\n%s\n--- policy\n%s\n--- output\n%s", err, msg, data, text)
		}
	})
}

// acceptsFromAny reports an accept that neither names a source set nor is
// limited to replies of known flows.
func acceptsFromAny(r *Rule) bool {
	accept, scoped := false, false
	for _, s := range r.Stmts {
		switch s := s.(type) {
		case Verdict:
			accept = s.Kind == "accept"
		case MatchCtState:
			scoped = true
		case MatchAddrSet:
			scoped = scoped || s.Dir == Src
		}
	}
	return accept && !scoped
}
