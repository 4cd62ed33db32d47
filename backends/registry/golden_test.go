package registry

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

var update = flag.Bool("update", false, "rewrite golden/ from the examples")

const root = "../.."

// TestGolden compiles every example for every target and compares with
// golden/<example>/<file>; -update rewrites them. Compiling twice must give
// byte-identical output.
func TestGolden(t *testing.T) {
	for _, ex := range testenv.Examples(t, root) {
		name := ex.Name
		p, diags := Load(ex.Dir)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", name, diags)
		}
		for _, tgt := range Targets {
			t.Run(name+"/"+tgt.Name, func(t *testing.T) {
				// Examples compile as written for every target they declare:
				// each gap is accepted in the target block (accept_gaps) and
				// the golden file's header states it. A target a site does
				// not declare (a fleet site for one device) may have gaps;
				// its golden file is the degraded output saying so.
				fleetSite := strings.Contains(ex.Name, "/") // fleet/sites/NAME
				opts := backends.Options{}
				out, diags := tgt.Compile(p, opts)
				if _, declared := p.Targets[tgt.Name]; diags.HasErrors() && (declared || !fleetSite) {
					t.Fatalf("compile: %v", diags)
				} else if diags.HasErrors() {
					opts.AllowDegraded = true
					out, diags = tgt.Compile(p, opts)
					if diags.HasErrors() {
						t.Fatalf("compile --allow-degraded: %v", diags)
					}
				}
				for _, d := range diags {
					if lang.FindingID(d) == lang.IDStaleGap {
						t.Errorf("stale acceptance in the example: %s", d.Summary)
					}
				}
				again, _ := tgt.Compile(p, opts)
				for i, f := range out.Files {
					if !bytes.Equal(f.Data, again.Files[i].Data) {
						t.Fatalf("%s is not deterministic", f.Name)
					}
					path := filepath.Join(root, "golden", name, f.Name)
					if *update {
						if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(path, f.Data, 0o644); err != nil {
							t.Fatal(err)
						}
						continue
					}
					want, err := os.ReadFile(path)
					if err != nil {
						t.Fatalf("%v (run go test ./backends/registry -update to create it)", err)
					}
					if diff := cmp.Diff(string(want), string(f.Data)); diff != "" {
						t.Errorf("%s differs from golden (-golden +got); review and run with -update:\n%s", path, diff)
					}
				}
			})
		}
	}
}

// TestGoldenPfSenseBase covers the pfSense --base merge: every example
// merged into one exported config.xml (backends/pfsense/testdata), compared
// with golden/<example>/pfsense-merged.xml; -update rewrites them. The
// feed files of urltable aliases are the same as without --base and live in
// the ordinary golden set.
func TestGoldenPfSenseBase(t *testing.T) {
	base, err := os.ReadFile(filepath.Join(root, "backends", "pfsense", "testdata", "base-config.xml"))
	if err != nil {
		t.Fatal(err)
	}
	tgt, _ := Lookup("pfsense")
	for _, ex := range testenv.Examples(t, root) {
		name := ex.Name
		if strings.Contains(name, "/") {
			continue // fleet sites: their golden set is the fleet's own
		}
		t.Run(name, func(t *testing.T) {
			p, diags := Load(ex.Dir)
			if diags.HasErrors() {
				t.Fatalf("%v", diags)
			}
			out, diags := tgt.Compile(p, backends.Options{AllowDegraded: true, Base: base})
			if diags.HasErrors() {
				t.Fatalf("compile: %v", diags)
			}
			got := out.Main().Data
			path := filepath.Join(root, "golden", name, "pfsense-merged.xml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./backends/registry -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs from golden (-golden +got); review and run with -update:\n%s", path, diff)
			}
		})
	}
}

// TestNftAcceptsGolden: the real nft is the oracle. Every golden ruleset
// must pass `nft -c -f` in a throwaway network namespace, and must be
// reloadable: loaded three times with `nft -f`, the kernel lists exactly the
// table part of the file (everything after nftables.FileHeader), so a file
// without the declare-and-delete header (which duplicates every rule on the
// second load) fails here.
func TestNftAcceptsGolden(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTools(t, "nft", "unshare")
	for _, ex := range testenv.Examples(t, root) {
		path := filepath.Join(root, "golden", ex.Name, "nftables.nft")
		out, err := exec.Command("unshare", "-n", "nft", "-c", "-f", path).CombinedOutput()
		if err != nil {
			t.Errorf("nft -c rejects %s: %v\n%s", path, err, out)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		table, ok := strings.CutPrefix(string(data), nftables.FileHeader)
		if !ok {
			t.Errorf("%s does not start with the reload header (declare and delete the table)", path)
		}
		out, err = exec.Command("unshare", "-n", "sh", "-c", `nft -f "$1" && nft -f "$1" && nft -f "$1" && nft list table inet voicewall`, "sh", path).CombinedOutput()
		if err != nil {
			t.Errorf("%s does not load three times: %v\n%s", path, err, out)
		} else if string(out) != table {
			t.Errorf("%s loaded three times lists other than its table part:\n%s", path, out)
		}
	}
}
