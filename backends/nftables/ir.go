// Package nftables compiles a lang.Policy into one `table inet voicewall`.
//
// Compile builds an intermediate ruleset (Table: sets, chains, rules made of
// typed statements) and renders it as text in exactly the form
// `nft list table inet voicewall` prints it back. The live path
// (backends/nftables/live) turns the same Table into netlink messages, so
// the text and the kernel state come from one source.
package nftables

import (
	"net/netip"

	"github.com/voicewall/voicewall/lang"
	"go4.org/netipx"
)

// TableFamily and TableName: voicewall owns exactly this table.
const (
	TableFamily = "inet"
	TableName   = "voicewall"
)

// Table is the whole ruleset voicewall owns.
type Table struct {
	Sets   []*Set
	Chains []*Chain
}

// SetType of an address set.
type SetType string

const (
	SetIPv4 SetType = "ipv4_addr"
	SetIPv6 SetType = "ipv6_addr"
)

// Set is a named set: either an interval set of addresses (Elements) or a
// dynamic set a meter updates (Dynamic).
type Set struct {
	Name     string
	Type     SetType
	Elements []netipx.IPRange // merged, sorted, overlap-free, non-adjacent
	Dynamic  bool             // flags dynamic,timeout; size and timeout below
	Size     uint32
	Timeout  string // nft duration, e.g. "1m"
	// Live: flags timeout, elements added at run time each with its own
	// timeout (bans, trusted phones); never compiled, never diffed.
	// Interval: a Live set of prefixes (flags interval,timeout).
	Live     bool
	Interval bool
	Origin   lang.Origin
}

// V6 reports whether the set holds IPv6 addresses.
func (s *Set) V6() bool { return s.Type == SetIPv6 }

// Chain is a base chain (Hook set) or a regular chain (jump target).
type Chain struct {
	Name     string
	Type     string // "filter" or "nat"; "" for a regular chain
	Hook     string // "prerouting", "forward"
	Priority string // symbolic, as nft lists it: "mangle", "dstnat", "filter"
	PrioNum  int32  // the numeric priority for netlink
	Policy   string // "accept"
	Rules    []*Rule
}

// Base reports whether the chain is attached to a hook.
func (c *Chain) Base() bool { return c.Hook != "" }

// Rule is one nft rule: statements in order, and a comment that carries its
// stable key (unique in the table) and the policy block it came from.
type Rule struct {
	Key     string // stable identity for diffing and counters
	Stmts   []Stmt
	Comment string
	Source  *lang.Rule // the abstract rule; nil for helper rules (log chains)
}

// Stmt is one match or statement of a rule.
type Stmt interface{ stmt() }

// Dir selects source or destination.
type Dir string

const (
	Src Dir = "s"
	Dst Dir = "d"
)

// MatchIface matches iifname/oifname (Out), optionally negated.
type MatchIface struct {
	Out  bool
	Neg  bool
	Name string
}

// MatchCtState matches conntrack states ("established", "related").
type MatchCtState struct{ States []string }

// MatchNfproto restricts to one family when nothing else implies it.
type MatchNfproto struct{ V6 bool }

// MatchAddrSet matches an address against a named set.
type MatchAddrSet struct {
	V6  bool
	Dir Dir
	Set string
}

// MatchPorts matches a transport port (one range or an anonymous set).
type MatchPorts struct {
	Proto  lang.Proto
	Dir    Dir
	Ranges []lang.PortRange // sorted, merged
}

// MeterLimit is `update @set { ip saddr limit rate over R burst B packets }`.
type MeterLimit struct {
	Set   string
	V6    bool
	Rate  lang.Rate
	Burst uint32
}

// Limit is `limit rate R` (used to rate-limit logging).
type Limit struct{ Rate lang.Rate }

// Log is `log prefix "..."` (level warn, which nft does not print).
type Log struct{ Prefix string }

// Counter counts packets and bytes.
type Counter struct{}

// SetDSCP is `ip dscp set ef` / `ip6 dscp set ef`.
type SetDSCP struct {
	V6    bool
	Class string
}

// DNAT is `dnat ip to ADDR` / `dnat ip6 to ADDR` (ports kept).
type DNAT struct{ Addr netip.Addr }

// Verdict is accept, drop, or jump CHAIN.
type Verdict struct {
	Kind  string // "accept", "drop", "jump"
	Chain string // for jump
}

func (MatchIface) stmt()   {}
func (MatchCtState) stmt() {}
func (MatchNfproto) stmt() {}
func (MatchAddrSet) stmt() {}
func (MatchPorts) stmt()   {}
func (MeterLimit) stmt()   {}
func (Limit) stmt()        {}
func (Log) stmt()          {}
func (Counter) stmt()      {}
func (SetDSCP) stmt()      {}
func (DNAT) stmt()         {}
func (Verdict) stmt()      {}

// Chain names. Each is one identifier nft parses as a name, never a keyword.
const (
	ChainWANIn  = "wan_in"
	ChainWANNat = "wan_nat"
	ChainVoice  = "voice_fwd"
)

// Numeric priorities of the symbolic names nft prints.
const (
	PrioMangle = -150
	PrioDstnat = -100
	PrioFilter = 0
)
