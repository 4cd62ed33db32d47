package live

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"go4.org/netipx"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/lang"
)

func TestBuildID(t *testing.T) {
	id, err := BuildID()
	if err != nil || id == "" {
		t.Fatalf("BuildID() = %q, %v", id, err)
	}
	if _, err := readBuildID("/etc/hostname"); err == nil {
		t.Error("readBuildID of a text file: no error")
	}
}

func TestCacheInputsRoundTrip(t *testing.T) {
	t.Setenv("VOICEWALL_STATE_DIR", t.TempDir())
	nonce := bytes.Repeat([]byte{7}, 16)
	r := netipx.IPRangeFrom(netip.MustParseAddr("11.0.0.0"), netip.MustParseAddr("11.0.0.9"))
	sets := map[string]*SetContent{"s": {Ranges: []netipx.IPRange{r}}}
	rec := []byte(`{"inputs":"ab","netns":"1-2","table":"cd","target":{},"vlans":null}`)
	if !writeCacheInputs(nonce, 42, sets, map[string]bool{}, rec) {
		t.Fatal("not written")
	}
	f := loadCache(nonce, 42)
	if f == nil || !bytes.Equal(f.inputs, rec) || f.set("s") == nil || !reflect.DeepEqual(f.set("s").content().Ranges, []netipx.IPRange{r}) {
		t.Fatalf("loadCache = %+v", f)
	}
	if got := loadInputRecord(nonce, 42); got == nil || got.Inputs != "ab" || got.Table != "cd" || got.Netns != "1-2" {
		t.Fatalf("loadInputRecord = %+v", got)
	}
	if loadInputRecord(nonce, 43) != nil || loadCache(nonce, 43) != nil {
		t.Error("entry of generation 42 used at 43")
	}
	// An entry without inputs (Apply's own) drops the input record.
	writeCacheInputs(nonce, 44, sets, map[string]bool{}, nil)
	if loadInputRecord(nonce, 44) != nil {
		t.Error("input record survived a writeCache")
	}
	if f := loadCache(nonce, 44); f == nil || f.inputs != nil || f.set("s") == nil {
		t.Errorf("loadCache after writeCache = %+v", f)
	}
	// A VWC1 file (no input record) is still read, and has none.
	b, _ := os.ReadFile(cachePath(nonce))
	v1 := append([]byte(cacheMagicV1), b[4:24]...)
	v1 = append(v1, b[28:]...)
	if err := os.WriteFile(cachePath(nonce), v1, 0o600); err != nil {
		t.Fatal(err)
	}
	if f := loadCache(nonce, 44); f == nil || f.inputs != nil || f.set("s") == nil {
		t.Errorf("VWC1 file: %+v", f)
	}
	if loadInputRecord(nonce, 44) != nil {
		t.Error("VWC1 file gave an input record")
	}
	// Truncated records are refused.
	bad := append([]byte(cacheMagic), b[4:24]...)
	bad = binary.BigEndian.AppendUint32(bad, 1000)
	if _, err := parseCache(append(bad, 0, 0, 0, 0)); err == nil {
		t.Error("truncated input record accepted")
	}
}

func writeInputs(t *testing.T, dir, list string) string {
	t.Helper()
	p := filepath.Join(dir, "p.hcl")
	if err := os.WriteFile(p, []byte("blocklist \"b\" {\n  file = \"list.txt\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "list.txt"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSnapshotInputs(t *testing.T) {
	dir := t.TempDir()
	p := writeInputs(t, dir, "11.0.0.1\n")
	time.Sleep(150 * time.Millisecond)
	id := []byte("voicewall test")
	a, err := SnapshotInputs(id, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Files) != 2 || !a.Unchanged() {
		t.Fatalf("files %q, unchanged %v", a.Files, a.Unchanged())
	}
	b, _ := SnapshotInputs(id, p, false)
	if a.Digest != b.Digest {
		t.Error("same inputs, different digests")
	}
	if c, _ := SnapshotInputs([]byte("voicewall other"), p, false); c.Digest == a.Digest {
		t.Error("the identity is not in the digest")
	}
	if c, _ := SnapshotInputs(id, dir, false); c.Digest == a.Digest {
		t.Error("the policy path is not in the digest")
	}

	// Same size, same mtime, other content.
	list := filepath.Join(dir, "list.txt")
	st, _ := os.Stat(list)
	if err := os.WriteFile(list, []byte("11.0.0.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(list, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if a.Unchanged() {
		t.Error("Unchanged after a content change")
	}
	c, err := SnapshotInputs(id, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Digest == a.Digest {
		t.Error("content change kept the digest")
	}
	// Freshly written: not trusted to be unchanged.
	if c.Unchanged() {
		t.Error("Unchanged true for files written within the settle time")
	}
	// Apply's snapshot waits for the files to settle, then trusts them.
	if c, err := SnapshotInputs(id, p, true); err != nil || !c.Unchanged() {
		t.Errorf("settled snapshot: err %v, unchanged %v", err, err == nil && c.Unchanged())
	}
	// A missing blocklist file or a broken policy: no snapshot.
	os.Remove(list)
	if _, err := SnapshotInputs(id, p, false); err == nil {
		t.Error("missing blocklist: no error")
	}
	if err := os.WriteFile(p, []byte("blocklist {"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := SnapshotInputs(id, p, false); err == nil {
		t.Error("broken HCL: no error")
	}
}

// LinkPolicy carries everything CheckLinks reads of the policy.
func TestLinkPolicy(t *testing.T) {
	for _, ex := range []string{"asterisk-udp-trunk", "hosted-tls-vlan", "dual-stack", "smb-blocklist"} {
		p, diags := lang.Load(filepath.Join("..", "..", "..", "examples", ex))
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		// Through JSON, as the cache keeps it.
		b, err := json.Marshal(inputRecordOf(&Target{}, &InputSnapshot{}, p, &vw.Table{}))
		if err != nil {
			t.Fatal(err)
		}
		var rec InputRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		q := rec.LinkPolicy()
		tp, tq := p.Target("nftables"), q.Target("nftables")
		if tp.WAN != tq.WAN || tp.LAN != tq.LAN || tp.Origin != tq.Origin {
			t.Errorf("%s: target %+v, LinkPolicy's %+v", ex, tp, tq)
		}
		if len(p.VoiceVLANs) != len(q.VoiceVLANs) {
			t.Fatalf("%s: %d voice VLANs, LinkPolicy has %d", ex, len(p.VoiceVLANs), len(q.VoiceVLANs))
		}
		for i, v := range p.VoiceVLANs {
			w := q.VoiceVLANs[i]
			if v.Name != w.Name || v.ID != w.ID || v.Parent != w.Parent || v.Origin != w.Origin || tp.VLANInterface(v) != tq.VLANInterface(w) {
				t.Errorf("%s: voice VLAN %+v, LinkPolicy's %+v", ex, v, w)
			}
		}
	}
}
