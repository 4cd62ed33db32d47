// Package safefile is voicewall's one way to write a file: a temporary file
// created next to the target with O_EXCL|O_NOFOLLOW, its mode (and owner)
// set on the open descriptor, fsynced, then renamed over the target.
//
// Why not chmod/chown by path: root writing into a directory another user
// can write to (a textfile collector's, a shared output dir) would follow a
// symlink swapped in between create and chmod, and change an unrelated file.
// Nothing here ever takes a path twice for anything but the final rename.
package safefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Options say what the written file looks like.
type Options struct {
	// Mode is the file's permission bits (the process umask does not apply).
	// Zero means 0o644.
	Mode fs.FileMode
	// Owner, when set, is given to the file by fchown on its descriptor.
	Owner *Owner
	// Keep copies mode and owner from the file being replaced when it
	// exists (Mode and Owner then only apply to a new file).
	Keep bool
	// FollowLink writes through a symlink at path to the file it names
	// (its directory gets the temporary file). Without it, a symlink at
	// path is refused: a rename would replace the link, not its target.
	FollowLink bool
}

// Owner is a numeric uid/gid pair.
type Owner struct{ UID, GID int }

// ErrSymlink is returned when path is a symlink and FollowLink is off.
var ErrSymlink = errors.New("is a symbolic link")

// Write replaces path with data, atomically: a reader (or a crash) sees
// the old content or the new one, never a half-written file.
func Write(path string, data []byte, o Options) error {
	target, err := resolve(path, o.FollowLink)
	if err != nil {
		return err
	}
	mode, owner := o.Mode, o.Owner
	if mode == 0 {
		mode = 0o644
	}
	if o.Keep {
		if st, err := os.Lstat(target); err == nil && st.Mode().IsRegular() {
			mode = st.Mode().Perm()
			if sys, ok := st.Sys().(*syscall.Stat_t); ok {
				owner = &Owner{UID: int(sys.Uid), GID: int(sys.Gid)}
			}
		}
	}
	dir := filepath.Dir(target)
	f, tmp, err := createTemp(dir, filepath.Base(target))
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(mode.Perm()); err != nil { // fchmod(2): the descriptor, not the name
		return err
	}
	if owner != nil && (owner.UID != os.Getuid() || owner.GID != os.Getgid() || os.Getuid() == 0) {
		if err := f.Chown(owner.UID, owner.GID); err != nil { // fchown(2)
			return err
		}
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		done = true
		return err
	}
	done = true
	syncDir(dir)
	return nil
}

// resolve returns the file to replace: path itself, or with follow the
// file its symlink chain names (a dangling link's target is created).
func resolve(path string, follow bool) (string, error) {
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		if err == nil && !st.Mode().IsRegular() {
			return "", fmt.Errorf("%s: not a regular file", path)
		}
		return path, nil
	}
	if !follow {
		return "", fmt.Errorf("%s: %w: write to the file it points to instead", path, ErrSymlink)
	}
	target := path
	for i := 0; i < 40; i++ {
		link, err := os.Readlink(target)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(target), link)
		}
		target = link
		st, err := os.Lstat(target)
		if errors.Is(err, fs.ErrNotExist) {
			return target, nil
		}
		if err != nil {
			return "", err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			if !st.Mode().IsRegular() {
				return "", fmt.Errorf("%s: points to %s, not a regular file", path, target)
			}
			return target, nil
		}
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// createTemp makes a new file in dir that no one else made first: O_EXCL
// refuses an existing name (including a planted symlink) and O_NOFOLLOW
// refuses to open through a link at that name.
func createTemp(dir, base string) (*os.File, string, error) {
	for i := 0; i < 100; i++ {
		var r [8]byte
		if _, err := rand.Read(r[:]); err != nil {
			return nil, "", err
		}
		name := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(r[:]))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		return f, name, nil
	}
	return nil, "", fmt.Errorf("%s: could not create a temporary file", dir)
}

// syncDir makes the rename durable; a failure here loses no data that a
// reader could see, so it is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
