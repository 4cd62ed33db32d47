package live

// The state dir is trusted only when nobody but root (or the user voicewall
// runs as) can write it: a cache entry says what the kernel holds, and a
// pending file is a batch the rollback helper sends as root. Anyone who can
// write either could make plan say "No changes" while the kernel lacks an
// element, or have the helper load their own ruleset. docs/live.md has the
// trust model.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/voicewall/voicewall/internal/safefile"
)

// UntrustedError says why a state dir or file is not trusted.
type UntrustedError struct {
	Path   string
	Reason string
}

func (e *UntrustedError) Error() string {
	return fmt.Sprintf("voicewall's state %s is not trusted: %s", e.Path, e.Reason)
}

// trustedOwner: root, or the user voicewall runs as.
func trustedOwner(uid uint32) bool {
	return uid == 0 || int(uid) == os.Geteuid()
}

// checkMode refuses what others can write. A sticky directory writable by
// others (/tmp) is accepted as an ancestor only: others cannot rename or
// remove what they do not own in it.
func checkMode(path string, st *unix.Stat_t, ancestor bool) error {
	if !trustedOwner(st.Uid) {
		return &UntrustedError{path, fmt.Sprintf("owned by uid %d, not root: writable by that user", st.Uid)}
	}
	sticky := st.Mode&unix.S_ISVTX != 0
	switch {
	case st.Mode&0o002 != 0 && !(ancestor && sticky):
		return &UntrustedError{path, "world-writable"}
	case st.Mode&0o020 != 0 && !(ancestor && sticky):
		return &UntrustedError{path, "group-writable"}
	}
	return nil
}

// checkStateDir checks dir (StateDir() or a directory in it) and its
// ancestors. A dir that does not exist yet is fine (voicewall creates it
// 0700); its existing ancestors are checked.
func checkStateDir(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p, first := abs, true; ; p, first = filepath.Dir(p), false {
		var st unix.Stat_t
		err := unix.Stat(p, &st)
		switch {
		case err == unix.ENOENT && first:
		case err != nil && err != unix.ENOENT:
			return &UntrustedError{p, err.Error()}
		case err == nil:
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				return &UntrustedError{p, "not a directory"}
			}
			if err := checkMode(p, &st, !first); err != nil {
				return err
			}
		}
		if p == "/" || p == "." {
			return nil
		}
	}
}

// trustedFile opens a state file for reading after checking its dir, and
// checks the open file itself (owner, mode, a regular file). It returns the
// file's size as checked. A missing file gives os.ErrNotExist.
func trustedFile(path string) (*os.File, int64, error) {
	if _, err := os.Lstat(path); err != nil {
		return nil, 0, err // nothing there: nothing to distrust
	}
	if err := checkStateDir(filepath.Dir(path)); err != nil {
		return nil, 0, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.Close()
		return nil, 0, &UntrustedError{path, "not a regular file"}
	}
	if err := checkMode(path, &st, false); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size, nil
}

// readTrusted reads a whole state file through trustedFile.
func readTrusted(path string) ([]byte, error) {
	f, size, err := trustedFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && size > 0 {
		return nil, err
	}
	return b, nil
}

// mkStateDir creates dir (0700) when missing and checks that it, and its
// ancestors, are trusted before anything is written into it. The state
// dir it belongs to (StateDir() or LibDir()) must not be writable by
// others even when sticky (/tmp): only its subdirectories would be safe
// there, and the admin was told nothing is kept in a shared dir.
func mkStateDir(dir string) error {
	if err := checkStateDir(stateBase(dir)); err != nil {
		return err
	}
	if err := checkStateDir(dir); err != nil {
		return err
	}
	if err := safefile.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return checkStateDir(dir)
}

// stateBase is the state dir (LibDir() or StateDir()) that dir is in; dir
// itself when it is in neither.
func stateBase(dir string) string {
	d, _ := filepath.Abs(dir)
	for _, base := range []string{LibDir(), StateDir()} {
		b, _ := filepath.Abs(base)
		if d == b || strings.HasPrefix(d, strings.TrimSuffix(b, "/")+"/") {
			return base
		}
	}
	return dir
}

// WriteState writes a state file (warnings, apply records, caches, pending
// rollbacks): 0600, through safefile, and only into a trusted state dir.
// An untrusted one gets nothing at all (an *UntrustedError).
func WriteState(path string, data []byte) error { return WriteStateMode(path, data, 0o600) }

// WriteStateMode is WriteState for a file others may read (a catalog
// update is no secret).
func WriteStateMode(path string, data []byte, mode os.FileMode) error {
	if err := mkStateDir(filepath.Dir(path)); err != nil {
		return err
	}
	return safefile.Write(path, data, safefile.Options{Mode: mode})
}

// ReadState reads a state file only when it and its dir are trusted (what
// others could write is never believed, nor printed).
func ReadState(path string) ([]byte, error) { return readTrusted(path) }

// StateDirNotice is what plan and apply say, every time, when StateDir()
// is not trusted ("" when it is): voicewall then keeps nothing there.
func StateDirNotice() string {
	err := checkStateDir(StateDir())
	var ue *UntrustedError
	if !errors.As(err, &ue) {
		return ""
	}
	return fmt.Sprintf("%s is not trusted: %s; nothing is kept there (no cache, no record of this apply, no rollback with --confirm-timeout)", ue.Path, ue.Reason)
}
