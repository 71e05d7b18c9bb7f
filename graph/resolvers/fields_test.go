package resolvers

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/groupdir/gateway/graph"
	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/upstream/genesys"
)

// Every field of Member and Group is classified: a new field would
// otherwise turn selective decoding off for every operation that selects it.
func TestSelectiveDecodingClassifiesEveryField(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	for typ, fields := range map[string]map[string]bool{"Member": memberFields, "Group": groupFields} {
		for _, f := range schema.Types[typ].Fields {
			_, ok := fields[f.Name]
			assert.True(t, ok, "%s.%s is not in the selective decoding tables", typ, f.Name)
		}
	}
}

func TestSelectedFields(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	for _, tc := range []struct {
		name, query string
		want        genesys.Fields
	}{
		{"members of a groups page", `{ groups { entities { id name members { entities { id name email } } } } }`,
			genesys.NewFields([]string{"name", "email"}, []string{"name"})},
		{"fragments, interfaces and skipped fields count", `fragment M on Member { title manager { department } }
			query($no: Boolean = false) { group(id: "x") { ... on Team { memberCount } source members { entities { ...M email @include(if: $no) } } } }`,
			genesys.NewFields([]string{"title", "manager", "department", "email"}, []string{"memberCount"})},
		{"no user selected: only ids", `{ group(id: "x") { owners { id } } }`,
			genesys.NewFields([]string{}, []string{"owners"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQueryWithRules(schema, tc.query, nil)
			require.Empty(t, errs)
			oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
			assert.Equal(t, tc.want, selectedFields(oc))
			got, kept := operationFields.Get(oc.Operation)
			assert.True(t, kept, "kept for the next request of the same operation")
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.want, selectedFields(oc), "answered from what was kept")
		})
	}
}

// A field the tables do not know turns the type's selection off (all).
func TestSelectedFieldsUnknownFieldReadsEverything(t *testing.T) {
	w := fieldWalk{users: []string{}, groups: []string{}}
	w.field(&ast.Field{Name: "newField", ObjectDefinition: &ast.Definition{Name: "Member"}})
	w.field(&ast.Field{Name: "email", ObjectDefinition: &ast.Definition{Name: "Member"}})
	assert.Nil(t, w.users)
	assert.Equal(t, genesys.NewFields(nil, []string{}), genesys.NewFields(w.users, w.groups))
}

// Prefetch hands the operation's fields to what runs after it (gqlgen
// passes the operation middleware's context on to the execution).
func TestPrefetchTellsTheClientTheSelectedFields(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	doc, errs := gqlparser.LoadQueryWithRules(schema, `{ groups { entities { name members { entities { email } } } } }`, nil)
	require.Empty(t, errs)
	oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
	ctx := graphql.WithOperationContext(loaders.With(context.Background(), loaders.New(nil, nil, loaders.Options{})), oc)
	var got genesys.Fields
	Prefetch(ctx, func(ctx context.Context) graphql.ResponseHandler {
		got = genesys.FieldsFrom(ctx)
		return nil
	})
	assert.Equal(t, genesys.NewFields([]string{"email"}, []string{"name"}), got)
}
