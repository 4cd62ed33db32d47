package live

// Probes ask the kernel for single set elements (NFT_MSG_GETSETELEM without
// a dump): for an interval set, a key without the end flag returns the
// start of the interval holding it (the greatest element at or below the
// key, when that is a start); with the end flag, the end element at or
// above it. So a probe at an interval's last address that returns its first
// address proves the start is there and nothing lies inside; a probe of
// its end element proves where it ends. Each probe costs a lookup, unlike a
// dump, whose 32 KB rounds each walk the tree from the start.

import (
	"bytes"
	"fmt"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	"go4.org/netipx"
	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

// setProbe is a set and the intervals to find in it exactly.
type setProbe struct {
	set    string
	ranges []netipx.IPRange
}

// chunkLasts picks the last interval of every batch chunk (ChunkElements
// elements: two per interval) and the set's last one.
func chunkLasts(rs []netipx.IPRange) []netipx.IPRange {
	per := ChunkElements / 2
	var out []netipx.IPRange
	for i := per - 1; i < len(rs); i += per {
		out = append(out, rs[i])
	}
	if n := len(rs); n > 0 && n%per != 0 {
		out = append(out, rs[n-1])
	}
	return out
}

type probeElem struct {
	key, want []byte
	end       bool
	what      string
}

// probeSets checks that every interval of each probe is in its set exactly
// (start present, nothing inside, end present).
func probeSets(t *Target, ps []setProbe) error {
	var total int
	for _, p := range ps {
		total += len(p.ranges)
	}
	if total == 0 {
		return nil
	}
	s, err := nlwire.Open(t.FD(), BufferSize)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, p := range ps {
		var es []probeElem
		for _, r := range p.ranges {
			what := string(vw.AppendRange(nil, r))
			es = append(es, probeElem{key: r.To().AsSlice(), want: r.From().AsSlice(), what: what})
			if next := r.To().Next(); next.IsValid() {
				es = append(es, probeElem{key: next.AsSlice(), want: next.AsSlice(), end: true, what: what})
			}
		}
		for len(es) > 0 {
			n := min(len(es), ChunkElements)
			if err := probeChunk(s, p.set, es[:n]); err != nil {
				return err
			}
			es = es[n:]
		}
	}
	return nil
}

// probeChunk sends one GETSETELEM for es and checks the answers (one reply
// per element, in order, then the ack; the kernel stops at the first
// element it cannot find).
func probeChunk(s *nlwire.Sock, set string, es []probeElem) error {
	b := nlwire.Nfgenmsg(unix.NFPROTO_INET, 0)
	b = nlwire.AppendStrAttr(b, unix.NFTA_SET_ELEM_LIST_TABLE, vw.TableName)
	b = nlwire.AppendStrAttr(b, unix.NFTA_SET_ELEM_LIST_SET, set)
	b, list := nlwire.BeginNested(b, unix.NFTA_SET_ELEM_LIST_ELEMENTS)
	for _, e := range es {
		var item, key int
		b, item = nlwire.BeginNested(b, unix.NFTA_LIST_ELEM)
		if e.end {
			b = nlwire.AppendU32Attr(b, unix.NFTA_SET_ELEM_FLAGS, unix.NFT_SET_ELEM_INTERVAL_END)
		}
		b, key = nlwire.BeginNested(b, unix.NFTA_SET_ELEM_KEY)
		b = nlwire.AppendAttr(b, unix.NFTA_DATA_VALUE, e.key)
		b = nlwire.EndNested(b, key)
		b = nlwire.EndNested(b, item)
	}
	b = nlwire.EndNested(b, list)
	seq := s.NextSeq()
	if err := s.Send(nlwire.AppendMsg(nil, nlwire.NftType(unix.NFT_MSG_GETSETELEM), nlwire.FlagRequest|nlwire.FlagAck, seq, b)); err != nil {
		return fmt.Errorf("probing set %s: %w", set, err)
	}
	i := 0
	for {
		msgs, err := s.Recv()
		if err != nil {
			return fmt.Errorf("probing set %s: %w", set, err)
		}
		for _, m := range msgs {
			if m.Seq != seq {
				continue
			}
			if m.Type == unix.NLMSG_ERROR {
				errno, _, _ := nlwire.NLError(m)
				switch {
				case (errno == unix.ENOENT || errno == 0) && i < len(es):
					// Not found (the kernel stops there; for a key past
					// the last element it may just stop answering).
					return fmt.Errorf("set %s lacks %s in the kernel", set, es[i].what)
				case errno != 0:
					return fmt.Errorf("probing set %s: %w", set, errno)
				}
				return nil
			}
			if m.Type != nlwire.NftType(unix.NFT_MSG_NEWSETELEM) || len(m.Data) < 4 || i >= len(es) {
				continue
			}
			var got []byte
			if found := appendElems(nil, m.Data[4:]); len(found) > 0 {
				got = found[len(found)-1].key
			}
			if !bytes.Equal(got, es[i].want) {
				return fmt.Errorf("set %s does not hold %s exactly in the kernel", set, es[i].what)
			}
			i++
		}
	}
}
