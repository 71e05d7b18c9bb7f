package guard

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nest is depth arrays around a 1 inside a variable, so that with the body
// and its variables the value is depth+2 deep.
func nest(depth int) string {
	return `{"variables":{"v":` + strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth) + `}}`
}

// plainBodies are bodies the fast decoding reads.
var plainBodies = map[string]string{
	"query":                   `{"query":"{ id }"}`,
	"empty":                   `{}`,
	"all":                     `{"query":"query Q($a: ID!) { group(id: $a) { id } }","operationName":"Q","variables":{"a":"x"},"extensions":{"e":1}}`,
	"any order":               `{"extensions":{},"variables":{"a":"x"},"operationName":"Q","query":"q"}`,
	"nulls":                   `{"query":null,"operationName":null,"variables":null,"extensions":null}`,
	"empties":                 `{"query":"","operationName":"","variables":{},"extensions":{}}`,
	"whitespace":              " \t\r\n{ \"query\" :\n\"q\" ,\r\n\t\"variables\" : { \"a\" : [ 1 , { } , [ ] ] , \"b\" : { \"c\" : null } } } \n\t\r ",
	"escapes":                 `{"query":"a\nb\"c\\d\/e\tf\rg\bh\fi\u00e9j\u0000k\ud83d\ude00l\u20ACm"}`,
	"hex cases":               `{"query":"\u00E9\u00e9\uFFFD\uD83D\uDE00\u0041\u007f"}`,
	"escaped variable values": `{"variables":{"a":"\"quoted\"","b":["\\","\u2603"],"c":{"d":"tab\there"}}}`,
	"unicode":                 `{"query":"héllo wörld 日本語 😀 \u00e9 done","variables":{"名前":"値","emoji😀":"😀😀😀😀😀😀😀😀😀"}}`,
	"nested": `{"variables":{"input":{"name":"n","tags":["a","b",{"deep":[[[{"x":true}]]]}],` +
		`"owner":{"id":"1","flags":[true,false,null]}},"list":[[],{},[{}]]}}`,
	"numbers": `{"variables":{"a":0,"b":-0,"c":12,"d":-1.5,"e":1e5,"f":1E+5,"g":2.5e-3,"h":-0.0e-0,` +
		`"i":123456789012345678901234567890,"j":0.000000000000000000001,"k":[1,-2,3.25,4E2],` +
		`"l":1e400,"m":-1E-400,"n":1.7976931348623157e308,"o":9007199254740993},"extensions":{"n":7}}`,
	"literals":      `{"variables":{"t":true,"f":false,"n":null,"a":[true,false,null]}}`,
	"extensions":    `{"query":"{ id }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab12"}}}`,
	"long strings":  `{"query":"` + strings.Repeat("abcdefg", 40) + `é` + strings.Repeat("x", 17) + `\n` + strings.Repeat("y", 9) + `"}`,
	"deepest":       nest(maxBodyDepth - 2),
	"names alike":   `{"variables":{"id":1,"ID":2,"Id":{"id":3,"iD":4}}}`,
	"case variants": `{"extensions":{"a":1,"A":2}}`, // refused by readPOST after either decoding
}

// refusedBodies are bodies the fast decoding gives up on.
var refusedBodies = map[string]string{
	"repeated query":        `{"query":"a","query":"b"}`,
	"repeated null":         `{"variables":null,"variables":{}}`,
	"repeated variable":     `{"variables":{"a":1,"a":2}}`,
	"repeated at depth":     `{"variables":{"x":{"y":[{"a":1,"b":2,"a":3}]}}}`,
	"repeated in extension": `{"extensions":{"p":{"v":1,"v":1}}}`,
	"unknown member":        `{"query":"{ id }","foo":1}`,
	"case variant":          `{"Query":"{ id }"}`,
	"documentId":            `{"documentId":"abc"}`,
	"doc_id":                `{"doc_id":"abc"}`,
	"escaped member name":   `{"qu\u0065ry":"{ id }"}`,
	"escaped variable name": `{"variables":{"\u0061":1}}`,
	"invalid UTF-8":         "{\"query\":\"a\xffb\"}",
	"truncated UTF-8":       "{\"query\":\"ab\xc3\"}",
	"UTF-8 surrogate":       "{\"query\":\"\xed\xa0\x80\"}",
	"overlong UTF-8":        "{\"query\":\"\xc0\xaf\"}",
	"invalid UTF-8 in name": "{\"variables\":{\"\xff\":1}}",
	"lone surrogate":        `{"query":"\ud800"}`,
	"surrogate then text":   `{"query":"\ud83dxxxxxx"}`,
	"two high surrogates":   `{"query":"\ud83d\ud83d"}`,
	"surrogate then escape": `{"query":"\ud83d\n"}`,
	"bad hex":               `{"query":"\u00g0"}`,
	"bad low hex":           `{"query":"\ud83d\ude0g"}`,
	"reversed surrogates":   `{"query":"\ude00\ud83d"}`,
	"control character":     "{\"query\":\"a\tb\"}",
	"invalid escape":        `{"query":"\x"}`,
	"short escape":          `{"query":"\u12"}`,
	"trailing garbage":      `{"query":"x"} x`,
	"second object":         `{"query":"x"}{}`,
	"too deep":              nest(maxBodyDepth - 1),
	"query number":          `{"query":5}`,
	"query object":          `{"query":{}}`,
	"operationName boolean": `{"operationName":true}`,
	"variables array":       `{"variables":[]}`,
	"variables string":      `{"variables":"{}"}`,
	"extensions number":     `{"extensions":1}`,
	"truncated":             `{"query":"x"`,
	"truncated string":      `{"query":"x`,
	"truncated escape":      `{"query":"x\`,
	"truncated variables":   `{"variables":{"a":1`,
	"truncated literal":     `{"variables":{"a":tru}}`,
	"truncated number":      `{"variables":{"a":-}}`,
	"leading zero":          `{"variables":{"a":01}}`,
	"bare point":            `{"variables":{"a":1.}}`,
	"plus sign":             `{"variables":{"a":+1}}`,
	"leading point":         `{"variables":{"a":.5}}`,
	"empty exponent":        `{"variables":{"a":1e}}`,
	"NaN":                   `{"variables":{"a":NaN}}`,
	"trailing comma":        `{"query":"x",}`,
	"trailing comma inside": `{"variables":{"a":[1,]}}`,
	"missing colon":         `{"query" "x"}`,
	"number name":           `{"variables":{1:2}}`,
	"single quotes":         `{'query':'x'}`,
	"not an object":         `["query"]`,
	"empty":                 ``,
}

// TestFastBodyDecodesAsDecodeOne: a plain body is read by the fast
// decoding, into exactly what decodeOne gives.
func TestFastBodyDecodesAsDecodeOne(t *testing.T) {
	w1, err := os.ReadFile("testdata/w1-request.json")
	require.NoError(t, err)
	bodies := map[string]string{"W1": string(w1)}
	for name, data := range plainBodies {
		bodies[name] = data
	}
	for name, data := range bodies {
		t.Run(name, func(t *testing.T) {
			var want, got body
			require.Nil(t, decodeOne([]byte(data), &want), "decodeOne reads it")
			require.True(t, fastBody([]byte(data), &got), "the fast decoding reads it")
			assert.Equal(t, want, got)
		})
	}
}

// TestFastBodyGivesUp: the fast decoding gives up on anything outside its
// plain subset, leaving the body as it was, so that decodeOne reads or
// refuses it as before.
func TestFastBodyGivesUp(t *testing.T) {
	for name, data := range refusedBodies {
		t.Run(name, func(t *testing.T) {
			q := "unchanged"
			b := body{Query: &q}
			assert.False(t, fastBody([]byte(data), &b))
			assert.Equal(t, body{Query: &q}, b)
		})
	}
}

// FuzzFastRequest: whatever the fast decoding reads, decodeOne reads too,
// into the same body.
func FuzzFastRequest(f *testing.F) {
	for _, bodies := range []map[string]string{plainBodies, refusedBodies} {
		for _, data := range bodies {
			f.Add([]byte(data))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got body
		if !fastBody(data, &got) {
			return
		}
		var want body
		require.Nil(t, decodeOne(data, &want), "decodeOne refuses what the fast decoding read")
		assert.Equal(t, want, got)
	})
}
