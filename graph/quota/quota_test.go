package quota

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/groupdir/gateway/auth"
	"github.com/groupdir/gateway/graph"
	"github.com/groupdir/gateway/upstream"
)

var schema = sync.OnceValue(func() *ast.Schema { return graph.NewExecutableSchema(graph.Config{}).Schema() })

// operation parses and validates query against the gateway's schema.
func operation(t *testing.T, query string) *ast.OperationDefinition {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(schema(), query, nil)
	require.Empty(t, errs)
	require.Len(t, doc.Operations, 1)
	return doc.Operations[0]
}

func ids(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"6a0f0000-0000-4000-8000-` + strings.Repeat("0", 11) + strconv.Itoa(i%10) + `"`
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// idList is n group ids as a variable value.
func idList(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("6a0f0000-0000-4000-8000-%012d", i)
	}
	return out
}

func aliasedGroups(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		b.WriteString("g" + strconv.Itoa(i) + `: group(id: "6a0f0000-0000-4000-8000-000000000001") { name } `)
	}
	return b.String() + "}"
}

func TestEstimate(t *testing.T) {
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  int
	}{
		{"one page", `{ groups(pageSize: 5) { entities { id name } } }`, nil, 1},
		{"members of each group of a page", `{ groups(pageSize: 25) { entities { members(pageSize: 25) { entities { id } } } } }`, nil, 26},
		{"page size from a variable", `query($n: Int) { groups(pageSize: $n) { entities { individuals { total } } } }`,
			map[string]any{"n": 10}, 11},
		{"default page size", `{ groups { entities { dynamicDefinition { groupId } } } }`, nil, 1 + DefaultPageSize},
		{"ids size the page", `{ groups(ids: ` + ids(3) + `) { entities { userGroups { id } } } }`, nil, 4},
		{"aliases count", `{ a: userGroup(id: "x") { id } b: userGroup(id: "y") { id } }`, nil, 2},
		{"batched lookups: 100 aliases are one call", aliasedGroups(100), nil, 1},
		{"101 aliases are two calls", aliasedGroups(101), nil, 2},
		{"linked groups of a page batched", `{ userGroups(pageSize: 50) { entities { group { name } } } }`, nil, 2},
		{"teams asks both directories", `{ teams { name } }`, nil, 2},
		{"fragments count", `{ ...F } fragment F on Query { userGroups { entities { id } } fieldConfig(type: GROUP) { id } }`, nil, 2},
		{"introspection is free", `{ __schema { queryType { name } } __typename }`, nil, 0},
		{"delete and its confirming read", `mutation { deleteGroup(id: "6a0f0000-0000-4000-8000-000000000001") { id } }`, nil, 2},
		{"member chunks", `mutation { addGroupMembers(groupId: "6a0f0000-0000-4000-8000-000000000001", memberIds: ` + ids(120) + `) { status } }`,
			nil, 1 + 3},
		{"read, write, verify", `mutation { addUserGroupUsers(id: "x", userIds: ["a"]) { status } }`, nil, 3},
		{"33 aliased pages of 100 groups with a member page each", fanOut(33), nil, 33 * 101},
		{"the fan-out through fragments and variables", `query($n: Int) { a: groups(pageSize: $n) { ...E } b: groups(pageSize: $n) { ...E } }
			fragment E on GroupPage { entities { ... on Group { members(pageSize: 1) { total } } } }`, map[string]any{"n": 100}, 2 * 101},
		{"ids from a variable", `query($ids: [ID!]) { groups(ids: $ids) { entities { members { total } } } }`,
			map[string]any{"ids": []any{"a", "b", "c"}}, 4},
		{"a page over the largest counts the largest", `{ groups(pageSize: 1000) { entities { members { total } } } }`, nil, 101},
		{"skipped fields count", `query($no: Boolean!) { groups(pageSize: 5) { entities { members @skip(if: $no) { total } } } }`,
			map[string]any{"no": true}, 6},
		{"user group search: default page of 50", `{ userGroups { entities { group { members { total } } } } }`, nil, 1 + 1 + 50},
		{"user group search: pages up to 250", `{ userGroups(pageSize: 250) { entities { group { individuals { total } } } } }`,
			nil, 1 + 3 + 250},
		{"group search: default page of 25", `{ searchGroups(input: {}) { results { members { total } } } }`, nil, 1 + 25},
		{"group search: input page size", `{ searchGroups(input: {pageSize: 40}) { results { members { total } } } }`, nil, 1 + 40},
		{"cursor: the largest page", `{ searchGroupsByCursor(q64: "x") { results { members { total } } } }`, nil, 1 + 100},
		{"a connection: up to three calls", `{ groupsConnection(first: 10) { edges { node { id } } } }`, nil, 3},
		{"a connection's edges size the list under them", `{ groupsConnection(last: 5) { edges { node { membersConnection(first: 2) { totalCount } } } } }`,
			nil, 3 + 5*3},
		{"user groups connection", `{ userGroupsConnection(first: 10) { edges { node { id } } } }`, nil, 2},
		{"nodes: 100 group ids are one call, others one each", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			map[string]any{"ids": append(idList(100), "x", "DynamicDefinition:6a0f0000-0000-4000-8000-000000000001")}, 1 + 2},
		{"node of a group is batched with group lookups", `{ node(id: "6a0f0000-0000-4000-8000-000000000001") { id } ` +
			`group(id: "6a0f0000-0000-4000-8000-000000000002") { id } }`, nil, 1},
		{"node of a user group", `{ node(id: "abc") { id } }`, nil, 1},
		{"entities: 100 groups are one batched call", `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`,
			map[string]any{"r": representations(100, "Group")}, 1},
		{"entities: a user group is one call, fields count per entity",
			`query($r: [_Any!]!) { _entities(representations: $r) { ... on Group { members { total } } } }`,
			map[string]any{"r": append(representations(3, "Group"), representations(2, "UserGroup")...)}, 1 + 2 + 5},
		{"entities: a literal list, batched with group(id:)",
			`{ _entities(representations: [{__typename: "Group", id: "a"}]) { __typename } group(id: "b") { id } }`, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Estimate(operation(t, tt.query), tt.vars, nil))
		})
	}
	t.Run("list sizes", func(t *testing.T) {
		op := operation(t, `{ teams { ... on Group { members { total } } } }`)
		assert.Equal(t, 2+DefaultListSize, Estimate(op, nil, nil))
		assert.Equal(t, 2+200, Estimate(op, nil, map[string]int{"Query.teams": 200}))
		sizes := map[string]int{"Query.teams": 200, "Query.teams.Group": 100, "Query.teams.UserGroup": 100}
		assert.Equal(t, 2+100, Estimate(op, nil, sizes), "the groups of teams, not all its teams")
		both := operation(t, `{ teams { ...G ... on UserGroup { group { members { total } } } } } fragment G on Group { members { total } }`)
		assert.Equal(t, 2+100+100+1, Estimate(both, nil, sizes), "each type by its own size; the user groups' groups in one batch")
		assert.Equal(t, 2+200+200+2, Estimate(both, nil, map[string]int{"Query.teams": 200}))
	})
}

// representations returns n federation representations of typeName.
func representations(n int, typeName string) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"__typename": typeName, "id": strconv.Itoa(i)}
	}
	return out
}

// fanOut is red-team case 55: n aliased pages of 100 groups, each group
// with a distinct page of its members.
func fanOut(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, " p%d: groups(pageSize: 100) { entities { members(pageSize: 1, pageNumber: %d) { total } } }", i, i)
	}
	return b.String() + " }"
}

func TestTakeRefillsPerCaller(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	q := New(Options{PerMinute: 6, Now: func() time.Time { return now }})
	ctx := context.Background()
	assert.Zero(t, q.take(ctx, "alice", 4))
	assert.Zero(t, q.take(ctx, "alice", 2))
	assert.Equal(t, 10*time.Second, q.take(ctx, "alice", 1), "one call refills in 10 s")
	assert.Zero(t, q.take(ctx, "bob", 6), "another caller has its own bucket")
	now = now.Add(10 * time.Second)
	assert.Zero(t, q.take(ctx, "alice", 1))
	q.charge(ctx, "bob", 3)
	assert.Equal(t, 30*time.Second, q.take(ctx, "bob", 1), "calls beyond the estimate leave the bucket in debt")
	assert.Nil(t, New(Options{}), "no limit")
}

func TestSettlePaysBackCallsNotMade(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	q := New(Options{PerMinute: 6, Now: func() time.Time { return now }})
	wait, paid := q.reserve(context.Background(), "alice", 6)
	require.Zero(t, wait)
	calls := &upstream.Calls{}
	calls.Add(upstream.Genesys) // one call made of the 6 estimated: the others came from the read cache
	st := &state{q: q, subject: "alice", calls: calls, charged: 6, estimate: 6, paid: paid}
	st.settle(context.Background())
	assert.Zero(t, q.take(context.Background(), "alice", 5), "the 5 calls not made were paid back")
	assert.Equal(t, 10*time.Second, q.take(context.Background(), "alice", 1), "the call made was not")
}

func TestCallerShareOfTheSharedBudget(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want int
	}{
		{"lowered to 40 % of the shared budget", Options{PerMinute: 1000, SharedPerMinute: 300}, 120},
		{"a configured share", Options{PerMinute: 1000, SharedPerMinute: 300, MaxSharePercent: 50}, 150},
		{"within its share", Options{PerMinute: 100, SharedPerMinute: 300}, 100},
		{"no shared budget", Options{PerMinute: 1000}, 1000},
		{"no per-caller limit", Options{SharedPerMinute: 300, MaxCalls: 10}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, New(tt.o).PerMinute()) })
	}
}

func TestOperationBound(t *testing.T) {
	tests := []struct {
		name      string
		o         Options
		max       int
		limit     string
		estimated int
	}{
		{"the cap", Options{MaxCalls: 5}, 5, LimitUpstreamCalls, 6},
		{"a budget below the cap", Options{PerMinute: 4, MaxCalls: 5}, 4, LimitCallerBudget, 6},
		{"the cap below the budget", Options{PerMinute: 50, MaxCalls: 5}, 5, LimitUpstreamCalls, 6},
	}
	over := `{ groups(pageSize: 5) { entities { members { total } } } }`  // 6 calls
	under := `{ groups(pageSize: 3) { entities { members { total } } } }` // 4 calls
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := New(tt.o)
			ext := q.Extension().(graphql.OperationContextMutator)
			ctx := auth.WithCaller(context.Background(), auth.NewCaller("alice", nil))
			err := ext.MutateOperationContext(ctx, &graphql.OperationContext{Operation: operation(t, over)})
			require.NotNil(t, err)
			assert.Equal(t, map[string]any{"code": CodeQueryTooComplex, "limit": tt.limit,
				"upstreamCalls": tt.estimated, "maxUpstreamCalls": tt.max}, err.Extensions)
			assert.Nil(t, ext.MutateOperationContext(ctx, &graphql.OperationContext{Operation: operation(t, under)}))
		})
	}
}

func TestBucketsAreBounded(t *testing.T) {
	q := New(Options{PerMinute: 1, MaxCallers: 2})
	ctx := context.Background()
	for _, s := range []string{"a", "b", "c"} {
		assert.Zero(t, q.take(ctx, s, 1))
	}
	assert.Equal(t, 2, q.buckets.Len())
	assert.Zero(t, q.take(ctx, "a", 1), "the least recently seen caller was forgotten: a full bucket")
}

// serve runs query through the extension and Middleware, as the gateway
// does, for the caller named subject.
func serve(t *testing.T, q *Quota, subject, query string) *httptest.ResponseRecorder {
	t.Helper()
	op := operation(t, query)
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := auth.WithCaller(r.Context(), auth.NewCaller(subject, nil))
		status := http.StatusOK
		if err := q.Extension().(graphql.OperationContextMutator).MutateOperationContext(ctx,
			&graphql.OperationContext{Operation: op}); err != nil {
			assert.Equal(t, CodeRateLimited, err.Extensions["code"])
			assert.Positive(t, err.Extensions["retryAfter"])
		}
		w.WriteHeader(status)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/query", nil).WithContext(context.Background()))
	return w
}

func TestRefusalIs429WithRetryAfter(t *testing.T) {
	q := New(Options{PerMinute: 2})
	query := `{ a: userGroup(id: "x") { id } b: userGroup(id: "y") { id } }`
	assert.Equal(t, http.StatusOK, serve(t, q, "alice", query).Code)
	w := serve(t, q, "alice", query)
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "60", w.Header().Get("Retry-After"))
	assert.Equal(t, http.StatusOK, serve(t, q, "bob", query).Code, "bob is not limited by alice")
	assert.Equal(t, http.StatusOK, serve(t, nil, "alice", query).Code, "a nil quota limits nothing")
}
