package draytek

// The device reader: Vigor CLI commands as an admin keeps them (voicewall's
// own script, or commands pasted over telnet/SSH: `sys sip_alg`, `ipf`,
// `object ip|service`, `srv nat`, `mngt rmtcfg`, `dos`), read liberally —
// comments, blank lines and command families the audit does not need are
// skipped, a rule written over several commands accumulates — and lowered
// into the target-neutral devmodel for voicewall audit. The tests also read
// voicewall's own output back strictly (parseVigor, reader_test.go).

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/voicewall/voicewall/devmodel"
	"go4.org/netipx"
)

// MaxConfigBytes bounds a command script.
const MaxConfigBytes = 16 << 20

type dObj struct {
	line   int
	invert bool
	set    *netipx.IPSet
	ok     bool // the address was understood
}

type dSvc struct {
	line  int
	proto int
	src   devmodel.Ports
	dst   devmodel.Ports
}

type dRule struct {
	set, idx int
	line     int
	opts     map[string]string
}

type devReader struct {
	file     string
	d        *devmodel.Device
	ip4, ip6 map[int]*dObj
	grp4     map[int][]int
	grp6     map[int][]int
	svc      map[int]*dSvc
	svcGrp   map[int][]int
	rules    map[[2]int]*dRule
	next     map[int]int
	start    int
	fwdOff   map[int]bool
	// remote management: the master switch (mngt rmtcfg enable|disable)
	// last typed, the services turned on (mngt rmtcfg SERVICE on) and the
	// access list entries (mngt accesslist add)
	rmt        *rmtSwitch
	rmtOn      map[string]int
	accessList []int
	// listReading reads "o 1 2" as objects 1 and 2 (the Vigor3912 UG's
	// example) instead of slot 1 holding object 2 (its syntax line).
	listReading bool
}

type rmtSwitch struct {
	on   bool
	line int
}

// ReadDevice reads a Vigor command script into the device model. A
// reference "o|g|o6|g6 SLOT INDEX" is read as its syntax line says: the
// object or group INDEX.
func ReadDevice(file string, src []byte) (*devmodel.Device, error) {
	return readDevice(file, src, false)
}

func readDevice(file string, src []byte, listReading bool) (*devmodel.Device, error) {
	if len(src) > MaxConfigBytes {
		return nil, fmt.Errorf("%s: %d bytes is more than the %d a Vigor command script can be", file, len(src), MaxConfigBytes)
	}
	if !utf8.Valid(src) {
		return nil, fmt.Errorf("%s: not UTF-8 text (a binary .cfg backup? export the commands over telnet/SSH instead)", file)
	}
	r := &devReader{file: file, ip4: map[int]*dObj{}, ip6: map[int]*dObj{}, grp4: map[int][]int{}, grp6: map[int][]int{},
		svc: map[int]*dSvc{}, svcGrp: map[int][]int{}, rules: map[[2]int]*dRule{}, next: map[int]int{}, start: 2, fwdOff: map[int]bool{}, rmtOn: map[string]int{},
		d: &devmodel.Device{File: file, Target: "draytek", DefaultForward: devmodel.Accept, DefaultLocal: devmodel.Drop}, listReading: listReading}
	r.d.Interfaces = []*devmodel.Interface{{Name: "WAN1", Role: "wan"}, {Name: "LAN1", Role: "lan"}}
	vigor := false
	for n, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(strings.TrimRight(line, "\r"))
		line = prompt.ReplaceAllString(line, "") // a pasted telnet prompt
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		toks, err := words(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", file, n+1, err)
		}
		if len(toks) > 0 && vigorCommands[toks[0]] {
			vigor = true
		}
		if err := r.command(toks, n+1); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", file, n+1, err)
		}
	}
	if !vigor {
		// A FortiOS backup or a config.xml given to the wrong --target
		// would otherwise audit "clean".
		return nil, fmt.Errorf("%s:1: no Vigor command (sys, mngt, object, srv, ipf, ...): is this a DrayTek command script? Export it over telnet/SSH", file)
	}
	r.lower()
	r.remoteManagement()
	if len(r.d.SIPHelpers)+len(r.d.SIPHelperOff) == 0 {
		r.d.Notef(devmodel.Loc{File: file}, "the script does not set sys sip_alg: the router keeps whatever it has (check with sys sip_alg ?)")
	}
	return r.d, nil
}

// vigorCommands are the Vigor CLI's top-level commands (UG, CLI chapter).
var vigorCommands = map[string]bool{"sys": true, "mngt": true, "object": true, "srv": true, "ipf": true, "dos": true,
	"vlan": true, "lan": true, "wan": true, "ip": true, "ip6": true, "msubnet": true, "qos": true, "vpn": true, "csm": true,
	"port": true, "switch": true, "ddns": true, "upnp": true, "log": true, "wl": true, "show": true, "internet": true}

var prompt = regexp.MustCompile(`^[A-Za-z0-9_.-]*> ?`)

// words splits a command line: blanks separate, "double quotes" group.
func words(line string) ([]string, error) {
	var out []string
	for i := 0; i < len(line); {
		switch {
		case line[i] == ' ' || line[i] == '\t':
			i++
		case line[i] == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("a quote is never closed")
			}
			out = append(out, line[i+1:i+1+j])
			i += j + 2
		default:
			j := strings.IndexAny(line[i:], " \t")
			if j < 0 {
				j = len(line) - i
			}
			out = append(out, line[i:i+j])
			i += j
		}
	}
	return out, nil
}

func (r *devReader) loc(line int) devmodel.Loc { return devmodel.Loc{File: r.file, Line: line} }

func num(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func (r *devReader) command(t []string, line int) error {
	switch {
	case len(t) >= 2 && t[0] == "sys" && t[1] == "sip_alg":
		v := ""
		switch {
		case len(t) == 4 && t[2] == "-e":
			v = t[3]
		case len(t) == 3 && (t[2] == "0" || t[2] == "1"): // the legacy form
			v = t[2]
		default:
			return nil // a status query
		}
		s := devmodel.Setting{Loc: r.loc(line), What: strings.Join(t, " ")}
		if v == "1" {
			r.d.SIPHelpers = append(r.d.SIPHelpers, s)
		} else {
			r.d.SIPHelperOff = append(r.d.SIPHelperOff, s)
		}
	case len(t) >= 5 && t[0] == "object":
		return r.object(t, line)
	case len(t) >= 2 && t[0] == "ipf" && t[1] == "set":
		if len(t) == 4 && t[2] == "-d" {
			if n, ok := num(t[3]); ok {
				r.start = n
			}
		}
		if len(t) == 5 && t[3] == "-n" {
			s, ok1 := num(t[2])
			n, ok2 := num(t[4])
			if ok1 && ok2 {
				r.next[s] = n
			}
		}
	case len(t) >= 4 && t[0] == "ipf" && t[1] == "rule":
		s, ok1 := num(t[2])
		i, ok2 := num(t[3])
		if !ok1 || !ok2 {
			return fmt.Errorf("ipf rule needs a set and a rule number")
		}
		k := [2]int{s, i}
		rr := r.rules[k]
		if rr == nil {
			rr = &dRule{set: s, idx: i, line: line, opts: map[string]string{}}
			r.rules[k] = rr
		}
		for j := 4; j < len(t); j++ {
			if !strings.HasPrefix(t[j], "-") {
				continue
			}
			v := ""
			if j+1 < len(t) && !strings.HasPrefix(t[j+1], "-") {
				v = t[j+1]
				j++
			}
			rr.opts[t[j-boolInt(v != "")]] = v
		}
	case len(t) >= 3 && t[0] == "srv" && t[1] == "nat":
		return r.nat(t, line)
	case len(t) >= 3 && t[0] == "mngt" && t[1] == "rmtcfg":
		switch {
		case len(t) == 3 && (t[2] == "enable" || t[2] == "disable"):
			r.rmt = &rmtSwitch{on: t[2] == "enable", line: line}
		case len(t) == 4 && mgmtPorts[t[2]] != 0 && (t[3] == "on" || t[3] == "off"):
			if t[3] == "on" {
				r.rmtOn[t[2]] = line
			} else {
				delete(r.rmtOn, t[2])
			}
		}
	case len(t) >= 3 && t[0] == "mngt" && t[1] == "accesslist":
		switch t[2] {
		case "add":
			r.accessList = append(r.accessList, line)
		case "flush":
			r.accessList = nil
		case "remove":
			if len(r.accessList) > 0 {
				r.accessList = r.accessList[:len(r.accessList)-1]
			}
		}
	case len(t) >= 2 && t[0] == "dos":
		if len(t) >= 3 && t[1] == "-s" {
			pps := 0 // dos -s ATTACK [THRESHOLD] [TIMEOUT]; none: the router's default
			if len(t) >= 4 {
				pps, _ = strconv.Atoi(t[3])
			}
			switch t[2] {
			case "udpflood":
				r.d.Limits = append(r.d.Limits, &devmodel.Limit{Loc: r.loc(line), Ref: strings.Join(t, " "), Services: []devmodel.Service{{Proto: devmodel.UDP}}, PPS: pps})
			case "synflood":
				r.d.Limits = append(r.d.Limits, &devmodel.Limit{Loc: r.loc(line), Ref: strings.Join(t, " "), Services: []devmodel.Service{{Proto: devmodel.TCP}}, PPS: pps})
			}
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// remoteManagement: management from the Internet (Vigor3912 UG, Telnet
// commands, mngt rmtcfg): `mngt rmtcfg enable` allows it (off by default),
// `disable` denies it whatever services are on, and a service's `on` only
// takes while it is enabled; `mngt accesslist` limits it to listed hosts.
func (r *devReader) remoteManagement() {
	if r.rmt != nil && !r.rmt.on {
		return // denied: the per-service settings do not apply
	}
	restricted := ""
	if len(r.accessList) > 0 {
		restricted = fmt.Sprintf("the management access list (mngt accesslist add, line %d) limits who may log in", r.accessList[0])
	}
	w := r.d.Interface("WAN1")
	var names []string
	for n := range r.rmtOn {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return r.rmtOn[names[i]] < r.rmtOn[names[j]] || r.rmtOn[names[i]] == r.rmtOn[names[j]] && names[i] < names[j]
	})
	for _, n := range names {
		p := mgmtPorts[n]
		w.Admin = append(w.Admin, devmodel.Exposure{Loc: r.loc(r.rmtOn[n]), Service: n, Proto: devmodel.TCP, Ports: devmodel.PortsOf(p, p), Restricted: restricted})
	}
	if len(names) == 0 && r.rmt != nil {
		// enabled; which services answer is the router's own setting
		w.Admin = append(w.Admin, devmodel.Exposure{Loc: r.loc(r.rmt.line), Service: "remote management (mngt rmtcfg enable; the services the router has on, see mngt rmtcfg status)", Proto: devmodel.TCP, Ports: devmodel.PortsOf(443, 443), Restricted: restricted})
	}
}

var mgmtPorts = map[string]uint16{"http": 80, "https": 443, "telnet": 23, "ssh": 22, "ftp": 21, "tr069": 8069, "snmp": 161}

func (r *devReader) object(t []string, line int) error {
	idx, ok := num(t[3])
	if !ok {
		return nil
	}
	opt, args := t[4], t[5:]
	switch t[1] + " " + t[2] {
	case "ip obj", "ipv6 obj":
		tab := r.ip4
		if t[1] == "ipv6" {
			tab = r.ip6
		}
		o := tab[idx]
		if o == nil {
			o = &dObj{line: line}
			tab[idx] = o
		}
		switch opt {
		case "-s":
			o.invert = len(args) > 0 && args[0] == "1"
		case "-a":
			o.set, o.ok = objAddrLiberal(args)
		}
	case "ip grp", "ipv6 grp", "service grp":
		if opt != "-a" {
			return nil
		}
		var members []int
		for _, a := range args {
			for _, f := range strings.Fields(a) {
				if n, ok := num(f); ok {
					members = append(members, n)
				}
			}
		}
		switch t[1] {
		case "ip":
			r.grp4[idx] = members
		case "ipv6":
			r.grp6[idx] = members
		default:
			r.svcGrp[idx] = members
		}
	case "service obj":
		s := r.svc[idx]
		if s == nil {
			s = &dSvc{line: line, proto: -1}
			r.svc[idx] = s
		}
		switch opt {
		case "-p":
			if len(args) > 0 {
				s.proto, _ = strconv.Atoi(args[0])
			}
		case "-s", "-d":
			p := svcPorts(args)
			if opt == "-s" {
				s.src = p
			} else {
				s.dst = p
			}
		}
	}
	return nil
}

// svcPorts reads `CHK START END` (0: =, 1: !=, 2: >, 3: <).
func svcPorts(a []string) devmodel.Ports {
	if len(a) < 2 {
		return nil
	}
	chk, _ := strconv.Atoi(a[0])
	lo, ok1 := num(a[1])
	hi := lo
	if len(a) > 2 {
		hi, _ = num(a[2])
	}
	if !ok1 || lo < 0 || hi > 65535 || hi < lo {
		return devmodel.Ports{}
	}
	switch chk {
	case 1:
		var out devmodel.Ports
		if lo > 1 {
			out = append(out, devmodel.PortRange{Lo: 1, Hi: uint16(lo - 1)})
		}
		if hi < 65535 {
			out = append(out, devmodel.PortRange{Lo: uint16(hi + 1), Hi: 65535})
		}
		return out
	case 2:
		if lo >= 65535 {
			return devmodel.Ports{}
		}
		return devmodel.PortsOf(uint16(lo+1), 65535)
	case 3:
		if lo <= 1 {
			return devmodel.Ports{}
		}
		return devmodel.PortsOf(1, uint16(lo-1))
	}
	if lo == 0 {
		lo = 1
	}
	if lo == 1 && hi == 65535 {
		return nil
	}
	return devmodel.PortsOf(uint16(lo), uint16(hi))
}

// objAddrLiberal reads `-a TYPE ...`: 0 mask, 1 single, 2 any, 3 range.
func objAddrLiberal(a []string) (*netipx.IPSet, bool) {
	var b netipx.IPSetBuilder
	if len(a) == 0 {
		return &netipx.IPSet{}, false
	}
	switch {
	case a[0] == "2":
		b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
		b.AddPrefix(netip.MustParsePrefix("::/0"))
	case a[0] == "1" && len(a) >= 2:
		x, err := netip.ParseAddr(a[1])
		if err != nil {
			return &netipx.IPSet{}, false
		}
		b.Add(x)
	case a[0] == "0" && len(a) >= 3:
		x, err := netip.ParseAddr(a[1])
		if err != nil {
			return &netipx.IPSet{}, false
		}
		bits := -1
		if m, err := netip.ParseAddr(a[2]); err == nil && m.Is4() {
			ones, full := netMaskSize(m.AsSlice())
			if full == 32 {
				bits = ones
			}
		} else if n, err := strconv.Atoi(a[2]); err == nil {
			bits = n
		}
		p, err := x.Prefix(bits)
		if bits < 0 || err != nil {
			return &netipx.IPSet{}, false
		}
		b.AddPrefix(p)
	case a[0] == "3" && len(a) >= 3:
		x, err1 := netip.ParseAddr(a[1])
		y, err2 := netip.ParseAddr(a[2])
		if err1 != nil || err2 != nil || y.Less(x) {
			return &netipx.IPSet{}, false
		}
		b.AddRange(netipx.IPRangeFrom(x, y))
	default:
		return &netipx.IPSet{}, false // MAC objects and forms not understood
	}
	s, _ := b.IPSet()
	return s, true
}

func (r *devReader) nat(t []string, line int) error {
	if len(t) < 4 {
		return nil // a view or status command
	}
	switch t[2] {
	case "portmap":
		if len(t) >= 5 && (t[3] == "disable" || t[3] == "del") {
			if n, ok := num(t[4]); ok {
				r.fwdOff[n] = true
			}
			return nil
		}
		if t[3] != "add" || len(t) < 12 {
			return nil
		}
		idx, _ := num(t[4])
		f := &devmodel.Forward{Loc: r.loc(line), Ref: "srv nat portmap " + t[4] + " (" + t[5] + ")", Name: "portmap " + t[4], InRole: "wan",
			Ext: devmodel.Addr{Self: true, Set: &netipx.IPSet{}, Text: "WAN"}}
		f.Proto = map[string]uint8{"tcp": devmodel.TCP, "udp": devmodel.UDP}[strings.ToLower(t[6])]
		pub, _ := num(t[7])
		f.Ports = devmodel.PortsOf(uint16(pub), uint16(pub))
		f.Src = r.srcRef(t[8], t[9])
		f.To, _ = netip.ParseAddr(t[10])
		pp, _ := num(t[11])
		f.ToPort = uint16(pp)
		r.d.Forwards = append(r.d.Forwards, f)
		_ = idx
	case "openport":
		if len(t) < 5 {
			return nil
		}
		if _, ok := num(t[3]); !ok {
			return nil // not an entry (srv nat openport -h, -v, ...)
		}
		if _, ok := num(t[4]); !ok {
			return nil
		}
		opts := map[string][]string{}
		for i := 5; i < len(t); i++ {
			if strings.HasPrefix(t[i], "-") {
				var v []string
				for j := i + 1; j < len(t) && !strings.HasPrefix(t[j], "-"); j++ {
					v = append(v, t[j])
				}
				opts[t[i]] = v
			}
		}
		if a := opts["-a"]; len(a) > 0 && a[0] == "0" {
			return nil // profile disabled
		}
		f := &devmodel.Forward{Loc: r.loc(line), Ref: "srv nat openport " + t[3] + " " + t[4], Name: "openport " + t[3] + " " + t[4], InRole: "wan",
			Ext: devmodel.Addr{Self: true, Set: &netipx.IPSet{}, Text: "WAN"}}
		if c := opts["-c"]; len(c) > 0 {
			f.Ref += " (" + c[0] + ")"
		}
		switch p := strings.ToUpper(first1(opts["-p"])); p {
		case "TCP":
			f.Proto = devmodel.TCP
		case "UDP":
			f.Proto = devmodel.UDP
		default:
			f.Proto = 0
		}
		lo, _ := num(first1(opts["-s"]))
		hi, ok := num(first1(opts["-e"]))
		if !ok {
			hi = lo
		}
		if lo > 0 && hi >= lo && hi <= 65535 {
			f.Ports = devmodel.PortsOf(uint16(lo), uint16(hi))
		}
		g := first1(opts["-g"])
		if g == "" {
			g = "0"
		}
		l := first1(opts["-l"])
		if l == "" {
			l = "0"
		}
		f.Src = r.srcRef(g, l)
		f.To, _ = netip.ParseAddr(first1(opts["-i"]))
		if !f.To.IsValid() {
			return nil // no local host: the entry forwards nothing
		}
		r.d.Forwards = append(r.d.Forwards, f)
	}
	return nil
}

func first1(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (r *devReader) srcRef(kind, idx string) devmodel.Addr {
	n, _ := num(idx)
	if n == 0 {
		return devmodel.AnyAddr()
	}
	k := "o"
	if kind == "1" {
		k = "g"
	}
	// objects may be defined after the forward that names them: resolved in lower
	return devmodel.Addr{Text: k + " " + idx, Unresolved: true}
}

// addrRef resolves `-s`/`-d`: "u 2" any, "u 0 IP MASK", "u 1 IP",
// "u 3 IP IP", or "o|g|o6|g6 [SLOT] INDEX".
func (r *devReader) addrRef(ref string) devmodel.Addr {
	f := strings.Fields(ref)
	if len(f) == 0 {
		return devmodel.AnyAddr()
	}
	if f[0] == "u" {
		if len(f) >= 2 && f[1] == "2" {
			return devmodel.AnyAddr()
		}
		s, ok := objAddrLiberal(f[1:])
		return devmodel.Addr{Set: s, Text: ref, Unresolved: !ok}
	}
	var b netipx.IPSetBuilder
	idx, ok := num(f[len(f)-1])
	if len(f) < 2 || !ok {
		return devmodel.Addr{Set: &netipx.IPSet{}, Text: ref, Unresolved: true}
	}
	if idx == 0 {
		return devmodel.AnyAddr() // "0 means none": no object, any address
	}
	idxs := []int{idx}
	if r.listReading && len(f) >= 3 {
		idxs = idxs[:0]
		for _, x := range f[1:] {
			if n, ok := num(x); ok && n != 0 {
				idxs = append(idxs, n)
			}
		}
	}
	objs := r.ip4
	var members []int
	switch f[0] {
	case "o":
		members = idxs
	case "o6":
		objs, members = r.ip6, idxs
	case "g":
		for _, i := range idxs {
			members = append(members, r.grp4[i]...)
		}
	case "g6":
		objs = r.ip6
		for _, i := range idxs {
			members = append(members, r.grp6[i]...)
		}
	default:
		return devmodel.Addr{Set: &netipx.IPSet{}, Text: ref, Unresolved: true}
	}
	unresolved := len(members) == 0
	for _, m := range members {
		o := objs[m]
		if o == nil || !o.ok {
			unresolved = true
			continue
		}
		s := o.set
		if o.invert {
			s = devmodel.Complement(s)
		}
		b.AddSet(s)
	}
	s, _ := b.IPSet()
	a := devmodel.Addr{Set: s, Text: ref, Unresolved: unresolved}
	if devmodel.IsEverything(s) {
		a.Any = true
	}
	return a
}

func (r *devReader) services(ref string) []devmodel.Service {
	f := strings.Fields(ref)
	if len(f) < 2 || f[0] == "u" {
		return nil // user-defined services: read as every service
	}
	idx, ok := num(f[len(f)-1])
	if !ok {
		return []devmodel.Service{}
	}
	ids := []int{idx}
	if f[0] == "g" {
		ids = r.svcGrp[idx]
	}
	out := []devmodel.Service{}
	for _, id := range ids {
		s := r.svc[id]
		if s == nil {
			continue
		}
		switch s.proto {
		case 0, -1:
			return nil
		case 255: // TCP/UDP
			out = append(out, devmodel.Service{Proto: devmodel.TCP, SrcPorts: s.src, DstPorts: s.dst}, devmodel.Service{Proto: devmodel.UDP, SrcPorts: s.src, DstPorts: s.dst})
		default:
			out = append(out, devmodel.Service{Proto: uint8(s.proto), SrcPorts: s.src, DstPorts: s.dst})
		}
	}
	return out
}

// lower orders the rules along the filter sets from the data filter start
// set and resolves every reference.
func (r *devReader) lower() {
	bySet := map[int][]*dRule{}
	for _, rr := range r.rules {
		bySet[rr.set] = append(bySet[rr.set], rr)
	}
	var order []int
	seen := map[int]bool{}
	for s := r.start; s != 0 && !seen[s]; {
		seen[s] = true
		order = append(order, s)
		n, ok := r.next[s]
		if !ok {
			// a set's rules may name the next set with -N
			for _, rr := range bySet[s] {
				if v, ok := num(rr.opts["-N"]); ok && v != 0 {
					n = v
				}
			}
		}
		s = n
	}
	var unreached []int
	for s := range bySet {
		if !seen[s] {
			unreached = append(unreached, s)
		}
	}
	sort.Ints(unreached)
	for _, s := range unreached {
		r.d.Notef(r.loc(bySet[s][0].line), "filter set %d is not reached from the data filter start set %d; its rules are not evaluated", s, r.start)
	}
	for _, s := range order {
		rs := bySet[s]
		sort.Slice(rs, func(i, j int) bool { return rs[i].idx < rs[j].idx })
		for _, rr := range rs {
			r.d.Rules = append(r.d.Rules, r.rule(rr))
		}
	}
	for _, f := range r.d.Forwards {
		if f.Src.Unresolved && !f.Src.Any {
			kind, idx, _ := strings.Cut(f.Src.Text, " ")
			f.Src = r.addrRef(kind + " " + idx)
		}
		if n, ok := num(strings.TrimPrefix(f.Name, "portmap ")); ok && strings.HasPrefix(f.Name, "portmap ") && r.fwdOff[n] {
			f.Disabled = true
		}
	}
}

func (r *devReader) rule(rr *dRule) *devmodel.Rule {
	o := rr.opts
	x := &devmodel.Rule{Loc: r.loc(rr.line), Ref: fmt.Sprintf("ipf rule %d %d", rr.set, rr.idx), Name: o["-M"], Quick: true, Dir: devmodel.DirIn}
	x.Disabled = o["-e"] == "0"
	dir := 0
	if v, ok := num(o["-D"]); ok {
		dir = v
	}
	switch dir {
	case 0:
		x.Hook, x.InRole, x.OutRole = devmodel.HookForward, "lan", "wan"
	case 1:
		x.Hook, x.InRole, x.OutRole = devmodel.HookForward, "wan", "lan"
	case 2:
		x.Hook, x.InRole, x.OutRole = devmodel.HookForward, "lan", "lan"
	case 3:
		x.Hook, x.InRole = devmodel.HookLocal, "wan"
	}
	x.Src, x.Dst = r.addrRef(o["-s"]), r.addrRef(o["-d"])
	x.MatchForwarded = true
	x.Services = r.services(o["-S"])
	act := strings.Fields(o["-F"])
	a := 0
	if len(act) > 0 {
		a, _ = strconv.Atoi(act[0])
	}
	switch a {
	case 0:
		x.Action = devmodel.Accept
	case 1:
		x.Action = devmodel.Drop
	case 2:
		x.Action, x.Quick = devmodel.Accept, false
	case 3:
		x.Action, x.Quick = devmodel.Drop, false
	}
	return x
}

// netMaskSize is the prefix length of a dotted mask (0, 0 when the mask is
// not contiguous).
func netMaskSize(b []byte) (ones, bits int) {
	seenZero := false
	for _, x := range b {
		for i := 7; i >= 0; i-- {
			if x&(1<<i) != 0 {
				if seenZero {
					return 0, 0
				}
				ones++
			} else {
				seenZero = true
			}
		}
	}
	return ones, 32
}
