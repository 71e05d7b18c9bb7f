package guard

import (
	"encoding/json"
	"net/http/httptest"
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
