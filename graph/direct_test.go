package graph

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The read types must stay fully supported by the direct executor: a field
// that loses its plan (a model or schema change gqlgen binds differently)
// would silently send every query that selects it back to the slower
// generated executor. The differential tests in the root package check
// that both executors answer alike.
func TestDirectPlansCoverTheReadTypes(t *testing.T) {
	root := buildPlans(NewExecutableSchema(Config{}).Schema())
	unsupported := map[string][]string{
		"Query": {"__schema", "__type", "previewDynamicGroup", "fieldConfig", "groupProfile", "groupProfiles", "teams",
			"node", "nodes", "_entities", "_service"}, // federation: on the generated executor
		"Group": {"dynamicDefinition"},
	}
	seen := map[string]bool{}
	var walk func(p *objectPlan)
	walk = func(p *objectPlan) {
		if seen[p.name] {
			return
		}
		seen[p.name] = true
		for name, fp := range p.fields {
			if fp == nil {
				assert.Contains(t, unsupported[p.name], name, "%s.%s has no direct plan", p.name, name)
				continue
			}
			assert.NotContains(t, unsupported[p.name], name)
			if o := fp.out.objectType(); o != nil {
				walk(o)
			}
		}
	}
	walk(root)
	for _, typ := range []string{"Group", "GroupPage", "Member", "MemberPage", "UserGroup", "UserGroupPage", "GroupSearchResult",
		"Division", "Chat", "Contact", "Image", "GroupAddress", "RoutingStatus", "Presence", "OutOfOffice", "EmployerInfo", "Biography",
		"GroupConnection", "GroupEdge", "MemberConnection", "MemberEdge", "UserGroupConnection", "UserGroupEdge", "PageInfo"} {
		assert.True(t, seen[typ], "%s is not reachable by the direct executor", typ)
	}
}

func TestAppendStringEscapesAsGqlgen(t *testing.T) {
	inputs := []string{"plain", `q"b\`, "t\tn\nr\r", "é <&> \u2028 \u2029", "bad \xff utf-8", "\xc3", "a\xe2\x80", "\x7f\x7f", ""}
	for c := range 0x20 {
		inputs = append(inputs, "x"+string(rune(c))+"y", string(rune(c)), "0123456789"+string(rune(c))+"abcdefghijklmnop")
	}
	// Longer than a word: appendString scans 8 bytes at a time.
	inputs = append(inputs, "a plain string of more than eight bytes", `eight b"ytes and \ more "quoted" words`,
		"naïve ünïcödé strings \u00e9 of some length\n", "abcdefgh\x00ijklmnopqrstuvw\x1fxyz\"")
	for _, in := range inputs {
		var want bytes.Buffer
		graphql.MarshalString(in).MarshalGQL(&want)
		require.Equal(t, want.String(), string(appendString(nil, in)), "%q", in)
		if utf8.ValidString(in) {
			assert.True(t, json.Valid(appendString(nil, in)), "%q", in)
		}
	}
	assert.Equal(t, `"\u0001\u001F"`, string(appendString(nil, "\x01\x1f")))
}

// TestConstantSelection: only selection sets without directives (their
// fields', fragments' and spreads') collect alike whatever the variables.
func TestConstantSelection(t *testing.T) {
	parse := func(query string) (*ast.QueryDocument, error) { return parser.ParseQuery(&ast.Source{Input: query}) }
	for query, want := range map[string]bool{
		`{ group(id: "x") { id name } }`: true,
		`{ group(id: "x") { id ... on Group { name } ...f } } fragment f on Group { memberCount }`:                  true,
		`query($x: Boolean!) { group(id: "x") @include(if: $x) { id } }`:                                            false,
		`query($x: Boolean!) { ... @skip(if: $x) { group(id: "x") { id } } }`:                                       false,
		`query($x: Boolean!) { ...f @include(if: $x) } fragment f on Query { group(id: "x") { id } }`:               false,
		`query($x: Boolean!) { ...f } fragment f on Query { ... on Query { group(id: "x") @skip(if: $x) { id } } }`: false,
	} {
		doc, err := parse(query)
		require.NoError(t, err, query)
		assert.Equal(t, want, constantSelection(doc, doc.Operations[0].SelectionSet, 0), query)
	}
	doc, err := parse(`{ ...a } fragment a on Query { ...b } fragment b on Query { group(id: "x") { id } }`)
	require.NoError(t, err)
	assert.True(t, constantSelection(doc, doc.Operations[0].SelectionSet, maxConstantDepth-2))
	assert.False(t, constantSelection(doc, doc.Operations[0].SelectionSet, maxConstantDepth-1), "too deep: not kept")
}
