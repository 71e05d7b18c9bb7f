package guard

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDocumentKey(t *testing.T) {
	key := func(query string) string {
		k, ok := documentKey(query, DefaultMaxTokens)
		assert.True(t, ok, query)
		return k
	}
	base := key(`{ group(id: "x y") { id name } }`)
	for _, same := range []string{
		`{group(id:"x y"){id name}}`,
		"# a comment\n{ group(id: \"x y\") {\n\tid,\n\tname # trailing\n} }\n",
		`{ group(id: "x\u0020y") { id name } }`,
	} {
		assert.Equal(t, base, key(same), same)
	}
	for _, other := range []string{
		`{ group(id: "x") { id name } }`,
		`{ group(id: "x" y) { id name } }`,
		`{ group(id: x_y) { id name } }`,
		`{ group(id: """x y""") { id name } }`,
		`{ group(id: "x y") { name id } }`,
		`{ group(id: "x y") { idname } }`,
	} {
		assert.NotEqual(t, base, key(other), other)
	}
	_, ok := documentKey(`{ group(id: "x y) { id } }`, DefaultMaxTokens)
	assert.False(t, ok, "a text that does not lex has no key")
	_, ok = documentKey("{ "+strings.Repeat("id ", 10)+"}", 11)
	assert.False(t, ok, "a text over the token limit has no key")
	_, ok = documentKey("{ "+strings.Repeat("id ", 9)+"} # comment", 11)
	assert.True(t, ok, "comments do not count")
}
