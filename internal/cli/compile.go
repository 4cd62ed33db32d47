package cli

import (
	"fmt"
	"github.com/hashicorp/hcl/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/voicewall/voicewall/internal/safefile"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/voicewall/voicewall/audit"
	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/lang"
)

func (e *env) compileCmd() *cobra.Command {
	var target, outDir, base string
	var degraded bool
	c := &cobra.Command{
		Use:   "compile [PATH...] --target nftables|fortigate|pfsense|draytek|all [-o DIR]",
		Short: "Compile a policy into a target's native rule set",
		Example: `  voicewall compile examples/asterisk-udp-trunk --target nftables
  voicewall compile . --target all -o out/
  voicewall compile . --target pfsense --base config.xml -o out/
  voicewall compile examples/fleet/sites/* --target all -o build/   # build/<site>/`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if target == "" {
				return fmt.Errorf("--target is required: one of %s or all", strings.Join(registry.Names(), ", "))
			}
			var targets []registry.Target // nil: each policy's declared targets
			switch target {
			case "all":
				targets = registry.Targets
			case "declared":
			default:
				t, ok := registry.Lookup(target)
				if !ok {
					if guess := didYouMean(target, targetChoices()); guess != "" {
						return fmt.Errorf("unknown target %q: did you mean %s? (targets: %s)", target, guess, orList(targetChoices()))
					}
					return fmt.Errorf("unknown target %q: use %s", target, orList(targetChoices()))
				}
				targets = []registry.Target{t}
			}
			opts := backends.Options{AllowDegraded: degraded}
			if base != "" {
				if len(args) > 1 {
					return fmt.Errorf("--base is one site's exported configuration: compile the sites one at a time")
				}
				// A configuration export, bounded as audit bounds one; a
				// FIFO or /dev/zero is refused without blocking.
				b, err := lang.ReadRegular(base, audit.MaxConfigBytes)
				if err != nil {
					return fmt.Errorf("--base: %w", err)
				}
				opts.Base = b
			}
			if len(args) > 1 {
				return e.compileSites(args, targets, opts, outDir)
			}
			outputs, ok := e.compilePolicy(pathArg(args), targets, opts, "")
			if !ok {
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
			return e.writeOutputs(outDir, outputs)
		},
	}
	c.Flags().StringVarP(&target, "target", "t", "", "nftables, fortigate, pfsense, draytek, all, or declared (the targets each policy has a target block for)")
	c.Flags().StringVarP(&outDir, "output", "o", "", "write files into DIR (nftables.nft, fortigate.conf, pfsense.xml, draytek.txt) instead of stdout")
	// --out (and -out, see normalizeArgs) is an alias of --output.
	c.Flags().SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "out" {
			name = "output"
		}
		return pflag.NormalizedName(name)
	})
	c.Flags().BoolVar(&degraded, "allow-degraded", false, "compile even when a target cannot express a protection; the output says what is missing")
	c.Flags().StringVar(&base, "base", "", "pfSense: merge into this exported config.xml; FortiGate: a backup (or the last fortigate.conf) to delete what voicewall no longer needs")
	return c
}

// compilePolicy loads one policy and compiles it for every target,
// printing the diagnostics; ok is false when there was an error. Nothing is
// written: an error leaves no file.
// site, when not "", is the fleet site the policy is (see nameSite).
func (e *env) compilePolicy(path string, targets []registry.Target, opts backends.Options, site string) (outputs []*backends.Output, ok bool) {
	l := loadPolicy(path, true)
	if l.Diags.HasErrors() {
		e.printDiags(l)
		return nil, false
	}
	if targets == nil {
		targets = declaredTargets(l.Policy)
		if len(targets) == 0 {
			e.printDiags(l)
			fmt.Fprintf(e.stderr, "%s has no target block: --target declared compiles the targets a policy names; add one or give --target\n", lang.Printable(path, 4096, false))
			return nil, false
		}
	}
	if opts.Base != nil && len(targets) > 1 {
		e.printDiags(l)
		fmt.Fprintf(e.stderr, "--base is one device's exported configuration: compile it with that device's --target (fortigate or pfsense), not %d targets at once\n", len(targets))
		return nil, false
	}
	diags := l.Diags
	for _, t := range targets {
		out, d := t.Compile(l.Policy, opts)
		diags = append(diags, d...)
		outputs = append(outputs, out)
	}
	if site != "" {
		diags = nameSite(diags, l.Root, site)
	}
	e.printDiags(&lang.Loaded{Root: l.Root, Files: l.Files, Diags: diags})
	return outputs, !diags.HasErrors()
}

// nameSite: in a fleet compile, a diagnostic located outside the site's own
// directory (a shared block in common/) is about this site's use of it, and
// every site that uses the block repeats it: its summary names the site.
// Locations are relative to the policy root (lang's Root).
func nameSite(diags hcl.Diagnostics, policyRoot, site string) hcl.Diagnostics {
	root, err := filepath.Abs(policyRoot)
	if err != nil {
		return diags
	}
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		out[i] = d
		if d.Subject == nil {
			continue
		}
		f, err := filepath.Abs(policyFile(policyRoot, d.Subject.Filename))
		if err != nil || strings.HasPrefix(f, root+string(filepath.Separator)) {
			continue
		}
		c := *d
		c.Summary += " (site " + site + ")"
		out[i] = &c
	}
	return out
}

// declaredTargets are the targets a policy has target blocks for, in the
// registry's order.
func declaredTargets(p *lang.Policy) []registry.Target {
	var out []registry.Target
	for _, t := range registry.Targets {
		if _, ok := p.Targets[t.Name]; ok {
			out = append(out, t)
		}
	}
	return out
}

// compileSites compiles several policies (a fleet's sites) into
// DIR/<site>/, one directory per site named after the policy directory.
// Every site is compiled before anything is written: one broken site
// leaves build/ as it was, and every broken site is reported.
func (e *env) compileSites(paths []string, targets []registry.Target, opts backends.Options, outDir string) error {
	if outDir == "" {
		return fmt.Errorf("compiling %d policies needs -o DIR: each is written to DIR/<name>/", len(paths))
	}
	byName := map[string]string{}
	for _, p := range paths {
		name := siteName(p)
		if prev, dup := byName[name]; dup {
			return fmt.Errorf("%s and %s would both be written to %s: give policies with different directory names", prev, p, filepath.Join(outDir, name))
		}
		byName[name] = p
	}
	outputs := make([][]*backends.Output, len(paths))
	var failed []string
	for i, p := range paths {
		out, ok := e.compilePolicy(p, targets, opts, siteName(p))
		if !ok {
			failed = append(failed, p)
		}
		outputs[i] = out
	}
	if len(failed) > 0 {
		fmt.Fprintf(e.stderr, "%d of %d policies failed to compile (%s); nothing was written\n", len(failed), len(paths), lang.Printable(strings.Join(failed, ", "), 4096, false))
		return exitError{1}
	}
	for i, p := range paths {
		if err := e.writeOutputs(filepath.Join(outDir, siteName(p)), outputs[i]); err != nil {
			return err
		}
	}
	return nil
}

// siteName is the output directory of a policy: its directory's name, or
// a file's name without .hcl.
func siteName(path string) string {
	name := filepath.Base(filepath.Clean(path))
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		name = strings.TrimSuffix(name, filepath.Ext(name))
	}
	return name
}

func (e *env) writeOutputs(dir string, outputs []*backends.Output) error {
	if err := safefile.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, out := range outputs {
		for _, f := range out.Files {
			if err := writeFileAtomic(filepath.Join(dir, f.Name), f.Data); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "wrote %s\n", lang.Printable(filepath.Join(dir, f.Name), 4096, false))
		}
	}
	return nil
}

func sep(i int) string {
	if i == 0 {
		return ""
	}
	return "\n"
}

// writeFileAtomic writes an output file through the one safe writer
// (temp file, O_EXCL|O_NOFOLLOW, fchmod, fsync, rename): a reader or a
// crash never sees a half-written file, and a symlink planted in the output
// directory is never followed.
func writeFileAtomic(path string, data []byte) error {
	return safefile.Write(path, data, safefile.Options{Mode: 0o644})
}
