package cli

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/internal/gitrev"
	"github.com/voicewall/voicewall/lang"
	"github.com/voicewall/voicewall/semdiff"
)

func init() { extraCommands = append(extraCommands, (*env).diffCmd) }

func (e *env) diffCmd() *cobra.Command {
	var format, base string
	c := &cobra.Command{
		Use:   "diff OLD NEW | diff --base REV [PATH]",
		Short: "Which traffic a policy change lets in or shuts out: exit 0 same meaning, 2 changes, 1 error",
		Long: `diff compares two policies by what they do, not by how they are written: every
class of packets (zone, source and destination addresses, protocol, ports)
either policy can tell apart is evaluated in both, and each class whose
verdict, forwarding, DSCP marking or rate limit differs is printed once,
merged into as few lines as possible, with the policy block that decides it.
A reformatted, reordered or split policy has no changes in meaning.

With --base REV, the policy at PATH as of the git revision REV (read with
the git command) is compared with the working tree.

Capability gaps that change what a target enforces (accept_gaps, a block
a target cannot express) are listed separately, per target.`,
		Example: `  voicewall diff old/ new/
  voicewall diff --base origin/main examples/asterisk-udp-trunk
  voicewall diff --base HEAD~1 . --format markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.RangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" && format != "markdown" {
				return fmt.Errorf("unknown --format %q: use text, json or markdown", format)
			}
			var oldPath, newPath, title string
			var notes, oldDirs []string
			switch {
			case base != "":
				if len(args) > 1 {
					return fmt.Errorf("with --base give at most one PATH (the working tree's policy)")
				}
				newPath = pathArg(args)
				snap, err := gitrev.Extract(newPath, base)
				if err != nil {
					return err
				}
				defer snap.Close()
				oldPath, notes, oldDirs = snap.Path, snap.Notes, []string{snap.Repo}
				title = fmt.Sprintf("%s at %s → working tree", newPath, base)
			case len(args) == 2:
				oldPath, newPath = args[0], args[1]
				title = oldPath + " → " + newPath
			default:
				return fmt.Errorf("give two policies (diff OLD NEW) or a revision (diff --base REV [PATH])")
			}
			old, ok := e.loadForDiff(oldPath, format, oldDirs)
			if !ok {
				return exitError{1}
			}
			cur, ok := e.loadForDiff(newPath, format, nil)
			if !ok {
				return exitError{1}
			}
			rep := semdiff.Compare(old, cur, semdiff.Options{Targets: registry.Targets})
			r := semdiff.NewRenderer(old, cur)
			var err error
			switch format {
			case "json":
				err = writeJSON(e.stdout, struct {
					Old   string   `json:"old"`
					New   string   `json:"new"`
					Notes []string `json:"notes"`
					semdiff.JSON
				}{title0(base, oldPath), newPath, append([]string{}, notes...), r.JSON(rep)})
			case "markdown":
				err = r.Markdown(e.stdout, rep, title)
				for _, n := range notes {
					fmt.Fprintf(e.stdout, "\nNote: %s\n", lang.Printable(n, 512, false))
				}
			default:
				for _, n := range notes {
					fmt.Fprintf(e.stderr, "note: %s\n", n)
				}
				err = r.Text(e.stdout, rep)
			}
			if err != nil {
				return err
			}
			if !rep.Same() {
				return exitError{2}
			}
			return nil
		},
	}
	c.Flags().StringVar(&base, "base", "", "compare PATH as of this git revision (branch, tag, commit) with the working tree")
	formatFlag(c, &format, "text", "json", "markdown")
	return c
}

func title0(base, oldPath string) string {
	if base != "" {
		return base
	}
	return oldPath
}

// loadForDiff loads one side; an invalid policy prints its errors (on
// stderr, or as JSON) and the diff exits 1.
// readDirs are further directories the policy may read (a snapshot's
// repository: the working tree's is found by its .git).
func (e *env) loadForDiff(path, format string, readDirs []string) (*lang.Policy, bool) {
	l := loadPolicyReading(path, false, readDirs)
	if !l.Diags.HasErrors() {
		return l.Policy, true
	}
	if format == "json" {
		_ = e.invalidPolicy(l, "json")
		return nil, false
	}
	_ = lang.WriteDiagnostics(e.stderr, l.Files, errorsOnly(l.Diags), l.Root)
	fmt.Fprintf(e.stderr, "%s is not a valid policy; fix the errors above before comparing it.\n", path)
	return nil, false
}

func errorsOnly(ds hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range ds {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}
