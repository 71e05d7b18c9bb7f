package guard

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
)

func TestComplexity(t *testing.T) {
	ids := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = testGroupID
		}
		return out
	}
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  int
	}{
		{"scalars", `{ __typename }`, nil, 1},
		{"one lookup", `{ group(id: "` + testGroupID + `") { id name } }`, nil, 3},
		{"a page sized by pageSize", `{ groups(pageSize: 10) { total entities { id name } } }`, nil, 1 + 1 + 1 + 10*2},
		{"pageSize from a variable", `query($n: Int) { groups(pageSize: $n) { entities { id } } }`, map[string]any{"n": json.Number("7")}, 1 + 1 + 7},
		{"variable default", `query($n: Int = 4) { groups(pageSize: $n) { entities { id } } }`, nil, 1 + 1 + 4},
		{"a page sized by ids", `query($ids: [ID!]) { groups(ids: $ids) { entities { id } } }`, map[string]any{"ids": ids(30)}, 1 + 1 + 30},
		{"an unsized page", `{ groups { entities { id } } }`, nil, 1 + 1 + DefaultPageSize},
		{"an unsized page inside a page", `{ groups(pageSize: 2) { entities { members { entities { id } } } } }`, nil, 1 + 1 + 2*(1+1+DefaultPageSize)},
		{"pageSize inside an input object", `{ searchGroups(input: {pageSize: 5}) { results { id } } }`, nil, 1 + 1 + 5},
		{"pageSize inside an input object variable", `query($in: GroupSearchInput!) { searchGroups(input: $in) { results { id } } }`,
			map[string]any{"in": map[string]any{"pageSize": json.Number("6")}}, 1 + 1 + 6},
		{"nested pages multiply", `{ groups(pageSize: 10) { entities { members(pageSize: 3) { entities { id } } } } }`, nil, 1 + 1 + 10*(1+1+3)},
		{"an unsized list", `{ group(id: "` + testGroupID + `") { owners { id } } }`, nil, 1 + 1 + DefaultListSize},
		{"a scalar list costs one", `{ userGroup(id: "` + testGroupID + `") { userIds } }`, nil, 2},
		{"a size is used once", `{ groups(pageSize: 2) { entities { owners { id } } } }`, nil, 1 + 1 + 2*(1+DefaultListSize)},
		{"oversized pageSize clamps", `{ groups(pageSize: 100000) { entities { id } } }`, nil, 1 + 1 + MaxListSize},
		{"10,000 ids clamp", `query($ids: [ID!]) { groups(ids: $ids) { entities { id } } }`, map[string]any{"ids": ids(10_000)}, 1 + 1 + MaxListSize},
		{"zero pageSize counts one", `{ groups(pageSize: 0) { entities { id } } }`, nil, 1 + 1 + 1},
		{"fragments count where spread", `{ a: group(id: "` + testGroupID + `") { ...F } b: group(id: "` + testGroupID + `") { ...F } } fragment F on Group { id name }`, nil, 2 * 3},
		{"inline fragments", `{ teams { ... on Group { id } ... on UserGroup { id externalId } } }`, nil, 1 + 200*3},
		{"a list sized by Options.ListSizes", `{ teams { name } }`, nil, 1 + 200},
		{"nested unsized lists", `{ group(id: "` + testGroupID + `") { dynamicDefinition { query { skillConditions {
			routingSkillConditions { routingSkill } } } } } }`, nil, 1 + 1 + 1 + 1 + DefaultListSize*(1+DefaultListSize)},
		{"introspection counts one", `{ __schema { types { name fields { name } } } }`, nil, 1},
		{"a connection sized by first", `{ groupsConnection(first: 10) { totalCount edges { cursor node { id } } } }`, nil, 1 + 1 + 1 + 10*(1+1+1)},
		{"a connection sized by last", `{ groupsConnection(last: 4) { edges { node { id } } } }`, nil, 1 + 1 + 4*(1+1)},
		{"nodes sized by ids", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids(30)}, 1 + 30},
	}
	schema := newEnvSchema()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQueryWithRules(schema, tt.query, nil)
			require.Empty(t, errs)
			assert.Equal(t, tt.want, complexity(doc.Operations[0], tt.vars, map[string]int{"Query.teams": 200}, DefaultMaxComplexity))
		})
	}
}

func TestComplexityStopsAboveTheCeiling(t *testing.T) {
	doc, errs := gqlparser.LoadQueryWithRules(newEnvSchema(), `{ groups(pageSize: 250) { entities { members(pageSize: 250) { entities {
		manager { images { imageUri } } } } } } }`, nil)
	require.Empty(t, errs)
	got := complexity(doc.Operations[0], nil, nil, 1000)
	assert.Greater(t, got, 1000)
	assert.LessOrEqual(t, got, 2002, "saturated, never overflowing")
}
