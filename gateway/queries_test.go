package gateway

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
)

const (
	routeGroups         = "GET /api/v2/groups"
	routeMembers        = "GET /api/v2/groups/{groupId}/members"
	routeUGSearch       = "GET /api/v2/usergroup/search"
	routeUGGet          = "GET /api/v2/usergroup"
	routeGroupsSearch   = "POST /api/v2/groups/search"
	routeDynamicGet     = "GET /api/v2/groups/{groupId}/dynamicsettings"
	routePostGroup      = "POST /api/v2/groups"
	routePutGroup       = "PUT /api/v2/groups/{groupId}"
	routeGetGroup       = "GET /api/v2/groups/{groupId}"
	routeIndividualsGet = "GET /api/v2/groups/{groupId}/individuals"
)

// callsOn returns the calls the emulator received on route.
func callsOn(k *emukit.Kit, route string) []emukit.Call {
	var out []emukit.Call
	for _, c := range k.Calls() {
		if c.Route == route {
			out = append(out, c)
		}
	}
	return out
}

func TestGroupsPage(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`{ groups(pageSize: 10, pageNumber: 2) { entities { id name memberCount version type visibility } total pageNumber pageSize pageCount } }`, nil)
	require.Empty(t, r.Errors)
	page := dig(r.Data, "groups")
	assert.EqualValues(t, demodata.Demo.Groups, dig(page, "total"))
	assert.EqualValues(t, 2, dig(page, "pageNumber"))
	assert.Len(t, dig(page, "entities"), 10)
	assert.NotEmpty(t, dig(page, "entities", 0, "name"))
	assert.Equal(t, "OFFICIAL", dig(page, "entities", 0, "type"))
	assert.Equal(t, 1, e.genesysKit().Count(routeGroups))
	assert.Equal(t, map[string]any{"genesys": 1.0, "usergroups": 0.0}, dig(r.Extensions, "cost", "upstreamCalls"))
}

func TestGroupLookupsAreBatched(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`query($a: ID!, $b: ID!, $missing: ID!) {
		a: group(id: $a) { id name }
		b: group(id: $b) { id name }
		again: group(id: $a) { id }
		missing: group(id: $missing) { id }
	}`, map[string]any{"a": demodata.GroupID(1), "b": demodata.GroupID(2), "missing": "00000000-0000-4000-8000-000000000000"})
	require.Empty(t, r.Errors)
	assert.Equal(t, demodata.GroupName(1), dig(r.Data, "a", "name"))
	assert.Equal(t, demodata.GroupName(2), dig(r.Data, "b", "name"))
	assert.Equal(t, demodata.GroupID(1), dig(r.Data, "again", "id"))
	assert.Nil(t, r.Data["missing"])
	calls := callsOn(e.genesysKit(), routeGroups)
	require.Len(t, calls, 1)
	assert.Equal(t, 3, calls[0].IDs)
}

func TestGroupByJabberID(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`query($j: String!) { groupByJabberId(jabberId: $j) { id name } none: groupByJabberId(jabberId: "nobody@x") { id } }`,
		map[string]any{"j": demodata.GroupJabberID(5)})
	require.Empty(t, r.Errors)
	assert.Equal(t, demodata.GroupID(5), dig(r.Data, "groupByJabberId", "id"))
	assert.Nil(t, r.Data["none"])
}

func TestGroupFieldsThatCallUpstream(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`query($id: ID!, $dyn: ID!) {
		group(id: $id) {
			id
			members(pageSize: 5) { total pageSize entities { id name email chat { jabberId } } }
			individuals { total }
			dynamicDefinition { groupId }
			userGroups { id externalId }
		}
		dynamic: group(id: $dyn) { dynamicDefinition { groupId query { skillConditions { operation routingSkillConditions { routingSkill comparator proficiency } } } } }
	}`, map[string]any{"id": demodata.GroupID(0), "dyn": demodata.GroupID(demodata.DynamicGroup)})
	require.Empty(t, r.Errors)
	g := dig(r.Data, "group")
	assert.Len(t, dig(g, "members", "entities"), 5)
	assert.EqualValues(t, demodata.Demo.MembersPerGroup, dig(g, "members", "total"))
	assert.NotEmpty(t, dig(g, "members", "entities", 0, "chat", "jabberId"))
	assert.NotEmpty(t, dig(g, "members", "entities", 0, "email"))
	assert.Nil(t, dig(g, "dynamicDefinition"))
	assert.NotEmpty(t, dig(g, "userGroups"))
	for _, ug := range dig(g, "userGroups").([]any) {
		assert.Equal(t, demodata.GroupID(0), dig(ug, "externalId"))
	}
	assert.Equal(t, demodata.GroupID(demodata.DynamicGroup), dig(r.Data, "dynamic", "dynamicDefinition", "groupId"))
	assert.NotEmpty(t, dig(r.Data, "dynamic", "dynamicDefinition", "query", "skillConditions", 0, "operation"))
}

func TestGroupWithOnlyMembersCostsOnlyTheMembersCall(t *testing.T) {
	e := setup(t, nil)
	q := `query($id: ID!) { group(id: $id) { __typename id members(pageSize: 3) { entities { id } } } }`
	r := e.post(q, map[string]any{"id": demodata.GroupID(4)})
	require.Empty(t, r.Errors)
	assert.Len(t, dig(r.Data, "group", "members", "entities"), 3)
	assert.Zero(t, e.genesysKit().Count(routeGroups), "the group itself is not fetched")
	assert.Equal(t, 1, e.genesysKit().Count(routeMembers))

	r = e.post(q, map[string]any{"id": "00000000-0000-4000-8000-000000000000"})
	require.Empty(t, r.Errors)
	assert.Nil(t, r.Data["group"], "an unknown id answers null whichever calls it made")

	r = e.post(`query($id: ID!) { group(id: $id) { id name members(pageSize: 3) { total } } }`, map[string]any{"id": demodata.GroupID(4)})
	require.Empty(t, r.Errors)
	assert.Equal(t, demodata.GroupName(4), dig(r.Data, "group", "name"))
	assert.Equal(t, 1, e.genesysKit().Count(routeGroups), "name needs the group")
}

func TestSearchAndCursor(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`{ searchGroups(input: {query: [{type: CONTAINS, fields: ["name"], value: "Support"}], pageSize: 2}) {
		total pageCount pageNumber results { id name } nextPage currentPage } }`, nil)
	require.Empty(t, r.Errors)
	res := dig(r.Data, "searchGroups")
	require.Len(t, dig(res, "results"), 2)
	assert.Contains(t, dig(res, "results", 0, "name"), "Support")
	next, ok := dig(res, "nextPage").(string)
	require.True(t, ok, "a next page cursor")
	r = e.post(`query($q: String!) { searchGroupsByCursor(q64: $q) { pageNumber results { name } } }`, map[string]any{"q": next})
	require.Empty(t, r.Errors)
	assert.EqualValues(t, 2, dig(r.Data, "searchGroupsByCursor", "pageNumber"))
}

func TestDeprecatedGenesysFields(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`query($id: ID!) {
		previewDynamicGroup(query: {skillConditions: [{operation: AND, routingSkillConditions: [{routingSkill: "Support", comparator: GREATER_THAN, proficiency: 2}]}]}) { userCount }
		fieldConfig(type: GROUP) { entityType sections { key fieldList { key type } } }
		groupProfile(groupId: $id) { id name version }
		groupProfiles(pageSize: 5) { total entities { id name } }
	}`, map[string]any{"id": demodata.GroupID(3)})
	require.Empty(t, r.Errors)
	assert.NotNil(t, dig(r.Data, "previewDynamicGroup", "userCount"))
	assert.Equal(t, "group", dig(r.Data, "fieldConfig", "entityType"))
	assert.NotEmpty(t, dig(r.Data, "fieldConfig", "sections"))
	assert.Equal(t, demodata.GroupName(3), dig(r.Data, "groupProfile", "name"))
	assert.Len(t, dig(r.Data, "groupProfiles", "entities"), 5)
}

func TestUserGroups(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`{ userGroups(pageNumber: 1, pageSize: 10) { pageNumber pageSize hasNextPage entities { id name externalId userIds memberCount group { id name } } } }`, nil)
	require.Empty(t, r.Errors)
	ents := dig(r.Data, "userGroups", "entities").([]any)
	require.Len(t, ents, 10)
	assert.Equal(t, true, dig(r.Data, "userGroups", "hasNextPage"))
	byID := map[string]any{}
	for _, u := range ents {
		byID[dig(u, "id").(string)] = u
	}
	linked := byID[demodata.UserGroupID(1)]
	require.NotNil(t, linked, "page 1 holds user group 1")
	assert.Equal(t, demodata.GroupName(1), dig(linked, "group", "name"))
	assert.Nil(t, dig(byID[demodata.UserGroupID(9)], "group"), "ExternalId naming no group")
	assert.Nil(t, dig(byID[demodata.UserGroupID(4)], "group"), "no ExternalId")
	assert.Equal(t, 1, e.usergroupsKit().Count(routeUGSearch))
	assert.Equal(t, 1, e.genesysKit().Count(routeGroups), "every linked group in one batched call")

	r = e.post(`{ userGroups(pageNumber: 3, pageSize: 5) { pageNumber entities { id } } }`, nil)
	require.Empty(t, r.Errors)
	searches := callsOn(e.usergroupsKit(), routeUGSearch)
	assert.Equal(t, "2", searches[len(searches)-1].Query.Get("PageNo"), "1-based page 3 is the API's PageNo 2")
	assert.Equal(t, demodata.UserGroupID(10), dig(r.Data, "userGroups", "entities", 0, "id"))

	r = e.post(`query($id: ID!) { userGroup(id: $id) { id name } again: userGroup(id: $id) { name } }`, map[string]any{"id": demodata.UserGroupID(2)})
	require.Empty(t, r.Errors)
	assert.Equal(t, demodata.UserGroupName(2), dig(r.Data, "userGroup", "name"))
	assert.Equal(t, 1, e.usergroupsKit().Count(routeUGGet), "deduplicated per request")
}

func TestTeams(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`{ teams(nameContains: "support") { __typename id name source memberCount } }`, nil)
	require.Empty(t, r.Errors)
	teams := r.Data["teams"].([]any)
	require.NotEmpty(t, teams)
	for _, tm := range teams {
		assert.Contains(t, dig(tm, "name"), "Support")
		assert.Equal(t, "GENESYS", dig(tm, "source"))
	}
	r = e.post(`{ teams(nameContains: "forms team 00") { __typename name source } }`, nil)
	require.Empty(t, r.Errors)
	require.NotEmpty(t, r.Data["teams"])
	assert.Equal(t, "UserGroup", dig(r.Data, "teams", 0, "__typename"))
}

func TestBadInputCostsNoCall(t *testing.T) {
	e := setup(t, nil)
	for _, id := range []string{"../users/me", "..", "a/b", "x?y=1", "%2e%2e", "a\r\nb"} {
		r := e.post(`query($id: ID!) { group(id: $id) { id } userGroup(id: $id) { id } }`, map[string]any{"id": id})
		assert.Equal(t, []string{"BAD_USER_INPUT", "BAD_USER_INPUT"}, r.codes(), id)
	}
	r := e.post(`{ groups(pageSize: 1000) { total } }`, nil)
	assert.Equal(t, []string{"BAD_USER_INPUT"}, r.codes())
	assert.Zero(t, e.genesysKit().Count(""))
	assert.Zero(t, e.usergroupsKit().Count(""))
}

func TestUpstreamFailureKeepsOtherFields(t *testing.T) {
	e := setup(t, map[string]string{"UPSTREAM_MAX_RETRIES": "0"})
	e.genesysKit().Inject(routeMembers, emukit.Fault{Status: 503, RetryAfter: "7"})
	r := e.post(`query($id: ID!) { group(id: $id) { name members { total } } userGroups(pageSize: 1) { entities { id } } }`,
		map[string]any{"id": demodata.GroupID(0)})
	require.Len(t, r.Errors, 1)
	er := r.Errors[0]
	assert.Equal(t, "UPSTREAM_UNAVAILABLE", er.Extensions["code"])
	assert.Equal(t, "genesys", er.Extensions["upstream"])
	assert.EqualValues(t, 503, er.Extensions["status"])
	assert.NotEmpty(t, er.Extensions["correlationId"])
	assert.EqualValues(t, 7, er.Extensions["retryAfter"])
	assert.Equal(t, []any{"group", "members"}, er.Path)
	// members is MemberPage! (the contract's type), so its failure nulls
	// the group; the other root field still answers.
	assert.Nil(t, r.Data["group"])
	assert.Len(t, dig(r.Data, "userGroups", "entities"), 1, "the other root field")
}
