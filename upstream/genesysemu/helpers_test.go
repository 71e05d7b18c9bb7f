package genesysemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testClientID     = "gateway-client"
	testClientSecret = "canary-secret-123"
	readerToken      = "caller-reader"
	adminToken       = "caller-admin"
)

// env is one emulator served over HTTP with a client-credentials token.
type env struct {
	t     *testing.T
	emu   *Server
	url   string
	token string
}

// strict turns on Options.StrictBodies, for the tests that check how
// bodies with unknown or miscased keys are refused.
func strict(o *Options) { o.StrictBodies = true }

func setup(t *testing.T, opts ...func(*Options)) *env {
	t.Helper()
	o := Options{ClientID: testClientID, ClientSecret: testClientSecret, Tokens: map[string][]string{
		readerToken: {"directory:group:view"}, adminToken: {"directory:*:*"}}}
	for _, f := range opts {
		f(&o)
	}
	emu := New(o)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	e := &env{t: t, emu: emu, url: srv.URL}
	e.token = e.issueToken()
	return e
}

func (e *env) issueToken() string {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequest(http.MethodPost, e.url+"/oauth/token", strings.NewReader(form.Encode()))
	require.NoError(e.t, err)
	req.SetBasicAuth(testClientID, testClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := e.send(req)
	require.Equal(e.t, http.StatusOK, resp.StatusCode, string(body))
	tok, _ := decode(e.t, body)["access_token"].(string)
	require.NotEmpty(e.t, tok)
	return tok
}

// call sends a request with the env's token; body is JSON-encoded unless it
// is a string.
func (e *env) call(method, path string, body any) (*http.Response, []byte) {
	e.t.Helper()
	return e.callAs(e.token, method, path, body)
}

func (e *env) callAs(token, method, path string, body any) (*http.Response, []byte) {
	e.t.Helper()
	resp, b, err := e.do(token, method, path, body)
	require.NoError(e.t, err)
	return resp, b
}

// do is callAs without assertions, for use off the test goroutine.
func (e *env) do(token, method, path string, body any) (*http.Response, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return roundTrip(req)
}

func (e *env) send(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	resp, b, err := roundTrip(req)
	require.NoError(e.t, err)
	return resp, b
}

func roundTrip(req *http.Request) (*http.Response, []byte, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// get calls GET path, requires 200 and returns the decoded body.
func (e *env) get(path string) map[string]any {
	e.t.Helper()
	resp, body := e.call(http.MethodGet, path, nil)
	require.Equal(e.t, http.StatusOK, resp.StatusCode, string(body))
	return decode(e.t, body)
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return m
}

// assertError checks an ErrorBody answer: status, code, and contextId equal
// to the correlation header.
func assertError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, string(body))
	m := decode(t, body)
	assert.Equal(t, code, m["code"])
	assert.EqualValues(t, status, m["status"])
	assert.NotEmpty(t, m["message"])
	assert.Equal(t, resp.Header.Get(CorrelationHeader), m["contextId"])
	assertCorrelation(t, resp)
}

func assertCorrelation(t *testing.T, resp *http.Response) {
	t.Helper()
	_, err := uuid.Parse(resp.Header.Get(CorrelationHeader))
	assert.NoError(t, err, "correlation id must be a UUID")
}

// ids returns the ids of a listing's entities (or a search's results).
func ids(t *testing.T, m map[string]any, key string) []string {
	t.Helper()
	list, ok := m[key].([]any)
	require.True(t, ok, "%s is not a list", key)
	out := make([]string, len(list))
	for k, item := range list {
		out[k], _ = item.(map[string]any)["id"].(string)
	}
	return out
}

func number(m map[string]any, key string) int {
	f, _ := m[key].(float64)
	return int(f)
}
