package live

// Interval set elements: encoded by hand (google/nftables builds one
// attribute slice per element, too slow for 100,000 entries), chunked so no
// message overflows the 16-bit attribute length (the kernel would keep a
// truncated set without an error), read back with a raw dump (about 0.3 s
// for 100,000 ranges, where google/nftables' GetSetElements took 2.1 s) and
// normalized (the kernel returns them in reverse order, as start/end pairs).

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	"go4.org/netipx"
	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

// ChunkElements is how many set elements one netlink message carries at
// most. 1,000 IPv6 elements stay far below the 64 KB attribute limit.
const ChunkElements = 1000

// elem is one kernel set element: a key, whether it is an interval end, and
// whether it opens an interval that runs to the end of the key space.
type elem struct {
	key  []byte
	end  bool
	open bool
}

// SetContent is an interval set's elements in normalized form.
type SetContent struct {
	Ranges []netipx.IPRange // sorted, as the elements describe them
	// Marker reports the end element at key 0 nft puts in front of the
	// first interval (when it does not start at 0).
	Marker bool
	// Odd counts elements that do not fit the interval layout (an end
	// without a start); such a set is rewritten whole.
	Odd int
}

func needsMarker(rs []netipx.IPRange) bool {
	return len(rs) > 0 && !rs[0].From().IsUnspecified()
}

// rangeElems appends the elements of ranges: start, then end+1 with the
// interval-end flag; a range reaching the last address is left open.
func rangeElems(out []elem, rs []netipx.IPRange) []elem {
	if len(rs) == 0 {
		return out
	}
	// One array holds every key (an allocation per key costs more than
	// encoding it at 100,000 ranges); each key's capacity is capped, so
	// later appends never write into it.
	keys := make([]byte, 0, 2*len(rs)*rs[0].From().BitLen()/8+16)
	key := func(a netip.Addr) []byte {
		n := len(keys)
		keys = appendAddr(keys, a)
		return keys[n:len(keys):len(keys)]
	}
	for _, r := range rs {
		next := r.To().Next()
		if !next.IsValid() {
			out = append(out, elem{key: key(r.From()), open: true})
			continue
		}
		out = append(out, elem{key: key(r.From())}, elem{key: key(next), end: true})
	}
	return out
}

func markerElem(v6 bool) elem {
	if v6 {
		return elem{key: make([]byte, 16), end: true}
	}
	return elem{key: make([]byte, 4), end: true}
}

// setElems is the full element list of a set as `nft -f` sends it.
func setElems(s *vw.Set) []elem {
	out := make([]elem, 0, 2*len(s.Elements)+1)
	if needsMarker(s.Elements) {
		out = append(out, markerElem(s.V6()))
	}
	return rangeElems(out, s.Elements)
}

// elemMsgs encodes elements into NEWSETELEM (add) or DELSETELEM messages
// of at most ChunkElements elements each. setID names a set created in the
// same batch (0 for an existing set).
func elemMsgs(add bool, set string, setID uint32, elems []elem, what string) []Msg {
	typ := nlwire.NftType(unix.NFT_MSG_DELSETELEM)
	flags := uint16(nlwire.FlagRequest | nlwire.FlagAck)
	if add {
		typ = nlwire.NftType(unix.NFT_MSG_NEWSETELEM)
		flags |= unix.NLM_F_CREATE
	}
	var out []Msg
	for len(elems) > 0 {
		n := min(len(elems), ChunkElements)
		chunk := elems[:n]
		elems = elems[n:]
		b := make([]byte, 0, 64+n*(28+len(chunk[0].key)))
		b = append(b, nlwire.Nfgenmsg(unix.NFPROTO_INET, 0)...)
		b = nlwire.AppendStrAttr(b, unix.NFTA_SET_ELEM_LIST_TABLE, vw.TableName)
		b = nlwire.AppendStrAttr(b, unix.NFTA_SET_ELEM_LIST_SET, set)
		if setID != 0 {
			b = nlwire.AppendU32Attr(b, unix.NFTA_SET_ELEM_LIST_SET_ID, setID)
		}
		b, list := nlwire.BeginNested(b, unix.NFTA_SET_ELEM_LIST_ELEMENTS)
		for _, e := range chunk {
			var item int
			b, item = nlwire.BeginNested(b, unix.NFTA_LIST_ELEM)
			if e.end {
				b = nlwire.AppendU32Attr(b, unix.NFTA_SET_ELEM_FLAGS, unix.NFT_SET_ELEM_INTERVAL_END)
			}
			var key int
			b, key = nlwire.BeginNested(b, unix.NFTA_SET_ELEM_KEY)
			b = nlwire.AppendAttr(b, unix.NFTA_DATA_VALUE, e.key)
			b = nlwire.EndNested(b, key)
			if e.open {
				b = nlwire.AppendAttr(b, unix.NFTA_SET_ELEM_USERDATA, elemFlagOpen)
			}
			b = nlwire.EndNested(b, item)
		}
		b = nlwire.EndNested(b, list)
		verb := "delete"
		if add {
			verb = "add"
		}
		out = append(out, Msg{Type: typ, Flags: flags, Data: b, Elems: n,
			What: fmt.Sprintf("%s %d elements of set %s (%s)", verb, n, set, what)})
	}
	return out
}

// dumpSetElems reads every element of a set with one raw dump request on s.
func dumpSetElems(s *nlwire.Sock, set string) ([]elem, error) {
	var out []elem
	err := dumpElemMsgs(s, set, func(data []byte) { out = appendElems(out, data) })
	return out, err
}

// dumpElemMsgs dumps the elements of a set of table inet voicewall, calling
// fn with the attributes (after the nfgenmsg) of each message.
func dumpElemMsgs(s *nlwire.Sock, set string, fn func(data []byte)) error {
	req := nlwire.Nfgenmsg(unix.NFPROTO_INET, 0)
	req = nlwire.AppendStrAttr(req, unix.NFTA_SET_ELEM_LIST_TABLE, vw.TableName)
	req = nlwire.AppendStrAttr(req, unix.NFTA_SET_ELEM_LIST_SET, set)
	return s.Dump(nlwire.NftType(unix.NFT_MSG_GETSETELEM), req, func(m nlwire.Message) error {
		if len(m.Data) >= 4 {
			fn(m.Data[4:])
		}
		return nil
	})
}

// appendElems appends the elements of one set-element message (data: its
// attributes, after the nfgenmsg) to out.
func appendElems(out []elem, data []byte) []elem {
	forElems(data, func(item []byte) {
		var e elem
		nlwire.ForAttrs(item, func(t uint16, d []byte) {
			switch t {
			case unix.NFTA_SET_ELEM_KEY:
				e.key = dataValue(d)
			case unix.NFTA_SET_ELEM_FLAGS:
				e.end = nlwire.BE32(d)&unix.NFT_SET_ELEM_INTERVAL_END != 0
			case unix.NFTA_SET_ELEM_USERDATA:
				e.open = bytes.Contains(d, elemFlagOpen)
			}
		})
		if e.key != nil {
			out = append(out, e)
		}
	})
	return out
}

// forElems calls fn with the attributes of each element (NFTA_LIST_ELEM)
// in a set-element message's NFTA_SET_ELEM_LIST_ELEMENTS.
func forElems(data []byte, fn func(item []byte)) {
	nlwire.ForAttrs(data, func(t uint16, d []byte) {
		if t == unix.NFTA_SET_ELEM_LIST_ELEMENTS {
			nlwire.ForAttrs(d, func(_ uint16, item []byte) { fn(item) })
		}
	})
}

// dataValue is a copy of the NFTA_DATA_VALUE in an element's key (nil
// when there is none).
func dataValue(d []byte) []byte {
	var v []byte
	nlwire.ForAttrs(d, func(t uint16, b []byte) {
		if t == unix.NFTA_DATA_VALUE {
			v = bytes.Clone(b)
		}
	})
	return v
}

// normalize turns kernel elements into ranges (they come back in reverse
// order, as start/end pairs).
func normalize(es []elem, v6 bool) SetContent {
	var c SetContent
	cmp := func(a, b elem) int { return elemOrder(a.key, a.end, b.key, b.end) }
	sorted := slices.IsSortedFunc(es, cmp)
	if !sorted {
		rev := make([]elem, len(es))
		for i, e := range es {
			rev[len(es)-1-i] = e
		}
		es = rev
		if !slices.IsSortedFunc(es, cmp) {
			slices.SortFunc(es, cmp)
		}
	}
	c.Ranges = make([]netipx.IPRange, 0, len(es)/2)
	for i := 0; i < len(es); i++ {
		e := es[i]
		a, ok := netip.AddrFromSlice(e.key)
		if !ok || a.Is6() != v6 {
			c.Odd++
			continue
		}
		if e.end {
			if i == 0 && a.IsUnspecified() {
				c.Marker = true
			} else {
				c.Odd++
			}
			continue
		}
		if i+1 < len(es) && es[i+1].end {
			b, ok := netip.AddrFromSlice(es[i+1].key)
			if !ok || b.Compare(a) <= 0 {
				c.Odd++
				continue
			}
			c.Ranges = append(c.Ranges, netipx.IPRangeFrom(a, b.Prev()))
			i++
			continue
		}
		// A start without an end: open to the end of the key space.
		c.Ranges = append(c.Ranges, netipx.IPRangeFrom(a, maxAddr(v6)))
	}
	return c
}

// rangeDelta compares two sorted range lists: ranges only in old are
// removed, ranges only in new are added (a changed range is both).
func rangeDelta(old, new []netipx.IPRange) (del, add []netipx.IPRange) {
	i, j := 0, 0
	for i < len(old) && j < len(new) {
		o, n := old[i], new[j]
		if o == n {
			i++
			j++
			continue
		}
		if c := o.From().Compare(n.From()); c < 0 || (c == 0 && o.To().Compare(n.To()) < 0) {
			del = append(del, o)
			i++
		} else {
			add = append(add, n)
			j++
		}
	}
	del = append(del, old[i:]...)
	add = append(add, new[j:]...)
	return del, add
}

func maxAddr(v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16([16]byte{0: 0xff, 1: 0xff, 2: 0xff, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff, 8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff})
	}
	return netip.AddrFrom4([4]byte{0xff, 0xff, 0xff, 0xff})
}

// elemOrder orders interval set elements by key; at one key an end sorts
// before a start (the end of the interval below, then the next one).
func elemOrder(ka []byte, enda bool, kb []byte, endb bool) int {
	if d := bytes.Compare(ka, kb); d != 0 {
		return d
	}
	switch {
	case enda == endb:
		return 0
	case enda:
		return -1
	}
	return 1
}
