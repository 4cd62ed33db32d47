package live

import (
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	"go4.org/netipx"
	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

// Probes find an interval exactly: a missing start or end, or anything
// inside, fails them; other intervals do not matter.
func TestProbeSets(t *testing.T) {
	ns, tg := nsTarget(t, "probe")
	if out, err := ns.Run("nft", "add table inet voicewall; add set inet voicewall s { type ipv4_addr; flags interval; elements = { 10.0.0.1, 10.0.1.0-10.0.1.200, 255.0.0.0/8 } }"); err != nil {
		t.Fatal(out, err)
	}
	all := []setProbe{{"s", []netipx.IPRange{rng("10.0.0.1", "10.0.0.1"), rng("10.0.1.0", "10.0.1.200"), rng("255.0.0.0", "255.255.255.255")}}}
	if err := probeSets(tg, all); err != nil {
		t.Fatalf("exact intervals: %v", err)
	}
	for _, c := range []struct {
		probe []netipx.IPRange
		want  string
	}{
		{[]netipx.IPRange{rng("10.0.1.0", "10.0.1.100")}, "exactly"},     // ends later
		{[]netipx.IPRange{rng("10.0.1.1", "10.0.1.200")}, "exactly"},     // starts earlier
		{[]netipx.IPRange{rng("10.0.0.1", "10.0.0.2")}, "lacks"},         // ends earlier
		{[]netipx.IPRange{rng("10.0.0.7", "10.0.0.7")}, "lacks"},         // not there
		{[]netipx.IPRange{rng("255.0.0.0", "255.255.255.254")}, "lacks"}, // open interval
	} {
		err := probeSets(tg, []setProbe{{"s", c.probe}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("probe %v: %v, want %q", c.probe, err, c.want)
		}
	}
	// Something inside an interval.
	if out, err := ns.Run("nft", "delete element inet voicewall s { 10.0.1.0-10.0.1.200 }; add element inet voicewall s { 10.0.1.0-10.0.1.99, 10.0.1.101-10.0.1.200 }"); err != nil {
		t.Fatal(out, err)
	}
	if err := probeSets(tg, all); err == nil {
		t.Error("a hole inside an interval passed the probe")
	}
}

// verify finds a chunk the kernel did not keep (here: never sent).
func TestVerifyCountsElements(t *testing.T) {
	_, tg := nsTarget(t, "verify")
	want := loadTable(t, "../../../examples/smb-blocklist")
	p := plan(t, tg, want)
	dropped := false
	_, err := Apply(tg, p, ApplyOptions{Verify: true, Hook: func(ms []Msg) []Msg {
		for i, m := range ms {
			if m.Type == nlwire.NftType(unix.NFT_MSG_NEWSETELEM) && !dropped {
				dropped = true
				return append(ms[:i:i], ms[i+1:]...)
			}
		}
		return ms
	}})
	if !dropped || err == nil || !strings.Contains(err.Error(), "counts") {
		t.Fatalf("apply without one chunk of elements verified: dropped %v, err %v", dropped, err)
	}
}

func TestKernelCountIsHalfTheElements(t *testing.T) {
	for _, rs := range [][]netipx.IPRange{nil, {rng("0.0.0.0", "0.0.0.255")}, {rng("10.0.0.1", "10.0.0.1")}, {rng("10.0.0.1", "10.0.0.1"), rng("255.0.0.0", "255.255.255.255")}, {rng("0.0.0.0", "255.255.255.255")}} {
		s := &vw.Set{Name: "s", Type: vw.SetIPv4, Elements: rs}
		if got, want := kernelCount(s), uint32(len(setElems(s))/2); got != want {
			t.Errorf("%v: %d, setElems says %d", rs, got, want)
		}
	}
}
