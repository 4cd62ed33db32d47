package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/catalog"
	"github.com/voicewall/voicewall/lang"
	"github.com/voicewall/voicewall/providers"
)

func init() { extraCommands = append(extraCommands, (*env).providersCmd) }

// loadPolicy loads a policy with its inputs: the provider catalog (embedded,
// overlaid by `providers update`) and the signaling_dns answers, resolved
// now with the system resolver (last answers kept where DNS fails). keep
// records the fresh answers under the state directory (compile, plan,
// apply do; read-only commands do not).
func loadPolicy(path string, keep bool) *lang.Loaded { return loadPolicyReading(path, keep, nil) }

// loadPolicyReading is loadPolicy for a policy that may also read
// readDirs (lang.LoadOptions.ReadDirs).
func loadPolicyReading(path string, keep bool, readDirs []string) *lang.Loaded {
	return loadPolicyOpts(path, keep, lang.LoadOptions{ReadDirs: readDirs})
}

// loadPolicyOpts is loadPolicy with load options set by the caller
// (ReadDirs, the feed refresh's Overlay); catalog and DNS are added here.
func loadPolicyOpts(path string, keep bool, opts lang.LoadOptions) *lang.Loaded {
	lib := live.LibDir()
	cat, warn, err := providers.LoadCatalog(lib)
	var extra hcl.Diagnostics
	if err != nil {
		extra = append(extra, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Provider catalog unusable", Detail: err.Error()})
	} else if warn != "" {
		extra = append(extra, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Catalog update not used", Detail: warn + " The embedded catalog is used; run `voicewall providers update` again."})
	}
	if cat != nil {
		opts.Catalog = lang.CatalogOf(cat)
	}
	l := registry.LoadFullWith(path, opts)
	if len(l.DNSNames) > 0 {
		now := time.Now()
		answers, rerr := providers.ReadAnswers(lib)
		if rerr != nil {
			extra = append(extra, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Kept DNS answers unreadable", Detail: rerr.Error() + ": names that do not resolve now have no kept answer."})
		}
		var res map[string]lang.DNSAnswer
		changed := false
		if os.Getenv("VOICEWALL_DNS") == "kept" {
			// A sandboxed unit without IP sockets: the answers
			// `providers update PATH` keeps, stated with their age.
			res = providers.KeptAnswers(l.DNSNames, answers)
		} else {
			res, changed = providers.Resolve(context.Background(), providers.SystemResolver(), l.DNSNames, answers, now)
		}
		if keep && changed {
			if werr := answers.Write(lib); werr != nil {
				extra = append(extra, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "DNS answers not kept", Detail: fmt.Sprintf("%v: a later run whose DNS fails cannot fall back to these answers.", werr)})
			}
		}
		opts.DNS, opts.Now = res, now
		l = registry.LoadFullWith(path, opts)
	}
	l.Diags = append(extra, l.Diags...)
	return l
}

// keepingLoad is plan's and apply's loader: it keeps fresh DNS answers.
func keepingLoad(path string) *lang.Loaded { return loadPolicy(path, true) }

// policyUsesProviderInputs loads the policy without resolving anything to
// tell whether it takes ranges from the catalog or DNS.
func policyUsesProviderInputs(path string) bool {
	cat, _, err := providers.LoadCatalog(live.LibDir())
	o := lang.LoadOptions{}
	if err == nil {
		o.Catalog = lang.CatalogOf(cat)
	}
	return usesProviderInputs(registry.LoadFullWith(path, o))
}

// markDNSApplied records the answers an apply put in the kernel, for
// `providers check` (current answers vs last applied).
func (e *env) markDNSApplied(p *lang.Policy) {
	uses := p.DNSUses()
	if len(uses) == 0 {
		return
	}
	lib := live.LibDir()
	a, err := providers.ReadAnswers(lib)
	if err == nil {
		a.MarkApplied(uses, time.Now())
		err = a.Write(lib)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "Warning: the applied DNS answers were not recorded (%v); `voicewall providers check` compares with the previous record.\n", err)
	}
}

// usesProviderInputs tells whether a policy takes ranges from the catalog or
// DNS, which the input-file digest of apply's fast path does not cover.
func usesProviderInputs(l *lang.Loaded) bool {
	if len(l.DNSNames) > 0 {
		return true
	}
	if l.Policy != nil {
		for _, pr := range l.Policy.Providers {
			if pr.Catalog != "" {
				return true
			}
		}
	}
	return false
}

func (e *env) providersCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "providers",
		Short: "The provider catalog: list, show, check a policy against it, update it",
		Long: `voicewall ships a catalog of the signaling and media ranges SIP providers
publish, each entry with the URL of the provider's documentation and the date it
was verified. A provider block uses an entry with catalog = "NAME".`,
	}
	c.AddCommand(e.providersListCmd(), e.providersShowCmd(), e.providersCheckCmd(), e.providersUpdateCmd())
	return c
}

func (e *env) catalogOrErr() (*catalog.Catalog, error) {
	cat, warn, err := providers.LoadCatalog(live.LibDir())
	if err != nil {
		return nil, err
	}
	if warn != "" {
		fmt.Fprintln(e.stderr, "Warning:", lang.Printable(warn, 4096, false))
	}
	return cat, nil
}

func (e *env) providersListCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:     "list [FILTER] [--format text|json]",
		Short:   "List the catalog's entries (those whose name or provider contains FILTER)",
		Example: "  voicewall providers list\n  voicewall providers list twilio\n  voicewall providers list --format json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("unknown --format %q: use text or json", format)
			}
			cat, err := e.catalogOrErr()
			if err != nil {
				return err
			}
			entries := cat.Entries()
			if len(args) == 1 {
				entries = cat.Matching(args[0])
				if len(entries) == 0 {
					return fmt.Errorf("no catalog entry's name or provider contains %q: run voicewall providers list for all of them", lang.Printable(args[0], 80, false))
				}
			}
			switch format {
			case "json":
				return writeJSON(e.stdout, entries)
			default:
				w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "NAME\tPROVIDER\tREGION\tTRANSPORTS\tVERIFIED\tFROM")
				for _, en := range entries {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", en.Name, en.Provider, en.Region, strings.Join(en.Transports, ","), en.Verified, en.Origin)
				}
				return w.Flush()
			}
		},
	}
	formatFlag(c, &format, "text", "json")
	return c
}

func (e *env) providersShowCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:     "show NAME [--format text|json]",
		Short:   "Show one catalog entry: ranges, ports, DNS names, sources and notes",
		Example: "  voicewall providers show twilio-all",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := e.catalogOrErr()
			if err != nil {
				return err
			}
			en, ok := cat.Get(args[0])
			if !ok {
				hint := ""
				if m := didYouMean(args[0], cat.Names()); m != "" {
					hint = fmt.Sprintf(" Did you mean %q?", m)
				}
				return fmt.Errorf("%q is not in the provider catalog.%s Run `voicewall providers list`", lang.Printable(args[0], 100, false), hint)
			}
			switch format {
			case "json":
				return writeJSON(e.stdout, en)
			case "text":
				e.showEntry(en)
				return nil
			default:
				return fmt.Errorf("unknown --format %q: use text or json", format)
			}
		},
	}
	formatFlag(c, &format, "text", "json")
	return c
}

func (e *env) showEntry(en *catalog.Entry) {
	w := e.stdout
	fmt.Fprintf(w, "%s: %s", en.Name, en.Provider)
	if en.Region != "" {
		fmt.Fprintf(w, " (%s)", en.Region)
	}
	fmt.Fprintf(w, "\n  verified:    %s (%s)\n", en.Verified, en.Origin)
	fmt.Fprintf(w, "  signaling:   %s\n", strings.Join(en.Signaling, ", "))
	if len(en.Media) > 0 {
		fmt.Fprintf(w, "  media:       %s\n", strings.Join(en.Media, ", "))
	}
	if en.SymmetricRTP {
		fmt.Fprintln(w, "  media:       not published as ranges: symmetric_rtp")
	}
	if en.Partial {
		fmt.Fprintln(w, "  partial:     the provider sends from more than this entry holds (notes say which)")
	}
	fmt.Fprintf(w, "  transports:  %s", strings.Join(en.Transports, ", "))
	if en.SIPPort != 0 {
		fmt.Fprintf(w, "  sip_port %d", en.SIPPort)
	}
	if en.SIPPorts != "" {
		fmt.Fprintf(w, "  sip_ports %s", en.SIPPorts)
	}
	if en.TLSPort != 0 {
		fmt.Fprintf(w, "  tls_port %d", en.TLSPort)
	}
	fmt.Fprintln(w)
	if en.MediaPorts != "" {
		fmt.Fprintf(w, "  media ports: %s (UDP)\n", en.MediaPorts)
	}
	if len(en.DNS) > 0 {
		fmt.Fprintf(w, "  DNS names:   %s\n", strings.Join(en.DNS, ", "))
	}
	if en.Notes != "" {
		fmt.Fprintf(w, "  notes:       %s\n", lang.Printable(en.Notes, 4096, false))
	}
	for _, s := range en.Sources {
		seen := ""
		if s.Seen != "" {
			seen = ", copy dated " + s.Seen
		}
		fmt.Fprintf(w, "  source:      %s (%s%s)\n               %s\n", lang.Printable(s.URL, 1024, false), s.Owner, seen, lang.Printable(s.Covers, 4096, false))
	}
}
