package cli

import (
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/voicewall/voicewall/internal/bench"
)

func TestZZProfApply(t *testing.T) {
	n := 100000
	ns := gwNS(t, true)
	dir := t.TempDir()
	if err := bench.WritePolicy(dir, n); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	f, _ := os.Create("/tmp/apply.prof")
	pprof.StartCPUProfile(f)
	start := time.Now()
	for i := 0; i < 3; i++ {
		if r := vw1("", "apply", dir, "--netns", ns.Name, "--auto-approve"); r.code != 0 {
			t.Fatal(r.stderr)
		}
		ns.Run("nft", "delete table inet voicewall")
	}
	el := time.Since(start)
	pprof.StopCPUProfile()
	f.Close()
	t.Logf("3 applies %v", el)
}
