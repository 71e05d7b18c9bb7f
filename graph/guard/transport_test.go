package guard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestWriteResponseMatchesEncodingJSON checks that copying gqlgen's data
// as it is gives the same document encoding/json would.
func TestWriteResponseMatchesEncodingJSON(t *testing.T) {
	tests := map[string]*graphql.Response{
		"data only": {Data: json.RawMessage(`{"group":{"id":"1","name":"A \"quoted\" name"}}`)},
		"null data": {},
		"errors, data and extensions": {
			Errors:     gqlerror.List{{Message: "boom", Extensions: map[string]any{"code": "UPSTREAM_UNAVAILABLE"}}},
			Data:       json.RawMessage(`{"group":null}`),
			Extensions: map[string]any{"cost": map[string]any{"upstreamCalls": map[string]int{"genesys": 1}}},
		},
	}
	for name, resp := range tests {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeResponse(rec, "application/json", resp)
			want, err := json.Marshal(resp)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), rec.Body.String())
			assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
		})
	}
}

// BenchmarkWriteResponse writes a 20 KB answer with the cost extension, the
// shape of a page of 100 members.
func BenchmarkWriteResponse(b *testing.B) {
	data := json.RawMessage(`{"items":[` + strings.Repeat(`{"id":"0123456789abcdef","name":"x"},`, 550) + `{}]}`)
	resp := &graphql.Response{Data: data,
		Extensions: map[string]any{"cost": map[string]any{"upstreamCalls": map[string]int64{"genesys": 1, "usergroups": 0}}}}
	w := discardWriter{http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		writeResponse(w, "application/json", resp)
	}
}

// discardWriter is an http.ResponseWriter that drops what it is sent.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header       { return d.h }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}
