package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
)

// End-to-end tests of the upstream resilience layer (README "Upstream
// resilience"): each asserts the answer, its extensions.code and the
// upstream calls it cost.

const routeToken = "POST /oauth/token"

// groupQuery asks for one group and, from the other upstream, a page of
// user groups: a failing group must not take the user groups down.
const groupQuery = `query($id: ID!) { group(id: $id) { id name } userGroups(pageSize: 2) { entities { name } } }`

var groupVars = map[string]any{"id": demodata.GroupID(1)}

// genesysCost is the Genesys calls the response's extensions.cost reports.
func genesysCost(r gqlResponse) any { return dig(r.Extensions, "cost", "upstreamCalls", "genesys") }

// warmUp makes one successful call, so that the gateway holds its token,
// then forgets the calls.
func (e *testEnv) warmUp() {
	e.t.Helper()
	r := e.post(groupQuery, groupVars)
	require.Empty(e.t, r.Errors)
	e.resetCalls()
}

// canaries are the secrets no answer and no log line may hold: the Genesys
// client secret, the Usergroup IntegrationKey and the tokens the emulator
// issued (read from the calls it recorded).
func (e *testEnv) canaries() []string {
	out := []string{e.gw.cfg.GenesysSecret, e.gw.cfg.UsergroupKey}
	for _, c := range e.genesysKit().Calls() {
		if tok, ok := strings.CutPrefix(c.Header.Get("Authorization"), "Bearer "); ok {
			out = append(out, tok)
		}
	}
	return out
}

// assertNoSecrets checks that r and every log line so far hold no canary.
func (e *testEnv) assertNoSecrets(r gqlResponse, canaries []string) {
	e.t.Helper()
	logs := e.log.String()
	for _, c := range canaries {
		require.NotEmpty(e.t, c)
		assert.NotContains(e.t, string(r.Raw), c)
		assert.NotContains(e.t, logs, c)
	}
}

// userGroupsServed checks that the user groups of groupQuery came back.
func userGroupsServed(t *testing.T, r gqlResponse) {
	t.Helper()
	assert.Len(t, dig(r.Data, "userGroups", "entities"), 2, "the other upstream's field is still served")
}

func TestUpstream429IsRetriedAfterRetryAfter(t *testing.T) {
	e := setup(t, nil)
	e.warmUp()
	e.genesysKit().Inject(routeGroups, emukit.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1", Times: 1})
	r := e.post(groupQuery, groupVars)
	require.Empty(t, r.Errors)
	assert.Equal(t, demodata.GroupName(1), dig(r.Data, "group", "name"))
	assert.Equal(t, 2, e.genesysKit().Count(routeGroups))
	assert.EqualValues(t, 2, genesysCost(r))
}

func TestRetryAfterBeyondTheDeadlineIsRateLimitedAtOnce(t *testing.T) {
	e := setup(t, nil)
	e.genesysKit().KeepDetails(true)
	e.warmUp()
	e.genesysKit().Inject(routeGroups, emukit.Fault{Status: http.StatusTooManyRequests, RetryAfter: "120"})
	r := e.post(groupQuery, groupVars)
	require.Equal(t, []string{"RATE_LIMITED"}, r.codes())
	assert.EqualValues(t, 120, r.Errors[0].Extensions["retryAfter"])
	assert.Equal(t, []any{"group"}, r.Errors[0].Path)
	userGroupsServed(t, r)
	assert.Equal(t, 1, e.genesysKit().Count(routeGroups), "no wait and no retry")
	assert.EqualValues(t, 1, genesysCost(r))
	e.assertNoSecrets(r, e.canaries())
}

func TestReadsAreRetriedWritesAreNot(t *testing.T) {
	e := setup(t, nil)
	e.genesysKit().KeepDetails(true)
	e.warmUp()
	canaries := e.canaries()
	e.genesysKit().Inject(routeGroups, emukit.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	r := e.post(groupQuery, groupVars)
	require.Empty(t, r.Errors)
	assert.Equal(t, demodata.GroupName(1), dig(r.Data, "group", "name"))
	assert.Equal(t, 3, e.genesysKit().Count(routeGroups))
	assert.EqualValues(t, 3, genesysCost(r))

	create := `mutation { createGroup(input: {name: "Never twice"}) { id } }`
	tests := []struct {
		name       string
		fault      emukit.Fault
		code       string
		retryAfter any
	}{
		{"503", emukit.Fault{Status: http.StatusServiceUnavailable, Times: 2}, "UPSTREAM_UNAVAILABLE", nil},
		{"503 with Retry-After", emukit.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "7", Times: 2}, "UPSTREAM_UNAVAILABLE", 7.0},
		{"429", emukit.Fault{Status: http.StatusTooManyRequests, RetryAfter: "5", Times: 2}, "RATE_LIMITED", 5.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.resetCalls()
			e.genesysKit().ClearFaults()
			e.genesysKit().Inject(routePostGroup, tt.fault)
			r := e.post(create, nil)
			require.Equal(t, []string{tt.code}, r.codes())
			assert.Equal(t, tt.retryAfter, r.Errors[0].Extensions["retryAfter"])
			assert.Equal(t, 1, e.genesysKit().Count(routePostGroup), "a write is never repeated")
			e.assertNoSecrets(r, canaries)
		})
	}
}

func TestBrokenUpstreamAnswersAreFieldErrors(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		fault emukit.Fault
		calls int
		raw   string // a piece of the upstream body that must not leak
	}{
		{"slow past the attempt timeout", map[string]string{"UPSTREAM_ATTEMPT_TIMEOUT": "150ms"},
			emukit.Fault{Latency: time.Minute}, 3, ""},
		{"body over 5 MiB", nil, emukit.Fault{OversizeBytes: upstream.MaxSuccessBody + 10}, 1, "xxxxxxxxxxxxxxxx"},
		{"truncated JSON", nil, emukit.Fault{Truncate: true}, 1, demodata.GroupName(1)},
		{"HTML with 200", nil, emukit.Fault{HTML: true}, 1, "temporarily unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.env)
			e.genesysKit().KeepDetails(true)
			e.warmUp()
			e.genesysKit().Inject(routeGroups, tt.fault)
			r := e.post(groupQuery, groupVars)
			require.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes())
			assert.Equal(t, []any{"group"}, r.Errors[0].Path)
			assert.Nil(t, dig(r.Data, "group"))
			userGroupsServed(t, r)
			assert.Equal(t, tt.calls, e.genesysKit().Count(routeGroups))
			assert.EqualValues(t, tt.calls, genesysCost(r))
			if tt.raw != "" {
				assert.NotContains(t, string(r.Raw), tt.raw)
			}
			e.assertNoSecrets(r, e.canaries())
		})
	}
}

func TestUsergroupFailuresHoldNoKey(t *testing.T) {
	e := setup(t, nil)
	e.genesysKit().KeepDetails(true)
	e.warmUp()
	key := e.gw.cfg.UsergroupKey
	tests := []struct {
		name  string
		fault emukit.Fault
		code  string
		calls int
	}{
		{"500 echoing the key", emukit.Fault{Status: http.StatusInternalServerError,
			Body: `{"ResponseStatus":{"ErrorCode":"Boom","Message":"bad IntegrationKey ` + key + `"}}`}, "UPSTREAM_UNAVAILABLE", 3},
		{"401 echoing the key", emukit.Fault{Status: http.StatusUnauthorized,
			Body: `{"ResponseStatus":{"ErrorCode":"Unauthorized","Message":"key ` + key + ` refused"}}`}, "UPSTREAM_ERROR", 1},
		{"truncated JSON", emukit.Fault{Truncate: true}, "UPSTREAM_UNAVAILABLE", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.resetCalls()
			e.usergroupsKit().ClearFaults()
			e.usergroupsKit().Inject(routeUGGet, tt.fault)
			r := e.post(`query($id: ID!, $ug: ID!) { group(id: $id) { name } userGroup(id: $ug) { name } }`,
				map[string]any{"id": demodata.GroupID(1), "ug": demodata.UserGroupID(1)})
			require.Equal(t, []string{tt.code}, r.codes())
			assert.Equal(t, []any{"userGroup"}, r.Errors[0].Path)
			assert.Equal(t, demodata.GroupName(1), dig(r.Data, "group", "name"), "the other upstream's field is still served")
			assert.Equal(t, tt.calls, e.usergroupsKit().Count(routeUGGet))
			e.assertNoSecrets(r, e.canaries())
		})
	}
}

func TestConnectionRefusedIsAFieldError(t *testing.T) {
	e := setup(t, nil)
	e.genesysKit().KeepDetails(true)
	e.warmUp()
	canaries := e.canaries()
	require.NoError(t, e.gw.demo.servers[0].Close()) // the Genesys emulator goes away
	r := e.post(groupQuery, groupVars)
	require.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes())
	assert.Contains(t, r.Errors[0].Message, "connection refused")
	userGroupsServed(t, r)
	assert.EqualValues(t, 3, genesysCost(r), "a read is tried three times")
	e.assertNoSecrets(r, canaries)
}

func TestRedirectIsNotFollowed(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer other.Close()
	e := setup(t, nil)
	e.genesysKit().KeepDetails(true)
	e.warmUp()
	e.genesysKit().Inject(routeGroups, emukit.Fault{RedirectTo: other.URL + "/api/v2/groups"})
	r := e.post(groupQuery, groupVars)
	require.Equal(t, []string{"UPSTREAM_ERROR"}, r.codes())
	assert.EqualValues(t, 307, r.Errors[0].Extensions["status"])
	userGroupsServed(t, r)
	assert.Zero(t, hits.Load(), "the other host receives nothing")
	assert.Equal(t, 1, e.genesysKit().Count(routeGroups))
	e.assertNoSecrets(r, e.canaries())
}

func TestBatchAnswerIsMappedByID(t *testing.T) {
	e := setup(t, nil)
	e.warmUp()
	group := func(i int, name string) map[string]any {
		return map[string]any{"id": demodata.GroupID(i), "name": name, "state": "active", "type": "official",
			"visibility": "public", "memberCount": 1, "version": 1}
	}
	// Shuffled, with a duplicate, an id nobody asked for, and id 3 missing.
	body, err := json.Marshal(map[string]any{"entities": []any{
		group(2, "two"), group(9, "nine"), group(1, "one"), group(2, "two"),
	}, "pageSize": 3, "pageNumber": 1, "total": 4, "pageCount": 1})
	require.NoError(t, err)
	e.genesysKit().Inject(routeGroups, emukit.Fault{Status: http.StatusOK, Body: string(body), Times: 1})
	r := e.post(`query($a: ID!, $b: ID!, $c: ID!) { a: group(id: $a) { id name } b: group(id: $b) { id name } c: group(id: $c) { id name } }`,
		map[string]any{"a": demodata.GroupID(1), "b": demodata.GroupID(2), "c": demodata.GroupID(3)})
	require.Empty(t, r.Errors)
	assert.Equal(t, map[string]any{"id": demodata.GroupID(1), "name": "one"}, r.Data["a"])
	assert.Equal(t, map[string]any{"id": demodata.GroupID(2), "name": "two"}, r.Data["b"])
	assert.Nil(t, r.Data["c"], "an id missing from the answer is null, never another group")
	assert.Equal(t, 1, e.genesysKit().Count(routeGroups))
}

func TestConcurrentRequestsShareOneTokenRequest(t *testing.T) {
	e := setup(t, nil)
	// Connections dialed for the burst but never used stay "new" to the
	// emulators, and http.Server.Shutdown waits 5 s for those: close them.
	t.Cleanup(func() {
		for _, s := range e.gw.demo.servers {
			_ = s.Close()
		}
	})
	const requests = 200
	var wg sync.WaitGroup
	failed := make(chan gqlResponse, requests)
	for i := range requests {
		wg.Go(func() {
			r := e.post(`query($id: ID!) { group(id: $id) { id } }`, map[string]any{"id": demodata.GroupID(i % demodata.Demo.Groups)})
			if len(r.Errors) > 0 || r.Data["group"] == nil {
				failed <- r
			}
		})
	}
	wg.Wait()
	close(failed)
	for r := range failed {
		t.Errorf("request failed: %s", r.Raw)
	}
	assert.Equal(t, 1, e.genesysKit().Count(routeToken), "exactly one token request")
}

func TestBreakerOpensFailsFastAndRecovers(t *testing.T) {
	e := setup(t, map[string]string{"UPSTREAM_BREAKER_FAILURES": "3", "UPSTREAM_BREAKER_OPEN_TIMEOUT": "100ms",
		"UPSTREAM_MAX_RETRIES": "0"})
	e.genesysKit().KeepDetails(true)
	e.warmUp()
	canaries := e.canaries()
	e.genesysKit().Inject(routeGroups, emukit.Fault{Status: http.StatusInternalServerError})
	for range 3 {
		r := e.post(groupQuery, groupVars)
		require.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes())
	}
	require.Equal(t, 3, e.genesysKit().Count(routeGroups))
	require.Equal(t, "open", e.gw.resilience[upstream.Genesys].BreakerState())
	assert.Equal(t, "closed", e.gw.resilience[upstream.Usergroups].BreakerState(), "one breaker per upstream")

	r := e.post(groupQuery, groupVars)
	require.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes())
	assert.Contains(t, r.Errors[0].Message, "circuit open")
	userGroupsServed(t, r)
	assert.Equal(t, 3, e.genesysKit().Count(routeGroups), "an open breaker makes no call")
	assert.EqualValues(t, 0, genesysCost(r))
	e.assertNoSecrets(r, canaries)

	e.genesysKit().ClearFaults()
	require.Eventually(t, func() bool {
		return len(e.post(groupQuery, groupVars).Errors) == 0
	}, 10*time.Second, 20*time.Millisecond, "after the open timeout a probe closes the breaker")
	assert.Equal(t, "closed", e.gw.resilience[upstream.Genesys].BreakerState())
}

func TestRetryBudgetBoundsRetries(t *testing.T) {
	e := setup(t, map[string]string{"UPSTREAM_BREAKER_FAILURES": "0"})
	e.warmUp()
	e.genesysKit().Inject(routeGroups, emukit.Fault{Status: http.StatusServiceUnavailable})
	const requests = 20
	for i := range requests {
		r := e.post(`query($id: ID!) { group(id: $id) { id } }`, map[string]any{"id": demodata.GroupID(i)})
		require.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes())
	}
	// Without a budget: 3 calls per request (60). The budget starts with
	// 10 retries and only successes earn more.
	assert.Equal(t, requests+10, e.genesysKit().Count(routeGroups))
}

func TestRateLimiterFailsFastWhenTheWaitDoesNotFit(t *testing.T) {
	e := setup(t, map[string]string{"GENESYS_RATE_LIMIT_PER_MINUTE": "2", "UPSTREAM_OPERATION_TIMEOUT": "2s"})
	e.genesysKit().KeepDetails(true)
	r := e.post(groupQuery, groupVars)
	require.Empty(t, r.Errors, "the burst lets the first call through")
	e.resetCalls()
	r = e.post(groupQuery, map[string]any{"id": demodata.GroupID(2)})
	require.Equal(t, []string{"RATE_LIMITED"}, r.codes())
	assert.Contains(t, r.Errors[0].Message, "gateway's own rate limiter")
	assert.Greater(t, r.Errors[0].Extensions["retryAfter"], 2.0, "the wait does not fit the 2 s deadline")
	userGroupsServed(t, r)
	assert.Zero(t, e.genesysKit().Count(""), "no call made")
	assert.EqualValues(t, 0, genesysCost(r))
	e.assertNoSecrets(r, e.canaries())
}

func TestCancelledRequestCancelsItsUpstreamCall(t *testing.T) {
	e := setup(t, nil)
	e.warmUp()
	kit := e.genesysKit()
	kit.Inject(routeGroups, emukit.Fault{Latency: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := `{"query":"{ group(id: \"` + demodata.GroupID(1) + `\") { id } }"}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/query", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	require.Eventually(t, func() bool { return kit.Count(routeGroups) == 1 }, 10*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	genesys := e.gw.resilience[upstream.Genesys]
	require.Eventually(t, func() bool { return genesys.InFlight() == 0 }, 10*time.Second, time.Millisecond,
		"the gateway's upstream call ended with the client's request")
	assert.Equal(t, 1, kit.Count(routeGroups), "a cancelled read is not retried")
	require.Eventually(t, func() bool {
		kit.Reset() // Reset sets MaxInFlight to the calls in flight now
		return kit.MaxInFlight() == 0
	}, 10*time.Second, time.Millisecond, "the emulator saw the call end")
}

func TestResilienceConfiguration(t *testing.T) {
	c, err := LoadConfig(getenv(nil))
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, c.OperationTimeout)
	assert.Equal(t, 10*time.Second, c.AttemptTimeout)
	assert.Equal(t, 2, c.GenesysResilience.MaxRetries)
	assert.Equal(t, 32, c.GenesysResilience.MaxConcurrency)
	assert.Zero(t, c.GenesysResilience.RatePerMinute, "demo mode: no budget to protect")

	c, err = LoadConfig(getenv(fullEnv()))
	require.NoError(t, err)
	assert.Equal(t, 300, c.GenesysResilience.RatePerMinute)
	assert.Equal(t, 600, c.UsergroupResilience.RatePerMinute)

	env := fullEnv()
	env["UPSTREAM_MAX_RETRIES"], env["GENESYS_RATE_LIMIT_PER_MINUTE"], env["UPSTREAM_OPERATION_TIMEOUT"] = "0", "180", "5s"
	c, err = LoadConfig(getenv(env))
	require.NoError(t, err)
	assert.Zero(t, c.UsergroupResilience.MaxRetries)
	assert.Equal(t, 180, c.GenesysResilience.RatePerMinute)
	assert.Equal(t, 5*time.Second, c.OperationTimeout)

	for name, value := range map[string]string{
		"UPSTREAM_OPERATION_TIMEOUT": "1m", "UPSTREAM_ATTEMPT_TIMEOUT": "soon", "UPSTREAM_MAX_RETRIES": "9",
		"UPSTREAM_MAX_CONCURRENCY": "0", "UPSTREAM_BREAKER_FAILURES": "-1", "UPSTREAM_BREAKER_OPEN_TIMEOUT": "0s",
		"GENESYS_RATE_LIMIT_PER_MINUTE": "lots", "USERGROUP_RATE_LIMIT_PER_MINUTE": "-5",
	} {
		_, err := LoadConfig(getenv(map[string]string{name: value}))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
	}
}

// End-to-end tests of /readyz (docs/operating.md).

// readyz asks /readyz.
func (e *testEnv) readyz() (int, readyBody) {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + "/readyz")
	require.NoError(e.t, err)
	defer resp.Body.Close()
	var b readyBody
	require.NoError(e.t, json.NewDecoder(resp.Body).Decode(&b))
	return resp.StatusCode, b
}

func TestReadyzFlipsWhileNoTokenCanBeObtained(t *testing.T) {
	// Tokens shorter-lived than genesys.TokenEarlyExpiry are replaced at
	// every use, so each probe asks the token endpoint.
	e := setupSized(t, nil, demodata.Demo, withReadyTTL(0), withDemoTokenTTL(time.Second))

	status, b := e.readyz()
	require.Equal(t, http.StatusOK, status, b)
	assert.True(t, b.Ready)
	assert.Equal(t, "demo", b.Mode)
	assert.Equal(t, upstreamReadiness{Ready: true, Check: "ok", Breaker: "closed"}, b.Upstreams["genesys"])
	assert.Empty(t, b.Reasons)

	e.gw.demo.genesys.SetTokenEndpointFailing(true)
	status, b = e.readyz()
	require.Equal(t, http.StatusServiceUnavailable, status)
	assert.False(t, b.Ready)
	assert.False(t, b.Upstreams["genesys"].Ready)
	assert.Contains(t, b.Upstreams["genesys"].Check, "token unavailable")
	assert.True(t, b.Upstreams["usergroups"].Ready, "the other upstream is fine")
	require.Len(t, b.Reasons, 1)
	assert.Contains(t, b.Reasons[0], "genesys: token unavailable")

	e.gw.demo.genesys.SetTokenEndpointFailing(false)
	status, b = e.readyz()
	assert.Equal(t, http.StatusOK, status, "a failure is not cached")
	assert.True(t, b.Ready)
}

func TestReadyzFailsWhileABreakerIsOpen(t *testing.T) {
	e := setup(t, map[string]string{"UPSTREAM_BREAKER_FAILURES": "2", "UPSTREAM_MAX_RETRIES": "0"})
	status, _ := e.readyz()
	require.Equal(t, http.StatusOK, status)

	e.genesysKit().Inject("GET /api/v2/groups", emukit.Fault{Status: http.StatusInternalServerError})
	for range 2 {
		r := e.post(`{ groups(pageSize: 1) { entities { id } } }`, nil)
		require.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes())
	}
	status, b := e.readyz()
	require.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, upstreamReadiness{Ready: false, Check: "ok", Breaker: "open"}, b.Upstreams["genesys"],
		"the token is held; the breaker alone makes it unready")
	assert.Equal(t, []string{"genesys: circuit breaker open (recent calls failed)"}, b.Reasons)
	assert.True(t, b.Upstreams["usergroups"].Ready)
}
