// Package quota gives each caller of the gateway its own budget of upstream
// calls, so that one noisy caller cannot spend the upstream budget the
// others need.
//
// Before an operation runs (after validation and the complexity limit),
// the Extension estimates the upstream calls it will cost (Estimate: one
// per upstream-backed field, times the items of the lists above it, with
// aliases counted separately and batched lookups counted per batch) and
// takes them from the caller's token bucket (auth.CallerFrom(ctx).Subject;
// PerMinute calls a minute, bursts up to a minute's worth). An operation
// the bucket cannot pay for now runs nothing and is answered RATE_LIMITED
// with extensions.retryAfter; behind Middleware, that answer has HTTP status
// 429 and a Retry-After header. An operation that costs more than a whole
// minute's budget is charged the whole budget, so it can run once the
// bucket is full.
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
)

// CodeRateLimited is the extensions.code of a refused operation.
const CodeRateLimited = "RATE_LIMITED"

// DefaultMaxCallers bounds the callers whose buckets are kept; the least
// recently seen are forgotten first (a forgotten caller starts again with a
// full bucket, as it would have after a minute of silence).
const DefaultMaxCallers = 10_000

// Options configures New.
type Options struct {
	// PerMinute is the upstream calls one caller may cause per minute; the
	// bucket holds up to a minute's worth. Zero or less turns the limit off.
	PerMinute int
	// MaxCallers bounds the buckets kept (DefaultMaxCallers).
	MaxCallers int
	// ListSizes are the assumed item counts of lists that take no size
	// argument, by "Type.field" (as graph/guard's); others count
	// DefaultListSize.
	ListSizes map[string]int
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Quota holds one token bucket per caller. A nil *Quota limits nothing.
type Quota struct {
	perMinute int
	listSizes map[string]int
	now       func() time.Time
	buckets   *lru.Cache[string, *rate.Limiter]
}

// New returns the quota, or nil (no limit) when o.PerMinute <= 0.
func New(o Options) *Quota {
	if o.PerMinute <= 0 {
		return nil
	}
	if o.MaxCallers <= 0 {
		o.MaxCallers = DefaultMaxCallers
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	buckets, _ := lru.New[string, *rate.Limiter](o.MaxCallers) // only fails for a size <= 0
	return &Quota{perMinute: o.PerMinute, listSizes: o.ListSizes, now: o.Now, buckets: buckets}
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

// take takes n calls from the subject's bucket. When the bucket cannot pay
// now it takes nothing and returns how long to wait.
func (q *Quota) take(subject string, n int) time.Duration {
	n = min(n, q.perMinute)
	if n <= 0 {
		return 0
	}
	now := q.now()
	res := q.bucket(subject).ReserveN(now, n)
	wait := res.DelayFrom(now)
	if wait > 0 {
		res.CancelAt(now)
	}
	return wait
}

// Extension returns the gqlgen extension that charges each operation to
// its caller before it runs. Add it after the complexity limit, so that a
// refused document costs nothing. A nil *Quota gives an extension that
// charges nothing.
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

// MutateOperationContext takes the operation's estimated upstream calls
// from its caller's bucket, or refuses it.
func (e extension) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if e.q == nil || oc.Operation == nil {
		return nil
	}
	var subject string
	if c := auth.CallerFrom(ctx); c != nil {
		subject = c.Subject
	}
	wait := e.q.take(subject, Estimate(oc.Operation, oc.Variables, e.q.listSizes))
	if wait <= 0 {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	if s, ok := ctx.Value(refusalKey{}).(*refusal); ok {
		s.retryAfter = secs
	}
	return &gqlerror.Error{
		Message:    "this caller's budget of upstream calls is spent for now; retry in " + strconv.Itoa(secs) + " s",
		Extensions: map[string]any{"code": CodeRateLimited, "retryAfter": secs},
	}
}

// refusal is where the extension tells Middleware that it refused the
// request, and for how long (seconds).
type refusal struct{ retryAfter int }

type refusalKey struct{}

// Middleware gives a request the Extension refused the HTTP status 429 and
// a Retry-After header. It must wrap the handler that runs the operation.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref := &refusal{}
		ctx := context.WithValue(r.Context(), refusalKey{}, ref)
		next.ServeHTTP(&statusWriter{ResponseWriter: w, ref: ref}, r.WithContext(ctx))
	})
}

// statusWriter turns the status of a refused request into 429.
type statusWriter struct {
	http.ResponseWriter
	ref         *refusal
	wroteHeader bool
}

// WriteHeader sends the status, or 429 with Retry-After for a refusal.
func (w *statusWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if w.ref.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(w.ref.retryAfter))
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
