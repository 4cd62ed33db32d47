package netnstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SIPStats are the cumulative counters of one sipp run, read from its
// -trace_stat CSV file.
type SIPStats struct {
	Incoming   int // IncomingCall(C): calls a UAS saw (INVITEs that arrived)
	Outgoing   int // OutgoingCall(C): calls a UAC started
	Successful int // SuccessfulCall(C)
	Failed     int // FailedCall(C)
}

// parseSIPStats reads the last line of a sipp -trace_stat CSV (';'
// separated, header on the first line).
func parseSIPStats(path string) (SIPStats, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return SIPStats{}, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return SIPStats{}, fmt.Errorf("%s: no statistics line yet", path)
	}
	head := strings.Split(lines[0], ";")
	last := strings.Split(lines[len(lines)-1], ";")
	get := func(name string) int {
		for i, h := range head {
			if h == name && i < len(last) {
				v, _ := strconv.Atoi(strings.TrimSpace(last[i]))
				return v
			}
		}
		return 0
	}
	return SIPStats{
		Incoming:   get("IncomingCall(C)"),
		Outgoing:   get("OutgoingCall(C)"),
		Successful: get("SuccessfulCall(C)"),
		Failed:     get("FailedCall(C)"),
	}, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// UAS is a sipp user agent server (the embedded "uas" scenario: answers
// every INVITE with 180/200 and every BYE with 200) running in a namespace.
type UAS struct {
	Addr netip.AddrPort
	NS   *NS

	cmd      *exec.Cmd
	out      *lockedBuffer
	statFile string
	waited   chan struct{}
	waitErr  error
	stopOnce sync.Once
	final    SIPStats
	finalErr error
}

// StartUAS starts `sipp -sn uas` bound to addr inside namespace n, waits
// until its UDP socket is bound, and stops it at test cleanup. It needs sipp.
func StartUAS(t testing.TB, n *NS, addr netip.AddrPort) *UAS {
	t.Helper()
	Require(t, "sipp")
	dir := t.TempDir()
	u := &UAS{Addr: addr, NS: n, out: &lockedBuffer{}, statFile: filepath.Join(dir, "uas.csv"), waited: make(chan struct{})}
	u.cmd = n.Command(context.Background(), "sipp", "-sn", "uas",
		"-i", addr.Addr().String(), "-p", strconv.Itoa(int(addr.Port())),
		"-nostdin", "-trace_stat", "-stf", u.statFile, "-fd", "1")
	u.cmd.Dir = dir
	u.cmd.Stdout, u.cmd.Stderr = u.out, u.out
	if err := u.cmd.Start(); err != nil {
		t.Fatalf("netnstest: start sipp uas in %s: %v", n.Label, err)
	}
	go func() { u.waitErr = u.cmd.Wait(); close(u.waited) }()
	t.Cleanup(func() { _, _ = u.Stop() })
	// `ip netns exec` execs sipp in place, so the pid is sipp's and
	// /proc/<pid>/net/udp is the namespace's socket table.
	deadline := time.Now().Add(5 * time.Second)
	for !udpBound(u.cmd.Process.Pid, addr) {
		select {
		case <-u.waited:
			t.Fatalf("netnstest: sipp uas in %s exited: %v\n%s", n.Label, u.waitErr, u.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("netnstest: sipp uas in %s did not bind %v within 5s\n%s", n.Label, addr, u.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return u
}

// StartUAS starts a sipp UAS in the labelled namespace.
func (tp *Topology) StartUAS(t testing.TB, label string, addr netip.AddrPort) *UAS {
	t.Helper()
	return StartUAS(t, tp.NS(label), addr)
}

// udpBound reports whether process pid's network namespace has a UDP socket
// bound to addr (or to 0.0.0.0 with addr's port).
func udpBound(pid int, addr netip.AddrPort) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/udp", pid))
	if err != nil {
		return false
	}
	a4 := addr.Addr().As4()
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", a4[3], a4[2], a4[1], a4[0], addr.Port())
	wildcard := fmt.Sprintf("00000000:%04X", addr.Port())
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 1 && (f[1] == want || f[1] == wildcard) {
			return true
		}
	}
	return false
}

// Stats returns the UAS's counters as last dumped (sipp dumps every second,
// so they may lag by up to a second; Stop returns exact final numbers).
func (u *UAS) Stats() SIPStats {
	s, _ := parseSIPStats(u.statFile)
	return s
}

// Stop terminates the UAS (SIGTERM, which makes sipp write its final
// statistics) and returns the final counters. Later calls return the same.
func (u *UAS) Stop() (SIPStats, error) {
	u.stopOnce.Do(func() {
		select {
		case <-u.waited:
		default:
			_ = u.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-u.waited:
			case <-time.After(3 * time.Second):
				_ = u.cmd.Process.Kill()
				<-u.waited
			}
		}
		u.final, u.finalErr = parseSIPStats(u.statFile)
	})
	return u.final, u.finalErr
}

// Output returns what sipp printed so far.
func (u *UAS) Output() string { return u.out.String() }

// SIPRun describes one sipp UAC run (embedded "uac" scenario: INVITE,
// 100/180 optional, 200, ACK, BYE, 200).
type SIPRun struct {
	From netip.AddrPort // local address (must exist in the namespace); port 0: sipp picks
	To   netip.AddrPort // the remote UAS (or an address DNATed to it)

	Calls int     // -m: calls to make before exiting; default 1
	Rate  float64 // -r: calls per second; default sipp's (10)

	// RecvTimeout (-recv_timeout) fails a call whose expected answer does
	// not arrive in time; default 2s. Timeout (-timeout, with
	// -timeout_error) bounds the whole run; default Calls/Rate + RecvTimeout
	// + 5s.
	RecvTimeout time.Duration
	Timeout     time.Duration

	ExtraArgs []string // more sipp options
}

// SIPResult is the outcome of a sipp UAC run.
type SIPResult struct {
	OK       bool // every call succeeded (exit code 0)
	ExitCode int  // sipp's: 0 all calls succeeded, 1 some failed, others: see sipp(1)
	Stats    SIPStats
	Elapsed  time.Duration
	Output   string // sipp's screen output, for failure messages
}

// RunSIPP runs a sipp UAC inside namespace n and waits for it to stop by
// itself (it always does: -m and -timeout bound it). Failed calls are
// reported in the result, not as a test failure. It needs sipp.
func RunSIPP(t testing.TB, n *NS, r SIPRun) SIPResult {
	t.Helper()
	Require(t, "sipp")
	if r.Calls <= 0 {
		r.Calls = 1
	}
	if r.RecvTimeout <= 0 {
		r.RecvTimeout = 2 * time.Second
	}
	if r.Timeout <= 0 {
		rate := r.Rate
		if rate <= 0 {
			rate = 10
		}
		r.Timeout = time.Duration(float64(r.Calls)/rate*float64(time.Second)) + r.RecvTimeout + 5*time.Second
	}
	dir := t.TempDir()
	stat := filepath.Join(dir, "uac.csv")
	args := []string{"sipp", "-sn", "uac", "-m", strconv.Itoa(r.Calls),
		"-i", r.From.Addr().String(),
		"-nostdin",
		"-recv_timeout", strconv.FormatInt(r.RecvTimeout.Milliseconds(), 10),
		"-timeout", fmt.Sprintf("%ds", int((r.Timeout+time.Second-1)/time.Second)), "-timeout_error",
		"-trace_stat", "-stf", stat}
	if r.From.Port() != 0 {
		args = append(args, "-p", strconv.Itoa(int(r.From.Port())))
	}
	if r.Rate > 0 {
		args = append(args, "-r", strconv.FormatFloat(r.Rate, 'f', -1, 64))
	}
	args = append(args, r.ExtraArgs...)
	args = append(args, r.To.String())

	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout+10*time.Second)
	defer cancel()
	cmd := n.Command(ctx, args...)
	cmd.Dir = dir
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	res := SIPResult{Elapsed: time.Since(start), Output: out.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	default:
		t.Fatalf("netnstest: run sipp in %s: %v\n%s", n.Label, err, res.Output)
	}
	res.OK = res.ExitCode == 0
	res.Stats, _ = parseSIPStats(stat)
	if res.OK && res.Stats.Successful < r.Calls {
		// sipp exits 0 when it had nothing to do; that is not a call.
		res.OK = false
	}
	return res
}

// SIPCall makes one full call (INVITE to BYE, -m 1) from the labelled
// namespace, from address from to the UAS at to, and reports the outcome.
func (tp *Topology) SIPCall(t testing.TB, label string, from, to netip.AddrPort) SIPResult {
	t.Helper()
	return RunSIPP(t, tp.NS(label), SIPRun{From: from, To: to, Calls: 1})
}

// SIPFlood starts calls at rate per second from the labelled namespace
// until max calls were made (sipp -r rate -m max; it stops by itself after
// about max/rate seconds plus the receive timeout of the last calls).
func (tp *Topology) SIPFlood(t testing.TB, label string, from, to netip.AddrPort, rate float64, max int) SIPResult {
	t.Helper()
	return RunSIPP(t, tp.NS(label), SIPRun{From: from, To: to, Calls: max, Rate: rate, RecvTimeout: time.Second})
}
