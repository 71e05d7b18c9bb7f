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

func TestInteger(t *testing.T) {
	tests := []struct {
		in        string
		n         int64
		ok, drift bool
	}{
		{`12`, 12, true, false}, {`-2147483648`, -2147483648, true, false}, {`2147483647`, 2147483647, true, false},
		{`2.0`, 2, true, false}, {`1e2`, 100, true, false},
		{`"152"`, 152, true, true}, {`"-3"`, -3, true, true},
		{`null`, 0, false, false},
		{`2147483648`, 0, false, true}, {`1.5`, 0, false, true}, {`"x"`, 0, false, true}, {`""`, 0, false, true},
		{`"1\u0000"`, 0, false, true}, {`true`, 0, false, true}, {`{}`, 0, false, true}, {`[1]`, 0, false, true},
	}
	for _, tc := range tests {
		n, ok, drift := Integer(jsontext.Value(tc.in))
		assert.Equal(t, []any{tc.n, tc.ok, tc.drift}, []any{n, ok, drift}, tc.in)
	}
}

func TestTolerantReportsTheMember(t *testing.T) {
	var fields []string
	opts := jsonv2.WithUnmarshalers(Tolerant(func(f string) { fields = append(fields, f) }))
	var v decodeOuter
	_, err := Decode([]byte(`{"name":5,"inner":"x","list":[{"version":"7"},3,{"version":true}],"unknown":{}}`), &v, opts)
	require.NoError(t, err)
	assert.Equal(t, decodeOuter{List: []decodeInner{{Version: 7}, {}, {}}}, v)
	assert.Equal(t, []string{"name", "inner", "version", "list", "version"}, fields)
}
