package lang

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestInputFiles(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "a.hcl"), `blocklist "one" {
  file = "lists/one.txt"
}
`)
	write(filepath.Join(dir, "b.hcl"), `blocklist "two" {
  addresses = ["198.51.100.0/24"]
  files     = ["two.txt", "/abs/three.txt"]
}
`)
	write(filepath.Join(dir, "notes.txt"), "not a policy file")

	// The blocklist files do not exist: InputFiles never opens them.
	got, diags := InputFiles(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := []string{
		filepath.Join(dir, "a.hcl"), filepath.Join(dir, "b.hcl"),
		filepath.Join(dir, "lists/one.txt"), filepath.Join(dir, "two.txt"), "/abs/three.txt",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("InputFiles(dir) = %q, want %q", got, want)
	}

	// One file: blocklists relative to it.
	write(filepath.Join(sub, "p.hcl"), `blocklist "x" {
  file = "../x.txt"
}
`)
	got, diags = InputFiles(filepath.Join(sub, "p.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if want := []string{filepath.Join(sub, "p.hcl"), filepath.Join(dir, "x.txt")}; !reflect.DeepEqual(got, want) {
		t.Errorf("InputFiles(file) = %q, want %q", got, want)
	}

	// The loader's own schema: errors give diagnostics.
	for name, src := range map[string]string{
		"syntax":    "blocklist \"x\" {\n",
		"schema":    "blocklist \"x\" {\n  fil = \"a.txt\"\n}\n",
		"file type": "blocklist \"x\" {\n  file = [1]\n}\n",
		"unknown":   "nosuchblock {}\n",
	} {
		p := filepath.Join(t.TempDir(), "p.hcl")
		write(p, src)
		if _, diags := InputFiles(p); !diags.HasErrors() {
			t.Errorf("%s: no error", name)
		}
	}
	if _, diags := InputFiles(filepath.Join(dir, "missing")); !diags.HasErrors() {
		t.Error("missing path: no error")
	}
}

// InputFiles lists exactly the blocklist files the loader reads.
func TestInputFilesMatchLoader(t *testing.T) {
	path := filepath.Join("..", "examples", "smb-blocklist")
	files, diags := InputFiles(path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, diags := Load(path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	hcl, _, err := PolicyFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	want = append(want, hcl...)
	for _, b := range p.Blocklists {
		want = append(want, b.FilePaths...)
	}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("InputFiles = %q, loader read %q", files, want)
	}
}
