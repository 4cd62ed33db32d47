package testenv

import (
	"bytes"
	"flag"
	"time"
)

// FuzzMinimizeTime is how long a fuzz target spends minimizing a new input
// unless -fuzzminimizetime is given.
//
// Go minimizes every input that finds new coverage, for up to 60 s by
// default, and its last pass tries removing every substring: quadratic in
// the input's length. Policies are kilobytes, so nearly every minimization
// ran into the 60 s limit, and the executions it made are only counted
// when it ends: at 60 s a target reported 11 executions (issue 12). A few
// seconds keep most of the time for fuzzing; a crasher is still saved,
// only less minimized.
const FuzzMinimizeTime = 3 * time.Second

// BoundFuzzMinimization applies FuzzMinimizeTime when the command line
// does not set -fuzzminimizetime. Call it in a fuzz target before f.Fuzz,
// which reads the flag.
func BoundFuzzMinimization() {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.fuzzminimizetime" })
	if !set && flag.Lookup("test.fuzzminimizetime") != nil {
		_ = flag.Set("test.fuzzminimizetime", FuzzMinimizeTime.String())
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
