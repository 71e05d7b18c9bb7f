package gateway

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph/quota"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesysemu"
)

// The bounds on upstream calls: per operation (GATEWAY_MAX_UPSTREAM_CALLS,
// red-team case 55) and per caller (AUTH_RATE_LIMIT_PER_MINUTE and its
// share of the shared budget, case 59).

// hundredGroups is the demo data with 100 groups, so that a page of 100
// groups is full.
var hundredGroups = demodata.Size{Groups: 100, Users: 200, MembersPerGroup: 12, UserGroups: 30}

// fanOut is red-team case 55: n aliased pages of 100 groups, each group with
// a distinct page of its members (about 3,300 calls for n = 33).
func fanOut(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, " p%d: groups(pageSize: 100) { entities { members(pageSize: 1, pageNumber: %d) { total } } }", i, i)
	}
	return b.String() + " }"
}

// membersOfPage is one page of n groups with one member page each: n+1
// calls.
func membersOfPage(n int) string {
	return `{ groups(pageSize: ` + strconv.Itoa(n) + `) { entities { id members(pageSize: 1) { total } } } }`
}

// estimatedAt is an operation estimated at n upstream calls: aliased pages
// of up to 100 groups with a member page each, and a user group lookup for
// a last single call.
func estimatedAt(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; n > 0; i++ {
		if n == 1 {
			b.WriteString(` u: userGroup(id: "` + demodata.UserGroupID(1) + `") { id }`)
			break
		}
		k := min(n-1, 100)
		fmt.Fprintf(&b, " p%d: groups(pageSize: %d) { entities { members(pageSize: 1) { total } } }", i, k)
		n -= k + 1
	}
	return b.String() + " }"
}

// apiCalls returns the calls both emulators received, token requests
// excluded.
func (e *testEnv) apiCalls() int {
	return e.genesysKit().Count("") - e.genesysKit().Count(genesysemu.RouteToken) + e.usergroupsKit().Count("")
}

// requireRefusedOver checks that r is the refusal of an operation estimated
// at estimate calls by the bound max named limit.
func requireRefusedOver(t *testing.T, r gqlResponse, estimate, max int, limit string) {
	t.Helper()
	require.Equal(t, []string{codeTooComplex}, r.codes(), string(r.Raw))
	assert.Nil(t, r.Data)
	ext := r.Errors[0].Extensions
	assert.Equal(t, float64(estimate), ext["upstreamCalls"])
	assert.Equal(t, float64(max), ext["maxUpstreamCalls"])
	assert.Equal(t, limit, ext["limit"])
}

func TestFanOutIsRefusedBeforeAnyUpstreamCall(t *testing.T) {
	e := setupSized(t, nil, hundredGroups)
	e.resetCalls()
	r := e.post(fanOut(33), nil)
	assert.Equal(t, http.StatusOK, r.Status, "refused before execution, for a client that accepts only application/json")
	requireRefusedOver(t, r, 33*101, quota.DefaultMaxCalls, quota.LimitUpstreamCalls)
	assert.Zero(t, e.genesysKit().Count("")+e.usergroupsKit().Count(""))

	r = e.post(fanOut(2), nil)
	requireRefusedOver(t, r, 2*101, quota.DefaultMaxCalls, quota.LimitUpstreamCalls)
	assert.Zero(t, e.genesysKit().Count("")+e.usergroupsKit().Count(""))
}

func TestOperationsUnderTheCapRun(t *testing.T) {
	t.Run("default cap", func(t *testing.T) {
		e := setupSized(t, nil, hundredGroups)
		for _, tt := range []struct {
			name, query string
			vars        map[string]any
			calls       int
		}{
			{"a page of 25 groups with their members (W3)", w3Query, w3Vars(0), 26},
			{"a full page of 100 groups with a member page each", membersOfPage(100), nil, 101},
		} {
			e.resetCalls()
			r := e.post(tt.query, tt.vars)
			require.Empty(t, r.Errors, tt.name)
			assert.Equal(t, tt.calls, e.apiCalls(), tt.name)
		}
	})
	t.Run("at the configured cap", func(t *testing.T) {
		e := setup(t, map[string]string{"GATEWAY_MAX_UPSTREAM_CALLS": "6"})
		e.resetCalls()
		r := e.post(membersOfPage(5), nil)
		require.Empty(t, r.Errors)
		assert.Equal(t, 6, e.apiCalls())

		e.resetCalls()
		r = e.post(membersOfPage(6), nil)
		requireRefusedOver(t, r, 7, 6, quota.LimitUpstreamCalls)
		assert.Zero(t, e.genesysKit().Count("")+e.usergroupsKit().Count(""))
	})
}

// TestBackstopStopsCallsAtTheCap runs an operation whose estimate fits the
// cap exactly while execution needs more than it: two of its reads are
// answered 503 once, and their retries are calls the estimate does not
// count. The cap stops the operation at 6 calls, and the fields that needed
// more fail QUERY_TOO_COMPLEX, the others keep their data.
func TestBackstopStopsCallsAtTheCap(t *testing.T) {
	e := setup(t, map[string]string{"GATEWAY_MAX_UPSTREAM_CALLS": "6"})
	e.resetCalls()
	e.genesysKit().Inject(genesysemu.RouteGetDynamic, emukit.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	r := e.post(`{ groups(pageSize: 5) { entities { id dynamicDefinition { groupId } } } }`, nil)

	assert.Equal(t, 6, e.apiCalls(), "1 page + 5 definitions, no retry")
	assert.Equal(t, 5, e.genesysKit().Count(genesysemu.RouteGetDynamic))
	assert.Equal(t, float64(6), dig(r.Extensions, "cost", "upstreamCalls", "genesys"))
	require.Equal(t, []string{codeTooComplex, codeTooComplex}, r.codes(), string(r.Raw))
	for _, err := range r.Errors {
		require.Len(t, err.Path, 4)
		assert.Equal(t, []any{"groups", "entities"}, err.Path[:2])
		assert.Equal(t, "dynamicDefinition", err.Path[3])
		assert.Equal(t, float64(6), err.Extensions["maxUpstreamCalls"])
	}
	for i := range 5 {
		assert.NotEmpty(t, dig(r.Data, "groups", "entities", i, "id"), "the other fields keep their data")
	}
}

// TestOversizeOperationOfOneCallerLeavesOthersServed is red-team case 59
// with the default budgets: caller A (120 calls a minute) sends the 33 × 100
// fan-out while Genesys allows the gateway 300 calls a minute. It is
// refused up front, costs nothing, and bystander B is served.
func TestOversizeOperationOfOneCallerLeavesOthersServed(t *testing.T) {
	e := setupSized(t, map[string]string{
		"AUTH_RATE_LIMIT_PER_MINUTE": "120", "GENESYS_RATE_LIMIT_PER_MINUTE": "300", "USERGROUP_RATE_LIMIT_PER_MINUTE": "600",
		"AUTH_TRUSTED_PROXY_HOPS": "1", "GATEWAY_MAX_UPSTREAM_CALLS": "5000", // the caller's budget refuses it, not the cap
	}, hundredGroups)
	callerA, callerB := []string{"X-Forwarded-For", "203.0.113.7"}, []string{"X-Forwarded-For", "198.51.100.20"}
	e.resetCalls()
	r := e.post(fanOut(33), nil, callerA...)
	assert.Equal(t, http.StatusOK, r.Status, "it can never run: waiting would not help")
	assert.Empty(t, r.Header.Get("Retry-After"))
	requireRefusedOver(t, r, 33*101, 120, quota.LimitCallerBudget)
	assert.Zero(t, e.genesysKit().Count("")+e.usergroupsKit().Count(""))

	for range 5 {
		r := e.post(`{ groups(pageSize: 25) { entities { id name } } }`, nil, callerB...)
		require.Empty(t, r.Errors)
		assert.Len(t, dig(r.Data, "groups", "entities"), 25)
	}
}

// TestCallerBudgetIsChargedBeforeAndAfter checks that an operation is
// charged its estimate before it runs and the calls it made beyond it
// afterwards, and that one the budget cannot pay for now is refused with
// RATE_LIMITED while another caller is served.
func TestCallerBudgetIsChargedBeforeAndAfter(t *testing.T) {
	e := setup(t, map[string]string{"AUTH_RATE_LIMIT_PER_MINUTE": "10", "AUTH_TRUSTED_PROXY_HOPS": "1"})
	callerA, callerB := []string{"X-Forwarded-For", "203.0.113.7"}, []string{"X-Forwarded-For", "198.51.100.20"}

	r := e.post(membersOfPage(10), nil, callerA...)
	requireRefusedOver(t, r, 11, 10, quota.LimitCallerBudget)

	// 6 estimated, 8 made (two reads answered 503 once are retried): 2 left.
	e.genesysKit().Inject(genesysemu.RouteGetMembers, emukit.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	e.resetCalls()
	r = e.post(membersOfPage(5), nil, callerA...)
	require.Empty(t, r.Errors)
	require.Equal(t, 8, e.apiCalls())

	e.resetCalls()
	r = e.post(membersOfPage(3), nil, callerA...) // 4 calls
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, []string{codeLimited}, r.codes())
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.Positive(t, secs)
	assert.Equal(t, float64(secs), r.Errors[0].Extensions["retryAfter"])
	assert.Zero(t, e.apiCalls())

	r = e.post(membersOfPage(3), nil, callerB...)
	require.Empty(t, r.Errors, "another caller has its own budget")
	assert.Equal(t, 4, e.apiCalls())
}

// TestCallerBudgetIsAShareOfTheSharedBudget checks that a caller's budget
// is lowered to AUTH_RATE_LIMIT_MAX_SHARE of the smallest upstream budget
// the callers share, so that one caller never holds the whole of it.
func TestCallerBudgetIsAShareOfTheSharedBudget(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		max  int
	}{
		{"40 % of Genesys's 300", map[string]string{"GENESYS_RATE_LIMIT_PER_MINUTE": "300"}, 120},
		{"a configured share", map[string]string{"GENESYS_RATE_LIMIT_PER_MINUTE": "300", "AUTH_RATE_LIMIT_MAX_SHARE": "10"}, 30},
		{"the smaller budget", map[string]string{"GENESYS_RATE_LIMIT_PER_MINUTE": "300", "USERGROUP_RATE_LIMIT_PER_MINUTE": "100"}, 40},
		{"genesys mode: each caller's own Genesys budget is not shared",
			map[string]string{"AUTH_MODE": "genesys", "GENESYS_RATE_LIMIT_PER_MINUTE": "300", "USERGROUP_RATE_LIMIT_PER_MINUTE": "600"}, 240},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"AUTH_RATE_LIMIT_PER_MINUTE": "1000", "GATEWAY_MAX_UPSTREAM_CALLS": "5000"}
			for k, v := range tt.env {
				env[k] = v
			}
			var headers []string
			opts := []Option{}
			if env["AUTH_MODE"] == "genesys" {
				opts = append(opts, withCallerTokens(map[string][]string{"token-one": nil}))
				headers = bearerHeader("token-one")
			}
			e := setupSized(t, env, hundredGroups, opts...)
			assert.Contains(t, e.log.String(), `"applied":`+strconv.Itoa(tt.max))
			e.resetCalls()
			r := e.post(estimatedAt(tt.max+1), nil, headers...)
			requireRefusedOver(t, r, tt.max+1, tt.max, quota.LimitCallerBudget)
			assert.Zero(t, e.apiCalls()-e.genesysKit().Count(genesysemu.RouteUsersMe), "no call but the caller's authentication")
		})
	}
}

func TestUpstreamCallBoundsConfiguration(t *testing.T) {
	cfg, err := LoadConfig(getenv(map[string]string{}))
	require.NoError(t, err)
	assert.Equal(t, quota.DefaultMaxCalls, cfg.MaxUpstreamCalls)
	assert.Equal(t, quota.DefaultMaxSharePercent, cfg.CallerMaxSharePercent)
	for _, bad := range []map[string]string{
		{"GATEWAY_MAX_UPSTREAM_CALLS": "0"}, {"GATEWAY_MAX_UPSTREAM_CALLS": "many"},
		{"AUTH_RATE_LIMIT_MAX_SHARE": "51"}, {"AUTH_RATE_LIMIT_MAX_SHARE": "0"},
	} {
		_, err := LoadConfig(getenv(bad))
		for name := range bad {
			require.ErrorContains(t, err, name)
		}
	}
}
