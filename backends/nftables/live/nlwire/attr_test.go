package nlwire

import (
	"bytes"
	"testing"
)

// Attributes read back as written, nested ones included; truncated input
// never reads past its end.
func TestAttrRoundTrip(t *testing.T) {
	b := AppendStrAttr(nil, 1, "voicewall")
	b, n := BeginNested(b, 2)
	b = AppendU32Attr(b, 3, 0x01020304)
	b = AppendAttr(b, 4, []byte{9})
	b = EndNested(b, n)
	as := ParseAttrs(b)
	if len(as) != 2 || as[0].Type != 1 || CString(as[0].Data) != "voicewall" || as[1].Type != 2 {
		t.Fatalf("ParseAttrs = %+v", as)
	}
	in := ParseAttrs(as[1].Data)
	if len(in) != 2 || BE32(in[0].Data) != 0x01020304 || !bytes.Equal(in[1].Data, []byte{9}) {
		t.Fatalf("nested = %+v", in)
	}
	for i := range b {
		ParseAttrs(b[:i])
		ForAttrs(b[:i], func(uint16, []byte) {})
	}
}

func TestParseMsgs(t *testing.T) {
	b := AppendMsg(nil, NftType(1), FlagRequest, 7, Nfgenmsg(1, 0))
	b = AppendMsg(b, NftType(2), FlagRequest|FlagAck, 8, nil)
	ms, err := ParseMsgs(b)
	if err != nil || len(ms) != 2 || ms[0].Seq != 7 || ms[1].Type != NftType(2) || len(ms[0].Data) != 4 {
		t.Fatalf("ParseMsgs = %+v, %v", ms, err)
	}
	if _, err := ParseMsgs(b[:len(b)-20]); err == nil {
		t.Error("a truncated message parsed")
	}
}
