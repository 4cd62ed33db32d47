package lang

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"go4.org/netipx"
)

const hostileBase = `provider "p" {
  signaling = ["192.0.2.1"]
}
`

// loadWithin loads path and fails the test if that takes longer than a
// generous bound: the attacks below hung or exhausted memory before.
func loadWithin(t *testing.T, path string) *Loaded {
	t.Helper()
	done := make(chan *Loaded, 1)
	go func() { done <- LoadFull(path) }()
	select {
	case l := <-done:
		return l
	case <-time.After(30 * time.Second):
		t.Fatalf("loading %s did not finish in 30 s", path)
		return nil
	}
}

// wantError checks for an error diagnostic located in file whose text
// contains every fragment.
func wantError(t *testing.T, diags hcl.Diagnostics, file string, fragments ...string) *hcl.Diagnostic {
	t.Helper()
	for _, d := range diags {
		if d.Severity != hcl.DiagError || d.Subject == nil || d.Subject.Filename != file {
			continue
		}
		text := d.Summary + ": " + d.Detail
		ok := true
		for _, f := range fragments {
			ok = ok && strings.Contains(text, f)
		}
		if ok {
			return d
		}
	}
	t.Fatalf("no error at %s containing %q in:\n%v", file, fragments, diags)
	return nil
}

func writePolicy(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A FIFO never hangs the loader, whether it is the policy
// path, a .hcl file in the policy directory or a blocklist file.
func TestFIFORefused(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, "a.hcl", hostileBase+`blocklist "b" {
  file = "feed.txt"
}
`)
	for _, name := range []string{"feed.txt", "z.hcl"} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := loadWithin(t, dir)
	wantError(t, l.Diags, "z.hcl", "Cannot read policy file", "named pipe", "plain file")

	os.Remove(filepath.Join(dir, "z.hcl"))
	l = loadWithin(t, dir)
	d := wantError(t, l.Diags, "a.hcl", "not a regular file", "named pipe")
	if d.Subject.Start.Line != 5 {
		t.Errorf("the error points at %v, not at the file attribute", d.Subject)
	}

	l = loadWithin(t, filepath.Join(dir, "feed.txt"))
	wantError(t, l.Diags, "feed.txt", "named pipe")
}

// A .hcl symlinked to /dev/zero, a huge file and deep
// nesting are refused before the parser sees them.
func TestHugeAndDeepPolicyRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.hcl")); err != nil {
		t.Fatal(err)
	}
	wantError(t, loadWithin(t, dir).Diags, "zero.hcl", "character device")
	os.Remove(filepath.Join(dir, "zero.hcl"))

	// 50 MB of inline addresses: sparse, so the test writes nothing.
	big, err := os.Create(filepath.Join(dir, "big.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(50 << 20); err != nil {
		t.Fatal(err)
	}
	big.Close()
	wantError(t, loadWithin(t, dir).Diags, "big.hcl", "too large", "52428800 bytes", `file = "list.txt"`)
	os.Remove(filepath.Join(dir, "big.hcl"))

	// The full lane nests and chains far beyond the caps; the -short lane
	// goes just as far past them (the same checks refuse both), at a
	// fiftieth of the lexing.
	n, ops := 100000, 100000
	if testing.Short() {
		n, ops = 2000, 2000
	}
	for name, src := range map[string]string{
		"brackets.hcl": "a = " + strings.Repeat("[", n),
		"objects.hcl":  "a = " + strings.Repeat("{x = ", n),
		"bang.hcl":     "a = " + strings.Repeat("!", n) + "true\n",
		"minus.hcl":    "a = " + strings.Repeat("-", n) + "1\n",
		"splat.hcl":    "a = x" + strings.Repeat("[*]", n) + "\n",
		"calls.hcl":    "a = " + strings.Repeat("f(", n),
		"template.hcl": "a = \"" + strings.Repeat("${\"", n),
		"control.hcl":  "a = \"" + strings.Repeat("%{if x}", n),
		"blocks.hcl":   strings.Repeat("b {\n", n),
	} {
		sub := t.TempDir()
		writePolicy(t, sub, name, src)
		d := wantError(t, loadWithin(t, sub).Diags, name, "Nesting too deep", "unbalanced")
		if d.Subject.Start.Line == 1 && d.Subject.Start.Column < MaxNesting {
			t.Errorf("%s: the error points at %v, before the %dth level", name, d.Subject.Start, MaxNesting)
		}
		// fmt parses through LoadSourceSyntaxOnly.
		if l := LoadSourceSyntaxOnly(name, []byte(src)); !l.Diags.HasErrors() {
			t.Errorf("%s: fmt would parse it", name)
		}
	}
	// A megabyte of traversals and operators took 900 MB before the cap.
	for name, src := range map[string]string{
		"index.hcl": "a = x" + strings.Repeat("[0]", 3*ops),
		"attr.hcl":  "a = x" + strings.Repeat(".b", 4*ops),
		"plus.hcl":  "a = " + strings.Repeat("1 + ", 2*ops) + "1",
		"cond.hcl":  "a = " + strings.Repeat("x ? 1 : ", ops) + "1",
	} {
		sub := t.TempDir()
		writePolicy(t, sub, name, src)
		wantError(t, loadWithin(t, sub).Diags, name, "Too many operators", "evaluates no expression")
	}
	// What a policy needs still loads.
	if _, diags := LoadSource("ok.hcl", []byte(hostileBase+`expect "e" {
  from    = "2001:db8::5"
  to      = "[2001:db8::1]:5060/udp"
  verdict = "drop"
}
`)); diags.HasErrors() {
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				t.Error(d)
			}
		}
	}
}

// The parser's diagnostics are capped per file.
func TestParseDiagnosticsCapped(t *testing.T) {
	_, diags := LoadSource("junk.hcl", bytes.Repeat([]byte("a = [,]\n"), 5000))
	if len(diags) > maxParseDiags+1 {
		t.Fatalf("%d diagnostics for one file", len(diags))
	}
	if last := diags[len(diags)-1]; last.Summary != "More syntax errors" {
		t.Fatalf("no summary of the rest: %v", last)
	}
}

// A read error is an error, never the end of the file.
func TestBlocklistReadErrorIsAnError(t *testing.T) {
	var b netipx.IPSetBuilder
	r := iotest.TimeoutReader(strings.NewReader("192.0.2.1\n192.0.2.2\n"))
	_, diags := readBlocklist(iotest.OneByteReader(r), "feed.txt", &b, nil)
	if !diags.HasErrors() || !strings.Contains(diags[0].Detail, "incomplete") {
		t.Fatalf("a failing read was taken for the end of the file: %v", diags)
	}

	// /proc/self/mem is a regular file whose first read fails with EIO
	// (allowed explicitly: it is outside the policy's directories).
	t.Setenv(ReadPathEnv, "/proc/self")
	dir := t.TempDir()
	writePolicy(t, dir, "a.hcl", hostileBase+`blocklist "b" {
  file = "/proc/self/mem"
}
`)
	wantError(t, loadWithin(t, dir).Diags, "a.hcl", "Cannot read blocklist file", "input/output error")
}

// An unreadable policy directory says so, instead of
// "contains no .hcl files". Root reads every directory, so the check runs
// in a child process as nobody.
func TestUnreadablePolicyDir(t *testing.T) {
	if dir := os.Getenv("VW_TEST_UNREADABLE_DIR"); dir != "" {
		_, _, err := PolicyFiles(dir)
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("want permission denied, got %v", err)
		}
		return
	}
	base, err := os.MkdirTemp("", "vw-unreadable")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	dir := filepath.Join(base, "policy")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writePolicy(t, dir, "a.hcl", hostileBase)
	if err := os.Chmod(dir, 0o000); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		_, _, err := PolicyFiles(dir)
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("want permission denied, got %v", err)
		}
		return
	}
	// The child runs a copy of this test binary that nobody may execute.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	child := filepath.Join(base, "lang.test")
	if err := os.WriteFile(child, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(child, "-test.run", "^TestUnreadablePolicyDir$", "-test.count", "1")
	cmd.Dir = base
	cmd.Env = append(os.Environ(), "VW_TEST_UNREADABLE_DIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}

// rawControl finds a character a terminal would act on.
func rawControl(s string) (rune, bool) {
	for _, r := range s {
		if r != '\n' && r != ' ' && !unicode.IsPrint(r) {
			return r, true
		}
	}
	return 0, false
}

// Nothing raw reaches the terminal, and nothing huge:
// escape sequences in a policy line, a feed line, a file name and an OS
// error text are printed escaped; long lines and values are cut; the
// number of diagnostics printed is bounded.
func TestDiagnosticsPrintNothingRaw(t *testing.T) {
	dir := t.TempDir()
	esc := "\x1b]0;pwned\a\x1b[2J\u202e"
	if err := os.WriteFile(filepath.Join(dir, "feed.txt"), []byte("192.0.2.9\n"+esc+"198.51.100.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("A", 500000)
	writePolicy(t, dir, "a.hcl", hostileBase+`blocklist "b" {
  files = ["feed.txt", "`+esc+`missing.txt"]
}
blocklist "c" {
  addresses = ["`+huge+`"] # `+esc+`
}
`)
	text := printed(t, dir)
	if r, ok := rawControl(text); ok {
		t.Errorf("raw %q reaches the terminal:\n%s", r, text)
	}
	for _, want := range []string{`\x1b]0;pwned\x07\x1b[2J\u202e`, `\u202emissing.txt:`, "more bytes)", "feed.txt:2:1"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if len(text) > 20000 {
		t.Errorf("%d bytes of diagnostics for a 500 KB value", len(text))
	}

	many := t.TempDir()
	writePolicy(t, many, "a.hcl", hostileBase+`close {
  ports = [`+strings.Repeat(`"x/tcp", `, 300)+`]
}
`)
	text = printed(t, many)
	if n := strings.Count(text, "error[VW022]"); n != maxShownDiags {
		t.Errorf("%d diagnostics printed", n)
	}
	if !strings.Contains(text, "more diagnostics (200 of them errors) not shown") {
		t.Errorf("no count of the rest:\n%s", text[len(text)-500:])
	}
}

func printed(t *testing.T, dir string) string {
	t.Helper()
	l := loadWithin(t, dir)
	var out strings.Builder
	if err := WriteDiagnostics(&out, l.Files, l.Diags, dir); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestSnippetWindow(t *testing.T) {
	line := strings.Repeat("a", 1000) + "BAD" + strings.Repeat("b", 1000)
	text, caret, width := snippetLine(line, 1000, 3)
	if got := string([]rune(text)[caret : caret+width]); got != "BAD" {
		t.Fatalf("caret at %d+%d marks %q in %q", caret, width, got, text)
	}
	if n := utf8.RuneCountInString(text); n > maxSnippetLen+2 {
		t.Fatalf("window of %d characters", n)
	}
	text, caret, width = snippetLine("x = \x1b[31m\"v\"", 9, 3)
	if got := string([]rune(text)[caret : caret+width]); got != `"v"` {
		t.Fatalf("caret at %d+%d marks %q in %q", caret, width, got, text)
	}
}
