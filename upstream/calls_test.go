package upstream

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallsLimitCountsRetries(t *testing.T) {
	srv := newScripted(t, failFirst(1, http.StatusServiceUnavailable, ""))
	hc := client(NewResilience(Genesys, fastOptions()))
	calls := &Calls{}
	calls.Limit(2)
	ctx := WithCalls(context.Background(), calls)
	status, err := send(t, ctx, hc, http.MethodGet, srv.URL, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "503, then the retry")
	_, err = send(t, ctx, hc, http.MethodGet, srv.URL, "")
	var le *CallLimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, &CallLimitError{Upstream: Genesys, Max: 2}, le)
	assert.EqualValues(t, 2, srv.calls.Load())
}

func TestCallsLimitRefusalsAreNotFailures(t *testing.T) {
	srv := newScripted(t, failFirst(0, 0, ""))
	o := fastOptions()
	o.BreakerFailures = 1
	r, rec := observed(o)
	hc := client(r)
	calls := &Calls{}
	ctx := WithCalls(context.Background(), calls)
	_, err := send(t, ctx, hc, http.MethodGet, srv.URL, "")
	require.NoError(t, err)

	calls.Limit(1) // the calls before do not count
	_, err = send(t, ctx, hc, http.MethodGet, srv.URL, "")
	require.NoError(t, err)
	for range 3 {
		_, err = send(t, ctx, hc, http.MethodGet, srv.URL, "")
		var le *CallLimitError
		require.ErrorAs(t, err, &le)
	}
	assert.EqualValues(t, 2, srv.calls.Load(), "none sent")
	assert.Empty(t, rec.retries, "none retried")
	assert.Equal(t, "closed", r.BreakerState())
	status, err := send(t, context.Background(), hc, http.MethodGet, srv.URL, "")
	require.NoError(t, err, "another operation has its own cap")
	assert.Equal(t, http.StatusOK, status)
}

func TestCallsLimitGivesBackCallsNotMade(t *testing.T) {
	srv := newScripted(t, failFirst(0, 0, ""))
	o := fastOptions()
	o.RatePerMinute = 2 // burst 1, then one call a minute per credential
	hc := client(NewResilience(Genesys, o))
	calls := &Calls{}
	calls.Limit(2)
	ctx, cancel := context.WithTimeout(WithCalls(context.Background(), calls), 2*time.Second)
	defer cancel()

	_, err := send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer a")
	require.NoError(t, err)
	_, err = send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer a")
	var ue *Error
	require.ErrorAs(t, err, &ue, "refused by the limiter: no call made")
	require.Equal(t, LocalRateLimitCode, ue.Code)

	status, err := send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer b")
	require.NoError(t, err, "the limiter's refusal gave its place under the cap back")
	assert.Equal(t, http.StatusOK, status)
	_, err = send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer c")
	var le *CallLimitError
	require.ErrorAs(t, err, &le)
	assert.EqualValues(t, 2, srv.calls.Load())
}
