package lang

// Drop reasons name why a rule drops a packet, for monitoring: a small
// fixed vocabulary that alerts can rely on, unlike rule IDs (which follow
// block labels) or source positions (which move with every edit).
const (
	DropBlocklist      = "blocklist"        // the source is on a blocklist
	DropRateLimit      = "rate_limit"       // SIP over the per-source rate
	DropClosed         = "closed"           // a closed port
	DropNotProviderSIP = "not_provider_sip" // SIP from someone who is not a provider
	DropNotProviderRTP = "not_provider_rtp" // RTP from outside the providers' media
	DropVLANEgress     = "vlan_egress"      // phones' SIP/RTP to others than their providers
	DropManagement     = "management"       // phone management from a source not allowed
	DropBanned         = "banned"           // the source has a timed ban
)

// DropReasons lists every drop reason, in a stable order.
var DropReasons = []string{DropBlocklist, DropRateLimit, DropClosed, DropNotProviderSIP, DropNotProviderRTP, DropVLANEgress, DropManagement, DropBanned}

// DropReason is why a rule of this kind drops, or "" for kinds that do not
// drop.
func (k RuleKind) DropReason() string {
	switch k {
	case RuleBlocklist:
		return DropBlocklist
	case RuleRateLimit, RuleRemoteRateLimit:
		return DropRateLimit
	case RuleBan:
		return DropBanned
	case RuleClosed:
		return DropClosed
	case RuleSIPDefault:
		return DropNotProviderSIP
	case RuleRTPDefault:
		return DropNotProviderRTP
	case RulePhoneSIPDefault, RulePhoneRTPDefault, RuleEgressDefault:
		return DropVLANEgress
	case RuleMgmtDefault:
		return DropManagement
	}
	return ""
}
