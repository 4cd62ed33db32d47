// Package audit reads a device's own configuration (FortiGate, pfSense,
// DrayTek) through the target's device reader (backends.Spec.ReadDevice,
// looked up in the registry) into the device model, finds what
// endangers its VoIP, and, given a policy, reports every place where the
// device does not do what the policy says (drift). internal/cli only
// parses flags and prints what this package returns.
package audit

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/lang"
)

// Targets audit reads configurations of, as the registry declares them.
var Targets = auditedNames()

func auditedNames() []string {
	var out []string
	for _, t := range registry.Audited() {
		out = append(out, t.Name)
	}
	return out
}

// MaxConfigBytes bounds a configuration file.
const MaxConfigBytes = 64 << 20

// Severity of a finding.
type Severity string

const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
	SevNote    Severity = "note" // information; does not fail the audit
)

// Finding is one thing audit reports, at the config line responsible.
type Finding struct {
	ID       string       `json:"id"`
	Severity Severity     `json:"severity"`
	Title    string       `json:"title"`
	Message  string       `json:"message"`
	Fix      string       `json:"fix,omitempty"`
	Loc      devmodel.Loc `json:"-"`
	// Policy is the policy block a drift finding is about (file:line).
	Policy string `json:"policy,omitempty"`
}

// Report is the result of auditing one configuration.
type Report struct {
	File     string
	Target   string
	Source   []byte // the configuration, for snippets
	Device   *devmodel.Device
	Findings []Finding
	Probes   int // drift probes evaluated (with a policy)
	Compared int // probes a voicewall rule decides, compared with the device
}

// Failed reports whether any finding fails the audit (errors and warnings).
func (r *Report) Failed() bool {
	for _, f := range r.Findings {
		if f.Severity != SevNote {
			return true
		}
	}
	return false
}

// ReadFile reads a configuration file of a target into the device model:
// a regular file only, checked on the opened descriptor (opened
// non-blocking, then fstat), so a file swapped for a FIFO or a device
// between a look and the open is refused, never read or waited on; and
// size-bounded, while reading too.
func ReadFile(target, path string) (*devmodel.Device, []byte, error) {
	f, st, err := lang.OpenRegular(path)
	if err != nil {
		return nil, nil, errors.New(safe(err.Error()))
	}
	defer f.Close()
	if st.Size() > MaxConfigBytes {
		return nil, nil, fmt.Errorf("%s: %d bytes is more than the %d a device configuration can be", safe(path), st.Size(), MaxConfigBytes)
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxConfigBytes+1))
	if err != nil {
		return nil, nil, errors.New(safe(err.Error()))
	}
	if len(src) > MaxConfigBytes {
		return nil, nil, fmt.Errorf("%s: grew beyond %d bytes while being read", safe(path), MaxConfigBytes)
	}
	d, err := Read(target, path, src)
	if err != nil {
		return nil, nil, locatedError(path, src, err)
	}
	return d, src, nil
}

// locatedError escapes a reader's error for the terminal and shows the
// line it names ("CONFIG:N: ...") beneath it.
func locatedError(path string, src []byte, err error) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, path+":"); ok {
		n, _, _ := strings.Cut(rest, ":")
		if ln, e := strconv.Atoi(n); e == nil {
			if t := line(src, ln); t != "" {
				msg += fmt.Sprintf("\n%5d | %s", ln, t)
			}
		}
	}
	return errors.New(safeMultiline(msg))
}

func safeMultiline(s string) string {
	parts := strings.Split(s, "\n")
	for i, p := range parts {
		parts[i] = safe(p)
	}
	return strings.Join(parts, "\n")
}

// Read lowers a configuration of a target into the device model by the
// target's own device reader. Besides the audited targets it reads
// voicewall's own nftables output (translation validation).
func Read(target, name string, src []byte) (*devmodel.Device, error) {
	if t, ok := registry.Lookup(target); ok && t.ReadDevice != nil {
		return t.ReadDevice(name, src)
	}
	return nil, fmt.Errorf("unknown target %q: audit reads %s", target, strings.Join(Targets, ", "))
}

// Options of one audit.
type Options struct {
	Target string
	Policy *lang.Policy // nil: findings on the configuration alone
	// WAN names the interfaces that face the Internet, for a configuration
	// that does not say (an nftables ruleset without masquerade or snat):
	// every other interface is then not a WAN.
	WAN []string
}

// Audit reads a configuration and reports on it.
func Audit(path string, o Options) (*Report, error) {
	d, src, err := ReadFile(o.Target, path)
	if err != nil {
		return nil, err
	}
	return Check(d, src, o), nil
}

// Check reports on a device already read.
func Check(d *devmodel.Device, src []byte, o Options) *Report {
	declareWAN(d, o.WAN)
	r := &Report{File: d.File, Target: d.Target, Source: src, Device: d}
	r.Findings = findings(d, o.Policy)
	if o.Policy != nil {
		fs, n, c := drift(d, o.Policy)
		r.Findings = append(r.Findings, fs...)
		r.Probes, r.Compared = n, c
	}
	sortFindings(r.Findings)
	return r
}

var sevOrder = map[Severity]int{SevError: 0, SevWarning: 1, SevNote: 2}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if sevOrder[a.Severity] != sevOrder[b.Severity] {
			return sevOrder[a.Severity] < sevOrder[b.Severity]
		}
		if a.Loc.Line != b.Loc.Line {
			return a.Loc.Line < b.Loc.Line
		}
		return a.ID < b.ID
	})
}

// declareWAN gives the named interfaces the WAN role (the user said so:
// --wan), adding those the configuration does not declare.
func declareWAN(d *devmodel.Device, names []string) {
	for _, n := range names {
		if i := d.Interface(n); i != nil {
			i.Role = "wan"
			continue
		}
		d.Interfaces = append(d.Interfaces, &devmodel.Interface{Loc: devmodel.Loc{File: "--wan"}, Name: n, Role: "wan"})
	}
}
