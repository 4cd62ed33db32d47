package live

// Kernel rule → compiler statements: the inverse of encode.go. It accepts
// exactly voicewall's spelling of each statement (the one `nft -f` uses) and
// nothing else, so a rule decodes to the same statements only when the
// kernel holds what voicewall would send; anything else is reported as not
// in voicewall's form and gets replaced by apply.

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/lang"
)

type ruleDecoder struct {
	es   []expr.Any
	i    int
	anon map[string]*LiveSet
	nf   int // 4 or 6 once a network-layer dependency was seen
	l4   uint8
	out  []vw.Stmt
}

func decodeRule(es []expr.Any, anon map[string]*LiveSet) ([]vw.Stmt, error) {
	d := &ruleDecoder{es: es, anon: anon}
	for d.i < len(d.es) {
		if err := d.step(); err != nil {
			return nil, err
		}
	}
	return d.out, nil
}

func (d *ruleDecoder) peek(k int) expr.Any {
	if d.i+k < len(d.es) {
		return d.es[d.i+k]
	}
	return nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

var limitUnitNames = map[expr.LimitTime]string{expr.LimitTimeSecond: "second", expr.LimitTimeMinute: "minute", expr.LimitTimeHour: "hour", expr.LimitTimeDay: "day", expr.LimitTimeWeek: "week"}

var dscpNames = func() map[uint8]string {
	m := map[uint8]string{}
	for name, v := range lang.DSCPValues {
		if old, ok := m[v]; !ok || name < old {
			m[v] = name
		}
	}
	return m
}()

func (d *ruleDecoder) cmp(k int) *expr.Cmp {
	c, ok := d.peek(k).(*expr.Cmp)
	if !ok || c.Register != 1 {
		return nil
	}
	return c
}

func (d *ruleDecoder) step() error {
	e := d.es[d.i]
	switch e := e.(type) {
	case *expr.Meta:
		if e.SourceRegister || e.Register != 1 {
			return fmt.Errorf("meta expression %d", e.Key)
		}
		c := d.cmp(1)
		if c == nil {
			return fmt.Errorf("meta %d without comparison", e.Key)
		}
		switch e.Key {
		case expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME:
			if len(c.Data) != 16 || (c.Op != expr.CmpOpEq && c.Op != expr.CmpOpNeq) {
				return fmt.Errorf("interface name match not in voicewall's form")
			}
			name := nlwire.CString(c.Data)
			if name == "" || !isZero(c.Data[len(name):]) {
				return fmt.Errorf("interface name match not in voicewall's form")
			}
			d.out = append(d.out, vw.MatchIface{Out: e.Key == expr.MetaKeyOIFNAME, Neg: c.Op == expr.CmpOpNeq, Name: name})
			d.i += 2
			return nil
		case expr.MetaKeyNFPROTO:
			if c.Op != expr.CmpOpEq || len(c.Data) != 1 || (c.Data[0] != unix.NFPROTO_IPV4 && c.Data[0] != unix.NFPROTO_IPV6) {
				return fmt.Errorf("meta nfproto not in voicewall's form")
			}
			v6 := c.Data[0] == unix.NFPROTO_IPV6
			d.i += 2
			d.nf = 4
			if v6 {
				d.nf = 6
			}
			// A dependency of the network-header statement that follows
			// (nft does not list it); otherwise an explicit match.
			if p, ok := d.peek(0).(*expr.Payload); ok && p.Base == expr.PayloadBaseNetworkHeader {
				return nil
			}
			d.out = append(d.out, vw.MatchNfproto{V6: v6})
			return nil
		case expr.MetaKeyL4PROTO:
			if c.Op != expr.CmpOpEq || len(c.Data) != 1 {
				return fmt.Errorf("meta l4proto not in voicewall's form")
			}
			p, ok := d.peek(2).(*expr.Payload)
			if !ok || p.Base != expr.PayloadBaseTransportHeader {
				return fmt.Errorf("meta l4proto match without a port match")
			}
			d.l4 = c.Data[0]
			d.i += 2
			return nil
		}
		return fmt.Errorf("meta key %d", e.Key)
	case *expr.Ct:
		if e.Key != expr.CtKeySTATE || e.SourceRegister || e.Register != 1 {
			return fmt.Errorf("ct expression not in voicewall's form")
		}
		bw, ok := d.peek(1).(*expr.Bitwise)
		c := d.cmp(2)
		if !ok || c == nil || bw.Len != 4 || len(bw.Mask) != 4 || !isZero(bw.Xor) || c.Op != expr.CmpOpNeq || !isZero(c.Data) || len(c.Data) != 4 {
			return fmt.Errorf("ct state match not in voicewall's form")
		}
		bits := uint32(bw.Mask[0]) | uint32(bw.Mask[1])<<8 | uint32(bw.Mask[2])<<16 | uint32(bw.Mask[3])<<24
		var states []string
		for _, s := range []string{"invalid", "established", "related", "new", "untracked"} {
			if bits&ctStates[s] != 0 {
				states = append(states, s)
				bits &^= ctStates[s]
			}
		}
		if bits != 0 || len(states) == 0 {
			return fmt.Errorf("ct state bits not in voicewall's form")
		}
		d.out = append(d.out, vw.MatchCtState{States: states})
		d.i += 3
		return nil
	case *expr.Payload:
		return d.payload(e)
	case *expr.Limit:
		name, ok := limitUnitNames[e.Unit]
		if !ok || e.Type != expr.LimitTypePkts || e.Over || e.Burst != 5 || e.Rate > 1<<32-1 {
			return fmt.Errorf("limit not in voicewall's form")
		}
		d.out = append(d.out, vw.Limit{Rate: lang.Rate{Count: uint32(e.Rate), Unit: name}})
		d.i++
		return nil
	case *expr.Log:
		if e.Key&(1<<unix.NFTA_LOG_PREFIX) == 0 || e.Key&^(1<<unix.NFTA_LOG_PREFIX|1<<unix.NFTA_LOG_LEVEL|1<<unix.NFTA_LOG_FLAGS) != 0 ||
			(e.Key&(1<<unix.NFTA_LOG_LEVEL) != 0 && e.Level != expr.LogLevelWarning) || e.Flags != 0 {
			return fmt.Errorf("log not in voicewall's form (level warn, prefix)")
		}
		d.out = append(d.out, vw.Log{Prefix: string(e.Data)})
		d.i++
		return nil
	case *expr.Counter:
		d.out = append(d.out, vw.Counter{})
		d.i++
		return nil
	case *expr.Immediate:
		n, ok := d.peek(1).(*expr.NAT)
		if !ok || e.Register != 1 || n.Type != expr.NATTypeDestNAT || n.RegAddrMin != 1 || (n.RegAddrMax != 0 && n.RegAddrMax != 1) ||
			n.RegProtoMin != 0 || n.Random || n.FullyRandom || n.Persistent || n.Prefix || n.Specified {
			return fmt.Errorf("immediate value not used by a dnat")
		}
		a, ok := netip.AddrFromSlice(e.Data)
		if !ok || (n.Family == unix.NFPROTO_IPV4) != a.Is4() || (n.Family != unix.NFPROTO_IPV4 && n.Family != unix.NFPROTO_IPV6) {
			return fmt.Errorf("dnat address not in voicewall's form")
		}
		d.out = append(d.out, vw.DNAT{Addr: a})
		d.i += 2
		return nil
	case *expr.Verdict:
		v := vw.Verdict{}
		switch e.Kind {
		case expr.VerdictAccept:
			v.Kind = "accept"
		case expr.VerdictDrop:
			v.Kind = "drop"
		case expr.VerdictJump:
			v.Kind, v.Chain = "jump", e.Chain
		case expr.VerdictGoto:
			v.Kind, v.Chain = "goto", e.Chain
		case expr.VerdictReturn:
			v.Kind = "return"
		default:
			return fmt.Errorf("verdict %d", e.Kind)
		}
		d.out = append(d.out, v)
		d.i++
		return nil
	}
	return fmt.Errorf("%T expression", e)
}

func (d *ruleDecoder) payload(p *expr.Payload) error {
	if p.OperationType != expr.PayloadLoad || p.DestRegister != 1 {
		return fmt.Errorf("payload expression not in voicewall's form")
	}
	switch p.Base {
	case expr.PayloadBaseNetworkHeader:
		if d.nf == 0 {
			return fmt.Errorf("network header match without a family")
		}
		v6 := d.nf == 6
		if p.Offset == 0 && p.Len == 2 {
			return d.dscp(v6)
		}
		var dir vw.Dir
		switch {
		case !v6 && p.Len == 4 && p.Offset == 12, v6 && p.Len == 16 && p.Offset == 8:
			dir = vw.Src
		case !v6 && p.Len == 4 && p.Offset == 16, v6 && p.Len == 16 && p.Offset == 24:
			dir = vw.Dst
		default:
			return fmt.Errorf("network header field not in voicewall's form")
		}
		switch n := d.peek(1).(type) {
		case *expr.Lookup:
			if n.SourceRegister != 1 || n.Invert || n.IsDestRegSet || d.anon[n.SetName] != nil {
				return fmt.Errorf("set lookup not in voicewall's form")
			}
			d.out = append(d.out, vw.MatchAddrSet{V6: v6, Dir: dir, Set: n.SetName})
			d.i += 2
			return nil
		case *expr.Dynset:
			if dir != vw.Src || n.Operation != unix.NFT_DYNSET_OP_UPDATE || n.SrcRegKey != 1 || n.SrcRegData != 0 || n.Invert || n.Timeout != 0 || len(n.Exprs) != 1 {
				return fmt.Errorf("meter not in voicewall's form")
			}
			l, ok := n.Exprs[0].(*expr.Limit)
			name, known := limitUnitNames[l.Unit]
			if !ok || !known || l.Type != expr.LimitTypePkts || !l.Over || l.Rate > 1<<32-1 {
				return fmt.Errorf("meter limit not in voicewall's form")
			}
			d.out = append(d.out, vw.MeterLimit{Set: n.SetName, V6: v6, Rate: lang.Rate{Count: uint32(l.Rate), Unit: name}, Burst: l.Burst})
			d.i += 2
			return nil
		}
		return fmt.Errorf("address match not in voicewall's form")
	case expr.PayloadBaseTransportHeader:
		if d.l4 != uint8(lang.TCP) && d.l4 != uint8(lang.UDP) {
			return fmt.Errorf("port match without tcp or udp")
		}
		if p.Len != 2 || (p.Offset != 0 && p.Offset != 2) {
			return fmt.Errorf("transport header field not in voicewall's form")
		}
		m := vw.MatchPorts{Proto: lang.Proto(d.l4), Dir: vw.Dst}
		if p.Offset == 0 {
			m.Dir = vw.Src
		}
		port := func(b []byte) (uint16, bool) {
			if len(b) != 2 {
				return 0, false
			}
			return uint16(b[0])<<8 | uint16(b[1]), true
		}
		c1 := d.cmp(1)
		switch {
		case c1 != nil && c1.Op == expr.CmpOpEq:
			v, ok := port(c1.Data)
			if !ok {
				return fmt.Errorf("port match not in voicewall's form")
			}
			m.Ranges = []lang.PortRange{{First: v, Last: v}}
			d.i += 2
		case c1 != nil && c1.Op == expr.CmpOpGte:
			c2 := d.cmp(2)
			lo, ok1 := port(c1.Data)
			if c2 == nil || c2.Op != expr.CmpOpLte {
				return fmt.Errorf("port range not in voicewall's form")
			}
			hi, ok2 := port(c2.Data)
			if !ok1 || !ok2 || hi <= lo {
				return fmt.Errorf("port range not in voicewall's form")
			}
			m.Ranges = []lang.PortRange{{First: lo, Last: hi}}
			d.i += 3
		default:
			if r, ok := d.peek(1).(*expr.Range); ok && r.Register == 1 && r.Op == expr.CmpOpEq {
				lo, ok1 := port(r.FromData)
				hi, ok2 := port(r.ToData)
				if !ok1 || !ok2 || hi <= lo {
					return fmt.Errorf("port range not in voicewall's form")
				}
				m.Ranges = []lang.PortRange{{First: lo, Last: hi}}
				d.i += 2
				break
			}
			l, ok := d.peek(1).(*expr.Lookup)
			if !ok || l.SourceRegister != 1 || l.Invert || l.IsDestRegSet {
				return fmt.Errorf("port match not in voicewall's form")
			}
			as := d.anon[l.SetName]
			if as == nil || len(as.Ports) < 2 {
				return fmt.Errorf("port set %s not in voicewall's form", l.SetName)
			}
			for _, r := range as.Ports {
				m.Ranges = append(m.Ranges, lang.PortRange{First: r[0], Last: r[1]})
			}
			d.i += 2
		}
		d.out = append(d.out, m)
		return nil
	}
	return fmt.Errorf("payload base %d", p.Base)
}

func (d *ruleDecoder) dscp(v6 bool) error {
	bw, ok1 := d.peek(1).(*expr.Bitwise)
	w, ok2 := d.peek(2).(*expr.Payload)
	if !ok1 || !ok2 || bw.SourceRegister != 1 || bw.DestRegister != 1 || bw.Len != 2 || len(bw.Mask) != 2 || len(bw.Xor) != 2 ||
		w.OperationType != expr.PayloadWrite || w.SourceRegister != 1 || w.Base != expr.PayloadBaseNetworkHeader || w.Offset != 0 || w.Len != 2 {
		return fmt.Errorf("dscp statement not in voicewall's form")
	}
	var tc uint8
	if v6 {
		if !bytes.Equal(bw.Mask, []byte{0xf0, 0x3f}) || bw.Xor[0]&0xf0 != 0 || bw.Xor[1]&0x0f != 0 || w.CsumType != expr.CsumTypeNone {
			return fmt.Errorf("ip6 dscp statement not in voicewall's form")
		}
		tc = bw.Xor[0]<<4 | bw.Xor[1]>>4
	} else {
		if !bytes.Equal(bw.Mask, []byte{0xff, 0x03}) || bw.Xor[0] != 0 || bw.Xor[1]&0x03 != 0 || w.CsumType != expr.CsumTypeInet || w.CsumOffset != 10 || w.CsumFlags != 0 {
			return fmt.Errorf("ip dscp statement not in voicewall's form")
		}
		tc = bw.Xor[1]
	}
	name, ok := dscpNames[tc>>2]
	if !ok {
		return fmt.Errorf("dscp value %d has no name", tc>>2)
	}
	d.out = append(d.out, vw.SetDSCP{V6: v6, Class: name})
	d.i += 3
	return nil
}
