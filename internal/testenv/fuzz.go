package testenv

import (
	"bytes"
	"flag"
	"strconv"
)

// FuzzMinimizeExecs bounds how many executions a fuzz target spends
// minimizing a new input, unless -fuzzminimizetime is given.
//
// Go minimizes every input that finds new coverage, by default for up to
// 60 s. When a minimization runs into that time limit, the coordinator's
// deadline fires as the worker's does, the coordinator kills the worker,
// and every execution the minimization made is dropped from the count
// (go1.26 internal/fuzz: worker.minimize returns no count on ctx.Err()).
// The minimizer's last pass is quadratic in the input's length and
// policies are kilobytes, so nearly every minimization ran into the limit:
// FortiGate and nftables reported 7 executions in 20 s, a worker pinned
// at 100% CPU meanwhile. A count limit has no deadline, so a
// minimization ends normally and its executions count. 500 keeps one
// minimization to a few seconds even for pfSense (several compiles and a
// merge per execution) on a loaded machine; its executions are reported
// only when it ends, so a longer one can swallow a whole short run. A
// crasher is still saved, only less minimized: pass -fuzzminimizetime to
// minimize one further.
const FuzzMinimizeExecs = 500

// BoundFuzzMinimization applies FuzzMinimizeExecs when the command line
// does not set -fuzzminimizetime. Call it in a fuzz target before f.Fuzz,
// which reads the flag.
func BoundFuzzMinimization() {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.fuzzminimizetime" })
	if !set && flag.Lookup("test.fuzzminimizetime") != nil {
		_ = flag.Set("test.fuzzminimizetime", strconv.Itoa(FuzzMinimizeExecs)+"x")
	}
}

// StripComments drops whole-line '#' and '//' comments: the examples are
// mostly prose, and a seed's length is what its minimization costs.
func StripComments(src []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(src, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if bytes.HasPrefix(t, []byte("#")) || bytes.HasPrefix(t, []byte("//")) {
			continue
		}
		out = append(out, line...)
	}
	return out
}
