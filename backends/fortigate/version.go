package fortigate

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultVersion is the FortiOS release assumed when target "fortigate" has
// no version attribute: the current long-term (mature) release train.
const DefaultVersion = "7.4"

// fosVersion is a FortiOS release. A version written without a patch level
// ("7.2") means the newest patch of that train.
type fosVersion struct {
	Major, Minor, Patch int
	PatchGiven          bool
}

const latestPatch = 1 << 20

func parseVersion(s string) (fosVersion, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "v"), "V")
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return fosVersion{}, fmt.Errorf("%q is not a FortiOS version; write MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. \"7.4\" or \"7.2.8\"", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 999 || p == "" || (len(p) > 1 && p[0] == '0') {
			return fosVersion{}, fmt.Errorf("%q is not a FortiOS version; write MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. \"7.4\" or \"7.2.8\"", s)
		}
		n[i] = v
	}
	v := fosVersion{Major: n[0], Minor: n[1], Patch: n[2], PatchGiven: len(parts) == 3}
	if !v.PatchGiven {
		v.Patch = latestPatch
	}
	if v.Major < 6 {
		return v, fmt.Errorf("FortiOS %s is not supported; voicewall emits CLI for FortiOS 6.0 and later", s)
	}
	return v, nil
}

func (v fosVersion) String() string {
	if v.PatchGiven {
		return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// atLeast compares with major.minor.patch.
func (v fosVersion) atLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

// Version-dependent features (sources in docs/targets-fortigate.md).
func (v fosVersion) sipHelperSetting() bool  { return !v.atLeast(6, 2, 0) } // settings sip-helper: 6.0.x only
func (v fosVersion) sipExpectation() bool    { return v.atLeast(6, 2, 0) }  // settings sip-expectation: 6.2+
func (v fosVersion) consolidatedV6() bool    { return v.atLeast(6, 4, 0) }  // policy srcaddr6/dstaddr6: 6.4+
func (v fosVersion) dosPolicyName() bool     { return v.atLeast(7, 0, 0) }  // DoS-policy name: 6.4.0, 6.4.4+; use from 7.0
func (v fosVersion) localInLogtraffic() bool { return v.atLeast(7, 6, 0) }  // local-in-policy logtraffic: 7.6+
func (v fosVersion) localInFeed() bool { // threat feed in local-in-policy: 7.2.4+, 7.4+
	return v.atLeast(7, 2, 4)
}
