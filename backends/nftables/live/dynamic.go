package live

// Run-time sets: the timed bans (banned_v4/_v6, flags interval,timeout) and
// the trusted remote phones (remote_trusted_v4/_v6, flags timeout). The
// policy declares them; `voicewall ban`, the watcher and fail2ban fill them
// with elements that each carry a timeout and a reason (the element's
// userdata comment, as nft writes `comment "..."`). Plan and apply never
// manage their elements: the diff skips them, and a table that must be
// recreated gets them back in the same batch with what is left of their
// timeouts (CarryLive).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"syscall"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"
	"go4.org/netipx"
	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

// LiveElem is one element of a run-time set.
type LiveElem struct {
	Range   netipx.IPRange
	Timeout time.Duration // as added
	Expires time.Duration // left until the kernel removes it (0: never)
	Reason  string        // the element's comment: "cli", "watch", "fail2ban"
}

// Prefix is the element as a prefix when it is exactly one.
func (e LiveElem) String() string {
	if p, ok := e.Range.Prefix(); ok {
		if p.IsSingleIP() {
			return p.Addr().String()
		}
		return p.String()
	}
	return e.Range.String()
}

// udataComment is the userdata TLV nft uses for an element's comment
// (NFTNL_UDATA_SET_ELEM_COMMENT: type 0, length, NUL-terminated text).
func udataComment(s string) []byte {
	if len(s) > 127 {
		s = s[:127]
	}
	return append(append([]byte{0, byte(len(s) + 1)}, s...), 0)
}

// ReadLive dumps a run-time set's elements with their timeouts and
// reasons. A missing set is an error that says to apply the policy first.
func ReadLive(t *Target, set string) ([]LiveElem, error) {
	s, err := nlwire.Open(t.FD(), 0)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return readLive(s, set)
}

type liveRaw struct {
	key              []byte
	end              bool
	timeout, expires time.Duration
	reason           string
}

func readLive(s *nlwire.Sock, set string) ([]LiveElem, error) {
	var raw []liveRaw
	err := dumpElemMsgs(s, set, func(data []byte) {
		forElems(data, func(item []byte) {
			var e liveRaw
			nlwire.ForAttrs(item, func(t uint16, d []byte) {
				switch t {
				case unix.NFTA_SET_ELEM_KEY:
					e.key = dataValue(d)
				case unix.NFTA_SET_ELEM_FLAGS:
					e.end = nlwire.BE32(d)&unix.NFT_SET_ELEM_INTERVAL_END != 0
				case unix.NFTA_SET_ELEM_TIMEOUT:
					e.timeout = time.Duration(nlwire.BE64(d)) * time.Millisecond
				case unix.NFTA_SET_ELEM_EXPIRATION:
					e.expires = time.Duration(nlwire.BE64(d)) * time.Millisecond
				case unix.NFTA_SET_ELEM_USERDATA:
					if v, ok := udataString(d, 0); ok {
						e.reason = cleanReason(v)
					}
				}
			})
			if e.key != nil {
				raw = append(raw, e)
			}
		})
	})
	if errors.Is(err, syscall.ENOENT) {
		return nil, fmt.Errorf("set %s does not exist in table inet %s: apply a policy with a ban, watch or remote_phones block first", set, vw.TableName)
	}
	if err != nil {
		return nil, err
	}
	return pairLive(raw), nil
}

// cleanReason keeps a reason printable: userdata may come from anyone
// who writes into the set.
func cleanReason(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c >= 0x7f {
			b[i] = '_'
		}
	}
	return string(b)
}

// pairLive turns the kernel's elements into ranges: in an interval set a
// start is closed by the end element that follows it in key order; in a
// plain set every element is one address.
func pairLive(raw []liveRaw) []LiveElem {
	slices.SortFunc(raw, func(a, b liveRaw) int { return elemOrder(a.key, a.end, b.key, b.end) })
	var out []LiveElem
	for i := 0; i < len(raw); i++ {
		e := raw[i]
		a, ok := netip.AddrFromSlice(e.key)
		if !ok || e.end {
			continue // the marker at 0, or a stray end
		}
		to := a
		if i+1 < len(raw) && raw[i+1].end {
			if b, ok := netip.AddrFromSlice(raw[i+1].key); ok && b.Compare(a) > 0 {
				to = b.Prev()
				i++
			}
		}
		out = append(out, LiveElem{Range: netipx.IPRangeFrom(a, to), Timeout: e.timeout, Expires: e.expires, Reason: e.reason})
	}
	return out
}

// liveElemMsgs encodes elements of a run-time set: add (with timeout and
// reason) or delete. An interval set gets each range's start and its end
// element (end+1, flagged); the start carries the timeout and the reason
// (the kernel expires the interval with it).
func liveElemMsgs(add, interval bool, set string, setID uint32, es []LiveElem) ([]Msg, error) {
	typ := nlwire.NftType(unix.NFT_MSG_DELSETELEM)
	flags := uint16(nlwire.FlagRequest | nlwire.FlagAck)
	verb := "delete"
	if add {
		typ = nlwire.NftType(unix.NFT_MSG_NEWSETELEM)
		flags |= unix.NLM_F_CREATE | unix.NLM_F_EXCL
		verb = "add"
	}
	var out []Msg
	for len(es) > 0 {
		n := min(len(es), ChunkElements/2)
		chunk := es[:n]
		es = es[n:]
		b := make([]byte, 0, 64+n*96)
		b = append(b, nlwire.Nfgenmsg(unix.NFPROTO_INET, 0)...)
		b = nlwire.AppendStrAttr(b, unix.NFTA_SET_ELEM_LIST_TABLE, vw.TableName)
		b = nlwire.AppendStrAttr(b, unix.NFTA_SET_ELEM_LIST_SET, set)
		if setID != 0 {
			b = nlwire.AppendU32Attr(b, unix.NFTA_SET_ELEM_LIST_SET_ID, setID)
		}
		b, list := nlwire.BeginNested(b, unix.NFTA_SET_ELEM_LIST_ELEMENTS)
		count := 0
		one := func(key netip.Addr, end bool, e LiveElem) {
			var item int
			b, item = nlwire.BeginNested(b, unix.NFTA_LIST_ELEM)
			if end {
				b = nlwire.AppendU32Attr(b, unix.NFTA_SET_ELEM_FLAGS, unix.NFT_SET_ELEM_INTERVAL_END)
			}
			var k int
			b, k = nlwire.BeginNested(b, unix.NFTA_SET_ELEM_KEY)
			b = nlwire.AppendAttr(b, unix.NFTA_DATA_VALUE, key.AsSlice())
			b = nlwire.EndNested(b, k)
			if add && !end && e.Timeout > 0 { // the kernel refuses a timeout on an end element
				b = nlwire.AppendAttr(b, unix.NFTA_SET_ELEM_TIMEOUT, binary.BigEndian.AppendUint64(nil, uint64(e.Timeout.Milliseconds())))
			}
			if add && !end && e.Reason != "" {
				b = nlwire.AppendAttr(b, unix.NFTA_SET_ELEM_USERDATA, udataComment(e.Reason))
			}
			b = nlwire.EndNested(b, item)
			count++
		}
		for _, e := range chunk {
			if !interval {
				if e.Range.From() != e.Range.To() {
					return nil, fmt.Errorf("set %s holds single addresses, not %s", set, e)
				}
				one(e.Range.From(), false, e)
				continue
			}
			next := e.Range.To().Next()
			if !next.IsValid() {
				return nil, fmt.Errorf("%s reaches the last address; ban a range that ends before it", e)
			}
			one(e.Range.From(), false, e)
			one(next, true, e)
		}
		b = nlwire.EndNested(b, list)
		out = append(out, Msg{Type: typ, Flags: flags, Data: b, Elems: count, What: fmt.Sprintf("%s %d elements of set %s", verb, len(chunk), set)})
	}
	return out, nil
}

// LiveChange adds and deletes elements of one run-time set in one batch:
// deletions first, so an element can be replaced (a ban renewed) at once.
type LiveChange struct {
	Set      string
	Interval bool
	Del, Add []LiveElem
}

// ApplyLive sends the changes as one atomic batch. It never touches the
// policy's own rules and sets.
func ApplyLive(t *Target, changes ...LiveChange) (BatchStats, error) {
	var msgs []Msg
	for _, c := range changes {
		del, err := liveElemMsgs(false, c.Interval, c.Set, 0, c.Del)
		if err != nil {
			return BatchStats{}, err
		}
		add, err := liveElemMsgs(true, c.Interval, c.Set, 0, c.Add)
		if err != nil {
			return BatchStats{}, err
		}
		msgs = append(append(msgs, del...), add...)
	}
	return nlwire.SendBatch(t.FD(), msgs, 0)
}

// liveCarry is what a recreated table gets back: each run-time set's
// elements, with what is left of their timeouts.
type liveCarry map[string][]LiveElem

// CarryLive reads the run-time sets' elements the plan would drop by
// recreating the table, so Messages adds them back in the same batch.
// Elements about to expire (under a second left) are not carried.
func (p *Plan) CarryLive(t *Target) error {
	if p.Recreate == "" || p.State == nil || !p.State.Exists {
		return nil
	}
	want := map[string]*vw.Set{}
	for _, s := range p.Desired.Sets {
		if s.Live {
			want[s.Name] = s
		}
	}
	s, err := nlwire.Open(t.FD(), 0)
	if err != nil {
		return err
	}
	defer s.Close()
	p.carry = liveCarry{}
	for _, ls := range p.State.Sets {
		ws := want[ls.Name]
		if !ls.Live || ws == nil || ws.Type != ls.Type || ls.HasCount && ls.Count == 0 {
			continue
		}
		es, err := readLive(s, ls.Name)
		if err != nil {
			return fmt.Errorf("reading the run-time set %s to keep its elements: %w", ls.Name, err)
		}
		var keep []LiveElem
		for _, e := range es {
			left := e.Expires
			if e.Timeout == 0 {
				left = 0 // never expires
			} else if left < time.Second {
				continue
			}
			if !ws.Interval && e.Range.From() != e.Range.To() {
				continue
			}
			e.Timeout = left.Truncate(time.Millisecond)
			keep = append(keep, e)
		}
		p.carry[ls.Name] = keep
	}
	return nil
}
