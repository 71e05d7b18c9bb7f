package main

import (
	"context"
	"crypto/sha256"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
)

// maxCachedQueryBytes is the longest query text whose parsed document is
// cached. Real operations are far shorter; a document padded with a huge
// string literal is parsed each time instead of pinning its size in memory.
const maxCachedQueryBytes = 16 << 10

// queryCache is gqlgen's parsed-document cache keyed by a SHA-256 of the
// query text instead of the text itself, and skipping long texts, so its
// memory is bounded by its size times maxCachedQueryBytes.
type queryCache struct {
	lru *lru.LRU[*ast.QueryDocument]
}

func newQueryCache(size int) queryCache {
	return queryCache{lru: lru.New[*ast.QueryDocument](size)}
}

// Get implements graphql.Cache.
func (c queryCache) Get(ctx context.Context, query string) (*ast.QueryDocument, bool) {
	if len(query) > maxCachedQueryBytes {
		return nil, false
	}
	return c.lru.Get(ctx, key(query))
}

// Add implements graphql.Cache.
func (c queryCache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	if len(query) <= maxCachedQueryBytes {
		c.lru.Add(ctx, key(query), doc)
	}
}

func key(query string) string {
	sum := sha256.Sum256([]byte(query))
	return string(sum[:])
}
