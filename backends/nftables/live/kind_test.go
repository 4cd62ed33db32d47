package live

import "testing"

// Every rule voicewall applies carries its abstract rule's kind, read back
// from the kernel: status knows it without the policy or the rule's name.
func TestRuleKindStored(t *testing.T) {
	want := loadTable(t, "../../../examples/hosted-tls-vlan")
	_, tg := nsTarget(t, "kind")
	mustApply(t, tg, want)
	st, err := Read(tg, ReadOptions{SkipElements: true})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	n := 0
	for _, c := range want.Chains {
		for _, r := range c.Rules {
			if r.Source != nil {
				kinds[c.Name+" "+r.Key] = string(r.Source.Kind)
			}
		}
	}
	for _, c := range st.Chains {
		for _, lr := range c.Rules {
			if k, ok := kinds[c.Name+" "+lr.Key]; ok {
				n++
				if lr.Kind != k {
					t.Errorf("rule %s: kind %q read back, %q compiled", lr.Key, lr.Kind, k)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no rule with a kind")
	}
	for _, c := range Counters(st, nil) {
		if k, ok := kinds[c.Chain+" "+c.Rule]; ok && c.Kind != k {
			t.Errorf("status without a policy: rule %s kind %q, want %q", c.Rule, c.Kind, k)
		}
	}
}

// Userdata from others is read defensively: truncated TLVs are no TLVs.
func TestUdataGetTruncated(t *testing.T) {
	for _, b := range [][]byte{{0}, {0, 5, 'a'}, {1, 1, 'x', 0, 9}, {0x77, 255}} {
		if v, ok := udataGet(b, 0); ok && len(v) > len(b) {
			t.Errorf("%v: %v", b, v)
		}
		udataString(b, 0x77)
	}
	if s, ok := udataString([]byte{1, 1, 'x', 0x77, 3, 'a', 'b', 0}, 0x77); !ok || s != "ab" {
		t.Errorf("udataString = %q %v", s, ok)
	}
}
