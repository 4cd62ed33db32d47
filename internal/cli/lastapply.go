package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live"
)

// declined is the admin answering something else than "yes" at apply's
// prompt: not an apply that failed, so it is not recorded.
type declined struct{}

func (declined) Error() string { return "apply cancelled" }
func (declined) Unwrap() error { return exitError{1} }

// recordApply notes the outcome of an apply for monitoring (status
// --format prometheus: voicewall_last_apply_*). A record that cannot be
// written is a warning: the apply itself is done.
func (e *env) recordApply(a *live.Applied, netns, path string, when time.Time, err error) {
	var t *live.Target
	if a != nil && a.Session != nil && a.Session.Target != nil {
		t = a.Session.Target
	} else {
		var oerr error
		if t, oerr = live.Open(netns); oerr != nil {
			return // no namespace to record against
		}
		defer t.Close()
	}
	var untrusted *live.UntrustedError
	if rerr := live.RecordApply(t, path, when, err); errors.As(rerr, &untrusted) {
		// plan and apply already said the state dir is not trusted and
		// that nothing is kept there.
	} else if rerr != nil {
		fmt.Fprintf(e.stderr, "Warning: could not record the apply's outcome for monitoring: %v\n", rerr)
	}
}
