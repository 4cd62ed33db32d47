package live

// The state cache lets a no-op plan skip dumping big sets (a
// 100,000-range set takes about 0.3 s to dump). After every apply voicewall
// writes the element ranges it left in each set, keyed by the table's
// identity (a random nonce in the table's userdata, set when voicewall
// created the table) and by the ruleset generation the apply produced.
// A plan uses the cache only when both still match: the generation moves
// with every commit by anyone, so a matching generation proves the kernel
// still holds exactly what voicewall wrote. Otherwise it dumps the sets.
// The cache lives in /run (tmpfs): it goes away on reboot, as does the
// kernel state it describes.
//
// An entry may also carry an input record (fastpath.go): the digest of the
// inputs the table at that generation was compiled from, written only by
// RecordInputs after a verified (or no-op) apply. Apply's own entries
// (recordCache without inputs) carry none.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go4.org/netipx"
)

// StateDir is where voicewall keeps its cache and pending rollbacks.
// VOICEWALL_STATE_DIR overrides it.
func StateDir() string {
	if d := os.Getenv("VOICEWALL_STATE_DIR"); d != "" {
		return d
	}
	return "/run/voicewall"
}

// LibDir is voicewall's persistent state: the last good applied table that
// boot falls back to, kept DNS answers, catalog updates. Unlike StateDir
// (a tmpfs, gone at reboot) it survives a reboot. VOICEWALL_LIB_DIR
// overrides it.
func LibDir() string {
	if d := os.Getenv("VOICEWALL_LIB_DIR"); d != "" {
		return d
	}
	return "/var/lib/voicewall"
}

// cacheMagic is the format: VWC3 added the structure digest
// (structure.go) after the generation, VWC2 the input record (fastpath.go)
// after that; VWC1 and VWC2 files (without them) are still read.
const (
	cacheMagic   = "VWC3"
	cacheMagicV2 = "VWC2"
	cacheMagicV1 = "VWC1"
	// cacheHead is the fixed head: magic, nonce, genid, structure digest
	// and the input record's length.
	cacheHead = 4 + 16 + 4 + 32 + 4
)

type cacheSet struct {
	name   string
	v6     bool
	marker bool
	digest [32]byte
	raw    []byte // ranges: From, To bytes
}

func (c *cacheSet) content() *SetContent {
	kl := 4
	if c.v6 {
		kl = 16
	}
	n := len(c.raw) / (2 * kl)
	sc := &SetContent{Marker: c.marker, Ranges: make([]netipx.IPRange, 0, n)}
	for i := 0; i < n; i++ {
		b := c.raw[i*2*kl:]
		var from, to netip.Addr
		if kl == 4 {
			from, to = netip.AddrFrom4([4]byte(b[:4])), netip.AddrFrom4([4]byte(b[4:8]))
		} else {
			from, to = netip.AddrFrom16([16]byte(b[:16])), netip.AddrFrom16([16]byte(b[16:32]))
		}
		sc.Ranges = append(sc.Ranges, netipx.IPRangeFrom(from, to))
	}
	return sc
}

type cacheFile struct {
	nonce []byte
	genid uint32
	// structure is the table's structure digest read back at genid (zero:
	// none recorded; the entry is then valid at genid only).
	structure [32]byte
	inputs    []byte // JSON InputRecord, nil when the writer recorded none
	sets      []*cacheSet
}

func (f *cacheFile) set(name string) *cacheSet {
	for _, s := range f.sets {
		if s.name == name {
			return s
		}
	}
	return nil
}

func cachePath(nonce []byte) string {
	return filepath.Join(StateDir(), "cache", hex.EncodeToString(nonce)+".bin")
}

// rangesDigest is a digest of a set's ranges as the cache encodes them
// (raw: From and To bytes of each) and its marker.
func rangesDigest(raw []byte, marker bool) [32]byte {
	h := sha256.New()
	if marker {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	h.Write(raw)
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

func encodeRanges(rs []netipx.IPRange) []byte {
	var b []byte
	if len(rs) > 0 {
		b = make([]byte, 0, 2*len(rs)*rs[0].From().BitLen()/8)
	}
	for _, r := range rs {
		b = appendAddr(b, r.From())
		b = appendAddr(b, r.To())
	}
	return b
}

// appendAddr appends a's 4 or 16 bytes (AsSlice would allocate them).
func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(b, v[:]...)
	}
	v := a.As16()
	return append(b, v[:]...)
}

// writeCacheState records sets (the table as just applied) for the table
// identity nonce at generation genid, with the table's structure digest as
// read back at genid (zero for none) and an input record (JSON, nil for
// none: an entry it replaces then loses its input record, and the fast path
// needs a new one). It reports whether the file was written; callers may
// ignore that: without a cache, plans read the kernel.
func writeCacheState(nonce []byte, genid uint32, structure [32]byte, sets map[string]*SetContent, v6 map[string]bool, inputs []byte) bool {
	if nonce == nil {
		return false
	}
	dir := filepath.Join(StateDir(), "cache")
	if err := mkStateDir(dir); err != nil {
		return false // never write where others could edit it
	}
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString(cacheMagic)
	b.Write(nonce)
	_ = binary.Write(&b, binary.BigEndian, genid)
	b.Write(structure[:])
	_ = binary.Write(&b, binary.BigEndian, uint32(len(inputs)))
	b.Write(inputs)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(names)))
	for _, n := range names {
		c := sets[n]
		_ = binary.Write(&b, binary.BigEndian, uint16(len(n)))
		b.WriteString(n)
		flags := byte(0)
		if v6[n] {
			flags |= 1
		}
		if c.Marker {
			flags |= 2
		}
		b.WriteByte(flags)
		raw := encodeRanges(c.Ranges)
		d := rangesDigest(raw, c.Marker)
		b.Write(d[:])
		_ = binary.Write(&b, binary.BigEndian, uint32(len(raw)))
		b.Write(raw)
	}
	path := cachePath(nonce)
	if err := WriteState(path, b.Bytes()); err != nil {
		return false
	}
	pruneCache(dir, filepath.Base(path))
	return true
}

// pruneCache keeps the directory small: caches of tables that no longer
// exist are useless; keep the newest few.
func pruneCache(dir, keep string) {
	es, err := os.ReadDir(dir)
	if err != nil || len(es) <= 16 {
		return
	}
	type fi struct {
		name string
		mod  int64
	}
	var fs []fi
	for _, e := range es {
		if e.Name() == keep || !strings.HasSuffix(e.Name(), ".bin") {
			continue
		}
		if info, err := e.Info(); err == nil {
			fs = append(fs, fi{e.Name(), info.ModTime().UnixNano()})
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].mod > fs[j].mod })
	for i := 15; i < len(fs); i++ {
		os.Remove(filepath.Join(dir, fs[i].name))
	}
}

// dropCache removes the cache of a table identity.
func dropCache(nonce []byte) {
	if nonce != nil {
		os.Remove(cachePath(nonce))
	}
}

// loadTrustedCacheAny returns the trusted cache for nonce, whatever
// generation it was written at.
func loadTrustedCacheAny(nonce []byte) (*cacheFile, error) {
	b, err := readTrusted(cachePath(nonce))
	var ue *UntrustedError
	if errors.As(err, &ue) {
		return nil, err
	}
	if err != nil {
		return nil, nil
	}
	f, err := parseCache(b)
	if err != nil || !bytes.Equal(f.nonce, nonce) {
		return nil, nil
	}
	return f, nil
}

func parseCache(b []byte) (*cacheFile, error) {
	bad := errors.New("bad cache file")
	magic := string(b[:min(4, len(b))])
	if len(b) < 4+16+8 || (magic != cacheMagic && magic != cacheMagicV2 && magic != cacheMagicV1) {
		return nil, bad
	}
	f := &cacheFile{nonce: b[4:20], genid: binary.BigEndian.Uint32(b[20:24])}
	b = b[24:]
	if magic == cacheMagic {
		if len(b) < 32+4 {
			return nil, bad
		}
		copy(f.structure[:], b)
		b = b[32:]
	}
	if magic != cacheMagicV1 {
		il := int(binary.BigEndian.Uint32(b))
		if len(b) < 4+il+4 {
			return nil, bad
		}
		if il > 0 {
			f.inputs = b[4 : 4+il]
		}
		b = b[4+il:]
	}
	n := binary.BigEndian.Uint32(b)
	b = b[4:]
	for i := uint32(0); i < n; i++ {
		if len(b) < 2 {
			return nil, bad
		}
		l := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+l+1+32+4 {
			return nil, bad
		}
		s := &cacheSet{name: string(b[2 : 2+l])}
		b = b[2+l:]
		s.v6, s.marker = b[0]&1 != 0, b[0]&2 != 0
		copy(s.digest[:], b[1:33])
		rl := int(binary.BigEndian.Uint32(b[33:37]))
		b = b[37:]
		kl := 4
		if s.v6 {
			kl = 16
		}
		if len(b) < rl || rl%(2*kl) != 0 {
			return nil, bad
		}
		s.raw = b[:rl]
		b = b[rl:]
		f.sets = append(f.sets, s)
	}
	return f, nil
}
