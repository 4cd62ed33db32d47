package providers

import (
	"strings"
	"testing"
	"time"
)

func TestAgedCallsOldEntriesDrift(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	fresh := func() []Status {
		return []Status{
			{Provider: "old", CatalogEntry: "twilio-all", CatalogVerified: "2025-11-30"},
			{Provider: "new", CatalogEntry: "telnyx-us", CatalogVerified: "2026-06-01"},
			{Provider: "dns-only"},
		}
	}
	sts := fresh()
	Aged(sts, now, DefaultMaxAge)
	if len(sts[0].Drift) != 1 || sts[0].Drift[0].Kind != "age" || sts[0].Drift[0].Entry != "twilio-all" ||
		!strings.Contains(sts[0].Drift[0].Note, "2025-11-30, 370 days ago") {
		t.Errorf("an entry 370 days old: %+v", sts[0].Drift)
	}
	if len(sts[1].Drift)+len(sts[2].Drift) != 0 {
		t.Errorf("a fresh entry or no entry drifted: %+v %+v", sts[1].Drift, sts[2].Drift)
	}
	if !Drifting(sts) {
		t.Error("age drift does not count as drift")
	}
	sts = fresh()
	Aged(sts, now, 0)
	if Drifting(sts) {
		t.Error("max age 0 still called an entry old")
	}
	sts = fresh()
	Aged(sts, now, 180*24*time.Hour)
	if len(sts[1].Drift) != 1 {
		t.Errorf("187 days over a 180-day limit: %+v", sts[1].Drift)
	}
}
