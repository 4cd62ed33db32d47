package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/spf13/cobra"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/lang"
)

func init() {
	extraCommands = append(extraCommands, (*env).planCmd)
}

// livePlan is everything plan and apply know about one run: the policy,
// the namespace, what the kernel holds and what changes.
type livePlan struct {
	path     string // policy path as given
	loaded   *lang.Loaded
	target   *live.Target
	desired  *vw.Table
	plan     *live.Plan
	links    []live.Link
	warnings []string
	pending  *live.Pending
	// fastDigest is set when the no-op fast path made this plan: the
	// compiled table's digest as recorded by the apply it rests on
	// (loaded and desired are then nil).
	fastDigest string
}

// changes reports whether applying would change anything (table or links).
func (lp *livePlan) changes() bool {
	if !lp.plan.Empty() {
		return true
	}
	for _, l := range lp.links {
		if l.Create {
			return true
		}
	}
	return false
}

// preparePlan loads the policy, opens the namespace, checks its links,
// reads table inet voicewall and diffs it with the compiled policy.
func (e *env) preparePlan(path, netns string, readOpts live.ReadOptions) (*livePlan, error) {
	lp := &livePlan{path: path}
	lp.loaded = lang.LoadFull(path)
	if lp.loaded.Diags.HasErrors() {
		e.printDiags(lp.loaded)
		return nil, exitError{1}
	}
	t, err := live.Open(netns)
	if err != nil {
		return nil, err
	}
	lp.target = t
	lp.desired = vw.Build(lp.loaded.Policy)
	lp.links, err = live.CheckLinks(t, lp.loaded.Policy)
	if err != nil {
		return lp, err
	}
	if err := live.LinkProblems(lp.links); err != nil {
		return lp, fmt.Errorf("target \"nftables\" of the policy does not fit %s:\n  %w", t, indentErr(err))
	}
	st, err := live.Read(t, readOpts)
	if err != nil {
		return lp, fmt.Errorf("reading table inet voicewall in %s: %w", t, err)
	}
	lp.plan = live.Diff(st, lp.desired)
	lp.warnings = sipWarnings(t)
	lp.pending, _ = live.LoadPending(t)
	return lp, nil
}

func sipWarnings(t *live.Target) []string {
	var ws []string
	if w, err := live.SIPHelpers(t); err != nil {
		ws = append(ws, "could not check for SIP helpers: "+err.Error())
	} else {
		for _, x := range w {
			ws = append(ws, "SIP ALG: "+x+"; voicewall never attaches the conntrack SIP helper; remove it (it rewrites SIP and breaks calls)")
		}
	}
	return ws
}

// fastPlans counts plans (and applies) answered by the no-op fast path;
// tests read it.
var fastPlans atomic.Int64

// inputIdentity stands for this voicewall in the input digest: Version
// (set with -ldflags -X), the Go build ID of the running executable (the go
// command derives it from the source of every package linked in, the
// toolchain and the build flags, so any change that could make the
// compiler or the differ behave otherwise changes it) and the Go version.
// Without a build ID there is no fast path.
func inputIdentity() ([]byte, error) {
	id, err := live.BuildID()
	if err != nil || id == "" {
		return nil, fmt.Errorf("no Go build ID: %v", err)
	}
	return []byte("voicewall\x00" + Version + "\x00" + id + "\x00" + runtime.Version()), nil
}

// snapshotInputs digests the policy's inputs (nil when it cannot, or when
// VOICEWALL_NO_FASTPATH is set: then neither the fast path nor the
// recording for it happens). wait (apply) lets files written a moment ago
// settle first, so that the snapshot can be recorded.
func snapshotInputs(path string, wait bool) *live.InputSnapshot {
	if os.Getenv("VOICEWALL_NO_FASTPATH") != "" {
		return nil
	}
	if path == "" {
		path = "."
	}
	id, err := inputIdentity()
	if err != nil {
		return nil
	}
	s, err := live.SnapshotInputs(id, path, wait)
	if err != nil {
		return nil
	}
	return s
}

// fastPlan is the no-op fast path (docs/live.md): when the inputs are
// byte for byte those of the last apply and the kernel provably holds what
// that apply left, it makes the "No changes" plan without loading the
// policy's blocklists. Links, SIP helpers and pending rollbacks are
// checked live as preparePlan does. It returns nil whenever anything is
// different or in doubt: the caller then takes the full path.
func (e *env) fastPlan(path, netns string, snap *live.InputSnapshot) *livePlan {
	if snap == nil {
		return nil
	}
	t, err := live.Open(netns)
	if err != nil {
		return nil
	}
	lp := &livePlan{path: path, target: t}
	rec, genid, ok := live.FastNoChange(t, snap)
	if !ok {
		lp.close()
		return nil
	}
	// The cache entry exists for this nonce and generation, so the full
	// path's Read would take the set contents from it too.
	lp.plan = &live.Plan{GenID: genid, State: &live.State{GenID: genid, Exists: true, CacheHit: true}}
	lp.fastDigest = rec.Table
	lp.links, err = live.CheckLinks(t, rec.LinkPolicy())
	if err != nil || live.LinkProblems(lp.links) != nil || lp.changes() {
		lp.close()
		return nil
	}
	if lp.pending, err = live.LoadPending(t); err != nil || lp.pending != nil {
		lp.close()
		return nil
	}
	lp.warnings = sipWarnings(t)
	fastPlans.Add(1)
	return lp
}

// digest is the compiled table's digest: the one recorded with the apply
// the fast path rests on, else that of the loaded policy.
func (lp *livePlan) digest() string {
	if lp.fastDigest != "" {
		return lp.fastDigest
	}
	return live.Digest(lp.desired)
}

func (lp *livePlan) close() {
	if lp != nil && lp.target != nil {
		lp.target.Close()
	}
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

func (e *env) planCmd() *cobra.Command {
	var netns, format, out string
	var detailed bool
	c := &cobra.Command{
		Use:   "plan [PATH] [--netns NAME] [--detailed-exitcode] [-out FILE] [--format text|json]",
		Short: "Show what apply would change in the live table inet voicewall",
		Long: `plan reads table inet voicewall from the kernel (through netlink, in the current
network namespace or /run/netns/NAME), compares it with the compiled policy and
prints what apply would do: + add, - remove, ~ change, grouped by the policy
block each rule comes from. Large sets are shown as counts. It changes
nothing.

With --detailed-exitcode the exit code is 0 when there is nothing to change,
2 when there are changes, 1 on errors. -out FILE saves the plan (policy,
ruleset generation and compiled-table digest) for "voicewall apply FILE",
which applies exactly that plan or refuses when anything moved.`,
		Example: `  voicewall plan examples/asterisk-udp-trunk --netns gw
  voicewall plan . --detailed-exitcode
  voicewall plan . -out gw.plan && voicewall apply gw.plan`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("unknown --format %q: use text or json", format)
			}
			var lp *livePlan
			if out == "" { // a saved plan needs the compiled table: full path
				lp = e.fastPlan(pathArg(args), netns, snapshotInputs(pathArg(args), false))
			}
			var err error
			if lp == nil {
				lp, err = e.preparePlan(pathArg(args), netns, live.ReadOptions{})
			}
			defer lp.close()
			if err != nil {
				return err
			}
			if out != "" {
				if err := savePlanFile(out, lp); err != nil {
					return fmt.Errorf("-out: %w", err)
				}
			}
			if format == "json" {
				if err := writeJSON(e.stdout, planJSON(lp)); err != nil {
					return err
				}
			} else {
				e.printPlan(lp, false)
				if out != "" {
					fmt.Fprintf(e.stdout, "\nSaved the plan to %s. To apply exactly this plan: voicewall apply %s\n", out, out)
				}
			}
			if detailed && lp.changes() {
				return exitError{2}
			}
			return nil
		},
	}
	c.Flags().StringVar(&netns, "netns", "", "work in the network namespace /run/netns/NAME instead of the current one")
	formatFlag(c, &format, "text", "json")
	c.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 0 when there is nothing to change, 2 when there are changes, 1 on errors")
	c.Flags().StringVar(&out, "out", "", "save the plan to FILE for `voicewall apply FILE`")
	return c
}

// absPath makes a policy path absolute for saved plans.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// savedPlanAt returns the saved plan at path, or nil when path is a policy
// (a directory, an .hcl file, or a file that is not a plan).
func savedPlanAt(path string) (*planFile, error) {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() || filepath.Ext(path) == ".hcl" {
		return nil, nil
	}
	pf, err := readPlanFile(path)
	if errors.Is(err, errNotPlan) {
		return nil, nil
	}
	return pf, err
}
