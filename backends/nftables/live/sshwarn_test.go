package live

import (
	"strings"
	"testing"
)

// A $SSH_CONNECTION the lock-out guard cannot read is said, not
// silently skipped; an unset or readable one says nothing.
func TestSSHWarning(t *testing.T) {
	for _, v := range []string{"", "198.51.100.23 50022 192.0.2.1 22", "fe80::1%eth0 50022 fe80::2%eth0 22"} {
		if w := SSHWarning(v); w != "" {
			t.Errorf("%q: %s", v, w)
		}
	}
	for _, v := range []string{"garbage", "198.51.100.23 50022 192.0.2.1", "198.51.100.23 x 192.0.2.1 99999", "\x1b]0;pwned\a 1 2 3"} {
		w := SSHWarning(v)
		if !strings.Contains(w, "lock-out guard cannot check") || strings.ContainsAny(w, "\x1b\a") {
			t.Errorf("%q: %q", v, w)
		}
	}
}
