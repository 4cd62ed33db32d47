package live

// The apply workflow as one value: Operation owns the safety ordering of
// plan, apply, confirm and rollback (the lock-out guard, the plan, the
// pending-rollback and stale checks, the rollback arm, the batch, the
// verification, the fast-path record). Commands parse flags and render;
// they decide nothing here.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/lang"
)

// Operation is one plan or apply of a policy on a namespace.
type Operation struct {
	Path  string // policy path as given
	Netns string // --netns name, "" for the current namespace
	// Inputs is the digest of the policy's inputs, taken by the caller
	// before anything is loaded (nil: no fast path, nothing recorded).
	Inputs Inputs
	// Load reads the policy with the program's target checks
	// (registry.LoadFull); live cannot import the registry, which lists
	// every backend.
	Load func(path string) *lang.Loaded
}

// Session is everything a plan knows: the policy, the namespace, what the
// kernel holds and what changes.
type Session struct {
	Path     string
	Loaded   *lang.Loaded // nil when the fast path made the plan
	Target   *Target
	Desired  *vw.Table // nil when the fast path made the plan
	Plan     *Plan
	Links    []Link
	Warnings []string
	Pending  *Pending
	// Fast reports that the no-op fast path made this plan; FastDigest is
	// then the compiled table's digest recorded by the apply it rests on.
	Fast       bool
	FastDigest string
	digest     string // Digest(Desired), once
}

// PolicyError is a policy that does not load; Loaded carries the
// diagnostics for the caller to render.
type PolicyError struct{ Loaded *lang.Loaded }

func (e *PolicyError) Error() string { return "the policy has errors" }

// Changes reports whether applying would change anything (table or links).
func (s *Session) Changes() bool {
	if !s.Plan.Empty() {
		return true
	}
	for _, l := range s.Links {
		if l.Create {
			return true
		}
	}
	return false
}

// Digest is the compiled table's digest: the one recorded with the apply
// the fast path rests on, else that of the loaded policy.
func (s *Session) Digest() string {
	if s.Fast {
		return s.FastDigest
	}
	if s.digest == "" {
		s.digest = Digest(s.Desired)
	}
	return s.digest
}

// Close releases the namespace.
func (s *Session) Close() {
	if s != nil && s.Target != nil {
		s.Target.Close()
	}
}

// Plan makes the plan: the no-op fast path when fast is set and it applies,
// else the full path. On error the returned session (possibly nil) still
// needs Close.
func (o *Operation) Plan(fast bool) (*Session, error) {
	if fast {
		if s := o.fastPlan(); s != nil {
			return s, nil
		}
	}
	return o.fullPlan()
}

// fullPlan loads the policy, opens the namespace, checks its links, reads
// table inet voicewall and diffs it with the compiled policy.
func (o *Operation) fullPlan() (*Session, error) {
	s := &Session{Path: o.Path}
	if o.Load == nil {
		return nil, errors.New("voicewall bug: the operation has no policy loader")
	}
	s.Loaded = o.Load(o.Path)
	if s.Loaded.Diags.HasErrors() {
		return nil, &PolicyError{s.Loaded}
	}
	t, err := Open(o.Netns)
	if err != nil {
		return nil, err
	}
	s.Target = t
	s.Desired = vw.Build(s.Loaded.Policy)
	s.Links, err = CheckLinks(t, LinkSpecOf(s.Loaded.Policy))
	if err != nil {
		return s, err
	}
	if err := LinkProblems(s.Links); err != nil {
		return s, fmt.Errorf("target \"nftables\" of the policy does not fit %s:\n  %w", t, indentErr(err))
	}
	st, err := Read(t, ReadOptions{})
	if err != nil {
		return s, fmt.Errorf("reading table inet voicewall in %s: %w", t, err)
	}
	s.Plan = Diff(st, s.Desired)
	s.Warnings = sipWarnings(t)
	if n := StateDirNotice(); n != "" {
		s.Warnings = append(s.Warnings, n)
	} else if st.Untrusted != "" {
		s.Warnings = append(s.Warnings, st.Untrusted)
	}
	var perr error
	if s.Pending, perr = LoadPending(t); perr != nil {
		s.Warnings = append(s.Warnings, "pending rollback: "+perr.Error())
	}
	return s, nil
}

// fastPlan is the no-op fast path (docs/live.md): when the inputs are
// byte for byte those of the last apply and the kernel provably holds what
// that apply left, it makes the "No changes" plan without loading the
// policy's blocklists. Links, SIP helpers and pending rollbacks are
// checked live as fullPlan does. It returns nil whenever anything is
// different or in doubt: the caller then takes the full path.
func (o *Operation) fastPlan() *Session {
	if o.Inputs == nil {
		return nil
	}
	t, err := Open(o.Netns)
	if err != nil {
		return nil
	}
	s := &Session{Path: o.Path, Target: t, Fast: true}
	rec, st, ok := FastNoChange(t, o.Inputs)
	if !ok {
		s.Close()
		return nil
	}
	// The cache entry is valid for this table now, so the full path's
	// Read would take the set contents from it too.
	s.Plan = &Plan{GenID: st.GenID, State: st}
	s.FastDigest = rec.Table
	s.Links, err = CheckLinks(t, rec.LinkSpec)
	if err != nil || LinkProblems(s.Links) != nil || s.Changes() {
		s.Close()
		return nil
	}
	if s.Pending, err = LoadPending(t); err != nil || s.Pending != nil {
		s.Close()
		return nil
	}
	s.Warnings = sipWarnings(t)
	if n := StateDirNotice(); n != "" {
		s.Warnings = append(s.Warnings, n)
	}
	return s
}

func sipWarnings(t *Target) []string {
	var ws []string
	if w, err := SIPHelpers(t); err != nil {
		ws = append(ws, "could not check for SIP helpers: "+err.Error())
	} else {
		for _, x := range w {
			ws = append(ws, "SIP ALG: "+x+"; voicewall never attaches the conntrack SIP helper; remove it (it rewrites SIP and breaks calls)")
		}
	}
	return ws
}

// SavedPlan is what `plan -out FILE` pins: apply of a saved plan applies
// exactly that plan or refuses.
type SavedPlan struct {
	File    string // the plan file, for messages
	Policy  string // the policy path it was made for
	Netns   string
	NetnsID string // Target.ID() when it was made
	GenID   uint32 // ruleset generation it was read at
	Digest  string // compiled table digest
}

// ApplyRequest is what the user asked of an apply.
type ApplyRequest struct {
	Saved          *SavedPlan // apply exactly this plan (nil: plan now)
	SSHConnection  string     // $SSH_CONNECTION, for the lock-out guard
	Force          bool       // apply even when the guard objects
	ConfirmTimeout time.Duration
}

// ApplyHooks let the caller show and ask; Apply calls them in order.
type ApplyHooks struct {
	// Show renders the plan (once, before anything changes).
	Show func(*Session)
	// Approve asks; a non-nil error cancels the apply (nothing changed).
	Approve func(*Session) error
	// Warn reports something that does not stop the apply (a whole line,
	// for stderr).
	Warn func(string)
	// Created reports a VLAN link the apply created.
	Created func(name string)
}

// Applied is what an apply did.
type Applied struct {
	Session *Session
	Result  *Result  // nil when the plan had no changes
	Pending *Pending // set with a confirm timeout: awaits Confirm
}

// Apply plans (fast path first when allowed), checks, asks, arms the
// rollback, applies in one batch, verifies and records. The returned
// Applied (and its Session) is set even on error, for Close.
func (o *Operation) Apply(req ApplyRequest, h ApplyHooks) (*Applied, error) {
	if req.ConfirmTimeout != 0 {
		if err := CheckConfirmTimeout(req.ConfirmTimeout); err != nil {
			return nil, err
		}
	}
	a := &Applied{}
	// The fast path: an unchanged apply sends nothing. Not for saved plans
	// (they check their own digest) nor under SSH (the lockout check
	// evaluates the whole policy, blocklists included).
	if _, _, _, ssh := ParseSSHConnection(req.SSHConnection); req.Saved == nil && !ssh {
		if s := o.fastPlan(); s != nil {
			a.Session = s
			h.Show(s)
			return a, nil
		}
	}
	s, err := o.fullPlan()
	a.Session = s
	if err != nil {
		return a, err
	}
	t, p := s.Target, s.Plan
	if pd := s.Pending; pd != nil {
		if !pd.HelperAlive() {
			return a, fmt.Errorf("an earlier apply on %s was never confirmed, and its rollback helper (pid %d) is gone: run `voicewall confirm%s` to keep the current table, or `voicewall rollback --state %s` to restore the one before it",
				t, pd.HelperPID, NetnsFlag(t.Name), pd.File)
		}
		return a, fmt.Errorf("an earlier apply on %s is waiting for confirmation until %s: run `voicewall confirm%s` to keep it, or wait for the rollback, then apply again",
			t, pd.Deadline.Format("15:04:05"), NetnsFlag(t.Name))
	}
	if sv := req.Saved; sv != nil {
		if sv.NetnsID != t.ID() {
			return a, fmt.Errorf("the plan %s was made for another network namespace (the one named %q was replaced since): plan again", sv.File, sv.Netns)
		}
		if s.Digest() != sv.Digest {
			return a, fmt.Errorf("the policy %s no longer compiles to the table the saved plan was made for: plan again", sv.Policy)
		}
		if p.GenID != sv.GenID {
			return a, &StaleError{Planned: sv.GenID, Now: p.GenID}
		}
	}
	// Unattended or not, no blocklist may cut the gateway off (its
	// resolvers, default gateways, management): a feed or a hand edit
	// reaches the kernel only through here.
	if err := CheckUnattended(t, s.Loaded.Policy); err != nil {
		if !req.Force {
			return a, fmt.Errorf("refusing to apply: %v\n  remove the entry from the blocklist (the table in the kernel stays as it is), or pass --force if you have another way in", err)
		}
		h.Warn(fmt.Sprintf("Warning: %v (applying anyway: --force)", err))
	}
	if w := SSHWarning(req.SSHConnection); w != "" {
		h.Warn(w)
	}
	if l := CheckLockout(t, s.Loaded.Policy, req.SSHConnection); l != nil {
		if !req.Force {
			return a, fmt.Errorf("refusing to apply: %v\n  fix the policy, or pass --force if you have another way in", l)
		}
		h.Warn(fmt.Sprintf("Warning: %v (applying anyway: --force)", l))
	}
	h.Show(s)
	links := LinkSpecOf(s.Loaded.Policy)
	if !s.Changes() {
		// The consistent read at p.GenID matched the policy: the next
		// plan may take the fast path (if nothing commits first).
		RecordInputs(t, p.State, s.Desired, links, o.Inputs)
		o.keepLastGood(t, s, h)
		return a, nil
	}
	if err := h.Approve(s); err != nil {
		return a, err
	}

	var pend *Pending
	if req.ConfirmTimeout > 0 {
		// The helper is armed before anything changes, with a deadline
		// far enough out for the apply itself; it is moved to now+D once
		// the apply is done.
		pend, err = SaveRollback(t, p.State, time.Now().Add(req.ConfirmTimeout+2*time.Minute))
		if err != nil {
			return a, err
		}
		pid, err := StartRollbackHelper(pend.File)
		if err != nil {
			pend.Confirm()
			return a, fmt.Errorf("starting the rollback helper: %w", err)
		}
		pend.HelperPID = pid
		if err := pend.Update(); err != nil {
			return a, err
		}
	}
	cancel := func() {
		if pend != nil {
			pend.Confirm()
		}
	}

	made, err := CreateVLANs(t, s.Links)
	if errors.Is(err, ErrNoVLANSupport) {
		// Refusing the whole apply would leave the WAN unguarded. The voice
		// VLAN rules match their links by name and take effect once the
		// links exist.
		h.Warn(fmt.Sprintf("Warning: %v.\n  The table is applied anyway: its voice VLAN rules match the links by name and take\n  effect once they exist (load the 8021q module and run apply again, or create them yourself).", err))
		err = nil
	}
	if err != nil {
		_ = DeleteLinks(t, made)
		cancel()
		return a, err
	}
	for _, n := range made {
		h.Created(n)
	}
	// A verified apply writes the state once, with the input record for
	// the no-op fast path when no input changed since o.Inputs was taken.
	record := func() []byte {
		if o.Inputs == nil || !o.Inputs.Unchanged() {
			return nil
		}
		b, _ := json.Marshal(inputRecordOf(t, o.Inputs, links, s.Digest()))
		return b
	}
	res, err := Apply(t, p, ApplyOptions{Verify: true, Record: record})
	a.Result = res
	if err != nil {
		if !res.Sent {
			_ = DeleteLinks(t, made)
			cancel()
		}
		return a, err
	}
	if res.Unknown != "" {
		h.Warn("Note: " + res.Unknown)
	}
	if !res.Sent {
		// Nothing to send: the table already matched in the plan's read.
		RecordInputs(t, p.State, s.Desired, links, o.Inputs)
	}
	if pend == nil {
		// An apply awaiting confirmation is kept when it is confirmed
		// (Confirm): until then it may be rolled back.
		if res.Unknown == "" {
			o.keepLastGood(t, s, h)
		}
		return a, nil
	}
	pend.Applied = res.GenID
	pend.Deadline = time.Now().Add(req.ConfirmTimeout)
	if err := pend.Update(); err != nil {
		return a, err
	}
	a.Pending = pend
	return a, nil
}

// Bounds of --confirm-timeout. Below a second the helper could restore
// the old table before anyone read the prompt; beyond an hour a forgotten
// rollback fires long after the admin moved on, undoing whatever was
// applied since.
const (
	MinConfirmTimeout = time.Second
	MaxConfirmTimeout = time.Hour
)

// CheckConfirmTimeout refuses a --confirm-timeout outside the bounds
// (0 and negative values included: they would arm no rollback at all).
func CheckConfirmTimeout(d time.Duration) error {
	switch {
	case d < MinConfirmTimeout:
		return fmt.Errorf("--confirm-timeout %v: must be at least %v (the time you have to confirm before the previous table is restored); leave the flag out for no rollback", d, MinConfirmTimeout)
	case d > MaxConfirmTimeout:
		return fmt.Errorf("--confirm-timeout %v: must be at most %v: a rollback armed longer fires after you moved on and undoes whatever was applied since", d, MaxConfirmTimeout)
	}
	return nil
}

// keepLastGood saves the table the kernel now holds as the one boot falls
// back to; failing to is a warning (the apply itself stands).
func (o *Operation) keepLastGood(t *Target, s *Session, h ApplyHooks) {
	if err := SaveLastGood(t, s.Desired, o.Path, s.Digest()); err != nil {
		h.Warn(fmt.Sprintf("Warning: the applied table could not be kept as the last good one (%s): %v; boot cannot fall back to it", LastGoodPath(t.Name), err))
	}
}

// Confirm keeps what the pending apply on the namespace applied.
func Confirm(netns string) (*Target, error) {
	t, err := Open(netns)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	p, err := LoadPending(t)
	if err != nil {
		return t, err
	}
	if p == nil {
		if r, err := ReadResult(PendingPath(t)); err == nil && r.Confirmed {
			return t, fmt.Errorf("nothing to confirm in %s: the apply was already confirmed at %s", t, r.At.Format("15:04:05"))
		} else if err == nil {
			return t, fmt.Errorf("nothing to confirm in %s: the apply was not confirmed in time (%s at %s)", t, r.Message, r.At.Format("15:04:05"))
		}
		return t, fmt.Errorf("nothing to confirm in %s: no apply is waiting for confirmation", t)
	}
	ok, err := p.Confirm()
	if err != nil {
		return t, err
	}
	if !ok {
		return t, fmt.Errorf("too late: the rollback of %s already ran", t)
	}
	return t, KeepConfirmed(t, "")
}

// KeepConfirmed saves the table t holds, just confirmed, as the last good
// one boot falls back to: every way of confirming (voicewall confirm, or
// confirm typed at apply's prompt) must, or a reboot would bring back the
// table from before the confirmed apply.
func KeepConfirmed(t *Target, policy string) error {
	st, err := Read(t, ReadOptions{NoCache: true})
	if err != nil {
		return fmt.Errorf("confirmed, but the table could not be read to keep it as the last good one: %w", err)
	}
	tab, err := st.Table()
	if err != nil {
		return fmt.Errorf("confirmed, but the table could not be kept as the last good one: %w", err)
	}
	if err := SaveLastGood(t, tab, policy, Digest(tab)); err != nil {
		return fmt.Errorf("confirmed, but the table could not be kept as the last good one: %w", err)
	}
	return nil
}

// NetnsFlag is the --netns flag that names the namespace in a command the
// user is told to run ("" for the current namespace).
func NetnsFlag(name string) string {
	if name == "" {
		return ""
	}
	return " --netns " + name
}

// helperExe is the voicewall binary the helper runs: VOICEWALL_EXE (tests,
// packaging) or this executable.
func helperExe() (string, error) {
	if x := os.Getenv("VOICEWALL_EXE"); x != "" {
		return x, nil
	}
	return os.Executable()
}

// StartRollbackHelper starts `voicewall rollback --state FILE` in its own
// session (no controlling terminal: a dropped SSH session does not hang it
// up), with its output in LogPath(FILE), and returns its pid. The process is
// reaped if this one lives longer; otherwise init adopts it.
func StartRollbackHelper(file string) (int, error) {
	exe, err := helperExe()
	if err != nil {
		return 0, err
	}
	// Appended to, so not through safefile; never through a link planted
	// at its name (the state dir was checked when the rollback was saved).
	logf, err := os.OpenFile(LogPath(file), os.O_CREATE|os.O_APPEND|os.O_WRONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd := exec.Command(exe, "rollback", "--state", file)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go cmd.Wait()
	return cmd.Process.Pid, nil
}

type indentedErr struct{ error }

// Error indents every line after the first by two spaces.
func (i indentedErr) Error() string {
	s, nl := strings.CutSuffix(i.error.Error(), "\n")
	s = strings.ReplaceAll(s, "\n", "\n  ")
	if nl {
		s += "\n"
	}
	return s
}

func indentErr(err error) error { return indentedErr{err} }
