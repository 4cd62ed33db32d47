package feeds

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/voicewall/voicewall/lang"
)

// LegacyConf is where the shell refresher of earlier releases read its
// feeds: blocklists/feeds.conf next to the policy, "NAME URL" a line,
// writing blocklists/NAME.txt. refresh still reads it (with the default
// guards); a feed attribute on the blocklist is the way to declare feeds
// now, with its own limits.
func LegacyConf(policyPath string) string {
	dir := policyPath
	if st, err := os.Stat(policyPath); err == nil && !st.IsDir() {
		dir = filepath.Dir(policyPath)
	}
	return filepath.Join(dir, "blocklists", "feeds.conf")
}

var legacyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// LegacyFeeds reads feeds.conf; a missing file is no feed.
func LegacyFeeds(policyPath string) ([]lang.NamedFeed, error) {
	conf := LegacyConf(policyPath)
	b, err := lang.ReadRegular(conf, 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	root := policyPath
	if st, err := os.Stat(policyPath); err == nil && !st.IsDir() {
		root = filepath.Dir(policyPath)
	}
	var out []lang.NamedFeed
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || !legacyName.MatchString(f[0]) {
			return nil, fmt.Errorf("%s:%d: expected \"NAME URL\" (NAME: letters, digits, '.', '_', '-')", conf, n)
		}
		file := filepath.Join(filepath.Dir(conf), f[0]+".txt")
		rel, _ := filepath.Rel(root, file)
		out = append(out, lang.NamedFeed{Blocklist: f[0], Feed: &lang.Feed{
			URL: f[1], MaxShare: lang.DefaultFeedMaxShare, MaxChange: lang.DefaultFeedMaxChange,
			File: file, Display: filepath.ToSlash(rel),
		}})
	}
	return out, nil
}
