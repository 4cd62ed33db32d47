package live

// SIP ALG detection. voicewall never attaches the conntrack SIP helper
// (nf_conntrack_sip); since Linux 4.7 a helper is attached only by an
// explicit rule, so plan and apply look through every table of the
// namespace for ct helper objects of type sip and for rules that attach a
// helper (`ct helper set`, or iptables' `-j CT --helper`).

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	"golang.org/x/sys/unix"
)

const (
	nftObjectCtHelper = 3 // NFT_OBJECT_CT_HELPER
	nftaObjrefImmType = 1 // NFTA_OBJREF_IMM_TYPE
	nftaObjrefImmName = 2 // NFTA_OBJREF_IMM_NAME
	nftaCtHelperName  = 1 // NFTA_CT_HELPER_NAME
)

var familyNames = map[uint8]string{
	unix.NFPROTO_INET: "inet", unix.NFPROTO_IPV4: "ip", unix.NFPROTO_IPV6: "ip6",
	unix.NFPROTO_ARP: "arp", unix.NFPROTO_NETDEV: "netdev", unix.NFPROTO_BRIDGE: "bridge",
}

func familyName(f uint8) string {
	if n, ok := familyNames[f]; ok {
		return n
	}
	return fmt.Sprintf("family%d", f)
}

// SIPHelpers returns one warning per place in the namespace that loads or
// attaches the conntrack SIP helper.
func SIPHelpers(t *Target) ([]string, error) {
	s, err := nlwire.Open(t.FD(), BufferSize)
	if err != nil {
		return nil, err
	}
	defer s.Close()

	type objKey struct{ table, name string }
	helpers := map[objKey]string{} // ct helper objects → helper type
	var warnings []string
	req := nlwire.Nfgenmsg(unix.AF_UNSPEC, 0)
	req = nlwire.AppendU32Attr(req, unix.NFTA_OBJ_TYPE, nftObjectCtHelper)
	err = s.Dump(nlwire.NftType(unix.NFT_MSG_GETOBJ), req, func(m nlwire.Message) error {
		if len(m.Data) < 4 {
			return nil
		}
		var table, name, helper string
		var typ uint32
		for _, a := range nlwire.ParseAttrs(m.Data[4:]) {
			switch a.Type {
			case unix.NFTA_OBJ_TABLE:
				table = nlwire.CString(a.Data)
			case unix.NFTA_OBJ_NAME:
				name = nlwire.CString(a.Data)
			case unix.NFTA_OBJ_TYPE:
				typ = nlwire.BE32(a.Data)
			case unix.NFTA_OBJ_DATA:
				for _, d := range nlwire.ParseAttrs(a.Data) {
					if d.Type == nftaCtHelperName {
						helper = nlwire.CString(d.Data)
					}
				}
			}
		}
		if typ != nftObjectCtHelper {
			return nil
		}
		tn := familyName(m.Data[0]) + " " + table
		helpers[objKey{tn, name}] = helper
		if strings.HasPrefix(helper, "sip") {
			warnings = append(warnings, fmt.Sprintf("table %s has a ct helper object %q of type %q (the conntrack SIP helper, a SIP ALG)", tn, name, helper))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list ct helper objects: %w", err)
	}

	err = s.Dump(nlwire.NftType(unix.NFT_MSG_GETRULE), nlwire.Nfgenmsg(unix.AF_UNSPEC, 0), func(m nlwire.Message) error {
		if len(m.Data) < 4 {
			return nil
		}
		var table, chain string
		var exprs []byte
		for _, a := range nlwire.ParseAttrs(m.Data[4:]) {
			switch a.Type {
			case unix.NFTA_RULE_TABLE:
				table = nlwire.CString(a.Data)
			case unix.NFTA_RULE_CHAIN:
				chain = nlwire.CString(a.Data)
			case unix.NFTA_RULE_EXPRESSIONS:
				exprs = a.Data
			}
		}
		tn := familyName(m.Data[0]) + " " + table
		for _, e := range nlwire.ParseAttrs(exprs) {
			name, data := exprAttrs(e.Data)
			switch name {
			case "objref":
				var typ uint32
				var obj string
				for _, a := range nlwire.ParseAttrs(data) {
					switch a.Type {
					case nftaObjrefImmType:
						typ = nlwire.BE32(a.Data)
					case nftaObjrefImmName:
						obj = nlwire.CString(a.Data)
					}
				}
				if typ != nftObjectCtHelper {
					continue
				}
				h := helpers[objKey{tn, obj}]
				if strings.HasPrefix(h, "sip") || h == "" {
					warnings = append(warnings, fmt.Sprintf("chain %s of table %s attaches ct helper %q (ct helper set%s)", chain, tn, obj, helperNote(h)))
				}
			case "target":
				// iptables-nft: -j CT --helper NAME (xt_ct_target_info:
				// flags u16, zone u16, ct_events u32, exp_events u32,
				// helper[16]).
				var tname string
				var info []byte
				for _, a := range nlwire.ParseAttrs(data) {
					switch a.Type {
					case unix.NFTA_TARGET_NAME:
						tname = nlwire.CString(a.Data)
					case unix.NFTA_TARGET_INFO:
						info = a.Data
					}
				}
				if tname == "CT" && len(info) >= 28 {
					if h := nlwire.CString(info[12:28]); strings.HasPrefix(h, "sip") {
						warnings = append(warnings, fmt.Sprintf("chain %s of table %s attaches the %q helper (iptables -j CT --helper)", chain, tn, h))
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	sort.Strings(warnings)
	return slices.Compact(warnings), nil
}

func helperNote(h string) string {
	if h == "" {
		return ", helper type unknown"
	}
	return ", type " + h
}
