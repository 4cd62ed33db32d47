package cli

import (
	"go4.org/netipx"

	"github.com/voicewall/voicewall/backends/nftables/live"
)

// addressDelta is what a set change means in addresses. The kernel delta
// is in merged ranges: a host added next to one already listed widens that
// range (-203.0.113.250 +203.0.113.250/31), but what the policy changed is
// the one host (+203.0.113.251). Ranges common to both sides are not in
// the delta, so added = ⋃Add − ⋃Del and removed = ⋃Del − ⋃Add.
func addressDelta(d *live.SetDelta) (added, removed []netipx.IPRange) {
	var ab, db netipx.IPSetBuilder
	for _, r := range d.Add {
		ab.AddRange(r)
	}
	for _, r := range d.Del {
		db.AddRange(r)
	}
	adds, _ := ab.IPSet()
	dels, _ := db.IPSet()
	var an, rn netipx.IPSetBuilder
	an.AddSet(adds)
	an.RemoveSet(dels)
	rn.AddSet(dels)
	rn.RemoveSet(adds)
	a, _ := an.IPSet()
	r, _ := rn.IPSet()
	return a.Ranges(), r.Ranges()
}
