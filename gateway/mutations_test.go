package gateway

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

func TestCreateGroup(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`mutation { createGroup(input: {name: "Night Shift", description: "after hours", visibility: MEMBERS}) {
		id name description type visibility rulesVisible version } }`, nil)
	require.Empty(t, r.Errors)
	g := dig(r.Data, "createGroup")
	assert.Equal(t, "Night Shift", dig(g, "name"))
	assert.Equal(t, "after hours", dig(g, "description"), "set by a follow-up update: Genesys ignores it on create")
	assert.Equal(t, "OFFICIAL", dig(g, "type"))
	assert.Equal(t, "MEMBERS", dig(g, "visibility"))
	assert.Equal(t, 1, e.genesysKit().Count(routePostGroup))
	assert.Equal(t, 1, e.genesysKit().Count(routePutGroup))

	r = e.post(`query($id: ID!) { group(id: $id) { name description } }`, map[string]any{"id": dig(g, "id")})
	require.Empty(t, r.Errors)
	assert.Equal(t, "after hours", dig(r.Data, "group", "description"))
}

func TestUpdateGroupVersions(t *testing.T) {
	e := setup(t, nil)
	id := demodata.GroupID(6)
	r := e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {name: "Renamed"}) { name version } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Equal(t, "Renamed", dig(r.Data, "updateGroup", "name"))
	assert.Equal(t, 1, e.genesysKit().Count(routeGetGroup), "the current version is read first")
	newVersion := dig(r.Data, "updateGroup", "version")

	r = e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {name: "Stale", version: 1}) { name } }`, map[string]any{"id": id})
	assert.Equal(t, []string{"CONFLICT"}, r.codes())
	assert.Equal(t, "genesys", r.Errors[0].Extensions["upstream"])
	assert.EqualValues(t, 409, r.Errors[0].Extensions["status"])

	r = e.post(`mutation($id: ID!, $v: Int) { updateGroup(id: $id, input: {description: "kept", version: $v}) { name description } }`,
		map[string]any{"id": id, "v": newVersion})
	require.Empty(t, r.Errors)
	assert.Equal(t, "Renamed", dig(r.Data, "updateGroup", "name"), "fields left out keep their value")
	assert.Equal(t, "kept", dig(r.Data, "updateGroup", "description"))
}

func TestDeleteGroupTwice(t *testing.T) {
	e := setup(t, nil)
	vars := map[string]any{"id": demodata.GroupID(7)}
	r := e.post(`mutation($id: ID!) { deleteGroup(id: $id) { deletedId deleted alreadyDeleted } }`, vars)
	require.Empty(t, r.Errors)
	assert.Equal(t, map[string]any{"deletedId": demodata.GroupID(7), "deleted": true, "alreadyDeleted": false}, r.Data["deleteGroup"])
	r = e.post(`mutation($id: ID!) { deleteGroup(id: $id) { deleted alreadyDeleted status } }`, vars)
	require.Empty(t, r.Errors)
	assert.Equal(t, map[string]any{"deleted": false, "alreadyDeleted": false, "status": "NOT_FOUND"}, r.Data["deleteGroup"],
		"gone from Genesys (404 on delete and read): the second delete found nothing")
	r = e.post(`query($id: ID!) { group(id: $id) { id } }`, vars)
	require.Empty(t, r.Errors)
	assert.Nil(t, r.Data["group"])
}

func TestDynamicDefinitionLifecycle(t *testing.T) {
	e := setup(t, nil)
	vars := map[string]any{"id": demodata.GroupID(8)}
	r := e.post(`mutation($id: ID!) { setDynamicDefinition(groupId: $id, query: {skillConditions: [{operation: OR,
		routingSkillConditions: [{routingSkill: "Billing", comparator: GREATER_THAN_OR_EQUAL_TO, proficiency: 3}],
		languageSkillConditions: [{languageSkill: "French", comparator: EQUAL_TO, proficiency: 5}]}]}) {
		groupId query { skillConditions { operation routingSkillConditions { routingSkill comparator proficiency }
		languageSkillConditions { languageSkill comparator } } } } }`, vars)
	require.Empty(t, r.Errors)
	def := dig(r.Data, "setDynamicDefinition")
	assert.Equal(t, demodata.GroupID(8), dig(def, "groupId"))
	assert.Equal(t, "OR", dig(def, "query", "skillConditions", 0, "operation"))
	assert.Equal(t, "GREATER_THAN_OR_EQUAL_TO", dig(def, "query", "skillConditions", 0, "routingSkillConditions", 0, "comparator"))
	assert.Equal(t, "French", dig(def, "query", "skillConditions", 0, "languageSkillConditions", 0, "languageSkill"))

	r = e.post(`mutation($id: ID!) { removeDynamicDefinition(groupId: $id) { deleted alreadyDeleted } }`, vars)
	require.Empty(t, r.Errors)
	assert.Equal(t, false, dig(r.Data, "removeDynamicDefinition", "alreadyDeleted"))
	r = e.post(`query($id: ID!) { group(id: $id) { dynamicDefinition { groupId } } }`, vars)
	require.Empty(t, r.Errors)
	assert.Nil(t, dig(r.Data, "group", "dynamicDefinition"))

	r = e.post(`mutation($id: ID!) { setDynamicDefinition(groupId: $id, query: {skillConditions: [{operation: AND,
		routingSkillConditions: [{routingSkill: "x", comparator: EQUAL_TO, proficiency: 9}]}]}) { groupId } }`, vars)
	assert.Equal(t, []string{"BAD_USER_INPUT"}, r.codes())
}

func TestUserGroupLifecycle(t *testing.T) {
	e := setup(t, nil)
	ext := demodata.GroupID(11)
	r := e.post(`mutation($ext: String, $u: ID!) { createUserGroup(input: {name: "Night forms", externalId: $ext, userIds: [$u]}) {
		id name externalId userIds memberCount group { name } } }`, map[string]any{"ext": ext, "u": demodata.UserID(1)})
	require.Empty(t, r.Errors)
	ug := dig(r.Data, "createUserGroup")
	id := dig(ug, "id").(string)
	assert.Equal(t, "Night forms", dig(ug, "name"))
	assert.EqualValues(t, 1, dig(ug, "memberCount"))
	assert.Equal(t, demodata.GroupName(11), dig(ug, "group", "name"))

	r = e.post(`mutation($id: ID!, $u: ID!) { updateUserGroup(id: $id, input: {name: "Renamed forms", userIds: [$u]}) {
		name externalId userIds } }`, map[string]any{"id": id, "u": demodata.UserID(2)})
	require.Empty(t, r.Errors)
	assert.Equal(t, "Renamed forms", dig(r.Data, "updateUserGroup", "name"))
	assert.Equal(t, ext, dig(r.Data, "updateUserGroup", "externalId"), "fields left out keep their value")
	assert.Equal(t, []any{demodata.UserID(2)}, dig(r.Data, "updateUserGroup", "userIds"), "userIds replaces the list")

	r = e.post(`mutation($id: ID!) { first: deleteUserGroup(id: $id) { alreadyDeleted } second: deleteUserGroup(id: $id) { alreadyDeleted } }`,
		map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Equal(t, false, dig(r.Data, "first", "alreadyDeleted"))
	assert.Equal(t, true, dig(r.Data, "second", "alreadyDeleted"))
	r = e.post(`query($id: ID!) { userGroup(id: $id) { id } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Nil(t, r.Data["userGroup"])
}

func TestGetServesNoMutation(t *testing.T) {
	e := setup(t, nil)
	resp, err := e.srv.Client().Get(e.srv.URL + "/query?query=" + urlEncode(`mutation { deleteGroup(id: "`+demodata.GroupID(1)+`") { deleted } }`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Zero(t, e.genesysKit().Count("DELETE /api/v2/groups/{groupId}"))
}
