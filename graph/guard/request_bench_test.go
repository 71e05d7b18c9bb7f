package guard

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// w1Request is a GraphQL request body with 100 variables (the harness's W1
// shape: 100 aliased group lookups).
func w1Request(b *testing.B) []byte {
	data, err := os.ReadFile("testdata/w1-request.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	return data
}

// BenchmarkDecodeRequest decodes the W1 body with decodeOne.
func BenchmarkDecodeRequest(b *testing.B) {
	data := w1Request(b)
	for b.Loop() {
		var v body
		if ref := decodeOne(data, &v); ref != nil {
			b.Fatal(ref)
		}
	}
}

// BenchmarkFastBody decodes the W1 body with the fast decoding.
func BenchmarkFastBody(b *testing.B) {
	data := w1Request(b)
	for b.Loop() {
		var v body
		if !fastBody(data, &v) {
			b.Fatal("not handled")
		}
	}
}

// BenchmarkReadPOST reads a POST of the W1 body as the middleware does.
func BenchmarkReadPOST(b *testing.B) {
	data := w1Request(b)
	w := httptest.NewRecorder()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(data))
		r.Header.Set("Content-Type", mediaJSON)
		if _, ref := readPOST(w, r, 1<<20); ref != nil {
			b.Fatal(ref)
		}
	}
}
