// Package netnstest builds throwaway network namespaces for end-to-end tests
// of voicewall: a gateway with a WAN and a LAN side, provider and attacker
// hosts on the WAN segment, a PBX and a phone behind the gateway, and helpers
// that send real SIP (sipp) and UDP (socat, or Go sockets) between them.
//
// Safety rules the package keeps, whatever the caller does:
//
//   - It never changes the root network namespace: no links, addresses,
//     routes, rules or sysctls are created there. Every link is created by a
//     netlink socket that lives inside one of the test's own namespaces, and
//     sysctls are written through /proc/sys while the writing OS thread is
//     inside the target namespace (never the root one).
//   - It creates only namespaces named "vwt-<pid>-<n>-<label>" and deletes them
//     in t.Cleanup, after killing every process still running inside them.
//     Namespaces left behind by a test binary that died (its pid is gone) are
//     removed the next time a namespace is created.
//   - Traffic flows only between the test's namespaces: the WAN and LAN
//     segments are bridges inside a private "sw" (switch) namespace.
//
// Tests that need root, ip, sipp or socat call Require, which skips with a
// clear reason when something is missing, except when the environment has
// CI=true, where a missing tool fails the test. Under `go test -short` (the
// day-to-day lane) every namespace test skips: they run in the full lane.
package netnstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/voicewall/voicewall/internal/testenv"
)

// Prefix is the start of every namespace name this package creates.
const Prefix = "vwt-"

// DefaultTimeout bounds commands run through Run.
const DefaultTimeout = 30 * time.Second

var nsCounter atomic.Uint64

// Require skips the test unless every tool is available. A tool is the name
// of an executable looked up in PATH, or "root" for an effective uid of 0
// (needed to create namespaces and links). With CI=true in the environment a
// missing tool fails the test instead of skipping it. Under -short it skips.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	testenv.SkipShort(t, "kernel, network namespaces")
	var missing []string
	for _, tool := range tools {
		switch tool {
		case "root":
			if os.Geteuid() != 0 {
				missing = append(missing, "root (effective uid 0, to create network namespaces)")
			}
		default:
			if _, err := exec.LookPath(tool); err != nil {
				missing = append(missing, fmt.Sprintf("%s (not in PATH)", tool))
			}
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "netnstest: missing " + strings.Join(missing, ", ")
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI=true makes missing tools a failure (apt-get install -y iproute2 nftables sip-tester socat, run as root)", msg)
		return
	}
	t.Skipf("%s; skipping (CI=true would make this a failure)", msg)
}

// NS is one network namespace made by this package.
type NS struct {
	// Label is the short name the test uses ("gw", "pbx", ...).
	Label string
	// Name is the name under /run/netns ("vwt-<pid>-<n>-<label>"), usable
	// with `ip netns exec` and `ip -n`.
	Name string
	// Handle is an open fd of the namespace (valid until cleanup).
	Handle netns.NsHandle
}

// FD returns the namespace's file descriptor, e.g. for
// netlink.Config{NetNS: fd} or nftables.WithNetNSFd(fd).
func (n *NS) FD() int { return int(n.Handle) }

// newGroupPrefix returns a fresh "vwt-<pid>-<n>-" prefix.
func newGroupPrefix() string {
	return fmt.Sprintf("%s%d-%d-", Prefix, os.Getpid(), nsCounter.Add(1))
}

// NewNS creates one namespace "vwt-<pid>-<n>-<label>" with its loopback up
// and deletes it when the test ends. It calls Require(t, "root", "ip").
func NewNS(t testing.TB, label string) *NS {
	t.Helper()
	Require(t, "root", "ip")
	n, err := createNS(newGroupPrefix()+label, label)
	if err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	t.Cleanup(func() { n.destroy(t) })
	if err := setLinkUpByName(n, "lo"); err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	return n
}

var staleName = regexp.MustCompile(`^` + regexp.QuoteMeta(Prefix) + `(\d+)-\d+-`)

// removeStale deletes namespaces this package made in a process that no
// longer exists. Only names with our prefix are ever considered.
func removeStale() {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		m := staleName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // still alive (or not ours to judge)
		}
		killNSProcs(e.Name())
		_ = exec.Command("ip", "netns", "del", e.Name()).Run()
	}
}

var staleOnce atomic.Bool

func createNS(name, label string) (*NS, error) {
	if !strings.HasPrefix(name, Prefix) {
		return nil, fmt.Errorf("refusing to create namespace %q without prefix %q", name, Prefix)
	}
	if staleOnce.CompareAndSwap(false, true) {
		removeStale()
	}
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	h, err := netns.GetFromName(name)
	if err != nil {
		_ = exec.Command("ip", "netns", "del", name).Run()
		return nil, fmt.Errorf("open namespace %s: %w", name, err)
	}
	return &NS{Label: label, Name: name, Handle: h}, nil
}

// killNSProcs kills every process inside the namespace (all of them were
// started by the test inside its own namespace).
func killNSProcs(name string) {
	out, err := exec.Command("ip", "netns", "pids", name).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 1 || pid == os.Getpid() {
			continue
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func (n *NS) destroy(t testing.TB) {
	killNSProcs(n.Name)
	if n.Handle.IsOpen() {
		_ = n.Handle.Close()
	}
	var last []byte
	for i := 0; i < 20; i++ {
		out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput()
		if err == nil {
			return
		}
		last = out
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("netnstest: could not delete namespace %s: %s", n.Name, bytes.TrimSpace(last))
}

// InNS runs fn on an OS thread that is inside the namespace h, then moves
// the thread back. fn runs on a dedicated, locked goroutine: goroutines it
// starts do not inherit the namespace. If the thread cannot be moved back it
// stays locked and is discarded by the runtime, so no other code ever runs in
// the wrong namespace. Sockets created by fn stay in h for their lifetime and
// may be used from any goroutine afterwards.
func InNS(h netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("get current netns: %w", err)
			return // thread stays locked and is discarded
		}
		defer orig.Close()
		if err := netns.Set(h); err != nil {
			errc <- fmt.Errorf("enter netns: %w", err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("leave netns: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// WriteSysctl writes a sysctl inside namespace h, e.g. key
// "net/ipv4/ip_forward" (or "net.ipv4.ip_forward"). Only net/ keys are
// accepted: they are per network namespace, so the root namespace is never
// touched.
func WriteSysctl(h netns.NsHandle, key, value string) error {
	key = strings.ReplaceAll(strings.TrimPrefix(key, "/proc/sys/"), ".", "/")
	if !strings.HasPrefix(key, "net/") || strings.Contains(key, "..") {
		return fmt.Errorf("sysctl %q is not a per-namespace net/ key", key)
	}
	return InNS(h, func() error {
		// Make sure the thread really is in the namespace (not the root
		// one) before writing.
		cur, err := netns.Get()
		if err != nil {
			return err
		}
		defer cur.Close()
		if !cur.Equal(h) {
			return fmt.Errorf("thread not in target namespace; refusing to write %s", key)
		}
		return os.WriteFile("/proc/sys/"+key, []byte(value), 0o644)
	})
}

// ReadSysctl reads a net/ sysctl inside namespace h.
func ReadSysctl(h netns.NsHandle, key string) (string, error) {
	key = strings.ReplaceAll(strings.TrimPrefix(key, "/proc/sys/"), ".", "/")
	var v []byte
	err := InNS(h, func() error {
		var err error
		v, err = os.ReadFile("/proc/sys/" + key)
		return err
	})
	return strings.TrimSpace(string(v)), err
}

// Command returns a command that runs argv inside the namespace through
// `ip netns exec`. The caller starts and waits for it.
func (n *NS) Command(ctx context.Context, argv ...string) *exec.Cmd {
	args := append([]string{"netns", "exec", n.Name}, argv...)
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// Run runs argv inside the namespace (ip netns exec), waits at most
// DefaultTimeout, and returns its combined output.
func (n *NS) Run(argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	out, err := n.Command(ctx, argv...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("in %s: %s: %w: %s", n.Label, strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}
