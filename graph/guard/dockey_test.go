package guard

import (
	"fmt"
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

// TestDocKeysRemembersTexts: the keys remembered by text are documentKey's,
// texts too long or refused are not remembered, and a remembered text is
// not lexed again (the token limit, which only lexing applies, no longer
// runs for it).
func TestDocKeysRemembersTexts(t *testing.T) {
	d := newDocKeys(DefaultMaxTokens)
	for _, q := range []string{`{ group(id: "x") { id } }`, `{group(id:"x"){id}}`, `{ groups { entities { id } } }`} {
		want, _ := documentKey(q, DefaultMaxTokens)
		for range 2 {
			got, ok := d.key(q)
			assert.True(t, ok)
			assert.Equal(t, want, got, q)
		}
	}
	assert.Equal(t, 3, d.known.Len(), "each text is remembered once")

	long := `{ group(id: "` + strings.Repeat("x", docKeyMaxText) + `") { id } }`
	_, ok := d.key(long)
	assert.True(t, ok)
	assert.False(t, d.known.Contains(long), "a text over docKeyMaxText is not remembered")
	_, ok = d.key(`{ group(id: "x) { id } }`)
	assert.False(t, ok, "a text that does not lex has no key")
	assert.Equal(t, 3, d.known.Len(), "refused texts are not remembered")

	small := newDocKeys(11)
	q := "{ " + strings.Repeat("id ", 10) + "}"
	_, ok = small.key(q)
	assert.False(t, ok, "a text over the token limit has no key")
	assert.Zero(t, small.known.Len())
}

func BenchmarkDocKeys(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("query W1(")
	for i := range 100 {
		fmt.Fprintf(&sb, "$id%03d: ID!, ", i)
	}
	sb.WriteString(") {")
	for i := range 100 {
		fmt.Fprintf(&sb, " g%03d: group(id: $id%03d) { id name description memberCount }", i, i)
	}
	sb.WriteString(" }")
	q := sb.String()
	b.Run("lexed", func(b *testing.B) {
		for b.Loop() {
			documentKey(q, DefaultMaxTokens)
		}
	})
	b.Run("remembered", func(b *testing.B) {
		d := newDocKeys(DefaultMaxTokens)
		for b.Loop() {
			d.key(q)
		}
	})
}
