package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// End-to-end tests of the Idempotency-Key header on /query.

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	e := setup(t, nil)
	k := e.usergroupsKit()
	vars := map[string]any{"name": "Keyed", "ext": "keyed-1"}
	first := e.post(createUG, vars, "Idempotency-Key", "key-1")
	require.Empty(t, first.Errors)
	assert.Empty(t, first.Header.Get("Idempotent-Replayed"))

	again := e.post(createUG, vars, "Idempotency-Key", "key-1")
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.JSONEq(t, string(first.Raw), string(again.Raw), "the very same answer")
	assert.Equal(t, 1, k.Count(usergroupsemu.RouteCreate), "one upstream POST")
	assert.Equal(t, 1, e.gw.demo.usergroups.UserGroupsByExternalID("keyed-1"))

	other := e.post(createUG, map[string]any{"name": "Other", "ext": "keyed-1"}, "Idempotency-Key", "key-1")
	assert.Equal(t, []string{"BAD_USER_INPUT"}, other.codes(), "the same key with other input")
	assert.Nil(t, other.Data)
	assert.Equal(t, 1, k.Count(usergroupsemu.RouteCreate))

	fresh := e.post(createUG, vars, "Idempotency-Key", "key-2")
	require.Empty(t, fresh.Errors)
	assert.Equal(t, 2, k.Count(usergroupsemu.RouteCreate), "another key is another request")
}

func TestIdempotencyKeyWhileTheFirstRuns(t *testing.T) {
	e := setup(t, nil)
	k := e.usergroupsKit()
	k.Inject(usergroupsemu.RouteCreate, emukit.Fault{Latency: time.Second, Times: 1})
	vars := map[string]any{"name": "Slow", "ext": "slow-1"}
	done := make(chan gqlResponse, 1)
	go func() {
		r, err := e.send(createUG, vars, "Idempotency-Key", "slow-key")
		if err != nil {
			r.Errors = append(r.Errors, gqlError{Message: err.Error()})
		}
		done <- r
	}()
	require.Eventually(t, func() bool { return k.Count(usergroupsemu.RouteCreate) == 1 }, 10*time.Second, 5*time.Millisecond)

	r := e.post(createUG, vars, "Idempotency-Key", "slow-key")
	assert.Equal(t, []string{"CONFLICT"}, r.codes())
	assert.Equal(t, "1", r.Header.Get("Retry-After"))

	first := <-done
	require.Empty(t, first.Errors)
	r = e.post(createUG, vars, "Idempotency-Key", "slow-key")
	assert.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, dig(first.Data, "createUserGroup", "id"), dig(r.Data, "createUserGroup", "id"))
	assert.Equal(t, 1, k.Count(usergroupsemu.RouteCreate))
}

func TestIdempotencyKeyOnlyForMutationsThatRan(t *testing.T) {
	e := setup(t, nil)
	k := e.usergroupsKit()
	for range 2 {
		r := e.post(`{ userGroups(pageSize: 1) { pageSize } }`, nil, "Idempotency-Key", "query-key")
		require.Empty(t, r.Errors)
		assert.Empty(t, r.Header.Get("Idempotent-Replayed"))
	}
	assert.Equal(t, 2, k.Count(usergroupsemu.RouteSearch), "queries run every time")

	for range 2 {
		r := e.post(`mutation { createUserGroup(input: {name: "x"}) { nope } }`, nil, "Idempotency-Key", "refused-key")
		assert.Equal(t, []string{"GRAPHQL_VALIDATION_FAILED"}, r.codes())
		assert.Empty(t, r.Header.Get("Idempotent-Replayed"), "a request refused before execution is not kept")
	}

	r := e.post(`mutation { createUserGroup(input: {name: "x"}) { id } }`, nil, "Idempotency-Key", strings.Repeat("k", 256))
	assert.Equal(t, 400, r.Status)
	assert.Equal(t, []string{"BAD_REQUEST"}, r.codes())
	assert.Zero(t, k.Count(usergroupsemu.RouteCreate))
}
