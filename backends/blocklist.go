package backends

import "strings"

// FeedURL is the URL a target fetches one blocklist's merged file from,
// given the target's blocklist_url. It means the same on every target
// (docs/language.md): "{name}" is replaced by the blocklist's name; a URL
// ending in "/" is the directory the file is served from; any other URL is
// the file itself, which can serve one list only (ok is false when there
// are more, and the target decides what to do).
func FeedURL(url, name, file string, lists int) (string, bool) {
	switch {
	case strings.Contains(url, "{name}"):
		return strings.ReplaceAll(url, "{name}", name), true
	case strings.HasSuffix(url, "/"):
		return url + file, true
	}
	return url, lists <= 1
}
