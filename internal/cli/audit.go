package cli

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"github.com/voicewall/voicewall/audit"
)

func init() { extraCommands = append(extraCommands, (*env).auditCmd) }

func (e *env) auditCmd() *cobra.Command {
	var target, policy, format string
	var wan []string
	c := &cobra.Command{
		Use:   "audit --target nftables|fortigate|pfsense|draytek CONFIG",
		Short: "Read a device's own configuration and report VoIP dangers (and, with --policy, drift): exit 0 clean, 2 findings, 1 error",
		Long: `Read a device's own configuration and report VoIP dangers (and, with --policy, drift).
Exit status: 0 clean, 2 findings (errors or warnings), 1 the configuration or policy cannot be read.

nftables: a Linux gateway's ruleset as "nft list ruleset > FILE" prints it, or its
/etc/nftables.conf (define/$var, input, forward and prerouting chains, jump/goto,
verdict maps, ct state, ct status dnat, dnat/redirect). output and postrouting chains
that only NAT or accept are read as deciding no inbound exposure. The WAN is the
interface masquerade or snat sends out by; where there is none, name it with --wan
(else audit takes every interface it cannot place for a WAN). What audit cannot
give a meaning to (include, bridge/netdev tables, two filter chains on one hook, ...)
is an error naming FILE:line: audit never says "clean" about a ruleset it cannot judge.`,
		Example: `  voicewall audit --target nftables gateway.nft         # nft list ruleset > gateway.nft
  voicewall audit --target fortigate backup.conf
  voicewall audit --target pfsense config.xml --policy examples/asterisk-udp-trunk
  voicewall audit --target draytek vigor.txt --format sarif > audit.sarif`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(audit.Targets, target) {
				hint := ""
				if m := didYouMean(target, audit.Targets); m != "" {
					hint = fmt.Sprintf(" (did you mean %q?)", m)
				}
				return fmt.Errorf("--target %q: audit reads %s%s", target, orList(audit.Targets), hint)
			}
			if format != "text" && format != "json" && format != "sarif" {
				return fmt.Errorf("unknown --format %q: use text, json or sarif", format)
			}
			o := audit.Options{Target: target, WAN: wan}
			if policy != "" {
				l := loadPolicy(policy, false)
				if l.Diags.HasErrors() {
					e.printDiags(l)
					return fmt.Errorf("--policy %s is invalid; fix it first (voicewall validate %s)", policy, policy)
				}
				o.Policy = l.Policy
			}
			r, err := audit.Audit(args[0], o)
			if err != nil {
				return err
			}
			if policy != "" {
				r.Findings = append(r.Findings, e.providerDriftFindings(policy)...)
			}
			switch format {
			case "json":
				err = r.WriteJSON(e.stdout)
			case "sarif":
				err = r.WriteSARIF(e.stdout, Version)
			default:
				err = r.WriteText(e.stdout)
			}
			if err != nil {
				return err
			}
			if r.Failed() {
				return exitError{2}
			}
			return nil
		},
	}
	c.Flags().StringVar(&target, "target", "", "the device's kind: "+orList(audit.Targets))
	c.Flags().StringVar(&policy, "policy", "", "a voicewall policy (file or directory) the device must implement")
	c.Flags().StringArrayVar(&wan, "wan", nil, "an interface that faces the Internet, where the configuration does not say (an nftables ruleset without masquerade or snat); repeatable")
	formatFlag(c, &format, "text", "json", "sarif")
	_ = c.MarkFlagRequired("target")
	// audit reads the targets whose Spec is Audited (registered before the tree-wide
	// --target completion, which then leaves this one alone)
	_ = c.RegisterFlagCompletionFunc("target", cobra.FixedCompletions(audit.Targets, cobra.ShellCompDirectiveNoFileComp))
	return c
}
