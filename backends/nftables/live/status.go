package live

import (
	"strings"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/lang"
)

// RuleCounter is the live counter of one rule, mapped back to the policy.
type RuleCounter struct {
	Chain string `json:"chain"`
	Rule  string `json:"rule"` // the rule's key
	Kind  string `json:"kind"` // lang.RuleKind: blocklist, rate_limit, provider_sip, ...
	// Reason is why the rule drops (lang.DropReasons), "" when it does not.
	Reason string `json:"reason,omitempty"`
	// Provider whose signaling or media addresses the rule matches (needs
	// the policy), "" for others.
	Provider string `json:"provider,omitempty"`
	Block    string `json:"block"`  // `provider "carrier"`, or "voicewall" for built-in rules
	Source   string `json:"source"` // file:line, or "" for built-in rules
	Action   string `json:"action"` // accept, drop, dnat, mark, jump target
	Packets  uint64 `json:"packets"`
	Bytes    uint64 `json:"bytes"`
	// InPolicy is false for rules the kernel holds that the given policy
	// does not (the table is not what the policy compiles to).
	InPolicy bool `json:"in_policy"`
}

// Counters reads the live counters of every rule with a counter. When
// desired (the compiled policy) is given, each rule is mapped to its
// abstract rule's kind and block; otherwise the block comes from the
// rule's comment.
func Counters(st *State, desired *vw.Table) []RuleCounter {
	byKey := map[string]*vw.Rule{}
	if desired != nil {
		for _, c := range desired.Chains {
			for _, r := range c.Rules {
				byKey[c.Name+"\x00"+ruleKey(r)] = r
			}
		}
	}
	var out []RuleCounter
	for _, c := range st.Chains {
		for _, lr := range c.Rules {
			if !hasCounter(lr) {
				continue
			}
			rc := RuleCounter{Chain: c.Name, Rule: lr.Key, Packets: lr.Packets, Bytes: lr.Bytes, Action: action(lr.Stmts)}
			src := commentSource(lr.Comment)
			rc.Block, rc.Source = splitSource(src)
			if r := byKey[c.Name+"\x00"+liveRuleKey(lr)]; r != nil {
				rc.InPolicy = true
				if r.Source != nil {
					for _, ref := range []*lang.AddrRef{r.Source.Src, r.Source.Dst} {
						if ref != nil && (ref.Role == lang.RoleSignaling || ref.Role == lang.RoleMedia) {
							rc.Provider = ref.Owner.Name
						}
					}
					rc.Kind = string(r.Source.Kind)
					rc.Block = r.Source.Origin.Block()
					if r.Source.Origin.Range.Filename != "" {
						rc.Source = r.Source.Origin.Pos()
					} else {
						rc.Source = ""
					}
				}
			}
			if rc.Kind == "" {
				rc.Kind = lr.Kind // as voicewall stored it with the rule
			}
			if rc.Kind == "" {
				rc.Kind = kindFromKey(lr.Key) // a table applied before it did
			}
			if rc.Block == "" {
				rc.Block = "voicewall"
			}
			rc.Reason = lang.RuleKind(rc.Kind).DropReason()
			out = append(out, rc)
		}
	}
	return out
}

func hasCounter(r *LiveRule) bool {
	for _, s := range r.Stmts {
		if _, ok := s.(vw.Counter); ok {
			return true
		}
	}
	return r.DecodeErr != nil && (r.Packets > 0 || r.Bytes > 0)
}

func action(ss []vw.Stmt) string {
	for i := len(ss) - 1; i >= 0; i-- {
		switch s := ss[i].(type) {
		case vw.Verdict:
			if s.Kind == "jump" {
				if strings.HasPrefix(s.Chain, "drop_") {
					return "drop"
				}
				return "jump " + s.Chain
			}
			return s.Kind
		case vw.DNAT:
			return "dnat"
		case vw.SetDSCP:
			return "mark"
		}
	}
	return ""
}

// splitSource splits a comment's block part, `provider carrier (gw.hcl:7)`,
// into the block and file:line.
func splitSource(s string) (block, pos string) {
	if i := strings.LastIndex(s, " ("); i >= 0 && strings.HasSuffix(s, ")") {
		block, pos = s[:i], s[i+2:len(s)-1]
		// Re-quote the label: "provider carrier" → `provider "carrier"`.
		if k, name, ok := strings.Cut(block, " "); ok {
			block = k + ` "` + name + `"`
		}
		return block, pos
	}
	return s, ""
}

// kindFromKey is a rule's kind from its key, for a table applied before
// rules carried their kind in userdata: the kernel then holds only the key
// and the block.
func kindFromKey(key string) string {
	for _, k := range keyKinds {
		if strings.HasPrefix(key, k.prefix) && strings.Contains(key, k.contains) && strings.HasSuffix(key, k.suffix) {
			return k.kind
		}
	}
	return "other"
}

// keyKinds are checked in order: a key takes the kind of the first row
// whose non-empty prefix, substring and suffix it all has.
var keyKinds = []struct {
	prefix, contains, suffix string
	kind                     string
}{
	{"blocklist_", "", "", "blocklist"},
	{"rate_limit", "", "", "rate_limit"},
	{"closed_", "", "", "closed"},
	{"established", "", "", "established"},
	{"dnat_", "", "", "dnat"},
	{"dnat6_", "", "", "dnat"},
	{"sip_drop", "", "", "sip_default"},
	{"rtp_drop", "", "", "rtp_default"},
	{"provider_", "_sip", "", "provider_sip"},
	{"provider_", "_rtp", "", "provider_rtp"},
	{"", "_dscp_", "", "dscp"},
	{"", "_egress_established", "", string(lang.RuleEgressEstablished)},
	{"", "_egress_drop", "", string(lang.RuleEgressDefault)},
	{"", "_allow_out", "", string(lang.RuleAllowOut)},
	{"", "_rtp_symmetric", "", string(lang.RulePhoneRTPSymmetric)},
	{"", "_management_drop", "", "management_default"},
	{"", "_management", "", "management"},
	{"", "_sip_drop", "", "phone_sip_default"},
	{"", "_rtp_drop", "", "phone_rtp_default"},
	{"vlan_", "", "_sip", "phone_sip"},
	{"", "_sip_v", "", "phone_sip"},
	{"vlan_", "", "", "phone_rtp"},
}
