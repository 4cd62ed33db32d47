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

// kindFromKey is a rule's kind from its key when no policy is given: the
// kernel holds only the key and the block. TestKindFromKeyAgreesWithPolicy
// keeps it equal to the kind lang gives every rule it lowers.
func kindFromKey(key string) string {
	switch {
	case strings.HasPrefix(key, "blocklist_"):
		return "blocklist"
	case strings.HasPrefix(key, "rate_limit"):
		return "rate_limit"
	case strings.HasPrefix(key, "closed_"):
		return "closed"
	case strings.HasPrefix(key, "established"):
		return "established"
	case strings.HasPrefix(key, "dnat_"), strings.HasPrefix(key, "dnat6_"):
		return "dnat"
	case strings.HasPrefix(key, "sip_drop"):
		return "sip_default"
	case strings.HasPrefix(key, "rtp_drop"):
		return "rtp_default"
	case strings.HasPrefix(key, "provider_") && strings.Contains(key, "_sip"):
		return "provider_sip"
	case strings.HasPrefix(key, "provider_") && strings.Contains(key, "_rtp"):
		return "provider_rtp"
	case strings.Contains(key, "_dscp_"):
		return "dscp"
	case strings.Contains(key, "_egress_established"):
		return string(lang.RuleEgressEstablished)
	case strings.Contains(key, "_egress_drop"):
		return string(lang.RuleEgressDefault)
	case strings.Contains(key, "_allow_out"):
		return string(lang.RuleAllowOut)
	case strings.Contains(key, "_rtp_symmetric"):
		return string(lang.RulePhoneRTPSymmetric)
	case strings.Contains(key, "_management_drop"):
		return "management_default"
	case strings.Contains(key, "_management"):
		return "management"
	case strings.Contains(key, "_sip_drop"):
		return "phone_sip_default"
	case strings.Contains(key, "_rtp_drop"):
		return "phone_rtp_default"
	case strings.HasPrefix(key, "vlan_") && strings.HasSuffix(key, "_sip") || strings.Contains(key, "_sip_v"):
		return "phone_sip"
	case strings.HasPrefix(key, "vlan_"):
		return "phone_rtp"
	}
	return "other"
}
