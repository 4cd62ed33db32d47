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
	var autoApprove, force bool
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
connected from ($SSH_CONNECTION).`,
		Example: `  voicewall apply examples/asterisk-udp-trunk --netns gw
  voicewall apply . --confirm-timeout 60s
  voicewall apply gw.plan
  voicewall apply . --auto-approve   # from cron or a systemd timer`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.runApply(pathArg(args), netns, autoApprove, force, confirmTimeout)
		},
	}
	c.Flags().StringVar(&netns, "netns", "", "work in the network namespace /run/netns/NAME instead of the current one")
	c.Flags().BoolVar(&autoApprove, "auto-approve", false, "apply without asking (needed when stdin is not a terminal)")
	c.Flags().DurationVar(&confirmTimeout, "confirm-timeout", 0, "restore the previous table after this long unless the apply is confirmed (e.g. 60s)")
	c.Flags().BoolVar(&force, "force", false, "apply even when the policy would drop your own SSH connection")
	return c
}

func (e *env) runApply(path, netns string, autoApprove, force bool, confirmTimeout time.Duration) error {
	saved, err := savedPlanAt(path)
	if err != nil {
		return err
	}
	if saved != nil {
		if netns != "" && netns != saved.Netns {
			return fmt.Errorf("the plan %s was made for network namespace %q, not %q", path, saved.Netns, netns)
		}
		netns, path = saved.Netns, saved.Policy
	}
	if confirmTimeout < 0 {
		return errors.New("--confirm-timeout must be positive")
	}
	// Taken before the policy is loaded: a verified apply records it for
	// the no-op fast path only if no input changed in between.
	snap := snapshotInputs(path, true)
	// The fast path: an unchanged apply sends nothing. Not for saved plans
	// (they check their own digest) nor under SSH (the lockout check
	// evaluates the whole policy, blocklists included).
	if _, _, _, ssh := live.ParseSSHConnection(os.Getenv("SSH_CONNECTION")); saved == nil && !ssh {
		if lp := e.fastPlan(path, netns, snap); lp != nil {
			defer lp.close()
			e.printPlan(lp, true)
			return nil
		}
	}
	lp, err := e.preparePlan(path, netns, live.ReadOptions{})
	defer lp.close()
	if err != nil {
		return err
	}
	t, p := lp.target, lp.plan
	if pd := lp.pending; pd != nil {
		if !pd.HelperAlive() {
			return fmt.Errorf("an earlier apply on %s was never confirmed, and its rollback helper (pid %d) is gone: run `voicewall confirm%s` to keep the current table, or `voicewall rollback --state %s` to restore the one before it",
				t, pd.HelperPID, netnsFlag(t.Name), pd.File)
		}
		return fmt.Errorf("an earlier apply on %s is waiting for confirmation until %s: run `voicewall confirm%s` to keep it, or wait for the rollback, then apply again",
			t, pd.Deadline.Format("15:04:05"), netnsFlag(t.Name))
	}
	if saved != nil {
		if saved.NetnsID != t.ID() {
			return fmt.Errorf("the plan %s was made for another network namespace (the one named %q was replaced since): plan again", path, saved.Netns)
		}
		if d := live.Digest(lp.desired); d != saved.Digest {
			return fmt.Errorf("the policy %s no longer compiles to the table the saved plan was made for: plan again", saved.Policy)
		}
		if p.GenID != saved.GenID {
			return &live.StaleError{Planned: saved.GenID, Now: p.GenID}
		}
	}
	if l := live.CheckLockout(t, lp.loaded.Policy, os.Getenv("SSH_CONNECTION")); l != nil {
		if !force {
			return fmt.Errorf("refusing to apply: %v\n  fix the policy, or pass --force if you have another way in", l)
		}
		fmt.Fprintf(e.stderr, "Warning: %v (applying anyway: --force)\n", l)
	}
	e.printPlan(lp, true)
	if !lp.changes() {
		// The consistent read at p.GenID matched the policy: the next
		// plan may take the fast path (if nothing commits first).
		live.RecordInputs(t, p.GenID, lp.desired, lp.loaded.Policy, snap)
		return nil
	}

	in := bufio.NewReader(e.stdin) // shared by the prompt and the confirm wait
	if saved == nil && !autoApprove {
		if !stdinIsTerminal(e.stdin) {
			return errors.New("apply needs approval: run it on a terminal and answer yes, or pass --auto-approve")
		}
		fmt.Fprintf(e.stdout, "\nDo you want to perform these actions in %s?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", t)
		line, _ := in.ReadString('\n')
		if strings.TrimSpace(line) != "yes" {
			fmt.Fprintln(e.stdout, "\nApply cancelled.")
			return exitError{1}
		}
	}

	var pend *live.Pending
	if confirmTimeout > 0 {
		// The helper is armed before anything changes, with a deadline
		// far enough out for the apply itself; it is moved to now+D once
		// the apply is done.
		pend, err = live.SaveRollback(t, p.State, time.Now().Add(confirmTimeout+2*time.Minute))
		if err != nil {
			return err
		}
		pid, err := startRollbackHelper(pend.File)
		if err != nil {
			pend.Confirm()
			return fmt.Errorf("starting the rollback helper: %w", err)
		}
		pend.HelperPID = pid
		if err := pend.Update(); err != nil {
			return err
		}
	}
	cancel := func() {
		if pend != nil {
			pend.Confirm()
		}
	}

	made, err := live.CreateVLANs(t, lp.links)
	if errors.Is(err, live.ErrNoVLANSupport) {
		// Refusing the whole apply would leave the WAN unguarded. The voice
		// VLAN rules match their links by name and take effect once the
		// links exist.
		fmt.Fprintf(e.stderr, "Warning: %v.\n  The table is applied anyway: its voice VLAN rules match the links by name and take\n  effect once they exist (load the 8021q module and run apply again, or create them yourself).\n", err)
		err = nil
	}
	if err != nil {
		_ = live.DeleteLinks(t, made)
		cancel()
		return err
	}
	for _, n := range made {
		fmt.Fprintf(e.stdout, "Created VLAN link %s.\n", n)
	}
	res, err := live.Apply(t, p, live.ApplyOptions{Verify: true})
	if err != nil {
		if !res.Sent {
			_ = live.DeleteLinks(t, made)
			cancel()
		}
		return err
	}
	if res.Unknown != "" {
		fmt.Fprintf(e.stderr, "Note: %s\n", res.Unknown)
	}
	if res.Verified || !res.Sent {
		// Verified (or nothing to send: the table already matched at
		// res.GenID): record the inputs for the no-op fast path.
		live.RecordInputs(t, res.GenID, lp.desired, lp.loaded.Policy, snap)
	}
	add, change, remove := p.Counts()
	if res.Sent {
		fmt.Fprintf(e.stdout, "\nApply complete! Resources: %d added, %d changed, %d removed. (one batch: %d messages, %d set elements, %d bytes; kernel %v; generation now %d)\n",
			add, change, remove, res.Stats.Messages, res.Stats.Elements, res.Stats.Bytes, res.Stats.Kernel.Round(time.Millisecond), res.GenID)
	} else {
		fmt.Fprintln(e.stdout, "\nApply complete! The table was already as planned; nothing was sent.")
	}
	if pend == nil {
		return nil
	}
	pend.Applied = res.GenID
	pend.Deadline = time.Now().Add(confirmTimeout)
	if err := pend.Update(); err != nil {
		return err
	}
	return e.awaitConfirm(in, pend, t, confirmTimeout)
}

// awaitConfirm waits for "confirm" on a terminal; without one it leaves the
// helper armed and says how to confirm.
func (e *env) awaitConfirm(in *bufio.Reader, pend *live.Pending, t *live.Target, d time.Duration) error {
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
			return nil
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

func (e *env) reportRollback(pend *live.Pending) error {
	r, err := live.ReadResult(pend.File)
	if err != nil {
		return fmt.Errorf("not confirmed in time; the rollback helper left no report: %w", err)
	}
	if !r.Restored {
		return fmt.Errorf("not confirmed in time, and the rollback failed: %s", r.Message)
	}
	fmt.Fprintf(e.stdout, "\nNot confirmed in time: %s.\n", r.Message)
	return exitError{1}
}
