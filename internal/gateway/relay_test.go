package gateway

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// Relay: global object identification, cursor connections, and the
// selection-derived expand list.

func TestNodesBatchOneCallPer100GroupIDs(t *testing.T) {
	e := setup(t, nil)
	ids := make([]any, 100)
	for i := range ids {
		ids[i] = demodata.GroupID(i) // 40 exist, 60 name no group
	}
	e.resetCalls()
	resp := e.post(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Group { name } } }`, map[string]any{"ids": ids})
	require.Empty(t, resp.Errors)
	assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RouteGetGroups), "100 group ids: one upstream call")
	assert.Equal(t, 1, e.genesysKit().Count("")-e.genesysKit().Count("POST /oauth/token"))
	nodes := resp.Data["nodes"].([]any)
	require.Len(t, nodes, 100)
	assert.Equal(t, "Group", dig(nodes, 0, "__typename"))
	assert.Equal(t, demodata.GroupID(0), dig(nodes, 0, "id"))
	assert.Nil(t, nodes[99], "an id no group has is null")
}

func TestNodeRefetchesEveryNodeType(t *testing.T) {
	e := setup(t, nil)
	g := demodata.GroupID(1)
	set := e.post(`mutation($g: ID!) { setDynamicDefinition(groupId: $g, query: {skillConditions: [{operation: AND,
		routingSkillConditions: [{routingSkill: "Chat", comparator: GREATER_THAN, proficiency: 2}]}]}) { id groupId } }`,
		map[string]any{"g": g})
	require.Empty(t, set.Errors)
	ddID := dig(set.Data, "setDynamicDefinition", "id").(string)
	assert.Equal(t, "DynamicDefinition:"+g, ddID)

	resp := e.post(`query($g: ID!, $ug: ID!, $dd: ID!) {
		g: node(id: $g) { __typename id ... on Group { name } }
		ug: node(id: $ug) { __typename id ... on UserGroup { name } }
		dd: node(id: $dd) { __typename id ... on DynamicDefinition { groupId } }
		none: node(id: "6a0f0000-0000-4000-8000-ffffffffffff") { id } }`,
		map[string]any{"g": g, "ug": demodata.UserGroupID(2), "dd": ddID})
	require.Empty(t, resp.Errors)
	assert.Equal(t, "Group", dig(resp.Data, "g", "__typename"))
	assert.Equal(t, g, dig(resp.Data, "g", "id"))
	assert.Equal(t, "UserGroup", dig(resp.Data, "ug", "__typename"))
	assert.Equal(t, demodata.UserGroupID(2), dig(resp.Data, "ug", "id"))
	assert.Equal(t, "DynamicDefinition", dig(resp.Data, "dd", "__typename"))
	assert.Equal(t, g, dig(resp.Data, "dd", "groupId"))
	assert.Nil(t, resp.Data["none"])
}

func TestNodeBadIDsCostNothing(t *testing.T) {
	e := setup(t, nil)
	e.resetCalls()
	for _, id := range []string{"GroupProfile:" + demodata.GroupID(1), "Nope:1", "DynamicDefinition:not-a-uuid", "a b"} {
		resp := e.post(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
		assert.Equal(t, []string{"BAD_USER_INPUT"}, resp.codes(), id)
	}
	resp := e.post(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []any{demodata.GroupID(1), "x:y"}})
	assert.Equal(t, []string{"BAD_USER_INPUT"}, resp.codes())
	assert.Zero(t, e.genesysKit().Count("")+e.usergroupsKit().Count(""))
}

func TestNodeObeysPermissions(t *testing.T) {
	idp := newIDP(t)
	e := setup(t, idp.env())
	id := "DynamicDefinition:" + demodata.GroupID(1)
	e.resetCalls()
	r := e.post(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, bearerHeader(idp.token("ec-1", claims("alice")))...)
	assert.Equal(t, []string{"FORBIDDEN"}, r.codes())
	assert.Equal(t, []any{"node"}, r.Errors[0].Path)
	assert.Zero(t, e.genesysKit().Count(genesysemu.RouteGetDynamic))

	r = e.post(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id},
		bearerHeader(idp.token("ec-1", claims("alice", "directory:group:view")))...)
	assert.Empty(t, r.Errors)
	assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RouteGetDynamic))
	// In nodes, the refused id is null with its error at its index; the others resolve.
	r = e.post(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []any{demodata.GroupID(1), id}},
		bearerHeader(idp.token("ec-1", claims("alice")))...)
	assert.Equal(t, []string{"FORBIDDEN"}, r.codes())
	assert.Equal(t, []any{"nodes", 1.0}, r.Errors[0].Path)
	assert.Equal(t, []any{map[string]any{"id": demodata.GroupID(1)}, nil}, r.Data["nodes"])
}

// groupsWindow reads one window of groupsConnection.
func groupsWindow(t *testing.T, e *testEnv, args string, vars map[string]any) (ids []string, pageInfo map[string]any, total float64) {
	t.Helper()
	var decl []string
	for _, v := range []string{"after", "before"} {
		if strings.Contains(args, "$"+v) {
			decl = append(decl, "$"+v+": String")
		}
	}
	op := "query"
	if len(decl) > 0 {
		op += "(" + strings.Join(decl, ", ") + ")"
	}
	resp := e.post(op+` { groupsConnection(`+args+`) { totalCount
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } }`, vars)
	require.Empty(t, resp.Errors, string(resp.Raw))
	c := resp.Data["groupsConnection"].(map[string]any)
	for _, edge := range c["edges"].([]any) {
		ids = append(ids, dig(edge, "node", "id").(string))
	}
	return ids, c["pageInfo"].(map[string]any), c["totalCount"].(float64)
}

func TestGroupsConnectionPagesWithOneCallPerAlignedWindow(t *testing.T) {
	e := setup(t, nil)
	all := make([]string, 0, 40)
	for _, g := range e.post(`{ groups(pageSize: 100) { entities { id } } }`, nil).Data["groups"].(map[string]any)["entities"].([]any) {
		all = append(all, dig(g, "id").(string))
	}
	var got []string
	var after any
	for range 5 { // 40 groups, 10 a window: 4 windows, then no next page
		e.resetCalls()
		ids, info, total := groupsWindow(t, e, "first: 10, after: $after", map[string]any{"after": after})
		assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RouteGetGroups), "an aligned window is one call")
		assert.Equal(t, 40.0, total)
		got = append(got, ids...)
		if !info["hasNextPage"].(bool) {
			break
		}
		after = info["endCursor"]
	}
	require.Equal(t, all, got)

	// Misaligned: [3, 13) fits one page of 13; [95-style] windows that fit
	// no page up to 100 cost two.
	e.resetCalls()
	_, info, _ := groupsWindow(t, e, "first: 3", nil)
	ids, _, _ := groupsWindow(t, e, "first: 10, after: $after", map[string]any{"after": info["endCursor"]})
	assert.Equal(t, all[3:13], ids)
	assert.Equal(t, 2, e.genesysKit().Count(genesysemu.RouteGetGroups), "two windows, one call each")

	// Backwards from a cursor, and the last n of all.
	_, info, _ = groupsWindow(t, e, "first: 20", nil)
	ids, back, _ := groupsWindow(t, e, "last: 5, before: $before", map[string]any{"before": info["endCursor"]})
	assert.Equal(t, all[14:19], ids)
	assert.True(t, back["hasNextPage"].(bool))
	assert.True(t, back["hasPreviousPage"].(bool))
	ids, tail, _ := groupsWindow(t, e, "last: 4", nil)
	assert.Equal(t, all[36:], ids)
	assert.False(t, tail["hasNextPage"].(bool))
}

func TestConnectionMisalignedWindowCostsTwoCalls(t *testing.T) {
	e := setupSized(t, nil, demodata.Size{Groups: 250, Users: 20, MembersPerGroup: 2, UserGroups: 3})
	// [95, 195): no page size from 100 to 100 holds it in one page.
	_, info, _ := groupsWindow(t, e, "first: 95", nil)
	e.resetCalls()
	ids, _, _ := groupsWindow(t, e, "first: 100, after: $after", map[string]any{"after": info["endCursor"]})
	assert.Equal(t, 2, e.genesysKit().Count(genesysemu.RouteGetGroups))
	var all []string
	for page := 1; page <= 2; page++ {
		r := e.post(`query($p: Int) { groups(pageSize: 100, pageNumber: $p) { entities { id } } }`, map[string]any{"p": page})
		for _, g := range dig(r.Data, "groups", "entities").([]any) {
			all = append(all, dig(g, "id").(string))
		}
	}
	assert.Equal(t, all[95:195], ids)
}

func TestConnectionsOfMembersUserGroupsAndSearch(t *testing.T) {
	e := setup(t, nil)
	g := demodata.GroupID(2)
	e.resetCalls()
	resp := e.post(`query($g: ID!) { group(id: $g) { membersConnection(first: 5) { totalCount pageInfo { hasNextPage endCursor }
		edges { cursor node { id } } } } }`, map[string]any{"g": g})
	require.Empty(t, resp.Errors)
	assert.Equal(t, 12.0, dig(resp.Data, "group", "membersConnection", "totalCount"))
	assert.Len(t, dig(resp.Data, "group", "membersConnection", "edges"), 5)
	assert.Equal(t, true, dig(resp.Data, "group", "membersConnection", "pageInfo", "hasNextPage"))
	assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RouteGetMembers), "members only: one call")

	e.resetCalls()
	resp = e.post(`{ userGroupsConnection(first: 20) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`, nil)
	require.Empty(t, resp.Errors)
	assert.Len(t, dig(resp.Data, "userGroupsConnection", "edges"), 20)
	assert.Nil(t, dig(resp.Data, "userGroupsConnection", "totalCount"))
	assert.Equal(t, 1, e.usergroupsKit().Count(usergroupsemu.RouteSearch))
	end := dig(resp.Data, "userGroupsConnection", "pageInfo", "endCursor")
	resp = e.post(`query($a: String) { userGroupsConnection(first: 20, after: $a) { pageInfo { hasNextPage } edges { node { id } } } }`,
		map[string]any{"a": end})
	require.Empty(t, resp.Errors)
	assert.Len(t, dig(resp.Data, "userGroupsConnection", "edges"), 10)
	assert.Equal(t, false, dig(resp.Data, "userGroupsConnection", "pageInfo", "hasNextPage"))

	e.resetCalls()
	resp = e.post(`{ searchGroupsConnection(query: [{type: CONTAINS, fields: ["name"], value: "o"}], first: 2) { totalCount
		edges { node { id name } } } }`, nil)
	require.Empty(t, resp.Errors)
	assert.Len(t, dig(resp.Data, "searchGroupsConnection", "edges"), 2)
	assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RoutePostSearch))
}

func TestConnectionBadArgumentsCostNothing(t *testing.T) {
	e := setup(t, nil)
	e.resetCalls()
	for _, q := range []string{
		`{ groupsConnection { totalCount } }`,
		`{ groupsConnection(first: 1, last: 1) { totalCount } }`,
		`{ groupsConnection(first: 101) { totalCount } }`,
		`{ groupsConnection(first: 1, after: "bm9wZQ") { totalCount } }`,
		`{ userGroupsConnection(last: 3) { totalCount } }`,
	} {
		resp := e.post(q, nil)
		assert.Equal(t, []string{"BAD_USER_INPUT"}, resp.codes(), q)
	}
	assert.Zero(t, e.genesysKit().Count("")+e.usergroupsKit().Count(""))
}

func TestExpandFollowsTheSelection(t *testing.T) {
	e := setup(t, nil)
	g := demodata.GroupID(3)
	e.genesysKit().KeepDetails(true)
	for name, q := range map[string]string{
		"members":           `query($g: ID!) { group(id: $g) { members(pageSize: 3) { entities { id presence { systemPresence modifiedDate } biography { biography } } } } }`,
		"membersConnection": `query($g: ID!) { group(id: $g) { membersConnection(first: 3) { edges { node { id presence { systemPresence modifiedDate } biography { biography } } } } } }`,
	} {
		e.resetCalls()
		resp := e.post(q, map[string]any{"g": g})
		require.Empty(t, resp.Errors, name)
		var calls []emukit.Call
		for _, c := range e.genesysKit().Calls() {
			if c.Route == genesysemu.RouteGetMembers {
				calls = append(calls, c)
			}
		}
		require.Len(t, calls, 1, name)
		expand := fmt.Sprint(calls[0].Query["expand"])
		assert.Contains(t, expand, "presence", name)
		assert.Contains(t, expand, "biography", name)
		assert.NotContains(t, expand, "routingStatus", name)
		assert.Contains(t, string(resp.Raw), `"modifiedDate":"`, "%s: the selected presence is not null", name)
		assert.Contains(t, string(resp.Raw), `"systemPresence":"`, "%s: the presence names its system presence", name)
		assert.Contains(t, string(resp.Raw), `"biography":"Demo user`, name)
	}
}

// Errors a UI can use.

func TestConflictCarriesTheCurrentVersion(t *testing.T) {
	e := setup(t, nil)
	id := demodata.GroupID(4)
	r := e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {name: "First"}) { version } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	current := dig(r.Data, "updateGroup", "version")
	r = e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {name: "Stale", version: 1}) { name } }`, map[string]any{"id": id})
	require.Equal(t, []string{"CONFLICT"}, r.codes())
	assert.Equal(t, []any{"updateGroup"}, r.Errors[0].Path)
	assert.Equal(t, current, r.Errors[0].Extensions["currentVersion"])
	assert.EqualValues(t, 409, r.Errors[0].Extensions["status"])
	assert.NotContains(t, string(r.Raw), "does not match", "the upstream's text stays out")
}

func TestDeleteTellsNeverExistedFromAlreadyDeleted(t *testing.T) {
	e := setup(t, nil)
	del := `mutation($id: ID!) { deleteGroup(id: $id) { id deletedId status deleted alreadyDeleted } }`
	never := "6a0f0000-0000-4000-8000-ffffffffffff"
	r := e.post(del, map[string]any{"id": never})
	require.Empty(t, r.Errors)
	assert.Equal(t, map[string]any{"id": "DeletePayload:" + never, "deletedId": never, "status": "NOT_FOUND", "deleted": false,
		"alreadyDeleted": false}, r.Data["deleteGroup"])

	// A group Genesys still shows in state deleted while its delete answers 404.
	id := demodata.GroupID(5)
	r = e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {state: DELETED}) { state } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	e.genesysKit().Inject(genesysemu.RouteDeleteGroup, emukit.Fault{Status: 404, Times: 1})
	r = e.post(del, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Equal(t, "ALREADY_DELETED", dig(r.Data, "deleteGroup", "status"))
	assert.Equal(t, true, dig(r.Data, "deleteGroup", "deleted"))
}

func TestOneBadIDInAMembershipMutationFailsAlone(t *testing.T) {
	e := setup(t, nil)
	g, ug := demodata.GroupID(6), demodata.UserGroupID(6)
	good, bad := demodata.UserID(150), "not a uuid"
	e.resetCalls()
	r := e.post(`mutation($g: ID!, $ids: [ID!]!) { addGroupMembers(groupId: $g, memberIds: $ids) { status
		results { memberId outcome errorCode } } }`, map[string]any{"g": g, "ids": []any{good, bad}})
	assert.Equal(t, []string{"BAD_USER_INPUT"}, r.codes(), "the first failure is also in errors")
	assert.Equal(t, "PARTIAL", dig(r.Data, "addGroupMembers", "status"))
	assert.Equal(t, []any{
		map[string]any{"memberId": good, "outcome": "ADDED", "errorCode": nil},
		map[string]any{"memberId": bad, "outcome": "FAILED", "errorCode": "BAD_USER_INPUT"},
	}, dig(r.Data, "addGroupMembers", "results"))
	assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RoutePostMembers))

	r = e.post(`mutation($ug: ID!, $ids: [ID!]!) { addUserGroupUsers(id: $ug, userIds: $ids) { status
		results { memberId outcome errorCode } } }`, map[string]any{"ug": ug, "ids": []any{"u-new-1", "bad id!"}})
	assert.Equal(t, []string{"BAD_USER_INPUT"}, r.codes())
	assert.Equal(t, "PARTIAL", dig(r.Data, "addUserGroupUsers", "status"))
	assert.Equal(t, "ADDED", dig(r.Data, "addUserGroupUsers", "results", 0, "outcome"))
	assert.Equal(t, "BAD_USER_INPUT", dig(r.Data, "addUserGroupUsers", "results", 1, "errorCode"))

	e.resetCalls()
	r = e.post(`mutation($g: ID!) { removeGroupMembers(groupId: $g, memberIds: ["x", "y"]) { status } }`, map[string]any{"g": g})
	assert.Equal(t, []string{"BAD_USER_INPUT"}, r.codes(), "no valid id: the field fails")
	assert.Nil(t, r.Data["removeGroupMembers"])
	assert.Zero(t, e.genesysKit().Count(""), "nothing valid: no upstream call")
}

// TestNoTwoTypesShareAnID is what a Relay store relies on: every object
// with an id, in every answer of a session mixing the shapes that once
// reused a group's id (a profile, a delete payload) with groups, members,
// rules and user groups, keeps one __typename per id.
func TestNoTwoTypesShareAnID(t *testing.T) {
	e := setup(t, nil)
	g, other := demodata.GroupID(11), demodata.GroupID(12)
	rules := `{skillConditions: [{operation: AND, routingSkillConditions: [{routingSkill: "Chat", comparator: GREATER_THAN, proficiency: 1}]}]}`
	ops := []struct {
		query string
		vars  map[string]any
	}{
		{`query($g: ID!) { group(id: $g) { __typename id name owners { __typename id } userGroups { __typename id }
			members(pageSize: 5) { entities { __typename id division { __typename id } manager { __typename id } } }
			membersConnection(first: 5) { edges { node { __typename id } } } } }`, map[string]any{"g": g}},
		{`mutation($g: ID!) { setDynamicDefinition(groupId: $g, query: ` + rules + `) { __typename id groupId } }`, map[string]any{"g": g}},
		{`query($g: ID!) { group(id: $g) { __typename id dynamicDefinition { __typename id } } groupProfile(groupId: $g) { __typename id groupId } }`,
			map[string]any{"g": g}},
		{`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, map[string]any{"ids": []any{g, "DynamicDefinition:" + g, demodata.UserGroupID(1)}}},
		{`{ groupsConnection(first: 20) { edges { node { __typename id } } } userGroupsConnection(first: 20) { edges { node { __typename id group { __typename id } } } } }`, nil},
		{`mutation($g: ID!) { removeDynamicDefinition(groupId: $g) { __typename id deletedId } }`, map[string]any{"g": g}},
		{`mutation($g: ID!) { deleteGroup(id: $g) { __typename id deletedId } }`, map[string]any{"g": other}},
		{`query($g: ID!) { group(id: $g) { __typename id } }`, map[string]any{"g": other}},
	}
	typeOf := map[string]string{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			id, hasID := x["id"].(string)
			typ, hasType := x["__typename"].(string)
			if hasID && hasType {
				if prev, ok := typeOf[id]; ok {
					assert.Equal(t, prev, typ, "id %s names two types", id)
				}
				typeOf[id] = typ
			}
			for _, child := range x {
				walk(child)
			}
		case []any:
			for _, child := range x {
				walk(child)
			}
		}
	}
	for _, op := range ops {
		r := e.post(op.query, op.vars)
		require.Empty(t, r.Errors, string(r.Raw))
		walk(r.Data)
	}
	types := map[string]bool{}
	for _, typ := range typeOf {
		types[typ] = true
	}
	for _, typ := range []string{"Group", "Member", "UserGroup", "DynamicDefinition", "GroupProfile", "DeletePayload", "Division"} {
		assert.True(t, types[typ], "the session saw no %s", typ)
	}
}

func TestAliasedNodeFieldsShareOneCall(t *testing.T) {
	e := setup(t, nil)
	var b strings.Builder
	b.WriteString("{")
	for i := range 99 {
		fmt.Fprintf(&b, ` n%d: node(id: %q) { id }`, i, demodata.GroupID(i))
	}
	b.WriteString(` g: group(id: "` + demodata.GroupID(1) + `") { name } }`)
	e.resetCalls()
	r := e.post(b.String(), nil)
	require.Empty(t, r.Errors)
	assert.Equal(t, demodata.GroupID(0), dig(r.Data, "n0", "id"))
	assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RouteGetGroups), "99 aliased node fields and a group field: one call")
}
