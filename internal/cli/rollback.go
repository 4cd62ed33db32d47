package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/responsive"
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
			// Read first: the helper removes the file when it is done.
			pend, _ := live.ReadPendingFile(state)
			if err := live.RunRollback(state); err != nil {
				fmt.Fprintln(e.stderr, "voicewall rollback:", err)
				return exitError{1}
			}
			r, err := live.ReadResult(state)
			if err != nil {
				return nil
			}
			fmt.Fprintf(e.stdout, "voicewall rollback at %s: %s\n", r.At.Format("2006-01-02 15:04:05"), r.Message)
			if r.Restored && !r.Confirmed && pend != nil && pend.PrevExisted {
				// The previous table came back with empty ban sets.
				t, err := live.OpenPath(pend.NetnsPath, pend.NetnsIno)
				if err != nil {
					fmt.Fprintf(e.stderr, "warning: recorded bans are not restored: %v\n", err)
					return nil
				}
				defer t.Close()
				if m := responsive.RestoreSaved(t, func(w string) { fmt.Fprintln(e.stderr, w) }).Summary(); m != "" {
					fmt.Fprintln(e.stdout, "voicewall rollback: "+m)
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&state, "state", "", "the pending file written by apply")
	return c
}
