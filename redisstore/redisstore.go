// Package redisstore is the gateway's connection to the Redis (or Valkey)
// that several replicas share (REDIS_URL): it connects, bounds every call
// with a timeout, counts failed calls in a metric, answers the readiness
// probe, and provides the shared building blocks the replicas need:
// idempotency records (Idempotency), rate limits counted across replicas
// (Limiter, GCRA by github.com/go-redis/redis_rate) and per-key locks
// (Locker, by github.com/bsm/redislock).
//
// go-redis reconnects by itself, so when Redis comes back after an outage
// every use recovers without a restart.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// DefaultTimeout bounds one Redis call (connecting included).
const DefaultTimeout = time.Second

// Options configures Open.
type Options struct {
	// URL is REDIS_URL: redis:// or rediss:// (TLS), with an optional
	// user and password and a database number as the path.
	URL string
	// Timeout bounds every Redis call (DefaultTimeout).
	Timeout time.Duration
	// Log receives the warnings of a degraded use (nil: discarded).
	Log *slog.Logger
	// Registerer, when set, gets the gateway_redis_errors_total counter.
	Registerer prometheus.Registerer
}

// Store is a connection pool to the shared Redis. It is safe for
// concurrent use.
type Store struct {
	client  *redis.Client
	timeout time.Duration
	log     *slog.Logger
	errors  prometheus.Counter
	limiter *Limiter
}

// ParseURL checks a REDIS_URL without connecting; its error never repeats
// the URL (it may hold a password).
func ParseURL(raw string) (*redis.Options, error) {
	o, err := redis.ParseURL(raw)
	if err != nil {
		return nil, errors.New("must be a redis:// or rediss:// URL, e.g. redis://:password@redis:6379/0")
	}
	return o, nil
}

// Open returns a Store for o.URL. It does not connect yet: the first call
// does, so that a gateway starts (and serves what needs no Redis) while
// Redis is down.
func Open(o Options) (*Store, error) {
	ro, err := ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout, ro.PoolTimeout = o.Timeout, o.Timeout, o.Timeout, o.Timeout
	// One retry of a call that failed on a broken pooled connection; every
	// script here is safe to run twice. One dial per attempt: a Redis that
	// is down fails the call at once instead of after five dials.
	ro.MaxRetries, ro.DialerRetries = 1, 1
	s := &Store{client: redis.NewClient(ro), timeout: o.Timeout, log: o.Log,
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "gateway_redis_errors_total",
			Help: "Redis calls that failed (connection, timeout or server error); each use then degrades as docs/operating.md says."})}
	if o.Registerer != nil {
		if err := o.Registerer.Register(s.errors); err != nil {
			return nil, err
		}
	}
	s.client.AddHook(errorHook{s.errors})
	s.limiter = newLimiter(s)
	return s, nil
}

// Client returns the underlying go-redis client (for uses built elsewhere,
// such as a shared read cache).
func (s *Store) Client() *redis.Client { return s.client }

// Ping checks that Redis answers, within the call timeout: the readiness
// probe's check.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.client.Ping(ctx).Err()
}

// Close closes the connections.
func (s *Store) Close() error { return s.client.Close() }

// bound gives one Redis call its timeout.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// errorHook counts the calls that failed. redis.Nil (no such key) is an
// answer, not a failure.
type errorHook struct{ errors prometheus.Counter }

func (h errorHook) DialHook(next redis.DialHook) redis.DialHook {
	return next // a failed dial fails the call, counted there
}

func (h errorHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if failed(err) {
			h.errors.Inc()
		}
		return err
	}
}

func (h errorHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if failed(err) {
			h.errors.Inc()
		}
		return err
	}
}

// failed reports whether err is a failed call rather than an answer.
func failed(err error) bool { return err != nil && !errors.Is(err, redis.Nil) }
