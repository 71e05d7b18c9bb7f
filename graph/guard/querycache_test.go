package guard

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// validated parses and validates query against the gateway's schema, as
// gqlgen does before adding a document to its cache.
func validated(t *testing.T, schema *ast.Schema, query string) *ast.QueryDocument {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	require.NoError(t, err)
	require.Empty(t, validator.ValidateWithRules(schema, doc, nil))
	return doc
}

func newTestQueryCache(size int) (QueryCache, *ast.Schema) {
	schema := newEnvSchema()
	return NewQueryCache(size, schema, DefaultMaxTokens), schema
}

func TestQueryCacheBoundsWhatItKeeps(t *testing.T) {
	c, schema := newTestQueryCache(2)
	ctx := context.Background()
	doc := validated(t, schema, "{ __typename }")
	c.Add(ctx, "{ __typename }", doc)
	got, ok := c.Get(ctx, "{ __typename }")
	assert.True(t, ok)
	assert.Same(t, doc, got)

	long := "{ __typename } # " + strings.Repeat("x", maxCachedQueryBytes)
	c.Add(ctx, long, doc)
	_, ok = c.Get(ctx, long)
	assert.False(t, ok, "long texts are not kept")

	c.Add(ctx, "{ a: __typename }", doc)
	c.Add(ctx, "{ b: __typename }", doc)
	_, ok = c.Get(ctx, "{ __typename }")
	assert.False(t, ok, "least recently used evicted at the size")
}

func TestQueryCacheIgnoresCommentsAndWhiteSpace(t *testing.T) {
	c, schema := newTestQueryCache(10)
	ctx := context.Background()
	query := `{ group(id: "x") { id name } }`
	c.Add(ctx, query, validated(t, schema, query))

	varied := "# comment 1\n{\n  group(id: \"x\") {\n    id, name\n  }\n}\n"
	got, ok := c.Get(ctx, varied)
	require.True(t, ok, "a changed comment or layout hits the cache")
	assert.Equal(t, varied, got.Position.Src.Input, "the document is the one of this text")
	field := got.Operations[0].SelectionSet[0].(*ast.Field)
	assert.Equal(t, 3, field.Position.Line, "positions (error locations) are this text's")
	require.NotNil(t, field.Definition, "annotated with the schema, as validation leaves it")
	assert.Equal(t, "Group", field.Definition.Type.NamedType)
	assert.NotNil(t, field.SelectionSet[0].(*ast.Field).Definition)

	_, ok = c.Get(ctx, `{ group(id: "y") { id name } }`)
	assert.False(t, ok, "another value is another document")
}
