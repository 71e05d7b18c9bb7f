package guard

import (
	"context"
	"crypto/sha256"
	"encoding/binary"

	lru "github.com/hashicorp/golang-lru/v2"
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

// Bounds of the document keys remembered by text (docKeys).
const (
	// docKeysSize is how many texts docKeys remembers.
	docKeysSize = 256
	// docKeyMaxText is the longest text docKeys remembers, so that it holds
	// at most docKeysSize × docKeyMaxText bytes of queries (4 MiB).
	docKeyMaxText = 16 << 10
)

// docKeys remembers the documentKey of the texts it was asked for lately,
// by their exact text: clients send the same query text again and again
// (only the variables change), and lexing a text of a few kilobytes again
// for every request cost about 5 % of the CPU of a 100-field query (W1 of
// the side-by-side benchmark). A map lookup hashes and compares the text
// instead. Texts that do not lex, or hold too many tokens, are not
// remembered: they are refused, and lexed again each time as before.
type docKeys struct {
	maxTokens int
	known     *lru.Cache[string, string]
}

func newDocKeys(maxTokens int) *docKeys {
	known, _ := lru.New[string, string](docKeysSize) // only fails for a size <= 0
	return &docKeys{maxTokens: maxTokens, known: known}
}

// key is documentKey(query, maxTokens), from memory when query was seen.
func (d *docKeys) key(query string) (key string, ok bool) {
	if key, ok = d.known.Get(query); ok {
		return key, true
	}
	if key, ok = documentKey(query, d.maxTokens); ok && len(query) <= docKeyMaxText {
		d.known.Add(query, key)
	}
	return key, ok
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
