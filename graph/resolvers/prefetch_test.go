package resolvers

import (
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestRootFields: a root selection of plain fields is taken as it is
// (each field once per time it is written); anything else is collected as
// gqlgen collects it.
func TestRootFields(t *testing.T) {
	names := func(fields []graphql.CollectedField) (out []string) {
		for _, f := range fields {
			out = append(out, f.Alias+":"+f.Name+"/"+selectionNames(f.Selections))
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{`{ a: group(id: "1") { id } b: group(id: "2") { name } }`, []string{"a:group/id", "b:group/name"}},
		{`{ a: group(id: "1") { id } a: group(id: "1") { name } }`, []string{"a:group/id", "a:group/name"}},
		{`{ a: group(id: "1") { id } ... on Query { b: group(id: "2") { name } } }`, []string{"a:group/id", "b:group/name"}},
		{`query($x: Boolean!) { a: group(id: "1") @include(if: $x) { id } b: group(id: "2") { name } }`, []string{"b:group/name"}},
		{`{ ...f a: group(id: "1") { name } } fragment f on Query { a: group(id: "1") { id } }`, []string{"a:group/id,name"}},
	} {
		doc, err := parser.ParseQuery(&ast.Source{Input: tc.query})
		require.NoError(t, err, tc.query)
		oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{"x": false}}
		assert.Equal(t, tc.want, names(rootFields(oc)), tc.query)
	}
}

// selectionNames are the names of the fields of set, comma-separated.
func selectionNames(set ast.SelectionSet) string {
	var s string
	for i, sel := range set {
		if i > 0 {
			s += ","
		}
		s += sel.(*ast.Field).Name
	}
	return s
}
