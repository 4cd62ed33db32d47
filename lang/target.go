package lang

// TargetSpec is what lang needs of a target to read its target block and
// to fill in what the block leaves out. Each backend declares its own
// (backends/<name>/spec.go) and the caller passes them to the loader
// (LoadOptions.Targets): lang itself names no target.
type TargetSpec struct {
	Name     string
	WAN, LAN string       // interface names when the block or the attribute is missing
	Attrs    []TargetAttr // the target's own attributes besides wan and lan
	// CheckInterface, when set, says why a device name is not one the
	// target takes (summary and detail), or returns "" when it is.
	CheckInterface func(dev string) (summary, detail string)
	// Gaps is the capability table: every protection the target cannot
	// always express, by the name accept_gaps uses, and why. A protection
	// not listed is native.
	Gaps map[string]string
}

// TargetAttr is one target-specific attribute: a string the owning backend
// interprets. Every value is checked to be safe in vendor output.
type TargetAttr struct {
	Name string
	URL  bool // an http(s) URL ("{name}" allowed), not a plain token
	// Bool: a true/false switch (an opt-in), kept in Target.Extra as
	// "true" or "false".
	Bool bool
}

// Attr finds one of the target's own attributes.
func (s *TargetSpec) Attr(name string) (TargetAttr, bool) {
	for _, a := range s.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return TargetAttr{}, false
}

// targetNames lists the declared target names, in order.
func (d *decoder) targetNames() []string {
	out := make([]string, len(d.targets))
	for i, s := range d.targets {
		out[i] = s.Name
	}
	return out
}

// lookupTarget finds a declared target by name.
func (d *decoder) lookupTarget(name string) (*TargetSpec, bool) {
	for _, s := range d.targets {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}
