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

	"go4.org/netipx"

	vw "github.com/voicewall/voicewall/backends/nftables"
)

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
	v1 = append(v1, b[cacheHead:]...)
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
	bad := append([]byte(cacheMagic), b[4:cacheHead-4]...)
	bad = binary.BigEndian.AppendUint32(bad, 1000)
	if _, err := parseCache(append(bad, 0, 0, 0, 0)); err == nil {
		t.Error("truncated input record accepted")
	}
}

// The recorded LinkSpec carries everything CheckLinks reads of the policy.
func TestLinkSpecRecord(t *testing.T) {
	for _, ex := range []string{"asterisk-udp-trunk", "hosted-tls-vlan", "dual-stack", "smb-blocklist"} {
		p := loadPolicy(t, filepath.Join("..", "..", "..", "examples", ex))
		// Through JSON, as the cache keeps it.
		b, err := json.Marshal(inputRecordOf(&Target{}, fixedInputs{}, LinkSpecOf(p), Digest(&vw.Table{})))
		if err != nil {
			t.Fatal(err)
		}
		var rec InputRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		tp, tq := p.Target(vw.Spec.TargetSpec), rec.Target
		if tp.WAN != tq.WAN || tp.LAN != tq.LAN || tp.Origin != tq.Origin {
			t.Errorf("%s: target %+v, recorded %+v", ex, tp, tq)
		}
		if len(p.VoiceVLANs) != len(rec.VLANs) {
			t.Fatalf("%s: %d voice VLANs, recorded %d", ex, len(p.VoiceVLANs), len(rec.VLANs))
		}
		for i, v := range p.VoiceVLANs {
			w := rec.VLANs[i]
			if v.Name != w.Name || v.ID != w.ID || v.Parent != w.Parent || v.Origin != w.Origin || tp.VLANInterface(v) != w.Interface {
				t.Errorf("%s: voice VLAN %+v, recorded %+v", ex, v, w)
			}
		}
	}
}

type fixedInputs struct{}

func (fixedInputs) Sum() [32]byte   { return [32]byte{1} }
func (fixedInputs) Unchanged() bool { return true }
