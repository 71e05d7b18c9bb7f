package guard

import (
	"os"
	"testing"
)

// BenchmarkDecodeRequest decodes a GraphQL request body with 100
// variables (the harness's W1 shape: 100 aliased group lookups).
func BenchmarkDecodeRequest(b *testing.B) {
	data, err := os.ReadFile("testdata/w1-request.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var v body
		if ref := decodeOne(data, &v); ref != nil {
			b.Fatal(ref)
		}
	}
}
