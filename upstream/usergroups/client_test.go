package usergroups

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
)

const (
	testCompanyID = 61234
	// testKey is the IntegrationKey canary: it must never appear in an error.
	testKey = "canary-IK-7f3e9c1d0b"
	// groupID and userID are in the platform's "N" form (32 hex digits, no
	// hyphens), as its vendor samples show ids.
	groupID = "b42a6f0e3c1d4e5f8a9b0c1d2e3f4a5b"
	userID  = "c9b1d2e3f4a54b6c8d7e9f0a1b2c3d4e"
)

// fixture is a client wired to an httptest server whose handlers are
// registered on mux; calls counts the requests the server received.
type fixture struct {
	client *Client
	mux    *http.ServeMux
	calls  *atomic.Int64
}

// setup starts a server and a client with the default test options.
func setup(t *testing.T) *fixture {
	t.Helper()
	return setupWith(t, upstream.ClientOptions{Timeout: 5 * time.Second})
}

// setupWith starts a server and a client built with o.
func setupWith(t *testing.T, o upstream.ClientOptions) *fixture {
	t.Helper()
	f := &fixture{mux: http.NewServeMux(), calls: new(atomic.Int64)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		f.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, testCompanyID, testKey, upstream.NewHTTPClient(o))
	require.NoError(t, err)
	f.client = c
	return f
}

// op is one client method, reduced to its error.
type op struct {
	name string
	path string
	call func(context.Context, *Client) error
}

// ops calls every method with valid arguments.
var ops = []op{
	{"Create", "/api/v2/usergroup", func(ctx context.Context, c *Client) error {
		_, err := c.Create(ctx, CreateRequest{Name: "Ops"})
		return err
	}},
	{"Get", "/api/v2/usergroup", func(ctx context.Context, c *Client) error {
		_, err := c.Get(ctx, groupID)
		return err
	}},
	{"Update", "/api/v2/usergroup", func(ctx context.Context, c *Client) error {
		_, err := c.Update(ctx, UpdateRequest{ID: groupID, Name: "Ops"})
		return err
	}},
	{"Delete", "/api/v2/usergroup", func(ctx context.Context, c *Client) error {
		return c.Delete(ctx, groupID)
	}},
	{"Search", "/api/v2/usergroup/search", func(ctx context.Context, c *Client) error {
		_, err := c.Search(ctx, SearchOptions{Name: "Ops", PageSize: 10})
		return err
	}},
}

func TestNew(t *testing.T) {
	tests := []struct {
		name, baseURL string
		companyID     int64
		key           string
		wantSetting   string
	}{
		{"relative URL", "/api", testCompanyID, testKey, "base URL"},
		{"no scheme", "secure.formsonfire.com", testCompanyID, testKey, "base URL"},
		{"ftp", "ftp://secure.formsonfire.com", testCompanyID, testKey, "base URL"},
		{"empty URL", "", testCompanyID, testKey, "base URL"},
		{"unparsable", "http://[::1", testCompanyID, testKey, "base URL"},
		{"user info", "https://u:" + testKey + "@secure.formsonfire.com", testCompanyID, testKey, "base URL"},
		{"query", "https://secure.formsonfire.com?IntegrationKey=" + testKey, testCompanyID, testKey, "base URL"},
		{"fragment", "https://secure.formsonfire.com#x", testCompanyID, testKey, "base URL"},
		{"zero company", "https://secure.formsonfire.com", 0, testKey, "company id"},
		{"negative company", "https://secure.formsonfire.com", -5, testKey, "company id"},
		{"empty key", "https://secure.formsonfire.com", testCompanyID, "", "integration key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.baseURL, tt.companyID, tt.key, nil)
			require.Error(t, err)
			assert.Nil(t, c)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.wantSetting, ce.Setting)
			assert.NotContains(t, err.Error(), testKey)
		})
	}
}

func TestNewEndpoint(t *testing.T) {
	tests := []struct{ baseURL, want string }{
		{"https://secure.formsonfire.com", "https://secure.formsonfire.com/api/v2/usergroup"},
		{"https://secure.formsonfire.com/", "https://secure.formsonfire.com/api/v2/usergroup"},
		{"https://secure.amplusforms.com:443", "https://secure.amplusforms.com:443/api/v2/usergroup"},
		{"http://forms.internal:8080/tenant/", "http://forms.internal:8080/tenant/api/v2/usergroup"},
	}
	for _, tt := range tests {
		t.Run(tt.baseURL, func(t *testing.T) {
			c, err := New(tt.baseURL, testCompanyID, testKey, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.endpoint)
			assert.NotNil(t, c.hc, "nil hc takes the hardened default client")
		})
	}
}

func TestErrorMapping(t *testing.T) {
	rs := func(code, msg string) string {
		return fmt.Sprintf(`{"ResponseStatus":{"ErrorCode":%q,"Message":%q}}`, code, msg)
	}
	html := "<html><body>Service Unavailable</body></html>"
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		want       error // sentinel; nil when none applies
		wantStatus int
		wantCode   string
		wantMsg    string
		wantRetry  time.Duration
	}{
		{name: "400 argument", status: 400, body: rs("ArgumentException", "Name is required"),
			want: upstream.ErrBadRequest, wantStatus: 400, wantCode: "ArgumentException", wantMsg: "Name is required"},
		{name: "400 field errors", status: 400,
			body: `{"ResponseStatus":{"ErrorCode":"NotEmpty","Errors":[{"ErrorCode":"NotEmpty","FieldName":"Name","Message":"must not be empty"}]}}`,
			want: upstream.ErrBadRequest, wantStatus: 400, wantCode: "NotEmpty", wantMsg: "Name: must not be empty"},
		{name: "401 bad credentials", status: 401, body: rs("Unauthorized", "Invalid CompanyId or IntegrationKey"),
			want: upstream.ErrUnauthorized, wantStatus: 401, wantCode: "Unauthorized", wantMsg: "Invalid CompanyId or IntegrationKey"},
		{name: "403", status: 403, body: rs("UnauthorizedAccessException", "denied"),
			want: upstream.ErrForbidden, wantStatus: 403, wantCode: "UnauthorizedAccessException", wantMsg: "denied"},
		{name: "404", status: 404, body: rs("NotFound", "UserGroup not found"),
			want: upstream.ErrNotFound, wantStatus: 404, wantCode: "NotFound", wantMsg: "UserGroup not found"},
		{name: "405 unknown route", status: 405, body: html, wantStatus: 405},
		{name: "409", status: 409, body: rs("Conflict", "duplicate ExternalId"),
			want: upstream.ErrConflict, wantStatus: 409, wantCode: "Conflict", wantMsg: "duplicate ExternalId"},
		{name: "429 Retry-After", status: 429, header: http.Header{"Retry-After": {"7"}},
			want: upstream.ErrRateLimited, wantStatus: 429, wantRetry: 7 * time.Second},
		{name: "500 HTML", status: 500, body: html, want: upstream.ErrUnavailable, wantStatus: 500},
		{name: "503 Retry-After", status: 503, header: http.Header{"Retry-After": {"30"}}, body: rs("ServiceUnavailable", "maintenance"),
			want: upstream.ErrUnavailable, wantStatus: 503, wantCode: "ServiceUnavailable", wantMsg: "maintenance", wantRetry: 30 * time.Second},
		{name: "500 error body over the cap", status: 500, body: strings.Repeat("x", upstream.MaxErrorBody+10),
			want: upstream.ErrUnavailable, wantStatus: 500},
		{name: "200 ResponseStatus argument", status: 200, body: rs("ArgumentException", "bad Id"),
			want: upstream.ErrBadRequest, wantStatus: 400, wantCode: "ArgumentException", wantMsg: "bad Id"},
		{name: "200 ResponseStatus authentication", status: 200, body: rs("AuthenticationException", "invalid key"),
			want: upstream.ErrUnauthorized, wantStatus: 401, wantCode: "AuthenticationException", wantMsg: "invalid key"},
		{name: "200 ResponseStatus not found", status: 200, body: `{"UserGroup":null,` + rs("NotFound", "no such group")[1:],
			want: upstream.ErrNotFound, wantStatus: 404, wantCode: "NotFound", wantMsg: "no such group"},
		{name: "200 ResponseStatus validation", status: 200,
			body: `{"ResponseStatus":{"ErrorCode":"NotEmpty","Message":"'Name' must not be empty.","Errors":[{"ErrorCode":"NotEmpty","FieldName":"Name"}]}}`,
			want: upstream.ErrBadRequest, wantStatus: 400, wantCode: "NotEmpty", wantMsg: "'Name' must not be empty."},
		{name: "200 ResponseStatus other", status: 200, body: rs("InvalidOperationException", "boom"),
			want: upstream.ErrUnavailable, wantStatus: 500, wantCode: "InvalidOperationException", wantMsg: "boom"},
		{name: "long message truncated", status: 400, body: rs("ArgumentException", strings.Repeat("é", 600)),
			want: upstream.ErrBadRequest, wantStatus: 400, wantCode: "ArgumentException", wantMsg: strings.Repeat("é", maxMessage/2) + "…"},
	}
	for _, tt := range tests {
		for _, o := range ops {
			t.Run(tt.name+"/"+o.name, func(t *testing.T) {
				f := setup(t)
				f.mux.HandleFunc("/", replyWith(tt.status, tt.header, tt.body))

				err := o.call(context.Background(), f.client)

				var ue *upstream.Error
				require.ErrorAs(t, err, &ue)
				if tt.want != nil {
					assert.ErrorIs(t, err, tt.want)
				}
				for _, other := range []error{upstream.ErrBadRequest, upstream.ErrUnauthorized, upstream.ErrForbidden,
					upstream.ErrNotFound, upstream.ErrConflict, upstream.ErrRateLimited, upstream.ErrUnavailable} {
					if other != tt.want {
						assert.NotErrorIs(t, err, other)
					}
				}
				assert.Equal(t, upstream.Usergroups, ue.Upstream)
				assert.Equal(t, o.path, ue.Path)
				assert.Equal(t, tt.wantStatus, ue.Status)
				assert.Equal(t, tt.wantCode, ue.Code)
				assert.Equal(t, tt.wantMsg, ue.Message)
				assert.Equal(t, tt.wantRetry, ue.RetryAfter)
				assert.Equal(t, int64(1), f.calls.Load())
			})
		}
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			var hits atomic.Int64
			other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
			t.Cleanup(other.Close)
			f := setup(t)
			f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+r.URL.RequestURI()+"&IntegrationKey="+testKey, http.StatusTemporaryRedirect)
			})

			err := o.call(context.Background(), f.client)

			var ue *upstream.Error
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, http.StatusTemporaryRedirect, ue.Status)
			assert.ErrorIs(t, err, upstream.ErrUnavailable)
			assertNoKey(t, err)
			assert.Zero(t, hits.Load(), "the redirect target must receive nothing")
		})
	}
}

// TestCanaryKey drives upstream answers that echo the IntegrationKey through
// every method: the key must not reach the error. (TestTransportFailures and
// TestRedirectNotFollowed check the other failures for it.)
func TestCanaryKey(t *testing.T) {
	echo := fmt.Sprintf(`{"ResponseStatus":{"ErrorCode":"Bad %s","Message":"key %s (%s) rejected","Errors":[{"FieldName":"IntegrationKey","Message":%q}]}}`,
		testKey, testKey, url.QueryEscape(testKey+"&"), testKey)
	fieldEcho := fmt.Sprintf(`{"ResponseStatus":{"ErrorCode":"NotValid","Errors":[{"FieldName":"IntegrationKey","Message":"%s is not valid"}]}}`, testKey)
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"400 ResponseStatus", reply(http.StatusBadRequest, echo)},
		{"200 ResponseStatus", reply(http.StatusOK, echo)},
		{"401 field error", reply(http.StatusUnauthorized, fieldEcho)},
		{"401 HTML", reply(http.StatusUnauthorized, "<h1>bad key "+testKey+"</h1>")},
		{"500 plain text", reply(http.StatusInternalServerError, "IntegrationKey="+testKey)},
	}
	for _, tt := range tests {
		for _, o := range ops {
			t.Run(tt.name+"/"+o.name, func(t *testing.T) {
				f := setup(t)
				var sent atomic.Bool
				f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					sent.Store(r.URL.Query().Get("IntegrationKey") == testKey || strings.Contains(string(b), testKey))
					tt.handler(w, r)
				})

				err := o.call(context.Background(), f.client)

				require.True(t, sent.Load(), "the canary must have been sent")
				var ue *upstream.Error
				require.ErrorAs(t, err, &ue)
				assertNoKey(t, err)
			})
		}
	}
}

func TestTransportFailures(t *testing.T) {
	tests := []struct {
		name        string
		handler     http.HandlerFunc // nil: a closed port, unless stall
		stall       bool
		timeout     time.Duration
		wantKind    string
		wantTimeout bool
	}{
		{name: "connection refused", wantKind: "connection refused"},
		{name: "connection reset", handler: resetConn, wantKind: "connection reset"},
		{name: "timeout", stall: true, timeout: 100 * time.Millisecond, wantKind: "timeout", wantTimeout: true},
		{name: "body over 5 MiB", handler: reply(http.StatusOK, `{"UserGroup":{"Name":"`+strings.Repeat(testKey, upstream.MaxSuccessBody/len(testKey)+1)+`"}}`),
			wantKind: "body too large"},
		{name: "truncated JSON", handler: reply(http.StatusOK, `{"UserGroup":{"Id":"b42a6f0e-3c1d","Name":"`+testKey), wantKind: "invalid response body"},
		{name: "HTML with 200", handler: reply(http.StatusOK, "<!DOCTYPE html><html>Login "+testKey+"</html>"), wantKind: "invalid response body"},
		{name: "XML with 200", handler: reply(http.StatusOK, `<UserGroupResponse xmlns:i="http://www.w3.org/2001/XMLSchema-instance"/>`),
			wantKind: "invalid response body"},
		{name: "empty body", handler: reply(http.StatusOK, ""), wantKind: "invalid response body"},
	}
	for _, tt := range tests {
		for _, o := range ops {
			t.Run(tt.name+"/"+o.name, func(t *testing.T) {
				f := setupWith(t, upstream.ClientOptions{Timeout: cmp.Or(tt.timeout, 5*time.Second)})
				switch {
				case tt.stall:
					f.mux.HandleFunc("/", stall(t))
				case tt.handler == nil:
					f.client.endpoint = closedURL(t) + apiPath
				default:
					f.mux.HandleFunc("/", tt.handler)
				}

				err := o.call(context.Background(), f.client)

				var te *upstream.TransportError
				require.ErrorAs(t, err, &te)
				assert.ErrorIs(t, err, upstream.ErrUnavailable)
				assert.Equal(t, tt.wantKind, te.Kind)
				assert.Equal(t, tt.wantTimeout, te.Timeout)
				assert.Equal(t, upstream.Usergroups, te.Upstream)
				assert.Equal(t, o.path, te.Path)
				assertNoKey(t, err)
			})
		}
	}
}

// TestUnusableCreateAnswer: a 2xx to a POST whose body is unusable means the
// group may exist, so the outcome is unknown; reads are not marked.
func TestUnusableCreateAnswer(t *testing.T) {
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			f := setup(t)
			f.mux.HandleFunc("/", reply(200, `{"UserGroup":`))

			err := o.call(context.Background(), f.client)

			var te *upstream.TransportError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, http.StatusOK, te.Status)
			assert.Equal(t, o.name == "Create", te.OutcomeUnknown)
		})
	}
}

func TestCancelledContext(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("/", reply(200, "{}"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			err := o.call(ctx, f.client)

			var te *upstream.TransportError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, "request cancelled", te.Kind)
		})
	}
	assert.Zero(t, f.calls.Load())
}

// assertNoKey checks that the IntegrationKey never shows in err, however err is
// printed.
func assertNoKey(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		assert.NotContains(t, s, testKey)
		assert.NotContains(t, s, url.QueryEscape(testKey))
	}
}

// reply answers with status and body.
func reply(status int, body string) http.HandlerFunc { return replyWith(status, nil, body) }

// replyWith answers with status, header and body.
func replyWith(status int, header http.Header, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// resetConn closes the connection without an answer, with a TCP reset.
func resetConn(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// stall returns a handler that answers only once the client has gone or
// the test has ended. It reads the body first: the server notices a client
// that went away only once the body is consumed.
func stall(t *testing.T) http.HandlerFunc {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) }) // runs before the server's Close
	return func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
}

// closedURL returns the URL of a server that is no longer listening.
func closedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}
