package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// Membership mutations under each AUTH_MODE (@membershipPermission): the
// gateway's own Genesys token must not change memberships for a caller who
// may not (red-team case 49).

// membershipVars names group 5 and a user who is not one of its members.
var membershipVars = map[string]any{"g": demodata.GroupID(5), "ids": []string{demodata.UserID(150)}}

func TestMembershipMutationsNeedThePermissionWithTheGatewaysToken(t *testing.T) {
	idp := newIDP(t)
	e := setup(t, idp.env())
	for _, m := range []struct{ name, query string }{{"addGroupMembers", addMembers}, {"removeGroupMembers", removeMembers}} {
		t.Run(m.name+" refused to a reader", func(t *testing.T) {
			e.resetCalls()
			r := e.post(m.query, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:view")))...)
			require.Equal(t, http.StatusOK, r.Status)
			assert.Equal(t, []string{codeForbid}, r.codes())
			assert.Equal(t, []any{m.name}, r.Errors[0].Path)
			assert.Equal(t, []any{"directory:group:edit"}, r.Errors[0].Extensions["permissions"])
			assert.Nil(t, dig(r.Data, m.name))
			assert.Zero(t, e.upstreamCalls())
		})
	}
	t.Run("allowed with directory:group:edit", func(t *testing.T) {
		e.resetCalls()
		r := e.post(addMembers, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:*")))...)
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, "COMPLETE", dig(r.Data, "addGroupMembers", "status"))
		assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RoutePostMembers))
		r = e.post(removeMembers, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:edit")))...)
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, "COMPLETE", dig(r.Data, "removeGroupMembers", "status"))
	})
}

func TestMembershipPermissionIsConfigurable(t *testing.T) {
	idp := newIDP(t)
	e := setup(t, idp.env("GATEWAY_MEMBERSHIP_PERMISSION", "directory:membership:edit"))
	r := e.post(addMembers, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:edit")))...)
	assert.Equal(t, []string{codeForbid}, r.codes())
	assert.Equal(t, []any{"directory:membership:edit"}, r.Errors[0].Extensions["permissions"])
	assert.Zero(t, e.upstreamCalls())
	r = e.post(addMembers, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:membership:edit")))...)
	require.Empty(t, r.Errors, string(r.Raw))

	_, err := LoadConfig(func(k string) string {
		return map[string]string{"GATEWAY_MEMBERSHIP_PERMISSION": "edit members"}[k]
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GATEWAY_MEMBERSHIP_PERMISSION")
}

func TestMembershipMutationsInOtherModes(t *testing.T) {
	t.Run("none: every caller holds every permission", func(t *testing.T) {
		e := setup(t, nil)
		r := e.post(addMembers, membershipVars)
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, "COMPLETE", dig(r.Data, "addGroupMembers", "status"))
	})
	t.Run("genesys: the caller's token goes to Genesys, which decides", func(t *testing.T) {
		e := setupSized(t, map[string]string{"AUTH_MODE": "genesys"}, demodata.Demo,
			withCallerTokens(map[string][]string{"caller-reader-token": {"directory:group:view"}}))
		r := e.post(addMembers, membershipVars, bearerHeader("caller-reader-token")...)
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, "COMPLETE", dig(r.Data, "addGroupMembers", "status"))
		calls := e.genesysKit().Calls()
		require.Equal(t, 1, e.genesysKit().Count(genesysemu.RoutePostMembers))
		for _, c := range calls {
			assert.Equal(t, "Bearer caller-reader-token", c.Header.Get("Authorization"), c.Route)
		}
	})
}

func TestSeveralOperationsNeedOperationName(t *testing.T) {
	e := setup(t, nil)
	doc := `query A { groups(pageSize: 1) { total } } query B { __typename }`
	r := e.timedPost(t, doc, nil, "Accept", mediaGraphQLResponse)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, []string{codeValidationFailed}, r.codes())
	assert.Contains(t, r.Errors[0].Message, "operationName is required", "says what the client must send")
	e.assertNoUpstreamCall(t)

	get := e.raw(t, http.MethodGet, "/query?query="+urlEncode(doc), nil)
	require.Equal(t, []string{codeValidationFailed}, get.codes())
	assert.Contains(t, get.Errors[0].Message, "operationName is required")

	r = e.post(`query { __typename } query B { __typename }`, nil)
	assert.Equal(t, []string{codeValidationFailed}, r.codes(), "an anonymous operation among others: the GraphQL rule")
	assert.NotContains(t, r.Errors[0].Message, "operationName")

	body, err := json.Marshal(map[string]any{"query": doc, "operationName": "B"})
	require.NoError(t, err)
	r = e.raw(t, http.MethodPost, "/query", bytes.NewReader(body), "Content-Type", "application/json")
	assert.Empty(t, r.Errors)
	assert.Equal(t, "Query", dig(r.Data, "__typename"))
}

// Upstream text never reaches callers (red-team case 50): an upstream that
// echoes the request (URL with its query, Authorization, body) into its
// error message shows callers only the gateway's own words; the log keeps
// the upstream's text with the credentials redacted.
func TestUpstreamTextNeverReachesCallers(t *testing.T) {
	e := setup(t, nil)
	e.genesysKit().KeepDetails(true)
	e.warmUp()
	key := e.gw.cfg.UsergroupKey
	company := strconv.FormatInt(e.gw.cfg.UsergroupCompanyID, 10)
	// Beside the echo: cut, base64 and upper-case copies of the key.
	extra := ` cut=` + key[3:15] + ` b64=` + base64.StdEncoding.EncodeToString([]byte(key)) + ` up=` + strings.ToUpper(key)
	ugEcho := `{"ResponseStatus":{"ErrorCode":"ArgumentException","Message":"` + emukit.EchoRequest + extra + `"}}`
	tests := []struct {
		name, route, query string
		vars               map[string]any
		kit                *emukit.Kit
		body               string
		code, path         string
	}{
		{"usergroup GET echo", usergroupsemu.RouteGet, `query($id: ID!) { userGroup(id: $id) { name } }`,
			map[string]any{"id": demodata.UserGroupID(1)}, e.usergroupsKit(), ugEcho, "BAD_USER_INPUT", "userGroup"},
		{"usergroup POST echo", usergroupsemu.RouteCreate, `mutation { createUserGroup(input: {name: "Echo"}) { id } }`,
			nil, e.usergroupsKit(), ugEcho, "BAD_USER_INPUT", "createUserGroup"},
		{"usergroup 500 echo with a code that is not a code", usergroupsemu.RouteGet, `query($id: ID!) { userGroup(id: $id) { name } }`,
			map[string]any{"id": demodata.UserGroupID(1)}, e.usergroupsKit(),
			`{"ResponseStatus":{"ErrorCode":"` + emukit.EchoRequest + `","Message":"x"}}`, "UPSTREAM_UNAVAILABLE", "userGroup"},
		{"genesys GET echo", genesysemu.RouteGetProfile, `query($id: ID!) { groupProfile(groupId: $id, fields: ["name"]) { id } }`,
			map[string]any{"id": demodata.GroupID(1)}, e.genesysKit(),
			`{"code":"bad.request","message":"` + emukit.EchoRequest + `","contextId":"` + emukit.EchoRequest + `"}`, "BAD_USER_INPUT", "groupProfile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.resetCalls()
			e.usergroupsKit().ClearFaults()
			e.genesysKit().ClearFaults()
			status := http.StatusBadRequest
			if tt.code == "UPSTREAM_UNAVAILABLE" {
				status = http.StatusInternalServerError
			}
			tt.kit.Inject(tt.route, emukit.Fault{Status: status, Body: tt.body})
			r := e.post(tt.query, tt.vars)
			require.NotEmpty(t, r.Errors, string(r.Raw))
			require.Equal(t, tt.code, r.Errors[0].Extensions["code"], string(r.Raw))
			assert.Equal(t, []any{tt.path}, r.Errors[0].Path)
			assert.EqualValues(t, status, r.Errors[0].Extensions["status"])
			require.NotZero(t, tt.kit.Count(tt.route), "the upstream was called and echoed")
			canaries := append(e.canaries(), company, key[3:15], strings.ToUpper(key), "IntegrationKey", "CompanyId",
				"Authorization", "Bearer", "format=json", "/api/v2/", "Echo\\\"")
			for _, c := range canaries {
				assert.NotContains(t, string(r.Raw), c)
			}
			e.assertNoSecrets(r, e.canaries())
			var detail string
			for _, l := range e.logLines() {
				if l["msg"] == "upstream error detail" {
					detail, _ = l["detail"].(string)
				}
			}
			require.NotEmpty(t, detail, "the upstream's text is logged")
			assert.Contains(t, detail, "[redacted]")
			for _, c := range []string{company, key[3:15], strings.ToUpper(key), "format=json"} {
				assert.NotContains(t, detail, c)
			}
		})
	}
}

// A revoked gateway token is replaced (red-team case 52): many calls
// refused with it cause one token request, and each call is made again once.
func TestRevokedGatewayTokenIsReplacedOnce(t *testing.T) {
	e := setup(t, nil)
	e.warmUp()
	emu := e.gw.demo.genesys
	issued := emu.IssuedTokens()
	emu.ExpireTokens()

	const callers = 20
	var wg sync.WaitGroup
	codes := make(chan []string, callers)
	for i := range callers {
		wg.Go(func() {
			r := e.post(`query($id: ID!) { group(id: $id) { id } }`, map[string]any{"id": demodata.GroupID(i + 1)})
			codes <- r.codes()
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		assert.Empty(t, c)
	}
	assert.Equal(t, issued+1, emu.IssuedTokens(), "one token request for every refused call")

	// A write refused with a revoked token was not applied: it is sent once more.
	emu.ExpireTokens()
	e.resetCalls()
	r := e.post(`mutation { createGroup(input: {name: "After revocation"}) { name } }`, nil)
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, "After revocation", dig(r.Data, "createGroup", "name"))
	assert.Equal(t, 2, e.genesysKit().Count(genesysemu.RoutePostGroups), "refused once, then applied")
	assert.Equal(t, issued+2, emu.IssuedTokens())
}

func TestReadyzFollowsARevokedToken(t *testing.T) {
	e := setup(t, nil) // passed checks trusted for the default 10 s
	e.warmUp()
	status, _ := e.readyz()
	require.Equal(t, http.StatusOK, status)

	emu := e.gw.demo.genesys
	emu.ExpireTokens()
	emu.SetTokenEndpointFailing(true)
	r := e.post(groupQuery, groupVars)
	require.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes(), "the token endpoint is down, not the caller's fault")
	status, b := e.readyz()
	require.Equal(t, http.StatusServiceUnavailable, status, "no token works")
	assert.Contains(t, b.Upstreams["genesys"].Check, "token unavailable")

	emu.SetTokenEndpointFailing(false)
	status, _ = e.readyz()
	assert.Equal(t, http.StatusOK, status)
	r = e.post(groupQuery, groupVars)
	assert.Empty(t, r.Errors)
}

// Token endpoint trouble (red-team case 43). Tokens shorter-lived than
// genesys.TokenEarlyExpiry are replaced at every use, so every call needs
// the token endpoint.
func TestHangingTokenEndpoint(t *testing.T) {
	e := setupSized(t, map[string]string{"UPSTREAM_OPERATION_TIMEOUT": "1s", "UPSTREAM_ATTEMPT_TIMEOUT": "3s"},
		demodata.Demo, withReadyTTL(0), withDemoTokenTTL(time.Second))
	e.warmUp()
	e.genesysKit().Inject(genesysemu.RouteToken, emukit.Fault{Latency: time.Minute})

	const callers = 8
	var wg sync.WaitGroup
	codes := make(chan []string, callers)
	for i := range callers {
		wg.Go(func() {
			r := e.post(`query($id: ID!) { group(id: $id) { id } }`, map[string]any{"id": demodata.GroupID(i + 1)})
			codes <- r.codes()
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		assert.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, c, "each request gives up at its own deadline")
	}
	assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RouteToken), "one fetch for every waiter")

	client := &http.Client{Timeout: 4 * time.Second}
	resp, err := client.Get(e.srv.URL + "/readyz")
	require.NoError(t, err, "/readyz answers while the token endpoint hangs")
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestTokenEndpointFailuresHaveTheirOwnBreaker(t *testing.T) {
	e := setupSized(t, map[string]string{"UPSTREAM_BREAKER_FAILURES": "2"}, demodata.Demo, withDemoTokenTTL(time.Second))
	e.warmUp()
	emu := e.gw.demo.genesys
	emu.SetTokenEndpointFailing(true)
	for range genesys.TokenBreakerFailures + 2 {
		r := e.post(groupQuery, groupVars)
		require.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes())
		userGroupsServed(t, r)
	}
	assert.Equal(t, genesys.TokenBreakerFailures, e.genesysKit().Count(genesysemu.RouteToken),
		"the token breaker opened: no more token requests")
	assert.Equal(t, "closed", e.gw.resilience[upstream.Genesys].BreakerState(), "the API's breaker saw no failure")
	assert.Zero(t, e.genesysKit().Count("GET /api/v2/groups"))
}

func TestTokenEndpointRefusalIsTheGatewaysProblem(t *testing.T) {
	e := setupSized(t, nil, demodata.Demo, withDemoTokenTTL(time.Second))
	e.warmUp()
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized} {
		e.genesysKit().ClearFaults()
		e.genesysKit().Inject(genesysemu.RouteToken, emukit.Fault{Status: status,
			Body: `{"error":"invalid_client","error_description":"client ` + e.gw.cfg.GenesysSecret + ` unknown"}`})
		r := e.post(groupQuery, groupVars)
		require.Equal(t, []string{"UPSTREAM_ERROR"}, r.codes(), "a misconfigured gateway, not BAD_USER_INPUT or UNAUTHENTICATED")
		assert.EqualValues(t, status, r.Errors[0].Extensions["status"])
		assert.Equal(t, "invalid_client", r.Errors[0].Extensions["upstreamCode"])
		assert.Equal(t, http.StatusOK, r.Status)
		e.assertNoSecrets(r, e.canaries())
	}
}

// Forged key ids do not starve a freshly rotated key (red-team case 47):
// unknown-kid fetches are shared and spaced, not limited to one a minute.
func TestForgedKidsDoNotBlockARotatedKey(t *testing.T) {
	idp := newIDP(t)
	e := setup(t, idp.env())
	for i := range 21 {
		idp.addKey("forged-"+strconv.Itoa(i), newECKey(t), false)
	}
	r := e.post(pageQuery, nil, bearerHeader(idp.token("forged-0", claims("mallory", "directory:*:*")))...)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, int32(2), idp.fetches.Load(), "the first unknown kid is fetched at once")

	idp.addKey("ec-2", newECKey(t), true) // rotated right after the forged token
	var wg sync.WaitGroup
	forged := make(chan int, 20)
	for i := range 20 {
		wg.Go(func() {
			forged <- e.post(pageQuery, nil, bearerHeader(idp.token("forged-"+strconv.Itoa(i+1), claims("mallory")))...).Status
		})
	}
	r = e.post(pageQuery, nil, bearerHeader(idp.token("ec-2", claims("alice")))...)
	wg.Wait()
	close(forged)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Empty(t, r.Errors)
	for status := range forged {
		assert.Equal(t, http.StatusUnauthorized, status)
	}
	assert.LessOrEqual(t, idp.fetches.Load(), int32(4), "21 forged kids and a rotated key: fetches shared, not one each")
}
