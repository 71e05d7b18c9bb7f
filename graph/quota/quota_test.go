package quota

import (
	"context"
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
)

var schema = sync.OnceValue(func() *ast.Schema { return graph.NewExecutableSchema(graph.Config{}).Schema() })

// operation parses and validates query against the gateway's schema.
func operation(t *testing.T, query string) *ast.OperationDefinition {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(schema(), query)
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
		{"mutation", `mutation { deleteGroup(id: "6a0f0000-0000-4000-8000-000000000001") { id } }`, nil, 1},
		{"member chunks", `mutation { addGroupMembers(groupId: "6a0f0000-0000-4000-8000-000000000001", memberIds: ` + ids(120) + `) { status } }`,
			nil, 1 + 3},
		{"read, write, verify", `mutation { addUserGroupUsers(id: "x", userIds: ["a"]) { status } }`, nil, 3},
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
	})
}

func TestTakeRefillsPerCaller(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	q := New(Options{PerMinute: 6, Now: func() time.Time { return now }})
	assert.Zero(t, q.take("alice", 4))
	assert.Zero(t, q.take("alice", 2))
	assert.Equal(t, 10*time.Second, q.take("alice", 1), "one call refills in 10 s")
	assert.Zero(t, q.take("bob", 6), "another caller has its own bucket")
	assert.Zero(t, q.take("carol", 100), "more than a minute's budget costs the whole budget")
	now = now.Add(10 * time.Second)
	assert.Zero(t, q.take("alice", 1))
	assert.Nil(t, New(Options{}), "no limit")
}

func TestBucketsAreBounded(t *testing.T) {
	q := New(Options{PerMinute: 1, MaxCallers: 2})
	for _, s := range []string{"a", "b", "c"} {
		assert.Zero(t, q.take(s, 1))
	}
	assert.Equal(t, 2, q.buckets.Len())
	assert.Zero(t, q.take("a", 1), "the least recently seen caller was forgotten: a full bucket")
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
