package live

// IR → what the batch messages declare: chains and sets (chainDef,
// setDef, encoded by build.go) and each rule's expressions, as
// google/nftables' expr values (its public expression encoder marshals
// them). Every statement is spelled as the expression list `nft -f`
// generates for the rendered text (checked with `nft --debug=netlink`),
// including the implicit `meta nfproto` and `meta l4proto` dependencies nft
// inserts in an inet table, so that the kernel lists exactly the compiled
// text back.

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/lang"
)

var hooks = map[string]uint32{
	"prerouting":  unix.NF_INET_PRE_ROUTING,
	"input":       unix.NF_INET_LOCAL_IN,
	"forward":     unix.NF_INET_FORWARD,
	"output":      unix.NF_INET_LOCAL_OUT,
	"postrouting": unix.NF_INET_POST_ROUTING,
}

// chainDef is a chain as a NEWCHAIN message declares it.
type chainDef struct {
	name string
	base bool // a base chain: hook, priority, type and policy below
	hook uint32
	prio int32
	typ  string // "filter", "nat", "route"
	drop bool   // policy drop (else accept)
}

// chainObj converts one chain (base or regular).
func chainObj(c *vw.Chain) (chainDef, error) {
	ch := chainDef{name: c.Name}
	if !c.Base() {
		return ch, nil
	}
	h, ok := hooks[c.Hook]
	if !ok {
		return ch, fmt.Errorf("chain %s: unknown hook %q", c.Name, c.Hook)
	}
	ch.base, ch.hook, ch.prio = true, h, int32(c.PrioNum)
	switch c.Type {
	case "filter", "nat", "route":
		ch.typ = c.Type
	default:
		return ch, fmt.Errorf("chain %s: unknown type %q", c.Name, c.Type)
	}
	switch c.Policy {
	case "accept", "":
	case "drop":
		ch.drop = true
	default:
		return ch, fmt.Errorf("chain %s: unknown policy %q", c.Name, c.Policy)
	}
	return ch, nil
}

// keyType is a set's key as NEWSET declares it: nft's datatype number
// (NFTA_SET_KEY_TYPE) and its length.
type keyType struct{ magic, len uint32 }

var (
	keyIPv4 = keyType{7, 4}  // ipv4_addr
	keyIPv6 = keyType{8, 16} // ipv6_addr
	keyPort = keyType{13, 2} // inet_service
)

// setDef is a set as a NEWSET message declares it.
type setDef struct {
	name    string // "__set%d" for an anonymous set: the kernel names it
	id      uint32 // the batch's id for it: rules of the same batch refer to it by id
	key     keyType
	flags   uint32 // NFT_SET_*
	timeout time.Duration
	size    uint32 // maximum elements of a dynamic set
	count   uint32 // elements of a constant set (NFTA_SET_DESC)
}

// setObj converts one named set (without its elements).
func setObj(s *vw.Set, id uint32) (setDef, error) {
	o := setDef{name: s.Name, id: id, key: keyIPv4}
	if s.V6() {
		o.key = keyIPv6
	} else if s.Type != vw.SetIPv4 {
		return o, fmt.Errorf("set %s: unsupported type %q", s.Name, s.Type)
	}
	switch {
	case s.Dynamic:
		d, err := parseNftDuration(s.Timeout)
		if err != nil {
			return o, fmt.Errorf("set %s: %w", s.Name, err)
		}
		o.flags, o.timeout, o.size = unix.NFT_SET_TIMEOUT|unix.NFT_SET_EVAL, d, s.Size
	case s.Live:
		o.flags = unix.NFT_SET_TIMEOUT
		if s.Interval {
			o.flags |= unix.NFT_SET_INTERVAL
		}
	default:
		o.flags = unix.NFT_SET_INTERVAL
	}
	return o, nil
}

// parseNftDuration reads nft's durations: "1m", "30s", "1h30m", "2d".
func parseNftDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		if i == 0 || j == i {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		n, err := strconv.ParseUint(rest[:i], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[rest[i:j]]
		if unit == 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		total += time.Duration(n) * unit
		rest = rest[j:]
	}
	return total, nil
}

// formatNftDuration writes a duration as nft lists it ("1m", "1h30m").
func formatNftDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if d >= u.d {
			b.WriteString(strconv.FormatInt(int64(d/u.d), 10) + u.s)
			d %= u.d
		}
	}
	return b.String()
}

// anonSet is an anonymous constant interval set a rule looks ports up in.
type anonSet struct {
	set   setDef
	elems []elem
}

// ruleEncoder turns one IR rule into expressions.
type ruleEncoder struct {
	sets  map[string]uint32 // named sets by name: the batch's id of a new set, 0 for an existing one
	newID func() uint32     // allocates the id of an anonymous set
	anon  []anonSet
	nf    int   // network layer established by an earlier match: 0, 4 or 6
	l4    uint8 // transport protocol established by an earlier match
}

func ifname(name string) []byte {
	b := make([]byte, 16) // IFNAMSIZ: nft compares the whole padded name
	copy(b, name)
	return b
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func (e *ruleEncoder) nfproto(v6 bool) []expr.Any {
	fam := 4
	proto := byte(unix.NFPROTO_IPV4)
	if v6 {
		fam, proto = 6, unix.NFPROTO_IPV6
	}
	if e.nf == fam {
		return nil
	}
	e.nf = fam
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
}

func (e *ruleEncoder) l4proto(p lang.Proto) []expr.Any {
	if e.l4 == uint8(p) {
		return nil
	}
	e.l4 = uint8(p)
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{byte(p)}},
	}
}

func addrPayload(v6 bool, dir vw.Dir) *expr.Payload {
	p := &expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4}
	switch {
	case v6 && dir == vw.Src:
		p.Offset, p.Len = 8, 16
	case v6:
		p.Offset, p.Len = 24, 16
	case dir == vw.Dst:
		p.Offset = 16
	}
	return p
}

func (e *ruleEncoder) lookup(name string) *expr.Lookup {
	return &expr.Lookup{SourceRegister: 1, SetName: name, SetID: e.sets[name]}
}

var ctStates = map[string]uint32{"invalid": 1, "established": 2, "related": 4, "new": 8, "untracked": 64}

var limitUnits = map[string]expr.LimitTime{"second": expr.LimitTimeSecond, "minute": expr.LimitTimeMinute, "hour": expr.LimitTimeHour, "day": expr.LimitTimeDay, "week": expr.LimitTimeWeek}

// stmt appends the expressions of one statement.
func (e *ruleEncoder) stmt(out []expr.Any, s vw.Stmt) ([]expr.Any, error) {
	switch s := s.(type) {
	case vw.MatchIface:
		k := expr.MetaKeyIIFNAME
		if s.Out {
			k = expr.MetaKeyOIFNAME
		}
		op := expr.CmpOpEq
		if s.Neg {
			op = expr.CmpOpNeq
		}
		if len(s.Name) >= 16 {
			return nil, fmt.Errorf("interface name %q too long", s.Name)
		}
		return append(out, &expr.Meta{Key: k, Register: 1}, &expr.Cmp{Op: op, Register: 1, Data: ifname(s.Name)}), nil
	case vw.MatchCtState:
		var bits uint32
		for _, st := range s.States {
			b, ok := ctStates[st]
			if !ok {
				return nil, fmt.Errorf("unknown ct state %q", st)
			}
			bits |= b
		}
		return append(out,
			&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: binaryutil.NativeEndian.PutUint32(bits), Xor: binaryutil.NativeEndian.PutUint32(0)},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
		), nil
	case vw.MatchNfproto:
		e.nf = 0
		return append(out, e.nfproto(s.V6)...), nil
	case vw.MatchAddrSet:
		out = append(out, e.nfproto(s.V6)...)
		return append(out, addrPayload(s.V6, s.Dir), e.lookup(s.Set)), nil
	case vw.MatchPorts:
		if len(s.Ranges) == 0 {
			return nil, fmt.Errorf("port match without ports")
		}
		out = append(out, e.l4proto(s.Proto)...)
		off := uint32(2)
		if s.Dir == vw.Src {
			off = 0
		}
		out = append(out, &expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: 2})
		switch {
		case len(s.Ranges) == 1 && s.Ranges[0].First == s.Ranges[0].Last:
			return append(out, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: be16(s.Ranges[0].First)}), nil
		case len(s.Ranges) == 1:
			return append(out,
				&expr.Cmp{Op: expr.CmpOpGte, Register: 1, Data: be16(s.Ranges[0].First)},
				&expr.Cmp{Op: expr.CmpOpLte, Register: 1, Data: be16(s.Ranges[0].Last)},
			), nil
		}
		elems := portElements(s.Ranges)
		set := setDef{name: anonSetName, id: e.newID(), key: keyPort,
			flags: unix.NFT_SET_ANONYMOUS | unix.NFT_SET_CONSTANT | unix.NFT_SET_INTERVAL, count: uint32(len(elems))}
		e.anon = append(e.anon, anonSet{set: set, elems: elems})
		// The set is added just before the rule, in the same batch.
		return append(out, &expr.Lookup{SourceRegister: 1, SetName: set.name, SetID: set.id}), nil
	case vw.MeterLimit:
		unit, ok := limitUnits[s.Rate.Unit]
		if !ok {
			return nil, fmt.Errorf("unknown rate unit %q", s.Rate.Unit)
		}
		out = append(out, e.nfproto(s.V6)...)
		d := &expr.Dynset{SrcRegKey: 1, SetName: s.Set, Operation: unix.NFT_DYNSET_OP_UPDATE,
			Exprs: []expr.Any{&expr.Limit{Type: expr.LimitTypePkts, Rate: uint64(s.Rate.Count), Unit: unit, Over: true, Burst: s.Burst}}}
		d.SetID = e.sets[s.Set]
		return append(out, addrPayload(s.V6, vw.Src), d), nil
	case vw.Limit:
		unit, ok := limitUnits[s.Rate.Unit]
		if !ok {
			return nil, fmt.Errorf("unknown rate unit %q", s.Rate.Unit)
		}
		return append(out, &expr.Limit{Type: expr.LimitTypePkts, Rate: uint64(s.Rate.Count), Unit: unit, Burst: 5}), nil
	case vw.Log:
		// Level warn set explicitly: without it the kernel's listing
		// differs from what was sent and structural compares flap; nft
		// does not print it.
		return append(out, &expr.Log{Key: 1<<unix.NFTA_LOG_PREFIX | 1<<unix.NFTA_LOG_LEVEL, Level: expr.LogLevelWarning, Data: []byte(s.Prefix)}), nil
	case vw.Counter:
		return append(out, &expr.Counter{}), nil
	case vw.SetDSCP:
		v, ok := lang.DSCPValues[s.Class]
		if !ok {
			return nil, fmt.Errorf("unknown dscp class %q", s.Class)
		}
		out = append(out, e.nfproto(s.V6)...)
		tc := v << 2
		mask, xor := []byte{0xff, 0x03}, []byte{0x00, tc}
		csum, csumOff := expr.CsumTypeInet, uint32(10)
		if s.V6 {
			mask, xor = []byte{0xf0, 0x3f}, []byte{tc >> 4, tc << 4}
			csum, csumOff = expr.CsumTypeNone, 0
		}
		return append(out,
			&expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 0, Len: 2},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 2, Mask: mask, Xor: xor},
			&expr.Payload{OperationType: expr.PayloadWrite, SourceRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 0, Len: 2, CsumType: csum, CsumOffset: csumOff},
		), nil
	case vw.DNAT:
		if !s.Addr.IsValid() {
			return nil, fmt.Errorf("dnat without address")
		}
		fam := uint32(unix.NFPROTO_IPV4)
		if s.Addr.Is6() {
			fam = unix.NFPROTO_IPV6
		}
		return append(out,
			&expr.Immediate{Register: 1, Data: s.Addr.AsSlice()},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: fam, RegAddrMin: 1},
		), nil
	case vw.Verdict:
		switch s.Kind {
		case "accept":
			return append(out, &expr.Verdict{Kind: expr.VerdictAccept}), nil
		case "drop":
			return append(out, &expr.Verdict{Kind: expr.VerdictDrop}), nil
		case "jump":
			return append(out, &expr.Verdict{Kind: expr.VerdictJump, Chain: s.Chain}), nil
		case "goto":
			return append(out, &expr.Verdict{Kind: expr.VerdictGoto, Chain: s.Chain}), nil
		case "return":
			return append(out, &expr.Verdict{Kind: expr.VerdictReturn}), nil
		}
		return nil, fmt.Errorf("unknown verdict %q", s.Kind)
	}
	return nil, fmt.Errorf("unknown statement %T", s)
}

// ruleExprs encodes a rule; anonymous sets it needs are returned with it
// and must be added to the batch before the rule.
func ruleExprs(sets map[string]uint32, newID func() uint32, r *vw.Rule) ([]expr.Any, []anonSet, error) {
	e := &ruleEncoder{sets: sets, newID: newID}
	var out []expr.Any
	for _, s := range r.Stmts {
		var err error
		out, err = e.stmt(out, s)
		if err != nil {
			return nil, nil, fmt.Errorf("rule %s: %w", r.Key, err)
		}
	}
	return out, e.anon, nil
}

// commentData is the rule userdata nft writes for `comment "..."`.
func commentData(c string) []byte {
	if c == "" {
		return nil
	}
	return userdata.AppendString(nil, userdata.TypeComment, c)
}

// ruleKindType is the rule userdata TLV voicewall keeps the abstract
// rule's kind in (lang.RuleKind), so that status knows it without the
// policy and without reading it out of the rule's name. nft ignores
// userdata types it does not know: the listing is unchanged.
const ruleKindType = 0x77

// ruleData is a rule's userdata: its comment and its kind.
func ruleData(r *vw.Rule) []byte {
	b := commentData(r.Comment)
	if r.Source != nil && r.Source.Kind != "" {
		b = userdata.AppendString(b, ruleKindType, string(r.Source.Kind))
	}
	return b
}

// elemFlagOpen is the element userdata nft attaches to an interval that
// runs to the end of the key space (no end element can be sent for it):
// NFTNL_UDATA_SET_ELEM_FLAGS = NFTNL_SET_ELEM_F_INTERVAL_OPEN.
var elemFlagOpen = binary.NativeEndian.AppendUint32([]byte{1, 4}, 1)

// portElements spells port ranges as nft does for an anonymous interval
// set: a leading end marker at 0 unless the first range starts at 0, then
// [first, last+1) pairs; a range ending at 65535 is left open.
func portElements(rs []lang.PortRange) []elem {
	var out []elem
	if len(rs) > 0 && rs[0].First != 0 {
		out = append(out, elem{key: be16(0), end: true})
	}
	for _, r := range rs {
		if r.Last == 0xffff {
			out = append(out, elem{key: be16(r.First)})
			continue
		}
		out = append(out, elem{key: be16(r.First)}, elem{key: be16(r.Last + 1), end: true})
	}
	markOpen(out)
	return out
}

// anonSetName is the name an anonymous set is created with: the kernel
// replaces %d with a number of its own (nf_tables_set_alloc_name), as for
// the sets nft creates.
const anonSetName = "__set%d"
