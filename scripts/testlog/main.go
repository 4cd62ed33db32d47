// Command testlog turns `go test -json` into a readable log as the run goes:
// a line per package as it finishes (with its slowest test), the output of
// every failing test, a note every 30 s naming the tests still running,
// and at the end the totals and the slowest tests. scripts/test.sh pipes the
// suite through it; the day-to-day lane can too:
//
//	go test -short -json ./... | go run ./scripts/testlog -max 20s
//
// -max fails the run when any single test takes longer (the -short lane's
// budget per test). The exit status is 1 when a test or a package failed,
// or the input ended with a test still running (go test was killed).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// event is one line of test2json output.
type event struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type testKey struct{ pkg, test string }

type result struct {
	testKey
	elapsed float64
}

type logger struct {
	mu      sync.Mutex
	out     io.Writer
	output  map[testKey][]string // buffered output, printed on failure
	running map[testKey]time.Time
	slowest map[string]result // by package
	all     []result
	pkgs    map[string]bool // packages that reported an end
	last    time.Time       // when a line was last printed
	failed  bool

	passed, skipped, failedTests, packages int
}

func main() {
	limit := flag.Duration("max", 0, "fail when a single test runs longer than this (0: no limit)")
	top := flag.Int("top", 10, "how many of the slowest tests to list at the end")
	heartbeat := flag.Duration("heartbeat", 30*time.Second, "name the running tests after this long without output")
	flag.Parse()

	l := newLogger(os.Stdout)
	start := time.Now()
	done := make(chan struct{})
	go l.tick(*heartbeat, done)

	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			l.printf("%s\n", line) // build errors and anything else go prints as is
			continue
		}
		l.handle(e)
	}
	close(done)
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testlog:", err)
		os.Exit(1)
	}
	os.Exit(l.summary(time.Since(start), *limit, *top))
}

func newLogger(out io.Writer) *logger {
	return &logger{out: out, output: map[testKey][]string{}, running: map[testKey]time.Time{},
		slowest: map[string]result{}, pkgs: map[string]bool{}, last: time.Now()}
}

func (l *logger) printf(format string, a ...any) {
	fmt.Fprintf(l.out, format, a...)
	l.last = time.Now()
}

func (l *logger) handle(e event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "run":
		l.running[k] = time.Now()
	case "output":
		l.output[k] = append(l.output[k], e.Output)
	case "pass", "fail", "skip":
		if e.Test == "" {
			l.endPackage(e)
			return
		}
		delete(l.running, k)
		if e.Action == "fail" {
			l.failedTests++
			l.printf("--- FAIL %s %s (%.1fs)\n", e.Package, e.Test, e.Elapsed)
			for _, o := range l.output[k] {
				l.printf("    %s", o)
			}
		}
		delete(l.output, k)
		switch e.Action {
		case "pass":
			l.passed++
		case "skip":
			l.skipped++
		}
		if strings.Contains(e.Test, "/") {
			return // subtests count in their parent's time
		}
		r := result{k, e.Elapsed}
		l.all = append(l.all, r)
		if r.elapsed > l.slowest[e.Package].elapsed {
			l.slowest[e.Package] = r
		}
	}
}

// endPackage prints the package's line; on failure with no failing test
// (a build error, a panic, a timeout) its own output too.
func (l *logger) endPackage(e event) {
	l.pkgs[e.Package] = true
	l.packages++
	k := testKey{e.Package, ""}
	status := map[string]string{"pass": "ok  ", "fail": "FAIL", "skip": "-   "}[e.Action]
	note := ""
	if s, ok := l.slowest[e.Package]; ok && s.elapsed >= 1 {
		note = fmt.Sprintf("  (slowest %s %.1fs)", s.test, s.elapsed)
	}
	if e.Action == "skip" {
		note = "  (no tests)"
	}
	l.printf("%s %-58s %6.1fs%s\n", status, e.Package, e.Elapsed, note)
	if e.Action == "fail" {
		l.failed = true
		for _, o := range l.output[k] {
			if o != "FAIL\n" && !strings.HasPrefix(o, "FAIL\t") {
				l.printf("    %s", o)
			}
		}
	}
	delete(l.output, k)
	for t := range l.running {
		if t.pkg == e.Package {
			delete(l.running, t)
		}
	}
}

// tick names the tests still running when nothing was printed for a while.
func (l *logger) tick(every time.Duration, done <-chan struct{}) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every / 3)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			l.mu.Lock()
			if now.Sub(l.last) >= every && len(l.running) > 0 {
				var names []string
				for k, since := range l.running {
					if !strings.Contains(k.test, "/") {
						names = append(names, fmt.Sprintf("%s %s (%.0fs)", short(k.pkg), k.test, now.Sub(since).Seconds()))
					}
				}
				sort.Strings(names)
				if len(names) > 0 {
					l.printf("     still running: %s\n", strings.Join(names, ", "))
				}
			}
			l.mu.Unlock()
		}
	}
}

func short(pkg string) string {
	if i := strings.Index(pkg, "/voicewall/"); i >= 0 {
		return pkg[i+len("/voicewall/"):]
	}
	return pkg
}

func (l *logger) summary(total time.Duration, limit time.Duration, top int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	code := 0
	if l.failed || l.failedTests > 0 {
		code = 1
	}
	for k := range l.running {
		if !l.pkgs[k.pkg] && !strings.Contains(k.test, "/") {
			l.printf("FAIL %s %s never finished (go test stopped)\n", k.pkg, k.test)
			code = 1
		}
	}
	sort.Slice(l.all, func(i, j int) bool { return l.all[i].elapsed > l.all[j].elapsed })
	if top > len(l.all) {
		top = len(l.all)
	}
	if top > 0 {
		l.printf("slowest tests:\n")
		for _, r := range l.all[:top] {
			l.printf("  %6.1fs  %s %s\n", r.elapsed, short(r.pkg), r.test)
		}
	}
	if limit > 0 {
		for _, r := range l.all {
			if r.elapsed > limit.Seconds() {
				l.printf("FAIL %s %s took %.1fs, more than the %s a test may take in this lane (make it faster, or skip it under -short: testenv.SkipShort)\n", short(r.pkg), r.test, r.elapsed, limit)
				code = 1
			}
		}
	}
	verdict := "passed"
	if code != 0 {
		verdict = "FAILED"
	}
	l.printf("%s: %d packages, %d tests passed, %d skipped, %d failed in %s\n",
		verdict, l.packages, l.passed, l.skipped, l.failedTests, total.Round(time.Second))
	return code
}
