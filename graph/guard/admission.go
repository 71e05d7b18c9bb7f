package guard

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// CodeRateLimited is the extensions.code of a request refused by Shed or
// CallerRate: try again after extensions.retryAfter seconds (the
// Retry-After header says the same).
const CodeRateLimited = "RATE_LIMITED"

// Messages of the admission refusals.
const (
	msgBusy       = "the gateway is serving as many requests as it can; retry in 1 s"
	msgBodiesBusy = "the gateway is reading as many request bodies as it can hold; retry in 1 s"
)

// shedRetryAfter is the Retry-After (seconds) of a request Shed refuses: a
// moment, as in-flight requests end within the operation deadline and most
// far sooner.
const shedRetryAfter = 1

// ShedOptions bounds the requests the gateway serves at once.
type ShedOptions struct {
	// MaxInFlight bounds the requests being served; one more waits up to
	// QueueWait for a slot.
	MaxInFlight int
	// QueueWait is how long a request waits for a slot, then for its body
	// budget, before it is refused with 503.
	QueueWait time.Duration
	// MaxBodyBytesInFlight bounds the body bytes of the requests being
	// served: a POST holds its Content-Length, or MaxBodyBytes when its
	// length is unknown (chunked), from before its body is read until it
	// is answered. Must be at least MaxBodyBytes.
	MaxBodyBytesInFlight int64
	// MaxBodyBytes is the cap of one body (Limits.MaxBodyBytes): a larger
	// declared body is refused 413 unread, so it holds nothing.
	MaxBodyBytes int64
	// CORSOrigins are the browser origins that may read a refusal (as
	// Options.CORSOrigins).
	CORSOrigins []string
	// Log receives one debug line per refused request. Nil discards.
	Log *slog.Logger
}

// Shed returns the middleware that sheds load instead of queueing it: a
// request waits at most o.QueueWait for one of o.MaxInFlight slots, then as
// long for its body's bytes out of o.MaxBodyBytesInFlight, else it is answered 503
// with Retry-After and RATE_LIMITED at once, before its body is read. Put
// it around everything that spends CPU or memory on a request
// (authentication included); never around /healthz or /metrics. CORS
// preflights, which run nothing, pass.
func Shed(o ShedOptions) func(http.Handler) http.Handler {
	slots := semaphore.NewWeighted(int64(o.MaxInFlight))
	bodies := semaphore.NewWeighted(o.MaxBodyBytesInFlight)
	a := admission{log: orDiscard(o.Log), cors: newCORS(o.CORSOrigins, nil)}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions {
				next.ServeHTTP(w, r)
				return
			}
			if !acquire(r.Context(), slots, 1, o.QueueWait) {
				a.refuse(w, r, busy(msgBusy))
				return
			}
			defer slots.Release(1)
			if n := bodyWeight(r, o.MaxBodyBytes); n > 0 {
				if !acquire(r.Context(), bodies, n, o.QueueWait) {
					a.refuse(w, r, busy(msgBodiesBusy))
					return
				}
				defer bodies.Release(n)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// acquire takes n of s, waiting at most wait when they are not free now
// (a request whose goroutine starts late on a busy machine still gets free
// capacity).
func acquire(ctx context.Context, s *semaphore.Weighted, n int64, wait time.Duration) bool {
	if s.TryAcquire(n) {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return s.Acquire(ctx, n) == nil
}

// bodyWeight is the body bytes r holds: its declared length, or limit when
// it has a body of unknown length; nothing for a body over limit (refused
// unread) or no body.
func bodyWeight(r *http.Request, limit int64) int64 {
	switch {
	case r.Body == nil || r.Body == http.NoBody || r.ContentLength > limit:
		return 0
	case r.ContentLength < 0:
		return limit
	}
	return r.ContentLength
}

func busy(msg string) *refusal {
	e := coded(msg, CodeRateLimited)
	e.Extensions["retryAfter"] = shedRetryAfter
	return &refusal{status: http.StatusServiceUnavailable, retryAfter: shedRetryAfter, errs: []*gqlerror.Error{e}}
}

// CallerRateOptions bounds the requests of each caller.
type CallerRateOptions struct {
	// PerMinute is the requests one caller may send a minute, in bursts of
	// up to a tenth of that; zero or less turns the limit off.
	PerMinute int
	// Caller names the caller of a request (its authenticated subject).
	Caller func(*http.Request) string
	// MaxCallers bounds the callers remembered, the least recently seen
	// forgotten first (DefaultMaxCallers when zero).
	MaxCallers int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// CORSOrigins are the browser origins that may read a refusal (as
	// Options.CORSOrigins).
	CORSOrigins []string
	// Log receives one debug line per refused request. Nil discards.
	Log *slog.Logger
}

// DefaultMaxCallers is CallerRateOptions.MaxCallers' default.
const DefaultMaxCallers = 10_000

// CallerRate returns the middleware that admits at most o.PerMinute
// requests a minute from each caller, charged on arrival: before the body
// is read, parsed or validated, so that requests the caller's budget of
// upstream calls would refuse only after validation (graph/quota) cannot
// spend the CPU of validation at will. A request over the rate is answered
// 429 with Retry-After and RATE_LIMITED. It must run after authentication.
// CORS preflights, which run nothing and name no caller, pass.
func CallerRate(o CallerRateOptions) func(http.Handler) http.Handler {
	if o.PerMinute <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	if o.MaxCallers <= 0 {
		o.MaxCallers = DefaultMaxCallers
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := admission{log: orDiscard(o.Log), cors: newCORS(o.CORSOrigins, nil)}
	buckets, _ := lru.New[string, *rate.Limiter](o.MaxCallers) // only fails for a size <= 0
	bucket := func(caller string) *rate.Limiter {
		if b, ok := buckets.Get(caller); ok {
			return b
		}
		b := rate.NewLimiter(rate.Limit(float64(o.PerMinute)/60), max(1, o.PerMinute/10))
		if prev, ok, _ := buckets.PeekOrAdd(caller, b); ok {
			return prev
		}
		return b
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions {
				next.ServeHTTP(w, r)
				return
			}
			now := o.Now()
			res := bucket(o.Caller(r)).ReserveN(now, 1)
			if wait := res.DelayFrom(now); wait > 0 {
				res.CancelAt(now)
				secs := int(math.Ceil(wait.Seconds()))
				e := coded("this caller sends more than "+strconv.Itoa(o.PerMinute)+" requests a minute; retry in "+
					strconv.Itoa(secs)+" s", CodeRateLimited)
				e.Extensions["retryAfter"] = secs
				a.refuse(w, r, &refusal{status: http.StatusTooManyRequests, retryAfter: secs, errs: []*gqlerror.Error{e}})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// admission answers the requests an admission limit refused.
type admission struct {
	log  *slog.Logger
	cors cors
}

// refuse answers r with ref, readable (Retry-After included) by the allowed
// browser origins.
func (a admission) refuse(w http.ResponseWriter, r *http.Request, ref *refusal) {
	a.cors.allow(w, r) // exposes Retry-After among origins.ExposeHeaders
	refuse(a.log, w, r, negotiate(r.Header.Get("Accept")), ref)
}

// orDiscard is log, or a logger that discards when log is nil.
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return log
}
