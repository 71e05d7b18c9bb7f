package gateway

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
)

// End-to-end tests of /readyz (README "Operating it").

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
