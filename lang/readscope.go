package lang

// Paths a policy may read. A policy names files (blocklist `file`/`files`,
// `use` paths, the .hcl files of its directory, which may be symlinks) and
// voicewall reads them, often as root: the apply unit, the refresh timer,
// an Ansible rollout, CI on a pull request. A name like "/etc/shadow" or
// "/proc/self/environ" (or a symlink to one) would put that file's lines
// into diagnostics. So every file a policy reads must resolve, after
// symlinks, inside one of the directories the policy may read:
//
//   - the policy's own directory tree (PATH, or the directory of a PATH
//     that is a file; the file itself too);
//   - /etc/voicewall;
//   - the policy's repository: the nearest directory at or above the
//     policy's that holds .git, when nobody but its owner can write it (a
//     fleet's sites use "../../common" in the same repository);
//   - every directory listed in VOICEWALL_READ_PATH (colon-separated), for
//     layouts outside those.
//
// The check is made on the opened file, not on its name: the file is
// opened non-blocking and /proc/self/fd tells what was opened, so a
// symlink swapped in between cannot redirect the read. Anything else is an
// error that names the path and prints none of the file's content.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ReadPathEnv lists further directories a policy may read files from.
const ReadPathEnv = "VOICEWALL_READ_PATH"

// SystemPolicyDir is where a gateway keeps its policies; a policy may read
// anything below it.
const SystemPolicyDir = "/etc/voicewall"

// ErrOutsideScope is returned for a file outside the directories a policy
// may read (see OutsideError).
var ErrOutsideScope = errors.New("outside the directories a policy may read")

// OutsideError names a file a policy may not read: as written, and where
// it resolves.
type OutsideError struct {
	Path     string // as the policy names it (resolved relative to its file)
	Resolved string // after symlinks
	Kind     string // what Resolved is when not a plain file ("a character device")
	Roots    []string
}

func (e *OutsideError) Error() string {
	at := ""
	switch {
	case e.Resolved != "" && e.Resolved != filepath.Clean(e.Path) && e.Kind != "":
		at = " (it resolves to " + e.Resolved + ", " + e.Kind + ")"
	case e.Resolved != "" && e.Resolved != filepath.Clean(e.Path):
		at = " (it resolves to " + e.Resolved + ")"
	case e.Kind != "":
		at = " (" + e.Kind + ")"
	}
	return fmt.Sprintf("%s%s is %s: %s. Move the file there, or add its directory to %s",
		e.Path, at, ErrOutsideScope, strings.Join(e.Roots, ", "), ReadPathEnv)
}

func (e *OutsideError) Unwrap() error { return ErrOutsideScope }

// readScope is the set of directories (resolved) a policy may read, and
// the files named on the command line.
type readScope struct {
	roots []string // resolved, cleaned
	shown []string // as told to the user
	files map[string]bool
}

// newReadScope builds the scope of the policy at path. extra are further
// directories (LoadOptions.ReadDirs), besides those of VOICEWALL_READ_PATH.
func newReadScope(path string, extra []string) *readScope {
	s := &readScope{files: map[string]bool{}}
	root := path
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		root = filepath.Dir(path)
		if r, err := filepath.EvalSymlinks(path); err == nil {
			s.files[absClean(r)] = true
		}
	}
	s.add(root, "the policy's directory "+root)
	s.add(SystemPolicyDir, SystemPolicyDir)
	if repo := repositoryOf(root); repo != "" {
		s.add(repo, "its repository "+repo)
	}
	for _, d := range filepath.SplitList(os.Getenv(ReadPathEnv)) {
		if d != "" {
			extra = append(extra, d)
		}
	}
	for _, d := range extra {
		s.add(d, d)
	}
	return s
}

func absClean(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

func (s *readScope) add(dir, shown string) {
	r, err := filepath.EvalSymlinks(dir)
	if err != nil {
		r = dir // a missing dir: nothing resolves into it anyway
	}
	s.roots = append(s.roots, absClean(r))
	s.shown = append(s.shown, shown)
}

// repositoryOf is the nearest directory at or above dir holding .git (a
// directory, or a file in a worktree), when that directory is not writable
// by group or others and .git belongs to the directory's owner: a .git
// planted in a shared directory (/tmp) must not widen what a policy reads.
func repositoryOf(dir string) string {
	r, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return ""
	}
	for d := absClean(r); ; d = filepath.Dir(d) {
		if g, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			st, err := os.Stat(d)
			if err != nil || st.Mode().Perm()&0o022 != 0 {
				return ""
			}
			gs, ds := g.Sys().(*syscall.Stat_t), st.Sys().(*syscall.Stat_t)
			if gs == nil || ds == nil || gs.Uid != ds.Uid {
				return ""
			}
			return d
		}
		if d == "/" || d == "." {
			return ""
		}
	}
}

// inside reports whether the resolved path p is a permitted file or lies
// in a root.
func (s *readScope) inside(p string) bool {
	if s.files[p] {
		return true
	}
	for _, r := range s.roots {
		if p == r || strings.HasPrefix(p, strings.TrimSuffix(r, "/")+"/") {
			return true
		}
	}
	return false
}

func (s *readScope) outside(path, resolved string) error {
	kind := ""
	if st, err := os.Stat(resolved); err == nil && !st.Mode().IsRegular() {
		kind = fileKind(st.Mode()) // a stat, never an open: nothing outside is opened
	}
	return &fs.PathError{Op: "open", Path: path, Err: &OutsideError{Path: path, Resolved: resolved, Kind: kind, Roots: s.shown}}
}

// check refuses a path whose resolution (as far as it exists) leaves the
// scope, before anything is opened.
func (s *readScope) check(path string) error {
	if s == nil {
		return nil
	}
	r, err := filepath.EvalSymlinks(path)
	if err != nil {
		// A missing file: check what exists of its directory, so the error
		// for a file outside is the same whether or not it exists.
		dir, derr := filepath.EvalSymlinks(filepath.Dir(path))
		if derr != nil {
			return nil // the open reports it
		}
		r = filepath.Join(dir, filepath.Base(path))
	}
	if r = absClean(r); !s.inside(r) {
		return s.outside(path, r)
	}
	return nil
}

// open opens a file the policy names: within the scope, a regular file,
// never blocking (see OpenRegular). The check is repeated on the opened
// descriptor.
func (s *readScope) open(path string) (*os.File, fs.FileInfo, error) {
	if err := s.check(path); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	if s != nil {
		real, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: cannot tell which file was opened: %w", path, err)
		}
		if !s.inside(real) {
			f.Close()
			return nil, nil, s.outside(path, real)
		}
	}
	return regularOnly(f, path)
}

// read reads a whole file of at most max bytes through open.
func (s *readScope) read(path string, max int64) ([]byte, error) {
	f, st, err := s.open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readBounded(f, st, path, max)
}

// errText is an error's text without the "open PATH: " prefix when the
// error itself names the path (OutsideError does).
func errText(err error) string {
	var oe *OutsideError
	if errors.As(err, &oe) {
		return Printable(oe.Error(), 2000, false)
	}
	return Printable(err.Error(), 2000, false)
}
