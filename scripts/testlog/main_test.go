package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A failing test's output is shown, a passing test's is not, a package line
// names its slowest test, and the run fails.
func TestFailureShownAndCounted(t *testing.T) {
	var out bytes.Buffer
	l := newLogger(&out)
	for _, e := range []event{
		{Action: "run", Package: "m/a", Test: "TestOK"},
		{Action: "output", Package: "m/a", Test: "TestOK", Output: "quiet\n"},
		{Action: "pass", Package: "m/a", Test: "TestOK", Elapsed: 3},
		{Action: "run", Package: "m/a", Test: "TestBad"},
		{Action: "output", Package: "m/a", Test: "TestBad", Output: "want 1, got 2\n"},
		{Action: "fail", Package: "m/a", Test: "TestBad", Elapsed: 0.1},
		{Action: "fail", Package: "m/a", Elapsed: 3.2},
		{Action: "skip", Package: "m/b"},
	} {
		l.handle(e)
	}
	code := l.summary(time.Second, 0, 5)
	got := out.String()
	for _, want := range []string{"--- FAIL m/a TestBad", "want 1, got 2", "FAIL m/a", "(slowest TestOK 3.0s)", "(no tests)", "1 tests passed", "1 failed"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "quiet") || code != 1 {
		t.Errorf("code %d (want 1), passing output shown or not:\n%s", code, got)
	}
}

// -max fails a run whose tests all passed when one took too long; a
// package killed mid-test (no end event) fails too.
func TestLimitAndUnfinished(t *testing.T) {
	var out bytes.Buffer
	l := newLogger(&out)
	l.handle(event{Action: "run", Package: "m/a", Test: "TestSlow"})
	l.handle(event{Action: "pass", Package: "m/a", Test: "TestSlow", Elapsed: 25})
	l.handle(event{Action: "pass", Package: "m/a", Elapsed: 25})
	if code := l.summary(time.Second, 30*time.Second, 1); code != 0 {
		t.Fatalf("within the limit: code %d\n%s", code, out.String())
	}
	if code := l.summary(time.Second, 20*time.Second, 1); code != 1 || !strings.Contains(out.String(), "TestSlow took 25.0s") {
		t.Fatalf("over the limit: code %d\n%s", code, out.String())
	}
	l = newLogger(&out)
	l.handle(event{Action: "run", Package: "m/c", Test: "TestHang"})
	if code := l.summary(time.Second, 0, 1); code != 1 || !strings.Contains(out.String(), "TestHang never finished") {
		t.Fatalf("unfinished test: code %d\n%s", code, out.String())
	}
}
