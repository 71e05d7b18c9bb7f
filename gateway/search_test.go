package gateway

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/genesys"
)

const searchPage = `query($in: GroupSearchInput!) { searchGroups(input: $in) {
	pageNumber pageCount previousPage currentPage nextPage results { id } } }`

// TestSearchPagingEnds: Genesys (and the emulator, like the official
// sample) carries nextPage on the last page too; the gateway's nextPage is
// null there, so paging until it is null ends. previousPage is null on page 1.
func TestSearchPagingEnds(t *testing.T) {
	e := setup(t, nil)
	const size = 15 // 40 demo groups: pages 1, 2 and 3
	pageCount := (demodata.Demo.Groups + size - 1) / size
	upstreamLast, err := e.gw.genesys.SearchGroups(context.Background(),
		genesys.GroupSearchRequest{PageSize: size, PageNumber: pageCount})
	require.NoError(t, err)
	require.Equal(t, pageCount, upstreamLast.PageCount)
	require.NotEmpty(t, upstreamLast.NextPage, "the upstream's last page carries a next page")

	for n := 1; n <= pageCount; n++ {
		r := e.post(searchPage, map[string]any{"in": map[string]any{"pageSize": size, "pageNumber": n}})
		require.Empty(t, r.Errors)
		res := dig(r.Data, "searchGroups")
		assert.EqualValues(t, n, dig(res, "pageNumber"))
		assert.NotNil(t, dig(res, "currentPage"))
		assert.Equal(t, n < pageCount, dig(res, "nextPage") != nil, "nextPage on page %d of %d", n, pageCount)
		assert.Equal(t, n > 1, dig(res, "previousPage") != nil, "previousPage on page %d", n)
	}

	// A client that follows nextPage until it is null sees every group once.
	r := e.post(searchPage, map[string]any{"in": map[string]any{"pageSize": size}})
	require.Empty(t, r.Errors)
	seen := map[any]bool{}
	res := dig(r.Data, "searchGroups")
	for pages := 1; ; pages++ {
		require.LessOrEqual(t, pages, pageCount, "paging must end at the last page")
		for _, g := range dig(res, "results").([]any) {
			seen[dig(g, "id")] = true
		}
		next, ok := dig(res, "nextPage").(string)
		if !ok {
			break
		}
		r = e.post(`query($q: String!) { searchGroupsByCursor(q64: $q) { nextPage results { id } } }`, map[string]any{"q": next})
		require.Empty(t, r.Errors)
		res = dig(r.Data, "searchGroupsByCursor")
	}
	assert.Len(t, seen, demodata.Demo.Groups)

	// Page 1 of 1, as in the official sample.
	r = e.post(searchPage, map[string]any{"in": map[string]any{"query": []any{
		map[string]any{"type": "EXACT", "fields": []string{"name"}, "value": demodata.GroupName(1)}}}})
	require.Empty(t, r.Errors)
	assert.EqualValues(t, 1, dig(r.Data, "searchGroups", "pageCount"))
	assert.Nil(t, dig(r.Data, "searchGroups", "nextPage"))
	assert.Nil(t, dig(r.Data, "searchGroups", "previousPage"))
}

// TestSearchCriterionNeedsType: the API requires a criterion's type, nested
// ones included; the schema makes it non-null, so a request without one is
// refused before execution and costs no call.
func TestSearchCriterionNeedsType(t *testing.T) {
	e := setup(t, nil)
	e.resetCalls()
	for _, q := range []string{
		`{ searchGroups(input: {query: [{fields: ["name"], value: "Support"}]}) { total } }`,
		`{ searchGroups(input: {query: [{type: MATCH_ALL, group: [{fields: ["name"], value: "Support"}]}]}) { total } }`,
		`{ searchGroups(input: {query: [{type: null, fields: ["name"], value: "Support"}]}) { total } }`,
	} {
		r := e.post(q, nil)
		assert.Equal(t, []string{"GRAPHQL_VALIDATION_FAILED"}, r.codes(), q)
		assert.Nil(t, r.Data, q)
	}
	for _, crit := range []map[string]any{
		{"fields": []string{"name"}, "value": "Support"},
		{"type": nil, "fields": []string{"name"}, "value": "Support"},
		{"type": "MATCH_ALL", "group": []any{map[string]any{"fields": []string{"name"}, "value": "Support"}}},
	} {
		r := e.post(searchPage, map[string]any{"in": map[string]any{"query": []any{crit}}})
		assert.Equal(t, []string{"GRAPHQL_VALIDATION_FAILED"}, r.codes(), crit)
		assert.Nil(t, r.Data)
	}
	assert.Zero(t, e.genesysKit().Count(""))
}

// TestUserGroupPageExactlyFull: the Usergroup search reports no paging
// metadata, so hasNextPage means "this page is full", as the schema says: on
// an exactly-full last page it is true and the next page is empty.
func TestUserGroupPageExactlyFull(t *testing.T) {
	e := setup(t, nil)
	const size = 10
	require.Zero(t, demodata.Demo.UserGroups%size, "the demo's user groups fill their last page exactly")
	last := demodata.Demo.UserGroups / size
	q := `query($n: Int) { userGroups(pageSize: 10, pageNumber: $n) { hasNextPage entities { id } } }`
	r := e.post(q, map[string]any{"n": last})
	require.Empty(t, r.Errors)
	assert.Len(t, dig(r.Data, "userGroups", "entities"), size)
	assert.Equal(t, true, dig(r.Data, "userGroups", "hasNextPage"))
	r = e.post(q, map[string]any{"n": last + 1})
	require.Empty(t, r.Errors)
	assert.Equal(t, []any{}, dig(r.Data, "userGroups", "entities"))
	assert.Equal(t, false, dig(r.Data, "userGroups", "hasNextPage"))
}
