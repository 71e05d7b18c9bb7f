package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scripted is an upstream whose n-th call (from 0) is answered by answer(n).
type scripted struct {
	*httptest.Server
	calls  atomic.Int32
	mu     sync.Mutex
	bodies []string
}

func newScripted(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *scripted {
	t.Helper()
	s := &scripted{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.calls.Add(1)) - 1
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, string(b))
		s.mu.Unlock()
		answer(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// failFirst answers status (with retryAfter when not empty) to the first
// failures calls and 200 {} afterwards.
func failFirst(failures, status int, retryAfter string) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		if n < failures {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
			return
		}
		_, _ = io.WriteString(w, "{}")
	}
}

// fastOptions are the defaults with waits short enough for tests and no
// rate limit.
func fastOptions() ResilienceOptions {
	o := DefaultResilienceOptions(Genesys)
	o.BackoffBase, o.BackoffMax = time.Millisecond, 2*time.Millisecond
	o.RatePerMinute = 0
	return o
}

// client is an HTTP client with r around the pooled transport.
func client(r *Resilience) *http.Client {
	return NewHTTPClient(ClientOptions{Timeout: 5 * time.Second, Resilience: r})
}

// send makes one call through hc; the answer's body is read and closed.
func send(t *testing.T, ctx context.Context, hc *http.Client, method, url, auth string) (int, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := Send(hc, Genesys, req)
	if err != nil {
		return 0, err
	}
	_, err = ReadBody(Genesys, resp, MaxSuccessBody)
	require.NoError(t, err)
	return resp.StatusCode, nil
}

func TestRetriesOnlyReads(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		status    int
		wantCalls int32
		want      int
	}{
		{"GET 503 twice then 200", http.MethodGet, http.StatusServiceUnavailable, 3, http.StatusOK},
		{"GET 500 twice then 200", http.MethodGet, http.StatusInternalServerError, 3, http.StatusOK},
		{"GET 502 twice then 200", http.MethodGet, http.StatusBadGateway, 3, http.StatusOK},
		{"GET 504 twice then 200", http.MethodGet, http.StatusGatewayTimeout, 3, http.StatusOK},
		{"HEAD 503 twice then 200", http.MethodHead, http.StatusServiceUnavailable, 3, http.StatusOK},
		{"GET 404 is not retried", http.MethodGet, http.StatusNotFound, 1, http.StatusNotFound},
		{"GET 501 is not retried", http.MethodGet, http.StatusNotImplemented, 1, http.StatusNotImplemented},
		{"POST 503 is not retried", http.MethodPost, http.StatusServiceUnavailable, 1, http.StatusServiceUnavailable},
		{"POST 429 is not retried", http.MethodPost, http.StatusTooManyRequests, 1, http.StatusTooManyRequests},
		{"PUT 503 is not retried", http.MethodPut, http.StatusServiceUnavailable, 1, http.StatusServiceUnavailable},
		{"DELETE 503 is not retried", http.MethodDelete, http.StatusServiceUnavailable, 1, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, failFirst(2, tt.status, ""))
			status, err := send(t, context.Background(), client(NewResilience(Genesys, fastOptions())), tt.method, srv.URL, "")
			require.NoError(t, err)
			assert.Equal(t, tt.want, status)
			assert.Equal(t, tt.wantCalls, srv.calls.Load())
		})
	}
}

func TestRetriesStopAtMaxRetries(t *testing.T) {
	srv := newScripted(t, failFirst(100, http.StatusServiceUnavailable, ""))
	o := fastOptions()
	o.MaxRetries = 1
	status, err := send(t, context.Background(), client(NewResilience(Genesys, o)), http.MethodGet, srv.URL, "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, status, "the last answer is returned as it is")
	assert.EqualValues(t, 2, srv.calls.Load())
}

func TestRetryRewindsTheBody(t *testing.T) {
	srv := newScripted(t, failFirst(1, http.StatusServiceUnavailable, ""))
	req, err := http.NewRequest(http.MethodGet, srv.URL, bytes.NewReader([]byte("the body")))
	require.NoError(t, err)
	resp, err := Send(client(NewResilience(Genesys, fastOptions())), Genesys, req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{"the body", "the body"}, srv.bodies)
}

func TestRetryAfterIsHonouredWhenItFits(t *testing.T) {
	srv := newScripted(t, failFirst(1, http.StatusTooManyRequests, "1"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	status, err := send(t, ctx, client(NewResilience(Genesys, fastOptions())), http.MethodGet, srv.URL, "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.EqualValues(t, 2, srv.calls.Load())
}

func TestRetryAfterBeyondTheDeadlineAnswersAtOnce(t *testing.T) {
	srv := newScripted(t, failFirst(100, http.StatusTooManyRequests, "60"))
	o := fastOptions()
	o.RatePerMinute = 300
	hc := client(NewResilience(Genesys, o))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	status, err := send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer t")
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, status, "no wait: the 429 comes back for the caller")
	assert.EqualValues(t, 1, srv.calls.Load())

	_, err = send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer t")
	var ue *Error
	require.ErrorAs(t, err, &ue, "the credential is paused for the Retry-After")
	assert.Equal(t, LocalRateLimitCode, ue.Code)
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.Greater(t, ue.RetryAfter, 50*time.Second)
	assert.EqualValues(t, 1, srv.calls.Load(), "no call made")
}

func TestTransportFailuresOfReadsAreRetried(t *testing.T) {
	srv := newScripted(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			panic(http.ErrAbortHandler) // the connection drops without an answer
		}
		_, _ = io.WriteString(w, "{}")
	})
	status, err := send(t, context.Background(), client(NewResilience(Genesys, fastOptions())), http.MethodGet, srv.URL, "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.EqualValues(t, 2, srv.calls.Load())
}

func TestAttemptTimeoutBoundsEachAttempt(t *testing.T) {
	srv := newScripted(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			<-r.Context().Done() // never answers; the attempt times out
			return
		}
		_, _ = io.WriteString(w, "{}")
	})
	hc := NewHTTPClient(ClientOptions{Timeout: 100 * time.Millisecond, Resilience: NewResilience(Genesys, fastOptions())})
	status, err := send(t, context.Background(), hc, http.MethodGet, srv.URL, "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "the second attempt has its own timeout")
	assert.EqualValues(t, 2, srv.calls.Load())

	o := fastOptions()
	o.MaxRetries = 0
	srv = newScripted(t, func(_ int, _ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	hc = NewHTTPClient(ClientOptions{Timeout: 100 * time.Millisecond, Resilience: NewResilience(Genesys, o)})
	_, err = send(t, context.Background(), hc, http.MethodGet, srv.URL, "")
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Timeout)
	assert.Equal(t, "timeout", te.Kind)
}

func TestBreakerOpensFailsFastAndRecovers(t *testing.T) {
	var healthy atomic.Bool
	srv := newScripted(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	o := fastOptions()
	o.MaxRetries, o.BreakerFailures, o.BreakerOpenTimeout = 0, 3, 50*time.Millisecond
	r := NewResilience(Genesys, o)
	hc := client(r)
	for range 3 {
		status, err := send(t, context.Background(), hc, http.MethodGet, srv.URL, "")
		require.NoError(t, err)
		require.Equal(t, http.StatusInternalServerError, status)
	}
	assert.Equal(t, "open", r.BreakerState())
	_, err := send(t, context.Background(), hc, http.MethodGet, srv.URL, "")
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "circuit open", te.Kind)
	assert.ErrorIs(t, err, ErrUnavailable)
	assert.EqualValues(t, 3, srv.calls.Load(), "an open breaker makes no call")

	healthy.Store(true)
	require.Eventually(t, func() bool {
		status, err := send(t, context.Background(), hc, http.MethodGet, srv.URL, "")
		return err == nil && status == http.StatusOK
	}, 5*time.Second, 10*time.Millisecond, "after the open timeout a probe goes through")
	assert.Equal(t, "closed", r.BreakerState())
}

func TestBreakerIgnoresClientErrorsAndCancellations(t *testing.T) {
	srv := newScripted(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusNotFound)
	})
	o := fastOptions()
	o.BreakerFailures = 2
	r := NewResilience(Genesys, o)
	hc := client(r)
	for range 5 {
		status, err := send(t, context.Background(), hc, http.MethodGet, srv.URL, "")
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, status)
	}
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := send(t, ctx, hc, http.MethodGet, srv.URL+"/slow", "")
		cancel()
		require.Error(t, err)
	}
	assert.Equal(t, "closed", r.BreakerState())
	assert.Equal(t, "disabled", NewResilience(Genesys, ResilienceOptions{}).BreakerState())
}

func TestRetryBudgetBoundsRetries(t *testing.T) {
	var healthy atomic.Bool
	srv := newScripted(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	o := fastOptions()
	o.BreakerFailures = 0
	hc := client(NewResilience(Genesys, o))
	const requests = 30
	calls := func(n int) int32 {
		before := srv.calls.Load()
		for range n {
			_, err := send(t, context.Background(), hc, http.MethodGet, srv.URL, "")
			require.NoError(t, err)
		}
		return srv.calls.Load() - before
	}
	assert.EqualValues(t, requests+retryBudgetMax, calls(requests), "the reserve of retries, then none")

	healthy.Store(true)
	assert.EqualValues(t, 25, calls(25), "25 successes earn 5 retries")
	healthy.Store(false)
	assert.EqualValues(t, requests+5, calls(requests))
}

func TestLimiterRefusesAWaitBeyondTheDeadline(t *testing.T) {
	srv := newScripted(t, failFirst(0, 0, ""))
	o := fastOptions()
	o.RatePerMinute = 2 // burst 1, then one call a minute
	hc := client(NewResilience(Genesys, o))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	status, err := send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer a")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)

	_, err = send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer a")
	var ue *Error
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, http.StatusTooManyRequests, ue.Status)
	assert.Equal(t, LocalRateLimitCode, ue.Code)
	assert.Contains(t, ue.Error(), "gateway's own rate limiter")
	assert.Greater(t, ue.RetryAfter, 2*time.Second)
	assert.EqualValues(t, 1, srv.calls.Load())

	status, err = send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer b")
	require.NoError(t, err, "another credential has its own bucket")
	assert.Equal(t, http.StatusOK, status)
}

func TestLimiterLeavesALowBudgetToReadsWithNothingToServe(t *testing.T) {
	b := newLimiter(Genesys, 300, nil).bucket("Bearer a") // a burst of 50, 10 kept for writes
	now := time.Now()
	require.True(t, b.lim.AllowN(now, 35))
	assert.NotZero(t, b.takeReadNow(now, true, true), "a read that has a stale answer leaves the last 20 calls")
	b.doneWaiting()
	assert.Zero(t, b.takeReadNow(now, true, false), "a read that has none takes one beyond the write reserve")
	require.True(t, b.lim.AllowN(now, 4)) // 10 left
	assert.NotZero(t, b.takeReadNow(now, true, false), "but not from the write reserve")
	b.doneWaiting()

	full := newLimiter(Genesys, 300, nil).bucket("Bearer b")
	assert.Zero(t, full.takeReadNow(now, true, true), "with the budget unspent, a kept answer is refreshed")
}

// takes records the shared buckets a call took from: key, rate, burst.
type takes struct {
	mu  sync.Mutex
	got []string
}

func (f *takes) Take(_ context.Context, key string, perMinute, burst, _ int) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, fmt.Sprintf("%s %d/%d", key[strings.LastIndex(key, ":"):], perMinute, burst))
	return 0, nil
}

func TestSharedLimiterKeepsTheReservesAsRates(t *testing.T) {
	for _, c := range []struct {
		write, stale bool
		want         []string
	}{
		{true, false, []string{":x 250/50"}},
		{false, false, []string{":reads 200/40", ":x 250/50"}},
		{false, true, []string{":refresh 150/30", ":reads 200/40", ":x 250/50"}},
	} {
		f := &takes{}
		b := newLimiter(Genesys, 300, f).bucket("x")
		b.sharedKey = "upstream:genesys:x"
		_, err := b.wait(context.Background(), c.write, c.stale)
		require.NoError(t, err)
		assert.Equal(t, c.want, f.got, "write %v, stale %v", c.write, c.stale)
	}
}

func TestLimiterKeepsNoCredential(t *testing.T) {
	l := newLimiter(Genesys, 300, nil)
	const token = "Bearer canary-token-123"
	require.NotNil(t, l.bucket(token))
	for k := range l.buckets {
		assert.NotContains(t, k, "canary")
	}
}

func TestLimiterShape(t *testing.T) {
	tests := []struct {
		perMinute, burst int
		refill           float64
	}{
		{300, 50, 250},
		{600, 50, 550},
		{60, 10, 50},
		{6, 1, 5},
		{1, 1, 1},
	}
	for _, tt := range tests {
		r, burst := shape(tt.perMinute)
		assert.Equal(t, tt.burst, burst, tt.perMinute)
		assert.InDelta(t, tt.refill/60, float64(r), 1e-9, tt.perMinute)
	}
}

// rateHeaders answers 200 with the given inin-ratelimit-* headers.
func rateHeaders(allowed, count, reset int) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set(headerRateAllowed, strconv.Itoa(allowed))
		w.Header().Set(headerRateCount, strconv.Itoa(count))
		w.Header().Set(headerRateReset, strconv.Itoa(reset))
		_, _ = io.WriteString(w, "{}")
	}
}

func TestLimiterPausesWhenTheUpstreamCountReachesItsAllowance(t *testing.T) {
	srv := newScripted(t, rateHeaders(180, 180, 30))
	o := fastOptions()
	o.RatePerMinute = 300
	hc := client(NewResilience(Genesys, o))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer a")
	require.NoError(t, err)
	_, err = send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer a")
	var ue *Error
	require.ErrorAs(t, err, &ue)
	assert.Greater(t, ue.RetryAfter, 25*time.Second, "paused until the window resets")
	assert.EqualValues(t, 1, srv.calls.Load())
}

func TestLimiterLowersItsRateToTheUpstreamAllowance(t *testing.T) {
	srv := newScripted(t, rateHeaders(12, 1, 60))
	o := fastOptions()
	o.RatePerMinute = 600 // burst 50, but the upstream allows 12: burst 2
	hc := client(NewResilience(Genesys, o))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var refused error
	for range 5 {
		if _, refused = send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer a"); refused != nil {
			break
		}
	}
	require.ErrorIs(t, refused, ErrRateLimited)
	assert.EqualValues(t, 3, srv.calls.Load(), "the first call, then the lowered burst of 2")
}

func TestConcurrencyIsBounded(t *testing.T) {
	release := make(chan struct{})
	var inFlight, most atomic.Int32
	srv := newScripted(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		_, _ = io.WriteString(w, "{}")
	})
	o := fastOptions()
	o.MaxConcurrency = 2
	r := NewResilience(Genesys, o)
	hc := client(r)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			status, err := send(t, context.Background(), hc, http.MethodGet, srv.URL, "")
			assert.NoError(t, err)
			assert.Equal(t, http.StatusOK, status)
		})
	}
	require.Eventually(t, func() bool { return inFlight.Load() == 2 && r.InFlight() == 2 }, 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := send(t, ctx, hc, http.MethodGet, srv.URL, "")
	var te *TransportError
	require.ErrorAs(t, err, &te, "waiting for a slot respects the deadline")
	assert.True(t, te.Timeout)

	close(release)
	wg.Wait()
	assert.EqualValues(t, 2, most.Load())
	assert.EqualValues(t, 5, srv.calls.Load())
	assert.Equal(t, 0, r.InFlight(), "every slot is given back once the bodies are closed")
}

func TestCancelledCallerCancelsTheUpstreamCall(t *testing.T) {
	seen := make(chan struct{})
	ended := make(chan struct{})
	srv := newScripted(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		close(seen)
		<-r.Context().Done()
		close(ended)
	})
	r := NewResilience(Genesys, fastOptions())
	hc := client(r)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := send(t, ctx, hc, http.MethodGet, srv.URL, "")
		errc <- err
	}()
	<-seen
	cancel()
	<-ended
	err := <-errc
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "request cancelled", te.Kind)
	assert.EqualValues(t, 1, srv.calls.Load(), "a cancelled read is not retried")
	assert.Equal(t, 0, r.InFlight())
}

func TestBackoffIsCappedWithJitter(t *testing.T) {
	r := NewResilience(Genesys, ResilienceOptions{BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second})
	for n, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second} {
		for range 20 {
			d := r.backoff(n)
			assert.GreaterOrEqual(t, d, want/2)
			assert.LessOrEqual(t, d, want)
		}
	}
	for range 20 {
		d := r.backoff(80) // the shift overflows: capped all the same
		assert.GreaterOrEqual(t, d, time.Second/2)
		assert.LessOrEqual(t, d, time.Second)
	}
	assert.Zero(t, NewResilience(Genesys, ResilienceOptions{}).backoff(1), "no base, no wait")
}

func TestConnectionRefusedIsReportedWithoutTheURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/x?IntegrationKey=canary"
	srv.Close()
	_, err := send(t, context.Background(), client(NewResilience(Genesys, fastOptions())), http.MethodGet, url, "")
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "connection refused", te.Kind)
	assert.NotContains(t, te.Error(), "canary")
	assert.False(t, errors.Is(err, ErrRateLimited))
}
