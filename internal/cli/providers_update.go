package cli

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/lang"
	"github.com/voicewall/voicewall/providers"
)

func addrJoin(as []netip.Addr) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}

func (e *env) providersUpdateCmd() *cobra.Command {
	var format string
	var overrides, allowShrink []string
	c := &cobra.Command{
		Use:   "update [PATH] [--format text|json] [--source ENTRY=URL]...",
		Short: "Refresh the catalog from the providers' machine-readable lists (Zoom, Microsoft 365, DIDWW) into the state directory",
		Long: `update downloads the range lists providers publish in machine-readable form
(Zoom's range files, Microsoft's 365 endpoints web service with its version,
DIDWW's voice.json with its version) and
keeps them in VOICEWALL_LIB_DIR/catalog/overlay.json, where they override the
embedded catalog's entries of the same name.

Every download is checked before it is kept: https only, at most 1 MiB, the
whole body (a short read is refused), a list of addresses and CIDRs only, not
empty, no private, loopback, documentation or other special-purpose range, and
the whole catalog must still validate with it, and it may not drop more than
half of the entry's addresses (per family) unless --allow-shrink ENTRY says
the provider really retired them: applied unattended, such a list would drop
the provider's calls. A refused list keeps the last good one (or the
embedded entry) and is said; the exit code is then 1. The ranges each list
gained (+) and lost (-) are printed.

With PATH, the signaling_dns names of that policy are also resolved and
their answers kept (VOICEWALL_LIB_DIR/dns/answers.json), for units that run
without network access and use the kept answers (VOICEWALL_DNS=kept).

--source ENTRY=URL downloads an entry from a mirror instead (https too);
ENTRY.version=URL sets the version URL of a 365-style source.`,
		Example: "  voicewall providers update\n  voicewall providers update --format json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("unknown --format %q: use text or json", format)
			}
			dnsFailed := false
			if len(args) == 1 {
				// Resolve and keep the policy's DNS answers (loadPolicy with keep).
				l := loadPolicy(args[0], true)
				if l.Diags.HasErrors() {
					e.printDiags(l)
					dnsFailed = true
				} else if l.Policy != nil {
					for _, u := range l.Policy.DNSUses() {
						state := "resolved"
						if u.Kept {
							state, dnsFailed = "DID NOT RESOLVE ("+lang.Printable(u.Err, 300, false)+"), last answers kept", true
						}
						if format == "text" {
							fmt.Fprintf(e.stdout, "dns %s: %s: %s\n", u.Name, state, addrJoin(u.Addrs))
						}
					}
				}
			}
			srcs := append([]providers.UpdateSource{}, providers.DefaultSources...)
			for _, o := range overrides {
				name, url, ok := strings.Cut(o, "=")
				entry, field, _ := strings.Cut(name, ".")
				found := false
				for i := range srcs {
					if srcs[i].Entry == entry && ok {
						found = true
						if field == "version" {
							srcs[i].VersionURL = url
						} else {
							srcs[i].URL = url
						}
					}
				}
				if !found {
					var names []string
					for _, s := range srcs {
						names = append(names, s.Entry)
					}
					return fmt.Errorf("--source %q: write ENTRY=URL with ENTRY one of %s", lang.Printable(o, 200, false), strings.Join(names, ", "))
				}
			}
			res, err := providers.Update(cmd.Context(), providers.UpdateOptions{LibDir: live.LibDir(), Sources: srcs, Now: time.Now(), AllowShrink: allowShrink})
			if err != nil {
				return err
			}
			refused := false
			if format == "json" {
				if err := writeJSON(e.stdout, res); err != nil {
					return err
				}
			}
			for _, r := range res {
				if r.Status == "refused" {
					refused = true
				}
				if format != "text" {
					continue
				}
				switch r.Status {
				case "updated":
					v := ""
					if r.Version != "" {
						v = ", version " + r.Version
					}
					fmt.Fprintf(e.stdout, "%s: updated, %d ranges%s (%s)\n", r.Entry, r.Ranges, v, lang.Printable(r.URL, 1024, false))
				case "unchanged":
					fmt.Fprintf(e.stdout, "%s: unchanged (version %s)\n", r.Entry, r.Version)
				default:
					fmt.Fprintf(e.stdout, "%s: REFUSED, the last good ranges stay: %s\n", r.Entry, lang.Printable(r.Reason, 2048, false))
				}
				for _, a := range r.Added {
					fmt.Fprintf(e.stdout, "  + %s\n", a)
				}
				for _, rm := range r.Removed {
					fmt.Fprintf(e.stdout, "  - %s\n", rm)
				}
			}
			if refused || dnsFailed {
				return exitError{1}
			}
			return nil
		},
	}
	formatFlag(c, &format, "text", "json")
	c.Flags().StringArrayVar(&overrides, "source", nil, "download ENTRY from URL (a mirror; https only)")
	c.Flags().StringArrayVar(&allowShrink, "allow-shrink", nil, "accept ENTRY's new list even if it drops more than half of its addresses (repeatable)")
	return c
}
