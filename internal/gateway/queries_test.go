package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
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

const searchPage = `query($in: GroupSearchInput!) { searchGroups(input: $in) {
	pageNumber pageCount previousPage currentPage nextPage results { id } } }`

// TestSearchPagingEnds: Genesys (and the emulator, like the official
// sample) carries nextPage on the last page too; the gateway's nextPage is
// null there, so paging until it is null ends. previousPage is null on page 1.
func TestSearchPagingEnds(t *testing.T) {
	e := setup(t, nil)
	const size = 15 // 40 demo groups: pages 1, 2 and 3
	pageCount := (demodata.Demo.Groups + size - 1) / size
	upstreamLast, err := e.gw.genesys.SearchGroups(context.Background(),
		genesys.GroupSearchRequest{PageSize: size, PageNumber: pageCount})
	require.NoError(t, err)
	require.Equal(t, pageCount, upstreamLast.PageCount)
	require.NotEmpty(t, upstreamLast.NextPage, "the upstream's last page carries a next page")

	for n := 1; n <= pageCount; n++ {
		r := e.post(searchPage, map[string]any{"in": map[string]any{"pageSize": size, "pageNumber": n}})
		require.Empty(t, r.Errors)
		res := dig(r.Data, "searchGroups")
		assert.EqualValues(t, n, dig(res, "pageNumber"))
		assert.NotNil(t, dig(res, "currentPage"))
		assert.Equal(t, n < pageCount, dig(res, "nextPage") != nil, "nextPage on page %d of %d", n, pageCount)
		assert.Equal(t, n > 1, dig(res, "previousPage") != nil, "previousPage on page %d", n)
	}

	// A client that follows nextPage until it is null sees every group once.
	r := e.post(searchPage, map[string]any{"in": map[string]any{"pageSize": size}})
	require.Empty(t, r.Errors)
	seen := map[any]bool{}
	res := dig(r.Data, "searchGroups")
	for pages := 1; ; pages++ {
		require.LessOrEqual(t, pages, pageCount, "paging must end at the last page")
		for _, g := range dig(res, "results").([]any) {
			seen[dig(g, "id")] = true
		}
		next, ok := dig(res, "nextPage").(string)
		if !ok {
			break
		}
		r = e.post(`query($q: String!) { searchGroupsByCursor(q64: $q) { nextPage results { id } } }`, map[string]any{"q": next})
		require.Empty(t, r.Errors)
		res = dig(r.Data, "searchGroupsByCursor")
	}
	assert.Len(t, seen, demodata.Demo.Groups)

	// Page 1 of 1, as in the official sample.
	r = e.post(searchPage, map[string]any{"in": map[string]any{"query": []any{
		map[string]any{"type": "EXACT", "fields": []string{"name"}, "value": demodata.GroupName(1)}}}})
	require.Empty(t, r.Errors)
	assert.EqualValues(t, 1, dig(r.Data, "searchGroups", "pageCount"))
	assert.Nil(t, dig(r.Data, "searchGroups", "nextPage"))
	assert.Nil(t, dig(r.Data, "searchGroups", "previousPage"))
}

// TestSearchCriterionNeedsType: the API requires a criterion's type, nested
// ones included; the schema makes it non-null, so a request without one is
// refused before execution and costs no call.
func TestSearchCriterionNeedsType(t *testing.T) {
	e := setup(t, nil)
	e.resetCalls()
	for _, q := range []string{
		`{ searchGroups(input: {query: [{fields: ["name"], value: "Support"}]}) { total } }`,
		`{ searchGroups(input: {query: [{type: MATCH_ALL, group: [{fields: ["name"], value: "Support"}]}]}) { total } }`,
		`{ searchGroups(input: {query: [{type: null, fields: ["name"], value: "Support"}]}) { total } }`,
	} {
		r := e.post(q, nil)
		assert.Equal(t, []string{"GRAPHQL_VALIDATION_FAILED"}, r.codes(), q)
		assert.Nil(t, r.Data, q)
	}
	for _, crit := range []map[string]any{
		{"fields": []string{"name"}, "value": "Support"},
		{"type": nil, "fields": []string{"name"}, "value": "Support"},
		{"type": "MATCH_ALL", "group": []any{map[string]any{"fields": []string{"name"}, "value": "Support"}}},
	} {
		r := e.post(searchPage, map[string]any{"in": map[string]any{"query": []any{crit}}})
		assert.Equal(t, []string{"GRAPHQL_VALIDATION_FAILED"}, r.codes(), crit)
		assert.Nil(t, r.Data)
	}
	assert.Zero(t, e.genesysKit().Count(""))
}

// TestUserGroupPageExactlyFull: the Usergroup search reports no paging
// metadata, so hasNextPage means "this page is full", as the schema says: on
// an exactly-full last page it is true and the next page is empty.
func TestUserGroupPageExactlyFull(t *testing.T) {
	e := setup(t, nil)
	const size = 10
	require.Zero(t, demodata.Demo.UserGroups%size, "the demo's user groups fill their last page exactly")
	last := demodata.Demo.UserGroups / size
	q := `query($n: Int) { userGroups(pageSize: 10, pageNumber: $n) { hasNextPage entities { id } } }`
	r := e.post(q, map[string]any{"n": last})
	require.Empty(t, r.Errors)
	assert.Len(t, dig(r.Data, "userGroups", "entities"), size)
	assert.Equal(t, true, dig(r.Data, "userGroups", "hasNextPage"))
	r = e.post(q, map[string]any{"n": last + 1})
	require.Empty(t, r.Errors)
	assert.Equal(t, []any{}, dig(r.Data, "userGroups", "entities"))
	assert.Equal(t, false, dig(r.Data, "userGroups", "hasNextPage"))
}

// Selective decoding (only the user and group members an operation names
// are decoded) must keep every value the operation shows, however it names
// the field: through a named fragment, an interface fragment, a field under
// @include, or owners and managers that are Members too.
func TestSelectiveDecodingKeepsEverySelectedValue(t *testing.T) {
	e := setup(t, nil)
	vars := map[string]any{"id": demodata.GroupID(0), "yes": true}
	full := e.post(`query($id: ID!) { group(id: $id) { memberCount description owners { id email }
		members(pageSize: 3) { entities { id email title division { name } } } } }`, vars)
	require.Empty(t, full.Errors)
	selective := e.post(`fragment M on Member { email } query($id: ID!, $yes: Boolean!) { group(id: $id) {
		... on Team { memberCount } description @include(if: $yes) owners { id ...M }
		members(pageSize: 3) { entities { id ...M ... on Member { title division { name } } } } } }`, vars)
	require.Empty(t, selective.Errors)
	assert.Equal(t, full.Data, selective.Data)
	for _, path := range [][]any{{"group", "memberCount"}, {"group", "description"}, {"group", "owners", 0, "id"},
		{"group", "members", "entities", 0, "email"}, {"group", "members", "entities", 0, "title"},
		{"group", "members", "entities", 0, "division", "name"}} {
		assert.NotNil(t, dig(selective.Data, path...), "%v", path)
	}
}

// Forms platform user ids in the platform's "N" form (32 hex digits, no
// hyphens), as its vendor samples show them.
const (
	formsUserA = "2ebc64a36a0d400f9a1b2c3d4e5f6a7b"
	formsUserB = "77f3a44b82264f7f8e9d0c1b2a3f4e5d"
)

// hyphenated spells a 32-hex id as 8-4-4-4-12.
func hyphenated(id string) string {
	return id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
}

// TestUserGroupNFormIDs drives every user-group operation with the ids the
// real platform answers: 32 hex digits without hyphens.
func TestUserGroupNFormIDs(t *testing.T) {
	e := setup(t, nil)
	k := e.usergroupsKit()

	r := e.post(`mutation($u: [ID!]) { createUserGroup(input: {name: "N forms", userIds: $u}) { id userIds } }`,
		map[string]any{"u": []string{formsUserA}})
	require.Empty(t, r.Errors)
	id, _ := dig(r.Data, "createUserGroup", "id").(string)
	assert.Regexp(t, `^[0-9a-f]{32}$`, id, "the emulator answers N-form ids, as the platform does")
	assert.Equal(t, []any{formsUserA}, dig(r.Data, "createUserGroup", "userIds"))

	seeded := demodata.UserGroupID(3)
	r = e.post(`query($id: ID!) { userGroup(id: $id) { id name } }`, map[string]any{"id": seeded})
	require.Empty(t, r.Errors)
	assert.Equal(t, seeded, dig(r.Data, "userGroup", "id"))
	assert.Equal(t, demodata.UserGroupName(3), dig(r.Data, "userGroup", "name"))

	r = e.post(`mutation($id: ID!, $u: [ID!]) { updateUserGroup(id: $id, input: {name: "N renamed", userIds: $u}) { id name userIds } }`,
		map[string]any{"id": id, "u": []string{formsUserA, formsUserB}})
	require.Empty(t, r.Errors)
	assert.Equal(t, "N renamed", dig(r.Data, "updateUserGroup", "name"))
	assert.Equal(t, []any{formsUserA, formsUserB}, dig(r.Data, "updateUserGroup", "userIds"))

	r = e.post(`mutation($id: ID!, $u: [ID!]!) { removeUserGroupUsers(id: $id, userIds: $u) { userGroupId status
		results { memberId outcome } userGroup { userIds } } }`, map[string]any{"id": id, "u": []string{formsUserB}})
	require.Empty(t, r.Errors)
	assert.Equal(t, id, dig(r.Data, "removeUserGroupUsers", "userGroupId"))
	assert.Equal(t, "REMOVED", dig(r.Data, "removeUserGroupUsers", "results", 0, "outcome"))
	assert.Equal(t, []any{formsUserA}, dig(r.Data, "removeUserGroupUsers", "userGroup", "userIds"))

	r = e.post(`mutation($id: ID!, $u: [ID!]!) { addUserGroupUsers(id: $id, userIds: $u) { status
		results { memberId outcome } userGroup { userIds } } }`, map[string]any{"id": id, "u": []string{formsUserB}})
	require.Empty(t, r.Errors)
	assert.Equal(t, "COMPLETE", dig(r.Data, "addUserGroupUsers", "status"))
	assert.Equal(t, "ADDED", dig(r.Data, "addUserGroupUsers", "results", 0, "outcome"))
	assert.Equal(t, []any{formsUserA, formsUserB}, dig(r.Data, "addUserGroupUsers", "userGroup", "userIds"))

	e.resetCalls()
	r = e.post(`mutation($id: ID!) { deleteUserGroup(id: $id) { alreadyDeleted } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Equal(t, false, dig(r.Data, "deleteUserGroup", "alreadyDeleted"))
	assert.Equal(t, 1, k.Count(usergroupsemu.RouteDelete))
	_, exists := e.gw.demo.usergroups.UserGroup(id)
	assert.False(t, exists)
}

// TestUserGroupIDsCompareIgnoringCaseAndHyphens: the platform may answer
// another spelling of an id it was given, so ids that differ only in case
// or hyphens are one id, in the membership merge and in the loader.
func TestUserGroupIDsCompareIgnoringCaseAndHyphens(t *testing.T) {
	e := setup(t, nil)
	k := e.usergroupsKit()
	r := e.post(`mutation($u: [ID!]) { createUserGroup(input: {name: "Case forms", userIds: $u}) { id } }`,
		map[string]any{"u": []string{formsUserA, formsUserB}})
	require.Empty(t, r.Errors)
	id := dig(r.Data, "createUserGroup", "id").(string)

	e.resetCalls()
	r = e.post(`mutation($id: ID!, $u: [ID!]!) { addUserGroupUsers(id: $id, userIds: $u) { status
		results { memberId outcome } userGroup { userIds } } }`,
		map[string]any{"id": strings.ToUpper(id), "u": []string{strings.ToUpper(formsUserA), hyphenated(formsUserB), formsUserA}})
	require.Empty(t, r.Errors)
	assert.Equal(t, "COMPLETE", dig(r.Data, "addUserGroupUsers", "status"))
	assert.Equal(t, []any{
		map[string]any{"memberId": strings.ToUpper(formsUserA), "outcome": "ALREADY_MEMBER"},
		map[string]any{"memberId": hyphenated(formsUserB), "outcome": "ALREADY_MEMBER"},
	}, dig(r.Data, "addUserGroupUsers", "results"), "repeats count once, case and hyphens ignored")
	assert.Equal(t, []any{formsUserA, formsUserB}, dig(r.Data, "addUserGroupUsers", "userGroup", "userIds"))
	assert.Zero(t, k.Count(usergroupsemu.RouteUpdate), "nothing to write")

	r = e.post(`mutation($id: ID!, $u: [ID!]!) { removeUserGroupUsers(id: $id, userIds: $u) { status
		results { outcome } userGroup { userIds } } }`, map[string]any{"id": hyphenated(id), "u": []string{hyphenated(strings.ToUpper(formsUserA))}})
	require.Empty(t, r.Errors)
	assert.Equal(t, "REMOVED", dig(r.Data, "removeUserGroupUsers", "results", 0, "outcome"))
	assert.Equal(t, []any{formsUserB}, dig(r.Data, "removeUserGroupUsers", "userGroup", "userIds"))

	e.resetCalls()
	r = e.post(`query($a: ID!, $b: ID!, $c: ID!) { a: userGroup(id: $a) { name } b: userGroup(id: $b) { name } c: userGroup(id: $c) { name } }`,
		map[string]any{"a": id, "b": strings.ToUpper(id), "c": hyphenated(id)})
	require.Empty(t, r.Errors)
	for _, alias := range []string{"a", "b", "c"} {
		assert.Equal(t, "Case forms", dig(r.Data, alias, "name"), alias)
	}
	assert.Equal(t, 1, k.Count(usergroupsemu.RouteGet), "three spellings of one id: one lookup")
}

// TestHostileUserGroupIDs: opaque does not mean anything goes. An id that
// could change the request it is put into, or that is empty or too long, is
// BAD_USER_INPUT on its field before any upstream call.
func TestHostileUserGroupIDs(t *testing.T) {
	e := setup(t, nil)
	good := demodata.UserGroupID(3)
	operations := map[string]struct {
		query string
		vars  func(bad string) map[string]any
	}{
		"userGroup": {`query($id: ID!) { userGroup(id: $id) { id } }`,
			func(bad string) map[string]any { return map[string]any{"id": bad} }},
		"updateUserGroup": {`mutation($id: ID!) { updateUserGroup(id: $id, input: {name: "x"}) { id } }`,
			func(bad string) map[string]any { return map[string]any{"id": bad} }},
		"deleteUserGroup": {`mutation($id: ID!) { deleteUserGroup(id: $id) { deleted } }`,
			func(bad string) map[string]any { return map[string]any{"id": bad} }},
		"addUserGroupUsers": {`mutation($id: ID!, $u: [ID!]!) { addUserGroupUsers(id: $id, userIds: $u) { status } }`,
			func(bad string) map[string]any { return map[string]any{"id": bad, "u": []string{formsUserA}} }},
		"removeUserGroupUsers": {`mutation($id: ID!, $u: [ID!]!) { removeUserGroupUsers(id: $id, userIds: $u) { status } }`,
			func(bad string) map[string]any { return map[string]any{"id": good, "u": []string{bad}} }},
		"createUserGroup": {`mutation($u: [ID!]) { createUserGroup(input: {name: "x", userIds: $u}) { id } }`,
			func(bad string) map[string]any { return map[string]any{"u": []string{bad}} }},
		"updateUserGroup users": {`mutation($id: ID!, $u: [ID!]) { updateUserGroup(id: $id, input: {userIds: $u}) { id } }`,
			func(bad string) map[string]any { return map[string]any{"id": good, "u": []string{formsUserA, bad}} }},
	}
	ids := map[string]string{
		"empty": "", "dot dot": "..", "slash": "a/b", "query string": "x?y=1", "encoded dot dot": "%2e%2e",
		"CR/LF": "a\r\nb", "65 chars": strings.Repeat("a", 65), "only hyphens": "--", "space": "a b",
		"fragment": "a#b", "parameter": "a&IntegrationKey=x", "braces": "{" + hyphenated(formsUserA) + "}",
	}
	for opName, op := range operations {
		field := strings.Fields(opName)[0]
		for name, bad := range ids {
			t.Run(opName+"/"+name, func(t *testing.T) {
				e.resetCalls()
				r := e.post(op.query, op.vars(bad))
				assert.Equal(t, []string{codeBadUserInput}, r.codes())
				if assert.Len(t, r.Errors, 1) {
					assert.Equal(t, []any{field}, r.Errors[0].Path)
				}
				e.assertNoUpstreamCall(t)
			})
		}
	}
}

// TestFreeTextExternalIDLinksNothing: ExternalId is free text (the vendor's
// sample uses grp_the_updated_group_extid). Only a Genesys group id's shape
// is looked up; anything else is a null group, with no Genesys call and no
// error, on every path that resolves UserGroup.group.
func TestFreeTextExternalIDLinksNothing(t *testing.T) {
	e := setup(t, nil)
	exts := []string{"grp_the_updated_group_extid", strings.ReplaceAll(demodata.GroupID(1), "-", ""), "ops team #4"}
	ids := make([]string, len(exts))
	for i, ext := range exts {
		r := e.post(`mutation($ext: String) { createUserGroup(input: {name: "Free text", externalId: $ext}) { id group { id } } }`,
			map[string]any{"ext": ext})
		require.Empty(t, r.Errors)
		assert.Nil(t, dig(r.Data, "createUserGroup", "group"))
		ids[i] = dig(r.Data, "createUserGroup", "id").(string)
	}
	e.resetCalls()

	for i, ext := range exts {
		r := e.post(`query($id: ID!, $ext: String) {
			userGroup(id: $id) { externalId group { id } }
			userGroups(externalId: $ext) { entities { externalId group { id name } } } }`,
			map[string]any{"id": ids[i], "ext": ext})
		require.Empty(t, r.Errors, ext)
		assert.Equal(t, ext, dig(r.Data, "userGroup", "externalId"))
		assert.Nil(t, dig(r.Data, "userGroup", "group"))
		assert.Equal(t, ext, dig(r.Data, "userGroups", "entities", 0, "externalId"))
		assert.Nil(t, dig(r.Data, "userGroups", "entities", 0, "group"))
	}
	assert.Zero(t, e.genesysKit().Count(""), "no Genesys call: %v", e.genesysKit().CountsByRoute())

	r := e.post(`{ teams(nameContains: "Free text") { ... on UserGroup { group { id } } } }`, nil)
	require.Empty(t, r.Errors)
	require.Len(t, r.Data["teams"], len(exts))
	for i := range exts {
		assert.Nil(t, dig(r.Data, "teams", i, "group"))
	}
	assert.Zero(t, e.genesysKit().Count(genesysemu.RouteGetGroups)+e.genesysKit().Count(genesysemu.RouteGetGroup),
		"only the teams search, no group lookup: %v", e.genesysKit().CountsByRoute())
}

// TestUpdateUserGroupIgnoresThePutEcho: the vendor's own PUT sample answers
// "UserIds": [] after setting one user; updateUserGroup answers with what a
// read after the write shows.
func TestUpdateUserGroupIgnoresThePutEcho(t *testing.T) {
	e := setup(t, nil)
	e.gw.demo.usergroups.SetUpdateEchoWithoutUsers(true)
	k := e.usergroupsKit()
	id := demodata.UserGroupID(2)

	r := e.post(`mutation($id: ID!, $u: [ID!]) { updateUserGroup(id: $id, input: {name: "Echo", userIds: $u}) { id name userIds memberCount } }`,
		map[string]any{"id": id, "u": []string{formsUserA}})
	require.Empty(t, r.Errors)
	assert.Equal(t, "Echo", dig(r.Data, "updateUserGroup", "name"))
	assert.Equal(t, []any{formsUserA}, dig(r.Data, "updateUserGroup", "userIds"))
	assert.EqualValues(t, 1, dig(r.Data, "updateUserGroup", "memberCount"))
	assert.Equal(t, map[string]int{usergroupsemu.RouteGet: 2, usergroupsemu.RouteUpdate: 1}, k.CountsByRoute())
}

// TestCommentVariedDocumentReportsItsOwnLocations sends one query twice
// through the gateway, the second time after two comment lines: both hit
// the cache once the first was validated, and each error names the line of
// its own text.
func TestCommentVariedDocumentReportsItsOwnLocations(t *testing.T) {
	e := setup(t, nil)
	e.genesysKit().Inject(routeGroups, emukit.Fault{Status: http.StatusBadRequest})
	query := `{ groups(pageSize: 1) { total } }`
	line := func(r gqlResponse) any {
		var body struct {
			Errors []struct {
				Locations []struct{ Line int } `json:"locations"`
			} `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(r.Raw, &body))
		require.NotEmpty(t, body.Errors, string(r.Raw))
		require.NotEmpty(t, body.Errors[0].Locations, string(r.Raw))
		return body.Errors[0].Locations[0].Line
	}
	assert.Equal(t, 1, line(e.post(query, nil)))
	assert.Equal(t, 3, line(e.post("# one\n# two\n"+query, nil)))
	assert.Equal(t, 1, line(e.post(query, nil)))
}
