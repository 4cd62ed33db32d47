package live

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Target is the network namespace voicewall works on.
type Target struct {
	// Name is the --netns name ("" for the current namespace).
	Name string
	// Path is the namespace file (/run/netns/NAME, or /proc/self/ns/net).
	Path string
	// Dev and Ino identify the namespace (a name can be reused by a new
	// namespace; its inode changes).
	Dev, Ino uint64

	fd int
}

// NetnsDir is where `ip netns` keeps named namespaces.
const NetnsDir = "/run/netns"

// Open opens the namespace /run/netns/NAME, or the current one for "".
// Every netlink socket voicewall opens for this target is created inside it
// (nothing runs in or changes the caller's own namespace).
func Open(name string) (*Target, error) {
	t := &Target{Name: name, fd: -1}
	if name == "" {
		t.Path = "/proc/self/ns/net"
	} else {
		if strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
			return nil, fmt.Errorf("--netns %q: not a namespace name", name)
		}
		t.Path = filepath.Join(NetnsDir, name)
	}
	fd, err := unix.Open(t.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		if name != "" && os.IsNotExist(err) {
			return nil, fmt.Errorf("network namespace %q does not exist (no %s)", name, t.Path)
		}
		return nil, fmt.Errorf("open network namespace %s: %w", t.Path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	t.fd, t.Dev, t.Ino = fd, st.Dev, st.Ino
	if name == "" {
		// Sockets are created in the calling thread's namespace.
		unix.Close(fd)
		t.fd = 0
	}
	return t, nil
}

// OpenPath opens a namespace by file path (rollback helper), checking that
// it is still the namespace with inode ino when ino != 0.
func OpenPath(path string, ino uint64) (*Target, error) {
	name := ""
	if dir, base := filepath.Split(path); filepath.Clean(dir) == NetnsDir {
		name = base
	}
	t, err := Open(name)
	if err != nil {
		return nil, err
	}
	if name == "" && path != "/proc/self/ns/net" {
		t.Close()
		return nil, fmt.Errorf("namespace path %s is not under %s", path, NetnsDir)
	}
	if ino != 0 && t.Ino != ino {
		t.Close()
		return nil, fmt.Errorf("network namespace %s was replaced (inode %d, expected %d)", path, t.Ino, ino)
	}
	return t, nil
}

// FD is the namespace file descriptor for netlink sockets (0: current).
func (t *Target) FD() int {
	if t == nil || t.fd < 0 {
		return 0
	}
	return t.fd
}

// Close releases the namespace file descriptor.
func (t *Target) Close() error {
	if t == nil || t.fd <= 0 {
		return nil
	}
	err := syscall.Close(t.fd)
	t.fd = -1
	return err
}

// String names the target for messages.
func (t *Target) String() string {
	if t.Name == "" {
		return "the current network namespace"
	}
	return "network namespace " + t.Name
}

// ID is a stable file-name-safe identity of the namespace.
func (t *Target) ID() string { return fmt.Sprintf("%x-%x", t.Dev, t.Ino) }
