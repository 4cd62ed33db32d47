package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/responsive"
)

func init() {
	extraCommands = append(extraCommands, (*env).confirmCmd)
}

func (e *env) confirmCmd() *cobra.Command {
	var netns string
	c := &cobra.Command{
		Use:   "confirm [--netns NAME]",
		Short: "Keep the configuration of an apply --confirm-timeout (cancels its rollback)",
		Long: `confirm keeps what the last "voicewall apply --confirm-timeout D" applied in the
namespace: the pending rollback is cancelled and its helper stopped. Exit 1
when there is nothing to confirm (no apply pending, or it was already rolled
back).`,
		Example: `  voicewall apply . --netns gw --confirm-timeout 60s --auto-approve
  voicewall confirm --netns gw`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := live.Confirm(netns)
			if err != nil {
				return err
			}
			responsive.PromotePendingGuard(t.Name, func(w string) { fmt.Fprintln(e.stderr, w) })
			fmt.Fprintf(e.stdout, "Confirmed: the configuration applied to %s stays.\n", t)
			return nil
		},
	}
	c.Flags().StringVar(&netns, "netns", "", "the network namespace /run/netns/NAME the apply was made in")
	return c
}
