package guard

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHTTPRules(t *testing.T) {
	const query = `{"query":"{ __typename }"}`
	getMutation := "/?query=" + url.QueryEscape(`mutation { deleteGroup(id: "`+testGroupID+`") { id } }`)
	tests := []struct {
		name        string
		method      string
		target      string
		contentType string
		body        string
		status      int
		code        string
		allow       string
	}{
		{"POST JSON runs", http.MethodPost, "/", "application/json", query, 200, "", ""},
		{"charset utf-8 runs", http.MethodPost, "/", "application/json; charset=UTF-8", query, 200, "", ""},
		{"GET query runs", http.MethodGet, "/?query=" + url.QueryEscape("{ __typename }"), "", "", 200, "", ""},
		{"GET with variables runs", http.MethodGet, "/?query=" + url.QueryEscape(`query($id: ID!) { group(id: $id) { id } }`) +
			"&variables=" + url.QueryEscape(`{"id":"`+testGroupID+`"}`), "", "", 200, "", ""},
		{"text/plain (CSRF)", http.MethodPost, "/", "text/plain", query, 415, CodeBadRequest, ""},
		{"form (CSRF)", http.MethodPost, "/", "application/x-www-form-urlencoded", "query=" + url.QueryEscape("{ __typename }"), 415, CodeBadRequest, ""},
		{"multipart (CSRF)", http.MethodPost, "/", "multipart/form-data; boundary=x", "--x\r\n\r\n" + query + "\r\n--x--", 415, CodeBadRequest, ""},
		{"no content type", http.MethodPost, "/", "", query, 415, CodeBadRequest, ""},
		{"application/graphql", http.MethodPost, "/", "application/graphql", "{ __typename }", 415, CodeBadRequest, ""},
		{"other charset", http.MethodPost, "/", "application/json; charset=latin1", query, 415, CodeBadRequest, ""},
		{"JSON array batch", http.MethodPost, "/", "application/json", "[" + query + "," + query + "]", 400, CodeBadRequest, ""},
		{"trailing object", http.MethodPost, "/", "application/json", query + query, 400, CodeBadRequest, ""},
		{"trailing garbage", http.MethodPost, "/", "application/json", query + " x", 400, CodeBadRequest, ""},
		{"trailing white space is fine", http.MethodPost, "/", "application/json", query + " \n\t ", 200, "", ""},
		{"not JSON", http.MethodPost, "/", "application/json", `{query: "{ __typename }"}`, 400, CodeBadRequest, ""},
		{"a JSON string", http.MethodPost, "/", "application/json", `"{ __typename }"`, 400, CodeBadRequest, ""},
		{"empty body", http.MethodPost, "/", "application/json", "", 400, CodeBadRequest, ""},
		{"query not a string", http.MethodPost, "/", "application/json", `{"query": 5}`, 400, CodeBadRequest, ""},
		{"variables not an object", http.MethodPost, "/", "application/json", `{"query":"{ __typename }","variables":[1]}`, 400, CodeBadRequest, ""},
		{"no query", http.MethodPost, "/", "application/json", `{"variables":{}}`, 400, CodeBadRequest, ""},
		{"empty query", http.MethodPost, "/", "application/json", `{"query":""}`, 400, CodeBadRequest, ""},
		{"deep JSON", http.MethodPost, "/", "application/json", `{"query":"{ __typename }","variables":{"v":` +
			strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`, 400, CodeBadRequest, ""},
		{"GET without query", http.MethodGet, "/", "", "", 400, CodeBadRequest, ""},
		{"GET bad variables", http.MethodGet, "/?query=" + url.QueryEscape("{ __typename }") + "&variables=" + url.QueryEscape("[1]"), "", "", 400, CodeBadRequest, ""},
		{"GET bad query string", http.MethodGet, "/?query=%zz", "", "", 400, CodeBadRequest, ""},
		{"GET mutation", http.MethodGet, getMutation, "", "", 405, CodeBadRequest, "POST"},
		{"PUT", http.MethodPut, "/", "application/json", query, 405, CodeBadRequest, allowedMethods},
		{"duplicate query", http.MethodPost, "/", "application/json", `{"query":"{ __typename }","query":"{ __typename }"}`, 400, CodeBadRequest, ""},
		{"case-variant query", http.MethodPost, "/", "application/json", `{"query":"{ __typename }","QUERY":"{ __typename }"}`, 400, CodeBadRequest, ""},
		{"case-variant query only", http.MethodPost, "/", "application/json", `{"Query":"{ __typename }"}`, 400, CodeBadRequest, ""},
		{"Kelvin-sign variant of an unknown member", http.MethodPost, "/", "application/json", `{"query":"{ __typename }","kind":1,"\u212aind":2}`, 400, CodeBadRequest, ""},
		{"duplicate operationName", http.MethodPost, "/", "application/json", `{"query":"{ __typename }","operationName":null,"operationName":"A"}`, 400, CodeBadRequest, ""},
		{"duplicate variable", http.MethodPost, "/", "application/json", `{"query":"{ __typename }","variables":{"a":1,"a":2}}`, 400, CodeBadRequest, ""},
		{"duplicate name in a variable's object", http.MethodPost, "/", "application/json", `{"query":"{ __typename }","variables":{"a":{"b":1,"b":2}}}`, 400, CodeBadRequest, ""},
		{"case-variant variables run (GraphQL names are case-sensitive)", http.MethodPost, "/", "application/json", `{"query":"{ __typename }","variables":{"id":1,"ID":2}}`, 200, "", ""},
		{"duplicate extension", http.MethodPost, "/", "application/json", `{"query":"{ __typename }","extensions":{"a":1,"a":2}}`, 400, CodeBadRequest, ""},
		{"case-variant extensions", http.MethodPost, "/", "application/json", `{"query":"{ __typename }","extensions":{"persistedQuery":1,"PersistedQuery":2}}`, 400, CodeBadRequest, ""},
		{"unknown members run", http.MethodPost, "/", "application/json", `{"query":"{ __typename }","id":"x","clientName":"y"}`, 200, "", ""},
		{"GET repeated query", http.MethodGet, "/?query=" + url.QueryEscape("{ __typename }") + "&query=" + url.QueryEscape("{ __typename }"), "", "", 400, CodeBadRequest, ""},
		{"GET repeated variables", http.MethodGet, "/?query=" + url.QueryEscape("{ __typename }") + "&variables=%7B%7D&variables=%7B%7D", "", "", 400, CodeBadRequest, ""},
		{"GET case-variant query", http.MethodGet, "/?query=" + url.QueryEscape("{ __typename }") + "&Query=" + url.QueryEscape("{ __typename }"), "", "", 400, CodeBadRequest, ""},
		{"DELETE", http.MethodDelete, "/", "", "", 405, CodeBadRequest, allowedMethods},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, defaults())
			var headers []string
			if tt.contentType != "" {
				headers = []string{"Content-Type", tt.contentType}
			}
			a := e.do(tt.method, tt.target, strings.NewReader(tt.body), headers...)
			assert.Equal(t, tt.status, a.status, a.raw)
			assert.Equal(t, tt.code, a.code(), a.raw)
			assert.Equal(t, tt.allow, a.header.Get("Allow"))
			if tt.code == "" {
				assert.EqualValues(t, 1, e.executed.Load())
				return
			}
			assert.Zero(t, e.executed.Load(), "a refused request never reaches execution")
			assert.NotContains(t, a.body, "data", "a refusal has no data entry")
		})
	}
}

func TestOptionsAnswersAllowedMethods(t *testing.T) {
	e := newEnv(t, defaults())
	a := e.do(http.MethodOptions, "/", nil)
	assert.Equal(t, http.StatusNoContent, a.status)
	assert.Equal(t, allowedMethods, a.header.Get("Allow"))
	assert.Empty(t, a.header.Get("Access-Control-Allow-Origin"))
}

// countingReader counts the bytes the server read from a request body.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestBodyOverTheCap(t *testing.T) {
	const limit = 1 << 10
	opts := defaults()
	opts.Limits.MaxBodyBytes = limit
	tests := []struct {
		name          string
		contentLength bool
		maxRead       int64
	}{
		{"with Content-Length: refused unread", true, 0},
		{"chunked: read up to the cap", false, limit + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &env{t: t}
			h := e.handler(opts)
			body := `{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", 64<<10) + `"}}`
			req, err := http.NewRequest(http.MethodPost, "/", nil)
			require.NoError(t, err)
			counter := &countingReader{r: strings.NewReader(body)}
			req.Body = io.NopCloser(counter)
			req.ContentLength = -1
			if tt.contentLength {
				req.ContentLength = int64(len(body))
			}
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
			assert.Contains(t, rec.Body.String(), CodePayloadTooLarge)
			assert.LessOrEqual(t, counter.n, tt.maxRead, "the guard read no more than the cap")
			assert.Zero(t, e.executed.Load())
		})
	}
}

func TestUnreadableBody(t *testing.T) {
	e := &env{t: t}
	h := e.handler(defaults())
	req, err := http.NewRequest(http.MethodPost, "/", iotest.ErrReader(io.ErrUnexpectedEOF))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), msgUnreadable)
}

func TestMalformedBodyIsNotEchoed(t *testing.T) {
	const secret = "canary-secret-7f3e9"
	e := newEnv(t, defaults())
	body := `{"query":"{ __typename }","variables":{"token":"` + secret + `"` + strings.Repeat(`,"k":"`+secret+`"`, 4000) + `,}`
	require.Greater(t, len(body), 100_000)
	a := e.do(http.MethodPost, "/", strings.NewReader(body), "Content-Type", "application/json")
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, CodeBadRequest, a.code())
	assert.NotContains(t, a.raw, secret)
	assert.Less(t, len(a.raw), 300, "a small fixed answer")
}

func TestStatusFollowsAccept(t *testing.T) {
	tests := []struct {
		name, accept, media string
		status              int
	}{
		{"graphql-response+json", "application/graphql-response+json", mediaGraphQLResponse, 400},
		{"both, graphql-response+json preferred", "application/graphql-response+json, application/json;q=0.9", mediaGraphQLResponse, 400},
		{"application/json only", "application/json", mediaJSON, 200},
		{"no Accept", "", mediaJSON, 200},
		{"anything", "*/*", mediaJSON, 200},
		{"graphql-response+json refused by q=0", "application/graphql-response+json;q=0, application/json", mediaJSON, 200},
	}
	documents := map[string]struct{ query, code string }{
		"parse":      {"{ group(id: ", CodeParseFailed},
		"validation": {"{ nope }", CodeValidationFailed},
		"pre-pass":   {"fragment F on Query { ...F } { ...F }", CodeValidationFailed},
		"variables":  {"query($id: ID!) { group(id: $id) { id } }", CodeValidationFailed},
		"limit":      {"{ " + strings.Repeat("__typename ", DefaultMaxFieldsPerSet+1) + "}", CodeQueryTooComplex},
	}
	for _, tt := range tests {
		for name, doc := range documents {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				e := newEnv(t, defaults())
				var headers []string
				if tt.accept != "" {
					headers = []string{"Accept", tt.accept}
				}
				a := e.query(doc.query, nil, headers...)
				assert.Equal(t, tt.status, a.status, a.raw)
				assert.Equal(t, doc.code, a.code(), a.raw)
				assert.Equal(t, tt.media+"; charset=utf-8", a.header.Get("Content-Type"))
				assert.NotContains(t, a.body, "data")
				assert.Zero(t, e.executed.Load())
			})
		}
	}
}

func TestExecutedAnswerIs200WithData(t *testing.T) {
	e := newEnv(t, defaults())
	a := e.query("{ __typename }", nil, "Accept", mediaGraphQLResponse)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, map[string]any{"executed": true}, a.body["data"])
}

func TestRefusalsAreLoggedWithoutContent(t *testing.T) {
	var logs bytes.Buffer
	opts := defaults()
	opts.Log = newDebugLogger(&logs)
	e := newEnv(t, opts)
	a := e.query(`{ group(id: "secret-in-query" `, nil)
	require.Equal(t, CodeParseFailed, a.code())
	assert.Contains(t, logs.String(), "graphql request refused")
	assert.Contains(t, logs.String(), CodeParseFailed)
	assert.NotContains(t, logs.String(), "secret-in-query")
}
