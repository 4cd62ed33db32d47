package nftables

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/internal/netnstest"
	"github.com/voicewall/voicewall/internal/testenv"
)

var counterText = regexp.MustCompile(`counter packets \d+ bytes \d+`)

// loadFile runs `nft -f path` in the namespace.
func loadFile(ns *netnstest.NS, path string) error {
	_, err := ns.Run("nft", "-f", path)
	return err
}

// listed is `nft list table inet voicewall` with counters zeroed.
func listed(ns *netnstest.NS) (string, error) {
	out, err := ns.Run("nft", "list", "table", TableFamily, TableName)
	return counterText.ReplaceAllString(out, "counter packets 0 bytes 0"), err
}

// checkReloads is the strict check of a compiled file: loaded `times` times
// into a namespace that already holds whatever earlier tests left there, the
// kernel must list exactly want (the table part of the file).
func checkReloads(ns *netnstest.NS, path, want string, times int) error {
	for i := 0; i < times; i++ {
		if err := loadFile(ns, path); err != nil {
			return fmt.Errorf("load %d of %s: %w", i+1, filepath.Base(path), err)
		}
	}
	got, err := listed(ns)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("after %d loads of %s the kernel lists something else than the compiled table:\n%s", times, filepath.Base(path), lineDiff(want, got))
	}
	return nil
}

// lineDiff shows the first differing line of two listings.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, wl, gl)
		}
	}
	return "(equal)"
}

// The compiled file is the header and then the table exactly as Render
// writes it, so principle 2 (listing equals the rendered table) still
// speaks about everything after the header.
func TestFileIsHeaderThenTable(t *testing.T) {
	for name, p := range examplePolicies(t) {
		out, diags := Compile(p, backends.Options{})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", name, diags)
		}
		data := string(out.Main().Data)
		table, ok := strings.CutPrefix(data, FileHeader)
		if !ok {
			t.Fatalf("%s: file does not start with the reload header:\n%s", name, data)
		}
		if want := Render(Build(p)); table != want {
			t.Errorf("%s: table part differs from Render", name)
		}
	}
}

// Every example's file, loaded twice over an older version of "the" table
// with other sets, chains and elements, leaves exactly its own table; a
// file whose blocklist lost entries drops them. The older versions are the
// example before and the one after it in name order (so every pair of
// neighbours is replaced in both directions) and the largest table (most
// objects left to remove): linear in the examples, where every pair grew
// with their square.
func TestFileReloadsOverAnyOlderVersion(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTools(t, "nft")
	ns := netnstest.NewNS(t, "nftreload")
	dir := t.TempDir()
	pols := examplePolicies(t)
	names := make([]string, 0, len(pols))
	for n := range pols {
		names = append(names, n)
	}
	sort.Strings(names)
	files, want := map[string]string{}, map[string]string{}
	largest := ""
	for _, n := range names {
		files[n] = filepath.Join(dir, n+".nft")
		want[n] = Render(Build(pols[n]))
		if err := os.WriteFile(files[n], RenderFile(Build(pols[n])), 0o644); err != nil {
			t.Fatal(err)
		}
		if largest == "" || len(want[n]) > len(want[largest]) {
			largest = n
		}
	}
	for i, n := range names {
		olders := []string{names[(i+len(names)-1)%len(names)], names[(i+1)%len(names)], largest}
		for _, older := range olders {
			if older == n {
				continue
			}
			if err := loadFile(ns, files[older]); err != nil {
				t.Fatalf("load %s: %v", older, err)
			}
			if err := checkReloads(ns, files[n], want[n], 2); err != nil {
				t.Errorf("over %s: %v", older, err)
			}
		}
	}

	// A blocklist entry removed between two versions is gone after reload.
	const pol = `
provider "c" {
  signaling = ["203.0.113.10"]
  media     = ["203.0.113.0/26"]
}
pbx "x" {
  address = "10.0.0.5"
}
blocklist "b" {
  addresses = [%s]
}
`
	full := load(t, fmt.Sprintf(pol, `"198.51.100.0/24", "192.0.2.5"`))
	shrunk := load(t, fmt.Sprintf(pol, `"198.51.100.0/24"`))
	fullPath, shrunkPath := filepath.Join(dir, "full.nft"), filepath.Join(dir, "shrunk.nft")
	for path, p := range map[string]*Table{fullPath: Build(full), shrunkPath: Build(shrunk)} {
		if err := os.WriteFile(path, RenderFile(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkReloads(ns, fullPath, Render(Build(full)), 1); err != nil {
		t.Fatal(err)
	}
	if err := checkReloads(ns, shrunkPath, Render(Build(shrunk)), 1); err != nil {
		t.Fatal(err)
	}
	if got, _ := listed(ns); strings.Contains(got, "192.0.2.5") {
		t.Error("the removed blocklist entry survived the reload")
	}
}

// The old form (the bare table, no declare-and-delete) is what the strict
// check exists to reject: loaded twice it fails or lists every rule twice,
// and loaded over a changed version it fails with "File exists".
func TestCheckRejectsBareTable(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTools(t, "nft")
	ns := netnstest.NewNS(t, "nftbare")
	dir := t.TempDir()
	var p *Table
	for _, pol := range examplePolicies(t) {
		p = Build(pol)
		break
	}
	bare := filepath.Join(dir, "bare.nft")
	if err := os.WriteFile(bare, RenderBytes(p), 0o644); err != nil {
		t.Fatal(err)
	}
	err := checkReloads(ns, bare, Render(p), 2)
	t.Logf("bare table: %v", err)
	if err == nil {
		t.Fatal("the strict reload check accepted a file without the declare-and-delete header")
	}
}

// The /etc/nftables.conf path: a main file like Debian's (flush ruleset, the
// admin's own table, then `include` of voicewall's file) loads any number of
// times; the admin's table and voicewall's both list as written. A main file
// without `flush ruleset` (an admin who manages other tables elsewhere)
// works the same, because the voicewall file replaces only its own table.
func TestFileIncludedFromMainConf(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTools(t, "nft")
	ns := netnstest.NewNS(t, "nftinclude")
	dir := t.TempDir()
	var name string
	pols := examplePolicies(t)
	for n := range pols {
		if name == "" || n < name {
			name = n
		}
	}
	tab := Build(pols[name])
	vwFile := filepath.Join(dir, "voicewall.nft")
	if err := os.WriteFile(vwFile, RenderFile(tab), 0o644); err != nil {
		t.Fatal(err)
	}
	const own = "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n"
	for _, flush := range []bool{true, false} {
		main := "#!/usr/sbin/nft -f\n"
		if flush {
			main += "flush ruleset\n"
		}
		main += own + "include \"" + vwFile + "\"\n"
		mainFile := filepath.Join(dir, fmt.Sprintf("nftables-%v.conf", flush))
		if err := os.WriteFile(mainFile, []byte(main), 0o644); err != nil {
			t.Fatal(err)
		}
		if !flush {
			// Without flush the admin's own table must not already exist.
			if _, err := ns.Run("nft", "delete", "table", "inet", "filter"); err != nil && !strings.Contains(err.Error(), "No such file") {
				t.Fatal(err)
			}
		}
		if err := checkReloads(ns, mainFile, Render(tab), 1); err != nil {
			t.Fatalf("flush=%v: %v", flush, err)
		}
		if flush {
			// `systemctl reload nftables` is another `nft -f` of the main file.
			if err := checkReloads(ns, mainFile, Render(tab), 2); err != nil {
				t.Fatalf("reload: %v", err)
			}
		}
		got, err := ns.Run("nft", "list", "table", "inet", "filter")
		if err != nil || got != own {
			t.Errorf("flush=%v: the admin's own table changed: %v\n%s", flush, err, got)
		}
	}
}

// Why the file declares and deletes the table instead of `destroy table`
// (delete if it exists): the installed nft is asked. On nft < 1.0.8
// (Debian 12 has 1.0.6) destroy is a syntax error, so the file could not
// use it; where nft has it, the declare-and-delete file must still list
// exactly the same table as a destroy-based one, so switching later would
// change nothing.
func TestDestroyTableAgainstDeclareDelete(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTools(t, "nft")
	ns := netnstest.NewNS(t, "nftdestroy")
	dir := t.TempDir()
	var tab *Table
	for _, p := range examplePolicies(t) {
		tab = Build(p)
		break
	}
	destroy := filepath.Join(dir, "destroy.nft")
	if err := os.WriteFile(destroy, append([]byte("destroy table "+TableFamily+" "+TableName+"\n"), RenderBytes(tab)...), 0o644); err != nil {
		t.Fatal(err)
	}
	ver, _ := ns.Run("nft", "--version")
	if _, err := ns.Run("nft", "-c", "-f", destroy); err != nil {
		t.Logf("%s: no destroy table (%v); the declare-and-delete header is the only reloadable form", strings.TrimSpace(ver), err)
		return
	}
	t.Logf("%s has destroy table; checking both forms agree", strings.TrimSpace(ver))
	if err := checkReloads(ns, destroy, Render(tab), 2); err != nil {
		t.Fatalf("destroy form: %v", err)
	}
	file := filepath.Join(dir, "file.nft")
	if err := os.WriteFile(file, RenderFile(tab), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkReloads(ns, file, Render(tab), 2); err != nil {
		t.Fatalf("declare-and-delete form: %v", err)
	}
}
