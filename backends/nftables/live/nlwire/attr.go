package nlwire

import (
	"bytes"
	"encoding/binary"
)

// Attr is one netlink attribute; Type has the nested/byte-order bits cleared.
type Attr struct {
	Type uint16
	Data []byte
}

const nlaTypeMask = 0x3fff

// ParseAttrs splits b into attributes (no copying; malformed tails are
// ignored).
func ParseAttrs(b []byte) []Attr {
	var out []Attr
	ForAttrs(b, func(t uint16, data []byte) { out = append(out, Attr{Type: t, Data: data}) })
	return out
}

// ForAttrs calls fn for every attribute in b without allocating.
func ForAttrs(b []byte, fn func(t uint16, data []byte)) {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		t := binary.NativeEndian.Uint16(b[2:4]) & nlaTypeMask
		if l < 4 || l > len(b) {
			return
		}
		fn(t, b[4:l])
		a := (l + 3) &^ 3
		if a > len(b) {
			a = len(b)
		}
		b = b[a:]
	}
}

// AppendAttr appends one attribute (header, data, padding).
func AppendAttr(b []byte, typ uint16, data []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// BeginNested appends a nested attribute header whose length is fixed by
// EndNested; it returns the offset of the header.
func BeginNested(b []byte, typ uint16) ([]byte, int) {
	off := len(b)
	b = binary.NativeEndian.AppendUint16(b, 0)
	b = binary.NativeEndian.AppendUint16(b, typ|0x8000) // NLA_F_NESTED
	return b, off
}

func EndNested(b []byte, off int) []byte {
	binary.NativeEndian.PutUint16(b[off:], uint16(len(b)-off))
	return b
}

func AppendStrAttr(b []byte, typ uint16, s string) []byte {
	return AppendAttr(b, typ, append([]byte(s), 0))
}

func AppendU32Attr(b []byte, typ uint16, v uint32) []byte {
	return AppendAttr(b, typ, binary.BigEndian.AppendUint32(nil, v))
}

func CString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func BE32(b []byte) uint32 {
	if len(b) < 4 {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func BE64(b []byte) uint64 {
	if len(b) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// Nfgenmsg is the 4-byte header after the netlink header.
func Nfgenmsg(family uint8, resID uint16) []byte {
	return []byte{family, 0 /* NFNETLINK_V0 */, byte(resID >> 8), byte(resID)}
}

// NftaTableUserdata is NFTA_TABLE_USERDATA (linux/netfilter/nf_tables.h),
// which x/sys/unix does not define.
const NftaTableUserdata = 6

// NftaSetCount is NFTA_SET_COUNT (Linux 6.17): the number of elements of a
// set (intervals: end elements are not counted).
const NftaSetCount = 20

// NftaSetHandle is NFTA_SET_HANDLE: a set's handle, new when a set is
// created again.
const NftaSetHandle = 16
