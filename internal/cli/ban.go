package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/lang"
	"github.com/voicewall/voicewall/responsive"
)

func init() {
	extraCommands = append(extraCommands, (*env).banCmd, (*env).unbanCmd, (*env).bansCmd, (*env).watchCmd)
}

// defaultPolicy is where ban, unban and bans read the policy (what is
// protected, how long a ban lasts) when --policy is not given.
const defaultPolicy = "/etc/voicewall"

func (e *env) loadPolicy(path string) (*lang.Policy, error) {
	l := loadPolicy(path, false) // targets, catalog and DNS answers, as every command loads
	if l.Diags.HasErrors() {
		e.printDiags(l)
		return nil, exitError{1}
	}
	return l.Policy, nil
}

func (e *env) banCmd() *cobra.Command {
	var netns, policy, reason, dur string
	c := &cobra.Command{
		Use:   "ban ADDR[/PREFIX] [--for DURATION] [--netns NAME] [--policy PATH] [--reason cli|watch|fail2ban]",
		Short: "Ban a source on every WAN port for a while (timed ban, straight into the kernel)",
		Long: `ban adds ADDR (or a network) to the timed-ban set of table inet voicewall
through netlink: its packets are dropped on every WAN port right after the
blocklists, until the ban expires (--for, default ban.default of the policy).
No nft process runs and nothing else of the table changes; plan never shows
a ban as drift and apply keeps it.

The policy (--policy, default /etc/voicewall) says what is never banned: a
provider's signaling and media, a voice VLAN's subnets and management, a
PBX, and ban.never. Such a ban is refused naming the block and its
file:line. Banning the same prefix again renews it.

Every ban is also recorded (prefix, reason, expiry) in
$VOICEWALL_LIB_DIR/bans/NAMESPACE.json (default /var/lib/voicewall/bans/),
so an apply after a reboot puts it back with what is left of its time.`,
		Example: `  voicewall ban 198.51.100.66 --for 2h
  voicewall ban 198.51.100.0/24 --netns gw --policy examples/remote-phones`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pfx, err := responsive.ParseTarget(args[0])
			if err != nil {
				return err
			}
			var d time.Duration
			if dur != "" {
				if d, err = lang.ParseDuration(dur); err != nil {
					return fmt.Errorf("--for: %w", err)
				}
			}
			k, err := e.kernel(netns, policy)
			if err != nil {
				return err
			}
			defer k.Target.Close()
			if err := k.Ban(pfx, d, reason); err != nil {
				return err
			}
			if d == 0 {
				d = k.Policy.Ban.Default
			}
			fmt.Fprintf(e.stdout, "banned %s for %s (%s)\n", args[0], lang.FormatDuration(d), reason)
			return nil
		},
	}
	c.Flags().StringVar(&dur, "for", "", "how long (e.g. 30m, 2h, 7d); default: ban.default")
	c.Flags().StringVar(&reason, "reason", "cli", "who bans: cli, watch or fail2ban (kept with the ban)")
	e.kernelFlags(c, &netns, &policy)
	return c
}

func (e *env) kernelFlags(c *cobra.Command, netns, policy *string) {
	c.Flags().StringVar(netns, "netns", "", "network namespace (/run/netns/NAME) instead of the current one")
	c.Flags().StringVar(policy, "policy", defaultPolicy, "the policy that says what is protected")
}

func (e *env) kernel(netns, policy string) (*responsive.Kernel, error) {
	p, err := e.loadPolicy(policy)
	if err != nil {
		return nil, err
	}
	t, err := live.Open(netns)
	if err != nil {
		return nil, err
	}
	return e.recording(&responsive.Kernel{Target: t, Policy: p}), nil
}

// recording makes k keep the ban record (LibDir()/bans/), warning on
// stderr.
func (e *env) recording(k *responsive.Kernel) *responsive.Kernel {
	warn := func(s string) { fmt.Fprintln(e.stderr, s) }
	k.Store = responsive.StoreFor(k.Target.Name)
	k.Store.Warn, k.Warn = warn, warn
	return k
}

func (e *env) unbanCmd() *cobra.Command {
	var netns, policy string
	c := &cobra.Command{
		Use:   "unban ADDR[/PREFIX] [--netns NAME]",
		Short: "Lift a timed ban",
		Long: `unban removes exactly the ban of ADDR[/PREFIX] (as voicewall bans lists it) from the
kernel and from the ban record ($VOICEWALL_LIB_DIR/bans/), so no apply puts it back.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pfx, err := responsive.ParseTarget(args[0])
			if err != nil {
				return err
			}
			t, err := live.Open(netns)
			if err != nil {
				return err
			}
			defer t.Close()
			k := e.recording(&responsive.Kernel{Target: t})
			if err := k.Unban(pfx); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "unbanned %s\n", args[0])
			return nil
		},
	}
	c.Flags().StringVar(&netns, "netns", "", "network namespace (/run/netns/NAME) instead of the current one")
	c.Flags().StringVar(&policy, "policy", defaultPolicy, "accepted for symmetry with ban; an unban needs no policy")
	return c
}

func (e *env) bansCmd() *cobra.Command {
	var netns, format string
	c := &cobra.Command{
		Use:   "bans [--netns NAME] [--format text|json]",
		Short: "List the timed bans: address, reason (cli, watch, fail2ban), expiry, whether recorded",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("unknown --format %q: use text or json", format)
			}
			t, err := live.Open(netns)
			if err != nil {
				return err
			}
			defer t.Close()
			bans, err := e.recording(&responsive.Kernel{Target: t}).Bans()
			if err != nil {
				return err
			}
			if format == "json" {
				if bans == nil {
					bans = []responsive.Ban{}
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(bans)
			}
			if len(bans) == 0 {
				fmt.Fprintln(e.stdout, "No bans.")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ADDRESS\tREASON\tEXPIRES IN\tRECORDED")
			for _, b := range bans {
				rec := "no"
				if b.Recorded {
					rec = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.Address, lang.Printable(b.Reason, 32, false), lang.FormatDuration(time.Duration(max(b.ExpiresIn, 1))*time.Second), rec)
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&netns, "netns", "", "network namespace (/run/netns/NAME) instead of the current one")
	c.Flags().StringVar(&format, "format", "text", "text or json")
	return c
}

func (e *env) watchCmd() *cobra.Command {
	var netns, textfile string
	var fromStart bool
	c := &cobra.Command{
		Use:   "watch [PATH] [--netns NAME] [--textfile DIR]",
		Short: "The responsive daemon: follow the PBX's security log, trust registered phones, ban failing sources",
		Long: `watch follows the log of the policy's watch block (Asterisk's security log,
res_security_log: PJSIP and chan_sip events) like tail -F, through rotation.
A SuccessfulAuth trusts the source for remote_phones.trust_for: its SIP is no
longer rate-limited and its RTP reaches the PBX. watch.failures failed
authentications (InvalidPassword, ChallengeResponseFailed, InvalidAccountID,
FailedACL, RequestNotAllowed) within watch.within ban the source for
watch.ban_for, unless the policy protects it (providers are never banned).
Elements go straight into the kernel's sets through netlink. --textfile DIR
writes DIR/voicewall-watch.prom (events by type, bans, trusts) for
node_exporter. A systemd unit runs it: voicewall-watch.service.`,
		Example: `  voicewall watch /etc/voicewall
  voicewall watch examples/remote-phones --netns gw`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := e.loadPolicy(pathArg(args))
			if err != nil {
				return err
			}
			if len(p.Watches) == 0 {
				return fmt.Errorf("the policy has no watch block: add watch \"asterisk\" { log = \"/var/log/asterisk/security\" }")
			}
			if textfile != "" {
				if fi, err := os.Stat(textfile); err != nil || !fi.IsDir() {
					// Metrics are an extra: the watcher still protects.
					fmt.Fprintf(e.stderr, "warning: --textfile %s is not a directory (is node_exporter installed?); writing no metrics\n", textfile)
					textfile = ""
				}
			}
			t, err := live.Open(netns)
			if err != nil {
				return err
			}
			defer t.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			k := e.recording(&responsive.Kernel{Target: t, Policy: p})
			errs := make(chan error, len(p.Watches))
			for _, w := range p.Watches {
				go func(w *lang.Watch) {
					errs <- responsive.Watch(ctx, k, w, responsive.WatchOptions{Log: e.stderr, Textfile: textfile, FromStart: fromStart})
				}(w)
			}
			var first error
			for range p.Watches {
				if err := <-errs; err != nil && first == nil {
					first = err
					stop()
				}
			}
			return first
		},
	}
	c.Flags().StringVar(&netns, "netns", "", "network namespace (/run/netns/NAME) instead of the current one")
	c.Flags().StringVar(&textfile, "textfile", "", "directory for voicewall-watch.prom (node_exporter's textfile collector)")
	c.Flags().BoolVar(&fromStart, "from-start", false, "read the log from its beginning (default: only lines written from now on)")
	c.SetContext(context.Background())
	return c
}
