package gateway

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/emukit"
)

const codeRateLimited = "RATE_LIMITED"

// holdOneRequest sends a group page query whose Genesys call hangs (until
// release is called) and returns once the emulator received that call, so
// the request is in flight with its body budget held.
func (e *testEnv) holdOneRequest(t *testing.T) (release func()) {
	t.Helper()
	e.genesysKit().Inject(routeGroups, emukit.Fault{Latency: time.Minute, Times: 1})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/query",
			strings.NewReader(`{"query":"{ groups(pageSize: 1) { total } }"}`))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			_, _ = roundTrip(req)
		}
	})
	release = func() {
		cancel()
		wg.Wait()
	}
	for i := 0; e.genesysKit().Count(routeGroups) == 0; i++ {
		if i == 500 {
			release()
			t.Fatal("the held request never reached the emulator")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return release
}

// plain GETs path and returns its status.
func (e *testEnv) plainStatus(t *testing.T, path string) int {
	t.Helper()
	resp, err := http.Get(e.srv.URL + path)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestSaturatedGatewayShedsLoadAndStaysHealthy(t *testing.T) {
	e := setup(t, map[string]string{"GATEWAY_MAX_IN_FLIGHT": "1", "GATEWAY_QUEUE_WAIT": "20ms"})
	release := e.holdOneRequest(t)
	defer release()

	r := e.post(`{ groups(pageSize: 1) { total } }`, nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status, string(r.Raw))
	assert.Equal(t, []string{codeRateLimited}, r.codes())
	assert.Equal(t, "1", r.Header.Get("Retry-After"))
	assert.EqualValues(t, 1, r.Errors[0].Extensions["retryAfter"])
	assert.Nil(t, r.Data)
	assert.Equal(t, 1, e.genesysKit().Count(routeGroups), "the refused request made no upstream call")
	assert.Equal(t, http.StatusOK, e.plainStatus(t, "/healthz"), "/healthz is never behind the limit")
	assert.Equal(t, http.StatusOK, e.plainStatus(t, "/metrics"), "/metrics is never behind the limit")

	release()
	r = e.post(`{ groups(pageSize: 1) { total } }`, nil)
	assert.Empty(t, r.Errors, "a slot is free again")
}

func TestBodyBudgetRefusesBeyondItsWeight(t *testing.T) {
	e := setup(t, map[string]string{"GRAPHQL_MAX_BODY_BYTES": "2048", "GATEWAY_MAX_BODY_BYTES_IN_FLIGHT": "2048", "GATEWAY_QUEUE_WAIT": "20ms"})
	release := e.holdOneRequest(t) // holds its 45 bytes of the 2,048
	defer release()

	// A body of unknown length weighs the whole cap: it does not fit.
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/query",
		io.MultiReader(strings.NewReader(`{"query":"{ __typename }"}`))) // no length: sent chunked
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	r := e.do(req)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status, string(r.Raw))
	assert.Equal(t, []string{codeRateLimited}, r.codes())
	assert.Equal(t, "1", r.Header.Get("Retry-After"))

	// A declared body within what is left is served.
	r = e.post(`{ __typename }`, nil)
	assert.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, 1, e.genesysKit().Count(routeGroups), "only the held request called upstream")
}

func TestCallerRequestRateIsChargedBeforeTheDocumentIsRead(t *testing.T) {
	// 10 a minute: a burst of 1, then one every 6 s.
	e := setup(t, map[string]string{"GATEWAY_CALLER_REQUESTS_PER_MINUTE": "10"})
	r := e.post(`{ __typename }`, nil)
	require.Empty(t, r.Errors, string(r.Raw))

	// Even a document that does not parse is refused by the rate first.
	r = e.post(`{ group(id: `, nil)
	assert.Equal(t, http.StatusTooManyRequests, r.Status, string(r.Raw))
	assert.Equal(t, []string{codeRateLimited}, r.codes())
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
	assert.NotNil(t, r.Errors[0].Extensions["retryAfter"])
	e.assertNoUpstreamCall(t)
}
