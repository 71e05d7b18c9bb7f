package gateway

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// End-to-end tests of the write semantics: no blind retries, reconciliation
// of creates whose answer was lost, user group read-merge-write, and the
// order of root mutation fields.

const createUG = `mutation($name: String!, $ext: String, $users: [ID!]) {
	createUserGroup(input: {name: $name, externalId: $ext, userIds: $users}) { id name externalId userIds } }`

const addUGUsers = `mutation($id: ID!, $ids: [ID!]!) { addUserGroupUsers(id: $id, userIds: $ids) {
	userGroupId status results { memberId outcome errorCode } userGroup { id userIds } } }`

const removeUGUsers = `mutation($id: ID!, $ids: [ID!]!) { removeUserGroupUsers(id: $id, userIds: $ids) {
	status results { memberId outcome } userGroup { userIds } } }`

func TestCreateUserGroupConnectionResetAfterApply(t *testing.T) {
	e := setup(t, nil)
	k := e.usergroupsKit()
	k.Inject(usergroupsemu.RouteCreate, emukit.Fault{ResetAfterApply: true, Times: 1})
	ext := "reconcile-" + demodata.GroupID(1)
	r := e.post(createUG, map[string]any{"name": "Late shift", "ext": ext, "users": userIDs(3, 2)})
	require.Empty(t, r.Errors, string(r.Raw))
	ug := dig(r.Data, "createUserGroup")
	assert.Equal(t, "Late shift", dig(ug, "name"))
	assert.Equal(t, ext, dig(ug, "externalId"))
	assert.Equal(t, 1, k.Count(usergroupsemu.RouteCreate), "the create is never sent twice")
	assert.Equal(t, 1, k.Count(usergroupsemu.RouteSearch), "one search by ExternalId finds it")
	assert.Equal(t, 1, e.gw.demo.usergroups.UserGroupsByExternalID(ext), "exactly one user group exists")
	id, _ := dig(ug, "id").(string)
	_, ok := e.gw.demo.usergroups.UserGroup(id)
	assert.True(t, ok, "the answer is the user group the lost create made")
}

func TestCreateUserGroupUnknownOutcome(t *testing.T) {
	e := setup(t, nil)
	k := e.usergroupsKit()
	for name, vars := range map[string]map[string]any{
		"no external id to search by": {"name": "Nameless"},
		"the create did not happen":   {"name": "Lost", "ext": "never-made"},
	} {
		t.Run(name, func(t *testing.T) {
			e.resetCalls()
			fault := emukit.Fault{ResetAfterApply: true, Times: 1}
			if vars["ext"] != nil {
				fault = emukit.Fault{ResetBeforeApply: true, Times: 1}
			}
			k.Inject(usergroupsemu.RouteCreate, fault)
			r := e.post(createUG, vars)
			require.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes())
			assert.Equal(t, "unknown", r.Errors[0].Extensions["outcome"], "the caller is told it cannot be known")
			assert.Equal(t, 1, k.Count(usergroupsemu.RouteCreate), "no blind retry")
		})
	}
}

func TestWriteRefusedByTheUpstreamIsSentOnce(t *testing.T) {
	cases := []struct {
		name, query, route string
		kit                func(*testEnv) *emukit.Kit
		fault              emukit.Fault
		code               string
		retryAfter         any
	}{
		{"createGroup 429", `mutation { createGroup(input: {name: "Once"}) { id } }`, routePostGroup,
			(*testEnv).genesysKit, emukit.Fault{Status: http.StatusTooManyRequests, RetryAfter: "7"}, "RATE_LIMITED", float64(7)},
		{"createGroup 503", `mutation { createGroup(input: {name: "Once"}) { id } }`, routePostGroup,
			(*testEnv).genesysKit, emukit.Fault{Status: http.StatusServiceUnavailable}, "UPSTREAM_UNAVAILABLE", nil},
		{"createUserGroup 503", `mutation { createUserGroup(input: {name: "Once", externalId: "once"}) { id } }`,
			usergroupsemu.RouteCreate, (*testEnv).usergroupsKit,
			emukit.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "3"}, "UPSTREAM_UNAVAILABLE", float64(3)},
		{"createUserGroup 429", `mutation { createUserGroup(input: {name: "Once"}) { id } }`,
			usergroupsemu.RouteCreate, (*testEnv).usergroupsKit,
			emukit.Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"}, "RATE_LIMITED", float64(2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := setup(t, nil)
			c.kit(e).Inject(c.route, c.fault)
			r := e.post(c.query, nil)
			require.Equal(t, []string{c.code}, r.codes())
			assert.Equal(t, c.retryAfter, r.Errors[0].Extensions["retryAfter"])
			assert.Equal(t, 1, c.kit(e).Count(c.route), "exactly one upstream POST")
			assert.Zero(t, e.usergroupsKit().Count(usergroupsemu.RouteSearch), "a refused create needs no reconciliation")
		})
	}
}

func TestAddUserGroupUsersConcurrently(t *testing.T) {
	e := setup(t, nil)
	id := demodata.UserGroupID(3)
	before, ok := e.gw.demo.usergroups.UserGroup(id)
	require.True(t, ok)
	const writers = 100
	for round := range 2 {
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for i := range writers {
			wg.Go(func() {
				user := demodata.UserID(round*writers + i)
				r, err := e.send(addUGUsers, map[string]any{"id": id, "ids": []string{user}})
				switch {
				case err != nil:
					errs <- err
				case len(r.Errors) > 0 || dig(r.Data, "addUserGroupUsers", "status") != "COMPLETE":
					errs <- fmt.Errorf("user %s: %s", user, r.Raw)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
		after, _ := e.gw.demo.usergroups.UserGroup(id)
		have := map[string]bool{}
		for _, u := range after.UserIDs {
			have[u] = true
		}
		for i := range (round + 1) * writers {
			assert.True(t, have[demodata.UserID(i)], "round %d: user %d lost", round, i)
		}
		for _, u := range before.UserIDs {
			assert.True(t, have[u], "round %d: original member %s lost", round, u)
		}
	}
}

func TestAddAndRemoveUserGroupUsers(t *testing.T) {
	e := setup(t, nil)
	k := e.usergroupsKit()
	id := demodata.UserGroupID(5)
	ug, ok := e.gw.demo.usergroups.UserGroup(id)
	require.True(t, ok)
	require.NotEmpty(t, ug.UserIDs)
	existing, fresh := ug.UserIDs[0], demodata.UserID(190)

	r := e.post(addUGUsers, map[string]any{"id": id, "ids": []string{fresh, existing, fresh}})
	require.Empty(t, r.Errors)
	p := dig(r.Data, "addUserGroupUsers")
	assert.Equal(t, "COMPLETE", dig(p, "status"))
	assert.Equal(t, map[string][]string{"ADDED": {fresh}, "ALREADY_MEMBER": {existing}}, outcomes(t, p))
	assert.Contains(t, dig(p, "userGroup", "userIds"), fresh, "the payload shows the user group as read back")
	assert.Equal(t, map[string]int{usergroupsemu.RouteGet: 2, usergroupsemu.RouteUpdate: 1}, k.CountsByRoute(),
		"read, write, read back")

	e.resetCalls()
	r = e.post(addUGUsers, map[string]any{"id": id, "ids": []string{fresh}})
	require.Empty(t, r.Errors)
	assert.Equal(t, map[string][]string{"ALREADY_MEMBER": {fresh}}, outcomes(t, dig(r.Data, "addUserGroupUsers")))
	assert.Zero(t, k.Count(usergroupsemu.RouteUpdate), "nothing to change: no write")

	r = e.post(removeUGUsers, map[string]any{"id": id, "ids": []string{fresh, demodata.UserID(191)}})
	require.Empty(t, r.Errors)
	p = dig(r.Data, "removeUserGroupUsers")
	assert.Equal(t, map[string][]string{"REMOVED": {fresh}, "NOT_MEMBER": {demodata.UserID(191)}}, outcomes(t, p))
	after, _ := e.gw.demo.usergroups.UserGroup(id)
	assert.ElementsMatch(t, ug.UserIDs, after.UserIDs, "the other members are kept")

	r = e.post(addUGUsers, map[string]any{"id": demodata.UserGroupID(999), "ids": []string{fresh}})
	assert.Equal(t, []string{"NOT_FOUND"}, r.codes())
}

func TestAddUserGroupUsersVerifiesTheWrite(t *testing.T) {
	e := setup(t, nil)
	k := e.usergroupsKit()
	id := demodata.UserGroupID(6)
	user := demodata.UserID(180)
	// The upstream answers the PUT but does not keep it (another writer
	// overwrites it): the read-back shows the user missing.
	lost := emukit.Fault{Status: http.StatusOK, Body: `{"UserGroup":{"Id":"` + id + `","Name":"x","UserIds":[]}}`}

	lost.Times = 1
	k.Inject(usergroupsemu.RouteUpdate, lost)
	r := e.post(addUGUsers, map[string]any{"id": id, "ids": []string{user}})
	require.Empty(t, r.Errors)
	assert.Equal(t, "COMPLETE", dig(r.Data, "addUserGroupUsers", "status"))
	assert.Equal(t, 2, k.Count(usergroupsemu.RouteUpdate), "written again after the read-back showed it lost")

	e.resetCalls()
	lost.Times = 3
	k.Inject(usergroupsemu.RouteUpdate, lost)
	r = e.post(addUGUsers, map[string]any{"id": id, "ids": []string{demodata.UserID(181)}})
	assert.Equal(t, []string{"CONFLICT"}, r.codes())
	assert.Equal(t, "FAILED", dig(r.Data, "addUserGroupUsers", "status"))
	assert.Equal(t, "CONFLICT", dig(r.Data, "addUserGroupUsers", "results", 0, "errorCode"))
	assert.Equal(t, 3, k.Count(usergroupsemu.RouteUpdate), "bounded")
}

func TestRootMutationsRunInOrderAndAFailureHidesNothing(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`mutation($g: ID!, $u: ID!) {
		first: createUserGroup(input: {name: "Ordered one"}) { name }
		broken: addGroupMembers(groupId: $g, memberIds: [$u]) { status }
		third: createUserGroup(input: {name: "Ordered three"}) { name } }`,
		map[string]any{"g": "6a0f0000-0000-4000-8000-00000000ffff", "u": demodata.UserID(1)})
	require.Equal(t, []string{"NOT_FOUND"}, r.codes())
	assert.Equal(t, []any{"broken"}, r.Errors[0].Path)
	assert.Equal(t, "Ordered one", dig(r.Data, "first", "name"), "the field before the failure is shown")
	assert.Nil(t, r.Data["broken"])
	assert.Equal(t, "Ordered three", dig(r.Data, "third", "name"), "the field after it still ran")
	var order []string
	for _, ug := range e.gw.demo.usergroups.Snapshot() {
		if ug.Name == "Ordered one" || ug.Name == "Ordered three" {
			order = append(order, ug.Name)
		}
	}
	assert.Equal(t, []string{"Ordered one", "Ordered three"}, order, "run in the order written")
}
