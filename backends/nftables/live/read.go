package live

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

// State is what the kernel holds for table inet voicewall, read through
// netlink, in a form comparable with the compiler's Table.
type State struct {
	GenID  uint32 // ruleset generation the read saw (stable during the read)
	Exists bool   // the table exists
	// Nonce is the identity voicewall stored in the table's userdata when
	// it created it (nil for a table made by someone else).
	Nonce  []byte
	Chains []*LiveChain // kernel order
	Sets   []*LiveSet   // named sets, kernel order
	// CacheHit reports that set elements were taken from voicewall's state
	// cache (valid because the generation and table identity match) rather
	// than dumped from the kernel.
	CacheHit bool
	// Foreign reports that the cache entry was written at an earlier
	// generation, and the table's structure and set element counts show
	// that only other tables changed since (structure.go).
	Foreign bool
	// Flags are the table's flags (dormant, owner...).
	Flags uint32
	// Untrusted says why the state cache was not used although it exists
	// (its dir or file can be written by others).
	Untrusted string
	// ReadTime is how long reading took.
	ReadTime time.Duration
}

// LiveChain is a chain as read back.
type LiveChain struct {
	Name     string
	Handle   uint64
	Type     string // "" for a regular chain
	Hook     string
	PrioNum  int32
	Policy   string
	HookNum  uint32
	Rules    []*LiveRule
	hookSeen bool
}

// Base reports whether the chain is attached to a hook.
func (c *LiveChain) Base() bool { return c.hookSeen }

// LiveRule is a rule as read back.
type LiveRule struct {
	Handle  uint64
	Comment string
	Key     string // vw.KeyOf(Comment)
	// Kind is the abstract rule's kind voicewall stored with the rule
	// ("" for rules applied before it did, and helper rules).
	Kind string
	// Stmts is the rule decoded into the compiler's statements; nil with
	// DecodeErr set when the expressions are not voicewall's spelling of
	// any statement (the rule is then replaced).
	Stmts     []vw.Stmt
	DecodeErr error
	Packets   uint64 // summed over the rule's counters
	Bytes     uint64
}

// Text is the rule as nft lists it (counters at zero), or a note when it
// could not be decoded.
func (r *LiveRule) Text() string {
	if r.DecodeErr != nil {
		s := "(not in voicewall's form: " + r.DecodeErr.Error() + ")"
		if r.Comment != "" {
			s += ` comment "` + r.Comment + `"`
		}
		return s
	}
	return vw.RuleText(&vw.Rule{Stmts: r.Stmts, Comment: r.Comment})
}

// LiveSet is a named set as read back.
type LiveSet struct {
	Name   string
	Handle uint64
	// Count is the kernel's element count (NFTA_SET_COUNT: intervals, the
	// end elements not counted); HasCount is false on kernels that do not
	// report it.
	Count    uint32
	HasCount bool
	Type     vw.SetType // "" for a key type voicewall does not use
	KeyType  uint32
	Flags    uint32
	Interval bool
	Dynamic  bool
	// Live: a run-time set (flags timeout, not a meter): its elements are
	// bans or trusted phones, never read as policy content.
	Live      bool
	Timeout   time.Duration
	Size      uint32
	Anonymous bool
	// Content holds the elements of interval sets (nil for dynamic sets,
	// whose elements are the meter's state).
	Content *SetContent
	// Entries of a dynamic set: the sources a meter tracks now (read with
	// ReadOptions.MeterEntries).
	Entries int
	// Ports holds the elements of an anonymous port set.
	Ports [][2]uint16
}

// Definition is the set's header as nft lists it (without elements).
func (s *LiveSet) Definition() string {
	d := "type " + string(s.Type)
	if s.Type == "" {
		d = fmt.Sprintf("type #%d", s.KeyType)
	}
	if s.Dynamic {
		d += fmt.Sprintf(" size %d flags dynamic,timeout timeout %s", s.Size, formatNftDuration(s.Timeout))
	} else if s.Live && s.Interval {
		d += " flags interval,timeout"
	} else if s.Live {
		d += " flags timeout"
	} else if s.Interval {
		d += " flags interval"
	}
	if extra := s.Flags &^ (unix.NFT_SET_INTERVAL | unix.NFT_SET_TIMEOUT | unix.NFT_SET_EVAL); extra != 0 {
		d += fmt.Sprintf(" flags 0x%x", s.Flags)
	}
	return d
}

// Chain returns the chain with that name, or nil.
func (s *State) Chain(name string) *LiveChain {
	for _, c := range s.Chains {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Set returns the named set, or nil.
func (s *State) Set(name string) *LiveSet {
	for _, x := range s.Sets {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// ReadOptions tune Read.
type ReadOptions struct {
	// NoCache forces a full dump of every set (ignores the state cache).
	NoCache bool
	// SkipElements leaves interval set contents unread (status).
	SkipElements bool
	// MeterEntries counts the elements of dynamic sets (a meter's tracked
	// sources) into LiveSet.Entries, for monitoring; plan and apply do
	// not need them.
	MeterEntries bool
}

// Read reads table inet voicewall from the target's namespace. The read is
// consistent: the generation id is read before and after, and the read is
// repeated when something committed in between.
func Read(t *Target, opts ReadOptions) (*State, error) {
	start := time.Now()
	s, err := nlwire.Open(t.FD(), BufferSize)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		g0, err := nlwire.GenID(s)
		if err != nil {
			return nil, err
		}
		st, err := readOnce(t, s, g0, opts)
		if err != nil {
			lastErr = err
			// A table changed under us makes dumps fail (EINTR from
			// an interrupted dump, ENOENT for a vanished chain).
			if g1, gerr := nlwire.GenID(s); gerr == nil && g1 != g0 {
				continue
			}
			return nil, err
		}
		g1, err := nlwire.GenID(s)
		if err != nil {
			return nil, err
		}
		if g1 == g0 {
			st.ReadTime = time.Since(start)
			return st, nil
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, errors.New("the ruleset kept changing while it was read; try again")
}

// nonceType is the table userdata TLV voicewall keeps its table identity
// in. nft ignores userdata types it does not know, so the listing is
// unchanged.
const nonceType = 0x76

func newNonce() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b
}

func nonceUserdata(n []byte) []byte {
	return userdata.Append(nil, nonceType, n)
}

func readTable(s *nlwire.Sock) (exists bool, nonce []byte, err error) {
	exists, nonce, _, err = readTableFlags(s)
	return exists, nonce, err
}

// readTableFlags is readTable that also returns the table's flags.
func readTableFlags(s *nlwire.Sock) (exists bool, nonce []byte, flags uint32, err error) {
	req := nlwire.Nfgenmsg(unix.NFPROTO_INET, 0)
	req = nlwire.AppendStrAttr(req, unix.NFTA_TABLE_NAME, vw.TableName)
	seq := s.NextSeq()
	if err := s.Send(nlwire.AppendMsg(nil, nlwire.NftType(unix.NFT_MSG_GETTABLE), nlwire.FlagRequest|nlwire.FlagAck, seq, req)); err != nil {
		return false, nil, 0, err
	}
	for {
		msgs, err := s.Recv()
		if err != nil {
			return false, nil, 0, err
		}
		for _, m := range msgs {
			if m.Seq != seq {
				continue
			}
			if m.Type == unix.NLMSG_ERROR {
				errno, _, _ := nlwire.NLError(m)
				switch errno {
				case 0:
					return exists, nonce, flags, nil
				case unix.ENOENT:
					return false, nil, 0, nil
				}
				return false, nil, 0, fmt.Errorf("read table: %w", errno)
			}
			if m.Type == nlwire.NftType(unix.NFT_MSG_NEWTABLE) && len(m.Data) >= 4 {
				exists = true
				for _, a := range nlwire.ParseAttrs(m.Data[4:]) {
					if a.Type == unix.NFTA_TABLE_FLAGS {
						flags = nlwire.BE32(a.Data)
					}
					if a.Type == nlwire.NftaTableUserdata {
						if v, ok := udataGet(a.Data, nonceType); ok && len(v) == 16 {
							nonce = bytes.Clone(v)
						}
					}
				}
			}
		}
	}
}

func readChains(s *nlwire.Sock) ([]*LiveChain, error) {
	req := nlwire.Nfgenmsg(unix.NFPROTO_INET, 0)
	req = nlwire.AppendStrAttr(req, unix.NFTA_CHAIN_TABLE, vw.TableName)
	var out []*LiveChain
	err := s.Dump(nlwire.NftType(unix.NFT_MSG_GETCHAIN), req, func(m nlwire.Message) error {
		if m.Type != nlwire.NftType(unix.NFT_MSG_NEWCHAIN) || len(m.Data) < 4 || m.Data[0] != unix.NFPROTO_INET {
			return nil
		}
		lc := &LiveChain{}
		var table string
		for _, a := range nlwire.ParseAttrs(m.Data[4:]) {
			switch a.Type {
			case unix.NFTA_CHAIN_TABLE:
				table = nlwire.CString(a.Data)
			case unix.NFTA_CHAIN_NAME:
				lc.Name = nlwire.CString(a.Data)
			case unix.NFTA_CHAIN_HANDLE:
				lc.Handle = nlwire.BE64(a.Data)
			case unix.NFTA_CHAIN_TYPE:
				lc.Type = nlwire.CString(a.Data)
			case unix.NFTA_CHAIN_POLICY:
				lc.Policy = "accept"
				if nlwire.BE32(a.Data) == 0 { // NF_DROP
					lc.Policy = "drop"
				}
			case unix.NFTA_CHAIN_HOOK:
				lc.hookSeen = true
				for _, h := range nlwire.ParseAttrs(a.Data) {
					switch h.Type {
					case unix.NFTA_HOOK_HOOKNUM:
						lc.HookNum = nlwire.BE32(h.Data)
					case unix.NFTA_HOOK_PRIORITY:
						lc.PrioNum = int32(nlwire.BE32(h.Data))
					}
				}
			}
		}
		if table != vw.TableName {
			return nil
		}
		if lc.hookSeen {
			lc.Hook = hookNames[lc.HookNum]
			if lc.Hook == "" {
				lc.Hook = fmt.Sprintf("hook#%d", lc.HookNum)
			}
		} else {
			lc.Type, lc.Policy = "", ""
		}
		out = append(out, lc)
		return nil
	})
	return out, err
}

func readRules(s *nlwire.Sock, st *State, anon map[string]*LiveSet) error {
	req := nlwire.Nfgenmsg(unix.NFPROTO_INET, 0)
	req = nlwire.AppendStrAttr(req, unix.NFTA_RULE_TABLE, vw.TableName)
	return s.Dump(nlwire.NftType(unix.NFT_MSG_GETRULE), req, func(m nlwire.Message) error {
		if m.Type != nlwire.NftType(unix.NFT_MSG_NEWRULE) || len(m.Data) < 4 || m.Data[0] != unix.NFPROTO_INET {
			return nil
		}
		var table, chain string
		var exprData []byte
		lr := &LiveRule{}
		for _, a := range nlwire.ParseAttrs(m.Data[4:]) {
			switch a.Type {
			case unix.NFTA_RULE_TABLE:
				table = nlwire.CString(a.Data)
			case unix.NFTA_RULE_CHAIN:
				chain = nlwire.CString(a.Data)
			case unix.NFTA_RULE_HANDLE:
				lr.Handle = nlwire.BE64(a.Data)
			case unix.NFTA_RULE_EXPRESSIONS:
				exprData = a.Data
			case unix.NFTA_RULE_USERDATA:
				if cm, ok := udataString(a.Data, byte(userdata.TypeComment)); ok {
					lr.Comment = cm
					lr.Key = vw.KeyOf(cm)
				}
				if k, ok := udataString(a.Data, ruleKindType); ok {
					lr.Kind = k
				}
			}
		}
		if table != vw.TableName {
			return nil
		}
		lc := st.Chain(chain)
		if lc == nil {
			return fmt.Errorf("rule %d in unknown chain %q", lr.Handle, chain)
		}
		exprs, err := parseExprs(exprData)
		if err == nil {
			for _, e := range exprs {
				if ctr, ok := e.(*expr.Counter); ok {
					lr.Packets += ctr.Packets
					lr.Bytes += ctr.Bytes
				}
			}
			lr.Stmts, lr.DecodeErr = decodeRule(exprs, anon)
		} else {
			lr.DecodeErr = err
		}
		lc.Rules = append(lc.Rules, lr)
		return nil
	})
}

func readSets(s *nlwire.Sock) ([]*LiveSet, error) {
	req := nlwire.Nfgenmsg(unix.NFPROTO_INET, 0)
	req = nlwire.AppendStrAttr(req, unix.NFTA_SET_TABLE, vw.TableName)
	var out []*LiveSet
	err := s.Dump(nlwire.NftType(unix.NFT_MSG_GETSET), req, func(m nlwire.Message) error {
		if m.Type != nlwire.NftType(unix.NFT_MSG_NEWSET) || len(m.Data) < 4 {
			return nil
		}
		ls := &LiveSet{}
		var table string
		for _, a := range nlwire.ParseAttrs(m.Data[4:]) {
			switch a.Type {
			case unix.NFTA_SET_TABLE:
				table = nlwire.CString(a.Data)
			case unix.NFTA_SET_NAME:
				ls.Name = nlwire.CString(a.Data)
			case nlwire.NftaSetHandle:
				ls.Handle = nlwire.BE64(a.Data)
			case nlwire.NftaSetCount:
				ls.Count, ls.HasCount = nlwire.BE32(a.Data), true
			case unix.NFTA_SET_FLAGS:
				ls.Flags = nlwire.BE32(a.Data)
			case unix.NFTA_SET_KEY_TYPE:
				ls.KeyType = nlwire.BE32(a.Data)
			case unix.NFTA_SET_TIMEOUT:
				ls.Timeout = time.Duration(nlwire.BE64(a.Data)) * time.Millisecond
			case unix.NFTA_SET_DESC:
				for _, d := range nlwire.ParseAttrs(a.Data) {
					if d.Type == unix.NFTA_SET_DESC_SIZE {
						ls.Size = nlwire.BE32(d.Data)
					}
				}
			}
		}
		if table != "" && table != vw.TableName {
			return nil
		}
		switch ls.KeyType {
		case 7:
			ls.Type = vw.SetIPv4
		case 8:
			ls.Type = vw.SetIPv6
		}
		ls.Anonymous = ls.Flags&unix.NFT_SET_ANONYMOUS != 0
		ls.Interval = ls.Flags&unix.NFT_SET_INTERVAL != 0
		ls.Dynamic = ls.Flags&unix.NFT_SET_EVAL != 0
		ls.Live = !ls.Dynamic && !ls.Anonymous && ls.Flags&unix.NFT_SET_TIMEOUT != 0
		if ls.Live && ls.Timeout != 0 {
			ls.Live = false // voicewall's run-time sets carry no default timeout
		}
		out = append(out, ls)
		return nil
	})
	return out, err
}

var hookNames = map[uint32]string{
	unix.NF_INET_PRE_ROUTING:  "prerouting",
	unix.NF_INET_LOCAL_IN:     "input",
	unix.NF_INET_FORWARD:      "forward",
	unix.NF_INET_LOCAL_OUT:    "output",
	unix.NF_INET_POST_ROUTING: "postrouting",
}

func readOnce(t *Target, s *nlwire.Sock, gen uint32, opts ReadOptions) (*State, error) {
	st := &State{GenID: gen}
	var err error
	st.Exists, st.Nonce, st.Flags, err = readTableFlags(s)
	if err != nil || !st.Exists {
		return st, err
	}
	sets, err := readSets(s)
	if err != nil {
		return nil, fmt.Errorf("read sets: %w", err)
	}
	anon := map[string]*LiveSet{}
	for _, ls := range sets {
		if ls.Anonymous {
			anon[ls.Name] = ls
			es, err := dumpSetElems(s, ls.Name)
			if err != nil {
				return nil, fmt.Errorf("read set %s: %w", ls.Name, err)
			}
			ls.Ports = portRanges(es)
			continue
		}
		st.Sets = append(st.Sets, ls)
	}

	// Chains, then every rule of the table in one dump. Expressions are
	// decoded with google/nftables' types (exprs.go), strictly: an
	// expression it does not know fails the rule's decoding instead of
	// being skipped.
	if st.Chains, err = readChains(s); err != nil {
		return nil, fmt.Errorf("read chains: %w", err)
	}
	if err := readRules(s, st, anon); err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}

	if opts.MeterEntries {
		for _, ls := range st.Sets {
			if ls.Dynamic || ls.Live {
				es, err := dumpSetElems(s, ls.Name)
				if err != nil {
					return nil, fmt.Errorf("read set %s: %w", ls.Name, err)
				}
				for _, e := range es {
					if !e.end { // an interval's end element is not an entry
						ls.Entries++
					}
				}
			}
		}
	}
	if opts.SkipElements {
		return st, nil
	}
	var cached *cacheFile
	if !opts.NoCache && st.Nonce != nil {
		f, distrust := loadTrustedCacheAny(st.Nonce)
		if distrust != nil {
			st.Untrusted = distrust.Error() + "; set contents were read from the kernel instead"
		}
		switch {
		case f == nil:
		case f.genid == gen:
			cached = f
		case f.structure != [32]byte{}:
			// Others committed since the entry was written: it still
			// holds when table inet voicewall did not change
			// (structure.go).
			if d, ok := structDigest(st); ok && d == f.structure {
				cached, st.Foreign = f, true
			}
		}
	}
	for _, ls := range st.Sets {
		if ls.Dynamic || ls.Live || !ls.Interval || ls.Type == "" {
			continue
		}
		if cached != nil {
			if cs := cached.set(ls.Name); cs != nil {
				ls.Content = cs.content()
				continue
			}
		}
		es, err := dumpSetElems(s, ls.Name)
		if err != nil {
			return nil, fmt.Errorf("read set %s: %w", ls.Name, err)
		}
		c := normalize(es, ls.Type == vw.SetIPv6)
		ls.Content = &c
	}
	st.CacheHit = cached != nil
	return st, nil
}

// portRanges reads an anonymous inet_service interval set back.
func portRanges(es []elem) [][2]uint16 {
	type pe struct {
		v   uint32
		end bool
	}
	ps := make([]pe, 0, len(es))
	for _, e := range es {
		if len(e.key) != 2 {
			continue
		}
		ps = append(ps, pe{uint32(e.key[0])<<8 | uint32(e.key[1]), e.end})
	}
	// Ascending; at one value an end sorts first.
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0; j-- {
			a, b := ps[j-1], ps[j]
			if a.v > b.v || (a.v == b.v && !a.end && b.end) {
				ps[j-1], ps[j] = b, a
			} else {
				break
			}
		}
	}
	var out [][2]uint16
	for i := 0; i < len(ps); i++ {
		if ps[i].end {
			continue // the marker at 0
		}
		if i+1 < len(ps) && ps[i+1].end {
			out = append(out, [2]uint16{uint16(ps[i].v), uint16(ps[i+1].v - 1)})
			i++
			continue
		}
		out = append(out, [2]uint16{uint16(ps[i].v), 0xffff})
	}
	return out
}

// udataGet finds a TLV in userdata (one type byte, one length byte). Unlike
// userdata.Get it checks each length: a rule someone else wrote into the
// table may carry any bytes.
func udataGet(b []byte, typ byte) ([]byte, bool) {
	for len(b) >= 2 {
		n := int(b[1])
		if len(b) < 2+n {
			return nil, false
		}
		if b[0] == typ {
			return b[2 : 2+n], true
		}
		b = b[2+n:]
	}
	return nil, false
}

// udataString is a NUL-terminated string TLV.
func udataString(b []byte, typ byte) (string, bool) {
	v, ok := udataGet(b, typ)
	if !ok {
		return "", false
	}
	return string(bytes.TrimSuffix(v, []byte{0})), true
}
