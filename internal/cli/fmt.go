package cli

import (
	"bytes"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/spf13/cobra"
	"github.com/voicewall/voicewall/lang"
)

func (e *env) fmtCmd() *cobra.Command {
	var check bool
	c := &cobra.Command{
		Use:   "fmt [-check] [PATH]",
		Short: "Rewrite policy files in canonical HCL formatting",
		Example: `  voicewall fmt .
  voicewall fmt -check examples/   # exit 1 and list files that need formatting`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, _, err := lang.PolicyFiles(pathArg(args))
			if err != nil {
				return err
			}
			unformatted := 0
			for _, f := range files {
				src, err := os.ReadFile(f)
				if err != nil {
					return err
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
					fmt.Fprintln(e.stdout, f)
					continue
				}
				if err := writeFileAtomic(f, out); err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, f)
			}
			if check && unformatted > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&check, "check", false, "do not rewrite; list files that need formatting and exit 1 if any")
	return c
}
