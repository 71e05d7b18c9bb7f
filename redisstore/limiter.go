package redisstore

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// Limiter counts rate limits in Redis, so that every replica spends one
// budget: the GCRA of github.com/go-redis/redis_rate (one atomic script
// per call, no background work). Its callers fall back to counting in
// their own process when it returns an error; the Limiter logs the first
// failure and the recovery.
type Limiter struct {
	s        *Store
	rl       *redis_rate.Limiter
	degraded atomic.Bool
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
	ctx, cancel := l.s.bound(ctx)
	defer cancel()
	_, err := l.rl.AllowAtMost(ctx, "gw:"+key, limit(perMinute, burst), n)
	return l.observe(err)
}

func limit(perMinute, burst int) redis_rate.Limit {
	return redis_rate.Limit{Rate: max(perMinute, 1), Burst: max(burst, 1), Period: time.Minute}
}

// observe logs the change between shared and per-replica counting.
func (l *Limiter) observe(err error) error {
	switch {
	case err != nil && !l.degraded.Swap(true):
		l.s.log.Warn("redis unavailable: rate limits are counted per replica until it answers again", "error", err.Error())
	case err == nil && l.degraded.Swap(false):
		l.s.log.Info("redis available again: rate limits are shared by the replicas again")
	}
	return err
}
