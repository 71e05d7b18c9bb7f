package guard

import (
	"context"
	"crypto/sha256"
	"encoding/binary"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// documentKey is the cache key of a GraphQL document: a SHA-256 of its
// tokens (each token's kind and value), so that texts differing only in
// comments, white space and commas share it, while any other difference
// changes it. ok is false when the text does not lex, or holds more than
// maxTokens tokens (besides comments): the parser refuses such a text, and
// it is never cached.
func documentKey(query string, maxTokens int) (key string, ok bool) {
	b := make([]byte, 0, len(query))
	l := lexer.New(&ast.Source{Input: query})
	for n := 0; ; {
		tok, err := l.ReadToken()
		switch {
		case err != nil:
			return "", false
		case tok.Kind == lexer.EOF:
			sum := sha256.Sum256(b)
			return string(sum[:]), true
		case tok.Kind == lexer.Comment:
			continue
		}
		if n++; n > maxTokens {
			return "", false
		}
		b = append(binary.AppendUvarint(append(b, byte(tok.Kind)), uint64(len(tok.Value))), tok.Value...)
	}
}

// cacheKey returns the cache key of query (see documentKey): the one the
// guard computed for this request when query is its document, so that the
// QueryCache behind the guard need not lex the document again. ok is false
// for a text that is never cached.
func cacheKey(ctx context.Context, query string, maxTokens int) (key string, ok bool) {
	if r, found := requestFrom(ctx); found && r.params.Query == query {
		return r.key, r.key != ""
	}
	return documentKey(query, maxTokens)
}
