package gateway

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
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
