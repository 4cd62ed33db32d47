package live

import (
	"testing"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"
	"github.com/voicewall/voicewall/internal/testenv"
)

// FuzzParse feeds arbitrary bytes to the netlink parsers the read path
// uses on kernel replies: no panic, no endless loop.
func FuzzParse(f *testing.F) {
	m := nlwire.AppendMsg(nil, nlwire.NftType(0), 0, 1, nlwire.AppendAttr(nlwire.Nfgenmsg(1, 0), 3, nlwire.AppendAttr(nil, 1, nlwire.AppendAttr(nil, 1, []byte{1, 2, 3, 4}))))
	f.Add(m)
	f.Add([]byte{8, 0, 1, 0, 1, 2, 3, 4})
	testenv.BoundFuzzMinimization()
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _ := nlwire.ParseMsgs(b)
		for _, m := range msgs {
			_, _, _ = nlwire.NLError(m)
		}
		var es []elem
		nlwire.ForAttrs(b, func(t uint16, d []byte) {
			es = append(es, elem{key: d, end: t%2 == 0, open: t%3 == 0})
		})
		c := normalize(es, false)
		_ = normalize(es, true)
		rangeDelta(c.Ranges, c.Ranges)
		_ = portRanges(es)
		_, _ = parseCache(b)
	})
}
