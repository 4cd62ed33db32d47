package netnstest

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// rootState is what the self-test checks is unchanged in the root namespace.
func rootState(t *testing.T) (string, []string) {
	t.Helper()
	fwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	slices.Sort(names)
	return string(fwd), names
}

func TestSelf(t *testing.T) {
	Require(t, "root", "ip", "sipp", "socat")
	fwd0, links0 := rootState(t)
	var names []string

	t.Run("topology", func(t *testing.T) {
		tp := New(t)
		for _, n := range tp.all() {
			names = append(names, n.Name)
			if _, err := os.Stat("/run/netns/" + n.Name); err != nil {
				t.Errorf("namespace %s: %v", n.Name, err)
			}
		}
		if tp.VoiceLinkKind == VoiceLinkMacvlan && !IsVLANUnsupported(tp.VLANErr) {
			t.Errorf("macvlan stand-in used but VLAN error is %v", tp.VLANErr)
		}
		if v, err := ReadSysctl(tp.GW.Handle, "net.ipv4.ip_forward"); err != nil || v != "1" {
			t.Errorf("gw ip_forward = %q, %v; want 1", v, err)
		}
		if v, err := ReadSysctl(tp.PBX.Handle, "net.ipv4.ip_forward"); err != nil || v != "0" {
			t.Errorf("pbx ip_forward = %q, %v; want 0", v, err)
		}
		cfg := tp.Config

		t.Run("ping", func(t *testing.T) {
			for _, p := range []struct {
				ns       string
				src, dst netip.Addr
			}{
				{"provider", cfg.Provider[0], cfg.GWWAN.Addr()},
				{"provider", cfg.Provider[0], cfg.PBX},
				{"attacker", cfg.Attacker[1], cfg.PBX},
				{"phone", cfg.Phone, cfg.PBX},
				{"pbx", cfg.PBX, cfg.Provider[0]},
			} {
				if err := tp.Ping(p.ns, p.src, p.dst); err != nil {
					t.Errorf("%s %v -> %v: %v", p.ns, p.src, p.dst, err)
				}
			}
		})

		t.Run("sip-call", func(t *testing.T) {
			uas := tp.StartUAS(t, "pbx", netip.AddrPortFrom(cfg.PBX, 5060))
			res := tp.SIPCall(t, "provider", netip.AddrPortFrom(cfg.Provider[0], 5060), uas.Addr)
			t.Logf("sipp call provider -> pbx: ok=%v exit=%d in %v", res.OK, res.ExitCode, res.Elapsed.Round(time.Millisecond))
			if !res.OK {
				t.Fatalf("call failed: exit %d\n%s", res.ExitCode, res.Output)
			}
			// A call to a host with no UAS fails within the receive timeout.
			bad := RunSIPP(t, tp.Attacker, SIPRun{From: netip.AddrPortFrom(cfg.Attacker[0], 5060), To: netip.AddrPortFrom(cfg.Phone, 5060), RecvTimeout: 500 * time.Millisecond})
			if bad.OK || bad.ExitCode != 1 || bad.Stats.Failed != 1 {
				t.Errorf("call to no UAS: ok=%v exit=%d stats=%+v; want failure", bad.OK, bad.ExitCode, bad.Stats)
			}
			fl := tp.SIPFlood(t, "attacker", netip.AddrPortFrom(cfg.Attacker[1], 5070), uas.Addr, 100, 30)
			t.Logf("flood: exit=%d stats=%+v in %v", fl.ExitCode, fl.Stats, fl.Elapsed.Round(time.Millisecond))
			if fl.Stats.Outgoing != 30 || fl.Stats.Successful != 30 {
				t.Errorf("flood stats %+v; want 30 outgoing, 30 successful", fl.Stats)
			}
			st, err := uas.Stop()
			if err != nil || st.Incoming != 31 {
				t.Errorf("uas saw %+v, %v; want 31 incoming calls", st, err)
			}
		})

		t.Run("udp", func(t *testing.T) {
			l := tp.ListenUDP(t, "pbx", netip.AddrPortFrom(cfg.PBX, 10000))
			src := netip.AddrPortFrom(cfg.Provider[0], 20000)
			tp.SendUDP(t, "provider", src, l.Addr, 10, 172)
			if got := l.Wait(10, 2*time.Second); got != 10 {
				t.Fatalf("socat: %d of 10 datagrams arrived", got)
			}
			for _, d := range l.Received() {
				if d.From != src || len(d.Data) != 172 {
					t.Errorf("datagram from %v, %d bytes; want from %v, 172 bytes", d.From, len(d.Data), src)
				}
			}
			l.Reset()
			if err := SendUDPNative(tp.Attacker, netip.AddrPortFrom(cfg.Attacker[1], 0), l.Addr, 50, 64); err != nil {
				t.Fatal(err)
			}
			if got := l.Wait(50, 2*time.Second); got != 50 || l.CountFrom(cfg.Attacker[1]) != 50 {
				t.Errorf("native: %d arrived (%d from %v); want 50", got, l.CountFrom(cfg.Attacker[1]), cfg.Attacker[1])
			}
			// Nothing listens on the phone: nothing arrives at the PBX.
			l.Reset()
			tp.SendUDP(t, "provider", src, netip.AddrPortFrom(cfg.Phone, 10000), 3, 16)
			if got := l.Wait(1, 200*time.Millisecond); got != 0 {
				t.Errorf("%d stray datagrams", got)
			}
		})

		t.Run("vlan-phone", func(t *testing.T) {
			l := tp.ListenUDP(t, "phone", netip.AddrPortFrom(cfg.Phone, 10000))
			tp.SendUDP(t, "pbx", netip.AddrPortFrom(cfg.PBX, 0), l.Addr, 5, 20)
			if got := l.Wait(5, 2*time.Second); got != 5 {
				t.Errorf("pbx -> phone via %s: %d of 5", tp.VoiceIf, got)
			}
			out, err := tp.Run("gw", "ip", "-s", "-o", "link", "show", tp.VoiceIf)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s", out)
		})
	})

	// Cleanup ran: the namespaces are gone and the root namespace is as it was.
	for _, n := range names {
		if _, err := os.Stat("/run/netns/" + n); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("namespace %s still exists after cleanup", n)
		}
	}
	fwd1, links1 := rootState(t)
	if fwd0 != fwd1 || !slices.Equal(links0, links1) {
		t.Errorf("root namespace changed: ip_forward %q -> %q, links %v -> %v", fwd0, fwd1, links0, links1)
	}
}

func TestConfigPlacesHosts(t *testing.T) {
	cfg := Config{
		Provider: []netip.Addr{netip.MustParseAddr("198.18.5.10"), netip.MustParseAddr("198.18.5.11")},
		Attacker: []netip.Addr{netip.MustParseAddr("45.155.205.1"), netip.MustParseAddr("198.18.5.99")},
		PBX:      netip.MustParseAddr("10.20.0.5"),
		GWWAN:    netip.MustParsePrefix("100.64.0.1/30"),
	}
	tp := NewWithConfig(t, cfg)
	l := tp.ListenUDP(t, "pbx", netip.MustParseAddrPort("10.20.0.5:5060"))
	for _, a := range cfg.Attacker {
		if err := SendUDPNative(tp.Attacker, netip.AddrPortFrom(a, 5060), l.Addr, 1, 32); err != nil {
			t.Fatal(err)
		}
	}
	if err := SendUDPNative(tp.Provider, netip.AddrPortFrom(cfg.Provider[1], 5060), l.Addr, 1, 32); err != nil {
		t.Fatal(err)
	}
	l.Wait(3, 2*time.Second)
	for _, a := range append(cfg.Attacker, cfg.Provider[1]) {
		if l.CountFrom(a) != 1 {
			t.Errorf("from %v: %d datagrams, want 1", a, l.CountFrom(a))
		}
	}
}

func TestTryVLAN(t *testing.T) {
	n := NewNS(t, "vlan")
	if _, err := n.Run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth9"); err != nil {
		t.Fatal(err)
	}
	err := TryVLAN(n, "eth1", "eth1.20", 20)
	switch {
	case err == nil:
		t.Logf("this kernel has 802.1Q: eth1.20 created")
	case errors.Is(err, unix.EOPNOTSUPP):
		t.Logf("no 802.1Q on this kernel (as expected here): %v", err)
	default:
		t.Fatalf("TryVLAN: %v", err)
	}
}

func TestWriteSysctlRefusesNonNet(t *testing.T) {
	n := NewNS(t, "sysctl")
	if err := WriteSysctl(n.Handle, "kernel.hostname", "x"); err == nil {
		t.Fatal("WriteSysctl accepted a non-net key")
	}
}

type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                          {}
func (f *fakeTB) Skipf(format string, args ...any) { f.skipped = format }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = format
}

func TestRequire(t *testing.T) {
	t.Setenv("CI", "")
	f := &fakeTB{TB: t}
	Require(f, "vwt-no-such-tool")
	if f.skipped == "" || f.failed != "" {
		t.Errorf("without CI: skipped=%q failed=%q; want a skip", f.skipped, f.failed)
	}
	t.Setenv("CI", "true")
	f = &fakeTB{TB: t}
	Require(f, "vwt-no-such-tool")
	if f.failed == "" || f.skipped != "" {
		t.Errorf("with CI=true: skipped=%q failed=%q; want a failure", f.skipped, f.failed)
	}
	f = &fakeTB{TB: t}
	Require(f, "sh")
	if f.failed != "" || f.skipped != "" {
		t.Errorf("present tool: skipped=%q failed=%q", f.skipped, f.failed)
	}
}
