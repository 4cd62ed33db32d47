package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/voicewall/voicewall/audit"
	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/lang"
	"github.com/voicewall/voicewall/providers"
)

// checkProviders loads the policy (resolving its DNS names now) and compares
// it with the catalog and the last applied DNS answers. l is returned for
// printing diagnostics; sts is nil when the policy does not load.
func checkProviders(path string, maxAge time.Duration) (l *lang.Loaded, sts []providers.Status, err error) {
	l = loadPolicy(path, false)
	if l.Diags.HasErrors() {
		return l, nil, nil
	}
	lib := live.LibDir()
	cat, _, err := providers.LoadCatalog(lib)
	if err != nil {
		return l, nil, err
	}
	kept, _ := providers.ReadAnswers(lib) // unreadable: compared as never applied
	sts = providers.Check(l.Policy, cat, kept)
	providers.Aged(sts, time.Now(), maxAge)
	return l, sts, nil
}

func (e *env) providersCheckCmd() *cobra.Command {
	var format, maxAge string
	c := &cobra.Command{
		Use:   "check [PATH] [--format text|json] [--max-age DURATION]",
		Short: "Compare a policy's providers with the catalog and with DNS: exit 0 current, 2 drift, 1 error",
		Long: `check compares every provider of the policy with its sources:

  catalog = "NAME"   the catalog entry vs any ranges the block pins itself
  by overlap         a provider written by hand whose addresses fall in a
                     catalog entry is compared with that entry (missing and
                     stale ranges)
  signaling_dns      the answers resolved now vs those the last apply used
  age                a catalog entry last verified more than --max-age ago
                     (default 365d; 0 turns it off) is no longer known to
                     be current: providers update, or a newer voicewall

It changes nothing. Exit 0: every provider is current; 2: drift (each
provider and its missing and stale ranges are named); 1: an error.`,
		Example: "  voicewall providers check /etc/voicewall\n  voicewall providers check . --format json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("unknown --format %q: use text or json", format)
			}
			age, err := parseMaxAge(maxAge)
			if err != nil {
				return err
			}
			l, sts, err := checkProviders(pathArg(args), age)
			if err != nil {
				return err
			}
			if sts == nil {
				e.printDiags(l)
				return exitError{1}
			}
			if format == "json" {
				if err := writeJSON(e.stdout, map[string]any{"drift": providers.Drifting(sts), "providers": sts}); err != nil {
					return err
				}
			} else {
				e.printCheck(sts)
			}
			if providers.Drifting(sts) {
				return exitError{2}
			}
			return nil
		},
	}
	formatFlag(c, &format, "text", "json")
	c.Flags().StringVar(&maxAge, "max-age", "", "a catalog entry verified longer ago than this is drift (e.g. 180d; 0: never; default $VOICEWALL_CATALOG_MAX_AGE, else 365d)")
	return c
}

// parseMaxAge reads --max-age: a duration such as "180d", or 0 for never;
// empty is VOICEWALL_CATALOG_MAX_AGE, else providers.DefaultMaxAge. audit
// and status (which have no flag for it) use the same environment setting.
func parseMaxAge(s string) (time.Duration, error) {
	what := "--max-age"
	if s == "" {
		s, what = os.Getenv("VOICEWALL_CATALOG_MAX_AGE"), "VOICEWALL_CATALOG_MAX_AGE"
	}
	switch s {
	case "":
		return providers.DefaultMaxAge, nil
	case "0", "off":
		return 0, nil
	}
	d, err := lang.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %v (or 0 to never call a catalog entry old)", what, err)
	}
	return d, nil
}

func (e *env) printCheck(sts []providers.Status) {
	w := e.stdout
	drifting := 0
	for _, s := range sts {
		with := "nothing to compare with: no catalog entry, no signaling_dns, no catalog range overlaps its addresses"
		if len(s.Checked) > 0 {
			with = "compared with " + strings.Join(s.Checked, ", ")
		}
		if len(s.Drift) == 0 {
			fmt.Fprintf(w, "provider %q (%s): current (%s%s)\n", s.Provider, s.At, with, verifiedOn(s))
			continue
		}
		drifting++
		fmt.Fprintf(w, "provider %q (%s): DRIFT (%s%s)\n", s.Provider, s.At, with, verifiedOn(s))
		for _, d := range s.Drift {
			fmt.Fprintf(w, "  %s %s:\n", d.Kind, d.Entry)
			for _, m := range d.Missing {
				fmt.Fprintf(w, "    missing  + %s\n", m)
			}
			for _, st := range d.Stale {
				fmt.Fprintf(w, "    stale    - %s\n", st)
			}
			if d.Note != "" {
				fmt.Fprintf(w, "    %s\n", lang.Printable(d.Note, 2048, false))
			}
		}
	}
	if drifting > 0 {
		fmt.Fprintf(w, "\n%d of %s drifted.\n", drifting, plural(len(sts), "provider", "providers"))
	} else {
		if len(sts) == 1 {
			fmt.Fprintln(w, "\nThe provider is current.")
		} else {
			fmt.Fprintf(w, "\nAll %d providers are current.\n", len(sts))
		}
	}
}

func verifiedOn(s providers.Status) string {
	if s.CatalogVerified == "" {
		return ""
	}
	return "; the entry was verified " + s.CatalogVerified
}

// providerDriftFindings are `providers check`'s drift as audit findings
// (VW313), so `audit --policy` says what the device cannot: that the
// policy itself no longer matches the provider.
func (e *env) providerDriftFindings(path string) []audit.Finding {
	age, err := parseMaxAge("")
	if err != nil {
		age = providers.DefaultMaxAge // a bad setting is said by providers check; the default still warns
	}
	_, sts, err := checkProviders(path, age)
	if err != nil || sts == nil {
		return nil // the policy loaded for audit; a catalog error is said by providers check
	}
	var out []audit.Finding
	for _, s := range sts {
		for _, d := range s.Drift {
			msg := fmt.Sprintf("provider %q (%s %s): missing %s; stale %s. %s", s.Provider, d.Kind, d.Entry, listOrNone(d.Missing), listOrNone(d.Stale), d.Note)
			out = append(out, audit.Finding{ID: audit.IDProviderDrift, Severity: audit.SevWarning, Title: audit.Titles[audit.IDProviderDrift],
				Message: lang.Printable(msg, 4096, false), Fix: "Run `voicewall providers check` and update the policy (catalog = \"NAME\" keeps a provider current), then compile and deploy again.",
				Policy: s.Provider, Loc: devmodel.Loc{File: "policy " + s.At}})
		}
	}
	return out
}

func listOrNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}

// providerDriftGauges are one gauge per provider for status --format
// prometheus: 1 when it drifted, 0 when current.
func providerDriftGauges(path string) []live.ProviderDriftGauge {
	age, err := parseMaxAge("")
	if err != nil {
		age = providers.DefaultMaxAge // a bad setting is said by providers check; the default still warns
	}
	_, sts, err := checkProviders(path, age)
	if err != nil || sts == nil {
		return nil
	}
	var out []live.ProviderDriftGauge
	for _, s := range sts {
		g := live.ProviderDriftGauge{Provider: s.Provider, Drift: len(s.Drift) > 0, CatalogEntry: s.CatalogEntry}
		if t, err := time.Parse(time.DateOnly, s.CatalogVerified); err == nil {
			g.CatalogVerified = t
		}
		out = append(out, g)
	}
	return out
}
