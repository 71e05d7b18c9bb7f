package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// The Apollo Federation subgraph (GATEWAY_FEDERATION=true): entity lookups
// as a supergraph router sends them, and the schema without the switch.

// federated is the configuration of a gateway that serves the subgraph.
var federated = map[string]string{"GATEWAY_FEDERATION": "true"}

// entitiesQuery is what a router sends to resolve entities of this subgraph.
const entitiesQuery = `query($r: [_Any!]!) { _entities(representations: $r) {
	__typename
	... on Group { id name }
	... on UserGroup { id name group { id name } }
} }`

// groupReps returns the representations of groups first to first+n-1.
func groupReps(first, n int) []any {
	reps := make([]any, n)
	for i := range reps {
		reps[i] = map[string]any{"__typename": "Group", "id": demodata.GroupID(first + i)}
	}
	return reps
}

func TestFederationIsOffByDefault(t *testing.T) {
	e := setup(t, nil)
	for _, q := range []string{`{ _service { sdl } }`, `{ _entities(representations: []) { __typename } }`} {
		r := e.post(q, nil)
		assert.Equal(t, []string{codeValidationFailed}, r.codes(), q)
	}
	r := e.post(`{ entity: __type(name: "_Entity") { name } any: __type(name: "_Any") { name }
		resolvers: __type(name: "Entity") { name } reps: __type(name: "GroupByIDsInput") { name }
		query: __type(name: "Query") { fields { name } } key: __schema { directives { name } } }`, nil)
	require.Empty(t, r.Errors, string(r.Raw))
	for _, name := range []string{"entity", "any", "resolvers", "reps"} {
		assert.Nil(t, dig(r.Data, name), name)
	}
	assert.NotContains(t, string(r.Raw), `"_entities"`)
	assert.NotContains(t, string(r.Raw), `"_service"`)
	assert.NotContains(t, string(r.Raw), `"key"}`)
	assert.NotContains(t, string(r.Raw), `"link"}`)
	assert.Zero(t, e.apiCalls())
}

func TestFederationServiceSDL(t *testing.T) {
	e := setup(t, federated)
	r := e.post(`{ _service { sdl } }`, nil)
	require.Empty(t, r.Errors, string(r.Raw))
	sdl, _ := dig(r.Data, "_service", "sdl").(string)
	assert.Equal(t, graph.SubgraphSDL(), sdl)
	assert.Contains(t, sdl, `type Group implements Team & Node @key(fields: "id")`)
	assert.Contains(t, sdl, `type UserGroup implements Team & Node @key(fields: "id")`)
	assert.Contains(t, sdl, `@link(url: "https://specs.apollo.dev/federation/v2.7"`)
	assert.Zero(t, e.apiCalls())
}

func TestFederationHundredGroupEntitiesCostOneCall(t *testing.T) {
	e := setupSized(t, federated, hundredGroups)
	reps := groupReps(0, 99)
	reps = append(reps, map[string]any{"__typename": "Group", "id": "deadbeef-0000-4000-8000-000000000001"}) // no such group
	e.resetCalls()
	r := e.post(entitiesQuery, map[string]any{"r": reps})
	require.Empty(t, r.Errors, string(r.Raw))
	entities, _ := dig(r.Data, "_entities").([]any)
	require.Len(t, entities, 100)
	for i := range 99 {
		assert.Equal(t, demodata.GroupID(i), dig(entities[i], "id"))
		assert.Equal(t, "Group", dig(entities[i], "__typename"))
	}
	assert.Nil(t, entities[99], "an unknown id resolves to null")
	assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RouteGetGroups))
	assert.Equal(t, 1, e.apiCalls())
	assert.Equal(t, float64(1), dig(r.Extensions, "cost", "upstreamCalls", "genesys"))
}

func TestFederationUserGroupEntities(t *testing.T) {
	e := setup(t, federated)
	e.resetCalls()
	// User groups 0 and 1 link to groups 0 and 1: one call each for the user
	// groups, one batched call for both linked groups.
	reps := []any{
		map[string]any{"__typename": "UserGroup", "id": demodata.UserGroupID(0)},
		map[string]any{"__typename": "Group", "id": demodata.GroupID(7)},
		map[string]any{"__typename": "UserGroup", "id": strings.ToUpper(demodata.UserGroupID(1))},
	}
	r := e.post(entitiesQuery, map[string]any{"r": reps})
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, demodata.UserGroupID(0), dig(r.Data, "_entities", 0, "id"))
	assert.Equal(t, demodata.GroupID(0), dig(r.Data, "_entities", 0, "group", "id"))
	assert.Equal(t, demodata.GroupID(7), dig(r.Data, "_entities", 1, "id"))
	assert.Equal(t, demodata.GroupID(1), dig(r.Data, "_entities", 2, "group", "id"))
	assert.Equal(t, 2, e.usergroupsKit().Count(usergroupsemu.RouteGet))
	assert.LessOrEqual(t, e.genesysKit().Count(genesysemu.RouteGetGroups), 2)
}

func TestFederationBadRepresentationsCostNothing(t *testing.T) {
	e := setupSized(t, federated, hundredGroups)
	for name, reps := range map[string][]any{
		"101 representations": groupReps(0, 101),
		"no __typename":       {map[string]any{"id": demodata.GroupID(1)}},
		"not an entity type":  {map[string]any{"__typename": "Member", "id": demodata.UserID(1)}},
		"a group id that is no UUID": append(groupReps(0, 3),
			map[string]any{"__typename": "Group", "id": "not-a-uuid"}),
		"no id":                   {map[string]any{"__typename": "UserGroup"}},
		"an id that is no string": {map[string]any{"__typename": "Group", "id": 7}},
	} {
		t.Run(name, func(t *testing.T) {
			e.resetCalls()
			r := e.post(entitiesQuery, map[string]any{"r": reps})
			require.Equal(t, []string{codeBadUserInput}, r.codes(), string(r.Raw))
			assert.Equal(t, []any{"_entities"}, r.Errors[0].Path)
			assert.Zero(t, e.apiCalls())
		})
	}
}

func TestFederationEntitiesObeyTheLimits(t *testing.T) {
	t.Run("the quota estimate counts user group representations one call each", func(t *testing.T) {
		e := setup(t, map[string]string{"GATEWAY_FEDERATION": "true", "GATEWAY_MAX_UPSTREAM_CALLS": "5"})
		reps := make([]any, 6)
		for i := range reps {
			reps[i] = map[string]any{"__typename": "UserGroup", "id": demodata.UserGroupID(i)}
		}
		e.resetCalls()
		r := e.post(`query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`, map[string]any{"r": reps})
		requireRefusedOver(t, r, 6, 5, "upstreamCalls")
		assert.Zero(t, e.apiCalls())
	})
	t.Run("and group representations per batch of 100", func(t *testing.T) {
		e := setupSized(t, map[string]string{"GATEWAY_FEDERATION": "true", "GATEWAY_MAX_UPSTREAM_CALLS": "1"}, hundredGroups)
		e.resetCalls()
		r := e.post(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Group { name } } }`,
			map[string]any{"r": groupReps(0, 100)})
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, 1, e.apiCalls())
		// Each group's members page is one more call per entity.
		r = e.post(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Group { members { total } } } }`,
			map[string]any{"r": groupReps(0, 2)})
		requireRefusedOver(t, r, 3, 1, "upstreamCalls")
	})
	t.Run("field permissions apply inside entities", func(t *testing.T) {
		idp := newIDP(t)
		env := idp.env("GATEWAY_FEDERATION", "true")
		e := setup(t, env)
		e.resetCalls()
		r := e.post(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Group { name dynamicDefinition { groupId } } } }`,
			map[string]any{"r": groupReps(1, 1)}, bearerHeader(idp.token("ec-1", claims("svc-reports")))...)
		require.Equal(t, []string{codeForbid}, r.codes(), string(r.Raw))
		assert.Equal(t, []any{"_entities", float64(0), "dynamicDefinition"}, r.Errors[0].Path)
		assert.Equal(t, demodata.GroupName(1), dig(r.Data, "_entities", 0, "name"))
		assert.Zero(t, e.genesysKit().Count(genesysemu.RouteGetDynamic))
	})
}

func TestFederationUpstreamErrorsPerEntity(t *testing.T) {
	e := setup(t, federated)
	e.genesysKit().Inject(genesysemu.RouteGetGroups, emukit.Fault{Status: http.StatusServiceUnavailable})
	r := e.post(entitiesQuery, map[string]any{"r": groupReps(1, 2)})
	require.Len(t, r.Errors, 2, string(r.Raw))
	for i, err := range r.Errors {
		assert.Equal(t, []any{"_entities", float64(i)}, err.Path)
		assert.Equal(t, "genesys", err.Extensions["upstream"])
		assert.NotEmpty(t, err.Extensions["code"])
	}
	assert.Nil(t, dig(r.Data, "_entities", 0))
}

func TestFederationServiceFollowsIntrospection(t *testing.T) {
	e := setup(t, map[string]string{"GATEWAY_FEDERATION": "true", "GATEWAY_INTROSPECTION": "false"})
	r := e.post(`{ _service { sdl } }`, nil)
	assert.Equal(t, []string{codeValidationFailed}, r.codes(), string(r.Raw))
	assert.Nil(t, r.Data)
}

// The gateway as a subgraph of a real supergraph: composed with a second
// subgraph (clients/federation/supergraph.mjs: "channels", which adds
// Group.channel and lists featured groups by reference) by
// @theguild/federation-composition and served by Hive Gateway, all on
// loopback. Needs Node.js and `npm ci` in clients/federation: skipped
// without them, except under CI (CI=true), where it fails.

// federationDir holds the JavaScript side and its lockfile.
var federationDir = filepath.Join(repoRoot, "clients", "federation")

// startSupergraph starts supergraph.mjs in front of the gateway e, with
// the featured group ids, and returns the URL of Hive Gateway.
func startSupergraph(t *testing.T, node string, e *testEnv, featured []string) string {
	t.Helper()
	sdl := filepath.Join(t.TempDir(), "directory.graphql")
	require.NoError(t, os.WriteFile(sdl, []byte(graph.SubgraphSDL()), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, node, "supergraph.mjs", e.srv.URL+"/query", sdl, strings.Join(featured, ","))
	cmd.Dir = federationDir
	stderr := &syncBuffer{} // written by exec's copying goroutine
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe() // closed by the cleanup: the script exits
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close()
		cancel()
		_ = cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	select {
	case line := <-lines:
		var started struct{ Gateway string }
		require.NoError(t, json.Unmarshal([]byte(line), &started), "supergraph.mjs: %q, stderr: %s", line, stderr.String())
		require.True(t, strings.HasPrefix(started.Gateway, "http://127.0.0.1:"), started.Gateway)
		return started.Gateway
	case <-ctx.Done():
		t.Fatalf("supergraph.mjs did not start: %s", stderr.String())
		return ""
	}
}

func TestSupergraph(t *testing.T) {
	node := nodeWith(t, federationDir, "@graphql-hive/gateway/package.json")
	e := setupSized(t, federated, hundredGroups)
	featured := make([]string, 100)
	for i := range featured {
		featured[i] = demodata.GroupID(i)
	}
	gatewayURL := startSupergraph(t, node, e, featured)

	// Both subgraphs in one query, both ways: the directory's groups with
	// the channels' field, and the channels' 100 featured groups with the
	// directory's fields (one _entities request of 100 Group
	// representations).
	query := `{
		groups(pageSize: 3) { entities { id name channel } }
		featuredGroups { id name memberCount channel }
	}`
	e.resetCalls()
	body, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Post(gatewayURL, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	var r gqlResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	require.Empty(t, r.Errors)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	page, _ := dig(r.Data, "groups", "entities").([]any)
	require.Len(t, page, 3)
	for _, g := range page {
		id, _ := dig(g, "id").(string)
		require.Len(t, id, 36)
		assert.NotEmpty(t, dig(g, "name"))
		assert.Equal(t, "#team-"+id[32:], dig(g, "channel"))
	}
	groups, _ := dig(r.Data, "featuredGroups").([]any)
	require.Len(t, groups, 100)
	for i, g := range groups {
		assert.Equal(t, demodata.GroupID(i), dig(g, "id"))
		assert.Equal(t, demodata.GroupName(i), dig(g, "name"))
		assert.NotNil(t, dig(g, "memberCount"))
		assert.Equal(t, "#team-"+demodata.GroupID(i)[32:], dig(g, "channel"))
	}
	// The page of groups, and the 100 entities in one batched lookup.
	assert.Equal(t, 2, e.genesysKit().Count(genesysemu.RouteGetGroups), "%v", e.genesysKit().CountsByRoute())
	assert.Equal(t, 2, e.apiCalls())
}
