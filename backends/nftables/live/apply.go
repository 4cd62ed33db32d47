package live

import (
	"bytes"
	"errors"
	"fmt"
	"time"

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
			if err := b.delTable(); err != nil {
				return nil, nil, err
			}
		}
		nonce := newNonce()
		if err := b.create(p.Desired, nonce); err != nil {
			return nil, nil, err
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
	for _, r := range p.Rules {
		if r.Op == OpAdd {
			if err := b.addRule(r.Chain, r.rule, r.pos); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, r := range p.Rules {
		if r.Op == OpChange {
			if err := b.addRule(r.Chain, r.rule, r.pos); err != nil {
				return nil, nil, err
			}
		}
	}
	// 6. Removed chains, 7. removed sets (nothing refers to them now).
	for _, c := range p.Chains {
		if c.Op == OpRemove {
			if err := b.delChain(c.Name); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, s := range p.Sets {
		if s.Op == OpRemove {
			if err := b.delSet(s.Name); err != nil {
				return nil, nil, err
			}
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
}

// Apply sends the plan's batch: one atomic transaction carrying the
// generation the plan was read at, so the kernel refuses it (StaleError)
// when anyone changed the ruleset since. On a refused batch nothing
// changed. When the kernel's answer is lost (ENOBUFS) Apply reads the table
// again and reports what really happened.
func Apply(t *Target, p *Plan, opts ApplyOptions) (*Result, error) {
	start := time.Now()
	res := &Result{GenID: p.GenID}
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
	st, err := sendBatch(t.FD(), msgs, genid)
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
	if genid != 0 {
		recordCache(nonce, res.GenID, p.Desired, nil)
	}
	if opts.Verify {
		if err := verify(t, p.Desired); err != nil {
			res.Elapsed = time.Since(start)
			return res, err
		}
		res.Verified = true
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// recordCache writes the cache entry for nonce at genid from the interval
// sets of t, with the input record inputs (JSON, nil for none). It reports
// whether the entry was written.
func recordCache(nonce []byte, genid uint32, t *vw.Table, inputs []byte) bool {
	sets := map[string]*SetContent{}
	v6 := map[string]bool{}
	for _, s := range t.Sets {
		if !s.Dynamic {
			sets[s.Name] = contentOf(s)
			v6[s.Name] = s.V6()
		}
	}
	return writeCacheInputs(nonce, genid, sets, v6, inputs)
}

func readGen(t *Target) (uint32, error) {
	s, err := openSock(t.FD(), 0)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return genOn(s)
}

// verify reads the table back and diffs it with the desired one.
// verify reads the table back and diffs it with the plan. Chains, rules and
// set definitions come from the kernel; set elements come from the state
// cache Apply has just written (a full dump is quadratic in the kernel:
// about 77 s at a million ranges), so for elements it relies on the kernel
// having acked every chunk of the batch, each kept under the size that
// would truncate silently (pitfall 1).
func verify(t *Target, want *vw.Table) error {
	st, err := Read(t, ReadOptions{})
	if err != nil {
		return fmt.Errorf("reading the table back: %w", err)
	}
	if d := Diff(st, want); !d.Empty() {
		a, c, r := d.Counts()
		return fmt.Errorf("after the apply the kernel's table differs from the plan (%d to add, %d to change, %d to remove%s)", a, c, r, recreateNote(d))
	}
	return nil
}

func recreateNote(p *Plan) string {
	if p.Recreate != "" {
		return "; " + p.Recreate
	}
	return ""
}

// unknownOutcome re-reads the table after a lost answer and says what the
// kernel really holds (pitfall 3).
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
