package cli

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

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

// helperExe is the voicewall binary the helper runs: VOICEWALL_EXE (tests,
// packaging) or this executable.
func helperExe() (string, error) {
	if x := os.Getenv("VOICEWALL_EXE"); x != "" {
		return x, nil
	}
	return os.Executable()
}

// startRollbackHelper starts `voicewall rollback --state FILE` in its own
// session (no controlling terminal: a dropped SSH session does not hang it
// up), with its output in FILE's .log, and returns its pid. The process is
// reaped if this one lives longer; otherwise init adopts it.
func startRollbackHelper(file string) (int, error) {
	exe, err := helperExe()
	if err != nil {
		return 0, err
	}
	logf, err := os.OpenFile(strings.TrimSuffix(file, ".json")+".log", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
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
