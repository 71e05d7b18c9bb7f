package genesys

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
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
)

const testClientID = "gateway-client-id"

// assertNoSecrets checks that err's text holds none of the canaries.
func assertNoSecrets(t *testing.T, err error) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(testClientID + ":" + testSecret))
	for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		for _, secret := range []string{testSecret, testToken, basic} {
			assert.NotContains(t, text, secret)
		}
	}
}

// newAuthClient returns a client of apiURL that gets its token from the
// token endpoint under loginURL with the canary secret.
func newAuthClient(t *testing.T, apiURL, loginURL string, timeout time.Duration) *Client {
	t.Helper()
	hc := upstream.NewHTTPClient(upstream.ClientOptions{Timeout: timeout})
	c, err := New(apiURL, hc, WithTokenSource(NewTokenSource(loginURL, testClientID, testSecret, hc)))
	require.NoError(t, err)
	return c
}

// tokenAnswer writes a token endpoint success.
func tokenAnswer(w http.ResponseWriter, token string, expiresIn int) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer","expires_in":%d}`, token, expiresIn)
}

// groupAPI answers GET group with a group when the request carries token,
// else 401; it counts the requests.
func groupAPI(t *testing.T, token string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"code":"bad.credentials","status":401}`)
			return
		}
		fmt.Fprint(w, `{"id":"`+groupID+`"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestTokenSourceRequest: the client credentials grant is sent as Genesys
// documents it, and the token is reused.
func TestTokenSourceRequest(t *testing.T) {
	var (
		calls                     atomic.Int64
		method, path, ctype       string
		user, pass, grant, accept string
		basicOK                   bool
	)
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		method, path, ctype, accept = r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Accept")
		user, pass, basicOK = r.BasicAuth()
		assert.NoError(t, r.ParseForm())
		grant = r.PostForm.Get("grant_type")
		tokenAnswer(w, testToken, 86400)
	}))
	t.Cleanup(login.Close)
	api, _ := groupAPI(t, testToken)
	c := newAuthClient(t, api.URL, login.URL+"/", time.Minute)

	for range 3 {
		g, err := c.GetGroup(context.Background(), groupID)
		require.NoError(t, err)
		assert.Equal(t, groupID, g.ID)
	}
	assert.Equal(t, int64(1), calls.Load())
	assert.Equal(t, http.MethodPost, method)
	assert.Equal(t, "/oauth/token", path)
	assert.Equal(t, "application/x-www-form-urlencoded", ctype)
	assert.Empty(t, accept)
	require.True(t, basicOK)
	assert.Equal(t, testClientID, user)
	assert.Equal(t, testSecret, pass)
	assert.Equal(t, "client_credentials", grant)
}

// TestTokenEndpointFailures: every token endpoint failure is mapped to a
// typed error without secrets, and the API is never called.
func TestTokenEndpointFailures(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)

	write := func(status int, ctype, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("ININ-Correlation-Id", "tok-corr")
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		status  int    // want an *upstream.Error with this status, or 0 for a TransportError
		code    string // the Error's code
		is      error
	}{
		{"401 invalid_client echoing the secret", write(http.StatusUnauthorized, "application/json",
			`{"error":"invalid_client","description":"bad secret `+testSecret+`","error_description":"`+testSecret+` is wrong"}`),
			http.StatusUnauthorized, "invalid_client", upstream.ErrUnauthorized},
		{"400 with the secret as error code", write(http.StatusBadRequest, "application/json", `{"error":"`+testSecret+`"}`),
			http.StatusBadRequest, "", upstream.ErrBadRequest},
		{"400 text body with the secret", write(http.StatusBadRequest, "text/plain", "secret="+testSecret),
			http.StatusBadRequest, "", upstream.ErrBadRequest},
		{"429", write(http.StatusTooManyRequests, "application/json", `{"error":"temporarily_unavailable"}`),
			http.StatusTooManyRequests, "temporarily_unavailable", upstream.ErrRateLimited},
		{"500 HTML with the secret", write(http.StatusInternalServerError, "text/html", "<html>"+testSecret+"</html>"),
			http.StatusInternalServerError, "", upstream.ErrUnavailable},
		{"200 HTML with the secret", write(http.StatusOK, "text/html", "<html>"+testSecret+"</html>"),
			0, "", upstream.ErrUnavailable},
		{"200 with an error", write(http.StatusOK, "application/json", `{"error":"invalid_client","error_description":"`+testSecret+`"}`),
			0, "", upstream.ErrUnavailable},
		{"200 without access token", write(http.StatusOK, "application/json", `{"token_type":"bearer","note":"`+testSecret+`"}`),
			0, "", upstream.ErrUnavailable},
		{"307 to another host", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ININ-Correlation-Id", "tok-corr")
			http.Redirect(w, r, other.URL+"/oauth/token", http.StatusTemporaryRedirect)
		}, http.StatusTemporaryRedirect, "", upstream.ErrUnavailable},
		{"connection reset", resetConnection, 0, "", upstream.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			login := httptest.NewServer(tc.handler)
			t.Cleanup(login.Close)
			api, apiCalls := groupAPI(t, testToken)
			c := newAuthClient(t, api.URL, login.URL, time.Minute)

			_, err := c.GetGroup(context.Background(), groupID)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			assertNoSecrets(t, err)
			assert.Zero(t, apiCalls.Load())
			if tc.status == 0 {
				var te *upstream.TransportError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, "/oauth/token", te.Path)
				return
			}
			var ue *upstream.Error
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, upstream.Genesys, ue.Upstream)
			assert.Equal(t, "/oauth/token", ue.Path)
			assert.Equal(t, tc.status, ue.Status)
			assert.Equal(t, tc.code, ue.Code)
			assert.Equal(t, "tok-corr", ue.CorrelationID)
		})
	}
	assert.Zero(t, elsewhere.Load())
}

func TestTokenEndpointUnreachable(t *testing.T) {
	login := httptest.NewServer(http.NotFoundHandler())
	login.Close()
	api, apiCalls := groupAPI(t, testToken)
	c := newAuthClient(t, api.URL, login.URL, time.Minute)

	_, err := c.GetGroup(context.Background(), groupID)
	var te *upstream.TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "connection refused", te.Kind)
	assertNoSecrets(t, err)
	assert.Zero(t, apiCalls.Load())
}

func TestMalformedLoginURL(t *testing.T) {
	api, apiCalls := groupAPI(t, testToken)
	c := newAuthClient(t, api.URL, "https://user:"+testSecret+"@login.example.com?x=1", time.Minute)

	_, err := c.GetGroup(context.Background(), groupID)
	assert.ErrorIs(t, err, upstream.ErrInvalidInput)
	assertNoSecrets(t, err)
	assert.Zero(t, apiCalls.Load())
}

// TestTokenRefreshSingleFlight: 200 calls at once when the token has expired
// cause exactly one token request, and all of them use the new token.
func TestTokenRefreshSingleFlight(t *testing.T) {
	const callers = 200
	var tokenCalls atomic.Int64
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if tokenCalls.Add(1) == 1 {
			// Valid for 30 s: already inside the 60 s early-expiry margin.
			tokenAnswer(w, "expiring-token", 30)
			return
		}
		time.Sleep(50 * time.Millisecond) // let the callers pile up
		tokenAnswer(w, testToken, 86400)
	}))
	t.Cleanup(login.Close)

	var stale, fresh atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer expiring-token":
			stale.Add(1)
		case "Bearer " + testToken:
			fresh.Add(1)
		}
		fmt.Fprint(w, `{"id":"`+groupID+`"}`)
	}))
	t.Cleanup(api.Close)
	c := newAuthClient(t, api.URL, login.URL, time.Minute)

	_, err := c.GetGroup(context.Background(), groupID)
	require.NoError(t, err)
	require.Equal(t, int64(1), tokenCalls.Load())
	require.Equal(t, int64(1), stale.Load())

	for _, err := range getGroupConcurrently(c, callers) {
		assert.NoError(t, err)
	}
	assert.Equal(t, int64(2), tokenCalls.Load())
	assert.Equal(t, int64(callers), fresh.Load())
	assert.Equal(t, int64(1), stale.Load())
}

// TestCallerToken: a call with a caller token sends that token and never
// asks the gateway's token endpoint.
func TestCallerToken(t *testing.T) {
	var tokenCalls atomic.Int64
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tokenCalls.Add(1)
		tokenAnswer(w, testToken, 86400)
	}))
	t.Cleanup(login.Close)
	api, apiCalls := groupAPI(t, "caller-token")
	c := newAuthClient(t, api.URL, login.URL, time.Minute)

	ctx := WithCallerToken(context.Background(), "caller-token")
	g, err := c.GetGroup(ctx, groupID)
	require.NoError(t, err)
	assert.Equal(t, groupID, g.ID)
	assert.Equal(t, int64(1), apiCalls.Load())
	assert.Zero(t, tokenCalls.Load())

	// Without the caller token the gateway's token is used, which this API
	// rejects: the caller's token was not cached anywhere. The refused
	// token is renewed once, and the new one is refused too.
	_, err = c.GetGroup(context.Background(), groupID)
	assert.ErrorIs(t, err, upstream.ErrUnauthorized)
	assert.Equal(t, int64(2), tokenCalls.Load())
	assert.Equal(t, int64(3), apiCalls.Load())
}

// TestSecretsNeverInErrors drives the canary token (obtained through the
// real token source built with the canary secret) through every kind of API
// failure; the API echoes the token it was sent.
func TestSecretsNeverInErrors(t *testing.T) {
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tokenAnswer(w, testToken, 86400)
	}))
	t.Cleanup(login.Close)

	echo := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			fmt.Fprint(w, strings.ReplaceAll(body, "TOKEN", r.Header.Get("Authorization")))
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		is      error
		kind    string // the TransportError's Kind, "" for an *upstream.Error
	}{
		{"error body echoing the token", echo(http.StatusUnauthorized,
			`{"code":"TOKEN","message":"token TOKEN rejected","contextId":"TOKEN"}`), upstream.ErrUnauthorized, ""},
		{"HTML with 200", echo(http.StatusOK, "<html>TOKEN "+testSecret+"</html>"), upstream.ErrUnavailable, "invalid response body"},
		{"truncated JSON", echo(http.StatusOK, `{"id":"`+groupID+`","name":"TOKEN`), upstream.ErrUnavailable, "invalid response body"},
		{"body over 5 MiB", echo(http.StatusOK, `{"name":"TOKEN`+strings.Repeat("x", upstream.MaxSuccessBody)+`"}`),
			upstream.ErrUnavailable, "body too large"},
		{"connection reset", resetConnection, upstream.ErrUnavailable, "connection reset"},
		{"timeout", func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, upstream.ErrUnavailable, "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := httptest.NewServer(tc.handler)
			t.Cleanup(api.Close)
			timeout := time.Minute
			if tc.kind == "timeout" {
				timeout = 300 * time.Millisecond
			}
			c := newAuthClient(t, api.URL, login.URL, timeout)
			_, err := c.GetGroup(context.Background(), groupID)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			assertNoSecrets(t, err)
			if tc.kind != "" {
				var te *upstream.TransportError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, tc.kind, te.Kind)
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		api := httptest.NewServer(http.NotFoundHandler())
		api.Close()
		c := newAuthClient(t, api.URL, login.URL, time.Minute)
		_, err := c.GetGroup(context.Background(), groupID)
		assert.ErrorIs(t, err, upstream.ErrUnavailable)
		assertNoSecrets(t, err)
	})
}

// resetConnection drops the connection without an answer (RST).
func resetConnection(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// getGroupConcurrently reads groupID n times at once and returns each
// call's error.
func getGroupConcurrently(c *Client, n int) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = c.GetGroup(context.Background(), groupID) })
	}
	wg.Wait()
	return errs
}
