// Package providers keeps a policy's providers current: it loads the
// provider catalog (the embedded copy overlaid by `voicewall providers
// update`), resolves signaling_dns names with the system resolver and keeps
// their answers, and compares a policy with both (`voicewall providers
// check`). It is the caller side of lang's inputs: lang itself never
// resolves or downloads anything.
package providers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/voicewall/voicewall/backends/nftables/live"
	"github.com/voicewall/voicewall/catalog"
)

// OverlayPath is where `providers update` keeps the refreshed entries.
func OverlayPath(libDir string) string { return filepath.Join(libDir, "catalog", "overlay.json") }

// Overlay is the file `providers update` writes.
type Overlay struct {
	Updated time.Time        `json:"updated"`
	Sources []UpdatedSource  `json:"sources"`
	Entries []*catalog.Entry `json:"entries"`
}

// UpdatedSource records one refreshed source.
type UpdatedSource struct {
	Entry     string    `json:"entry"`
	URL       string    `json:"url"`
	Version   string    `json:"version,omitempty"` // the source's own version, when it has one
	FetchedAt time.Time `json:"fetched_at"`
	Ranges    int       `json:"ranges"`
}

// LoadCatalog is the catalog a command uses: the embedded one, overlaid by
// the entries in libDir's overlay when that file exists and is valid. A
// broken overlay is never used (the embedded catalog stands) and is said in
// the returned warning.
func LoadCatalog(libDir string) (*catalog.Catalog, string, error) {
	c, err := embedded()
	if err != nil {
		return nil, "", err
	}
	o, err := ReadOverlay(libDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return c, "", nil
		}
		return c, fmt.Sprintf("the catalog update %s is not used: %v", OverlayPath(libDir), err), nil
	}
	oc, err := c.Overlay(o.Entries)
	if err != nil {
		return c, fmt.Sprintf("the catalog update %s is not used: %v", OverlayPath(libDir), err), nil
	}
	return oc, "", nil
}

// embedded is the parsed embedded catalog, shared (Overlay copies what it
// validates): parsing it costs a few milliseconds a process.
func embedded() (c *catalog.Catalog, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the embedded provider catalog: %v", r)
		}
	}()
	return catalog.MustEmbedded(), nil
}

// ReadOverlay reads the overlay file.
func ReadOverlay(libDir string) (*Overlay, error) {
	b, err := live.ReadTrusted(OverlayPath(libDir)) // never believe what others could write
	if err != nil {
		return nil, err
	}
	var o Overlay
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("not a catalog update: %v", err)
	}
	return &o, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	// Only into a trusted LibDir: a catalog update widens whitelists, kept
	// DNS answers become provider addresses.
	return live.WriteStateMode(path, append(b, '\n'), 0o644)
}
