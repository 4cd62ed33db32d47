package live

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/lang"
)

// Link is one network interface the policy relies on, as found in the
// target namespace.
type Link struct {
	Name   string // device name, e.g. "eth1.20"
	Zone   string // "wan", "lan" or the voice VLAN's name
	Exists bool
	Kind   string // the kernel's link type ("vlan", "macvlan", "veth", ...)
	// VLAN links: the parent device and VLAN id the policy asks for.
	Parent string
	ID     int
	// Create: apply creates the VLAN link (it does not exist yet).
	Create bool
	// Problem says why the link cannot be used; plan and apply fail.
	Problem string
	// Note is a remark that does not stop apply (a stand-in link).
	Note string
	// Origin of the block that names it.
	Origin lang.Origin
}

// LinkSpec is what CheckLinks needs of a policy: the nftables target (its
// WAN and LAN devices) and the voice VLANs. The fast path keeps it in the
// state cache to check links without loading the policy.
type LinkSpec struct {
	Target lang.Target `json:"target"`
	VLANs  []VLANSpec  `json:"vlans"`
}

// VLANSpec is one voice VLAN as CheckLinks needs it.
type VLANSpec struct {
	Name      string      `json:"name"`
	ID        uint16      `json:"id"`
	Parent    string      `json:"parent"`    // zone: wan or lan
	Device    string      `json:"device"`    // the parent zone's device
	Interface string      `json:"interface"` // the VLAN link's name
	Origin    lang.Origin `json:"origin"`
}

// LinkSpecOf takes the link expectations from a policy.
func LinkSpecOf(p *lang.Policy) LinkSpec {
	tg := *p.Target(vw.Spec.TargetSpec)
	tg.Extra = nil
	s := LinkSpec{Target: tg}
	for _, v := range p.VoiceVLANs {
		dev := tg.LAN
		if v.Parent == lang.ZoneWAN {
			dev = tg.WAN
		}
		s.VLANs = append(s.VLANs, VLANSpec{Name: v.Name, ID: v.ID, Parent: v.Parent, Device: dev, Interface: tg.VLANInterface(v), Origin: v.Origin})
	}
	return s
}

func linkHandle(t *Target) (*netlink.Handle, error) {
	if t.FD() > 0 {
		return netlink.NewHandleAt(netns.NsHandle(t.FD()))
	}
	return netlink.NewHandle()
}

// CheckLinks looks up the WAN and LAN devices (they must exist) and every
// voice VLAN's parent.id link (created by apply when missing; an existing
// link of that name is verified: a VLAN must have the right parent and id,
// any other kind is accepted as a stand-in, e.g. a macvlan on kernels
// without 802.1Q).
func CheckLinks(t *Target, spec LinkSpec) ([]Link, error) {
	h, err := linkHandle(t)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	tgt := &spec.Target
	var out []Link
	for _, z := range []struct{ zone, name string }{{lang.ZoneWAN, tgt.WAN}, {lang.ZoneLAN, tgt.LAN}} {
		l := Link{Name: z.name, Zone: z.zone, Origin: tgt.Origin}
		if dev, err := h.LinkByName(z.name); err == nil {
			l.Exists, l.Kind = true, dev.Type()
		} else {
			l.Problem = fmt.Sprintf("%s interface %q does not exist in %s", z.zone, z.name, t)
		}
		out = append(out, l)
	}
	for _, v := range spec.VLANs {
		parent := v.Device
		l := Link{Name: v.Interface, Zone: v.Name, Parent: parent, ID: int(v.ID), Origin: v.Origin}
		pdev, perr := h.LinkByName(parent)
		dev, err := h.LinkByName(l.Name)
		switch {
		case err == nil:
			l.Exists, l.Kind = true, dev.Type()
			if vl, ok := dev.(*netlink.Vlan); ok {
				switch {
				case vl.VlanId != l.ID:
					l.Problem = fmt.Sprintf("%s is VLAN %d, the policy wants VLAN %d", l.Name, vl.VlanId, l.ID)
				case perr == nil && dev.Attrs().ParentIndex != pdev.Attrs().Index:
					l.Problem = fmt.Sprintf("%s is not on %s", l.Name, parent)
				}
			} else {
				l.Note = fmt.Sprintf("%s exists as a %s link, not an 802.1Q VLAN: accepted as a stand-in (rules match it by name)", l.Name, l.Kind)
			}
		case perr != nil:
			l.Problem = fmt.Sprintf("VLAN parent %q does not exist in %s", parent, t)
		case !VLANSupported():
			l.Note = fmt.Sprintf("%s cannot be created: %v; its rules match it by name and take effect once it exists", l.Name, ErrNoVLANSupport)
		default:
			l.Create = true
		}
		out = append(out, l)
	}
	return out, nil
}

// VLANSupported reports whether this kernel can create 802.1Q links: the
// 8021q code is built in or loaded (it creates /proc/net/vlan in every
// namespace), or its module is installed and loads on first use. Plan uses
// it so that a kernel without 802.1Q does not show a link creation that
// can never happen (and plan keeps exiting 0 once the table is applied).
func VLANSupported() bool {
	if _, err := os.Stat("/proc/net/vlan"); err == nil {
		return true
	}
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return true // cannot tell: let apply try and report
	}
	release := unix.ByteSliceToString(u.Release[:])
	for _, ext := range []string{"", ".xz", ".zst", ".gz"} {
		if _, err := os.Stat(filepath.Join("/lib/modules", release, "kernel/net/8021q/8021q.ko"+ext)); err == nil {
			return true
		}
	}
	return false
}

// LinkProblems joins the problems of links (nil when there are none).
func LinkProblems(ls []Link) error {
	var errs []error
	for _, l := range ls {
		if l.Problem != "" {
			errs = append(errs, errors.New(l.Problem))
		}
	}
	return errors.Join(errs...)
}

// ErrNoVLANSupport wraps the kernel's EOPNOTSUPP for VLAN links.
var ErrNoVLANSupport = errors.New("this kernel cannot create 802.1Q VLAN links (no 8021q module)")

// CreateVLANs creates the VLAN links marked Create and sets them up. It
// returns the names it created (to remove them again if the apply fails).
func CreateVLANs(t *Target, ls []Link) ([]string, error) {
	var todo []Link
	for _, l := range ls {
		if l.Create {
			todo = append(todo, l)
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
	h, err := linkHandle(t)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	var made []string
	for _, l := range todo {
		parent, err := h.LinkByName(l.Parent)
		if err != nil {
			return made, fmt.Errorf("VLAN parent %s: %w", l.Parent, err)
		}
		v := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: l.Name, ParentIndex: parent.Attrs().Index}, VlanId: l.ID}
		if err := h.LinkAdd(v); err != nil {
			if errors.Is(err, unix.EOPNOTSUPP) {
				return made, fmt.Errorf("create VLAN link %s (id %d on %s): %w: %w", l.Name, l.ID, l.Parent, ErrNoVLANSupport, err)
			}
			return made, fmt.Errorf("create VLAN link %s (id %d on %s): %w", l.Name, l.ID, l.Parent, err)
		}
		made = append(made, l.Name)
		if err := h.LinkSetUp(v); err != nil {
			return made, fmt.Errorf("set %s up: %w", l.Name, err)
		}
	}
	return made, nil
}

// DeleteLinks removes links by name (undoing CreateVLANs).
func DeleteLinks(t *Target, names []string) error {
	if len(names) == 0 {
		return nil
	}
	h, err := linkHandle(t)
	if err != nil {
		return err
	}
	defer h.Close()
	var errs []error
	for _, n := range names {
		if l, err := h.LinkByName(n); err == nil {
			errs = append(errs, h.LinkDel(l))
		}
	}
	return errors.Join(errs...)
}

// LinkOf returns the name of the device holding address a in the target
// namespace ("" when none does).
func LinkOf(t *Target, a netip.Addr) string {
	h, err := linkHandle(t)
	if err != nil {
		return ""
	}
	defer h.Close()
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return ""
	}
	for _, ad := range addrs {
		if ip, ok := netip.AddrFromSlice(ad.IP); ok && ip.Unmap() == a.Unmap() {
			if l, err := h.LinkByIndex(ad.LinkIndex); err == nil {
				return l.Attrs().Name
			}
		}
	}
	return ""
}
