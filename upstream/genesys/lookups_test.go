package genesys

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGroupLookupsSplitOnlyPlainLookups(t *testing.T) {
	b := GroupLookups()
	cases := []struct {
		url  string
		ids  []string
		ok   bool
		what string
	}{
		{"/api/v2/groups?id=a&id=b&pageSize=2", []string{"a", "b"}, true, "the loader's lookup"},
		{"/api/v2/groups?id=a&pageSize=5&pageNumber=1", []string{"a"}, true, "a larger first page"},
		{"/api/v2/groups?id=a&id=b&pageSize=1", nil, false, "a page smaller than its ids"},
		{"/api/v2/groups?id=a&pageNumber=2", nil, false, "a later page"},
		{"/api/v2/groups?id=a&sortOrder=DESC", nil, false, "a sort order"},
		{"/api/v2/groups?jabberId=x&pageSize=1", nil, false, "a jabber id lookup"},
		{"/api/v2/groups?pageSize=25", nil, false, "a page of groups"},
		{"/api/v2/groups/a?id=b", nil, false, "another path"},
	}
	for _, c := range cases {
		ids, ok := b.IDs(httptest.NewRequest("GET", c.url, nil))
		assert.Equal(t, c.ok, ok, c.what)
		if c.ok {
			assert.Equal(t, c.ids, ids, c.what)
		}
	}
	q := b.WithIDs(httptest.NewRequest("GET", "/api/v2/groups?id=a&pageSize=1&pageNumber=1&x=y", nil).URL.Query(), []string{"c", "d"})
	assert.Equal(t, "id=c&id=d&pageSize=2&x=y", q.Encode())
}

func TestGroupLookupsSplitAndJoinAnswers(t *testing.T) {
	b := GroupLookups()
	ids, entities, err := b.Entities([]byte(`{"total":2,"entities":[{"name":"A","id":"a"},{"id":1,"id":"b","x":[{}]}],"pageSize":2}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, ids)
	assert.Equal(t, []string{`{"name":"A","id":"a"}`, `{"id":1,"id":"b","x":[{}]}`}, []string{string(entities[0]), string(entities[1])})
	assert.JSONEq(t, `{"entities":[{"name":"A","id":"a"},{"id":"b"}],"pageSize":2,"pageNumber":1,"total":2,"pageCount":1}`,
		string(b.Answer([][]byte{entities[0], []byte(`{"id":"b"}`)})))
	assert.JSONEq(t, `{"entities":[],"pageSize":0,"pageNumber":1,"total":0,"pageCount":1}`, string(b.Answer(nil)))

	_, spaced, err := b.Entities([]byte("{\"entities\": [ {\"id\": \"a\"} ,\n\t{\"id\":\"b\"}\n]}"))
	require.NoError(t, err)
	assert.Equal(t, []string{`{"id": "a"}`, `{"id":"b"}`}, []string{string(spaced[0]), string(spaced[1])}, "each group's own bytes")

	for _, body := range []string{`{"entities":[{"name":"no id"}]}`, `{"total":0}`, `{"entities":null}`, `[]`, `{"entities":[{"id":"a"}`} {
		_, _, err := b.Entities([]byte(body))
		assert.Error(t, err, body)
	}
}
