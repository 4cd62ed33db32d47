package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/voicewall/voicewall/backends/nftables/live"
)

func init() {
	extraCommands = append(extraCommands, (*env).rollbackCmd)
}

// rollbackCmd is the detached helper apply --confirm-timeout starts. It is
// hidden: people confirm (voicewall confirm) rather than call it.
func (e *env) rollbackCmd() *cobra.Command {
	var state string
	c := &cobra.Command{
		Use:    "rollback --state FILE",
		Short:  "Restore the previous table when an apply is not confirmed in time (started by apply)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if state == "" {
				return fmt.Errorf("--state is required")
			}
			if err := live.RunRollback(state); err != nil {
				fmt.Fprintln(e.stderr, "voicewall rollback:", err)
				return exitError{1}
			}
			if r, err := live.ReadResult(state); err == nil {
				fmt.Fprintf(e.stdout, "voicewall rollback at %s: %s\n", r.At.Format("2006-01-02 15:04:05"), r.Message)
			}
			return nil
		},
	}
	c.Flags().StringVar(&state, "state", "", "the pending file written by apply")
	return c
}
