package gateway

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesysemu"
)

// End-to-end tests of Genesys' version conflicts in their three forms and
// of its asynchronous writes (group delete, 202 member changes).

// setWrites changes how the Genesys emulator answers and applies writes.
func (e *testEnv) setWrites(w genesysemu.Writes) { e.gw.demo.genesys.SetWrites(w) }

// conflictForms are the three answers Genesys gives to a stale version
// (Terraform's IsVersionMismatch), as emulator faults.
var conflictForms = []struct {
	name   string
	status int
	fault  emukit.Fault
}{
	{"409", http.StatusConflict, emukit.Fault{Status: http.StatusConflict, Times: 1,
		Body: `{"message":"Unexpected version","code":"general.conflict","status":409}`}},
	{"400", http.StatusBadRequest, emukit.Fault{Status: http.StatusBadRequest, Times: 1,
		Body: `{"message":"The version 3 does not match the current version 4","code":"bad.request","status":400}`}},
	{"408", http.StatusRequestTimeout, emukit.Fault{Status: http.StatusRequestTimeout, Times: 1,
		Body: `{"message":"The request timed out","code":"client.timeout","status":408}`}},
}

const updateGroupWithVersion = `mutation($id: ID!, $v: Int) { updateGroup(id: $id, input: {name: "Renamed", version: $v}) { name version } }`

func TestUpdateGroupStaleVersionInEachConflictForm(t *testing.T) {
	for _, f := range conflictForms {
		t.Run(f.name, func(t *testing.T) {
			e := setup(t, nil)
			e.setWrites(genesysemu.Writes{ConflictStatus: f.status})
			r := e.post(updateGroupWithVersion, map[string]any{"id": demodata.GroupID(6), "v": 1})
			require.Equal(t, []string{"CONFLICT"}, r.codes(), string(r.Raw))
			assert.Equal(t, []any{"updateGroup"}, r.Errors[0].Path)
			assert.Equal(t, "genesys", r.Errors[0].Extensions["upstream"])
			assert.EqualValues(t, f.status, r.Errors[0].Extensions["status"])
			assert.NotEmpty(t, r.Errors[0].Extensions["correlationId"])
			assert.Equal(t, 1, e.genesysKit().Count(routePutGroup), "a stale version is the caller's: not re-sent")
		})
	}
}

func TestUpdateGroupWithoutVersionRetriesEachConflictForm(t *testing.T) {
	for _, f := range conflictForms {
		t.Run(f.name, func(t *testing.T) {
			e := setup(t, nil)
			e.genesysKit().Inject(routePutGroup, f.fault)
			r := e.post(updateGroupWithVersion, map[string]any{"id": demodata.GroupID(6)})
			require.Empty(t, r.Errors, string(r.Raw))
			assert.Equal(t, "Renamed", dig(r.Data, "updateGroup", "name"))
			assert.Equal(t, 2, e.genesysKit().Count(routePutGroup))
			assert.Equal(t, 2, e.genesysKit().Count(routeGetGroup), "the version is read again before the second attempt")
		})
	}
}

func TestUpdateGroupCurrentVersionRetriesATimeout(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`query($id: ID!) { group(id: $id) { version } }`, map[string]any{"id": demodata.GroupID(6)})
	require.Empty(t, r.Errors)
	e.resetCalls()
	e.genesysKit().Inject(routePutGroup, conflictForms[2].fault)
	r = e.post(updateGroupWithVersion, map[string]any{"id": demodata.GroupID(6), "v": dig(r.Data, "group", "version")})
	require.Empty(t, r.Errors, "a 408 while the caller's version is still current is no conflict: %s", r.Raw)
	assert.Equal(t, "Renamed", dig(r.Data, "updateGroup", "name"))
	assert.Equal(t, 2, e.genesysKit().Count(routePutGroup))
	assert.Equal(t, 1, e.genesysKit().Count(routeGetGroup), "the re-read that shows the version still current")
}

func TestMemberChunksRetryEachConflictForm(t *testing.T) {
	for _, f := range conflictForms {
		t.Run(f.name, func(t *testing.T) {
			e := setup(t, nil)
			k := e.genesysKit()
			group := demodata.GroupID(10) // its members are users 70..81
			ids := userIDs(85, 110)       // chunks of 50, 50, 10
			k.Inject(genesysemu.RoutePostMembers, emukit.Fault{Times: 1})
			k.Inject(genesysemu.RoutePostMembers, f.fault)
			r := e.post(addMembers, map[string]any{"g": group, "ids": ids})
			require.Empty(t, r.Errors, string(r.Raw))
			p := dig(r.Data, "addGroupMembers")
			assert.Equal(t, "COMPLETE", dig(p, "status"))
			assert.Equal(t, ids, outcomes(t, p)["ADDED"])
			assert.Equal(t, 4, k.Count(genesysemu.RoutePostMembers), "chunk 2 sent twice")

			gone := ids[:60]
			k.Inject(genesysemu.RouteDeleteMembers, f.fault)
			r = e.post(removeMembers, map[string]any{"g": group, "ids": gone})
			require.Empty(t, r.Errors, string(r.Raw))
			p = dig(r.Data, "removeGroupMembers")
			assert.Equal(t, "COMPLETE", dig(p, "status"))
			assert.Equal(t, gone, outcomes(t, p)["REMOVED"])
			assert.Equal(t, 3, k.Count(genesysemu.RouteDeleteMembers), "chunk 1 sent twice")
		})
	}
}

const deleteGroup = `mutation($id: ID!) { deleteGroup(id: $id) { deletedId status deleted alreadyDeleted } }`

func TestDeleteGroupRetriesEachConflictForm(t *testing.T) {
	for _, f := range conflictForms {
		t.Run(f.name, func(t *testing.T) {
			e := setup(t, nil)
			e.genesysKit().Inject(genesysemu.RouteDeleteGroup, f.fault)
			r := e.post(deleteGroup, map[string]any{"id": demodata.GroupID(7)})
			require.Empty(t, r.Errors, string(r.Raw))
			assert.Equal(t, map[string]any{"deletedId": demodata.GroupID(7), "status": "CONFIRMED", "deleted": true, "alreadyDeleted": false},
				r.Data["deleteGroup"])
			assert.Equal(t, 2, e.genesysKit().Count(genesysemu.RouteDeleteGroup))
		})
	}
}

func TestDeleteGroupConfirmedAfterPropagation(t *testing.T) {
	e := setup(t, nil)
	e.setWrites(genesysemu.Writes{PropagationDelay: 600 * time.Millisecond})
	r := e.post(deleteGroup, map[string]any{"id": demodata.GroupID(7)})
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, "CONFIRMED", dig(r.Data, "deleteGroup", "status"))
	assert.Equal(t, true, dig(r.Data, "deleteGroup", "deleted"))
	assert.GreaterOrEqual(t, e.genesysKit().Count(routeGetGroup), 2, "read back until gone")

	r = e.post(deleteGroup, map[string]any{"id": demodata.GroupID(7)})
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, "NOT_FOUND", dig(r.Data, "deleteGroup", "status"), "Genesys no longer knows the group")
	assert.Equal(t, false, dig(r.Data, "deleteGroup", "deleted"))
}

func TestDeleteGroupPending(t *testing.T) {
	e := setup(t, map[string]string{"GATEWAY_DELETE_CONFIRM_TIMEOUT": "2s"})
	e.setWrites(genesysemu.Writes{PropagationDelay: time.Hour})
	r := e.post(deleteGroup, map[string]any{"id": demodata.GroupID(7)})
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, map[string]any{"deletedId": demodata.GroupID(7), "status": "PENDING", "deleted": false, "alreadyDeleted": false},
		r.Data["deleteGroup"], "never a deleted: true the gateway has not seen")
	assert.GreaterOrEqual(t, e.genesysKit().Count(genesysemu.RouteDeleteGroup), 2, "sent again while the group was there")
	r = e.post(`query($id: ID!) { group(id: $id) { id } }`, map[string]any{"id": demodata.GroupID(7)})
	require.Empty(t, r.Errors)
	assert.NotNil(t, r.Data["group"], "the group can still be read")
}

func TestDeleteGroupReissuedAfterADroppedDelete(t *testing.T) {
	e := setup(t, nil)
	e.setWrites(genesysemu.Writes{DropDeletes: 1})
	r := e.post(deleteGroup, map[string]any{"id": demodata.GroupID(7)})
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, "CONFIRMED", dig(r.Data, "deleteGroup", "status"))
	assert.Equal(t, 2, e.genesysKit().Count(genesysemu.RouteDeleteGroup), "the dropped delete is sent again")
	r = e.post(`query($id: ID!) { group(id: $id) { id } }`, map[string]any{"id": demodata.GroupID(7)})
	require.Empty(t, r.Errors)
	assert.Nil(t, r.Data["group"])
}

func TestDeleteGroupConfirmedByStateDeleted(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {state: DELETED}) { state } }`, map[string]any{"id": demodata.GroupID(7)})
	require.Empty(t, r.Errors, string(r.Raw))
	e.resetCalls()
	e.setWrites(genesysemu.Writes{DropDeletes: 1})
	r = e.post(deleteGroup, map[string]any{"id": demodata.GroupID(7)})
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, "CONFIRMED", dig(r.Data, "deleteGroup", "status"), "a group in state deleted counts as gone")
	assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RouteDeleteGroup))
	assert.Equal(t, 1, e.genesysKit().Count(routeGetGroup))
}

func TestAcceptedMemberChangesNotYetVisible(t *testing.T) {
	e := setup(t, nil)
	e.setWrites(genesysemu.Writes{PropagationDelay: time.Hour})
	k := e.genesysKit()
	group := demodata.GroupID(10) // its members are users 70..81
	ids := userIDs(85, 110)
	k.Inject(genesysemu.RoutePostMembers, emukit.Fault{Times: 1})
	k.Inject(genesysemu.RoutePostMembers, conflictForms[1].fault)
	for run := range 2 {
		r := e.post(addMembers, map[string]any{"g": group, "ids": ids})
		require.Empty(t, r.Errors, string(r.Raw))
		p := dig(r.Data, "addGroupMembers")
		assert.Equal(t, "COMPLETE", dig(p, "status"), "run %d", run)
		assert.Equal(t, ids, outcomes(t, p)["ADDED"], "accepted (202) is done, run %d", run)
		assert.EqualValues(t, 12, dig(p, "group", "individuals", "total"), "not visible yet")
	}
	gone := userIDs(70, 3)
	for run := range 2 {
		r := e.post(removeMembers, map[string]any{"g": group, "ids": gone})
		require.Empty(t, r.Errors, string(r.Raw))
		p := dig(r.Data, "removeGroupMembers")
		assert.Equal(t, "COMPLETE", dig(p, "status"), "run %d", run)
		assert.Equal(t, gone, outcomes(t, p)["REMOVED"], "run %d", run)
	}
}

func TestMemberChangeRerunAfterPropagation(t *testing.T) {
	e := setup(t, nil)
	e.setWrites(genesysemu.Writes{PropagationDelay: 200 * time.Millisecond})
	group := demodata.GroupID(10)
	ids := userIDs(85, 3)
	r := e.post(addMembers, map[string]any{"g": group, "ids": ids})
	require.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, ids, outcomes(t, dig(r.Data, "addGroupMembers"))["ADDED"])
	require.Eventually(t, func() bool {
		r := e.post(`query($g: ID!) { group(id: $g) { individuals { total } } }`, map[string]any{"g": group})
		return fmt.Sprint(dig(r.Data, "group", "individuals", "total")) == "15"
	}, 10*time.Second, 20*time.Millisecond)
	r = e.post(addMembers, map[string]any{"g": group, "ids": ids})
	require.Empty(t, r.Errors, string(r.Raw))
	p := dig(r.Data, "addGroupMembers")
	assert.Equal(t, "COMPLETE", dig(p, "status"))
	assert.Equal(t, ids, outcomes(t, p)["ALREADY_MEMBER"])
}
