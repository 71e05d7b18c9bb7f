package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestQueryCacheBoundsWhatItKeeps(t *testing.T) {
	c := newQueryCache(2)
	ctx := context.Background()
	doc := &ast.QueryDocument{}
	c.Add(ctx, "{ a }", doc)
	got, ok := c.Get(ctx, "{ a }")
	assert.True(t, ok)
	assert.Same(t, doc, got)

	long := "{ a(s: \"" + strings.Repeat("x", maxCachedQueryBytes) + "\") }"
	c.Add(ctx, long, doc)
	_, ok = c.Get(ctx, long)
	assert.False(t, ok, "long texts are not kept")

	c.Add(ctx, "{ b }", doc)
	c.Add(ctx, "{ c }", doc)
	_, ok = c.Get(ctx, "{ a }")
	assert.False(t, ok, "least recently used evicted at the size")
}
