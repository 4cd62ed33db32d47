package pfsense

import (
	"bytes"
	"net/netip"
	"regexp"
	"testing"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/internal/testenv"
	"github.com/voicewall/voicewall/lang"
)

// lang's name rule (names that pass it are safe in every target).
var langName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,23}$`)

// FuzzCompile varies the names, ports, addresses and the --base document:
// no panic, and every output passes the strict reader and the policy facts.
func FuzzCompile(f *testing.F) {
	f.Add("telnyx", "phones", uint16(5060), uint16(5061), uint16(10000), uint16(20000), []byte{192, 76, 120, 10}, uint8(24), uint8(0b1111), "", "gw.hcl")
	f.Add("a", "v", uint16(1), uint16(65535), uint16(1), uint16(65535), []byte{0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint8(64), uint8(0b0101), "<pfsense></pfsense>", "gw.hcl")
	f.Add("Very-Long_Provider-Name1", "Voice-Net_With-Long-Nam", uint16(5080), uint16(5081), uint16(16384), uint16(32767), []byte{100, 64, 0, 0}, uint8(10), uint8(0b1010), "<pfsense>\n\t<aliases/>\n\t<nat>\n\t\t<outbound>\n\t\t\t<mode>advanced</mode>\n\t\t</outbound>\n\t</nat>\n</pfsense>\n", "gw.hcl")
	f.Add("x", "y", uint16(5060), uint16(5060), uint16(5060), uint16(5070), []byte{8, 8, 8, 8}, uint8(32), uint8(0xff), "<?xml version=\"1.0\"?><pfsense><filter><rule><descr><![CDATA[voicewall: x]]></descr></rule></filter></pfsense>", "gw.hcl")
	for _, name := range testenv.HostileFileNames {
		f.Add("telnyx", "phones", uint16(5060), uint16(5061), uint16(10000), uint16(20000), []byte{192, 76, 120, 10}, uint8(24), uint8(0b1111), "", name)
	}
	testenv.BoundFuzzMinimization()
	f.Fuzz(func(t *testing.T, prov, vlan string, sipPort, tlsPort, rtpLo, rtpHi uint16, addr []byte, bits uint8, flags uint8, base, file string) {
		if !langName.MatchString(prov) || !langName.MatchString(vlan) || sipPort == 0 || tlsPort == 0 || rtpLo == 0 || rtpHi < rtpLo {
			t.Skip()
		}
		a, ok := netip.AddrFromSlice(addr)
		if !ok {
			t.Skip()
		}
		pf, err := a.Prefix(int(bits) % (a.BitLen() + 1))
		if err != nil || pf.Bits() == 0 {
			t.Skip() // 0.0.0.0/0 is no whitelist; lang rejects it
		}
		s := defaultSpec()
		s.provName, s.vlanName, s.file = prov, vlan, file
		s.sipPort, s.tlsPort = sipPort, tlsPort
		s.rtp = lang.PortRange{First: rtpLo, Last: rtpHi}
		s.signaling = []netip.Prefix{pf}
		s.media = []netip.Prefix{pf}
		s.transports = nil
		for i, tr := range []lang.Transport{lang.TransportUDP, lang.TransportTCP, lang.TransportTLS} {
			if flags&(1<<i) != 0 {
				s.transports = append(s.transports, tr)
			}
		}
		if len(s.transports) == 0 {
			s.transports = []lang.Transport{lang.TransportUDP}
		}
		s.vlan = flags&8 != 0
		s.rate = flags&16 != 0
		s.logDrops = flags&32 != 0
		if flags&64 != 0 {
			s.pbx = netip.Addr{}
		}
		if lang.NewAddrSet(s.block...).Overlaps(lang.NewAddrSet(pf)) {
			s.block = nil // lang rejects a blocklist overlapping a provider
		}
		p := build(s)
		out, diags := Compile(p, backends.Options{AllowDegraded: true})
		if diags.HasErrors() {
			t.Fatalf("compile: %s", diags.Error())
		}
		d, err := readFragment(out.Main().Data)
		if err != nil {
			t.Fatalf("strict reader: %v\n%s", err, out.Main().Data)
		}
		checkFacts(t, p, d)
		again, _ := Compile(build(s), backends.Options{AllowDegraded: true})
		if !bytes.Equal(again.Main().Data, out.Main().Data) {
			t.Fatal("not deterministic")
		}
		if base == "" {
			return
		}
		m, diags := Compile(p, backends.Options{AllowDegraded: true, Base: []byte(base)})
		if diags.HasErrors() {
			return // an unreadable base is an error, never a panic
		}
		wellFormed(t, m.Main().Data)
		// The merge keeps what it does not own byte for byte, so the strict
		// reader can only be asked to accept the result when it accepts
		// the base (a base with <outbound> but no <mode> stays that way
		// when voicewall adds no outbound rule).
		if _, err := readFragment([]byte(base)); err == nil {
			checkFacts(t, p, readMerged(t, m.Main().Data))
		}
		m2, diags := Compile(p, backends.Options{AllowDegraded: true, Base: m.Main().Data})
		if diags.HasErrors() {
			t.Fatalf("merged output not accepted as base: %s", diags.Error())
		}
		if !bytes.Equal(m2.Main().Data, m.Main().Data) {
			t.Fatalf("merge not idempotent for base %q", base)
		}
	})
}
