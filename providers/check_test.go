package providers

import (
	"testing"

	"github.com/voicewall/voicewall/catalog"
	"github.com/voicewall/voicewall/lang"
)

func checkSource(t *testing.T, src string) []Status {
	t.Helper()
	cat := catalog.MustEmbedded()
	p, diags := lang.LoadSourceWith("p.hcl", []byte(src), lang.LoadOptions{Catalog: lang.CatalogOf(cat)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return Check(p, cat, nil)
}

// A provider written by hand with two of its regions is compared with the
// entry it matches best, but none of its regions is called stale: stale
// means no entry of the provider holds it.
func TestOverlapAcrossRegionsIsNotStale(t *testing.T) {
	sts := checkSource(t, `provider "telnyx" {
  signaling  = ["192.76.120.10", "64.16.250.10", "185.246.41.140", "185.246.41.141"]
  media      = ["103.115.244.128/25"]
  transports = ["tls"]
}
`)
	if len(sts) != 1 || sts[0].CatalogEntry == "" {
		t.Fatalf("not compared: %+v", sts)
	}
	for _, d := range sts[0].Drift {
		if len(d.Stale) > 0 {
			t.Errorf("another region of the same provider called stale: %+v", d)
		}
	}
	// An address no Telnyx entry holds is stale.
	sts = checkSource(t, `provider "telnyx" {
  signaling  = ["192.76.120.10", "64.16.250.10", "198.18.0.10"]
  media      = ["103.115.244.128/25"]
  transports = ["tls"]
}
`)
	found := false
	for _, d := range sts[0].Drift {
		for _, s := range d.Stale {
			found = found || s == "198.18.0.10/32"
		}
	}
	if !found {
		t.Errorf("an address outside every Telnyx entry is not stale: %+v", sts[0].Drift)
	}
}

// A partial entry (the catalog lacks some of the provider's ranges) never
// calls the policy's other ranges stale.
func TestPartialEntryCallsNothingStale(t *testing.T) {
	sts := checkSource(t, `provider "flowroute" {
  signaling     = ["34.226.36.32/28", "16.163.86.112/30"]
  transports    = ["udp"]
  symmetric_rtp = true
}
`)
	if len(sts) != 1 || sts[0].CatalogEntry != "flowroute-us-east-va" || Drifting(sts) {
		t.Errorf("flowroute with a PoP the catalog lacks: %+v", sts)
	}
}
