package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/lang"
)

func (e *env) compileCmd() *cobra.Command {
	var target, outDir, base string
	var degraded bool
	c := &cobra.Command{
		Use:   "compile [PATH] --target nftables|fortigate|pfsense|draytek|all [-o DIR]",
		Short: "Compile a policy into a target's native rule set",
		Example: `  voicewall compile examples/asterisk-udp-trunk --target nftables
  voicewall compile . --target all -o out/
  voicewall compile . --target pfsense --base config.xml -o out/`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if target == "" {
				return fmt.Errorf("--target is required: one of %s or all", strings.Join(lang.TargetNames, ", "))
			}
			var targets []registry.Target
			if target == "all" {
				targets = registry.Targets
			} else {
				t, ok := registry.Lookup(target)
				if !ok {
					for _, n := range lang.TargetNames {
						if n == target {
							return fmt.Errorf("target %q is not built into this voicewall yet; available: %s", target, strings.Join(registry.Names(), ", "))
						}
					}
					if guess := didYouMean(target, targetChoices()); guess != "" {
						return fmt.Errorf("unknown target %q: did you mean %s? (targets: %s)", target, guess, orList(targetChoices()))
					}
					return fmt.Errorf("unknown target %q: use %s", target, orList(targetChoices()))
				}
				targets = []registry.Target{t}
			}
			l := lang.LoadFull(pathArg(args))
			if l.Diags.HasErrors() {
				e.printDiags(l)
				return exitError{1}
			}
			opts := backends.Options{AllowDegraded: degraded}
			if base != "" {
				b, err := os.ReadFile(base)
				if err != nil {
					return fmt.Errorf("--base: %w", err)
				}
				opts.Base = b
			}
			// Compile everything before writing anything: an error leaves no file.
			var outputs []*backends.Output
			diags := l.Diags
			for _, t := range targets {
				out, d := t.Compile(l.Policy, opts)
				diags = append(diags, d...)
				outputs = append(outputs, out)
			}
			e.printDiags(&lang.Loaded{Root: l.Root, Files: l.Files, Diags: diags})
			if diags.HasErrors() {
				return exitError{1}
			}
			if outDir == "" {
				for i, out := range outputs {
					if len(outputs) > 1 {
						fmt.Fprintf(e.stdout, "%s==> %s <==\n", sep(i), out.Main().Name)
					}
					if _, err := e.stdout.Write(out.Main().Data); err != nil {
						return err
					}
					if len(out.Files) > 1 {
						fmt.Fprintf(e.stderr, "note: %s also writes %d feed file(s); use -o DIR to get them\n", targets[i].Name, len(out.Files)-1)
					}
				}
				return nil
			}
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return err
			}
			for _, out := range outputs {
				for _, f := range out.Files {
					if err := writeFileAtomic(filepath.Join(outDir, f.Name), f.Data); err != nil {
						return err
					}
					fmt.Fprintf(e.stderr, "wrote %s\n", filepath.Join(outDir, f.Name))
				}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&target, "target", "t", "", "nftables, fortigate, pfsense, draytek or all")
	c.Flags().StringVarP(&outDir, "output", "o", "", "write files into DIR (nftables.nft, fortigate.conf, pfsense.xml, draytek.txt) instead of stdout")
	// --out (and -out, see normalizeArgs) is an alias of --output.
	c.Flags().SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "out" {
			name = "output"
		}
		return pflag.NormalizedName(name)
	})
	c.Flags().BoolVar(&degraded, "allow-degraded", false, "compile even when a target cannot express a protection; the output says what is missing")
	c.Flags().StringVar(&base, "base", "", "pfSense: merge into this exported config.xml")
	return c
}

func sep(i int) string {
	if i == 0 {
		return ""
	}
	return "\n"
}

// writeFileAtomic writes via a temp file and rename, so a reader (or a
// crash) never sees a half-written file.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
