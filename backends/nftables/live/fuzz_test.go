package live

import (
	"testing"
)

// FuzzParse feeds arbitrary bytes to the netlink parsers the read path
// uses on kernel replies: no panic, no endless loop.
func FuzzParse(f *testing.F) {
	m := appendMsg(nil, nftType(0), 0, 1, appendAttr(nfgenmsg(1, 0), 3, appendAttr(nil, 1, appendAttr(nil, 1, []byte{1, 2, 3, 4}))))
	f.Add(m)
	f.Add([]byte{8, 0, 1, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _ := parseMsgs(b)
		for _, m := range msgs {
			_, _, _ = nlError(m)
		}
		var es []elem
		forAttrs(b, func(t uint16, d []byte) {
			es = append(es, elem{key: d, end: t%2 == 0, open: t%3 == 0})
		})
		c := normalize(es, false)
		_ = normalize(es, true)
		rangeDelta(c.Ranges, c.Ranges)
		_ = portRanges(es)
		_, _ = parseCache(b)
	})
}
