package redisstore

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// limiterBackoff is how long after a failed call the Limiter answers
// ErrDegraded without asking Redis: a Redis that hangs costs one call's
// timeout per backoff, not one per rate-limited call.
const limiterBackoff = time.Second

// ErrDegraded is the Limiter's answer while it does not ask Redis after a
// failure (limiterBackoff).
var ErrDegraded = errors.New("redisstore: redis failed recently; limits are counted per replica")

// Limiter counts rate limits in Redis, so that every replica spends one
// budget: the GCRA of github.com/go-redis/redis_rate (one atomic script
// per call, no background work). Its callers fall back to counting in
// their own process when it returns an error; the Limiter logs the first
// failure and the recovery.
type Limiter struct {
	s        *Store
	rl       *redis_rate.Limiter
	degraded atomic.Bool
	// retryAt is when, in Unix ns, to ask Redis again after a failure.
	retryAt atomic.Int64
}

// Limiter returns the shared rate limiter (one per Store, so that a
// failure is logged once for all its uses).
func (s *Store) Limiter() *Limiter { return s.limiter }

func newLimiter(s *Store) *Limiter {
	return &Limiter{s: s, rl: redis_rate.NewLimiter(s.client)}
}

// Take takes n calls (at most burst: more never fit) from key's budget of
// perMinute calls a minute with bursts of up to burst, and returns 0; when
// the budget cannot pay for them now it takes nothing and returns how long
// to wait.
func (l *Limiter) Take(ctx context.Context, key string, perMinute, burst, n int) (time.Duration, error) {
	if l.backingOff() {
		return 0, ErrDegraded
	}
	ctx, cancel := l.s.bound(ctx)
	defer cancel()
	res, err := l.rl.AllowN(ctx, "gw:"+key, limit(perMinute, burst), n)
	if l.observe(err) != nil {
		return 0, err
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	return max(res.RetryAfter, time.Millisecond), nil
}

// Charge takes up to n calls already made from key's budget: as many as it
// holds (a GCRA cannot go into debt, so a caller that overspent its
// estimate pays at most its budget's remainder).
func (l *Limiter) Charge(ctx context.Context, key string, perMinute, burst, n int) error {
	if l.backingOff() {
		return ErrDegraded
	}
	ctx, cancel := l.s.bound(ctx)
	defer cancel()
	_, err := l.rl.AllowAtMost(ctx, "gw:"+key, limit(perMinute, burst), n)
	return l.observe(err)
}

func limit(perMinute, burst int) redis_rate.Limit {
	return redis_rate.Limit{Rate: max(perMinute, 1), Burst: max(burst, 1), Period: time.Minute}
}

// backingOff reports whether a recent failure says not to ask Redis now.
func (l *Limiter) backingOff() bool { return time.Now().UnixNano() < l.retryAt.Load() }

// observe logs the change between shared and per-replica counting, and
// starts the backoff after a failure.
func (l *Limiter) observe(err error) error {
	if err != nil {
		l.retryAt.Store(time.Now().Add(limiterBackoff).UnixNano())
	}
	switch {
	case err != nil && !l.degraded.Swap(true):
		l.s.log.Warn("redis unavailable: rate limits are counted per replica until it answers again", "error", err.Error())
	case err == nil && l.degraded.Swap(false):
		l.s.log.Info("redis available again: rate limits are shared by the replicas again")
	}
	return err
}
