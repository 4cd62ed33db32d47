package live

import (
	"fmt"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	nft "github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

// builder assembles one batch. google/nftables builds the messages of
// tables, chains, sets and rules: a Conn whose test dial records what it
// would send (a dry run) instead of talking to the kernel. Set elements are
// encoded directly (elements.go). Messages keep the order they were queued.
type builder struct {
	conn    *nft.Conn
	pending []netlink.Message
	msgs    []Msg
	t       *nft.Table
	sets    map[string]*nft.Set // named sets by name
	chains  map[string]*nft.Chain
}

func newBuilder() *builder {
	b := &builder{t: tableObj(), sets: map[string]*nft.Set{}, chains: map[string]*nft.Chain{}}
	c, err := nft.New(nft.WithTestDial(b.record))
	if err != nil {
		panic(err) // New only fails for lasting connections
	}
	b.conn = c
	return b
}

var ackMsg = []netlink.Message{{Header: netlink.Header{Type: netlink.Error}, Data: make([]byte, 4+16)}}

// record is the test dial: requests are kept, every receive is an ack.
func (b *builder) record(req []netlink.Message) ([]netlink.Message, error) {
	if req == nil {
		return ackMsg, nil
	}
	for _, m := range req {
		switch m.Header.Type {
		case netlink.HeaderType(unix.NFNL_MSG_BATCH_BEGIN), netlink.HeaderType(unix.NFNL_MSG_BATCH_END):
			continue
		}
		b.pending = append(b.pending, m)
	}
	return nil, nil
}

// take moves what the Conn queued into the batch, described by what.
func (b *builder) take(what string) error {
	if err := b.conn.Flush(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for _, m := range b.pending {
		b.msgs = append(b.msgs, Msg{Type: uint16(m.Header.Type), Flags: uint16(m.Header.Flags), Data: m.Data, What: what})
	}
	b.pending = b.pending[:0]
	return nil
}

// addTable creates the table; its userdata carries voicewall's identity
// nonce (see cache.go), which nft ignores when listing.
func (b *builder) addTable(nonce []byte) {
	d := nlwire.Nfgenmsg(unix.NFPROTO_INET, 0)
	d = nlwire.AppendStrAttr(d, unix.NFTA_TABLE_NAME, vw.TableName)
	d = nlwire.AppendU32Attr(d, unix.NFTA_TABLE_FLAGS, 0)
	if nonce != nil {
		d = nlwire.AppendAttr(d, nlwire.NftaTableUserdata, nonceUserdata(nonce))
	}
	b.msgs = append(b.msgs, Msg{Type: nlwire.NftType(unix.NFT_MSG_NEWTABLE), Flags: nlwire.FlagRequest | nlwire.FlagAck | unix.NLM_F_CREATE, Data: d, What: "add table inet " + vw.TableName})
}

func (b *builder) delTable() error {
	b.conn.DelTable(b.t)
	return b.take("delete table inet " + vw.TableName)
}

func (b *builder) addChain(c *vw.Chain) error {
	o, err := chainObj(b.t, c)
	if err != nil {
		return err
	}
	b.chains[c.Name] = o
	b.conn.AddChain(o)
	return b.take("add chain " + c.Name)
}

func (b *builder) chain(name string) *nft.Chain {
	if c := b.chains[name]; c != nil {
		return c
	}
	c := &nft.Chain{Name: name, Table: b.t}
	b.chains[name] = c
	return c
}

func (b *builder) delChain(name string) error {
	b.conn.DelChain(b.chain(name))
	return b.take("delete chain " + name)
}

// addSet creates a named set with all its elements.
func (b *builder) addSet(s *vw.Set) error {
	o, err := setObj(b.t, s)
	if err != nil {
		return err
	}
	if err := b.conn.AddSet(o, nil); err != nil {
		return fmt.Errorf("set %s: %w", s.Name, err)
	}
	b.sets[s.Name] = o
	if err := b.take("add set " + s.Name); err != nil {
		return err
	}
	if !s.Dynamic && len(s.Elements) > 0 {
		b.msgs = append(b.msgs, elemMsgs(true, s.Name, o.ID, setElems(s), "new set")...)
	}
	return nil
}

func (b *builder) delSet(name string) error {
	b.conn.DelSet(&nft.Set{Table: b.t, Name: name})
	return b.take("delete set " + name)
}

// existingSet registers a set that already exists in the kernel (rules
// look it up by name).
func (b *builder) existingSet(name string) {
	if b.sets[name] == nil {
		b.sets[name] = &nft.Set{Table: b.t, Name: name}
	}
}

// setDelta queues the element changes of an existing interval set:
// removals first, then additions, each in ascending order.
func (b *builder) setDelta(name string, v6 bool, d SetDelta) {
	var del, add []elem
	if d.DelMarker {
		del = append(del, markerElem(v6))
	}
	del = rangeElems(del, d.Del)
	if d.AddMarker {
		add = append(add, markerElem(v6))
	}
	add = rangeElems(add, d.Add)
	if len(del) > 0 {
		b.msgs = append(b.msgs, elemMsgs(false, name, 0, del, fmt.Sprintf("%d ranges removed", len(d.Del)))...)
	}
	if len(add) > 0 {
		b.msgs = append(b.msgs, elemMsgs(true, name, 0, add, fmt.Sprintf("%d ranges added", len(d.Add)))...)
	}
}

// rulePos says where a new rule goes: appended to the chain (both zero),
// in place of the rule with handle Replace, or before the rule with handle
// Before.
type rulePos struct {
	Replace uint64
	Before  uint64
}

// addRule queues a rule (and the anonymous sets it needs, just before it).
func (b *builder) addRule(chain string, r *vw.Rule, pos rulePos) error {
	exprs, anon, err := ruleExprs(b.t, b.sets, r)
	if err != nil {
		return err
	}
	for _, a := range anon {
		if err := b.conn.AddSet(a.set, a.elems); err != nil {
			return fmt.Errorf("rule %s: anonymous set: %w", r.Key, err)
		}
		// google/nftables cannot mark an open interval (a port range
		// ending at 65535) the way nft does: send our own elements.
		if err := b.conn.Flush(); err != nil {
			return err
		}
		if n := len(b.pending); n > 0 && b.pending[n-1].Header.Type == netlink.HeaderType(nlwire.NftType(unix.NFT_MSG_NEWSETELEM)) {
			b.pending = b.pending[:n-1]
		}
		if err := b.take("add anonymous set for rule " + r.Key); err != nil {
			return err
		}
		es := make([]elem, len(a.elems))
		for i, e := range a.elems {
			es[i] = elem{key: e.Key, end: e.IntervalEnd}
		}
		markOpen(es)
		b.msgs = append(b.msgs, elemMsgs(true, a.set.Name, a.set.ID, es, "anonymous set of rule "+r.Key)...)
		for _, x := range exprs {
			if l, ok := x.(*expr.Lookup); ok && l.SetName == "__set%d" && l.SetID == 0 {
				l.SetID = a.set.ID
				break
			}
		}
	}
	nr := &nft.Rule{Table: b.t, Chain: b.chain(chain), Exprs: exprs, UserData: ruleData(r)}
	verb := "add"
	switch {
	case pos.Replace != 0:
		nr.Handle = pos.Replace
		b.conn.ReplaceRule(nr)
		verb = "replace"
	case pos.Before != 0:
		nr.Position = pos.Before
		b.conn.InsertRule(nr)
		verb = "insert"
	default:
		b.conn.AddRule(nr)
	}
	return b.take(fmt.Sprintf("%s rule %s in chain %s", verb, r.Key, chain))
}

// markOpen flags a final start element without an end as an open interval.
func markOpen(es []elem) {
	if n := len(es); n > 0 && !es[n-1].end {
		es[n-1].open = true
	}
}

func (b *builder) delRule(chain string, handle uint64, key string) error {
	if err := b.conn.DelRule(&nft.Rule{Table: b.t, Chain: b.chain(chain), Handle: handle}); err != nil {
		return err
	}
	return b.take(fmt.Sprintf("delete rule %s (handle %d) in chain %s", key, handle, chain))
}

// CreateMsgs is the batch that creates the whole table in an empty
// namespace, in the order `nft -f` uses: table, chains, sets with their
// elements, then rules (an anonymous set just before the rule using it).
func CreateMsgs(t *vw.Table, nonce []byte) ([]Msg, error) {
	b := newBuilder()
	if err := b.create(t, nonce); err != nil {
		return nil, err
	}
	return b.msgs, nil
}

func (b *builder) create(t *vw.Table, nonce []byte) error {
	b.addTable(nonce)
	for _, c := range t.Chains {
		if err := b.addChain(c); err != nil {
			return err
		}
	}
	for _, s := range t.Sets {
		if err := b.addSet(s); err != nil {
			return err
		}
	}
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			if err := b.addRule(c.Name, r, rulePos{}); err != nil {
				return err
			}
		}
	}
	return nil
}
