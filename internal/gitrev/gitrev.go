// Package gitrev reads a policy as it was at a git revision, through the
// git binary (no git library): the revision's whole tree is written into
// a private temporary directory, at the same absolute path below it as the
// repository has on disk, so that a policy's relative paths (use blocks,
// blocklist files, even ones reaching outside the repository) resolve the
// way they do in the working tree.
//
// The tree is read with `git ls-tree` and `git cat-file --batch`, not `git
// archive`: archive applies export-ignore and export-subst attributes,
// which would drop or rewrite files of the policy.
package gitrev

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/voicewall/voicewall/internal/safefile"
	"github.com/voicewall/voicewall/lang"
)

// Snapshot is a policy at a revision, on disk until Close.
type Snapshot struct {
	Path   string   // the policy's PATH inside the snapshot
	Repo   string   // the repository's top directory inside the snapshot: the policy may read it
	Commit string   // the revision, resolved
	Notes  []string // input files the revision lacks, taken from the working tree
	tmp    string
}

// Close removes the snapshot.
func (s *Snapshot) Close() error { return os.RemoveAll(s.tmp) }

// git runs git in dir and returns its standard output.
func git(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", args[0], lang.Printable(msg, 512, false))
	}
	return out, nil
}

// Extract writes the tree of rev (of the repository holding path) into a
// temporary directory and returns where path is in it.
func Extract(path, rev string) (*Snapshot, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, errors.New("--base needs the git command on PATH")
	}
	if rev == "" || strings.HasPrefix(rev, "-") || strings.ContainsAny(rev, "\x00\n") {
		return nil, fmt.Errorf("--base %q is not a revision", rev)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, err
	}
	dir := abs
	if st, err := os.Stat(abs); err != nil {
		return nil, err
	} else if !st.IsDir() {
		dir = filepath.Dir(abs)
	}
	out, err := git(dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("%s is not in a git repository (%v)", path, err)
	}
	top, err := filepath.EvalSymlinks(strings.TrimSpace(string(out)))
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("%s is not inside the repository %s", path, top)
	}
	out, err = git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("--base %q: no such commit in %s", rev, top)
	}
	commit := strings.TrimSpace(string(out))
	tmp, err := os.MkdirTemp("", "voicewall-diff-")
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Commit: commit, tmp: tmp}
	root := filepath.Join(tmp, top)
	if err := writeTree(top, commit, root); err != nil {
		s.Close()
		return nil, err
	}
	s.Path, s.Repo = filepath.Join(root, rel), root
	if _, err := os.Lstat(s.Path); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s does not exist at %s", filepath.ToSlash(rel), rev)
	}
	s.fillInputs()
	return s, nil
}

type entry struct {
	mode, sha, path string
}

// writeTree writes every blob and symlink of commit below root. Symlinks
// are made last, so that no file is ever written through one.
func writeTree(top, commit, root string) error {
	out, err := git(top, "ls-tree", "-r", "-z", "--full-tree", commit)
	if err != nil {
		return err
	}
	var entries []entry
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, name, ok := bytes.Cut(rec, []byte{'\t'})
		f := strings.Fields(string(meta))
		if !ok || len(f) != 3 || f[1] != "blob" {
			continue // submodules (commit entries) are not part of the tree's files
		}
		p := filepath.FromSlash(string(name))
		if !filepath.IsLocal(p) {
			return fmt.Errorf("git ls-tree: refusing the path %q", lang.Printable(string(name), 200, false))
		}
		entries = append(entries, entry{f[0], f[2], p})
	}
	cmd := exec.Command("git", "-C", top, "cat-file", "--batch")
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	fail := func(err error) error {
		in.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return err
	}
	r := bufio.NewReader(stdout)
	var links []entry
	var targets []string
	for _, e := range entries {
		if _, err := io.WriteString(in, e.sha+"\n"); err != nil {
			return fail(err)
		}
		head, err := r.ReadString('\n')
		if err != nil {
			return fail(fmt.Errorf("git cat-file: %v %s", err, lang.Printable(stderr.String(), 512, false)))
		}
		f := strings.Fields(head)
		if len(f) != 3 || f[1] != "blob" {
			return fail(fmt.Errorf("git cat-file: unexpected answer %q", lang.Printable(head, 200, false)))
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || size < 0 {
			return fail(fmt.Errorf("git cat-file: bad size in %q", lang.Printable(head, 200, false)))
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(r, data); err != nil {
			return fail(err)
		}
		if _, err := r.Discard(1); err != nil { // the newline after the content
			return fail(err)
		}
		if e.mode == "120000" {
			links, targets = append(links, e), append(targets, string(data))
			continue
		}
		dst := filepath.Join(root, e.path)
		if err := safefile.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return fail(err)
		}
		mode := fs.FileMode(0o600)
		if e.mode == "100755" {
			mode = 0o700
		}
		if err := safefile.Write(dst, data, safefile.Options{Mode: mode}); err != nil {
			return fail(err)
		}
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git cat-file: %v %s", err, lang.Printable(stderr.String(), 512, false))
	}
	for i, l := range links {
		dst := filepath.Join(root, l.path)
		if err := safefile.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		if err := os.Symlink(targets[i], dst); err != nil {
			return err
		}
	}
	return nil
}

// fillInputs: a blocklist file the revision does not hold (a feed's
// download, kept out of git) is read from the working tree for both
// sides, so the diff shows the policy's change, not the feed's. Files
// named by paths that leave the repository are found the same way.
func (s *Snapshot) fillInputs() {
	files, diags := lang.InputFilesWith(s.Path, []string{s.Repo})
	if diags.HasErrors() {
		return // the load reports it
	}
	for _, f := range files {
		if !filepath.IsAbs(f) {
			if a, err := filepath.Abs(f); err == nil {
				f = a
			}
		}
		if !strings.HasPrefix(f, s.tmp+string(filepath.Separator)) {
			continue // an absolute path: read from disk by both sides
		}
		if _, err := os.Lstat(f); err == nil {
			continue
		}
		real := strings.TrimPrefix(f, s.tmp)
		data, err := lang.ReadRegular(real, 1<<30)
		if err != nil {
			continue // missing on both sides: the load says so
		}
		if err := safefile.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			continue
		}
		if safefile.Write(f, data, safefile.Options{Mode: 0o600}) == nil {
			s.Notes = append(s.Notes, real+" is not in "+shortCommit(s.Commit)+": the working tree's copy is used on both sides")
		}
	}
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
