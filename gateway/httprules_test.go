package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

// createGroupBody is a JSON request that would create a group if it ran.
const createGroupBody = `{"query":"mutation { createGroup(input: {name: \"csrf\"}) { id } }"}`

// raw sends a request with the given body and headers (name, value pairs)
// and logs how long the answer took.
func (e *testEnv) raw(t *testing.T, method, target string, body io.Reader, headers ...string) gqlResponse {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+target, body)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	r := e.do(req)
	t.Logf("answered %d in %v", r.Status, time.Since(start))
	return r
}

func TestHTTPRulesRefuseWithoutUpstreamCalls(t *testing.T) {
	getMutation := "/query?query=" + url.QueryEscape(`mutation { deleteGroup(id: "`+demodata.GroupID(1)+`") { deleted } }`)
	tests := []struct {
		name        string
		method      string
		target      string
		contentType string
		body        string
		status      int
	}{
		{"JSON array batch", http.MethodPost, "/query", "application/json", "[" + createGroupBody + "]", 400},
		{"text/plain (CSRF)", http.MethodPost, "/query", "text/plain", createGroupBody, 415},
		{"form (CSRF)", http.MethodPost, "/query", "application/x-www-form-urlencoded",
			"query=" + url.QueryEscape(`mutation { createGroup(input: {name: "csrf"}) { id } }`), 415},
		{"multipart (CSRF)", http.MethodPost, "/query", "multipart/form-data; boundary=b",
			"--b\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" + createGroupBody + "\r\n--b--\r\n", 415},
		{"GET carrying a mutation", http.MethodGet, getMutation, "", "", 405},
		{"trailing data", http.MethodPost, "/query", "application/json", createGroupBody + "{}", 400},
		{"PUT", http.MethodPut, "/query", "application/json", createGroupBody, 405},
		// Case 22: a proxy reading the first query member sees { __typename }.
		{"duplicate query member", http.MethodPost, "/query", "application/json",
			`{"query":"{ __typename }","query":"{ groups(pageSize: 1) { total } }"}`, 400},
		{"case-variant query member", http.MethodPost, "/query", "application/json",
			`{"query":"{ __typename }","QUERY":"{ groups(pageSize: 1) { total } }"}`, 400},
		{"duplicate variable", http.MethodPost, "/query", "application/json",
			`{"query":"query($p: Int) { groups(pageSize: $p) { total } }","variables":{"p":1,"p":2}}`, 400},
		{"repeated GET query parameter", http.MethodGet,
			"/query?query=" + url.QueryEscape("{ __typename }") + "&query=" + url.QueryEscape("{ groups(pageSize: 1) { total } }"), "", "", 400},
	}
	e := setup(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.contentType != "" {
				headers = []string{"Content-Type", tt.contentType}
			}
			r := e.raw(t, tt.method, tt.target, strings.NewReader(tt.body), headers...)
			assert.Equal(t, tt.status, r.Status)
			assert.Equal(t, []string{codeBadRequest}, r.codes())
			assert.Nil(t, r.Data)
			e.assertNoUpstreamCall(t)
		})
	}
}

// countingBody counts the bytes a handler read from request bodies.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestBodyOverTheCapIsRefusedUnread(t *testing.T) {
	const bodySize = 8 << 20
	e := setup(t, nil)
	var read atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = countingBody{ReadCloser: r.Body, n: &read}
		e.gw.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	for _, withLength := range []bool{true, false} {
		t.Run(map[bool]string{true: "with Content-Length", false: "chunked"}[withLength], func(t *testing.T) {
			read.Store(0)
			body := strings.NewReader(`{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", bodySize) + `"}}`)
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/query", io.NopCloser(body))
			require.NoError(t, err)
			if withLength {
				req.ContentLength = body.Size()
			}
			req.Header.Set("Content-Type", "application/json")
			start := time.Now()
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			t.Logf("answered %d in %v; the gateway read %d of %d bytes", resp.StatusCode, time.Since(start), read.Load(), bodySize)
			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
			assert.Contains(t, string(raw), codePayloadTooLarge)
			assert.LessOrEqual(t, read.Load(), int64(256<<10+1), "never read past the cap")
			e.assertNoUpstreamCall(t)
		})
	}
}

func TestMalformedBodyWithASecret(t *testing.T) {
	const secret = "canary-secret-Q9x7"
	e := setup(t, nil)
	body := `{"query":"{ __typename }","variables":{"clientSecret":"` + secret + `"` +
		strings.Repeat(`, "k": "`+secret+`"`, 4000) + ` oops`
	require.Greater(t, len(body), 100_000)
	r := e.raw(t, http.MethodPost, "/query", strings.NewReader(body), "Content-Type", "application/json")
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, []string{codeBadRequest}, r.codes())
	assert.Less(t, len(r.Raw), 200, "a small fixed answer")
	assert.NotContains(t, string(r.Raw), secret)
	assert.NotContains(t, e.log.String(), secret)
	e.assertNoUpstreamCall(t)
}

func TestRefusedBeforeExecutionStatusFollowsAccept(t *testing.T) {
	e := setup(t, nil)
	for accept, status := range map[string]int{mediaGraphQLResponse: 400, "application/json": 200} {
		t.Run(accept, func(t *testing.T) {
			r := e.timedPost(t, `{ nope }`, nil, "Accept", accept)
			assert.Equal(t, status, r.Status)
			assert.Equal(t, []string{codeValidationFailed}, r.codes())
			assert.NotContains(t, string(r.Raw), `"data"`)
			e.assertNoUpstreamCall(t)
		})
	}
}

func TestProductionDefaults(t *testing.T) {
	prod := setup(t, map[string]string{"GATEWAY_ENV": "production", "AUTH_MODE": "none"})
	dev := setup(t, nil)
	t.Run("introspection refused", func(t *testing.T) {
		r := prod.timedPost(t, `{ __schema { queryType { name } } }`, nil)
		assert.Equal(t, []string{codeValidationFailed}, r.codes())
		r = dev.timedPost(t, `{ __schema { queryType { name } } }`, nil)
		require.Empty(t, r.Errors)
		assert.Equal(t, "Query", dig(r.Data, "__schema", "queryType", "name"))
	})
	t.Run("no field suggestions", func(t *testing.T) {
		query := `query($id: ID!) { group(id: $id) { nmae } }`
		vars := map[string]any{"id": demodata.GroupID(1)}
		r := prod.timedPost(t, query, vars)
		assert.Equal(t, []string{codeValidationFailed}, r.codes())
		assert.NotContains(t, r.Errors[0].Message, "Did you mean")
		r = dev.timedPost(t, query, vars)
		assert.Contains(t, r.Errors[0].Message, "Did you mean")
	})
	t.Run("no IDE", func(t *testing.T) {
		resp, err := prod.srv.Client().Get(prod.srv.URL + "/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
	t.Run("each turned back on", func(t *testing.T) {
		e := setup(t, map[string]string{"GATEWAY_ENV": "production", "AUTH_MODE": "none", "GATEWAY_INTROSPECTION": "true"})
		r := e.timedPost(t, `{ __type(name: "Group") { name } }`, nil)
		require.Empty(t, r.Errors)
		assert.Equal(t, "Group", dig(r.Data, "__type", "name"))
	})
	prod.assertNoUpstreamCall(t)
}

func TestCORSEndToEnd(t *testing.T) {
	const origin = "https://app.example.com"
	e := setup(t, map[string]string{"CORS_ALLOWED_ORIGINS": origin + ", https://admin.example.com"})
	req, err := http.NewRequest(http.MethodOptions, e.srv.URL+"/query", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Idempotency-Key")
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))

	for o, want := range map[string]string{origin: origin, "https://evil.example.com": ""} {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/query", strings.NewReader(`{"query":"{ __typename }"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", o)
		resp, err := e.srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.Header.Get("Access-Control-Allow-Origin"), o)
		assert.Contains(t, resp.Header.Values("Vary"), "Origin")
	}
	e.assertNoUpstreamCall(t)
}
