package responsive_test

import (
	"os"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"
)

// TestMain keeps the tests' state (last-good tables, ban records, caches)
// out of the machine's /var/lib/voicewall and /run/voicewall.
func TestMain(m *testing.M) { os.Exit(testenv.IsolateState(m)) }
