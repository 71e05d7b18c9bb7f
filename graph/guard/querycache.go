package guard

import (
	"context"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// maxCachedQueryBytes is the longest query text whose parsed document is
// cached. Real operations are far shorter; a document padded with a huge
// string literal is parsed each time instead of pinning its size in memory.
const maxCachedQueryBytes = 16 << 10

// QueryCache is a cache of parsed and validated documents for gqlgen
// (handler.Server.SetQueryCache), keyed by the guard's document key (a hash
// of the document's tokens) instead of the text, and skipping long texts,
// so its memory is bounded by its size times maxCachedQueryBytes.
//
// Texts that differ only in comments, white space or commas share an entry,
// so a changed comment no longer forces a new validation. The cached
// document carries the positions of the text it was parsed from, which
// error locations report; for another text of the same tokens, Get parses
// that text and only annotates it with the schema (validation's walk with no
// rule: same tokens, same validation result), a fraction of the cost of
// validating it.
type QueryCache struct {
	lru       *lru.LRU[*ast.QueryDocument]
	schema    *ast.Schema
	maxTokens int
	// annotate are the validation rules run on a text whose tokens were
	// validated before: none.
	annotate *rules.Rules
}

// NewQueryCache returns a cache of size documents of schema; maxTokens is
// the parser's token limit (Limits.MaxTokens).
func NewQueryCache(size int, schema *ast.Schema, maxTokens int) QueryCache {
	return QueryCache{lru: lru.New[*ast.QueryDocument](size), schema: schema, maxTokens: maxTokens, annotate: rules.NewRules()}
}

// Get implements graphql.Cache.
func (c QueryCache) Get(ctx context.Context, query string) (*ast.QueryDocument, bool) {
	key, ok := c.key(ctx, query)
	if !ok {
		return nil, false
	}
	doc, ok := c.lru.Get(ctx, key)
	if !ok || doc.Position == nil || doc.Position.Src.Input == query {
		return doc, ok
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, c.maxTokens)
	if err != nil || len(validator.ValidateWithRules(c.schema, doc, c.annotate)) > 0 {
		return nil, false
	}
	return doc, true
}

// Add implements graphql.Cache.
func (c QueryCache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	if key, ok := c.key(ctx, query); ok {
		c.lru.Add(ctx, key, doc)
	}
}

// key is the cache key of query; false for a text not cached.
func (c QueryCache) key(ctx context.Context, query string) (string, bool) {
	if len(query) > maxCachedQueryBytes {
		return "", false
	}
	return cacheKey(ctx, query, c.maxTokens)
}
