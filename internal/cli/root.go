// Package cli is voicewall's command line: flags, output and exit codes.
// Policy logic lives in lang and backends; nothing here decides a rule.
package cli

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/voicewall/voicewall/lang"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "0.1.0-dev"

// exitError carries an exit code through cobra without printing twice.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Main runs the CLI and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	stdout, stderr = terminalSafe{stdout}, terminalSafe{stderr}
	root := newRoot(stdin, stdout, stderr)
	root.SetArgs(normalizeArgs(args))
	err := root.Execute()
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		// OS errors carry paths, and paths may carry escape sequences.
		fmt.Fprintln(stderr, "Error:", lang.Printable(err.Error(), 4096, true))
		return 1
	}
}

// singleDash are the Go-style single-dash long flags users write from
// older docs and scripts (`fmt -check`, `compile -out`); cobra would read
// "-check" as the shorthand cluster -c -h -e -c -k, and "-out" as -o "ut".
var singleDash = map[string]string{"-check": "--check", "-out": "--out", "-recursive": "--recursive"}

// normalizeArgs rewrites exactly the single-dash long flags of singleDash
// (also in the -flag=value form), up to a "--" terminator.
func normalizeArgs(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(a, "=")
		if long, ok := singleDash[name]; ok {
			if hasVal {
				out[i] = long + "=" + val
			} else {
				out[i] = long
			}
		}
	}
	return out
}

// Command is voicewall's command tree, for generating its man pages and
// completion scripts (scripts/gendocs); it reads and writes nothing.
func Command() *cobra.Command {
	root := newRoot(strings.NewReader(""), io.Discard, io.Discard)
	root.InitDefaultCompletionCmd()
	return root
}

type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	e := &env{stdin, stdout, stderr}
	root := &cobra.Command{
		Use:   "voicewall",
		Short: "Secure VoIP at the network edge: one HCL policy, native firewall rules",
		Long: `voicewall reads a VoIP security policy (SIP trunk providers, RTP ranges, voice
VLANs, closed ports, rate limits, blocklists) written in HCL, checks it against
VoIP security practice, and compiles it into native rule sets for nftables,
FortiGate, pfSense and DrayTek, with the SIP ALG always disabled, or applies it
to a Linux gateway through netlink with plan/apply.`,
		Example: `  voicewall validate examples/asterisk-udp-trunk
  voicewall compile examples/asterisk-udp-trunk --target nftables
  voicewall compile . --target all -o out/
  voicewall plan . --netns gw && voicewall apply . --netns gw`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetIn(stdin)
	root.AddCommand(e.validateCmd(), e.fmtCmd(), e.compileCmd())
	for _, c := range extraCommands {
		root.AddCommand(c(e))
	}
	root.SetVersionTemplate(versionTemplate())
	registerValueCompletion(root)
	return root
}

// extraCommands lets commands living in other files of this package
// (plan/apply/status, test/explain) register themselves.
var extraCommands []func(*env) *cobra.Command

func pathArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return "."
}

// terminalSafe is the last guard of "nothing raw reaches the terminal":
// file and directory names reach many messages (test, explain, plan and
// status name the policy file of each block), and a name may hold an
// escape sequence. Control characters other than tab, newline and
// carriage return (CRLF output), and DEL, are written as \xNN.
type terminalSafe struct{ w io.Writer }

func (t terminalSafe) Write(p []byte) (int, error) {
	if bytes.IndexFunc(p, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f }) < 0 {
		return t.w.Write(p)
	}
	var b bytes.Buffer
	for _, c := range p {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			fmt.Fprintf(&b, `\x%02x`, c)
		} else {
			b.WriteByte(c)
		}
	}
	if _, err := t.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
