package genesys

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/groupdir/gateway/upstream"
)

// Test ids and canaries. testToken and testSecret must never appear in an
// error text.
const (
	groupID    = "5d3b0c2e-8a41-4c7e-9f0a-1b2c3d4e5f60"
	group2ID   = "0b6e7a3c-2f1d-4e5a-9c8b-7a6f5e4d3c2b"
	userA      = "11111111-2222-4333-8444-555555555555"
	userB      = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	testToken  = "canary-access-token-Zq81xW"
	testSecret = "canary-client-secret-Kp47vR"
)

// setup returns a client for a fresh httptest server whose handler is the
// returned mux, authenticated with the static testToken.
func setup(t testing.TB) (*Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return newTestClient(t, srv.URL, time.Minute), mux
}

func newTestClient(t testing.TB, baseURL string, timeout time.Duration) *Client {
	t.Helper()
	hc := upstream.NewHTTPClient(upstream.ClientOptions{Timeout: timeout})
	c, err := New(baseURL, hc, WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})))
	require.NoError(t, err)
	return c
}

// countRequests counts, and fails the test for, every request that reaches
// mux outside the patterns registered on it.
func countRequests(t *testing.T, mux *http.ServeMux) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	})
	return &n
}

func TestNewValidatesBaseURL(t *testing.T) {
	tests := []struct {
		name, url string
		ok        bool
	}{
		{"https", "https://api.mypurecloud.ie", true},
		{"http with port and path", "http://127.0.0.1:8080/genesys/", true},
		{"upper-case scheme", "HTTPS://api.mypurecloud.com", true},
		{"relative", "/api", false},
		{"no host", "https://", false},
		{"ftp", "ftp://api.mypurecloud.com", false},
		{"query", "https://api.mypurecloud.com?x=1", false},
		{"empty query", "https://api.mypurecloud.com?", false},
		{"fragment", "https://api.mypurecloud.com#f", false},
		{"credentials", "https://user:" + testSecret + "@api.mypurecloud.com", false},
		{"garbage", "://%zz", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.url, nil)
			if tc.ok {
				require.NoError(t, err)
				assert.NotNil(t, c)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, upstream.ErrInvalidInput)
			assert.NotContains(t, err.Error(), testSecret)
		})
	}
}

func TestBasePathIsKept(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	var got string
	mux.HandleFunc("GET /prefix/api/v2/groups/"+groupID, func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Path
		fmt.Fprint(w, `{"id":"`+groupID+`"}`)
	})
	c := newTestClient(t, srv.URL+"/prefix/", time.Minute)
	_, err := c.GetGroup(context.Background(), groupID)
	require.NoError(t, err)
	assert.Equal(t, "/prefix/api/v2/groups/"+groupID, got)
}

func TestUserAgentOption(t *testing.T) {
	c, mux := setup(t)
	WithUserAgent("test-agent/2")(c)
	var got string
	mux.HandleFunc("GET /api/v2/groups/"+groupID, func(w http.ResponseWriter, r *http.Request) {
		got = r.UserAgent()
		fmt.Fprint(w, `{}`)
	})
	_, err := c.GetGroup(context.Background(), groupID)
	require.NoError(t, err)
	assert.Equal(t, "test-agent/2", got)
}

func TestCorrelationIDFromBodyWhenNoHeader(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v2/groups/"+groupID, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"code":"general.resource.not.found","status":404,"contextId":"ctx-42","message":"Group not found"}`)
	})
	_, err := c.GetGroup(context.Background(), groupID)
	var ue *upstream.Error
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "ctx-42", ue.CorrelationID)
	assert.Equal(t, "general.resource.not.found", ue.Code)
	assert.Equal(t, "Group not found", ue.Message)
	assert.ErrorIs(t, err, upstream.ErrNotFound)
}

func TestErrorWithoutJSONBody(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v2/groups/"+groupID, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html>"+testToken+"</html>")
	})
	_, err := c.GetGroup(context.Background(), groupID)
	var ue *upstream.Error
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, http.StatusBadGateway, ue.Status)
	assert.Empty(t, ue.Message)
	assert.ErrorIs(t, err, upstream.ErrUnavailable)
	assert.NotContains(t, err.Error(), testToken)
}

func TestErrorMessageIsCleaned(t *testing.T) {
	c, mux := setup(t)
	long := "bad token " + testToken + "\r\nX-Injected: 1 " + strings.Repeat("é", 1000)
	mux.HandleFunc("PUT /api/v2/groups/"+groupID, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("ININ-Correlation-Id", "corr\n"+testToken)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"code":"bad.request %s","message":%q}`, testToken, long)
	})
	_, err := c.UpdateGroup(context.Background(), groupID, GroupUpdate{Version: 1})
	var ue *upstream.Error
	require.ErrorAs(t, err, &ue)
	assert.LessOrEqual(t, len([]rune(ue.Message)), maxMessage+1)
	assert.NotContains(t, err.Error(), testToken)
	assert.NotContains(t, err.Error(), "\n")
	assert.NotContains(t, err.Error(), "\r")
	assert.Contains(t, ue.Message, "[redacted]")
}

func TestOversizedErrorBodyStillMapped(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v2/groups/"+groupID, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"message":"`+strings.Repeat("x", upstream.MaxErrorBody)+`"}`)
	})
	_, err := c.GetGroup(context.Background(), groupID)
	var ue *upstream.Error
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, http.StatusServiceUnavailable, ue.Status)
	assert.Equal(t, 3*time.Second, ue.RetryAfter)
	assert.Empty(t, ue.Message)
}

// TestUnusableSuccessAnswers: a 2xx whose body cannot be used is a
// TransportError (ErrUnavailable) with status and correlation id, quoting
// nothing of the body.
func TestUnusableSuccessAnswers(t *testing.T) {
	tests := []struct {
		name, body   string
		call         func(context.Context, *Client) error
		kind         string
		outcomeUnkwn bool
	}{
		{"HTML with 200", "<html><body>" + testToken + "</body></html>", getGroup, "invalid response body", false},
		{"truncated JSON", `{"id":"` + groupID + `","name":"Supp`, getGroup, "invalid response body", false},
		{"empty body", "", getGroup, "invalid response body", false},
		{"null", "null", getGroup, "invalid response body", false},
		{"array", "[]", getGroup, "invalid response body", false},
		{"body over 5 MiB", `{"name":"` + strings.Repeat("a", upstream.MaxSuccessBody) + `"}`, getGroup, "body too large", false},
		{"HTML answer to a create", "<html>" + testToken + "</html>", createGroup, "invalid response body", true},
		{"HTML answer to a members add", "<html>" + testToken + "</html>", addMembers, "invalid response body", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, mux := setup(t)
			mux.HandleFunc("/api/v2/groups/", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("ININ-Correlation-Id", "corr-1")
				fmt.Fprint(w, tc.body)
			})
			mux.HandleFunc("/api/v2/groups", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("ININ-Correlation-Id", "corr-1")
				fmt.Fprint(w, tc.body)
			})
			err := tc.call(context.Background(), c)
			var te *upstream.TransportError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tc.kind, te.Kind)
			assert.Equal(t, http.StatusOK, te.Status)
			assert.Equal(t, "corr-1", te.CorrelationID)
			assert.Equal(t, upstream.Genesys, te.Upstream)
			assert.Equal(t, tc.outcomeUnkwn, te.OutcomeUnknown)
			assert.ErrorIs(t, err, upstream.ErrUnavailable)
			assert.NotContains(t, err.Error(), testToken)
			assert.NotContains(t, err.Error(), "Supp")
		})
	}
}

func getGroup(ctx context.Context, c *Client) error {
	_, err := c.GetGroup(ctx, groupID)
	return err
}

func createGroup(ctx context.Context, c *Client) error {
	_, err := c.CreateGroup(ctx, GroupCreate{Name: "n", Type: GroupTypeOfficial, Visibility: VisibilityPublic})
	return err
}

func addMembers(ctx context.Context, c *Client) error {
	return c.AddGroupMembers(ctx, groupID, GroupMembersUpdate{MemberIDs: []string{userA}})
}

// TestRedirectNotFollowed: a 307 to another server is an error and that
// server receives nothing, for a read and for a write with a body.
func TestRedirectNotFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(other.Close)

	c, mux := setup(t)
	redirect := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}
	mux.HandleFunc("/api/v2/groups/", redirect)
	mux.HandleFunc("/api/v2/groups", redirect)

	for name, call := range map[string]func(context.Context, *Client) error{"GET": getGroup, "POST": createGroup} {
		t.Run(name, func(t *testing.T) {
			err := call(context.Background(), c)
			var ue *upstream.Error
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, http.StatusTemporaryRedirect, ue.Status)
			assert.ErrorIs(t, err, upstream.ErrUnavailable)
			assert.NotContains(t, err.Error(), other.URL)
		})
	}
	assert.Zero(t, elsewhere.Load())
}

func TestNoTokenSendsNothing(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	n := countRequests(t, mux)
	c, err := New(srv.URL, nil)
	require.NoError(t, err)

	_, err = c.GetGroup(context.Background(), groupID)
	require.ErrorIs(t, err, ErrNoToken)
	assert.ErrorIs(t, err, upstream.ErrUnauthorized)

	_, err = c.GetGroup(WithCallerToken(context.Background(), ""), groupID)
	assert.ErrorIs(t, err, ErrNoToken)
	assert.Zero(t, n.Load())
}

func TestCursorQ64(t *testing.T) {
	tests := map[string]string{
		"/api/v2/groups/search?q64=H4sIAAAAAAAAAKtW%3D":              "H4sIAAAAAAAAAKtW=",
		"/api/v2/groups/search?q64=abc_-&expand=x":                   "abc_-",
		"https://api.mypurecloud.com/api/v2/groups/search?q64=a%2Bb": "a+b",
		"/api/v2/groups/search":                                      "",
		"":                                                           "",
		"%zz":                                                        "",
	}
	for uri, want := range tests {
		assert.Equal(t, want, CursorQ64(uri), uri)
	}
}
