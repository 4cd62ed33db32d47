package live

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

// Messages builds the batch that turns the kernel's table into the desired
// one. It touches nothing but table inet voicewall. An empty plan gives no
// messages.
func (p *Plan) Messages() ([]Msg, []byte, error) {
	if p.Empty() {
		return nil, nil, nil
	}
	b := newBuilder()
	if p.Create || p.Recreate != "" {
		if p.State.Exists {
			b.delTable()
		}
		nonce := newNonce()
		if err := b.create(p.Desired, nonce); err != nil {
			return nil, nil, err
		}
		for _, s := range p.Desired.Sets {
			if es := p.carry[s.Name]; len(es) > 0 && s.Live {
				m, err := liveElemMsgs(true, s.Interval, s.Name, b.sets[s.Name], es)
				if err != nil {
					return nil, nil, err
				}
				b.msgs = append(b.msgs, m...)
			}
		}
		return b.msgs, nonce, nil
	}

	// In place: the table keeps its identity.
	for _, s := range p.State.Sets {
		b.existingSet(s.Name)
	}
	// 1. Removed rules (their jumps and lookups go first; rules of
	// removed chains go with their chain).
	for _, r := range p.Rules {
		if r.Op == OpRemove {
			if err := b.delRule(r.Chain, r.Handle, r.Key); err != nil {
				return nil, nil, err
			}
		}
	}
	// 2. New chains, 3. new sets with their elements, 4. element deltas.
	for _, c := range p.Chains {
		if c.Op == OpAdd {
			if err := b.addChain(c.chain); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, s := range p.Sets {
		if s.Op == OpAdd {
			if err := b.addSet(s.set); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, s := range p.Sets {
		if s.Op == OpChange && s.Delta != nil {
			b.setDelta(s.Name, s.set.V6(), *s.Delta)
		}
	}
	// 5. New rules at their place (before a kept rule, or appended), then
	// replacements in place (a replaced rule gets a new handle, so inserts
	// that name it come first).
	for _, op := range []Op{OpAdd, OpChange} {
		for _, r := range p.Rules {
			if r.Op == op {
				if err := b.addRule(r.Chain, r.rule, r.pos); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	// 6. Removed chains, 7. removed sets (nothing refers to them now).
	for _, c := range p.Chains {
		if c.Op == OpRemove {
			b.delChain(c.Name)
		}
	}
	for _, s := range p.Sets {
		if s.Op == OpRemove {
			b.delSet(s.Name)
		}
	}
	return b.msgs, p.State.Nonce, nil
}

// Result reports an apply.
type Result struct {
	Sent     bool       // a batch was sent (false: nothing to change)
	Stats    BatchStats // what was sent
	GenID    uint32     // the generation after the apply
	Verified bool       // the table was read back and matches the plan
	// Unknown is set when the kernel's answer was lost (ENOBUFS) and the
	// outcome was established by reading the table again.
	Unknown string
	Elapsed time.Duration
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// NoGenIDCheck sends the batch without the generation guard.
	NoGenIDCheck bool
	// Verify reads the table back after the apply and checks that it is
	// what was planned.
	Verify bool
	// Hook, when set, sees (and may change) the messages before sending
	// (tests inject failures with it).
	Hook func([]Msg) []Msg
	// Record, when set, gives the input record (JSON, fastpath.go) the
	// state cache keeps with a verified apply, or nil when the inputs may
	// have changed. The state is written once, after verification.
	Record func() []byte
}

// Apply sends the plan's batch: one atomic transaction carrying the
// generation the plan was read at, so the kernel refuses it (StaleError)
// when anyone changed the ruleset since. On a refused batch nothing
// changed. When the kernel's answer is lost (ENOBUFS) Apply reads the table
// again and reports what really happened.
func Apply(t *Target, p *Plan, opts ApplyOptions) (*Result, error) {
	start := time.Now()
	res := &Result{GenID: p.GenID}
	if err := p.CarryLive(t); err != nil {
		return res, err
	}
	msgs, nonce, err := p.Messages()
	if err != nil {
		return res, err
	}
	if len(msgs) == 0 {
		res.Elapsed = time.Since(start)
		return res, nil
	}
	if opts.Hook != nil {
		msgs = opts.Hook(msgs)
	}
	genid := p.GenID
	if opts.NoGenIDCheck {
		genid = 0
	}
	if p.State.Nonce != nil && !bytes.Equal(nonce, p.State.Nonce) {
		dropCache(p.State.Nonce)
	}
	st, err := nlwire.SendBatch(t.FD(), msgs, genid)
	res.Stats = st
	var stale *StaleError
	switch {
	case errors.As(err, &stale):
		if g, gerr := readGen(t); gerr == nil {
			stale.Now = g
		}
		res.Elapsed = time.Since(start)
		return res, stale
	case errors.Is(err, ErrOutcomeUnknown):
		return unknownOutcome(t, p, res, err, start)
	case err != nil:
		res.Elapsed = time.Since(start)
		return res, err
	}
	res.Sent = true
	if genid != 0 {
		res.GenID = genid + 1
		if res.GenID == 0 {
			res.GenID = 1
		}
	} else if g, err := readGen(t); err == nil {
		res.GenID = g
	}
	if !opts.Verify {
		if genid != 0 {
			recordCache(nonce, res.GenID, [32]byte{}, p.Desired, nil)
		}
		res.Elapsed = time.Since(start)
		return res, nil
	}
	back, err := verify(t, p.Desired)
	if err != nil {
		res.Elapsed = time.Since(start)
		return res, err
	}
	res.Verified = true
	// One state write: the set contents just verified, the structure as
	// read back, and the input record.
	var inputs []byte
	if opts.Record != nil {
		inputs = opts.Record()
	}
	structure, _ := structDigest(back)
	recordCache(nonce, back.GenID, structure, p.Desired, inputs)
	res.Elapsed = time.Since(start)
	return res, nil
}

// recordCache writes the cache entry for nonce at genid from the interval
// sets of t, with the input record inputs (JSON, nil for none). It reports
// whether the entry was written.
func recordCache(nonce []byte, genid uint32, structure [32]byte, t *vw.Table, inputs []byte) bool {
	sets := map[string]*SetContent{}
	v6 := map[string]bool{}
	for _, s := range t.Sets {
		if !s.Dynamic && !s.Live {
			sets[s.Name] = contentOf(s)
			v6[s.Name] = s.V6()
		}
	}
	return writeCacheState(nonce, genid, structure, sets, v6, inputs)
}

func readGen(t *Target) (uint32, error) {
	s, err := nlwire.Open(t.FD(), 0)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return nlwire.GenID(s)
}

// verify reads the table back and diffs it with the plan. Chains, rules,
// set definitions and each set's element count come from the kernel. Set
// elements are not dumped (a full dump is quadratic in the kernel: about
// 77 s at a million ranges): the kernel acked every chunk of the batch,
// each kept under the size that would truncate silently (an element list
// over about 60 KB overflows a 16-bit attribute length and the kernel keeps
// a truncated set without an error), each
// set holds as many intervals as were planned, and the last interval of
// every chunk is probed in the kernel (probe.go). It returns the state read
// back, with the planned set contents.
func verify(t *Target, want *vw.Table) (*State, error) {
	st, err := Read(t, ReadOptions{SkipElements: true})
	if err != nil {
		return nil, fmt.Errorf("reading the table back: %w", err)
	}
	wantSets := map[string]*vw.Set{}
	for _, s := range want.Sets {
		wantSets[s.Name] = s
	}
	var probes []setProbe
	for _, ls := range st.Sets {
		ws := wantSets[ls.Name]
		if ls.Dynamic || ls.Live || !ls.Interval || ls.Type == "" || ws == nil || ws.Dynamic || ws.Live {
			continue
		}
		ls.Content = contentOf(ws)
		if want := kernelCount(ws); ls.HasCount && ls.Count != want && int(ls.Count) != len(ws.Elements) {
			return nil, fmt.Errorf("after the apply set %s counts %d in the kernel, the plan %d", ls.Name, ls.Count, want)
		}
		probes = append(probes, setProbe{set: ls.Name, ranges: chunkLasts(ls.Content.Ranges)})
	}
	if err := probeSets(t, probes); err != nil {
		return nil, fmt.Errorf("after the apply: %w", err)
	}
	if d := Diff(st, want); !d.Empty() {
		a, c, r := d.Counts()
		return nil, fmt.Errorf("after the apply the kernel's table differs from the plan (%d to add, %d to change, %d to remove%s)", a, c, r, recreateNote(d))
	}
	return st, nil
}

func recreateNote(p *Plan) string {
	if p.Recreate != "" {
		return "; " + p.Recreate
	}
	return ""
}

// unknownOutcome re-reads the table after a lost answer and says what the
// kernel really holds: ENOBUFS or a lost ack after the send means the
// outcome is unknown, not that the batch failed.
func unknownOutcome(t *Target, p *Plan, res *Result, cause error, start time.Time) (*Result, error) {
	defer func() { res.Elapsed = time.Since(start) }()
	dropCache(p.State.Nonce)
	st, err := Read(t, ReadOptions{NoCache: true})
	if err != nil {
		return res, fmt.Errorf("%v; reading the table again also failed: %w", cause, err)
	}
	res.GenID = st.GenID
	if Diff(st, p.Desired).Empty() {
		res.Sent, res.Verified = true, true
		res.Unknown = cause.Error() + "; the table was read again: the change is applied"
		return res, nil
	}
	if st.GenID == p.GenID {
		res.Unknown = cause.Error() + "; the table was read again: nothing was applied"
		return res, fmt.Errorf("%v; the table was read again: nothing was applied", cause)
	}
	return res, fmt.Errorf("%v; the table was read again: it is neither the planned one nor the previous one (someone else changed the ruleset); plan again", cause)
}

// kernelCount is the element count the kernel reports for an interval set
// holding exactly s (NFTA_SET_COUNT): half the elements it holds (each
// interval's start and end, the marker, an open last interval's start
// alone), rounded down, as Linux 6.18 reports it for rbtree sets. (A
// kernel that counts intervals instead is accepted too.)
func kernelCount(s *vw.Set) uint32 {
	n := 2 * len(s.Elements) // as setElems lays them out, without building them
	if needsMarker(s.Elements) {
		n++
	}
	if k := len(s.Elements); k > 0 && !s.Elements[k-1].To().Next().IsValid() {
		n-- // open: no end element
	}
	return uint32(n / 2)
}
