package cli

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Commit and Date are set by scripts/package.sh with -ldflags -X; when they
// are empty (a plain `go build` in a checkout), the Go build info supplies
// the VCS revision and commit time it recorded.
var (
	Commit = ""
	Date   = ""
)

// buildInfo is what `voicewall version` reports.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
	Modified  bool   `json:"modified,omitempty"` // built from a checkout with uncommitted changes
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: Version, Commit: Commit, Date: Date}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.GoVersion = bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.time":
			if b.Date == "" {
				b.Date = s.Value
			}
		case "vcs.modified":
			b.Modified = s.Value == "true" && Commit == ""
		}
	}
	return b
}

func (b buildInfo) String() string {
	unknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	commit := unknown(b.Commit)
	if b.Modified {
		commit += " (modified)"
	}
	return fmt.Sprintf("voicewall %s\ncommit: %s\nbuilt: %s\ngo: %s\n", b.Version, commit, unknown(b.Date), unknown(b.GoVersion))
}

func init() {
	extraCommands = append(extraCommands, (*env).versionCmd)
}

func (e *env) versionCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "version [--format text|json]",
		Short: "Print voicewall's version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b := readBuildInfo()
			switch format {
			case "json":
				return writeJSON(e.stdout, b)
			case "text":
				_, err := fmt.Fprint(e.stdout, b.String())
				return err
			}
			return fmt.Errorf("unknown --format %q: use text or json", format)
		},
	}
	formatFlag(c, &format, "text", "json")
	return c
}

// versionTemplate makes `voicewall --version` print the same as
// `voicewall version`.
func versionTemplate() string {
	return strings.ReplaceAll(readBuildInfo().String(), "{", "{{`{`}}")
}
