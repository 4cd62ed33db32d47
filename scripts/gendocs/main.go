// Command gendocs writes voicewall's man pages (cobra's doc generator, one
// page per command) and its bash, zsh and fish completion scripts. It runs
// at package build time (scripts/package.sh), so the pages always match
// the flags of the binary they ship with.
//
//	go run ./scripts/gendocs -man DIR -completion DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra/doc"
	"github.com/voicewall/voicewall/internal/cli"
)

func main() {
	manDir := flag.String("man", "", "write man pages (section 1) into DIR")
	compDir := flag.String("completion", "", "write completion scripts into DIR (voicewall.bash, _voicewall, voicewall.fish)")
	date := flag.String("date", "", "date the pages carry (RFC 3339; default: SOURCE_DATE_EPOCH, else now)")
	flag.Parse()
	if err := run(*manDir, *compDir, *date); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(manDir, compDir, date string) error {
	root := cli.Command()
	if manDir != "" {
		when, err := pageDate(date)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(manDir, 0o755); err != nil {
			return err
		}
		root.DisableAutoGenTag = true
		hdr := &doc.GenManHeader{Section: "1", Source: "voicewall " + cli.Version, Manual: "voicewall manual", Date: &when}
		if err := doc.GenManTree(root, hdr, manDir); err != nil {
			return err
		}
	}
	if compDir != "" {
		if err := os.MkdirAll(compDir, 0o755); err != nil {
			return err
		}
		for name, gen := range map[string]func(string) error{
			"voicewall.bash": func(p string) error { return root.GenBashCompletionFileV2(p, true) },
			"_voicewall":     root.GenZshCompletionFile,
			"voicewall.fish": func(p string) error { return root.GenFishCompletionFile(p, true) },
		} {
			if err := gen(filepath.Join(compDir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// pageDate keeps builds reproducible: SOURCE_DATE_EPOCH (set by
// package.sh to the commit time) wins over the clock.
func pageDate(date string) (time.Time, error) {
	if date != "" {
		return time.Parse(time.RFC3339, date)
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		var sec int64
		if _, err := fmt.Sscan(s, &sec); err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	return time.Now().UTC(), nil
}
