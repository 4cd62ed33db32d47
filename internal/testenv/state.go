package testenv

import (
	"fmt"
	"os"
	"testing"
)

// IsolateState runs a package's tests with voicewall's state directories
// (VOICEWALL_LIB_DIR, VOICEWALL_STATE_DIR) in fresh temporary directories,
// unless the caller set them: a test never leaves last-good tables, ban
// records or caches in the machine's /var/lib/voicewall or /run/voicewall.
// Subprocesses inherit them. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.IsolateState(m)) }
func IsolateState(m *testing.M) int {
	var made []string
	for _, v := range []string{"VOICEWALL_LIB_DIR", "VOICEWALL_STATE_DIR"} {
		if os.Getenv(v) != "" {
			continue
		}
		dir, err := os.MkdirTemp("", "voicewall-test-state-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "testenv: no temporary state directory:", err)
			return 1
		}
		made = append(made, dir)
		os.Setenv(v, dir)
	}
	code := m.Run()
	for _, d := range made {
		os.RemoveAll(d)
	}
	return code
}
