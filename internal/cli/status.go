package cli

import (
	"fmt"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/lang"
)

func init() {
	extraCommands = append(extraCommands, (*env).statusCmd)
}

func (e *env) statusCmd() *cobra.Command {
	var netns, format string
	c := &cobra.Command{
		Use:   "status [PATH] [--netns NAME] [--format text|json|prometheus]",
		Short: "Show the live counters of every voicewall rule, per policy block",
		Long: `status reads the counters of table inet voicewall through netlink and maps
every rule back to the policy block and file:line that produced it: drops per
blocklist, SIP rejected per reason, rate-limit hits, RTP accepted per
provider. With PATH (default: the current directory when it holds a policy)
rules are matched to the policy's abstract rules; without one, the rules'
comments name their blocks.

--format prometheus writes the Prometheus text format for node_exporter's
textfile collector (voicewall_packets_total{rule,block,kind,...}), e.g. from a
timer: voicewall status --format prometheus > /var/lib/node_exporter/voicewall.prom.tmp && mv ...`,
		Example: `  voicewall status --netns gw
  voicewall status /etc/voicewall --format json
  voicewall status /etc/voicewall --format prometheus`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "text", "json", "prometheus":
			default:
				return fmt.Errorf("unknown --format %q: use text, json or prometheus", format)
			}
			var desired *vw.Table
			path := ""
			if len(args) > 0 {
				path = args[0]
				l := lang.LoadFull(path)
				if l.Diags.HasErrors() {
					e.printDiags(l)
					return exitError{1}
				}
				desired = vw.Build(l.Policy)
			} else if hasPolicy(".") {
				if l := lang.LoadFull("."); !l.Diags.HasErrors() {
					path, desired = ".", vw.Build(l.Policy)
				}
			}
			t, err := live.Open(netns)
			if err != nil {
				return err
			}
			defer t.Close()
			st, err := live.Read(t, live.ReadOptions{SkipElements: format != "prometheus"})
			if err != nil {
				return fmt.Errorf("reading table inet voicewall in %s: %w", t, err)
			}
			cs := live.Counters(st, desired)
			pend, _ := live.LoadPending(t)
			switch format {
			case "prometheus":
				return live.WritePrometheus(e.stdout, cs, st, netns)
			case "json":
				if err := writeJSON(e.stdout, statusJSON{Netns: netns, Policy: path, Present: st.Exists, GenID: st.GenID, Rules: nonNil(cs), Totals: totals(cs), Pending: pendingJSON(pend, t)}); err != nil {
					return err
				}
			default:
				e.printStatus(t, st, cs, path)
				if pend != nil {
					fmt.Fprintf(e.stdout, "\nPending: %s\n", pendingText(pend, t))
				}
			}
			if !st.Exists {
				return exitError{1}
			}
			return nil
		},
	}
	c.Flags().StringVar(&netns, "netns", "", "read the network namespace /run/netns/NAME instead of the current one")
	formatFlag(c, &format, "text", "json", "prometheus")
	return c
}

func hasPolicy(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	return len(m) > 0
}

func nonNil(cs []live.RuleCounter) []live.RuleCounter {
	if cs == nil {
		return []live.RuleCounter{}
	}
	return cs
}

type statusJSON struct {
	Netns   string             `json:"netns"`
	Policy  string             `json:"policy,omitempty"`
	Present bool               `json:"table_present"`
	GenID   uint32             `json:"genid"`
	Rules   []live.RuleCounter `json:"rules"`
	Totals  map[string]uint64  `json:"packets_by_kind"`
	// Pending is set while an apply --confirm-timeout awaits confirmation.
	Pending *jsonPending `json:"pending_confirmation,omitempty"`
}

func totals(cs []live.RuleCounter) map[string]uint64 {
	m := map[string]uint64{}
	for _, c := range cs {
		m[c.Kind] += c.Packets
	}
	return m
}

// kindWords says what a rule kind counts, for the summary.
var kindWords = map[string]string{
	"blocklist":          "dropped: blocklisted sources",
	"rate_limit":         "dropped: SIP over the rate limit",
	"closed":             "dropped: closed ports",
	"sip_default":        "dropped: SIP not from a provider",
	"rtp_default":        "dropped: RTP not from a provider's media",
	"phone_sip_default":  "dropped: phones' SIP to others than their providers",
	"phone_rtp_default":  "dropped: phones' RTP to others than their providers",
	"management_default": "dropped: phone management from elsewhere",
	"provider_sip":       "accepted: provider SIP",
	"provider_rtp":       "accepted: provider RTP",
	"established":        "accepted: replies of known voice flows",
	"dnat":               "forwarded to a PBX",
	"phone_sip":          "accepted: phones' SIP to their providers",
	"phone_rtp":          "accepted: phones' RTP to their providers",
	"management":         "accepted: phone management",
	"dscp":               "marked (DSCP)",
}

func (e *env) printStatus(t *live.Target, st *live.State, cs []live.RuleCounter, path string) {
	w := e.stdout
	if !st.Exists {
		fmt.Fprintf(w, "No table inet voicewall in %s.\n", t)
		return
	}
	src := "rule comments"
	if path != "" {
		src = "policy " + path
	}
	fmt.Fprintf(w, "voicewall status: table inet voicewall in %s (ruleset generation %d; blocks from %s)\n", t, st.GenID, src)
	var order []string
	groups := map[string][]live.RuleCounter{}
	for _, c := range cs {
		g := c.Block
		if c.Source != "" {
			g += " (" + c.Source + ")"
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], c)
	}
	sort.SliceStable(order, func(i, j int) bool { return groupLess(order[i], order[j]) })
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, g := range order {
		tw.Flush()
		fmt.Fprintf(w, "\n%s\n", g)
		for _, c := range groups[g] {
			note := ""
			if !c.InPolicy && path != "" {
				note = "\t(not in the policy)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d packets\t%d bytes%s\n", c.Rule, c.Kind, c.Action, c.Packets, c.Bytes, note)
		}
	}
	tw.Flush()
	tot := totals(cs)
	var kinds []string
	for k := range tot {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Fprintln(w, "\nTotals:")
	for _, k := range kinds {
		words := kindWords[k]
		if words == "" {
			words = k
		}
		fmt.Fprintf(w, "  %-55s %d packets\n", words, tot[k])
	}
	if path == "" {
		fmt.Fprintln(w, "\n(give the policy PATH to match rules to the policy's blocks exactly)")
	}
}
