package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph/guard"
	"github.com/groupdir/gateway/upstream/demodata"
)

// groupNameQuery is one group's name: one upstream call.
const groupNameQuery = `query GroupName($id: ID!) { group(id: $id) { id name } }`

func sha256Of(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// apq is an APQ extension naming hash.
func apq(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

// postJSON posts body (marshalled) to /query.
func (e *testEnv) postJSON(t *testing.T, body map[string]any, headers ...string) gqlResponse {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	return e.raw(t, http.MethodPost, "/query", bytes.NewReader(b), append([]string{"Content-Type", "application/json"}, headers...)...)
}

// getPersisted sends a GET naming a persisted query by its hash, as Apollo's
// useGETForHashedQueries does.
func (e *testEnv) getPersisted(t *testing.T, hash string, vars map[string]any, headers ...string) gqlResponse {
	t.Helper()
	ext, err := json.Marshal(apq(hash))
	require.NoError(t, err)
	v, err := json.Marshal(vars)
	require.NoError(t, err)
	return e.raw(t, http.MethodGet, "/query?extensions="+url.QueryEscape(string(ext))+"&variables="+url.QueryEscape(string(v)), nil, headers...)
}

// assertPersistedRefusal checks the only error's code and, for
// PERSISTED_QUERY_NOT_FOUND, the message Apollo's link matches.
func assertPersistedRefusal(t *testing.T, r gqlResponse, code string) {
	t.Helper()
	require.Equal(t, []string{code}, r.codes(), string(r.Raw))
	assert.Nil(t, r.Data)
	if code == guard.CodePersistedQueryNotFound {
		assert.Equal(t, "PersistedQueryNotFound", r.Errors[0].Message)
	}
}

func TestAutomaticPersistedQueries(t *testing.T) {
	e := setup(t, nil)
	hash := sha256Of(groupNameQuery)
	vars := map[string]any{"id": demodata.GroupID(1)}

	// Hash only: unknown, at no upstream cost, never cacheable over GET.
	r := e.postJSON(t, map[string]any{"variables": vars, "extensions": apq(hash)})
	assertPersistedRefusal(t, r, guard.CodePersistedQueryNotFound)
	r = e.getPersisted(t, hash, vars)
	assertPersistedRefusal(t, r, guard.CodePersistedQueryNotFound)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	e.assertNoUpstreamCall(t)

	// A hash that is not the query's registers nothing.
	r = e.postJSON(t, map[string]any{"query": groupNameQuery, "variables": vars, "extensions": apq(sha256Of("{ __typename }"))})
	assertPersistedRefusal(t, r, guard.CodeBadRequest)
	r = e.postJSON(t, map[string]any{"variables": vars, "extensions": apq(sha256Of("{ __typename }"))})
	assertPersistedRefusal(t, r, guard.CodePersistedQueryNotFound)

	// A document that fails validation registers nothing.
	invalid := `{ group(id: "x") { noSuchField } }`
	r = e.postJSON(t, map[string]any{"query": invalid, "extensions": apq(sha256Of(invalid))})
	assert.Equal(t, []string{guard.CodeValidationFailed}, r.codes())
	r = e.postJSON(t, map[string]any{"extensions": apq(sha256Of(invalid))})
	assertPersistedRefusal(t, r, guard.CodePersistedQueryNotFound)

	// Registration, then the hash alone runs it, by POST and by GET.
	r = e.postJSON(t, map[string]any{"query": groupNameQuery, "variables": vars, "extensions": apq(hash)})
	require.Empty(t, r.Errors, string(r.Raw))
	name := dig(r.Data, "group", "name")
	require.NotEmpty(t, name)
	r = e.postJSON(t, map[string]any{"variables": vars, "extensions": apq(strings.ToUpper(hash))})
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, name, dig(r.Data, "group", "name"))
	r = e.getPersisted(t, hash, vars)
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, name, dig(r.Data, "group", "name"))
	assert.Equal(t, "private, no-cache", r.Header.Get("Cache-Control"), "shared caching is off by default")
	assert.Contains(t, r.Header.Values("Vary"), "Authorization")

	// A malformed extension is refused; another version is not supported
	// (Apollo's link then sends full queries).
	for _, ext := range []any{
		map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": "abc"}},
		map[string]any{"persistedQuery": map[string]any{"version": 1}},
		map[string]any{"persistedQuery": "x"},
	} {
		r = e.postJSON(t, map[string]any{"extensions": ext})
		assertPersistedRefusal(t, r, guard.CodeBadRequest)
		assert.Equal(t, http.StatusBadRequest, r.Status)
	}
	r = e.postJSON(t, map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": hash}}})
	assertPersistedRefusal(t, r, guard.CodePersistedQueryNotSupported)
	assert.Equal(t, "PersistedQueryNotSupported", r.Errors[0].Message)
}

func TestPersistedGETCacheControlAndMutations(t *testing.T) {
	e := setup(t, map[string]string{"PERSISTED_QUERY_CDN_MAX_AGE": "30s"})
	hash := sha256Of(groupNameQuery)
	vars := map[string]any{"id": demodata.GroupID(1)}
	r := e.postJSON(t, map[string]any{"query": groupNameQuery, "variables": vars, "extensions": apq(hash)})
	require.Empty(t, r.Errors, string(r.Raw))

	r = e.getPersisted(t, hash, vars)
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, "public, max-age=0, s-maxage=30", r.Header.Get("Cache-Control"))
	r = e.getPersisted(t, hash, vars, "Authorization", "Bearer anything")
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, "private, no-cache", r.Header.Get("Cache-Control"), "a caller's own answer is never shared")
	r = e.getPersisted(t, hash, map[string]any{"id": "not-a-uuid"})
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"), "an answer with errors is never stored")

	// A registered mutation still runs only over POST.
	mutation := `mutation Rename($id: ID!) { updateGroup(id: $id, input: {name: "renamed by hash"}) { name } }`
	mhash := sha256Of(mutation)
	r = e.postJSON(t, map[string]any{"query": mutation, "variables": vars, "extensions": apq(mhash)})
	require.Empty(t, r.Errors, string(r.Raw))
	e.resetCalls()
	r = e.getPersisted(t, mhash, vars)
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
	assert.Equal(t, []string{guard.CodeBadRequest}, r.codes())
	e.assertNoUpstreamCall(t)
}

// trustedManifests are one allow-list in the three formats clients' tooling
// writes, with the id each uses.
func trustedManifests(t *testing.T, doc string) map[string]string {
	t.Helper()
	apollo, err := json.Marshal(map[string]any{"format": "apollo-persisted-query-manifest", "version": 1,
		"operations": []map[string]any{{"id": sha256Of(doc), "body": doc, "name": "GroupName", "type": "query"}}})
	require.NoError(t, err)
	codegen, err := json.Marshal(map[string]string{sha256Of(doc): doc})
	require.NoError(t, err)
	relay, err := json.Marshal(map[string]string{"3f1c0d7e9a2b4c5d6e7f8091a2b3c4d5": doc})
	require.NoError(t, err)
	dir := t.TempDir()
	out := map[string]string{}
	for name, data := range map[string][]byte{"apollo": apollo, "codegen": codegen, "relay": relay} {
		path := filepath.Join(dir, name+".json")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		out[path] = name
	}
	return out
}

func TestTrustedDocuments(t *testing.T) {
	vars := map[string]any{"id": demodata.GroupID(1)}
	for path, format := range trustedManifests(t, groupNameQuery) {
		t.Run(format, func(t *testing.T) {
			e := setup(t, map[string]string{"GATEWAY_TRUSTED_DOCUMENTS": path})
			id := sha256Of(groupNameQuery)
			if format == "relay" {
				id = "3f1c0d7e9a2b4c5d6e7f8091a2b3c4d5"
			}
			// By id, in each way clients send one, and by the exact text.
			for _, body := range []map[string]any{
				{"documentId": id, "variables": vars},
				{"doc_id": id, "variables": vars},
				{"query": groupNameQuery, "variables": vars},
			} {
				r := e.postJSON(t, body)
				require.Empty(t, r.Errors, string(r.Raw))
				assert.NotEmpty(t, dig(r.Data, "group", "name"))
			}
			if format != "relay" {
				r := e.postJSON(t, map[string]any{"variables": vars, "extensions": apq(id)})
				require.Empty(t, r.Errors, string(r.Raw))
				r = e.getPersisted(t, id, vars)
				require.Empty(t, r.Errors, string(r.Raw))
			}

			// Anything else is refused before any upstream call, and APQ
			// registers nothing.
			e.resetCalls()
			other := `{ groups(pageSize: 1) { total } }`
			r := e.postJSON(t, map[string]any{"query": other})
			assertPersistedRefusal(t, r, guard.CodePersistedQueryNotAllowed)
			r = e.postJSON(t, map[string]any{"query": other, "extensions": apq(sha256Of(other))})
			assertPersistedRefusal(t, r, guard.CodePersistedQueryNotAllowed)
			r = e.postJSON(t, map[string]any{"extensions": apq(sha256Of(other))})
			assertPersistedRefusal(t, r, guard.CodePersistedQueryNotFound)
			r = e.postJSON(t, map[string]any{"documentId": "unknown"})
			assertPersistedRefusal(t, r, guard.CodePersistedQueryNotFound)
			e.assertNoUpstreamCall(t)
		})
	}
}

func TestTrustedDocumentsConfig(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not json":       "{",
		"empty":          "{}",
		"not a string":   `{"a": 1}`,
		"apollo version": `{"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		_, err := LoadConfig(func(k string) string { return map[string]string{"GATEWAY_TRUSTED_DOCUMENTS": path}[k] })
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "GATEWAY_TRUSTED_DOCUMENTS", name)
	}
	_, err := LoadConfig(func(k string) string {
		return map[string]string{"GATEWAY_TRUSTED_DOCUMENTS": filepath.Join(dir, "missing.json")}[k]
	})
	require.Error(t, err)
}

// TestCORSForFrontends checks the CORS a browser application needs: in demo
// mode a development server on any localhost port, the request headers of
// tracing, Sentry and Apollo's client awareness, and readable response
// headers; outside demo mode no origin unless configured.
func TestCORSForFrontends(t *testing.T) {
	e := setup(t, map[string]string{"CORS_ALLOWED_HEADERS": "X-Tenant"})
	requested := "content-type, authorization, traceparent, tracestate, sentry-trace, baggage, " +
		"apollographql-client-name, apollographql-client-version, idempotency-key, x-request-id, apollo-require-preflight, x-tenant"
	for _, origin := range []string{"http://localhost:3000", "http://127.0.0.1:5173", "http://localhost"} {
		r := e.raw(t, http.MethodOptions, "/query", nil, "Origin", origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", requested)
		assert.Equal(t, http.StatusNoContent, r.Status)
		assert.Equal(t, origin, r.Header.Get("Access-Control-Allow-Origin"))
		allowed := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers"))
		for h := range strings.SplitSeq(requested, ", ") {
			assert.Contains(t, strings.Split(allowed, ", "), h)
		}
	}
	for _, origin := range []string{"https://localhost:3000", "http://localhost.example.com:3000", "https://app.example.com"} {
		r := e.raw(t, http.MethodOptions, "/query", nil, "Origin", origin, "Access-Control-Request-Method", "POST")
		assert.Empty(t, r.Header.Get("Access-Control-Allow-Origin"), origin)
	}
	r := e.raw(t, http.MethodPost, "/query", strings.NewReader(`{"query":"{ __typename }"}`),
		"Content-Type", "application/json", "Origin", "http://localhost:3000")
	assert.Equal(t, "http://localhost:3000", r.Header.Get("Access-Control-Allow-Origin"))
	exposed := r.Header.Get("Access-Control-Expose-Headers")
	for _, h := range []string{"X-Request-Id", "Retry-After", "Idempotent-Replayed", "ETag"} {
		assert.Contains(t, exposed, h)
	}
	e.assertNoUpstreamCall(t)

	production := map[string]string{"GENESYS_REGION": "mypurecloud.ie", "GENESYS_CLIENT_ID": "id", "GENESYS_CLIENT_SECRET": "s",
		"USERGROUP_API_URL": "https://forms.example.com", "USERGROUP_COMPANY_ID": "1", "USERGROUP_INTEGRATION_KEY": "k", "AUTH_MODE": "none"}
	cfg, err := LoadConfig(func(k string) string { return production[k] })
	require.NoError(t, err)
	assert.Empty(t, cfg.CORSOrigins, "outside demo mode no origin is allowed by default")
	production["CORS_ALLOWED_ORIGINS"] = "http://localhost:*, https://app.example.com"
	cfg, err = LoadConfig(func(k string) string { return production[k] })
	require.NoError(t, err)
	assert.Equal(t, []string{"http://localhost:*", "https://app.example.com"}, cfg.CORSOrigins)
	for _, bad := range []string{"http://localhost:3000:*", "localhost:*", "https://app.example.com/path"} {
		production["CORS_ALLOWED_ORIGINS"] = bad
		_, err = LoadConfig(func(k string) string { return production[k] })
		require.Error(t, err, bad)
	}
	production["CORS_ALLOWED_HEADERS"] = "X Bad"
	_, err = LoadConfig(func(k string) string { return production[k] })
	require.Error(t, err)
}
