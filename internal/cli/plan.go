package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/backends/nftables/live/inputs"
	"github.com/voicewall/voicewall/lang"
)

func init() {
	extraCommands = append(extraCommands, (*env).planCmd)
}

// livePlan is everything plan and apply know about one run (live's
// Session: the operation made it, the commands render it).
type livePlan = live.Session

// planErr renders what a plan's failure needs rendered (the policy's
// diagnostics) and returns the error the command exits with.
func (e *env) planErr(err error) error {
	var pe *live.PolicyError
	if errors.As(err, &pe) {
		e.printDiags(pe.Loaded)
		return exitError{1}
	}
	return err
}

// fastPlans counts plans (and applies) answered by the no-op fast path;
// tests read it.
var fastPlans atomic.Int64

func countFast(lp *livePlan) {
	if lp != nil && lp.Fast {
		fastPlans.Add(1)
	}
}

// inputIdentity stands for this voicewall in the input digest: Version
// (set with -ldflags -X), the Go build ID of the running executable (the
// go command derives it from the source of every package linked in, the
// toolchain and the build flags, so any change that could make the
// compiler or the differ behave otherwise changes it) and the Go version.
// Without a build ID there is no fast path.
func inputIdentity() ([]byte, error) {
	id, err := inputs.BuildID()
	if err != nil || id == "" {
		return nil, fmt.Errorf("no Go build ID: %v", err)
	}
	return []byte("voicewall\x00" + Version + "\x00" + id + "\x00" + runtime.Version()), nil
}

// snapshotInputs digests the policy's inputs (nil when it cannot, or when
// VOICEWALL_NO_FASTPATH is set: then neither the fast path nor the
// recording for it happens). wait (apply) lets files written a moment ago
// settle first, so that the snapshot can be recorded.
func snapshotInputs(path string, wait bool) live.Inputs {
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
	s, err := inputs.Take(id, path, wait)
	if err != nil {
		return nil
	}
	return s
}

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
			op := &live.Operation{Path: pathArg(args), Netns: netns, Load: keepingLoad}
			if out == "" { // a saved plan needs the compiled table: full path
				op.Inputs = snapshotInputs(op.Path, false)
			}
			lp, err := op.Plan(out == "")
			defer lp.Close()
			if err != nil {
				return e.planErr(err)
			}
			countFast(lp)
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
					fmt.Fprintf(e.stdout, "\nSaved the plan to %s. To apply exactly this plan: voicewall apply %s\n", lang.Printable(out, 4096, false), lang.Printable(out, 4096, false))
				}
			}
			if detailed && lp.Changes() {
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
