// Package systemd holds voicewall's systemd units; its test checks their
// sandboxing with systemd's own scorer.
package systemd

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/voicewall/voicewall/internal/testenv"
)

// maxExposure is the highest `systemd-analyze security` exposure a unit
// may score (0 is best, 10 worst; systemd calls up to 4.0 "OK").
const maxExposure = 4.0

var exposure = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

// TestUnitsHardened scores every service unit offline (no running systemd
// needed) and fails above maxExposure.
func TestUnitsHardened(t *testing.T) {
	testenv.RequireTools(t, "systemd-analyze")
	units, _ := filepath.Glob("*.service")
	if len(units) < 4 {
		t.Fatalf("only %d units found", len(units))
	}
	for _, u := range units {
		out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager", u).CombinedOutput()
		m := exposure.FindSubmatch(out)
		if m == nil {
			t.Errorf("%s: no score (%v):\n%s", u, err, out)
			continue
		}
		score, _ := strconv.ParseFloat(string(m[1]), 64)
		if score > maxExposure {
			t.Errorf("%s scores %.1f, above %.1f:\n%s", u, score, maxExposure, out)
		}
		t.Logf("%s: %.1f", u, score)
	}
}
