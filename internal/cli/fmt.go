package cli

import (
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/spf13/cobra"
	"github.com/voicewall/voicewall/internal/safefile"
	"github.com/voicewall/voicewall/lang"
)

func (e *env) fmtCmd() *cobra.Command {
	var check, recursive bool
	c := &cobra.Command{
		Use:   "fmt [-check] [-recursive] [PATH]",
		Short: "Rewrite policy files in canonical HCL formatting",
		Example: `  voicewall fmt .
  voicewall fmt -check .            # exit 1 and list files that need formatting
  voicewall fmt -recursive examples/`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var files []string
			var err error
			if recursive {
				files, err = hclFilesUnder(pathArg(args))
			} else {
				files, _, err = lang.PolicyFiles(pathArg(args))
				if err != nil {
					// A fleet root holds its policies in subdirectories (sites/*, common/).
					if sub, serr := hclFilesUnder(pathArg(args)); serr == nil && len(sub) > 0 {
						return fmt.Errorf("%v; its subdirectories hold %d .hcl files: voicewall fmt -recursive %s formats them all", err, len(sub), lang.Printable(pathArg(args), 4096, false))
					}
				}
			}
			if err != nil {
				return err
			}
			unformatted := 0
			for _, f := range files {
				src, d := lang.ReadPolicyFile(pathArg(args), f, f)
				if d != nil {
					e.printDiags(&lang.Loaded{Files: lang.Files{}, Diags: hcl.Diagnostics{d}})
					return exitError{1}
				}
				l := lang.LoadSourceSyntaxOnly(f, src)
				if l.Diags.HasErrors() {
					e.printDiags(l)
					return exitError{1}
				}
				out := hclwrite.Format(src)
				if bytes.Equal(out, src) {
					continue
				}
				unformatted++
				if check {
					fmt.Fprintln(e.stdout, lang.Printable(f, 4096, false))
					continue
				}
				// fmt rewrites the admin's own file: its mode and owner stay,
				// and a symlinked policy file is written through to its target.
				if err := safefile.Write(f, out, safefile.Options{Keep: true, FollowLink: true}); err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, lang.Printable(f, 4096, false))
			}
			if check && unformatted > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&check, "check", false, "do not rewrite; list files that need formatting and exit 1 if any")
	c.Flags().BoolVarP(&recursive, "recursive", "r", false, "also format .hcl files in subdirectories")
	return c
}

// hclFilesUnder lists every .hcl file below root, sorted.
func hclFilesUnder(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".hcl") {
			out = append(out, path)
		}
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%s contains no .hcl files", root)
	}
	sort.Strings(out)
	return out, err
}
