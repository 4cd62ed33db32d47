// Package safefile is voicewall's one way to write a file: a temporary file
// created next to the target with O_EXCL|O_NOFOLLOW, its mode (and owner)
// set on the open descriptor, fsynced, then renamed over the target.
//
// Why not chmod/chown by path: root writing into a directory another user
// can write to (a textfile collector's, a shared output dir) would follow a
// symlink swapped in between create and chmod, and change an unrelated file.
//
// Every step after the target's directory is opened works relative to that
// one directory descriptor (openat, fstatat, renameat): a directory on the
// path that is swapped for a symlink afterwards cannot redirect the temporary
// file, the rename or the mode change to another directory. The rename
// itself never follows a symlink at the target name: a link an attacker
// plants there is replaced, its target left alone.
package safefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	dir, base := filepath.Dir(target), filepath.Base(target)
	dfd, err := openDir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)

	mode, owner := o.Mode, o.Owner
	if mode == 0 {
		mode = 0o644
	}
	var st unix.Stat_t
	switch err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case err == unix.ENOENT:
	case err != nil:
		return &fs.PathError{Op: "stat", Path: target, Err: err}
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		if !o.FollowLink {
			return fmt.Errorf("%s: %w: write to the file it points to instead", target, ErrSymlink)
		}
		// It was resolved a moment ago and is a link again: someone is
		// swapping it. The rename would replace the link, not what it
		// names; refuse rather than guess which file the admin meant.
		return fmt.Errorf("%s: changed into a symbolic link while being written; try again", target)
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return fmt.Errorf("%s: not a regular file", target)
	case o.Keep:
		mode = fs.FileMode(st.Mode & 0o777)
		owner = &Owner{UID: int(st.Uid), GID: int(st.Gid)}
	}

	fd, tmp, err := createTemp(dfd, base)
	if err != nil {
		return &fs.PathError{Op: "create", Path: filepath.Join(dir, "."+base+".tmp-*"), Err: err}
	}
	f := os.NewFile(uintptr(fd), filepath.Join(dir, tmp))
	done := false
	defer func() {
		if !done {
			f.Close()
			_ = unix.Unlinkat(dfd, tmp, 0)
		}
	}()
	if err := unix.Fchmod(fd, uint32(mode.Perm())); err != nil { // the descriptor, not the name
		return &fs.PathError{Op: "fchmod", Path: f.Name(), Err: err}
	}
	if owner != nil {
		// The new file's group may already differ from ours (a setgid
		// directory): compare with what the descriptor says it is.
		var now unix.Stat_t
		if err := unix.Fstat(fd, &now); err != nil {
			return &fs.PathError{Op: "fstat", Path: f.Name(), Err: err}
		}
		if int(now.Uid) != owner.UID || int(now.Gid) != owner.GID {
			if err := unix.Fchown(fd, owner.UID, owner.GID); err != nil {
				return &fs.PathError{Op: "fchown", Path: f.Name(), Err: err}
			}
		}
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		done = true
		_ = unix.Unlinkat(dfd, tmp, 0)
		return err
	}
	done = true
	if err := unix.Renameat(dfd, tmp, dfd, base); err != nil {
		_ = unix.Unlinkat(dfd, tmp, 0)
		return &os.LinkError{Op: "rename", Old: filepath.Join(dir, tmp), New: target, Err: err}
	}
	// Make the rename durable; a failure here loses nothing a reader
	// could see, so it is not reported.
	_ = unix.Fsync(dfd)
	return nil
}

// openDir opens the directory that receives the file; from then on the
// directory is pinned by its descriptor. Symlinks on the way there are
// followed only when root or this user owns them: a link another user
// made (their own directory swapped for a link to /etc) is refused. The
// kernel then says which directory was opened (/proc/self/fd), and it
// must be the one the checked links lead to: a link swapped in between
// is refused too.
func openDir(dir string) (int, error) {
	want, err := trustedLinks(dir, 0)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	if got, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err == nil && got != want {
		unix.Close(fd)
		return -1, fmt.Errorf("%s: changed while being opened (it led to %s, now %s); not written", dir, want, got)
	}
	return fd, nil
}

// trustedLinks resolves dir as the kernel would, refusing any symlink on
// the way that neither root nor this user owns, and returns where it
// leads.
func trustedLinks(dir string, depth int) (string, error) {
	if depth > 40 {
		return "", &fs.PathError{Op: "open", Path: dir, Err: unix.ELOOP}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	cur := "/"
	for _, comp := range strings.Split(abs, "/") {
		if comp == "" {
			continue
		}
		next := filepath.Join(cur, comp)
		st, err := os.Lstat(next)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			cur = next // a missing name: the open reports it
			continue
		}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 && int(sys.Uid) != os.Geteuid() {
			return "", fmt.Errorf("%s: the path goes through %s, a symbolic link owned by uid %d, not by root: voicewall does not follow another user's links when it writes", dir, next, sys.Uid)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(cur, target)
		}
		if cur, err = trustedLinks(target, depth+1); err != nil {
			return "", err
		}
	}
	return cur, nil
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

// createTemp makes a new file in the directory dfd that no one else made
// first: O_EXCL refuses an existing name (including a planted symlink) and
// O_NOFOLLOW refuses to open through a link at that name. It returns the
// descriptor and the name (relative to dfd).
func createTemp(dfd int, base string) (int, string, error) {
	for i := 0; i < 100; i++ {
		var r [8]byte
		if _, err := rand.Read(r[:]); err != nil {
			return -1, "", err
		}
		name := "." + base + ".tmp-" + hex.EncodeToString(r[:])
		fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			return -1, "", err
		}
		return fd, name, nil
	}
	return -1, "", errors.New("could not create a temporary file")
}

// MkdirAll creates dir and its missing parents with perm (less the umask),
// like os.MkdirAll, but each new directory is made and then entered
// relative to its parent's descriptor, never by a path that could have
// been swapped for a symlink in between. A symlink at a name voicewall
// was about to create is refused. Existing directories on the path (and
// symlinks to them) are taken as the admin named them.
func MkdirAll(dir string, perm fs.FileMode) error {
	dir = filepath.Clean(dir)
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: unix.ENOTDIR}
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := MkdirAll(parent, perm); err != nil {
			return err
		}
	}
	pfd, err := openDir(parent)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	base := filepath.Base(dir)
	if err := unix.Mkdirat(pfd, base, uint32(perm.Perm())); err != nil && err != unix.EEXIST {
		return &fs.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "stat", Path: dir, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("%s: not a directory (a symbolic link or file appeared where voicewall creates a directory)", dir)
	}
	return nil
}

// Rename moves the regular file oldName to newName, both names in dir
// (base names, no slashes), through one descriptor of dir (renameat2): a
// directory swapped for a symlink on the way cannot redirect it, a symlink
// at oldName is refused (the link would move, not what it names), and an
// existing newName is never replaced (it is an error).
func Rename(dir, oldName, newName string) error {
	for _, n := range []string{oldName, newName} {
		if n == "" || n == "." || n == ".." || strings.ContainsRune(n, '/') {
			return fmt.Errorf("safefile.Rename: %q is not a name in %s", n, dir)
		}
	}
	dfd, err := openDir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, oldName, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "stat", Path: filepath.Join(dir, oldName), Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%s: not a regular file", filepath.Join(dir, oldName))
	}
	err = unix.Renameat2(dfd, oldName, dfd, newName, unix.RENAME_NOREPLACE)
	if err == unix.EINVAL || err == unix.ENOSYS {
		// A file system without RENAME_NOREPLACE: check, then rename.
		if err = unix.Fstatat(dfd, newName, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
			err = unix.EEXIST
		} else if err == unix.ENOENT {
			err = unix.Renameat(dfd, oldName, dfd, newName)
		}
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: filepath.Join(dir, oldName), New: filepath.Join(dir, newName), Err: err}
	}
	_ = unix.Fsync(dfd)
	return nil
}
