package cli

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/voicewall/voicewall/lang"
)

func init() { extraCommands = append(extraCommands, (*env).explainCmd) }

func (e *env) explainCmd() *cobra.Command {
	var from, to, zone, format string
	var fromPort uint16
	var trusted, banned bool
	c := &cobra.Command{
		Use:   "explain [PATH] --from ADDR --to [ADDR:]PORT/PROTO",
		Short: "Show which rule decides a packet, and the policy block it came from",
		Long: `explain walks one packet (the first of a new flow) through the policy's
ordered rules and prints every rule it meets: matched or not, and why. The
destination is [ADDRESS:]PORT/PROTO; without ADDRESS the packet is for the
gateway itself. IPv6 destinations are written [ADDRESS]:PORT/PROTO.`,
		Example: `  voicewall explain examples/asterisk-udp-trunk --from 203.0.113.10 --to 5060/udp
  voicewall explain . --from 10.20.0.50 --zone phones --to 198.51.100.5:5060/udp
  voicewall explain . --from 10.20.0.50 --from-port 16400 --zone phones --to 192.0.2.200:30000/udp`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("unknown --format %q: use text or json", format)
			}
			if from == "" || to == "" {
				return fmt.Errorf("--from ADDR and --to [ADDR:]PORT/PROTO are required")
			}
			src, err := netip.ParseAddr(strings.TrimSpace(from))
			if err != nil || src.Zone() != "" {
				return fmt.Errorf("--from %q is not an IP address", from)
			}
			dst, svc, err := lang.ParseDestination(to)
			if err != nil {
				return fmt.Errorf("--to: %v; write [ADDRESS:]PORT/PROTO, e.g. 5060/udp or 10.20.0.10:5060/udp", err)
			}
			src = src.Unmap()
			if dst.IsValid() && src.Is4() != dst.Is4() {
				return fmt.Errorf("--from and --to must both be IPv4 or both IPv6")
			}
			l := loadPolicy(pathArg(args), false)
			if l.Diags.HasErrors() {
				return e.invalidPolicy(l, format)
			}
			p := l.Policy
			if !slices.Contains(p.Zones(), zone) {
				return fmt.Errorf("--zone %q is not a zone of this policy; zones are %s", zone, strings.Join(p.Zones(), ", "))
			}
			pkt := lang.Packet{Src: src, SrcPort: fromPort, Zone: zone, Dst: dst, Proto: svc.Proto, DstPort: svc.Ports.First, Trusted: trusted, Banned: banned}
			r := p.Evaluate(pkt)
			if format == "json" {
				return writeJSON(e.stdout, explainJSON(pkt, r))
			}
			_, err = fmt.Fprint(e.stdout, explainText(pkt, r))
			return err
		},
	}
	c.Flags().StringVar(&from, "from", "", "source address of the packet")
	c.Flags().StringVar(&to, "to", "", "destination: [ADDRESS:]PORT/PROTO (no ADDRESS: the gateway itself)")
	c.Flags().StringVar(&zone, "zone", lang.ZoneWAN, "zone the packet arrives on: wan, lan or a voice_vlan name")
	c.Flags().Uint16Var(&fromPort, "from-port", 0, "source port (default: an ephemeral port)")
	c.Flags().BoolVar(&trusted, "trusted", false, "the source is a trusted remote phone (it registered: voicewall watch)")
	c.Flags().BoolVar(&banned, "banned", false, "the source has a timed ban (voicewall ban)")
	formatFlag(c, &format, "text", "json")
	return c
}

// explainText prints the trace a person can follow, chain by chain.
func explainText(pkt lang.Packet, r lang.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "packet: %s\n", packetText(pkt))
	var chain lang.Chain
	for _, s := range r.Trace {
		if s.Chain != chain {
			chain = s.Chain
			fmt.Fprintf(&b, "\n%s:\n", chainTitle(chain))
		}
		if s.Rule == nil {
			fmt.Fprintf(&b, "  %s", s.Outcome)
			if s.Why != "" {
				fmt.Fprintf(&b, " (%s)", s.Why)
			}
			b.WriteByte('\n')
			continue
		}
		fmt.Fprintf(&b, "  %s\n", s)
	}
	b.WriteString("\n")
	if r.DNAT.IsValid() {
		fmt.Fprintf(&b, "forwarded to: %s\n", r.DNAT)
	}
	leave := "leaves by"
	if r.Verdict == lang.Drop {
		leave = "would leave by"
	}
	fmt.Fprintf(&b, "%s: %s\n", leave, zoneWords(r.OutZone))
	if len(r.Marks) > 0 {
		fmt.Fprintf(&b, "marked: dscp %s\n", r.Marks[len(r.Marks)-1])
	}
	fmt.Fprintf(&b, "verdict: %s\n", r.Decision())
	if r.Rule != nil {
		fmt.Fprintf(&b, "decided by rule %s from %s\n", r.Rule.ID, r.Source())
	}
	return b.String()
}

func zoneWords(z string) string {
	if z == "" {
		return "nowhere: addressed to the gateway itself"
	}
	return "zone " + z
}

func chainTitle(c lang.Chain) string {
	switch c {
	case lang.ChainWAN:
		return "wan chain (every packet arriving on the WAN, before NAT)"
	case lang.ChainNAT:
		return "nat chain (provider SIP/RTP forwarded to a PBX)"
	case lang.ChainVoiceEgress:
		return "voice egress chain (voice VLANs out to the WAN)"
	case lang.ChainVoiceIngress:
		return "voice ingress chain (into voice VLANs)"
	}
	return string(c) + " chain"
}

type jsonStep struct {
	Chain   string `json:"chain"`
	RuleID  string `json:"rule_id,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Source  string `json:"source,omitempty"`
	Matched bool   `json:"matched"`
	Outcome string `json:"outcome"`
	Why     string `json:"why,omitempty"`
	Text    string `json:"text"`
}

type jsonExplain struct {
	Packet   string     `json:"packet"`
	InZone   string     `json:"in_zone"`
	OutZone  string     `json:"out_zone"`
	Verdict  string     `json:"verdict"`
	Managed  bool       `json:"managed"`
	RuleID   string     `json:"rule_id,omitempty"`
	Rule     string     `json:"rule,omitempty"`
	Source   string     `json:"source,omitempty"`
	DNAT     string     `json:"dnat,omitempty"`
	Marks    []string   `json:"marks"`
	Decision string     `json:"decision"`
	Trace    []jsonStep `json:"trace"`
}

func explainJSON(pkt lang.Packet, r lang.Result) jsonExplain {
	j := jsonExplain{Packet: packetText(pkt), InZone: r.InZone, OutZone: r.OutZone, Verdict: string(r.Verdict), Managed: r.Managed,
		Source: r.Source(), Marks: append([]string{}, r.Marks...), Decision: r.Decision(), Trace: []jsonStep{}}
	if r.Rule != nil {
		j.RuleID, j.Rule = r.Rule.ID, lang.RuleName(r.Rule)
	}
	if r.DNAT.IsValid() {
		j.DNAT = r.DNAT.String()
	}
	for _, s := range r.Trace {
		st := jsonStep{Chain: string(s.Chain), Matched: s.Matched, Outcome: s.Outcome, Why: s.Why, Text: s.String()}
		if s.Rule != nil {
			st.RuleID, st.Rule, st.Source = s.Rule.ID, lang.RuleName(s.Rule), s.Rule.Origin.String()
		}
		j.Trace = append(j.Trace, st)
	}
	return j
}
