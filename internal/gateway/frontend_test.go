package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph/guard"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
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

// acceptMultipart is what Apollo Client's Defer20220824Handler sends.
const acceptMultipart = "multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9"

// deferredGroups defers a non-null field (members), a nullable one
// (dynamicDefinition) and, nested, the members' user groups.
const deferredGroups = `query DeferredGroups {
  groups(pageSize: 3) { entities { id name
    ... @defer(label: "members") { members(pageSize: 2) { total entities { id name } } }
    ... @defer(label: "rules") { dynamicDefinition { groupId } userGroups { id ... @defer(label: "nested") { name } } }
  } }
}`

// part is one multipart/mixed part of an incremental response.
type part struct {
	Data        map[string]any   `json:"data"`
	HasNext     *bool            `json:"hasNext"`
	Errors      []gqlError       `json:"errors"`
	Incremental []incrementalOne `json:"incremental"`
}

type incrementalOne struct {
	Data   map[string]any `json:"data"`
	Path   []any          `json:"path"`
	Label  string         `json:"label"`
	Errors []gqlError     `json:"errors"`
}

// postMultipart posts query accepting multipart/mixed and reads every part
// (a bounded number of them).
func (e *testEnv) postMultipart(t *testing.T, query string) (*http.Response, []part) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/query", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", acceptMultipart)
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/mixed", mt)
	assert.Equal(t, "20220824", params["deferspec"])
	r := multipart.NewReader(resp.Body, params["boundary"])
	var parts []part
	for range 100 {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		assert.Equal(t, "application/json; charset=utf-8", p.Header.Get("Content-Type"))
		var got part
		require.NoError(t, json.NewDecoder(p).Decode(&got))
		parts = append(parts, got)
	}
	return resp, parts
}

// merge applies the incremental payloads to the initial data, as clients do.
func merge(t *testing.T, parts []part) map[string]any {
	t.Helper()
	require.NotEmpty(t, parts)
	data := parts[0].Data
	for _, p := range parts[1:] {
		for _, inc := range p.Incremental {
			path := make([]any, len(inc.Path))
			for i, step := range inc.Path {
				if n, isIndex := step.(float64); isIndex {
					step = int(n)
				}
				path[i] = step
			}
			target, ok := dig(data, path...).(map[string]any)
			require.True(t, ok, "path %v names an object", inc.Path)
			for k, v := range inc.Data {
				target[k] = v
			}
		}
	}
	return data
}

// undeferred is query without its @defer directives.
func undeferred(query string) string {
	for _, label := range []string{"members", "rules", "nested"} {
		query = strings.ReplaceAll(query, `@defer(label: "`+label+`") `, "")
	}
	return query
}

// assertNoNull fails on any null under the root field, where nothing in
// these queries may be null except dynamicDefinition.
func assertNoNullExceptRules(t *testing.T, v any, path string) {
	t.Helper()
	switch x := v.(type) {
	case nil:
		assert.True(t, strings.HasSuffix(path, ".dynamicDefinition"), "null at %s", path)
	case map[string]any:
		for k, item := range x {
			assertNoNullExceptRules(t, item, path+"."+k)
		}
	case []any:
		for _, item := range x {
			assertNoNullExceptRules(t, item, path+"[]")
		}
	}
}

func TestDeferOverMultipart(t *testing.T) {
	e := setup(t, nil)
	want := e.post(undeferred(deferredGroups), nil)
	require.Empty(t, want.Errors)

	resp, parts := e.postMultipart(t, deferredGroups)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	require.GreaterOrEqual(t, len(parts), 2)

	// The initial payload leaves the deferred fields out: never a null in
	// a non-null field's place.
	first := parts[0]
	require.NotNil(t, first.HasNext)
	assert.True(t, *first.HasNext)
	entities, _ := dig(first.Data, "groups", "entities").([]any)
	require.Len(t, entities, 3)
	for _, ent := range entities {
		assert.NotContains(t, ent, "members")
		assert.NotContains(t, ent, "dynamicDefinition")
		assert.NotContains(t, ent, "userGroups")
	}
	labels := map[string]int{}
	for i, p := range parts[1:] {
		require.NotNil(t, p.HasNext)
		assert.Equal(t, i < len(parts)-2, *p.HasNext, "only the last part ends the stream")
		for _, inc := range p.Incremental {
			labels[inc.Label]++
			assert.Empty(t, inc.Errors)
			assertNoNullExceptRules(t, inc.Data, "incremental")
		}
	}
	assert.Equal(t, 3, labels["members"])
	assert.Equal(t, 3, labels["rules"])

	got := merge(t, parts)
	assertNoNullExceptRules(t, got["groups"], "groups")
	assert.Equal(t, want.Data, got, "the merged payloads are the undeferred answer")
}

func TestDeferMergedForClientsWithoutMultipart(t *testing.T) {
	e := setup(t, nil)
	want := e.post(undeferred(deferredGroups), nil)
	require.Empty(t, want.Errors)
	got := e.post(deferredGroups, nil, "Accept", "application/graphql-response+json")
	require.Empty(t, got.Errors, string(got.Raw))
	assert.Equal(t, want.Data, got.Data)
	assert.NotContains(t, string(got.Raw), "hasNext")
	assert.Equal(t, "application/graphql-response+json; charset=utf-8", got.Header.Get("Content-Type"))
}

// TestDeferOnAnInterface defers a field of one implementation of Team
// without __typename: a user group's data is left as it is.
func TestDeferOnAnInterface(t *testing.T) {
	e := setup(t, map[string]string{"GATEWAY_MAX_UPSTREAM_CALLS": "1000"})
	query := `{ teams(nameContains: "Back Office 1") { id name ... on Group { ... @defer(label: "members") { dynamicDefinition { groupId } } }
		... on UserGroup { ... @defer(label: "nested") { group { id } externalId } } } }`
	want := e.post(undeferred(query), nil)
	require.Empty(t, want.Errors)
	_, parts := e.postMultipart(t, query)
	for _, team := range parts[0].Data["teams"].([]any) {
		assert.NotContains(t, team, "dynamicDefinition")
		assert.NotContains(t, team, "group")
	}
	assert.Equal(t, want.Data, merge(t, parts))
}

// TestDeferErrors checks a deferred field's upstream error arrives in its
// payload with its path, and the guard's limits hold inside deferred
// fragments, at no upstream cost.
func TestDeferErrors(t *testing.T) {
	e := setup(t, nil)
	query := `query { group(id: "` + demodata.GroupID(1) + `") { id ... @defer(label: "m") { individuals { total } } } }`
	e.genesysKit().Inject(routeIndividualsGet, emukit.Fault{Status: http.StatusBadRequest})
	_, parts := e.postMultipart(t, query)
	require.Len(t, parts, 2)
	inc := parts[1].Incremental
	require.Len(t, inc, 1)
	assert.Equal(t, []any{"group"}, inc[0].Path)
	require.NotEmpty(t, inc[0].Errors)
	assert.Equal(t, []any{"group", "individuals"}, inc[0].Errors[0].Path)
	assert.NotEmpty(t, inc[0].Errors[0].Extensions["code"])
	assert.Nil(t, inc[0].Data, "a failed non-null deferred field nulls its fragment, not the field")
	e.genesysKit().ClearFaults()

	e.resetCalls()
	// Depth 12 inside a deferred fragment, over the limit of 10.
	deep := `{ group(id: "` + demodata.GroupID(1) + `") { ... @defer { ` + strings.Repeat("userGroups { group { ", 5) + "id" +
		strings.Repeat(" } }", 5) + " } } }"
	r := e.post(deep, nil, "Accept", acceptMultipart)
	assert.Equal(t, []string{guard.CodeQueryTooComplex}, r.codes())
	e.assertNoUpstreamCall(t)
}

// TestDeferStreamsTheInitialPayloadFirst holds the deferred field's
// upstream call and reads the initial payload meanwhile: it is sent (and
// flushed through compression) before the deferred one exists. The request
// is then dropped, which ends the held call; done ten times, nothing of
// those requests is left running.
func TestDeferStreamsTheInitialPayloadFirst(t *testing.T) {
	e := setup(t, nil)
	e.genesysKit().Inject(routeIndividualsGet, emukit.Fault{Latency: time.Minute})
	query := `{"query":"query { group(id: \"` + demodata.GroupID(1) + `\") { id ... @defer { individuals { total } } } }"}`
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range 10 {
		readFirstPartAndLeave(t, client, e.srv.URL+"/query", query)
	}
	deadline := time.Now().Add(10 * time.Second)
	for deferWorkRunning() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	assert.False(t, deferWorkRunning(), "no goroutine of the dropped requests is left")
}

// deferWorkRunning reports whether a goroutine reads or sends a deferred
// payload.
func deferWorkRunning() bool {
	buf := make([]byte, 4<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	return strings.Contains(stacks, "guard.deliverDeferred") || strings.Contains(stacks, "ProcessDeferredGroup")
}

// readFirstPartAndLeave reads the initial payload of a deferred query and
// drops the request.
func readFirstPartAndLeave(t *testing.T, client *http.Client, url, query string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(query))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", acceptMultipart)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	body, err := gzip.NewReader(resp.Body)
	require.NoError(t, err)
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	require.NoError(t, err)
	p, err := multipart.NewReader(body, params["boundary"]).NextPart()
	require.NoError(t, err, "the initial payload arrives while the deferred call is held")
	var first part
	require.NoError(t, json.NewDecoder(p).Decode(&first))
	assert.Equal(t, demodata.GroupID(1), dig(first.Data, "group", "id"))
	require.NotNil(t, first.HasNext)
	assert.True(t, *first.HasNext)
}

// jsClientsDir holds the JavaScript client scripts and their lockfile
// (`npm ci` there installs them; .ci/run does it).
var jsClientsDir = filepath.Join(repoRoot, "clients", "js")

// TestJSClients runs real frontend clients against a demo gateway over
// HTTP on 127.0.0.1: Apollo Client 4 (persisted queries over POST and GET,
// its normalised cache, @defer) and urql (@defer over multipart/mixed).
// Each script asserts what it sees and prints a summary.
func TestJSClients(t *testing.T) {
	node := nodeWith(t, jsClientsDir, "@apollo/client/package.json")
	for script, checks := range map[string][]string{
		"apollo.mjs": {"apq-post", "apq-get", "normalised-cache", "defer"},
		"urql.mjs":   {"query", "defer"},
	} {
		t.Run(strings.TrimSuffix(script, ".mjs"), func(t *testing.T) {
			e := setup(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, script, e.srv.URL+"/query", demodata.GroupID(1))
			cmd.Dir = jsClientsDir
			out, err := cmd.Output()
			var stderr string
			if exit, ok := err.(*exec.ExitError); ok {
				stderr = string(exit.Stderr)
			}
			require.NoError(t, err, "%s\n%s", out, stderr)
			var summary struct {
				Checks []string `json:"checks"`
			}
			require.NoError(t, json.Unmarshal(out, &summary), string(out))
			assert.Equal(t, checks, summary.Checks)
			t.Logf("%s", out)
		})
	}
}

// relayDir holds the Relay operations the schema must accept and the pinned
// relay-compiler (npm ci there installs it; .ci/run does).
var relayDir = filepath.Join(repoRoot, "clients", "relay")

// relayCompiler returns node and relay-compiler's entry point (see nodeWith).
func relayCompiler(t *testing.T) (node, cli string) {
	t.Helper()
	node = nodeWith(t, relayDir, "relay-compiler/cli.js")
	cli, err := filepath.Abs(filepath.Join(relayDir, "node_modules", "relay-compiler", "cli.js"))
	require.NoError(t, err)
	return node, cli
}

// compileRelay compiles the operations of clients/relay/src, plus extra
// files, against the printed schema in a scratch copy (nothing is written
// to the tree) and returns the copy, the compiler's output, the artifacts
// and the compiler's error.
func compileRelay(t *testing.T, extra map[string]string) (dir, out string, artifacts []string, err error) {
	t.Helper()
	node, cli := relayCompiler(t)
	dir = t.TempDir()
	src := filepath.Join(dir, "src")
	require.NoError(t, os.CopyFS(src, os.DirFS(filepath.Join(relayDir, "src"))))
	for _, name := range []string{"package.json", "store-check.mjs"} {
		raw, err := os.ReadFile(filepath.Join(relayDir, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), raw, 0o644))
	}
	modules, err := filepath.Abs(filepath.Join(relayDir, "node_modules"))
	require.NoError(t, err)
	require.NoError(t, os.Symlink(modules, filepath.Join(dir, "node_modules")))
	for name, text := range extra {
		require.NoError(t, os.WriteFile(filepath.Join(src, name), []byte(text), 0o644))
	}
	schema, err := filepath.Abs(filepath.Join(repoRoot, "testdata", "schema.golden.graphql"))
	require.NoError(t, err)
	var cfg map[string]any
	raw, err := os.ReadFile(filepath.Join(relayDir, "relay.config.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &cfg))
	cfg["schema"] = schema
	raw, err = json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "relay.config.json"), raw, 0o644))

	raw, runErr := runNode(t, dir, nil, node, cli)
	entries, _ := os.ReadDir(filepath.Join(src, "__generated__"))
	for _, e := range entries {
		artifacts = append(artifacts, e.Name())
	}
	return dir, string(raw), artifacts, runErr
}

// runNode runs a command in dir, bounded by two minutes, and returns its
// combined output.
func runNode(t *testing.T, dir string, env []string, name string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	return cmd.CombinedOutput()
}

// TestRelayCompilerAcceptsTheSchema: Relay's compiler accepts the
// connections (@connection), the Node refetches (@refetchable on Group and
// Query), @deleteRecord on deletedId and node(id:) against the schema.
func TestRelayCompilerAcceptsTheSchema(t *testing.T) {
	_, out, artifacts, err := compileRelay(t, nil)
	require.NoError(t, err, out)
	for _, want := range []string{"GroupListPaginationQuery", "GroupCardRefetchQuery", "GroupSearchPaginationQuery",
		"UserGroupListPaginationQuery", "MutationsDeleteGroupMutation", "MutationsNodeQuery"} {
		assert.Contains(t, artifacts, want+".graphql.js")
	}

	// The compiler really checks against the schema: an unknown field fails.
	_, out, _, err = compileRelay(t, map[string]string{"Bad.js": "graphql`query BadQuery { groupsConnection(first: 1) { nope } }`;\n"})
	require.Error(t, err)
	assert.True(t, strings.Contains(out, "nope"), out)
}

// TestRelayStoreKeepsOneTypePerID feeds one relay-runtime store with the
// gateway's answers to queries and mutations of every type with an id (a
// group, its members and rules, a profile, a delete payload, user groups,
// nodes) and fails when a record changes __typename: what an id shared by
// two types does to a normalised store.
func TestRelayStoreKeepsOneTypePerID(t *testing.T) {
	dir, out, _, err := compileRelay(t, nil)
	require.NoError(t, err, out)
	node, _ := relayCompiler(t)
	e := setup(t, nil)
	ids, err := json.Marshal(map[string]string{"group": demodata.GroupID(13), "other": demodata.GroupID(14),
		"userGroup": demodata.UserGroupID(4)})
	require.NoError(t, err)
	raw, err := runNode(t, dir, []string{"GATEWAY_URL=" + e.srv.URL + "/query"}, node, "store-check.mjs", string(ids))
	require.NoError(t, err, string(raw))
	var result struct {
		Seen      map[string][]string `json:"seen"`
		Conflicts []any               `json:"conflicts"`
	}
	require.NoError(t, json.Unmarshal(raw, &result), string(raw))
	assert.Empty(t, result.Conflicts)
	assert.Subset(t, result.Seen["group again"], []string{"Group", "Member", "UserGroup", "DynamicDefinition", "GroupProfile",
		"DeletePayload", "Division"})
}
