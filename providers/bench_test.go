package providers

import (
	"testing"

	"github.com/voicewall/voicewall/catalog"
	"github.com/voicewall/voicewall/lang"
)

// Check runs on every `status --format prometheus` scrape with PATH: it
// must stay far below the one-minute metrics timer.
func BenchmarkCheck(b *testing.B) {
	src := []byte(`provider "twilio" {
  signaling  = ["54.172.60.0/30", "54.244.51.0/30", "177.71.206.192/30", "54.171.127.192/30"]
  media      = ["54.172.60.0/23", "54.244.51.0/24"]
  transports = ["tls"]
}
provider "teams" {
  catalog = "microsoft-teams"
  media   = ["13.107.64.0/18"]
}
`)
	p, diags := lang.LoadSource("p.hcl", src)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	cat := catalog.MustEmbedded()
	for b.Loop() {
		if sts := Check(p, cat, nil); !Drifting(sts) {
			b.Fatal("no drift")
		}
	}
}
