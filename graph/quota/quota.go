// Package quota bounds the upstream calls of each operation and gives each
// caller of the gateway its own budget of them, so that one noisy caller
// cannot spend the upstream budget the others need.
//
// Before an operation runs (after validation and the complexity limit),
// the Extension estimates the upstream calls it will cost (Estimate: one
// per upstream-backed field, times the items of the lists above it, with
// aliases counted separately and batched lookups counted per batch). An
// operation estimated above MaxCalls, or above the caller's whole budget of
// a minute, can never run: it is refused with QUERY_TOO_COMPLEX and the
// estimate and the bound in extensions (upstreamCalls, maxUpstreamCalls,
// limit). Otherwise the estimate is taken from the caller's token bucket
// (auth.CallerFrom(ctx).Subject; PerMinute calls a minute, bursts up to a
// minute's worth). An operation the bucket cannot pay for now runs nothing
// and is answered RATE_LIMITED with extensions.retryAfter; behind
// Middleware, that answer has HTTP status 429 and a Retry-After header.
//
// While the operation runs, the bound is a backstop: once the operation
// started that many upstream calls, further ones fail with QUERY_TOO_COMPLEX
// and are not made (upstream.Calls.Limit), so an estimate that was too low
// still cannot exceed it. After it ran, Middleware charges the caller for
// the calls it made beyond its estimate.
//
// A caller's budget is at most MaxSharePercent of the smallest per-minute
// budget of the upstreams the callers share (SharedPerMinute), so that a
// caller that spends its whole budget leaves the rest to the others.
package quota

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	"github.com/groupdir/gateway/auth"
	"github.com/groupdir/gateway/upstream"
)

// Codes of a refused operation (extensions.code).
const (
	// CodeRateLimited refuses an operation the caller's budget cannot pay
	// for now.
	CodeRateLimited = "RATE_LIMITED"
	// CodeQueryTooComplex refuses an operation that may make more upstream
	// calls than any request (MaxCalls) or than the caller's whole budget
	// (PerMinute) allows; it is also the code of a call refused by the
	// backstop.
	CodeQueryTooComplex = "QUERY_TOO_COMPLEX"
)

// Names of the bound an operation was refused by (extensions.limit).
const (
	// LimitUpstreamCalls is Options.MaxCalls (GATEWAY_MAX_UPSTREAM_CALLS).
	LimitUpstreamCalls = "upstreamCalls"
	// LimitCallerBudget is the caller's budget of a minute
	// (AUTH_RATE_LIMIT_PER_MINUTE, lowered to its share).
	LimitCallerBudget = "callerBudget"
)

// DefaultMaxCalls is the default bound on one operation's upstream calls.
// The largest legitimate shapes fit with room: a page of 25 groups with
// their members (26 calls, the benchmark's W3), a full page of 100 groups
// with one upstream field each (101). It equals the default caller budget,
// so that a caller with a full budget can run any operation the bound
// admits, and at a Genesys token's 300 calls a minute (a burst of 50, then
// 250 a minute) 120 calls take about 17 s, inside the 30 s operation
// deadline, leaving more than half of the minute to the other callers.
const DefaultMaxCalls = 120

// DefaultMaxSharePercent is the largest share, in percent, of the shared
// upstream budget one caller's budget may be: two fifths, so that a caller
// that spends its whole budget leaves more than half to the others.
const DefaultMaxSharePercent = 40

// DefaultMaxCallers bounds the callers whose buckets are kept; the least
// recently seen are forgotten first (a forgotten caller starts again with a
// full bucket, as it would have after a minute of silence).
const DefaultMaxCallers = 10_000

// Options configures New.
type Options struct {
	// PerMinute is the upstream calls one caller may cause per minute; the
	// bucket holds up to a minute's worth. Zero or less turns the per-caller
	// limit off.
	PerMinute int
	// SharedPerMinute is the smallest per-minute budget of the upstreams
	// every caller's calls share (the gateway's own rate limits); zero or
	// less: none. PerMinute is lowered to MaxSharePercent of it.
	SharedPerMinute int
	// MaxSharePercent is the largest share of SharedPerMinute, in percent,
	// one caller's PerMinute may be (DefaultMaxSharePercent).
	MaxSharePercent int
	// MaxCalls bounds the upstream calls of one operation: its estimate
	// before it runs, the calls it starts while it runs. Zero or less turns
	// the bound off.
	MaxCalls int
	// MaxCallers bounds the buckets kept (DefaultMaxCallers).
	MaxCallers int
	// ListSizes are the assumed item counts of lists that take no size
	// argument, by "Type.field" (as graph/guard's); others count
	// DefaultListSize.
	ListSizes map[string]int
	// Now is the clock (time.Now).
	Now func() time.Time
	// Shared, when set, holds the callers' buckets for every replica
	// (REDIS_URL), so that a caller's budget is one budget however many
	// replicas serve it. While it fails, each replica counts in its own
	// buckets.
	Shared SharedLimiter
}

// SharedLimiter is a store of token buckets shared by the replicas, each
// of perMinute calls a minute with bursts of up to burst.
type SharedLimiter interface {
	// Take takes n calls from key's bucket and returns 0, or takes nothing
	// and returns how long to wait when the bucket cannot pay now.
	Take(ctx context.Context, key string, perMinute, burst, n int) (time.Duration, error)
	// Charge takes up to n calls already made from key's bucket.
	Charge(ctx context.Context, key string, perMinute, burst, n int) error
}

// Quota bounds each operation's upstream calls and holds one token bucket
// per caller. A nil *Quota limits nothing.
type Quota struct {
	// perMinute is each caller's budget (0: no per-caller limit).
	perMinute int
	// maxCalls bounds one operation's calls (0: no bound).
	maxCalls  int
	listSizes map[string]int
	now       func() time.Time
	buckets   *lru.Cache[string, *rate.Limiter]
	shared    SharedLimiter
}

// New returns the quota, or nil (no limit) when neither o.PerMinute nor
// o.MaxCalls is positive.
func New(o Options) *Quota {
	perMinute := max(o.PerMinute, 0)
	if perMinute > 0 && o.SharedPerMinute > 0 {
		share := o.MaxSharePercent
		if share <= 0 {
			share = DefaultMaxSharePercent
		}
		perMinute = min(perMinute, max(o.SharedPerMinute*share/100, 1))
	}
	if perMinute == 0 && o.MaxCalls <= 0 {
		return nil
	}
	if o.MaxCallers <= 0 {
		o.MaxCallers = DefaultMaxCallers
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	buckets, _ := lru.New[string, *rate.Limiter](o.MaxCallers) // only fails for a size <= 0
	return &Quota{perMinute: perMinute, maxCalls: max(o.MaxCalls, 0), listSizes: o.ListSizes, now: o.Now, buckets: buckets,
		shared: o.Shared}
}

// PerMinute returns each caller's budget of upstream calls a minute, after
// its share of the shared budget was applied; 0 when callers are not
// limited.
func (q *Quota) PerMinute() int {
	if q == nil {
		return 0
	}
	return q.perMinute
}

// bound returns the most upstream calls one operation may make and the
// name of that bound (0 and "": none): the smaller of MaxCalls and the
// caller's whole budget.
func (q *Quota) bound() (int, string) {
	if q.perMinute > 0 && (q.maxCalls == 0 || q.perMinute < q.maxCalls) {
		return q.perMinute, LimitCallerBudget
	}
	return q.maxCalls, LimitUpstreamCalls
}

// bucket returns the subject's bucket, creating a full one for a new
// subject.
func (q *Quota) bucket(subject string) *rate.Limiter {
	if b, ok := q.buckets.Get(subject); ok {
		return b
	}
	b := rate.NewLimiter(rate.Limit(float64(q.perMinute)/60), q.perMinute)
	if prev, ok, _ := q.buckets.PeekOrAdd(subject, b); ok {
		return prev
	}
	return b
}

// sharedKey is the subject's bucket in the shared store.
func sharedKey(subject string) string { return "quota:" + subject }

// take takes n calls, at most a minute's budget (bound refuses more), from
// the subject's bucket. When the bucket cannot pay now it takes nothing and
// returns how long to wait.
func (q *Quota) take(ctx context.Context, subject string, n int) time.Duration {
	wait, _ := q.reserve(ctx, subject, n)
	return wait
}

// reserve is take, which also returns what was taken from the local bucket
// (nil: nothing, or the shared bucket paid), so that calls not made can be
// paid back (state.settle). The shared bucket cannot pay back.
func (q *Quota) reserve(ctx context.Context, subject string, n int) (time.Duration, *rate.Reservation) {
	if n <= 0 || q.perMinute == 0 {
		return 0, nil
	}
	if q.shared != nil {
		if wait, err := q.shared.Take(ctx, sharedKey(subject), q.perMinute, q.perMinute, n); err == nil {
			return wait, nil
		}
	}
	now := q.now()
	res := q.bucket(subject).ReserveN(now, n)
	wait := res.DelayFrom(now)
	if wait > 0 {
		res.CancelAt(now)
		return wait, nil
	}
	return 0, res
}

// charge takes n calls already made from the subject's bucket, even when
// that leaves it in debt: the caller then waits until it is paid back.
func (q *Quota) charge(ctx context.Context, subject string, n int) {
	if n <= 0 || q.perMinute == 0 {
		return
	}
	if q.shared != nil && q.shared.Charge(ctx, sharedKey(subject), q.perMinute, q.perMinute, min(n, q.perMinute)) == nil {
		return
	}
	q.bucket(subject).ReserveN(q.now(), min(n, q.perMinute))
}

// Extension returns the gqlgen extension that bounds each operation and
// charges it to its caller before it runs. Add it after the complexity
// limit, so that a refused document costs nothing. A nil *Quota gives an
// extension that does nothing.
func (q *Quota) Extension() graphql.HandlerExtension { return extension{q: q} }

type extension struct{ q *Quota }

var (
	_ graphql.HandlerExtension        = extension{}
	_ graphql.OperationContextMutator = extension{}
)

// ExtensionName names the extension in gqlgen's stats.
func (extension) ExtensionName() string { return "CallerQuota" }

// Validate accepts every schema.
func (extension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses an operation whose estimated upstream
// calls exceed its bound or what its caller has left, and otherwise takes
// them from the caller's bucket and caps the operation's calls.
func (e extension) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if e.q == nil || oc.Operation == nil {
		return nil
	}
	estimate := Estimate(oc.Operation, oc.Variables, e.q.listSizes)
	bound, limit := e.q.bound()
	if bound > 0 && estimate > bound {
		return tooComplex(estimate, bound, limit)
	}
	var subject string
	if c := auth.CallerFrom(ctx); c != nil {
		subject = c.Subject
	}
	st, _ := ctx.Value(stateKey{}).(*state)
	wait, paid := e.q.reserve(ctx, subject, estimate)
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		if st != nil {
			st.retryAfter = secs
		}
		return &gqlerror.Error{
			Message:    "this caller's budget of upstream calls is spent for now; retry in " + strconv.Itoa(secs) + " s",
			Extensions: map[string]any{"code": CodeRateLimited, "retryAfter": secs},
		}
	}
	calls := upstream.CallsFrom(ctx)
	if calls != nil {
		calls.Limit(bound)
	}
	if st != nil && calls != nil && e.q.perMinute > 0 {
		st.q, st.subject, st.calls, st.charged = e.q, subject, calls, calls.Total()+int64(estimate)
		st.estimate, st.paid = estimate, paid
	}
	return nil
}

// tooComplex is the refusal of an operation estimated at estimate upstream
// calls, over the bound named limit.
func tooComplex(estimate, bound int, limit string) *gqlerror.Error {
	over := "the " + strconv.Itoa(bound) + " one operation may make"
	if limit == LimitCallerBudget {
		over = "this caller's whole budget of " + strconv.Itoa(bound) + " a minute, so it can never run"
	}
	return &gqlerror.Error{
		Message: "this operation may make up to " + strconv.Itoa(estimate) + " upstream calls, more than " + over +
			"; ask for fewer or smaller pages",
		Extensions: map[string]any{"code": CodeQueryTooComplex, "limit": limit, "upstreamCalls": estimate, "maxUpstreamCalls": bound},
	}
}

// state is what the extension tells Middleware about the request: that it
// refused it and for how long (seconds), or whom to charge for calls
// beyond its estimate.
type state struct {
	retryAfter int
	q          *Quota
	subject    string
	calls      *upstream.Calls
	// charged is the request's call count up to which its caller paid:
	// the calls made before the operation ran plus its estimate.
	charged int64
	// estimate is what the caller paid before the operation ran, paid what
	// it was taken as.
	estimate int
	paid     *rate.Reservation
}

// settle charges the caller for the calls made beyond what it paid for,
// and pays back the calls it paid for but did not make (answers from the
// read cache or from a read in flight for another request cost no call):
// the estimate is given back (rate.Reservation.CancelAt) and the calls
// made are taken instead. A shared bucket (REDIS_URL) is not paid back.
func (s *state) settle(ctx context.Context) {
	if s.q == nil {
		return
	}
	over := int(s.calls.Total() - s.charged)
	if over < 0 && s.paid != nil {
		s.paid.CancelAt(s.q.now())
		s.q.charge(ctx, s.subject, s.estimate+over)
		return
	}
	s.q.charge(ctx, s.subject, over)
}

type stateKey struct{}

// Middleware gives a request the Extension refused for now the HTTP status
// 429 and a Retry-After header, and charges the caller of a request that
// ran for the upstream calls it made beyond its estimate. It must wrap the
// handler that runs the operation.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &state{}
		ctx := context.WithValue(r.Context(), stateKey{}, st)
		next.ServeHTTP(&statusWriter{ResponseWriter: w, st: st}, r.WithContext(ctx))
		st.settle(context.WithoutCancel(ctx))
	})
}

// statusWriter turns the status of a refused request into 429.
type statusWriter struct {
	http.ResponseWriter
	st          *state
	wroteHeader bool
}

// WriteHeader sends the status, or 429 with Retry-After for a refusal.
func (w *statusWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if w.st.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(w.st.retryAfter))
		status = http.StatusTooManyRequests
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write sends the status first when it was not sent yet.
func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
