package catalog

import "testing"

// The embedded catalog is parsed and validated once per process
// (MustEmbedded); this is what that costs at start-up.
func BenchmarkEmbedded(b *testing.B) {
	for b.Loop() {
		if _, err := Embedded(); err != nil {
			b.Fatal(err)
		}
	}
}
