package gateway

import (
	"context"
	"time"

	"github.com/groupdir/gateway/graph/guard"
	"github.com/groupdir/gateway/graph/quota"
	"github.com/groupdir/gateway/graph/resolvers"
	"github.com/groupdir/gateway/idempotency"
	"github.com/groupdir/gateway/redisstore"
	"github.com/groupdir/gateway/upstream"
)

// What the replicas share through REDIS_URL (docs/operating.md, "Running several
// replicas"), and what each use does while Redis fails:
//   - idempotency records: keyed mutations are refused (UPSTREAM_UNAVAILABLE
//     with retryAfter), never run without their record;
//   - per-caller limits and upstream budgets: counted per replica, with a
//     warning in the log, until Redis answers again;
//   - per-user-group locks: membership changes and user-group updates are
//     refused (UPSTREAM_UNAVAILABLE with retryAfter), never run unlocked;
//   - automatic persisted queries: a miss, so the client sends the query
//     again with its hash.
//
// Without REDIS_URL all of it lives in the process.

// lockMargin is how much longer than the holder's deadline a user group's
// shared lock lasts.
const lockMargin = 5 * time.Second

// openShared connects to REDIS_URL, when set.
func (g *Gateway) openShared() error {
	if g.cfg.RedisURL == "" {
		return nil
	}
	s, err := redisstore.Open(redisstore.Options{URL: g.cfg.RedisURL, Log: g.log, Registerer: g.telemetry.Registerer()})
	if err != nil {
		return err
	}
	g.shared = s
	g.log.Info("redis: idempotency records, limits, upstream budgets, user-group locks and persisted queries are shared with the other replicas")
	return nil
}

// idempotencyStore is where the Idempotency-Key records live: Redis, or
// this process.
func (g *Gateway) idempotencyStore() idempotency.Store {
	if g.shared == nil {
		return idempotency.NewMemoryStore(idempotency.MemoryOptions{})
	}
	return g.shared.Idempotency(redisstore.IdempotencyOptions{MaxRun: g.cfg.OperationTimeout})
}

// persistedTTL is how long a persisted query stays in Redis after its last
// use.
const persistedTTL = 24 * time.Hour

// persistedStore is where automatic persisted queries are kept: Redis, so
// that a query registered on one replica is found on the others, or (nil)
// the guard's in-process store.
func (g *Gateway) persistedStore() guard.PersistedStore {
	if g.shared == nil {
		return nil
	}
	return g.shared.Persisted(persistedTTL, guard.DefaultPersistedDocumentBytes)
}

// sharedQuota is the store of the callers' buckets shared by the replicas
// (nil: none).
func (g *Gateway) sharedQuota() quota.SharedLimiter {
	if g.shared == nil {
		return nil
	}
	return g.shared.Limiter()
}

// sharedRate is the store of the upstream budgets shared by the replicas
// (nil: none).
func (g *Gateway) sharedRate() upstream.SharedLimiter {
	if g.shared == nil {
		return nil
	}
	return g.shared.Limiter()
}

// sharedResolverOptions are the resolver's options that depend on REDIS_URL.
func (g *Gateway) sharedResolverOptions() []resolvers.Option {
	if g.shared == nil {
		return nil
	}
	locker := g.shared.Locker()
	return []resolvers.Option{resolvers.WithSharedLock(func(ctx context.Context, key string) (func(context.Context) error, func(), error) {
		l, err := locker.Lock(ctx, key, lockMargin)
		if err != nil {
			return nil, nil, err
		}
		return l.Check, func() { l.Unlock(ctx) }, nil
	})}
}

// redisReadiness is /readyz's entry for Redis: reported, but a failure
// does not take the replica out of service (reads and unkeyed writes still
// work; see above).
func (g *Gateway) redisReadiness() readyCheck {
	return readyCheck{what: "connection", live: true, optional: true, check: g.shared.Ping}
}
