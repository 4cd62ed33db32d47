// Package testenv decides whether tests that need root or system tools run.
// Locally they skip with a reason; under CI=true a missing tool is a failure,
// so CI can never pass by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the tests run under CI=true.
func CI() bool { return os.Getenv("CI") == "true" }

// RequireRoot skips (or fails under CI) unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		miss(t, "needs root (network namespaces)")
	}
}

// RequireTools skips (or fails under CI) unless every tool is on PATH.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			miss(t, "needs "+tool+" on PATH (the README's test command installs it)")
		}
	}
}

func miss(t testing.TB, why string) {
	t.Helper()
	if CI() {
		t.Fatalf("CI=true: %s", why)
	}
	t.Skip(why)
}
