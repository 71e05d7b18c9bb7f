package idempotency

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsMutation(t *testing.T) {
	cases := []struct {
		name, query, op string
		want            bool
	}{
		{"shorthand query", `{ group(id: "x") { id } }`, "", false},
		{"named query", `query Q { a }`, "", false},
		{"anonymous mutation", `mutation { deleteGroup(id: "x") { id } }`, "", true},
		{"named mutation with variables and defaults", `mutation M($in: In = {a: {b: [1, 2]}}, $n: Int = 3) { m(in: $in) { id } }`, "", true},
		{"directive before the selection", `mutation @trace(level: {x: 1}) { m }`, "", true},
		{"fragments are not operations", `fragment F on Group { id } mutation { m { ...F } }`, "", true},
		{"comments", "# mutation {\nquery { a } # }", "", false},
		{"picked by name", `query A { a } mutation B { b }`, "B", true},
		{"picked by name: the query", `query A { a } mutation B { b }`, "A", false},
		{"ambiguous without a name", `query A { a } mutation B { b }`, "", false},
		{"unknown name", `mutation B { b }`, "C", false},
		{"subscription", `subscription { s }`, "", false},
		{"unbalanced", `mutation { m `, "", false},
		{"extra closing brace", `mutation { m } }`, "", false},
		{"not a definition", `hello { m }`, "", false},
		{"not lexable", `mutation { m(a: "unterminated) }`, "", false},
		{"a string holding a brace", `mutation { m(a: "}") }`, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, request{Query: c.query, OperationName: c.op}.isMutation())
		})
	}
}

func TestIsMutationScansDeepDocumentsLinearly(t *testing.T) {
	deep := "mutation " + strings.Repeat("{a", 30_000) + strings.Repeat("}", 30_000)
	assert.True(t, request{Query: deep}.isMutation(), "no recursion: depth costs nothing")
	long := "mutation {" + strings.Repeat(" a", maxTokens) + "}"
	assert.False(t, request{Query: long}.isMutation(), "the token budget ends the scan")
}

func TestFingerprint(t *testing.T) {
	fp := func(body string) string {
		t.Helper()
		r, ok := parseRequest([]byte(body))
		require.True(t, ok)
		f, ok := r.fingerprint()
		require.True(t, ok)
		return f
	}
	base := fp(`{"query":"mutation($a: Int, $b: String) { m }","variables":{"a":1,"b":"x"}}`)
	assert.Equal(t, base, fp(`{"variables": {"b": "x", "a": 1}, "query": "mutation($a: Int, $b: String) { m }"}`),
		"key order and spacing do not matter")
	assert.NotEqual(t, base, fp(`{"query":"mutation($a: Int, $b: String) { m }","variables":{"a":2,"b":"x"}}`))
	assert.NotEqual(t, base, fp(`{"query":"mutation($a: Int, $b: String) { m }","variables":{"a":1.0000000000000001,"b":"x"}}`),
		"numbers are compared exactly")
	assert.NotEqual(t, base, fp(`{"query":"mutation($a: Int, $b: String) { n }","variables":{"a":1,"b":"x"}}`))
	assert.NotEqual(t, base, fp(`{"query":"mutation($a: Int, $b: String) { m }","operationName":"X","variables":{"a":1,"b":"x"}}`))
	assert.Equal(t, fp(`{"query":"mutation { m }"}`), fp(`{"query":"mutation { m }","variables":null}`))

	for _, bad := range []string{`[]`, `{"query":""}`, `not json`} {
		_, ok := parseRequest([]byte(bad))
		assert.False(t, ok, bad)
	}
	_, ok := request{Query: "q", Variables: json.RawMessage(`{`)}.fingerprint()
	assert.False(t, ok)
}
