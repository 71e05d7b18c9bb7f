package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
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

// lookedUp is the ids each batched group lookup the Genesys emulator
// received since the last reset asked for.
func (e *testEnv) lookedUp() [][]string {
	var out [][]string
	for _, c := range e.genesysKit().Calls() {
		if c.Route == genesysemu.RouteGetGroups && len(c.Query["id"]) > 0 {
			out = append(out, c.Query["id"])
		}
	}
	return out
}

// groupsQuery looks the groups of ids up, each as an aliased group(id:).
func groupsQuery(ids ...string) string {
	var b strings.Builder
	b.WriteString("{")
	for i, id := range ids {
		fmt.Fprintf(&b, " g%d: group(id: %q) { id name description }", i, id)
	}
	return b.String() + " }"
}

func TestReadCacheKeepsGroupLookupsGroupByGroup(t *testing.T) {
	e := setup(t, map[string]string{"UPSTREAM_READ_CACHE_TTL": "1m"})
	g1, g2, unknown := demodata.GroupID(1), demodata.GroupID(2), "00000000-0000-4000-8000-00000000beef"
	read := func(ids ...string) gqlResponse {
		t.Helper()
		r := e.post(groupsQuery(ids...), nil)
		require.Empty(t, r.Errors, string(r.Raw))
		return r
	}
	read(g1)
	r := read(g1, g2)
	assert.Equal(t, [][]string{{g1}, {g2}}, e.lookedUp(), "the second lookup asks only for the group not cached")
	assert.Equal(t, g1, dig(r.Data, "g0", "id"))
	assert.Equal(t, g2, dig(r.Data, "g1", "id"))
	read(g2)
	read(g2, g1)
	assert.Len(t, e.lookedUp(), 2, "lookups of cached groups make no call, in any order or company")

	r = read(unknown, g1)
	assert.Nil(t, r.Data["g0"])
	read(unknown)
	assert.Equal(t, [][]string{{g1}, {g2}, {unknown}}, e.lookedUp(), "a group not found is kept briefly too")

	m := e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {description: "seen at once"}) { id } }`,
		map[string]any{"id": g1})
	require.Empty(t, m.Errors, string(m.Raw))
	e.resetCalls()
	r = read(g1, g2)
	assert.Equal(t, [][]string{{g1}}, e.lookedUp(), "a write ends the freshness of the group it changed, not of others")
	assert.Equal(t, "seen at once", dig(r.Data, "g0", "description"))
}

func TestReadCacheRefreshesRecentGroupsInOneCall(t *testing.T) {
	e := setup(t, map[string]string{"UPSTREAM_READ_CACHE_TTL": "2s"})
	g1, g2, g3 := demodata.GroupID(1), demodata.GroupID(2), demodata.GroupID(3)
	read := func(ids ...string) {
		t.Helper()
		r := e.post(groupsQuery(ids...), nil)
		require.Empty(t, r.Errors, string(r.Raw))
	}
	start := time.Now()
	read(g1)
	read(g2)
	require.Len(t, e.lookedUp(), 2)
	time.Sleep(time.Until(start.Add(1100 * time.Millisecond))) // both past half their TTL, still fresh
	read(g3)
	calls := e.lookedUp()
	require.Len(t, calls, 3)
	assert.ElementsMatch(t, []string{g3, g1, g2}, calls[2], "the call for g3 also refreshes the groups served lately")
	read(g1, g2, g3)
	assert.Len(t, e.lookedUp(), 3, "all three are fresh again")
}

func TestReadCacheServesStaleGroupsOnlyWhenEveryGroupIsKept(t *testing.T) {
	e := setup(t, map[string]string{"UPSTREAM_READ_CACHE_TTL": "1s", "UPSTREAM_READ_CACHE_STALE": "30s"})
	g1, g2, g3 := demodata.GroupID(1), demodata.GroupID(2), demodata.GroupID(3)
	fetched := time.Now()
	r := e.post(groupsQuery(g1, g2), nil)
	require.Empty(t, r.Errors)
	e.genesysKit().Inject(genesysemu.RouteGetGroups, emukit.Fault{Status: http.StatusTooManyRequests, RetryAfter: "60", Times: 100})
	time.Sleep(time.Until(fetched.Add(1200 * time.Millisecond)))

	r = e.post(groupsQuery(g2, g1), nil)
	require.Empty(t, r.Errors, "a 429 is answered with the groups kept past their TTL")
	assert.Equal(t, g2, dig(r.Data, "g0", "id"))
	assert.Equal(t, g1, dig(r.Data, "g1", "id"))
	age, ok := dig(r.Extensions, "stale", "ageSeconds").(float64)
	require.True(t, ok, "the answer is marked stale: %v", r.Extensions)
	assert.GreaterOrEqual(t, age, 1.0)

	r = e.post(groupsQuery(g1, g3), nil)
	assert.Equal(t, []string{"RATE_LIMITED", "RATE_LIMITED"}, r.codes(), "g3 was never fetched: the 429 is the answer")
	assert.NotContains(t, r.Extensions, "stale")
}

func TestReadCacheGroupLookupsConcurrently(t *testing.T) {
	e := setup(t, map[string]string{"UPSTREAM_READ_CACHE_TTL": "1m"})
	const workers, rounds = 8, 12
	errs := make(chan error, workers*rounds)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				ids := []string{demodata.GroupID((w + i) % 10), demodata.GroupID((w*3 + i) % 10), demodata.GroupID(10 + w)}
				r, err := e.send(groupsQuery(ids...), nil)
				if err == nil && len(r.Errors) > 0 {
					err = fmt.Errorf("errors: %s", r.Raw)
				}
				for j, id := range ids {
					if got := dig(r.Data, fmt.Sprintf("g%d", j), "id"); err == nil && got != id {
						err = fmt.Errorf("g%d is %v, want %s", j, got, id)
					}
				}
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	asked := map[string]int{}
	for _, ids := range e.lookedUp() {
		for _, id := range ids {
			asked[id]++
		}
	}
	assert.Len(t, asked, 18, "every group was fetched")
	for id, n := range asked {
		assert.LessOrEqual(t, n, workers, "group %s is fetched about once, not once per lookup", id)
	}
}

// TestReadsWaitForASpentBudgetOnlySoLong spends the budget beyond the write
// reserve (60 a minute: a burst of 10, 2 kept for writes, then a call every
// 1.2 s): the next read waits for it when UPSTREAM_RATE_LIMIT_MAX_WAIT
// allows 1.2 s, and is refused at once (no call) when it allows less, though
// its deadline would allow the wait either way.
func TestReadsWaitForASpentBudgetOnlySoLong(t *testing.T) {
	for _, c := range []struct {
		maxWait string
		waits   bool
	}{{"3s", true}, {"100ms", false}} {
		t.Run(c.maxWait, func(t *testing.T) {
			e := setup(t, map[string]string{"GENESYS_RATE_LIMIT_PER_MINUTE": "60", "UPSTREAM_RATE_LIMIT_MAX_WAIT": c.maxWait,
				"UPSTREAM_OPERATION_TIMEOUT": "20s", "UPSTREAM_READ_CACHE_TTL": "1m"})
			const q = `query($id: ID!) { group(id: $id) { id } }`
			for i := range 8 {
				r := e.post(q, map[string]any{"id": demodata.GroupID(i)})
				require.Empty(t, r.Errors, "read %d is within the burst", i)
			}
			calls := e.genesysKit().Count(genesysemu.RouteGetGroups)
			r := e.post(q, map[string]any{"id": demodata.GroupID(8)})
			if c.waits {
				require.Empty(t, r.Errors, "the read waits for the next call of the budget")
				assert.Equal(t, calls+1, e.genesysKit().Count(genesysemu.RouteGetGroups))
				return
			}
			require.Equal(t, []string{"RATE_LIMITED"}, r.codes())
			assert.NotNil(t, r.Errors[0].Extensions["retryAfter"])
			assert.Equal(t, calls, e.genesysKit().Count(genesysemu.RouteGetGroups), "no call made")
		})
	}
}
