package upstream

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Defaults of ResilienceOptions (design/hardening.md and the upstream
// references; docs/limits.md says why).
const (
	// DefaultMaxRetries is how many times a read is retried.
	DefaultMaxRetries = 2
	// DefaultBackoffBase is the first retry's backoff; each retry doubles it.
	DefaultBackoffBase = 200 * time.Millisecond
	// DefaultBackoffMax caps the backoff.
	DefaultBackoffMax = 2 * time.Second
	// DefaultBreakerFailures is how many consecutive failed calls open the
	// circuit breaker.
	DefaultBreakerFailures = 10
	// DefaultBreakerOpenTimeout is how long an open breaker fails fast
	// before it lets one probe through.
	DefaultBreakerOpenTimeout = 10 * time.Second
	// DefaultMaxConcurrency bounds the calls in flight to one upstream.
	DefaultMaxConcurrency = 32
	// DefaultGenesysRatePerMinute is the documented client-credentials token
	// budget (token.rate.per.minute).
	DefaultGenesysRatePerMinute = 300
	// DefaultUsergroupsRatePerMinute is a chosen budget: the Usergroup API
	// documents none.
	DefaultUsergroupsRatePerMinute = 600
)

// maxUnboundedWait caps a wait (Retry-After, backoff, rate limiter) when
// the request's context has no deadline: the default operation deadline.
const maxUnboundedWait = 30 * time.Second

// ResilienceOptions tunes NewResilience. A zero field switches its feature
// off; DefaultResilienceOptions gives the defaults.
type ResilienceOptions struct {
	// MaxRetries is how many times a GET or HEAD is retried after a
	// transport failure or a 429, 500, 502, 503 or 504 answer.
	MaxRetries int
	// BackoffBase and BackoffMax shape the wait before retry n (from 0):
	// a random duration in [d/2, d] with d = min(BackoffMax, BackoffBase<<n),
	// unless the answer carried a Retry-After.
	BackoffBase, BackoffMax time.Duration
	// BreakerFailures is how many consecutive failed calls (5xx answers,
	// transport failures) open the circuit breaker.
	BreakerFailures int
	// BreakerOpenTimeout is how long the open breaker fails fast before it
	// lets one probe call through.
	BreakerOpenTimeout time.Duration
	// RatePerMinute is the call budget per upstream credential: at most this
	// many calls in any 60-second window.
	RatePerMinute int
	// MaxReadWait is the longest a read waits for the rate limiter (0: as
	// long as its deadline allows): a read the budget cannot let through
	// sooner is refused at once, so that reads queued for a spent budget
	// do not hold the gateway's request slots while cached answers could
	// be served. Writes, and the reads of a mutation, wait up to their
	// deadline.
	MaxReadWait time.Duration
	// MaxConcurrency bounds the calls in flight at once.
	MaxConcurrency int
	// SharedRate, when set, holds the rate limiter's buckets for every
	// replica of the gateway (REDIS_URL), so that one credential's budget
	// is one budget however many replicas spend it. While it fails, each
	// replica counts in its own buckets.
	SharedRate SharedLimiter
	// Observer, when set, is told of retries, rate-limiter waits and
	// refusals, and breaker state changes (metrics).
	Observer ResilienceObserver
}

// ResilienceObserver is told what a Resilience does, for metrics. Its
// methods are called on the goroutine making the call (BreakerChanged under
// the breaker's lock): they must be quick, must not call back into the
// Resilience, and must be safe for concurrent use.
type ResilienceObserver interface {
	// Retried is called before a read is sent again; reason is the status
	// code of the answer that caused it (e.g. "503") or "transport".
	Retried(upstreamName, reason string)
	// RateLimitWaited is called when the rate limiter held a call back for
	// d (> 0) before letting it through.
	RateLimitWaited(upstreamName string, d time.Duration)
	// RateLimitRejected is called when the rate limiter refuses a call
	// whose wait does not fit its deadline (no call is made).
	RateLimitRejected(upstreamName string)
	// BreakerChanged is called when the circuit breaker goes from one state
	// to another ("closed", "half-open", "open").
	BreakerChanged(upstreamName, from, to string)
}

// nopObserver is the ResilienceObserver of a Resilience given none.
type nopObserver struct{}

func (nopObserver) Retried(string, string)                {}
func (nopObserver) RateLimitWaited(string, time.Duration) {}
func (nopObserver) RateLimitRejected(string)              {}
func (nopObserver) BreakerChanged(string, string, string) {}

// DefaultResilienceOptions returns the defaults for the named upstream
// (Genesys or Usergroups; they differ only in RatePerMinute).
func DefaultResilienceOptions(upstreamName string) ResilienceOptions {
	o := ResilienceOptions{
		MaxRetries:         DefaultMaxRetries,
		BackoffBase:        DefaultBackoffBase,
		BackoffMax:         DefaultBackoffMax,
		BreakerFailures:    DefaultBreakerFailures,
		BreakerOpenTimeout: DefaultBreakerOpenTimeout,
		RatePerMinute:      DefaultGenesysRatePerMinute,
		MaxConcurrency:     DefaultMaxConcurrency,
	}
	if upstreamName == Usergroups {
		o.RatePerMinute = DefaultUsergroupsRatePerMinute
	}
	return o
}

// Resilience is the protection of one upstream: retries of reads with
// backoff and a retry budget, a circuit breaker, a rate limiter per
// credential and a bound on concurrent calls. Give it to NewHTTPClient
// through ClientOptions.Resilience; it is safe for concurrent use.
//
// A call goes through, in order: its operation's cap of calls (reached: a
// *CallLimitError, no call made; see Calls.Limit), the breaker (open: a
// *TransportError with Kind "circuit open", no call made), the rate limiter (a wait that does not
// fit the context's deadline: a *Error with Status 429 and RetryAfter,
// Code LocalRateLimitCode, no call made), the concurrency bound (waiting
// respects the context) and then the attempt, bounded by the client's
// per-attempt timeout. Only GET and HEAD are ever sent twice.
type Resilience struct {
	name    string
	opts    ResilienceOptions
	breaker *breaker
	limiter *limiter
	budget  *retryBudget
	slots   chan struct{}
	obs     ResilienceObserver
}

// NewResilience returns the protection of the upstream called upstreamName
// (the name its errors carry).
func NewResilience(upstreamName string, o ResilienceOptions) *Resilience {
	obs := o.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	r := &Resilience{
		name: upstreamName,
		opts: o,
		breaker: newBreaker(upstreamName, o.BreakerFailures, o.BreakerOpenTimeout, func(from, to string) {
			obs.BreakerChanged(upstreamName, from, to)
		}),
		limiter: newLimiter(upstreamName, o.RatePerMinute, o.SharedRate),
		budget:  newRetryBudget(),
		obs:     obs,
	}
	if o.MaxConcurrency > 0 {
		r.slots = make(chan struct{}, o.MaxConcurrency)
	}
	return r
}

// BreakerState returns the circuit breaker's state: "closed", "half-open",
// "open", or "disabled" when BreakerFailures is zero.
func (r *Resilience) BreakerState() string { return r.breaker.state() }

// InFlight returns how many calls hold a concurrency slot (answers whose
// body is not closed yet included); always zero without MaxConcurrency.
func (r *Resilience) InFlight() int { return len(r.slots) }

// transport returns next wrapped with the protection; each attempt is
// bounded by attemptTimeout, from sending to closing the answer's body.
func (r *Resilience) transport(next http.RoundTripper, attemptTimeout time.Duration) http.RoundTripper {
	return &resilientTransport{r: r, next: next, timeout: attemptTimeout}
}

type resilientTransport struct {
	r       *Resilience
	next    http.RoundTripper
	timeout time.Duration
}

// RoundTrip implements http.RoundTripper.
func (t *resilientTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	maxRetries := 0
	if repeatable(req) {
		maxRetries = t.r.opts.MaxRetries
	}
	for n := 0; ; n++ {
		resp, err := t.attempt(req, n)
		if n >= maxRetries {
			return resp, err
		}
		wait, ok := t.r.retryWait(req, resp, err, n)
		if !ok {
			return resp, err
		}
		t.r.obs.Retried(t.r.name, retryReason(resp))
		discard(resp)
		if err := Sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// retryReason names what a retry answers: the status code, or "transport"
// when there was no answer.
func retryReason(resp *http.Response) string {
	if resp == nil {
		return "transport"
	}
	return strconv.Itoa(resp.StatusCode)
}

// repeatable reports whether req may be sent more than once: a GET or HEAD
// whose body, if any, can be rewound.
func repeatable(req *http.Request) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// attempt sends req once (the n-th time, from 0) through the breaker, the
// rate limiter and the concurrency bound.
func (t *resilientTransport) attempt(req *http.Request, n int) (*http.Response, error) {
	body := req.Body
	if n > 0 && body != nil && body != http.NoBody {
		var err error
		if body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	done, err := t.r.admit(req)
	if err != nil {
		if n > 0 && body != nil {
			_ = body.Close()
		}
		return nil, err
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	areq := req.WithContext(ctx)
	areq.Body = body
	resp, err := t.next.RoundTrip(areq)
	done(resp, err)
	if err != nil {
		cancel()
		t.r.release()
		return nil, err
	}
	resp.Body = &attemptBody{ReadCloser: resp.Body, end: func() { cancel(); t.r.release() }}
	return resp, nil
}

// admit passes req through its operation's cap, the breaker, the rate
// limiter and the concurrency bound. done reports the attempt's outcome; the caller then
// calls release once the attempt is over (error or body closed).
func (r *Resilience) admit(req *http.Request) (done func(*http.Response, error), err error) {
	calls := CallsFrom(req.Context())
	if err := calls.start(r.name); err != nil {
		return nil, err // the operation's cap: nothing else is consulted
	}
	breakerDone, err := r.breaker.allow()
	if err != nil {
		calls.unstart()
		return nil, &TransportError{Upstream: r.name, Method: req.Method, Path: req.URL.Path, Kind: "circuit open"}
	}
	fail := func(err error) (func(*http.Response, error), error) {
		calls.unstart()
		breakerDone(errExcluded)
		return nil, err
	}
	b := r.limiter.bucket(req.Header.Get("Authorization"))
	// A mutation's reads (version, read-back) may spend the write reserve.
	write := freshReads(req.Context()) ||
		req.Method != http.MethodGet && req.Method != http.MethodHead && !readPOST(req.Context())
	waitCtx := req.Context()
	if b != nil && !write && r.opts.MaxReadWait > 0 { // without a limiter nothing waits
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(waitCtx, r.opts.MaxReadWait)
		defer cancel()
	}
	waited, err := b.wait(waitCtx, write, preferStale(req.Context()))
	if waited > 0 {
		r.obs.RateLimitWaited(r.name, waited)
	}
	if err != nil && req.Context().Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		err = &waitError{retryAfter: time.Second} // the read's own bound ended a wait the limiter expected to fit
	}
	if err != nil {
		var wait *waitError
		if errors.As(err, &wait) {
			r.obs.RateLimitRejected(r.name)
			return fail(r.localRateLimited(req, wait.retryAfter))
		}
		return fail(err)
	}
	if err := r.acquire(req.Context()); err != nil {
		return fail(err)
	}
	return func(resp *http.Response, err error) {
		breakerDone(r.outcome(req, resp, err))
		if resp != nil {
			b.observe(resp, time.Now())
			if !retryableStatus(resp.StatusCode) {
				r.budget.deposit()
			}
		}
	}, nil
}

// outcome is what the breaker counts for one attempt: nil (success) for
// any answer below 500, errExcluded when the caller went away, errFailed
// otherwise.
func (r *Resilience) outcome(req *http.Request, resp *http.Response, err error) error {
	switch {
	case err != nil && req.Context().Err() != nil:
		return errExcluded
	case err != nil, resp.StatusCode >= http.StatusInternalServerError:
		return errFailed
	}
	return nil
}

// LocalRateLimitCode is the Code of the *Error a call gets when the
// gateway's own rate limiter refuses it (no call was made).
const LocalRateLimitCode = "gateway.rate.limited"

// localRateLimited is the answer of a call the gateway's own limiter
// refused: it maps to RATE_LIMITED with retryAfter, like an upstream 429.
func (r *Resilience) localRateLimited(req *http.Request, retryAfter time.Duration) *Error {
	return &Error{Upstream: r.name, Method: req.Method, Path: req.URL.Path, Status: http.StatusTooManyRequests,
		Code: LocalRateLimitCode, Message: "the gateway's own rate limiter holds calls to this upstream back (no call made)",
		RetryAfter: retryAfter}
}

// acquire takes a concurrency slot, waiting at most until ctx ends.
func (r *Resilience) acquire(ctx context.Context) error {
	if r.slots == nil {
		return nil
	}
	select {
	case r.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives a concurrency slot back.
func (r *Resilience) release() {
	if r.slots != nil {
		<-r.slots
	}
}

// retryWait decides whether the n-th attempt's result (resp or err) is
// retried, and after which wait: a retryable answer or transport failure,
// a wait that fits the deadline, and a retry left in the budget.
func (r *Resilience) retryWait(req *http.Request, resp *http.Response, err error, n int) (time.Duration, bool) {
	ctx := req.Context()
	if ctx.Err() != nil || preferStale(ctx) {
		return 0, false // gone, or a stale answer serves better than a wait
	}
	wait := r.backoff(n)
	switch {
	case err != nil:
		var te *TransportError
		var ue *Error
		var le *CallLimitError
		if errors.As(err, &te) || errors.As(err, &ue) || errors.As(err, &le) {
			return 0, false // the breaker, the limiter or the cap said no: no call was made
		}
	case !retryableStatus(resp.StatusCode):
		return 0, false
	default:
		if ra := RetryAfter(resp.Header, time.Now()); ra > 0 {
			wait = ra
		}
	}
	if !fits(ctx, wait) || !r.budget.withdraw() {
		return 0, false
	}
	return wait, true
}

// backoff is the capped exponential backoff with jitter before retry n.
func (r *Resilience) backoff(n int) time.Duration {
	base := r.opts.BackoffBase
	if base <= 0 {
		return 0
	}
	d := base << n
	if d > r.opts.BackoffMax || d < base { // d < base: shifted out of range
		d = max(r.opts.BackoffMax, 0)
	}
	return d/2 + rand.N(d/2+1)
}

// retryableStatus reports the statuses a read is retried on (the reference
// retries 500 for GETs only; only GETs and HEADs are retried at all).
func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// fits reports whether waiting d leaves the context's deadline ahead;
// without a deadline, waits up to maxUnboundedWait fit.
func fits(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return d <= maxUnboundedWait
	}
	return d < time.Until(deadline)
}

// Sleep waits d, or less when ctx ends first (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxDrain is how much of a discarded answer is read so that its
// connection can be reused.
const maxDrain = 4 << 10

// discard drains a little of resp's body and closes it.
func discard(resp *http.Response) {
	if resp == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	_ = resp.Body.Close()
}

// attemptBody ends its attempt (timeout context, concurrency slot) when
// the body is closed.
type attemptBody struct {
	io.ReadCloser
	once sync.Once
	end  func()
}

// Close implements io.Closer.
func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.end)
	return err
}
