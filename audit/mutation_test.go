package audit

import (
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/internal/testenv"
)

// TestTranslationValidationHasTeeth mutates voicewall's own output in the
// device model — each rule's action flipped, each rule disabled, each
// forward disabled — and counts how many mutations the drift check finds.
// A mutation it misses is a rule no probe exercises.
func TestTranslationValidationHasTeeth(t *testing.T) {
	testenv.SkipShort(t, "mutation sweep: every rule of every example on every target")
	total, caught := map[string]int{}, map[string]int{}
	uncheckable := 0
	for _, ex := range testenv.Examples(t, "..") {
		p, diags := registry.Load(ex.Dir)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		for _, target := range Targets {
			src := compile(t, p, target)
			try := func(kind, what string, mutate func(d *devmodel.Device)) {
				d, err := Read(target, "out", src)
				if err != nil {
					t.Fatal(err)
				}
				mutate(d)
				fs, _, _ := drift(d, p)
				total[kind]++
				if len(fs) > 0 {
					caught[kind]++
				} else if kind == "disable forward" && p.RemotePhones != nil {
					// Equivalent in the model: with remote_phones, SIP from
					// anywhere (a provider too) is also forwarded to the
					// PBX by the remote-phones forward, so disabling the
					// provider's own forward changes only the per-source
					// rate its SIP meets, which the model does not carry;
					// and the trusted phones' RTP forward matches a
					// run-time set no static probe is in. On FortiGate the
					// model gives a port to the first VIP that names it
					// (how FortiOS picks between a source-filtered VIP and
					// an open one on the same port is for a device to
					// settle), so the remote phones' VIP reads as shadowed.
					uncheckable++
					t.Logf("%s/%s: equivalent in the model (remote_phones): %s", ex.Name, target, what)
				} else if kind != "disable rule" {
					t.Logf("%s/%s: not caught: %s", ex.Name, target, what)
				}
			}
			d0, _ := Read(target, "out", src)
			for i, r := range d0.Rules {
				if r.Action == devmodel.Tag {
					continue
				}
				try("flip rule", "flip "+r.String(), func(d *devmodel.Device) {
					if d.Rules[i].Action == devmodel.Accept {
						d.Rules[i].Action = devmodel.Drop
					} else {
						d.Rules[i].Action = devmodel.Accept
					}
				})
				try("disable rule", "disable "+r.String(), func(d *devmodel.Device) { d.Rules[i].Disabled = true })
			}
			for i, f := range d0.Forwards {
				try("disable forward", "disable "+f.Ref, func(d *devmodel.Device) { d.Forwards[i].Disabled = true })
			}
		}
	}
	for _, k := range []string{"flip rule", "disable rule", "disable forward"} {
		t.Logf("%s: %d of %d mutations caught", k, caught[k], total[k])
	}
	// Measured 2026-12-01: every forward (58), 538 of 586 flips (92%). A flip not
	// caught is an accept no probe reaches because a forward takes the
	// packet first (the provider's accept to the device itself) or a
	// drop the device's default repeats; disabling a drop is mostly
	// invisible for the same reason (default deny), so it has no floor.
	if caught["disable forward"]+uncheckable != total["disable forward"] {
		t.Errorf("a disabled forward went unnoticed")
	}
	if caught["flip rule"]*100 < total["flip rule"]*85 {
		t.Errorf("only %d of %d flipped rules caught: the probe set lost coverage", caught["flip rule"], total["flip rule"])
	}
}
