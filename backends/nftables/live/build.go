package live

import (
	"encoding/binary"
	"fmt"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

// builder assembles one batch. Every message is encoded here on nlwire's
// attribute writer, in the order it is queued; a rule's expressions are
// encoded by google/nftables' public expression encoder (expr.Marshal), and
// set elements by elements.go.
type builder struct {
	msgs []Msg
	// sets are the named sets rules may refer to, by name: the batch's id
	// of a set created in it, 0 for a set the kernel already holds.
	sets   map[string]uint32
	lastID uint32 // the last set id allocated in this batch
}

func newBuilder() *builder {
	return &builder{sets: map[string]uint32{}}
}

// newID allocates a set id: unique within the batch, which is all the
// kernel asks of it (NFTA_SET_ID names a set not committed yet).
func (b *builder) newID() uint32 {
	b.lastID++
	return b.lastID
}

const (
	flagsNew = nlwire.FlagRequest | nlwire.FlagAck | unix.NLM_F_CREATE
	flagsDel = nlwire.FlagRequest | nlwire.FlagAck
)

// msg queues one message of voicewall's table (family inet): data holds
// its attributes.
func (b *builder) msg(typ int, flags uint16, what string, data []byte) {
	b.msgs = append(b.msgs, Msg{Type: nlwire.NftType(typ), Flags: flags, Data: data, What: what})
}

// inet starts a message's payload: the nfgenmsg of family inet.
func inet() []byte { return nlwire.Nfgenmsg(unix.NFPROTO_INET, 0) }

// addTable creates the table; its userdata carries voicewall's identity
// nonce (see cache.go), which nft ignores when listing.
func (b *builder) addTable(nonce []byte) {
	d := nlwire.AppendStrAttr(inet(), unix.NFTA_TABLE_NAME, vw.TableName)
	d = nlwire.AppendU32Attr(d, unix.NFTA_TABLE_FLAGS, 0)
	if nonce != nil {
		d = nlwire.AppendAttr(d, nlwire.NftaTableUserdata, nonceUserdata(nonce))
	}
	b.msg(unix.NFT_MSG_NEWTABLE, flagsNew, "add table inet "+vw.TableName, d)
}

func (b *builder) delTable() {
	d := nlwire.AppendStrAttr(inet(), unix.NFTA_TABLE_NAME, vw.TableName)
	d = nlwire.AppendU32Attr(d, unix.NFTA_TABLE_FLAGS, 0)
	b.msg(unix.NFT_MSG_DELTABLE, flagsDel, "delete table inet "+vw.TableName, d)
}

// chainName starts a chain message: the table and the chain's name.
func chainName(name string) []byte {
	d := nlwire.AppendStrAttr(inet(), unix.NFTA_CHAIN_TABLE, vw.TableName)
	return nlwire.AppendStrAttr(d, unix.NFTA_CHAIN_NAME, name)
}

func (b *builder) addChain(c *vw.Chain) error {
	o, err := chainObj(c)
	if err != nil {
		return err
	}
	d := chainName(o.name)
	if o.base {
		var hook int
		d, hook = nlwire.BeginNested(d, unix.NFTA_CHAIN_HOOK)
		d = nlwire.AppendU32Attr(d, unix.NFTA_HOOK_HOOKNUM, o.hook)
		d = nlwire.AppendU32Attr(d, unix.NFTA_HOOK_PRIORITY, uint32(o.prio))
		d = nlwire.EndNested(d, hook)
		policy := uint32(1) // NF_ACCEPT
		if o.drop {
			policy = 0 // NF_DROP
		}
		d = nlwire.AppendU32Attr(d, unix.NFTA_CHAIN_POLICY, policy)
		d = nlwire.AppendStrAttr(d, unix.NFTA_CHAIN_TYPE, o.typ)
	}
	b.msg(unix.NFT_MSG_NEWCHAIN, flagsNew, "add chain "+c.Name, d)
	return nil
}

func (b *builder) delChain(name string) {
	b.msg(unix.NFT_MSG_DELCHAIN, flagsDel, "delete chain "+name, chainName(name))
}

// setKeyByteOrder is the set userdata nft writes for interval and constant
// sets: the key is in network byte order (NFTNL_UDATA_SET_KEYBYTEORDER = 2,
// big endian), so `nft list` prints the elements as addresses and ports.
var setKeyByteOrder = userdata.AppendUint32(nil, userdata.NFTNL_UDATA_SET_KEYBYTEORDER, 2)

// setMsg queues the NEWSET message of a set (without its elements).
func (b *builder) setMsg(o setDef, what string) {
	d := nlwire.AppendStrAttr(inet(), unix.NFTA_SET_TABLE, vw.TableName)
	d = nlwire.AppendStrAttr(d, unix.NFTA_SET_NAME, o.name)
	d = nlwire.AppendU32Attr(d, unix.NFTA_SET_FLAGS, o.flags)
	d = nlwire.AppendU32Attr(d, unix.NFTA_SET_KEY_TYPE, o.key.magic)
	d = nlwire.AppendU32Attr(d, unix.NFTA_SET_KEY_LEN, o.key.len)
	d = nlwire.AppendU32Attr(d, unix.NFTA_SET_ID, o.id)
	if o.flags&unix.NFT_SET_TIMEOUT != 0 && o.timeout != 0 {
		d = nlwire.AppendAttr(d, unix.NFTA_SET_TIMEOUT, binary.BigEndian.AppendUint64(nil, uint64(o.timeout.Milliseconds())))
	}
	if o.flags&unix.NFT_SET_CONSTANT != 0 {
		d = setDesc(d, o.count)
	}
	if o.size > 0 {
		d = setDesc(d, o.size)
	}
	if o.flags&(unix.NFT_SET_ANONYMOUS|unix.NFT_SET_CONSTANT|unix.NFT_SET_INTERVAL) != 0 {
		d = nlwire.AppendAttr(d, unix.NFTA_SET_USERDATA, setKeyByteOrder)
	}
	b.msg(unix.NFT_MSG_NEWSET, flagsNew, what, d)
}

// setDesc appends a set description of n elements: a constant set's
// elements, a dynamic set's maximum.
func setDesc(d []byte, n uint32) []byte {
	d, desc := nlwire.BeginNested(d, unix.NFTA_SET_DESC)
	d = nlwire.AppendU32Attr(d, unix.NFTA_SET_DESC_SIZE, n)
	return nlwire.EndNested(d, desc)
}

// addSet creates a named set with all its elements.
func (b *builder) addSet(s *vw.Set) error {
	o, err := setObj(s, b.newID())
	if err != nil {
		return err
	}
	b.sets[s.Name] = o.id
	b.setMsg(o, "add set "+s.Name)
	if !s.Dynamic && len(s.Elements) > 0 {
		b.msgs = append(b.msgs, elemMsgs(true, s.Name, o.id, setElems(s), "new set")...)
	}
	return nil
}

func (b *builder) delSet(name string) {
	d := nlwire.AppendStrAttr(inet(), unix.NFTA_SET_TABLE, vw.TableName)
	d = nlwire.AppendStrAttr(d, unix.NFTA_SET_NAME, name)
	b.msg(unix.NFT_MSG_DELSET, flagsDel, "delete set "+name, d)
}

// existingSet registers a set that already exists in the kernel (rules
// look it up by name).
func (b *builder) existingSet(name string) {
	if _, ok := b.sets[name]; !ok {
		b.sets[name] = 0
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

// ruleName starts a rule message: the table, the chain and, when not 0,
// the rule's handle.
func ruleName(chain string, handle uint64) []byte {
	d := nlwire.AppendStrAttr(inet(), unix.NFTA_RULE_TABLE, vw.TableName)
	d = nlwire.AppendStrAttr(d, unix.NFTA_RULE_CHAIN, chain)
	if handle != 0 {
		d = nlwire.AppendAttr(d, unix.NFTA_RULE_HANDLE, binary.BigEndian.AppendUint64(nil, handle))
	}
	return d
}

// addRule queues a rule (and the anonymous sets it needs, just before it).
func (b *builder) addRule(chain string, r *vw.Rule, pos rulePos) error {
	exprs, anon, err := ruleExprs(b.sets, b.newID, r)
	if err != nil {
		return err
	}
	for _, a := range anon {
		b.setMsg(a.set, "add anonymous set for rule "+r.Key)
		b.msgs = append(b.msgs, elemMsgs(true, a.set.name, a.set.id, a.elems, "anonymous set of rule "+r.Key)...)
	}
	d := ruleName(chain, pos.Replace)
	var list int
	d, list = nlwire.BeginNested(d, unix.NFTA_RULE_EXPRESSIONS)
	for _, x := range exprs {
		e, err := expr.Marshal(unix.NFPROTO_INET, x)
		if err != nil {
			return fmt.Errorf("rule %s: %w", r.Key, err)
		}
		d = nlwire.AppendAttr(d, unix.NLA_F_NESTED|unix.NFTA_LIST_ELEM, e)
	}
	d = nlwire.EndNested(d, list)
	if ud := ruleData(r); ud != nil {
		d = nlwire.AppendAttr(d, unix.NFTA_RULE_USERDATA, ud)
	}
	verb, flags := "add", uint16(flagsNew|unix.NLM_F_APPEND)
	switch {
	case pos.Replace != 0:
		verb, flags = "replace", flagsDel|unix.NLM_F_REPLACE
	case pos.Before != 0:
		verb, flags = "insert", flagsNew
		d = nlwire.AppendAttr(d, unix.NFTA_RULE_POSITION, binary.BigEndian.AppendUint64(nil, pos.Before))
	}
	b.msg(unix.NFT_MSG_NEWRULE, flags, fmt.Sprintf("%s rule %s in chain %s", verb, r.Key, chain), d)
	return nil
}

// markOpen flags a final start element without an end as an open interval.
func markOpen(es []elem) {
	if n := len(es); n > 0 && !es[n-1].end {
		es[n-1].open = true
	}
}

func (b *builder) delRule(chain string, handle uint64, key string) error {
	if handle == 0 {
		return fmt.Errorf("delete rule %s in chain %s: no handle", key, chain)
	}
	b.msg(unix.NFT_MSG_DELRULE, flagsDel, fmt.Sprintf("delete rule %s (handle %d) in chain %s", key, handle, chain), ruleName(chain, handle))
	return nil
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
