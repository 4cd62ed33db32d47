package devmodel

import (
	"net/netip"
	"testing"

	"go4.org/netipx"
)

func TestComplement(t *testing.T) {
	var b netipx.IPSetBuilder
	b.AddPrefix(netip.MustParsePrefix("10.0.0.0/8"))
	b.AddPrefix(netip.MustParsePrefix("2001:db8::/32"))
	s, _ := b.IPSet()
	c := Complement(s)
	for _, a := range []string{"10.1.2.3", "2001:db8::1"} {
		if c.Contains(netip.MustParseAddr(a)) {
			t.Errorf("the complement holds %s", a)
		}
	}
	for _, a := range []string{"0.0.0.0", "11.0.0.0", "255.255.255.255", "::", "2001:db9::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"} {
		if !c.Contains(netip.MustParseAddr(a)) {
			t.Errorf("the complement lacks %s", a)
		}
	}
	if IsEverything(c) || IsEverything(s) {
		t.Error("a set with holes is everything")
	}
	if all := Complement(nil); !IsEverything(all) {
		t.Errorf("the complement of nothing is %v, not everything", all.Ranges())
	}
	if !IsEverything(Complement(&netipx.IPSet{})) {
		t.Error("the complement of the empty set is not everything")
	}
	if got := Complement(Complement(nil)); len(got.Ranges()) != 0 {
		t.Errorf("the complement of everything holds %v", got.Ranges())
	}
	var v4 netipx.IPSetBuilder
	v4.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
	if s4, _ := v4.IPSet(); IsEverything(s4) {
		t.Error("all of IPv4 alone is everything")
	}
}
