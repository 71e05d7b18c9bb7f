package resolvers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
)

const (
	idA = "7b1e0000-0000-4000-8000-00000000000a"
	idB = "7b1e0000-0000-4000-8000-00000000000b"
)

func TestMemberIDs(t *testing.T) {
	log, err := memberIDs("memberIds", []string{idA, strings.ToUpper(idB), idA, idB}, 4)
	require.NoError(t, err)
	assert.Equal(t, []string{idA, idB}, log.ids, "distinct, lower case, first-given order")
	assert.Equal(t, []string{idA, idB}, log.todo)

	log, err = memberIDs("memberIds", []string{idA, "../users/me"}, 4)
	require.NoError(t, err, "one bad id fails alone")
	assert.Equal(t, []string{idA}, log.todo)
	assert.ErrorIs(t, log.errs["../users/me"], upstream.ErrInvalidInput)

	for name, in := range map[string][]string{
		"none":       {},
		"too many":   {idA, idA, idA, idA, idA},
		"no good id": {"../users/me", "x"},
	} {
		_, err := memberIDs("memberIds", in, 4)
		assert.ErrorIs(t, err, upstream.ErrInvalidInput, name)
	}
}

func TestChangeLog(t *testing.T) {
	conflict := &upstream.Error{Upstream: upstream.Genesys, Status: http.StatusConflict}
	l := newChangeLog([]string{idA, idB})
	assert.Equal(t, model.MembershipChangeStatusFailed, l.status(), "nothing settled yet")
	l.fail(conflict, idA, idB)
	assert.Equal(t, model.MembershipChangeStatusFailed, l.status())
	l.set(model.MemberChangeOutcomeAdded, idB)
	assert.Equal(t, model.MembershipChangeStatusPartial, l.status())
	res := l.results()
	require.Len(t, res, 2)
	assert.Equal(t, model.MemberChangeOutcomeFailed, res[0].Outcome)
	assert.Equal(t, CodeConflict, *res[0].ErrorCode)
	assert.Equal(t, model.MemberChangeResult{MemberID: idB, Outcome: model.MemberChangeOutcomeAdded}, res[1],
		"a later success clears the failure")
	l.set(model.MemberChangeOutcomeAlreadyMember, idA)
	assert.Equal(t, model.MembershipChangeStatusComplete, l.status())
}

func TestChunkLocal(t *testing.T) {
	for status, want := range map[int]bool{400: true, 409: true, 500: true, 503: true, 401: false, 403: false, 404: false, 429: false} {
		assert.Equal(t, want, chunkLocal(&upstream.Error{Status: status}), status)
	}
	assert.False(t, chunkLocal(&upstream.TransportError{Kind: "connection reset"}))
	assert.False(t, chunkLocal(context.DeadlineExceeded))
}

func TestUserMerge(t *testing.T) {
	current := []string{"7B1E00000000400080000000000000AA", idA} // the upstream may drop hyphens
	add := &userMerge{add: true, log: newChangeLog([]string{idA, idB, "7b1e0000-0000-4000-8000-0000000000aa"})}
	add.first(current)
	assert.False(t, add.done(current))
	merged := add.merged(current)
	assert.Equal(t, []string{"7B1E00000000400080000000000000AA", idA, idB}, merged, "existing ids keep their spelling")
	assert.True(t, add.done(merged))
	add.verify(merged)
	assert.Equal(t, []model.MemberChangeOutcome{model.MemberChangeOutcomeAlreadyMember, model.MemberChangeOutcomeAdded,
		model.MemberChangeOutcomeAlreadyMember}, outcomesOf(add.log))

	remove := &userMerge{add: false, log: newChangeLog([]string{"7b1e0000-0000-4000-8000-0000000000aa", idB})}
	remove.first(current)
	assert.Equal(t, []string{idA}, remove.merged(current))
	remove.verify(current) // the write was lost
	assert.Equal(t, []model.MemberChangeOutcome{model.MemberChangeOutcomeFailed, model.MemberChangeOutcomeNotMember},
		outcomesOf(remove.log))
}

func outcomesOf(l *changeLog) []model.MemberChangeOutcome {
	var out []model.MemberChangeOutcome
	for _, r := range l.results() {
		out = append(out, r.Outcome)
	}
	return out
}

func TestKeyedLocks(t *testing.T) {
	k := newKeyedLocks()
	unlock, err := k.lock(context.Background(), "a")
	require.NoError(t, err)

	other, err := k.lock(context.Background(), "b")
	require.NoError(t, err, "another key is not blocked")
	other()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = k.lock(ctx, "a")
	assert.True(t, errors.Is(err, context.Canceled), "waiting ends with the request")

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		inside  int
		maxSeen int
	)
	for range 20 {
		wg.Go(func() {
			u, err := k.lock(context.Background(), "a")
			if err != nil {
				return
			}
			mu.Lock()
			inside++
			maxSeen = max(maxSeen, inside)
			mu.Unlock()
			mu.Lock()
			inside--
			mu.Unlock()
			u()
		})
	}
	unlock()
	wg.Wait()
	assert.Equal(t, 1, maxSeen, "one holder at a time")
	k.mu.Lock()
	defer k.mu.Unlock()
	assert.Empty(t, k.locks, "unused keys are forgotten")
}
