package upstream

import (
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type decodeInner struct {
	Version int `json:"version"`
}

type decodeOuter struct {
	Name  string        `json:"name"`
	Inner *decodeInner  `json:"inner"`
	List  []decodeInner `json:"list"`
}

func TestDecodeNamesTheField(t *testing.T) {
	tests := []struct {
		name, body, field string
		wantErr           bool
	}{
		{name: "ok", body: `{"name":"a","inner":{"version":2},"unknown":[1]}`},
		{name: "top-level mismatch", body: `{"name":5}`, field: "name", wantErr: true},
		{name: "nested mismatch", body: `{"inner":{"version":1.5}}`, field: "version", wantErr: true},
		{name: "mismatch in a list", body: `{"list":[{"version":1},{"version":"2"}]}`, field: "version", wantErr: true},
		{name: "syntax error", body: `{"name":`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v decodeOuter
			field, err := Decode([]byte(tc.body), &v)
			assert.Equal(t, tc.wantErr, err != nil, "error: %v", err)
			assert.Equal(t, tc.field, field)
		})
	}
}

func TestDecodeUsesOptions(t *testing.T) {
	calls := 0
	opts := jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(func(*jsontext.Decoder, *decodeInner) error {
		calls++
		return jsonv2.SkipFunc
	}))
	var v decodeOuter
	_, err := Decode([]byte(`{"inner":{"version":3},"list":[{"version":4}]}`), &v, opts)
	require.NoError(t, err)
	assert.Equal(t, 2, calls)
	assert.Equal(t, decodeOuter{Inner: &decodeInner{Version: 3}, List: []decodeInner{{Version: 4}}}, v)
}
