package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/voicewall/voicewall/lang"
)

// planFile is what `plan -out FILE` saves: enough to apply exactly that
// plan or refuse. The changes themselves are recomputed at apply time from
// the same policy and the same kernel state, which the digest and the
// ruleset generation pin down.
type planFile struct {
	Magic   string    `json:"voicewall_plan"`
	Policy  string    `json:"policy"`     // absolute policy path
	Netns   string    `json:"netns"`      // --netns name, "" for the current namespace
	NetnsID string    `json:"netns_id"`   // namespace identity (device-inode)
	GenID   uint32    `json:"genid"`      // ruleset generation the plan was read at
	Digest  string    `json:"digest"`     // compiled table digest
	Created time.Time `json:"created_at"` // for people
	Summary string    `json:"summary"`
}

const planMagic = "1"

var errNotPlan = errors.New("not a voicewall plan file")

func savePlanFile(path string, lp *livePlan) error {
	add, change, remove := lp.Plan.Counts()
	pf := planFile{Magic: planMagic, Policy: absPath(lp.Path), Netns: lp.Target.Name, NetnsID: lp.Target.ID(),
		GenID: lp.Plan.GenID, Digest: lp.Digest(), Created: time.Now().UTC().Truncate(time.Second),
		Summary: fmt.Sprintf("%d to add, %d to change, %d to remove", add, change, remove)}
	var b bytes.Buffer
	if err := writeJSON(&b, pf); err != nil { // as printed: not HTML-escaped
		return err
	}
	return writeFileAtomic(path, b.Bytes())
}

// maxPlanFile bounds a saved plan: it pins digests and counts, not the
// table, so a few kilobytes; anything near the bound is not a plan.
const maxPlanFile = 16 << 20

func readPlanFile(path string) (*planFile, error) {
	b, err := lang.ReadRegular(path, maxPlanFile)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, errNotPlan
	}
	var pf planFile
	if err := json.Unmarshal(b, &pf); err != nil {
		return nil, errNotPlan
	}
	if pf.Magic == "" {
		return nil, errNotPlan
	}
	if pf.Magic != planMagic {
		return nil, fmt.Errorf("plan file %s has format %q; this voicewall reads %q", path, pf.Magic, planMagic)
	}
	return &pf, nil
}
