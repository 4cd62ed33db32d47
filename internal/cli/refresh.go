package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/feeds"
	"github.com/voicewall/voicewall/lang"
)

func init() {
	extraCommands = append(extraCommands, (*env).refreshCmd)
}

func (e *env) refreshCmd() *cobra.Command {
	var netns string
	var apply bool
	var only []string
	c := &cobra.Command{
		Use:   "refresh [PATH] [--apply] [--netns NAME] [--blocklist NAME]...",
		Short: "Download the policy's blocklist feeds, validate and guard each, then replace the last good files",
		Long: `refresh downloads every feed a blocklist declares (feed = "https://..." or
"apiban:sip"; an old blocklists/feeds.conf is read too). Each download must be
https (http only for a mirror the policy opts in with allow_http), end at the
same scheme after redirects, answer 200, stay under the size cap and arrive
whole. The list is converted into the blocklist format and validated with the
whole policy (the candidate stands in for the file without being written),
then guarded: no entry may cover a provider, a PBX, a voice VLAN or its
management, the gateway's DNS resolvers or default gateway (read in the target
namespace), the list may not cover more than max_share of the address space,
nor grow or shrink by more than max_change against the last good file. Only
then does it replace the file, atomically.

A refused feed keeps its last good file (and so the kernel's table) as it was;
refresh says which entry and which protected address or limit refused it,
exits 1 and counts the refusal in the metrics (status --format prometheus).

--apply then applies the policy as "voicewall apply --auto-approve" does (the
lock-out guard included), also when a feed was refused: every file in place is
a last good one.`,
		Example: `  voicewall refresh /etc/voicewall --apply
  voicewall refresh . --blocklist voipbl
  voicewall refresh examples/smb-blocklist --netns gw --apply`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.runRefresh(cmd.Context(), pathArg(args), netns, apply, only)
		},
	}
	c.Flags().StringVar(&netns, "netns", "", "guard against (and --apply to) the network namespace /run/netns/NAME instead of the current one")
	c.Flags().BoolVar(&apply, "apply", false, "apply the policy after the refresh (unattended: no prompt)")
	c.Flags().StringArrayVar(&only, "blocklist", nil, "refresh only this blocklist's feed (repeatable)")
	return c
}

func (e *env) runRefresh(ctx context.Context, path, netns string, apply bool, only []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// The gateway's lifelines are read before anything is downloaded: a
	// guard that cannot run refuses everything.
	t, err := live.Open(netns)
	if err != nil {
		return err
	}
	gw, err := live.GatewayProtected(t)
	t.Close()
	if err != nil {
		return fmt.Errorf("cannot guard the feeds: %w", err)
	}
	unlock, err := feeds.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	fetcher := &feeds.Fetcher{APIBANURL: os.Getenv("VOICEWALL_APIBAN_URL")}
	started := time.Now()
	rep, loaded, err := feeds.Refresh(ctx, feeds.Options{Path: path, Fetcher: fetcher, Gateway: gw, Only: only,
		// The program's loader: catalog updates and DNS answers as apply
		// sees them, without keeping new answers (apply keeps them).
		Load: func(p string, o lang.LoadOptions) *lang.Loaded { return loadPolicyOpts(p, false, o) }})
	if loaded != nil && loaded.Diags.HasErrors() {
		e.printDiags(loaded)
		return exitError{1}
	}
	if err != nil {
		return err
	}
	refused := 0
	for _, r := range rep.Results {
		name := fmt.Sprintf("blocklist %q (%s)", r.Blocklist, r.Feed)
		switch r.Status {
		case feeds.StatusReplaced:
			fmt.Fprintf(e.stdout, "%s: %s replaced, %d entries.\n", name, r.File, r.Entries)
		case feeds.StatusUnchanged:
			fmt.Fprintf(e.stdout, "%s: %s is current (%d entries).\n", name, r.File, r.Entries)
		case feeds.StatusRefused:
			refused++
			fmt.Fprintf(e.stderr, "%s: refused (%s): %s\n  The last good %s stays, and so does the table in the kernel.\n", name, r.Refusal.Reason, r.Refusal.Msg, r.File)
			if r.Loaded != nil {
				e.printDiags(r.Loaded)
			}
		}
	}
	if err := feeds.Record(rep, started); err != nil {
		fmt.Fprintf(e.stderr, "Warning: the refresh could not be recorded for the metrics: %v\n", err)
	}
	if apply {
		if err := e.runApply(path, netns, true, false, 0); err != nil {
			return err
		}
	}
	if refused > 0 {
		return fmt.Errorf("%d of %d feeds refused", refused, len(rep.Results))
	}
	return nil
}
