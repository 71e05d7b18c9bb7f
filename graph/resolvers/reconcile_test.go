package resolvers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/idempotency"
)

// resumingStore hands every key over as the resumption of a dead run.
type resumingStore struct{}

func (resumingStore) Reserve(context.Context, string, string) (*idempotency.Record, error) {
	return nil, idempotency.ErrResumed
}
func (resumingStore) Complete(context.Context, string, idempotency.Record) error { return nil }
func (resumingStore) Release(context.Context, string) error                      { return nil }

// resumed runs f with the context of a keyed mutation that resumes an
// interrupted run (idempotency.Resumed).
func resumed(t *testing.T, f func(ctx context.Context)) {
	t.Helper()
	ran := false
	h := idempotency.Middleware(resumingStore{}, idempotency.Options{})(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		require.True(t, idempotency.Resumed(r.Context()))
		f(r.Context())
		ran = true
	}))
	r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":"mutation { m }"}`))
	r.Header.Set(idempotency.HeaderKey, "k")
	h.ServeHTTP(httptest.NewRecorder(), r)
	require.True(t, ran)
}

// The creates that cannot look for what a dead run made answer CONFLICT
// with an unknown outcome, before any upstream call (the resolver has no
// clients here: a call would panic).
func TestResumedCreatesThatCannotReconcile(t *testing.T) {
	r := New(nil, nil)
	resumed(t, func(ctx context.Context) {
		_, err := r.createGroup(ctx, model.CreateGroupInput{Name: "Night shift"})
		assertInterrupted(t, err)
		_, err = r.createUserGroup(ctx, model.CreateUserGroupInput{Name: "Night forms"})
		assertInterrupted(t, err)
	})
}

func assertInterrupted(t *testing.T, err error) {
	t.Helper()
	var g *gqlerror.Error
	require.ErrorAs(t, err, &g)
	assert.Equal(t, map[string]any{"code": CodeConflict, "outcome": "unknown"}, g.Extensions)
}
