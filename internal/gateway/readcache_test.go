package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// calls is the upstream calls both emulators received so far.
func (e *testEnv) calls() int {
	n := 0
	for _, k := range []*emukit.Kit{e.genesysKit(), e.usergroupsKit()} {
		for _, c := range k.CountsByRoute() {
			n += c
		}
	}
	return n
}

func TestReadCacheNeverSharedAcrossCallerScopesInGenesysMode(t *testing.T) {
	e := setup(t, map[string]string{"AUTH_MODE": "genesys", "UPSTREAM_READ_CACHE_TTL": "1m"})
	const q = `query($id: ID!) { group(id: $id) { id name } }`
	vars := map[string]any{"id": demodata.GroupID(3)}
	read := func(token string) {
		t.Helper()
		r := e.post(q, vars, "Authorization", "Bearer "+token)
		require.Empty(t, r.Errors)
		require.Equal(t, demodata.GroupID(3), dig(r.Data, "group", "id"))
	}
	read("demo-admin-token")
	require.Equal(t, 1, e.genesysKit().Count(genesysemu.RouteGetGroups))
	read("demo-reader-token")
	assert.Equal(t, 2, e.genesysKit().Count(genesysemu.RouteGetGroups),
		"a caller with other permissions never gets an answer fetched with another caller's token")
	read("demo-admin-token")
	read("demo-reader-token")
	assert.Equal(t, 2, e.genesysKit().Count(genesysemu.RouteGetGroups), "each caller's own reads are cached")
}

// TestReadCacheInvalidatedByEveryMutation reads what each mutation changes
// until the read is cached, runs the mutation through the gateway, and
// reads again: the change is visible at once.
func TestReadCacheInvalidatedByEveryMutation(t *testing.T) {
	group, userGroup := demodata.GroupID(7), demodata.UserGroupID(7)
	user := demodata.UserID(150)
	dynamic := `{skillConditions: [{operation: OR, routingSkillConditions: [{routingSkill: "Billing", comparator: GREATER_THAN_OR_EQUAL_TO, proficiency: 3}]}]}`
	cases := []struct {
		name, read, mutation string
	}{
		{"createGroup", `{ groups(pageSize: 1) { total } }`, `mutation { createGroup(input: {name: "Cache Night"}) { id } }`},
		{"updateGroup", `query($g: ID!) { group(id: $g) { description } }`,
			`mutation($g: ID!) { updateGroup(id: $g, input: {description: "changed"}) { id } }`},
		{"addGroupMembers", `query($g: ID!) { group(id: $g) { id members(pageSize: 100) { total } } }`,
			`mutation($g: ID!, $u: ID!) { addGroupMembers(groupId: $g, memberIds: [$u]) { status } }`},
		{"removeGroupMembers", `query($g: ID!) { group(id: $g) { id members(pageSize: 100) { total } } }`,
			`mutation($g: ID!, $u: ID!) { removeGroupMembers(groupId: $g, memberIds: [$u]) { status } }`},
		{"setDynamicDefinition", `query($g: ID!) { group(id: $g) { dynamicDefinition { groupId } } }`,
			`mutation($g: ID!) { setDynamicDefinition(groupId: $g, query: ` + dynamic + `) { groupId } }`},
		{"removeDynamicDefinition", `query($g: ID!) { group(id: $g) { dynamicDefinition { groupId } } }`,
			`mutation($g: ID!) { removeDynamicDefinition(groupId: $g) { deleted } }`},
		{"deleteGroup", `query($g: ID!) { group(id: $g) { id } }`, `mutation($g: ID!) { deleteGroup(id: $g) { deleted } }`},
		{"createUserGroup", `{ userGroups(name: "Cache Echo") { entities { id } } }`,
			`mutation { createUserGroup(input: {name: "Cache Echo"}) { id } }`},
		{"updateUserGroup", `query($ug: ID!) { userGroup(id: $ug) { name } }`,
			`mutation($ug: ID!) { updateUserGroup(id: $ug, input: {name: "Renamed"}) { id } }`},
		{"addUserGroupUsers", `query($ug: ID!) { userGroup(id: $ug) { userIds } }`,
			`mutation($ug: ID!, $u: ID!) { addUserGroupUsers(id: $ug, userIds: [$u]) { status } }`},
		{"removeUserGroupUsers", `query($ug: ID!) { userGroup(id: $ug) { userIds } }`,
			`mutation($ug: ID!, $u: ID!) { removeUserGroupUsers(id: $ug, userIds: [$u]) { status } }`},
		{"deleteUserGroup", `query($ug: ID!) { userGroup(id: $ug) { id } }`,
			`mutation($ug: ID!) { deleteUserGroup(id: $ug) { id } }`},
	}
	e := setup(t, map[string]string{"UPSTREAM_READ_CACHE_TTL": "1m"})
	vars := map[string]any{"g": group, "ug": userGroup, "u": user}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			readVars, mutVars := declared(c.read, vars), declared(c.mutation, vars)
			before := e.post(c.read, readVars)
			require.Empty(t, before.Errors)
			n := e.calls()
			again := e.post(c.read, readVars)
			require.Equal(t, n, e.calls(), "the second read is served from the cache")
			require.Equal(t, string(dataOf(t, before)), string(dataOf(t, again)))
			m := e.post(c.mutation, mutVars)
			require.Empty(t, m.Errors, string(m.Raw))
			after := e.post(c.read, readVars)
			assert.NotEqual(t, string(dataOf(t, before)), string(dataOf(t, after)), "the mutation's change is visible at once")
		})
	}
}

// declared returns the variables of vars that doc declares.
func declared(doc string, vars map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range vars {
		if strings.Contains(doc, "$"+k+":") {
			out[k] = v
		}
	}
	return out
}

func dataOf(t *testing.T, r gqlResponse) []byte {
	b, err := json.Marshal(r.Data)
	require.NoError(t, err)
	return b
}

func TestReadCacheServesStaleWithinTheBoundAndNotBeyond(t *testing.T) {
	e := setup(t, map[string]string{"UPSTREAM_READ_CACHE_TTL": "1s", "UPSTREAM_READ_CACHE_STALE": "2s"})
	const q = `query($id: ID!) { group(id: $id) { id name } }`
	vars := map[string]any{"id": demodata.GroupID(4)}
	fetched := time.Now()
	r := e.post(q, vars)
	require.Empty(t, r.Errors)
	assert.NotContains(t, r.Extensions, "stale")
	e.genesysKit().Inject(genesysemu.RouteGetGroups, emukit.Fault{Status: http.StatusTooManyRequests, RetryAfter: "60", Times: 100})

	time.Sleep(time.Until(fetched.Add(1200 * time.Millisecond))) // past the TTL, within the stale bound
	r = e.post(q, vars)
	require.Empty(t, r.Errors, "a 429 is answered with the answer kept past its TTL")
	assert.Equal(t, demodata.GroupID(4), dig(r.Data, "group", "id"))
	age, ok := dig(r.Extensions, "stale", "ageSeconds").(float64)
	require.True(t, ok, "the answer is marked stale: %v", r.Extensions)
	assert.GreaterOrEqual(t, age, 1.0)

	time.Sleep(time.Until(fetched.Add(3500 * time.Millisecond))) // past TTL + stale bound
	r = e.post(q, vars)
	assert.Equal(t, []string{"RATE_LIMITED"}, r.codes(), "beyond the bound the 429 is the answer")
	assert.NotContains(t, r.Extensions, "stale")
}

func TestReadCacheKeepsAReserveForMutations(t *testing.T) {
	// 60 calls a minute: a burst of 10, of which 2 only writes may take;
	// a read that would wait longer than the 1 s deadline is refused.
	e := setup(t, map[string]string{"UPSTREAM_READ_CACHE_TTL": "1m", "GENESYS_RATE_LIMIT_PER_MINUTE": "60",
		"UPSTREAM_OPERATION_TIMEOUT": "1s"})
	const q = `query($id: ID!) { group(id: $id) { id } }`
	refused := false
	for i := 0; i < 20 && !refused; i++ {
		r := e.post(q, map[string]any{"id": demodata.GroupID(i)})
		refused = len(r.Errors) > 0
		if refused {
			require.Equal(t, []string{"RATE_LIMITED"}, r.codes())
		}
	}
	require.True(t, refused, "reads run out of budget")
	reads := e.genesysKit().Count(genesysemu.RouteGetGroups)
	// 8 calls of the burst, and perhaps one read that waited for a refill;
	// without the reserve reads would take all 10.
	assert.LessOrEqual(t, reads, 9, "reads leave the write reserve alone")
	r := e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {description: "still writable"}) { description } }`,
		map[string]any{"id": demodata.GroupID(2)})
	require.Empty(t, r.Errors, "the mutation (a version read and a PUT) spends the reserve: %s", r.Raw)
	assert.Equal(t, "still writable", dig(r.Data, "updateGroup", "description"))
}

func TestReadCacheKeepsNotFoundBriefly(t *testing.T) {
	e := setup(t, map[string]string{"UPSTREAM_READ_CACHE_TTL": "1m"})
	const q = `query($id: ID!) { userGroup(id: $id) { id } }`
	vars := map[string]any{"id": "0000000000000000000000000000beef"}
	for range 3 {
		r := e.post(q, vars)
		require.Empty(t, r.Errors)
		assert.Nil(t, r.Data["userGroup"])
	}
	assert.Equal(t, 1, e.usergroupsKit().Count(usergroupsemu.RouteGet), "the 404 is cached")
}

func TestReadCacheGETAnswersCarryETagAndCacheControl(t *testing.T) {
	e := setup(t, map[string]string{"UPSTREAM_READ_CACHE_TTL": "5s"})
	get := func(query string, headers ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/query?query="+url.QueryEscape(query), nil)
		require.NoError(t, err)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	q := fmt.Sprintf(`{ group(id: %q) { id name } }`, demodata.GroupID(1))
	first := get(q)
	require.Equal(t, http.StatusOK, first.StatusCode)
	etag := first.Header.Get("ETag")
	require.NotEmpty(t, etag)
	assert.Equal(t, "public, max-age=5", first.Header.Get("Cache-Control"), "AUTH_MODE=none: the answer needs no credential")

	again := get(q, "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, again.StatusCode)
	assert.Equal(t, etag, again.Header.Get("ETag"))

	bad := get(`{ group(id: "not-a-uuid") { id } }`)
	assert.Equal(t, "no-store", bad.Header.Get("Cache-Control"), "an answer with errors is never kept")
	assert.Empty(t, bad.Header.Get("ETag"))

	post := e.post(q, nil)
	assert.Empty(t, post.Header.Get("ETag"), "POST answers are not for HTTP caches")
}

func TestReadCacheGETAnswersArePrivateWithCredentials(t *testing.T) {
	e := setup(t, map[string]string{"AUTH_MODE": "genesys", "UPSTREAM_READ_CACHE_TTL": "5s"})
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/query?query="+url.QueryEscape(`{ groups(pageSize: 1) { total } }`), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer demo-reader-token")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "private, max-age=5", resp.Header.Get("Cache-Control"))
	assert.Contains(t, resp.Header.Values("Vary"), "Authorization")
}
