package gateway

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

const routeUGPut = "PUT /api/v2/usergroup"

// groupState is what an update must not lose by surprise.
const groupState = `query($id: ID!) { group(id: $id) { name description state visibility rulesVisible rolesEnabled
	includeOwners callsEnabled owners { id } addresses { address extension type } } }`

// readGroup returns the group as groupState selects it.
func readGroup(t *testing.T, e *testEnv, id string) map[string]any {
	t.Helper()
	r := e.post(groupState, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	g, ok := dig(r.Data, "group").(map[string]any)
	require.True(t, ok, "group %s exists", id)
	return g
}

// putBody returns the JSON body of the last PUT of a group.
func putBody(t *testing.T, e *testEnv) map[string]any {
	t.Helper()
	puts := callsOn(e.genesysKit(), routePutGroup)
	require.NotEmpty(t, puts)
	var body map[string]any
	require.NoError(t, json.Unmarshal(puts[len(puts)-1].Body, &body))
	return body
}

// TestUpdateGroupAddresses: [] reaches the wire as [] and clears the
// addresses; an update that leaves them out keeps them.
func TestUpdateGroupAddresses(t *testing.T) {
	e := setup(t, nil)
	id := demodata.GroupID(3)
	before := readGroup(t, e, id)
	require.Len(t, before["addresses"], 1, "demo groups have one phone address")

	r := e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {name: "Renamed"}) { name addresses { address } } }`,
		map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.NotContains(t, putBody(t, e), "addresses", "left out: not sent")
	assert.Equal(t, before["addresses"], readGroup(t, e, id)["addresses"], "left out: kept")

	r = e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {addresses: []}) { addresses { address } } }`,
		map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Equal(t, []any{}, putBody(t, e)["addresses"], "[] is sent as []")
	assert.Equal(t, []any{}, dig(r.Data, "updateGroup", "addresses"))
	after := readGroup(t, e, id)
	assert.Equal(t, []any{}, after["addresses"], "[] clears")
	assert.Equal(t, "Renamed", after["name"])

	r = e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {addresses: [{extension: "4021", type: GROUPRING}]}) {
		addresses { extension type } } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Equal(t, []any{map[string]any{"extension": "4021", "type": "GROUPRING"}}, dig(r.Data, "updateGroup", "addresses"),
		"a list replaces the addresses")
}

// TestUpdateNullIsRefused: null on a field the upstream requires or on a
// list is BAD_USER_INPUT naming the field, with no upstream call (not even
// the read of the current object) and nothing changed.
func TestUpdateNullIsRefused(t *testing.T) {
	e := setup(t, nil)
	gid, ugid := demodata.GroupID(2), demodata.UserGroupID(2)
	group := readGroup(t, e, gid)
	require.NotEmpty(t, group["owners"])
	ugQuery := `query($id: ID!) { userGroup(id: $id) { name externalId userIds } }`
	r := e.post(ugQuery, map[string]any{"id": ugid})
	require.Empty(t, r.Errors)
	userGroup := dig(r.Data, "userGroup")
	require.NotEmpty(t, dig(userGroup, "userIds"))

	const updateGroup = `mutation($id: ID!, $in: UpdateGroupInput!) { updateGroup(id: $id, input: $in) { id } }`
	const updateUserGroup = `mutation($id: ID!, $in: UpdateUserGroupInput!) { updateUserGroup(id: $id, input: $in) { id } }`
	tests := []struct {
		name, query, id, field string
		input                  map[string]any
	}{
		{"ownerIds", updateGroup, gid, "ownerIds", map[string]any{"ownerIds": nil}},
		{"addresses", updateGroup, gid, "addresses", map[string]any{"addresses": nil}},
		{"name", updateGroup, gid, "name", map[string]any{"name": nil}},
		{"visibility", updateGroup, gid, "visibility", map[string]any{"visibility": nil}},
		{"state", updateGroup, gid, "state", map[string]any{"state": nil}},
		{"rulesVisible", updateGroup, gid, "rulesVisible", map[string]any{"rulesVisible": nil}},
		{"rolesEnabled", updateGroup, gid, "rolesEnabled", map[string]any{"rolesEnabled": nil}},
		{"includeOwners", updateGroup, gid, "includeOwners", map[string]any{"includeOwners": nil}},
		{"callsEnabled", updateGroup, gid, "callsEnabled", map[string]any{"callsEnabled": nil}},
		// What a genqlient client with optional: pointer sends for a rename.
		{"rename with every other field null", updateGroup, gid, "state", map[string]any{"name": "Renamed",
			"version": nil, "description": nil, "state": nil, "visibility": nil, "rulesVisible": nil, "rolesEnabled": nil,
			"includeOwners": nil, "callsEnabled": nil, "ownerIds": nil, "addresses": nil}},
		{"userIds", updateUserGroup, ugid, "userIds", map[string]any{"userIds": nil}},
		{"user group name", updateUserGroup, ugid, "name", map[string]any{"name": nil}},
		{"user group rename with every other field null", updateUserGroup, ugid, "userIds",
			map[string]any{"name": "Renamed", "externalId": nil, "userIds": nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.resetCalls()
			r := e.post(tc.query, map[string]any{"id": tc.id, "in": tc.input})
			require.Equal(t, []string{"BAD_USER_INPUT"}, r.codes())
			assert.Equal(t, tc.field, r.Errors[0].Extensions["field"])
			require.Len(t, r.Errors[0].Path, 1)
			assert.Zero(t, e.genesysKit().Count(""), "no Genesys call")
			assert.Zero(t, e.usergroupsKit().Count(""), "no Usergroup call")
		})
	}
	assert.Equal(t, group, readGroup(t, e, gid), "nothing lost")
	r = e.post(ugQuery, map[string]any{"id": ugid})
	require.Empty(t, r.Errors)
	assert.Equal(t, userGroup, dig(r.Data, "userGroup"), "nothing lost")
}

// TestUpdateNullLiteralAndUnsetVariable: null written in the document is
// refused too; a declared variable the request leaves out leaves the field
// out (GraphQL's rule), so the owners are kept.
func TestUpdateNullLiteralAndUnsetVariable(t *testing.T) {
	e := setup(t, nil)
	id := demodata.GroupID(4)
	before := readGroup(t, e, id)
	require.NotEmpty(t, before["owners"])
	e.resetCalls()
	r := e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {ownerIds: null}) { id } }`, map[string]any{"id": id})
	require.Equal(t, []string{"BAD_USER_INPUT"}, r.codes())
	assert.Equal(t, "ownerIds", r.Errors[0].Extensions["field"])
	assert.Zero(t, e.genesysKit().Count(""))

	r = e.post(`mutation($id: ID!, $owners: [ID!]) { updateGroup(id: $id, input: {name: "Renamed", ownerIds: $owners}) { id } }`,
		map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.NotContains(t, putBody(t, e), "ownerIds")
	before["name"] = "Renamed"
	assert.Equal(t, before, readGroup(t, e, id))
}

// TestUpdateGroupKeepsAndClears: an update changes only what it names;
// description null clears the description, ownerIds [] every owner.
func TestUpdateGroupKeepsAndClears(t *testing.T) {
	e := setup(t, nil)
	id := demodata.GroupID(5)
	before := readGroup(t, e, id)
	require.NotEmpty(t, before["description"])
	require.NotEmpty(t, before["owners"])

	r := e.post(`mutation($id: ID!, $in: UpdateGroupInput!) { updateGroup(id: $id, input: $in) { name } }`,
		map[string]any{"id": id, "in": map[string]any{"name": "Renamed"}})
	require.Empty(t, r.Errors)
	assert.Equal(t, map[string]any{"version": putBody(t, e)["version"], "name": "Renamed"}, putBody(t, e),
		"only the named field is sent")
	after := readGroup(t, e, id)
	before["name"] = "Renamed"
	assert.Equal(t, before, after, "a rename loses nothing")

	r = e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {description: null}) { description } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Nil(t, dig(r.Data, "updateGroup", "description"))
	assert.Nil(t, readGroup(t, e, id)["description"], "description: null clears")

	r = e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {ownerIds: []}) { owners { id } } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Equal(t, []any{" "}, putBody(t, e)["ownerIds"], "owners are cleared the way Terraform does")
	after = readGroup(t, e, id)
	assert.Equal(t, []any{}, after["owners"], "ownerIds: [] clears")
	assert.Equal(t, before["addresses"], after["addresses"])
}

// TestUpdateUserGroupKeepsAndClears: userIds [] removes every user,
// externalId null clears the external id, and neither touches the name.
func TestUpdateUserGroupKeepsAndClears(t *testing.T) {
	e := setup(t, nil)
	id := demodata.UserGroupID(2)
	const q = `mutation($id: ID!, $in: UpdateUserGroupInput!) { updateUserGroup(id: $id, input: $in) { name externalId userIds } }`
	r := e.post(`query($id: ID!) { userGroup(id: $id) { name externalId userIds } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	name := dig(r.Data, "userGroup", "name")
	require.NotEmpty(t, dig(r.Data, "userGroup", "userIds"))
	require.NotNil(t, dig(r.Data, "userGroup", "externalId"))

	r = e.post(q, map[string]any{"id": id, "in": map[string]any{"userIds": []string{}}})
	require.Empty(t, r.Errors)
	assert.Equal(t, []any{}, dig(r.Data, "updateUserGroup", "userIds"))
	assert.NotNil(t, dig(r.Data, "updateUserGroup", "externalId"), "left out: kept")

	r = e.post(q, map[string]any{"id": id, "in": map[string]any{"externalId": nil}})
	require.Empty(t, r.Errors)
	assert.Nil(t, dig(r.Data, "updateUserGroup", "externalId"), "externalId: null clears")
	assert.Equal(t, name, dig(r.Data, "updateUserGroup", "name"))
	assert.Equal(t, 2, e.usergroupsKit().Count(routeUGPut))
}

// TestInputBadAddressCostsNoCall: an address with neither a number nor an
// extension is refused before any call.
func TestInputBadAddressCostsNoCall(t *testing.T) {
	e := setup(t, nil)
	e.resetCalls()
	r := e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {addresses: [{type: GROUPRING}]}) { id }
		createGroup(input: {name: "x", addresses: [{address: null, extension: null, type: GROUPPHONE}]}) { id } }`,
		map[string]any{"id": demodata.GroupID(1)})
	assert.Equal(t, []string{"BAD_USER_INPUT", "BAD_USER_INPUT"}, r.codes())
	assert.Zero(t, e.genesysKit().Count(""))
}
