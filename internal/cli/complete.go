package cli

import (
	"os"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/spf13/cobra"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/lang"
)

// formatFlag declares --format with its values: the help text, shell
// completion and the value check all read this one list (values[0] is the
// default).
func formatFlag(c *cobra.Command, p *string, values ...string) {
	c.Flags().StringVar(p, "format", values[0], "output format: "+orList(values))
	_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// orList spells values as "a, b or c".
func orList(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// targetChoices are the values --target accepts.
func targetChoices() []string { return append(registry.Names(), "all", "declared") }

// didYouMean returns the choice closest to s when it is plausibly a typo
// (at most two edits, or s is a prefix), or "".
func didYouMean(s string, choices []string) string {
	best, bestD := "", 3
	for _, c := range choices {
		d := levenshtein.Distance(strings.ToLower(s), c, nil)
		if s != "" && strings.HasPrefix(c, strings.ToLower(s)) {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// netnsNames lists the named network namespaces (ip netns add NAME).
func netnsNames() []string {
	ents, err := os.ReadDir("/run/netns")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// policyZones are the zones of the policy the command's PATH argument (or
// the current directory) holds: wan, lan and its voice VLANs. A policy
// that does not load still offers wan and lan.
func policyZones(args []string) []string {
	l := registry.LoadFull(pathArg(args))
	if l.Policy == nil || l.Diags.HasErrors() {
		return []string{lang.ZoneWAN, lang.ZoneLAN}
	}
	return l.Policy.Zones()
}

// registerValueCompletion makes every --target, --netns and --zone flag in
// the tree complete its values; --format registers its own in formatFlag.
func registerValueCompletion(c *cobra.Command) {
	nofile := cobra.ShellCompDirectiveNoFileComp
	if c.Flags().Lookup("target") != nil {
		_ = c.RegisterFlagCompletionFunc("target", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return targetChoices(), nofile
		})
	}
	if c.Flags().Lookup("netns") != nil {
		_ = c.RegisterFlagCompletionFunc("netns", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return netnsNames(), nofile
		})
	}
	if c.Flags().Lookup("zone") != nil {
		_ = c.RegisterFlagCompletionFunc("zone", func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return policyZones(args), nofile
		})
	}
	for _, sub := range c.Commands() {
		registerValueCompletion(sub)
	}
}
