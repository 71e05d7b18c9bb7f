package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/idempotency"
	"github.com/groupdir/gateway/internal/redistest"
)

func open(t *testing.T, rs *redistest.Server) *Store {
	t.Helper()
	s, err := Open(Options{URL: rs.URL(), Timeout: 500 * time.Millisecond, Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestOpenRefusesABadURLWithoutRepeatingIt(t *testing.T) {
	_, err := Open(Options{URL: "http://:canary-password@redis:6379/0"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "REDIS_URL")
	assert.NotContains(t, err.Error(), "canary-password")
}

func TestIdempotencyRecordLifecycle(t *testing.T) {
	rs := redistest.Start(t)
	st := open(t, rs).Idempotency(IdempotencyOptions{})
	other := open(t, rs).Idempotency(IdempotencyOptions{}) // another replica
	ctx := context.Background()

	rec, err := st.Reserve(ctx, "k1", "fp")
	require.NoError(t, err)
	require.Nil(t, rec, "the key was free and is now held")
	_, err = other.Reserve(ctx, "k1", "fp")
	assert.ErrorIs(t, err, idempotency.ErrInProgress)
	_, err = other.Reserve(ctx, "k1", "other")
	assert.ErrorIs(t, err, idempotency.ErrMismatch, "the fingerprint is checked first")
	assert.Error(t, other.Complete(ctx, "k1", idempotency.Record{Status: 200}), "only the holder completes")

	require.NoError(t, st.Complete(ctx, "k1", idempotency.Record{Status: 200, ContentType: "application/json", Body: []byte(`{"data":{}}`)}))
	rec, err = other.Reserve(ctx, "k1", "fp")
	require.NoError(t, err)
	assert.Equal(t, &idempotency.Record{Status: 200, ContentType: "application/json", Body: []byte(`{"data":{}}`)}, rec)
	require.NoError(t, other.Release(ctx, "k1"))
	rec, err = st.Reserve(ctx, "k1", "fp")
	require.NoError(t, err)
	assert.NotNil(t, rec, "a release by a replica that does not hold the key frees nothing")

	_, err = st.Reserve(ctx, "k2", "fp")
	require.NoError(t, err)
	require.NoError(t, st.Release(ctx, "k2"))
	rec, err = other.Reserve(ctx, "k2", "fp")
	assert.NoError(t, err)
	assert.Nil(t, rec, "a released key is free again")
}

func TestIdempotencyRefusesWhileRedisIsDown(t *testing.T) {
	rs := redistest.Start(t)
	s := open(t, rs)
	st := s.Idempotency(IdempotencyOptions{})
	rs.Stop()
	_, err := st.Reserve(context.Background(), "k", "fp")
	require.Error(t, err)
	assert.NotErrorIs(t, err, idempotency.ErrInProgress)
	assert.Positive(t, testutil.ToFloat64(s.errors), "the failure is counted")
	rs.Restart()
	_, err = st.Reserve(context.Background(), "k", "fp")
	assert.NoError(t, err, "recovered without a new Store")
}

func TestLimiterCountsForEveryReplica(t *testing.T) {
	rs := redistest.Start(t)
	a, b := open(t, rs).Limiter(), open(t, rs).Limiter()
	ctx := context.Background()
	wait, err := a.Take(ctx, "caller", 60, 2, 2)
	require.NoError(t, err)
	assert.Zero(t, wait)
	wait, err = b.Take(ctx, "caller", 60, 2, 1)
	require.NoError(t, err)
	assert.Positive(t, wait, "the burst was spent on the other replica")
	assert.LessOrEqual(t, wait, time.Second)
	wait, err = a.Take(ctx, "other caller", 60, 2, 1)
	require.NoError(t, err)
	assert.Zero(t, wait, "another key is another budget")
}

func TestLockIsExclusiveAndExpires(t *testing.T) {
	rs := redistest.Start(t)
	a, b := open(t, rs).Locker(), open(t, rs).Locker()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	held, err := a.Lock(ctx, "ug", 50*time.Millisecond)
	require.NoError(t, err)
	require.NoError(t, held.Check(ctx))

	short, cancelShort := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancelShort()
	_, err = b.Lock(short, "ug", time.Second)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the other replica waits while it is held")

	time.Sleep(200 * time.Millisecond) // past the holder's deadline and the margin
	assert.ErrorIs(t, held.Check(context.Background()), ErrLockLost)
	later, cancelLater := context.WithTimeout(context.Background(), time.Second)
	defer cancelLater()
	next, err := b.Lock(later, "ug", time.Second)
	require.NoError(t, err, "an expired lock is free")
	next.Unlock(later)
	again, err := a.Lock(later, "ug", time.Second)
	require.NoError(t, err, "an unlocked lock is free at once")
	again.Unlock(later)
}

func TestLimiterBacksOffAfterAFailure(t *testing.T) {
	rs := redistest.Start(t)
	s := open(t, rs)
	l := s.Limiter()
	rs.Stop()
	ctx := context.Background()
	_, err := l.Take(ctx, "caller", 60, 2, 1)
	require.Error(t, err)
	failed := testutil.ToFloat64(s.errors)
	_, err = l.Take(ctx, "caller", 60, 2, 1)
	assert.ErrorIs(t, err, ErrDegraded)
	assert.Equal(t, failed, testutil.ToFloat64(s.errors), "no Redis call while backing off")
	rs.Restart()
	assert.Eventually(t, func() bool {
		_, err := l.Take(ctx, "caller", 60, 2, 1)
		return err == nil
	}, 5*time.Second, 50*time.Millisecond, "Redis is asked again after the backoff")
}
