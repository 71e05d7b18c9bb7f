package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

// Codes of requests refused before execution (contract §5).
const (
	codeParseFailed      = "GRAPHQL_PARSE_FAILED"
	codeValidationFailed = "GRAPHQL_VALIDATION_FAILED"
	codeTooComplex       = "QUERY_TOO_COMPLEX"
	codeBadRequest       = "BAD_REQUEST"
	codePayloadTooLarge  = "PAYLOAD_TOO_LARGE"
	codeBadUserInput     = "BAD_USER_INPUT"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// Hostile documents shared with the child-process test.
var (
	// selfSpreadingFragment is trap 1 of design/hardening.md: a fragment
	// spreading itself inside nested selections (through UserGroup.group).
	selfSpreadingFragment = `{ group(id: "` + demodata.GroupID(1) + `") { ...F } } fragment F on Group { userGroups { group { ...F } } }`
	// fragmentCycleAB is an A→B→A cycle.
	fragmentCycleAB = `{ group(id: "` + demodata.GroupID(1) + `") { ...A } } fragment A on Group { userGroups { ...B } } fragment B on UserGroup { group { ...A } }`
)

// assertNoUpstreamCall checks that neither emulator was called.
func (e *testEnv) assertNoUpstreamCall(t *testing.T) {
	t.Helper()
	assert.Zero(t, e.genesysKit().Count(""), "genesys calls: %v", e.genesysKit().CountsByRoute())
	assert.Zero(t, e.usergroupsKit().Count(""), "usergroups calls: %v", e.usergroupsKit().CountsByRoute())
}

// timedPost is post, logging how long the answer took (reported, never
// asserted).
func (e *testEnv) timedPost(t *testing.T, query string, vars map[string]any, headers ...string) gqlResponse {
	t.Helper()
	start := time.Now()
	r := e.post(query, vars, headers...)
	t.Logf("answered %d in %v", r.Status, time.Since(start))
	return r
}

// fragmentFanOut is trap 4: levels chained fragments, each spreading the
// next twice (2^levels expanded selections).
func fragmentFanOut(levels int) string {
	var b strings.Builder
	b.WriteString(`{ group(id: "` + demodata.GroupID(1) + `") { ...F0 } } `)
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Group { ...F%d ...F%d } ", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Group { id }", levels)
	return b.String()
}

// aliasedLookups is n aliased group(id:) fields over n variables, and the
// variables: n distinct ids, of which the first demodata.Demo.Groups name
// demo groups.
func aliasedLookups(n int) (string, map[string]any) {
	var defs, fields strings.Builder
	vars := map[string]any{}
	for i := range n {
		fmt.Fprintf(&defs, "$id%d: ID! ", i)
		fmt.Fprintf(&fields, "g%d: group(id: $id%d) { id name memberCount } ", i, i)
		vars[fmt.Sprintf("id%d", i)] = demodata.GroupID(i)
	}
	return "query Lookups(" + defs.String() + ") { " + fields.String() + "}", vars
}

// aliasedDeletes is a mutation of n aliased deleteGroup fields.
func aliasedDeletes(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `d%d: deleteGroup(id: "%s") { deleted } `, i, demodata.GroupID(i))
	}
	return "mutation { " + b.String() + "}"
}

func manyIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = demodata.GroupID(i)
	}
	return ids
}

func TestHostileDocumentsAreRefusedWithoutUpstreamCalls(t *testing.T) {
	tests := []struct {
		name  string
		query string
		code  string
		limit string
	}{
		{"self-spreading fragment", selfSpreadingFragment, codeValidationFailed, ""},
		{"A→B→A fragment cycle", fragmentCycleAB, codeValidationFailed, ""},
		{"nesting bomb (60,000 levels)", strings.Repeat("{a", 60_000) + strings.Repeat("}", 60_000), codeParseFailed, ""},
		{"nesting bomb within the token limit", strings.Repeat("{ groups { entities { members { entities { manager ", 100) +
			"{ id }" + strings.Repeat(" } } } } }", 100), codeTooComplex, "depth"},
		{"directive flood", `{ group(id: "` + demodata.GroupID(1) + `") { id ` + strings.Repeat("@skip(if: false) ", 600) + "} }", codeTooComplex, "directives"},
		{"5,000 duplicate fields", `{ group(id: "` + demodata.GroupID(1) + `") { ` + strings.Repeat("id ", 5000) + "} }", codeParseFailed, ""},
		{"1,000 duplicate fields", `{ group(id: "` + demodata.GroupID(1) + `") { ` + strings.Repeat("id ", 1000) + "} }", codeTooComplex, "duplicateFields"},
		{"fragment fan-out bomb (24 levels)", fragmentFanOut(24), codeTooComplex, "duplicateFields"},
		{"members ×20 { entities ×15 } (red team case 57)", `{ group(id: "` + demodata.GroupID(1) + `") { ` +
			strings.Repeat("members(pageSize: 1) { "+strings.Repeat("entities { id name email title username } ", 15)+"} ", 20) + "} }",
			codeTooComplex, "mergeComparisons"},
		{"manager ×20 { manager ×20 } (red team case 57)", `{ group(id: "` + demodata.GroupID(1) + `") { members(pageSize: 1) { entities { ` +
			strings.Repeat("manager { "+strings.Repeat("manager { manager { id } } ", 20)+"} ", 20) + "} } } }",
			codeTooComplex, "mergeComparisons"},
		{"complexity", `{ groups(pageSize: 100) { entities { members(pageSize: 100) { entities { id name } } } } }`, codeTooComplex, "complexity"},
		{"4 aliased mutation fields", aliasedDeletes(4), codeTooComplex, "mutationAliases"},
		{"10,000 inline ids", `{ groups(ids: [` + strings.Repeat(`"x" `, 10_000) + `]) { total } }`, codeParseFailed, ""},
	}
	e := setup(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.timedPost(t, tt.query, nil, "Accept", mediaGraphQLResponse)
			assert.Equal(t, 400, r.Status)
			assert.Equal(t, []string{tt.code}, r.codes())
			if tt.limit != "" {
				assert.Equal(t, tt.limit, r.Errors[0].Extensions["limit"])
			}
			assert.Nil(t, r.Data)
			e.assertNoUpstreamCall(t)
		})
	}
}

func TestAliasedLookupsAreCappedAt100(t *testing.T) {
	e := setup(t, nil)
	query, vars := aliasedLookups(100)
	r := e.timedPost(t, query, vars)
	require.Empty(t, r.Errors)
	last := demodata.Demo.Groups - 1
	assert.Equal(t, demodata.GroupName(last), dig(r.Data, fmt.Sprintf("g%d", last), "name"))
	assert.Contains(t, r.Data, "g99")
	assert.Nil(t, r.Data["g99"], "no such group")
	calls := callsOn(e.genesysKit(), routeGroups)
	require.Len(t, calls, 1, "100 lookups, one upstream call")
	assert.Equal(t, 100, calls[0].IDs)
	assert.EqualValues(t, 1, dig(r.Extensions, "cost", "upstreamCalls", "genesys"))

	e.resetCalls()
	query, vars = aliasedLookups(101)
	r = e.timedPost(t, query, vars)
	assert.Equal(t, []string{codeTooComplex}, r.codes())
	assert.Equal(t, "aliases", r.Errors[0].Extensions["limit"])
	assert.EqualValues(t, 100, r.Errors[0].Extensions["max"])
	e.assertNoUpstreamCall(t)
}

func TestTenThousandIDs(t *testing.T) {
	query := `query($ids: [ID!]) { groups(ids: $ids) { total entities { id } } }`
	vars := map[string]any{"ids": manyIDs(10_000)}
	t.Run("within a raised body cap: BAD_USER_INPUT", func(t *testing.T) {
		e := setup(t, map[string]string{"GRAPHQL_MAX_BODY_BYTES": "1048576"})
		r := e.timedPost(t, query, vars)
		assert.Equal(t, []string{codeBadUserInput}, r.codes())
		assert.Equal(t, []any{"groups"}, r.Errors[0].Path)
		e.assertNoUpstreamCall(t)
	})
	t.Run("over the default body cap: 413", func(t *testing.T) {
		e := setup(t, nil)
		r := e.timedPost(t, query, vars)
		assert.Equal(t, 413, r.Status)
		assert.Equal(t, []string{codePayloadTooLarge}, r.codes())
		e.assertNoUpstreamCall(t)
	})
}

func TestHostileIDs(t *testing.T) {
	ids := map[string]string{
		"traversal":       "../users/me",
		"dot dot":         "..",
		"slash":           "a/b",
		"query string":    "x?y=1",
		"encoded dot dot": "%2e%2e",
		"CR/LF":           "a\r\nb",
		"10,000 chars":    strings.Repeat("a", 10_000),
	}
	e := setup(t, nil)
	for name, id := range ids {
		t.Run(name, func(t *testing.T) {
			r := e.timedPost(t, `query($id: ID!) { group(id: $id) { id } userGroup(id: $id) { id } groupProfile(groupId: $id) { id } }`,
				map[string]any{"id": id})
			assert.Equal(t, []string{codeBadUserInput, codeBadUserInput, codeBadUserInput}, r.codes())
			e.assertNoUpstreamCall(t)
		})
	}
}
