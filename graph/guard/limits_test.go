package guard

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// groupScalars are 16 distinct scalar fields of Group.
var groupScalars = []string{
	"id", "name", "description", "dateModified", "memberCount", "state", "version", "type", "rulesVisible",
	"visibility", "rolesEnabled", "includeOwners", "callsEnabled", "selfUri", "source", "__typename",
}

// groupFields is n Group fields, cycling over 11 names (so that no name is
// repeated more than DefaultMaxDuplicateFields times up to 220 fields).
func groupFields(n int) string {
	names := groupScalars[:11]
	fields := make([]string, n)
	for i := range fields {
		fields[i] = names[i%len(names)]
	}
	return strings.Join(fields, " ")
}

// lookupOf is a group lookup selecting selection.
func lookupOf(selection string) string {
	return `{ group(id: "` + testGroupID + `") { ` + selection + " } }"
}

// nested is a valid query whose deepest field is at depth.
func nested(depth int) string {
	return `{ group(id: "` + testGroupID + `") { owners { ` + strings.Repeat("manager { ", depth-3) + "id" +
		strings.Repeat(" }", depth-3) + " } } }"
}

// aliased is n aliased root fields made by field(i).
func aliased(n int, field func(i int) string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s ", i, field(i))
	}
	return b.String()
}

func groupLookup(int) string { return `group(id: "` + testGroupID + `") { id }` }

// fragmentLookups is n aliased group lookups, each spreading a fragment of
// 18 Group fields: 20 selections each.
func fragmentLookups(n int) string {
	return "{ " + aliased(n, func(int) string { return `group(id: "` + testGroupID + `") { ...F }` }) + "} " +
		"fragment F on Group { " + strings.Join(groupScalars, " ") + " id name }"
}

// rootFields selects n distinct root fields (n ≤ 11).
func rootFields(n int) string {
	fields := []string{
		`group(id: "` + testGroupID + `") { id }`, `groupByJabberId(jabberId: "j@x") { id }`, "groups { total }",
		`searchGroupsByCursor(q64: "q") { total }`, "fieldConfig(type: GROUP) { id }", `groupProfile(groupId: "` + testGroupID + `") { id }`,
		"groupProfiles { total }", `userGroup(id: "` + testGroupID + `") { id }`, "userGroups { pageSize }", "teams { name }", "__typename",
	}
	return "{ " + strings.Join(fields[:n], " ") + " }"
}

// membersOfGroups has complexity 2 + 100 × (2 + (pageSize + 1)).
func membersOfGroups(pageSize int) string {
	return fmt.Sprintf("{ groups(pageSize: 100) { entities { members(pageSize: %d) { entities { id } } } } }", pageSize)
}

// mergeComparisons is a document whose fields cost the pre-pass n merge
// comparisons: aliased group lookups whose scalar fields are repeated, r
// copies of a scalar costing 0+1+…+(r-1) comparisons.
func mergeComparisons(n int) string {
	var lookups, fields []string
	for n > 0 {
		r := DefaultMaxDuplicateFields
		for r*(r-1)/2 > n {
			r--
		}
		n -= r * (r - 1) / 2
		fields = append(fields, strings.Repeat(groupScalars[len(fields)]+" ", r))
		if len(fields) == DefaultMaxFieldsPerSet/DefaultMaxDuplicateFields || n == 0 {
			lookups = append(lookups, strings.Join(fields, ""))
			fields = nil
		}
	}
	return "{ " + aliased(len(lookups), func(i int) string { return `group(id: "` + testGroupID + `") { ` + lookups[i] + "}" }) + "}"
}

// idsList is a document of 12 + n tokens.
func idsList(n int) string {
	return "{ groups(ids: [" + strings.Repeat(`"x" `, n) + "]) { total } }"
}

func TestDocumentLimits(t *testing.T) {
	tests := []struct {
		name       string
		admitted   string
		refused    string
		wantCode   string
		wantLimit  string
		wantMax    int
		mutation   bool
		skipLimits bool
	}{
		{name: "depth", admitted: nested(DefaultMaxDepth), refused: nested(DefaultMaxDepth + 1),
			wantCode: CodeQueryTooComplex, wantLimit: limitDepth, wantMax: DefaultMaxDepth},
		{name: "aliases", admitted: "{ " + aliased(DefaultMaxAliases, groupLookup) + "}", refused: "{ " + aliased(DefaultMaxAliases+1, groupLookup) + "}",
			wantCode: CodeQueryTooComplex, wantLimit: limitAliases, wantMax: DefaultMaxAliases},
		{name: "mutation aliases",
			admitted: "mutation { " + aliased(DefaultMaxMutationAliases, func(int) string { return `deleteGroup(id: "` + testGroupID + `") { id }` }) + "}",
			refused:  "mutation { " + aliased(DefaultMaxMutationAliases+1, func(int) string { return `deleteGroup(id: "` + testGroupID + `") { id }` }) + "}",
			wantCode: CodeQueryTooComplex, wantLimit: limitMutationAliases, wantMax: DefaultMaxMutationAliases},
		{name: "root fields", admitted: rootFields(DefaultMaxRootFields), refused: rootFields(DefaultMaxRootFields + 1),
			wantCode: CodeQueryTooComplex, wantLimit: limitRootFields, wantMax: DefaultMaxRootFields},
		{name: "directives",
			admitted: "{ " + aliased(DefaultMaxDirectives, func(int) string { return "__typename @include(if: true)" }) + "}",
			refused:  "{ " + aliased(DefaultMaxDirectives+1, func(int) string { return "__typename @include(if: true)" }) + "}",
			wantCode: CodeQueryTooComplex, wantLimit: limitDirectives, wantMax: DefaultMaxDirectives},
		{name: "fields per selection set", admitted: lookupOf(groupFields(DefaultMaxFieldsPerSet)), refused: lookupOf(groupFields(DefaultMaxFieldsPerSet + 1)),
			wantCode: CodeQueryTooComplex, wantLimit: limitFieldsPerSet, wantMax: DefaultMaxFieldsPerSet},
		{name: "fields per selection set, fragments merged",
			admitted: lookupOf("...A ...B") + " fragment A on Group { " + groupFields(DefaultMaxFieldsPerSet/2) + " } " +
				"fragment B on Group { " + groupFields(DefaultMaxFieldsPerSet/2) + " }",
			refused: lookupOf("...A ...B") + " fragment A on Group { " + groupFields(DefaultMaxFieldsPerSet/2) + " } " +
				"fragment B on Group { " + groupFields(DefaultMaxFieldsPerSet/2+1) + " }",
			wantCode: CodeQueryTooComplex, wantLimit: limitFieldsPerSet, wantMax: DefaultMaxFieldsPerSet},
		{name: "duplicate fields",
			admitted: "{ " + strings.Repeat("__typename ", DefaultMaxDuplicateFields) + "}",
			refused:  "{ " + strings.Repeat("__typename ", DefaultMaxDuplicateFields+1) + "}",
			wantCode: CodeQueryTooComplex, wantLimit: limitDuplicateFields, wantMax: DefaultMaxDuplicateFields},
		{name: "duplicate fields, fragments merged",
			admitted: "{ __typename ...A } fragment A on Query { " + strings.Repeat("__typename ", DefaultMaxDuplicateFields-1) + "}",
			refused:  "{ __typename ...A } fragment A on Query { " + strings.Repeat("__typename ", DefaultMaxDuplicateFields) + "}",
			wantCode: CodeQueryTooComplex, wantLimit: limitDuplicateFields, wantMax: DefaultMaxDuplicateFields},
		{name: "expanded selections", admitted: fragmentLookups(DefaultMaxSelections / 20), refused: fragmentLookups(DefaultMaxSelections/20 + 1),
			wantCode: CodeQueryTooComplex, wantLimit: limitSelections, wantMax: DefaultMaxSelections},
		{name: "merge comparisons",
			admitted: mergeComparisons(DefaultMaxMergeComparisons), refused: mergeComparisons(DefaultMaxMergeComparisons + 1),
			wantCode: CodeQueryTooComplex, wantLimit: limitMergeComparisons, wantMax: DefaultMaxMergeComparisons},
		{name: "complexity", admitted: membersOfGroups(97), refused: membersOfGroups(98),
			wantCode: CodeQueryTooComplex, wantLimit: limitComplexity, wantMax: DefaultMaxComplexity},
		{name: "tokens", admitted: idsList(DefaultMaxTokens - 12), refused: idsList(DefaultMaxTokens - 11),
			wantCode: CodeParseFailed, skipLimits: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, defaults())
			a := e.query(tt.admitted, nil)
			require.Empty(t, a.code(), a.raw)
			require.EqualValues(t, 1, e.executed.Load(), "the document at the limit runs")

			a = e.query(tt.refused, nil, "Accept", mediaGraphQLResponse)
			assert.Equal(t, 400, a.status)
			assert.Equal(t, tt.wantCode, a.code(), a.raw)
			if !tt.skipLimits {
				assert.Equal(t, tt.wantLimit, a.extension("limit"))
				assert.EqualValues(t, tt.wantMax, a.extension("max"))
			}
			assert.EqualValues(t, 1, e.executed.Load(), "the document over the limit never runs")
		})
	}
}

func TestHostileDocuments(t *testing.T) {
	fanOut := func(levels int) string {
		var b strings.Builder
		b.WriteString("{ ...F0 } ")
		for i := range levels {
			fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d } ", i, i+1, i+1)
		}
		fmt.Fprintf(&b, "fragment F%d on Query { __typename }", levels)
		return b.String()
	}
	tests := []struct {
		name, query, code string
	}{
		{"self-spreading fragment", "{ ...F } fragment F on Query { ...F }", CodeValidationFailed},
		{"self-spreading fragment in nested selections", `{ group(id: "` + testGroupID + `") { ...G } } fragment G on Group { owners { manager { ...M } } } fragment M on Member { manager { ...M } }`, CodeValidationFailed},
		{"A→B→A", "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", CodeValidationFailed},
		{"unused fragment", "{ __typename } fragment U on Query { " + strings.Repeat("__typename ", 3000) + "}", CodeValidationFailed},
		{"nesting bomb", strings.Repeat("{a", 80_000) + strings.Repeat("}", 80_000), CodeParseFailed},
		{"nesting bomb under the parser's limits", strings.Repeat("{a", 900) + strings.Repeat("}", 900), CodeQueryTooComplex},
		{"directive flood", "{ __typename " + strings.Repeat("@skip(if: false) ", 600) + "}", CodeQueryTooComplex},
		{"5,000 duplicate fields", "{ " + strings.Repeat("__typename ", 5000) + "}", CodeParseFailed},
		{"1,600 duplicate fields under the token limit", "{ " + strings.Repeat("__typename ", 1600) + "}", CodeQueryTooComplex},
		{"1,600 fields over 100 names", lookupOf(strings.Repeat(groupFields(11)+" ", 150)), CodeQueryTooComplex},
		{"fragment fan-out bomb", fanOut(30), CodeQueryTooComplex},
		{"syntax error", "{ group(id: ", CodeParseFailed},
		{"introspection nesting", "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }", CodeValidationFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, defaults())
			a := e.query(tt.query, nil)
			assert.Equal(t, 200, a.status)
			assert.Equal(t, tt.code, a.code(), a.raw)
			assert.Zero(t, e.executed.Load())
		})
	}
}

func TestIntrospectionQueryFitsTheLimits(t *testing.T) {
	e := newEnv(t, defaults())
	a := e.query(introspectionQuery, nil)
	require.Empty(t, a.code(), a.raw)
	assert.EqualValues(t, 1, e.executed.Load())
}

func TestProductionDefaults(t *testing.T) {
	prod := Options{Limits: DefaultLimits()}
	tests := []struct {
		name, query, code string
	}{
		{"introspection", introspectionQuery, CodeValidationFailed},
		{"__type", `{ __type(name: "Group") { name } }`, CodeValidationFailed},
		{"__schema behind a fragment", `{ ...I } fragment I on Query { __schema { queryType { name } } }`, CodeValidationFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, prod)
			a := e.query(tt.query, nil)
			assert.Equal(t, tt.code, a.code(), a.raw)
			assert.Zero(t, e.executed.Load())
		})
	}
	t.Run("__typename is not introspection", func(t *testing.T) {
		e := newEnv(t, prod)
		a := e.query("{ __typename }", nil)
		assert.Empty(t, a.code(), a.raw)
	})
}

func TestSuggestions(t *testing.T) {
	misspelled := map[string]string{
		"field":      `{ group(id: "` + testGroupID + `") { nme } }`,
		"argument":   `{ groups(pageSiz: 5) { total } }`,
		"enum value": `{ groups(sortOrder: ASCC) { total } }`,
		"type name":  `{ ...F } fragment F on Grop { __typename }`,
		"leaf":       `{ groups }`,
	}
	for name, query := range misspelled {
		t.Run(name, func(t *testing.T) {
			dev := newEnv(t, defaults()).query(query, nil)
			require.Equal(t, CodeValidationFailed, dev.code(), dev.raw)
			prod := newEnv(t, Options{Limits: DefaultLimits()}).query(query, nil)
			require.Equal(t, CodeValidationFailed, prod.code(), prod.raw)
			assert.NotContains(t, prod.raw, "Did you mean")
			if name != "leaf" {
				assert.Contains(t, dev.raw, "Did you mean", "development keeps suggestions")
			}
		})
	}
}

func TestCheckedDocumentsAreRemembered(t *testing.T) {
	c := newChecker(newEnvSchema(), DefaultLimits(), true)
	check := func(query string) *document {
		key, ok := documentKey(query, DefaultMaxTokens)
		require.True(t, ok)
		d, ref := c.check(context.Background(), key, query)
		require.Nil(t, ref)
		return d
	}
	first := check("query Q { __typename } mutation M { __typename }")
	assert.Same(t, first, check("query Q { __typename } mutation M { __typename }"))
	assert.Same(t, first, check("# another comment\nquery Q {\n  __typename\n}, mutation M { __typename } # end"),
		"comments, white space and commas do not change the key")
	assert.NotSame(t, first, check("query Q { __typename } mutation N { __typename }"))
	op, ok := first.operation("M")
	assert.True(t, ok)
	assert.Equal(t, "mutation", string(op))
	_, ok = first.operation("")
	assert.False(t, ok, "two operations and no name")
}
