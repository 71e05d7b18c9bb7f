package genesysemu

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

func TestTokenEndpoint(t *testing.T) {
	tests := []struct {
		name      string
		form      url.Values
		basic     []string
		wantCode  int
		wantError string
	}{
		{"basic auth", url.Values{"grant_type": {"client_credentials"}}, []string{testClientID, testClientSecret}, 200, ""},
		{"form credentials", url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID},
			"client_secret": {testClientSecret}}, nil, 200, ""},
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}}, []string{testClientID, "nope"}, 401, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}}, []string{"other", testClientSecret}, 401, "invalid_client"},
		{"no credentials", url.Values{"grant_type": {"client_credentials"}}, nil, 401, "invalid_client"},
		{"wrong grant", url.Values{"grant_type": {"password"}}, []string{testClientID, testClientSecret}, 400, "unsupported_grant_type"},
		{"no grant", url.Values{}, []string{testClientID, testClientSecret}, 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t)
			req, err := http.NewRequest(http.MethodPost, e.url+"/oauth/token", strings.NewReader(tt.form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.basic != nil {
				req.SetBasicAuth(tt.basic[0], tt.basic[1])
			}
			resp, body := e.send(req)
			require.Equal(t, tt.wantCode, resp.StatusCode, string(body))
			assertCorrelation(t, resp)
			m := decode(t, body)
			if tt.wantError != "" {
				assert.Equal(t, tt.wantError, m["error"])
				assert.NotEmpty(t, m["description"])
				assert.Equal(t, m["description"], m["error_description"])
				assert.NotContains(t, string(body), testClientSecret)
				assert.Equal(t, 1, e.emu.IssuedTokens(), "only setup's token")
				return
			}
			assert.Equal(t, "bearer", m["token_type"])
			assert.EqualValues(t, 86400, m["expires_in"])
			assert.Equal(t, 2, e.emu.IssuedTokens())
			resp, body = e.callAs(m["access_token"].(string), http.MethodGet, "/api/v2/groups", nil)
			assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		})
	}
}

func TestTokenEndpointFailing(t *testing.T) {
	e := setup(t)
	e.emu.SetTokenEndpointFailing(true)
	req, err := http.NewRequest(http.MethodPost, e.url+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	require.NoError(t, err)
	req.SetBasicAuth(testClientID, testClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := e.send(req)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "temporarily_unavailable", decode(t, body)["error"])
	e.emu.SetTokenEndpointFailing(false)
	assert.NotEmpty(t, e.issueToken())
	assert.Equal(t, 3, e.emu.Kit().Count(RouteToken))
	assert.Equal(t, 2, e.emu.IssuedTokens())
}

func TestTokenTTL(t *testing.T) {
	e := setup(t, func(o *Options) { o.TokenTTL = time.Minute })
	now := time.Now()
	e.emu.now = func() time.Time { return now.Add(2 * time.Minute) }
	resp, body := e.call(http.MethodGet, "/api/v2/groups", nil)
	assertError(t, resp, body, http.StatusUnauthorized, "bad.credentials")
}

func TestBearerRequired(t *testing.T) {
	e := setup(t)
	tests := []struct {
		name, token, code string
	}{
		{"no token", "", "authentication.required"},
		{"unknown token", "not-a-token", "bad.credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.callAs(tt.token, http.MethodGet, "/api/v2/groups/"+demodata.GroupID(0), nil)
			assertError(t, resp, body, http.StatusUnauthorized, tt.code)
		})
	}
	t.Run("expired tokens", func(t *testing.T) {
		e.emu.ExpireTokens()
		resp, body := e.call(http.MethodGet, "/api/v2/groups", nil)
		assertError(t, resp, body, http.StatusUnauthorized, "bad.credentials")
		resp, _ = e.callAs(readerToken, http.MethodGet, "/api/v2/groups", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "caller tokens survive ExpireTokens")
	})
}

func TestUsersMe(t *testing.T) {
	e := setup(t)
	resp, body := e.callAs(adminToken, http.MethodGet, "/api/v2/users/me?expand=authorization", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	m := decode(t, body)
	assert.NotEmpty(t, m["id"])
	assert.NotEmpty(t, m["name"])
	assert.Equal(t, map[string]any{"permissions": []any{"directory:*:*"}}, m["authorization"])

	resp, body = e.call(http.MethodGet, "/api/v2/users/me", nil)
	assertError(t, resp, body, http.StatusBadRequest, "not.a.user")
	resp, body = e.callAs(readerToken, http.MethodGet, "/api/v2/users/me", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotContains(t, decode(t, body), "authorization")
}

func TestPermissions(t *testing.T) {
	e := setup(t)
	create := map[string]any{"name": "Perm test", "type": "official", "rulesVisible": true, "visibility": "public"}
	resp, body := e.callAs(readerToken, http.MethodPost, "/api/v2/groups", create)
	assertError(t, resp, body, http.StatusForbidden, "missing.any.permissions")
	resp, body = e.callAs(readerToken, http.MethodGet, "/api/v2/groups/"+demodata.GroupID(demodata.DynamicGroup)+"/dynamicsettings", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	resp, body = e.callAs(adminToken, http.MethodPost, "/api/v2/groups", create)
	assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	resp, body = e.callAs(readerToken, http.MethodPost, "/api/v2/groups/"+demodata.GroupID(0)+"/members",
		map[string]any{"memberIds": []string{demodata.UserID(199)}, "version": 1})
	assert.NotEqual(t, http.StatusForbidden, resp.StatusCode, "members changes need no permission: %s", body)
}

func TestRateLimitHeaders(t *testing.T) {
	e := setup(t)
	for want := 1; want <= 3; want++ {
		resp, _ := e.call(http.MethodGet, "/api/v2/fieldconfig?type=group", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, strconv.Itoa(want), resp.Header.Get("inin-ratelimit-count"))
		assert.Equal(t, "300", resp.Header.Get("inin-ratelimit-allowed"))
		assert.NotEmpty(t, resp.Header.Get("inin-ratelimit-reset"))
	}
}

func TestRateLimitEnforced(t *testing.T) {
	e := setup(t, func(o *Options) { o.RateLimit = 2 })
	for range 2 {
		resp, _ := e.call(http.MethodGet, "/api/v2/groups", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	resp, body := e.call(http.MethodGet, "/api/v2/groups", nil)
	assertError(t, resp, body, http.StatusTooManyRequests, "too.many.requests.retry.after")
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.True(t, secs >= 1 && secs <= 60, "Retry-After %d", secs)
	resp, _ = e.callAs(readerToken, http.MethodGet, "/api/v2/groups", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the limit is per token")
}
