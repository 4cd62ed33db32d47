package live

// The unattended guard: addresses no blocklist may cover, whoever applies
// and however the list got there (a feed, a hand edit, an old refresher):
// the gateway's lifelines read from the target namespace, its DNS resolvers
// and its default-route next hops, besides the policy's own
// (lang.Policy.Protected). Blocking a resolver or the next hop cuts the
// gateway off (DNS answers, the next feed download, the admin's SSH come
// back through them), and nobody is at the console when a timer applies.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/lang"
)

// Protected is an address range no blocklist may cover, and why.
type Protected struct {
	Prefix netip.Prefix
	What   string // `DNS resolver (/etc/resolv.conf)`, `provider "telnyx" signaling (gw.hcl:3)`
	// Dev is the link the gateway reaches a resolver or next hop through
	// ("" for the policy's own addresses, or when no route leads there).
	Dev string
}

// ResolvConf is the resolver file of the namespace: /etc/netns/NAME/resolv.conf
// when it exists (what `ip netns exec` shows the namespace), else /etc/resolv.conf.
func ResolvConf(netns string) string {
	if netns != "" {
		p := filepath.Join("/etc/netns", netns, "resolv.conf")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "/etc/resolv.conf"
}

// stubResolvConf lists systemd-resolved's upstream servers, read when
// resolv.conf names only its local stub.
const stubResolvConf = "/run/systemd/resolve/resolv.conf"

// Resolvers reads the nameserver lines of a resolv.conf. Loopback servers
// (a local stub) are left out: WAN rules never see them.
func Resolvers(path string) ([]netip.Addr, error) {
	b, err := lang.ReadRegular(path, 1<<20)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		if a = a.WithZone("").Unmap(); !a.IsLoopback() {
			out = append(out, a)
		}
	}
	return out, nil
}

// GatewayProtected returns the target's DNS resolvers and default-route
// next hops (both families, every next hop of a multipath route), read in
// the target namespace.
func GatewayProtected(t *Target) ([]Protected, error) {
	var out []Protected
	rc := ResolvConf(t.Name)
	addrs, err := Resolvers(rc)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading the DNS resolvers: %w", err)
	}
	if len(addrs) == 0 && rc == "/etc/resolv.conf" {
		// Only a local stub (systemd-resolved): its upstreams are the
		// resolvers the gateway depends on.
		if up, err := Resolvers(stubResolvConf); err == nil {
			addrs, rc = up, stubResolvConf
		}
	}
	h, err := linkHandle(t)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	for _, a := range addrs {
		pr := Protected{Prefix: netip.PrefixFrom(a, a.BitLen()), What: "DNS resolver (" + rc + ")"}
		if routes, err := h.RouteGet(a.AsSlice()); err == nil && len(routes) > 0 {
			if l, err := h.LinkByIndex(routes[0].LinkIndex); err == nil {
				pr.Dev = l.Attrs().Name
			}
		}
		out = append(out, pr)
	}
	hops, err := DefaultNextHops(t)
	if err != nil {
		return nil, fmt.Errorf("reading the default routes: %w", err)
	}
	return append(out, hops...), nil
}

// DefaultNextHops lists the gateways of the default routes in t.
func DefaultNextHops(t *Target) ([]Protected, error) {
	h, err := linkHandle(t)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	var out []Protected
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := h.RouteListFiltered(fam, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
		if err != nil {
			return nil, err
		}
		for _, r := range routes {
			if r.Dst != nil {
				if ones, _ := r.Dst.Mask.Size(); ones != 0 {
					continue
				}
			}
			add := func(gw []byte, ifindex int) {
				a, ok := netip.AddrFromSlice(gw)
				if !ok || !a.IsValid() || a.IsUnspecified() {
					return
				}
				a = a.Unmap()
				pr := Protected{Prefix: netip.PrefixFrom(a, a.BitLen()), What: "default gateway"}
				if l, err := h.LinkByIndex(ifindex); err == nil {
					pr.Dev = l.Attrs().Name
					pr.What += " via " + pr.Dev
				}
				out = append(out, pr)
			}
			add(r.Gw, r.LinkIndex)
			for _, nh := range r.MultiPath {
				add(nh.Gw, nh.LinkIndex)
			}
		}
	}
	return out, nil
}

// ProtectedError is a blocklist that covers a protected address.
type ProtectedError struct {
	Blocklist string // blocklist "voipbl" (gw.hcl:9)
	Protected Protected
}

func (e *ProtectedError) Error() string {
	return fmt.Sprintf("%s covers %s, the %s: dropping it would cut the gateway off", e.Blocklist, e.Protected.Prefix, e.Protected.What)
}

// CheckBlocklists refuses a policy whose blocklists cover a protected
// address; it returns the first such overlap (blocklists in policy order).
func CheckBlocklists(p *lang.Policy, prot []Protected) *ProtectedError {
	for _, b := range p.Blocklists {
		for _, pr := range prot {
			if b.Addresses.OverlapsPrefix(pr.Prefix) {
				return &ProtectedError{Blocklist: b.Origin.String(), Protected: pr}
			}
		}
	}
	return nil
}

// CheckUnattended is the guard every apply runs, with or without an SSH
// session: no blocklist may cover the DNS resolvers or default gateways the
// namespace reaches through the policy's WAN link (blocklists drop what
// arrives there; a resolver on the LAN side is out of their reach, and one
// with no route yet, at boot, is checked by the next apply), nor the voice
// VLANs' management sources. Providers are lang's own check. PBX and VLAN
// subnets are left to the feed guard: a hand-written bogon list that drops
// 10.0.0.0/8 arriving on the WAN is anti-spoofing, not a lock-out.
func CheckUnattended(t *Target, p *lang.Policy) error {
	all, err := GatewayProtected(t)
	if err != nil {
		return fmt.Errorf("cannot check the gateway's resolvers and routes against the blocklists: %w", err)
	}
	wan := p.Target(vw.Spec.TargetSpec).Interface(lang.ZoneWAN, p)
	var prot []Protected
	for _, g := range all {
		if g.Dev == wan {
			prot = append(prot, g)
		}
	}
	for _, v := range p.VoiceVLANs {
		for _, v6 := range []bool{false, true} {
			for _, pf := range v.Management.Prefixes(v6) {
				prot = append(prot, Protected{Prefix: pf, What: v.Origin.Block() + " management (" + v.Origin.Pos() + ")"})
			}
		}
	}
	if e := CheckBlocklists(p, prot); e != nil {
		return e
	}
	return nil
}
