package lang

// TargetSpec is what lang needs of a target to read its target block and
// to fill in what the block leaves out. Each backend declares its own
// (backends/<name>/spec.go) and backends/registry registers them: lang
// itself names no target.
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

var targetSpecs []*TargetSpec

// RegisterTargets declares the targets a policy may name, in order.
// backends/registry calls it once when the program starts; a later call
// replaces the list. Until targets are registered (a backend's own unit
// tests, which cannot import the registry), target blocks are read without
// target checks and Policy.Target fills what they leave out.
func RegisterTargets(specs ...*TargetSpec) { targetSpecs = specs }

// TargetNames lists the registered target names, in order.
func TargetNames() []string {
	out := make([]string, len(targetSpecs))
	for i, s := range targetSpecs {
		out[i] = s.Name
	}
	return out
}

// LookupTarget finds a registered target by name.
func LookupTarget(name string) (*TargetSpec, bool) {
	for _, s := range targetSpecs {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}
