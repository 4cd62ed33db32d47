// Package testenv is test support: whether tests that need root or system
// tools run (RequireRoot, RequireTools), which slow tests the -short lane
// skips (SkipShort), the examples list, copies of trees, hostile names.
// A test missing root or a tool skips with a reason locally; under CI=true
// it fails, so CI can never pass by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the tests run under CI=true.
func CI() bool { return os.Getenv("CI") == "true" }

// RequireRoot skips (or fails under CI) unless the test runs as root. Root
// is for network namespaces and the kernel: the -short lane skips these.
func RequireRoot(t testing.TB) {
	t.Helper()
	SkipShort(t, "kernel, network namespaces")
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

// SkipShort skips a slow test (network namespaces, Ansible, dnsmasq,
// fail2ban, scale, anything over about 2 s) under `go test -short`, the
// day-to-day lane; the full lane (scripts/test.sh, CI) runs it. why says
// what the test needs, e.g. "kernel, network namespaces".
func SkipShort(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip(why + ": full lane (run without -short)")
	}
}
