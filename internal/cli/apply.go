package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/responsive"
)

func init() {
	extraCommands = append(extraCommands, (*env).applyCmd)
}

// stdinIsTerminal decides whether apply may prompt (tests replace it).
var stdinIsTerminal = func(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func (e *env) applyCmd() *cobra.Command {
	var netns string
	var autoApprove, force, fallback bool
	var confirmTimeout time.Duration
	c := &cobra.Command{
		Use:   "apply [PATH|PLANFILE] [--netns NAME] [--auto-approve] [--confirm-timeout D] [--force]",
		Short: "Apply the policy to the live table inet voicewall in one atomic netlink batch",
		Long: `apply prints the plan, asks for "yes" (on a terminal; elsewhere it needs
--auto-approve) and sends the changes in one atomic netlink transaction that
touches nothing but table inet voicewall. An unchanged policy sends nothing; a
changed blocklist sends only the added and removed elements. The batch carries
the ruleset generation the plan was read at: if anything changed the ruleset
in between, the kernel refuses it and nothing is applied.

A saved plan (voicewall plan -out FILE) is applied exactly, without a prompt,
or refused when the policy or the ruleset moved since it was saved.

--confirm-timeout D saves the current table first and starts a detached
helper that restores it after D unless the apply is confirmed: type "confirm"
at the prompt, or run "voicewall confirm" from another shell. The helper
survives this process and the SSH session dying.

apply refuses (unless --force) when the policy would drop the address you are
connected from ($SSH_CONNECTION), and, with or without SSH, when a blocklist
covers the namespace's DNS resolvers, its default gateway or the voice VLANs'
management addresses.

Every apply that leaves the kernel holding the policy's table keeps that table
as the last good one (under $VOICEWALL_LIB_DIR, default /var/lib/voicewall).
--fallback-last-good (the boot unit uses it): when the apply fails and there is
no table inet voicewall at all, load the last good table instead of leaving
the gateway without one, say so, and still exit 1.

Timed bans are recorded under $VOICEWALL_LIB_DIR/bans/. An apply that creates
or recreates the table (after a reboot), and the fallback, put the unexpired
ones back with what is left of their time, except those the policy now
protects (dropped from the record, with a warning). This never fails the
apply.`,
		Example: `  voicewall apply examples/asterisk-udp-trunk --netns gw
  voicewall apply . --confirm-timeout 60s
  voicewall apply gw.plan
  voicewall apply . --auto-approve   # from cron or a systemd timer
  voicewall apply /etc/voicewall --auto-approve --fallback-last-good   # at boot`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("confirm-timeout") {
				// Given explicitly, 0s is a mistake, not "no rollback".
				if err := live.CheckConfirmTimeout(confirmTimeout); err != nil {
					return err
				}
			}
			err := e.runApply(pathArg(args), netns, autoApprove, force, confirmTimeout)
			if err != nil && fallback {
				return e.fallbackLastGood(netns, err)
			}
			return err
		},
	}
	c.Flags().StringVar(&netns, "netns", "", "work in the network namespace /run/netns/NAME instead of the current one")
	c.Flags().BoolVar(&autoApprove, "auto-approve", false, "apply without asking (needed when stdin is not a terminal)")
	c.Flags().DurationVar(&confirmTimeout, "confirm-timeout", 0, "restore the previous table after this long unless the apply is confirmed (1s to 1h, e.g. 60s)")
	c.Flags().BoolVar(&force, "force", false, "apply even when the policy would drop your own SSH connection")
	c.Flags().BoolVar(&fallback, "fallback-last-good", false, "when the apply fails and the namespace has no table inet voicewall (a boot), load the last table that applied; still exit 1")
	return c
}

func (e *env) runApply(path, netns string, autoApprove, force bool, confirmTimeout time.Duration) error {
	saved, err := savedPlanAt(path)
	if err != nil {
		return err
	}
	req := live.ApplyRequest{SSHConnection: os.Getenv("SSH_CONNECTION"), Force: force, ConfirmTimeout: confirmTimeout}
	if saved != nil {
		if netns != "" && netns != saved.Netns {
			return fmt.Errorf("the plan %s was made for network namespace %q, not %q", path, saved.Netns, netns)
		}
		req.Saved = &live.SavedPlan{File: path, Policy: saved.Policy, Netns: saved.Netns, NetnsID: saved.NetnsID, GenID: saved.GenID, Digest: saved.Digest}
		netns, path = saved.Netns, saved.Policy
	}
	// Taken before the policy is loaded: a verified apply records it for
	// the no-op fast path only if no input changed in between.
	inputs := snapshotInputs(path, true)
	if policyUsesProviderInputs(path) {
		inputs = nil // the digest of the input files does not cover catalog updates and DNS answers
	}
	op := &live.Operation{Path: path, Netns: netns, Inputs: inputs, Load: keepingLoad}
	in := bufio.NewReader(e.stdin) // shared by the prompt and the confirm wait
	started := time.Now()
	a, err := op.Apply(req, live.ApplyHooks{
		Show: func(lp *live.Session) { e.printPlan(lp, true) },
		Approve: func(lp *live.Session) error {
			if saved != nil || autoApprove {
				return nil
			}
			if !stdinIsTerminal(e.stdin) {
				return errors.New("apply needs approval: run it on a terminal and answer yes, or pass --auto-approve")
			}
			fmt.Fprintf(e.stdout, "\nDo you want to perform these actions in %s?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", lp.Target)
			line, _ := in.ReadString('\n')
			if strings.TrimSpace(line) != "yes" {
				fmt.Fprintln(e.stdout, "\nApply cancelled.")
				return declined{}
			}
			return nil
		},
		Warn:    func(s string) { fmt.Fprintln(e.stderr, s) },
		Created: func(n string) { fmt.Fprintf(e.stdout, "Created VLAN link %s.\n", n) },
	})
	if !errors.As(err, &declined{}) {
		e.recordApply(a, netns, path, started, err)
	}
	if a != nil {
		defer a.Session.Close()
		countFast(a.Session)
	}
	if err != nil {
		return e.planErr(err)
	}
	if a.Session != nil && a.Session.Loaded != nil && a.Session.Loaded.Policy != nil {
		e.markDNSApplied(a.Session.Loaded.Policy)
	}
	res := a.Result
	if res == nil {
		e.restoreBans(a, path)
		return nil
	}
	add, change, remove := a.Session.Plan.Counts()
	if res.Sent {
		fmt.Fprintf(e.stdout, "\nApply complete! Resources: %d added, %d changed, %d removed. (one batch: %d messages, %d set elements, %d bytes; kernel %v; generation now %d)\n",
			add, change, remove, res.Stats.Messages, res.Stats.Elements, res.Stats.Bytes, res.Stats.Kernel.Round(time.Millisecond), res.GenID)
	} else {
		fmt.Fprintln(e.stdout, "\nApply complete! The table was already as planned; nothing was sent.")
	}
	e.restoreBans(a, path)
	if a.Pending == nil {
		return nil
	}
	return e.awaitConfirm(in, a.Pending, a.Session.Target, path, confirmTimeout)
}

// restoreBans checks the recorded bans against the policy that applied
// and, when the apply left the ban sets empty (a new or recreated table),
// puts them back. It never changes the apply's outcome.
func (e *env) restoreBans(a *live.Applied, path string) {
	s := a.Session
	if s == nil || s.Loaded == nil || s.Loaded.Policy == nil {
		return // the no-op fast path: the policy and the table are as they were
	}
	sent := a.Result != nil && a.Result.Sent
	keep := a.Pending == nil && (a.Result == nil || a.Result.Unknown == "")
	warn := func(w string) { fmt.Fprintln(e.stderr, w) }
	if a.Pending != nil {
		// Kept as the last good one only once confirmed (keepConfirmed).
		responsive.SavePendingGuard(s.Target, s.Loaded.Policy, path, warn)
	}
	r := responsive.AfterApply(s.Target, s.Loaded.Policy, path, sent && responsive.PlanEmptiesBans(s.Plan), keep, warn)
	if m := r.Summary(); m != "" {
		fmt.Fprintln(e.stdout, m)
	}
}

// awaitConfirm waits for "confirm" on a terminal; without one it leaves the
// helper armed and says how to confirm.
func (e *env) awaitConfirm(in *bufio.Reader, pend *live.Pending, t *live.Target, path string, d time.Duration) error {
	how := fmt.Sprintf("voicewall confirm%s", netnsFlag(t.Name))
	if !stdinIsTerminal(e.stdin) {
		fmt.Fprintf(e.stdout, "\nThe previous table is restored at %s (in %v) unless you run `%s` before.\n", pend.Deadline.Format("15:04:05"), d, how)
		return nil
	}
	fmt.Fprintf(e.stdout, "\nType confirm within %v to keep this configuration (or run `%s` from another shell);\notherwise the previous table is restored at %s.\n\n  Enter a value: ", d, how, pend.Deadline.Format("15:04:05"))
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
		close(lines)
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			if l != "confirm" {
				fmt.Fprint(e.stdout, "  Only 'confirm' keeps the configuration. Enter a value: ")
				continue
			}
			done, err := pend.Confirm()
			if err != nil {
				return err
			}
			if !done {
				return e.reportRollback(pend)
			}
			fmt.Fprintln(e.stdout, "\nConfirmed: the new configuration stays.")
			return e.keepConfirmed(t, path)
		case <-tick.C:
			if _, err := os.Stat(pend.File); errors.Is(err, os.ErrNotExist) {
				return e.reportRollback(pend)
			}
			if time.Now().After(pend.Deadline.Add(30 * time.Second)) {
				return fmt.Errorf("the rollback helper did not act by %s; check %s", pend.Deadline.Format("15:04:05"), pend.File)
			}
		}
	}
}

// keepConfirmed makes a confirmed apply the last good one: its table for
// boot's fallback, its policy's protected addresses for the ban record.
func (e *env) keepConfirmed(t *live.Target, path string) error {
	responsive.PromotePendingGuard(t.Name, func(w string) { fmt.Fprintln(e.stderr, w) })
	return live.KeepConfirmed(t, path)
}

func (e *env) reportRollback(pend *live.Pending) error {
	r, err := live.ReadResult(pend.File)
	if err != nil {
		return fmt.Errorf("not confirmed in time; the rollback helper left no report: %w", err)
	}
	if r.Confirmed {
		fmt.Fprintln(e.stdout, "\nConfirmed from another shell: the new configuration stays.")
		return nil
	}
	if !r.Restored {
		return fmt.Errorf("not confirmed in time, and the rollback failed: %s", r.Message)
	}
	fmt.Fprintf(e.stdout, "\nNot confirmed in time: %s.\n", r.Message)
	return exitError{1}
}

// fallbackLastGood runs after a failed apply: with no table in the kernel,
// the last good one is loaded. The command fails either way, loudly: the
// policy on disk is not what runs.
func (e *env) fallbackLastGood(netns string, applyErr error) error {
	var pe *live.PolicyError
	if errors.As(applyErr, &pe) {
		e.printDiags(pe.Loaded)
	} else if !errors.As(applyErr, &exitError{}) {
		fmt.Fprintf(e.stderr, "Error: %v\n", applyErr)
	}
	lg, err := live.FallbackLastGood(netns)
	switch {
	case errors.Is(err, live.ErrTablePresent):
		fmt.Fprintf(e.stderr, "voicewall: the apply failed; %v.\n", err)
	case err != nil:
		fmt.Fprintf(e.stderr, "voicewall: THE APPLY FAILED AND THERE IS NO FIREWALL TABLE: %v.\n  The gateway runs without table inet voicewall. Fix the policy and run voicewall apply.\n", err)
	default:
		fmt.Fprintf(e.stderr, "voicewall: THE POLICY DID NOT APPLY. Loaded the LAST GOOD TABLE instead (applied from %s at %s, %s; nft text: %s).\n  The gateway runs that table, not the policy on disk: fix the policy and run voicewall apply.\n",
			lg.Policy, lg.Saved.Format(time.RFC3339), lg.File, live.LastGoodTextPath(lg.File))
		e.restoreSavedBans(netns)
	}
	return exitError{1}
}

// restoreSavedBans puts the recorded bans back into a table that did not
// come from the policy (the last good one, a rollback's previous one).
func (e *env) restoreSavedBans(netns string) {
	t, err := live.Open(netns)
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: recorded bans are not restored: %v\n", err)
		return
	}
	defer t.Close()
	r := responsive.RestoreSaved(t, func(w string) { fmt.Fprintln(e.stderr, w) })
	if m := r.Summary(); m != "" {
		fmt.Fprintln(e.stderr, "voicewall: "+m)
	}
}
