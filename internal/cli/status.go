package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/feeds"
	"github.com/voicewall/voicewall/lang"
	"github.com/voicewall/voicewall/providers"
)

func init() {
	extraCommands = append(extraCommands, (*env).statusCmd)
}

func (e *env) statusCmd() *cobra.Command {
	var netns, format, textfile string
	c := &cobra.Command{
		Use:   "status [PATH] [--netns NAME] [--format text|json|prometheus] [--textfile DIR]",
		Short: "Show the live counters of every voicewall rule, per policy block",
		Long: `status reads the counters of table inet voicewall through netlink and maps
every rule back to the policy block and file:line that produced it: drops per
blocklist, SIP rejected per reason, rate-limit hits, RTP accepted per
provider. With PATH (default: the current directory when it holds a policy)
rules are matched to the policy's abstract rules; without one, the rules'
comments name their blocks.

--format prometheus writes the Prometheus text format: drops by reason,
counters by policy block and rule key (never by file:line, so an edit does
not start new series), rate-limit meter size, blocklist sizes and file ages,
the last apply's time and result, and a pending rollback with its deadline.
Give PATH for blocklist sizes and file ages. --textfile DIR writes the same
into DIR/voicewall.prom (voicewall-NAME.prom with --netns NAME) atomically,
for node_exporter's textfile collector. Metric names and alert rules:
monitoring.md (in /usr/share/doc/voicewall, or docs/ of the source).`,
		Example: `  voicewall status --netns gw
  voicewall status /etc/voicewall --format json
  voicewall status /etc/voicewall --format prometheus
  voicewall status /etc/voicewall --textfile /var/lib/prometheus/node-exporter`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "text", "json", "prometheus":
			default:
				return fmt.Errorf("unknown --format %q: use text, json or prometheus", format)
			}
			if textfile != "" {
				if cmd.Flags().Changed("format") && format != "prometheus" {
					return fmt.Errorf("--textfile writes the prometheus format; drop --format %s", format)
				}
				format = "prometheus"
				if fi, err := os.Stat(textfile); err != nil || !fi.IsDir() {
					return fmt.Errorf("--textfile %s: not a directory (node_exporter's --collector.textfile.directory)", textfile)
				}
			}
			var desired *vw.Table
			var policy *lang.Policy
			path := ""
			if len(args) > 0 {
				path = args[0]
				l := loadPolicy(path, false)
				if l.Diags.HasErrors() {
					e.printDiags(l)
					return exitError{1}
				}
				policy = l.Policy
			} else if hasPolicy(".") {
				if l := loadPolicy(".", false); !l.Diags.HasErrors() {
					path, policy = ".", l.Policy
				}
			}
			if policy != nil {
				desired = vw.Build(policy)
			}
			t, err := live.Open(netns)
			if err != nil {
				return err
			}
			defer t.Close()
			st, err := live.Read(t, live.ReadOptions{SkipElements: format != "prometheus", MeterEntries: format == "prometheus"})
			if err != nil {
				return fmt.Errorf("reading table inet voicewall in %s: %w", t, err)
			}
			cs := live.Counters(st, desired)
			if format == "prometheus" {
				// GatherMetrics reads the pending rollback itself.
				m, err := live.GatherMetrics(t, st, cs, desired, policy, time.Now())
				if err != nil {
					return err
				}
				// The feed refresh record (voicewall refresh writes it).
				if m.Feeds, err = feeds.Gauges(); err != nil {
					fmt.Fprintf(e.stderr, "Warning: feed refresh state: %v\n", err)
				}
				if path != "" {
					m.Providers = providerDriftGauges(path)
				}
				// The catalog update record (voicewall providers update writes it).
				if m.ProviderUpdates, err = providers.UpdateGauges(live.LibDir()); err != nil {
					fmt.Fprintf(e.stderr, "Warning: provider update state: %v\n", err)
				}
				if textfile == "" {
					return live.WritePrometheus(e.stdout, m)
				}
				var b bytes.Buffer
				if err := live.WritePrometheus(&b, m); err != nil {
					return err
				}
				name := "voicewall.prom"
				if netns != "" {
					name = "voicewall-" + netns + ".prom"
				}
				// Atomic: the collector never reads a half-written file.
				return writeFileAtomic(filepath.Join(textfile, name), b.Bytes())
			}
			pend, _ := live.LoadPending(t)
			switch format {
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
	c.Flags().StringVar(&textfile, "textfile", "", "write the prometheus format atomically into DIR/voicewall.prom for node_exporter's textfile collector")
	_ = c.MarkFlagDirname("textfile")
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
		fmt.Fprintf(w, "  %-55s %d packets\n", lang.RuleKind(k).Words(), tot[k])
	}
	if path == "" {
		fmt.Fprintln(w, "\n(give the policy PATH to match rules to the policy's blocks exactly)")
	}
}
