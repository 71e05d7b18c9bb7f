package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
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

// End-to-end tests of the Genesys membership mutations: chunking, partial
// failure, re-runs, version conflicts and read-your-writes.

const addMembers = `mutation($g: ID!, $ids: [ID!]!) { addGroupMembers(groupId: $g, memberIds: $ids) {
	groupId status version results { memberId outcome errorCode errorMessage }
	group { id individuals { total } } } }`

const removeMembers = `mutation($g: ID!, $ids: [ID!]!) { removeGroupMembers(groupId: $g, memberIds: $ids) {
	status results { memberId outcome errorCode } group { individuals { total } } } }`

// userIDs returns the ids of users from, from+1, ... (n of them).
func userIDs(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = demodata.UserID(from + i)
	}
	return out
}

// outcomes counts the results of a membership payload by outcome, and
// returns the ids of each outcome.
func outcomes(t *testing.T, payload any) map[string][]string {
	t.Helper()
	results, ok := dig(payload, "results").([]any)
	require.True(t, ok, "results: %v", payload)
	out := map[string][]string{}
	for _, r := range results {
		o, _ := dig(r, "outcome").(string)
		id, _ := dig(r, "memberId").(string)
		out[o] = append(out[o], id)
	}
	return out
}

// postedMemberIDs returns the memberIds of each POST members call.
func postedMemberIDs(t *testing.T, k *emukit.Kit) [][]string {
	t.Helper()
	var out [][]string
	for _, c := range callsOn(k, genesysemu.RoutePostMembers) {
		var body struct {
			MemberIDs []string `json:"memberIds"`
		}
		require.NoError(t, json.Unmarshal(c.Body, &body))
		out = append(out, body.MemberIDs)
	}
	return out
}

// bigDemo has enough users for a 250-id change to a group.
var bigDemo = demodata.Size{Groups: 40, Users: 400, MembersPerGroup: 12, UserGroups: 30}

func TestAddGroupMembersThirdChunkFailsThenRerun(t *testing.T) {
	e := setupSized(t, nil, bigDemo)
	k := e.genesysKit()
	group := demodata.GroupID(5) // its members are users 35..46
	ids := userIDs(100, 250)
	k.Inject(genesysemu.RoutePostMembers, emukit.Fault{Times: 2}) // two chunks pass
	k.Inject(genesysemu.RoutePostMembers, emukit.Fault{Status: http.StatusInternalServerError, Times: 1})

	r := e.post(addMembers, map[string]any{"g": group, "ids": ids})
	p := dig(r.Data, "addGroupMembers")
	require.NotNil(t, p, string(r.Raw))
	assert.Equal(t, "PARTIAL", dig(p, "status"))
	got := outcomes(t, p)
	assert.Equal(t, append(append([]string{}, ids[:100]...), ids[150:]...), got["ADDED"], "chunks 1, 2, 4 and 5 applied")
	assert.Equal(t, ids[100:150], got["FAILED"], "chunk 3 failed")
	assert.Equal(t, "UPSTREAM_UNAVAILABLE", dig(p, "results", 100, "errorCode"))
	assert.NotEmpty(t, dig(p, "results", 100, "errorMessage"))
	require.Equal(t, []string{"UPSTREAM_UNAVAILABLE"}, r.codes(), "a partial change is never a plain success")
	assert.Equal(t, []any{"addGroupMembers"}, r.Errors[0].Path)
	assert.EqualValues(t, 12+200, dig(p, "group", "individuals", "total"), "read-your-writes")
	firstRun := postedMemberIDs(t, k)
	require.Len(t, firstRun, 5)
	version := dig(p, "version")

	r = e.post(addMembers, map[string]any{"g": group, "ids": ids})
	require.Empty(t, r.Errors)
	p = dig(r.Data, "addGroupMembers")
	assert.Equal(t, "COMPLETE", dig(p, "status"))
	got = outcomes(t, p)
	assert.Equal(t, ids[100:150], got["ADDED"], "the re-run adds only what was missing")
	assert.Len(t, got["ALREADY_MEMBER"], 200)
	assert.EqualValues(t, 12+250, dig(p, "group", "individuals", "total"))
	assert.Greater(t, dig(p, "version"), version)

	posts := postedMemberIDs(t, k)
	require.Len(t, posts, 6, "one more call, for the missing chunk only")
	assert.Equal(t, ids[100:150], posts[5])
	seen := map[string]int{}
	for i, chunk := range posts {
		if i == 2 {
			continue // the failed one
		}
		for _, id := range chunk {
			seen[id]++
		}
	}
	assert.Len(t, seen, 250)
	for id, n := range seen {
		assert.Equal(t, 1, n, "id %s applied twice", id)
	}
}

func TestAddGroupMembersConflictBetweenChunks(t *testing.T) {
	e := setup(t, nil)
	k := e.genesysKit()
	group := demodata.GroupID(10) // its members are users 70..81
	ids := userIDs(85, 110)       // chunks of 50, 50, 10
	k.Inject(genesysemu.RoutePostMembers, emukit.Fault{Times: 1})
	k.Inject(genesysemu.RoutePostMembers, emukit.Fault{Latency: time.Second, Times: 1}) // chunk 2 waits

	done := make(chan gqlResponse, 1)
	go func() {
		r, err := e.send(addMembers, map[string]any{"g": group, "ids": ids})
		if err != nil {
			r.Errors = append(r.Errors, gqlError{Message: err.Error()})
		}
		done <- r
	}()
	require.Eventually(t, func() bool { return k.Count(genesysemu.RoutePostMembers) >= 2 }, 10*time.Second, 5*time.Millisecond)
	// Another writer adds five ids of chunk 2 while it is on its way: the
	// group's version moves on, so chunk 2 meets a 409.
	other := e.post(addMembers, map[string]any{"g": group, "ids": ids[50:55]})
	require.Empty(t, other.Errors)
	assert.Equal(t, "COMPLETE", dig(other.Data, "addGroupMembers", "status"))

	r := <-done
	require.Empty(t, r.Errors, string(r.Raw))
	p := dig(r.Data, "addGroupMembers")
	assert.Equal(t, "COMPLETE", dig(p, "status"))
	got := outcomes(t, p)
	assert.Equal(t, ids[50:55], got["ALREADY_MEMBER"], "no longer needed after the re-read")
	assert.Len(t, got["ADDED"], 105)
	assert.EqualValues(t, 12+110, dig(p, "group", "individuals", "total"))
	posts := postedMemberIDs(t, k)
	require.Len(t, posts, 5, "chunk 1, chunk 2 (409), the other writer, chunk 2 again, chunk 3")
	assert.Equal(t, ids[55:100], posts[3], "the retry sends only the ids still missing")
}

func TestRemoveGroupMembers(t *testing.T) {
	e := setup(t, nil)
	group := demodata.GroupID(2) // its members are users 14..25
	ids := []string{demodata.UserID(14), demodata.UserID(15), strings.ToUpper(demodata.UserID(14)), demodata.UserID(150), demodata.UserID(20)}
	r := e.post(removeMembers, map[string]any{"g": group, "ids": ids})
	require.Empty(t, r.Errors)
	p := dig(r.Data, "removeGroupMembers")
	assert.Equal(t, "COMPLETE", dig(p, "status"))
	got := outcomes(t, p)
	assert.Equal(t, []string{demodata.UserID(14), demodata.UserID(15), demodata.UserID(20)}, got["REMOVED"])
	assert.Equal(t, []string{demodata.UserID(150)}, got["NOT_MEMBER"])
	assert.EqualValues(t, 9, dig(p, "group", "individuals", "total"))
	calls := callsOn(e.genesysKit(), genesysemu.RouteDeleteMembers)
	require.Len(t, calls, 1, "one call for the ids that are members, none for the others")
	assert.Equal(t, 3, calls[0].IDs)
}

func TestMembershipInputRefusedWithoutUpstreamCall(t *testing.T) {
	e := setup(t, map[string]string{"GATEWAY_MAX_MEMBER_IDS": "3"})
	for name, vars := range map[string]map[string]any{
		"too many ids":   {"g": demodata.GroupID(1), "ids": userIDs(100, 4)},
		"no ids":         {"g": demodata.GroupID(1), "ids": []string{}},
		"a path":         {"g": demodata.GroupID(1), "ids": []string{"../users/me"}},
		"a bad group id": {"g": "x?y=1", "ids": userIDs(100, 1)},
	} {
		t.Run(name, func(t *testing.T) {
			e.resetCalls()
			for _, q := range []string{addMembers, removeMembers,
				`mutation($g: ID!, $ids: [ID!]!) { addUserGroupUsers(id: $g, userIds: $ids) { status } }`} {
				r := e.post(q, vars)
				assert.Equal(t, []string{"BAD_USER_INPUT"}, r.codes())
			}
			assert.Zero(t, e.genesysKit().Count("")+e.usergroupsKit().Count(""))
		})
	}
}

func TestMembershipStopsWhenTheUpstreamRateLimits(t *testing.T) {
	e := setup(t, nil)
	k := e.genesysKit()
	ids := userIDs(85, 110)
	k.Inject(genesysemu.RoutePostMembers, emukit.Fault{Times: 1})
	k.Inject(genesysemu.RoutePostMembers, emukit.Fault{Status: http.StatusTooManyRequests, RetryAfter: "9", Times: 1})
	r := e.post(addMembers, map[string]any{"g": demodata.GroupID(10), "ids": ids})
	p := dig(r.Data, "addGroupMembers")
	assert.Equal(t, "PARTIAL", dig(p, "status"))
	got := outcomes(t, p)
	assert.Equal(t, ids[:50], got["ADDED"])
	assert.Equal(t, ids[50:], got["FAILED"], "the chunk not sent fails with the same error")
	assert.Equal(t, "RATE_LIMITED", dig(p, "results", 109, "errorCode"))
	assert.Equal(t, 2, k.Count(genesysemu.RoutePostMembers), "no call after the 429")
	require.Equal(t, []string{"RATE_LIMITED"}, r.codes())
	assert.EqualValues(t, 9, r.Errors[0].Extensions["retryAfter"])
}

func TestAddGroupMembersUnknownGroup(t *testing.T) {
	e := setup(t, nil)
	r := e.post(addMembers, map[string]any{"g": "6a0f0000-0000-4000-8000-00000000ffff", "ids": userIDs(1, 2)})
	assert.Equal(t, []string{"NOT_FOUND"}, r.codes())
	assert.Nil(t, r.Data["addGroupMembers"])
	assert.Zero(t, e.genesysKit().Count(genesysemu.RoutePostMembers))
}

func TestAddGroupMembersWithVersionSkipsTheRead(t *testing.T) {
	e := setup(t, nil)
	group := demodata.GroupID(4)
	r := e.post(`query($g: ID!) { group(id: $g) { version } }`, map[string]any{"g": group})
	require.Empty(t, r.Errors)
	version := dig(r.Data, "group", "version")
	e.resetCalls()
	r = e.post(`mutation($g: ID!, $ids: [ID!]!, $v: Int) { addGroupMembers(groupId: $g, memberIds: $ids, version: $v) { status } }`,
		map[string]any{"g": group, "ids": userIDs(150, 3), "v": version})
	require.Empty(t, r.Errors)
	assert.Equal(t, "COMPLETE", dig(r.Data, "addGroupMembers", "status"))
	assert.Equal(t, map[string]int{routeIndividualsGet: 1, genesysemu.RoutePostMembers: 1}, e.genesysKit().CountsByRoute(),
		"the individuals read and one write: the caller gave the version")

	e.resetCalls()
	r = e.post(`mutation($g: ID!, $ids: [ID!]!) { addGroupMembers(groupId: $g, memberIds: $ids, version: 1) { status results { outcome } } }`,
		map[string]any{"g": group, "ids": userIDs(160, 1)})
	require.Empty(t, r.Errors)
	assert.Equal(t, "COMPLETE", dig(r.Data, "addGroupMembers", "status"), "a stale version costs a re-read, not an error")
	assert.Equal(t, 2, e.genesysKit().Count(genesysemu.RoutePostMembers))
}

func TestMembershipPayloadReadsItsOwnWrites(t *testing.T) {
	e := setup(t, nil)
	group := demodata.GroupID(12) // its members are users 84..95
	r := e.post(`mutation($g: ID!, $ids: [ID!]!) {
		renamed: updateGroup(id: $g, input: {name: "Renamed before"}) { version memberCount }
		added: addGroupMembers(groupId: $g, memberIds: $ids) { version group { name version memberCount members(pageSize: 100) { total } } } }`,
		map[string]any{"g": group, "ids": userIDs(150, 4)})
	require.Empty(t, r.Errors)
	before, _ := dig(r.Data, "renamed", "version").(float64)
	after := dig(r.Data, "added", "group")
	assert.Equal(t, "Renamed before", dig(after, "name"))
	assert.Equal(t, before+1, dig(after, "version"), "not the group the update cached: the one after the write")
	assert.Equal(t, dig(after, "version"), dig(r.Data, "added", "version"))
	assert.Equal(t, dig(r.Data, "renamed", "memberCount").(float64)+4, dig(after, "memberCount"))
	assert.EqualValues(t, 12+4, dig(after, "members", "total"))
}

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

// End-to-end tests of the Idempotency-Key header on /query.

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	e := setup(t, nil)
	k := e.usergroupsKit()
	vars := map[string]any{"name": "Keyed", "ext": "keyed-1"}
	first := e.post(createUG, vars, "Idempotency-Key", "key-1")
	require.Empty(t, first.Errors)
	assert.Empty(t, first.Header.Get("Idempotent-Replayed"))

	again := e.post(createUG, vars, "Idempotency-Key", "key-1")
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.JSONEq(t, string(first.Raw), string(again.Raw), "the very same answer")
	assert.Equal(t, 1, k.Count(usergroupsemu.RouteCreate), "one upstream POST")
	assert.Equal(t, 1, e.gw.demo.usergroups.UserGroupsByExternalID("keyed-1"))

	other := e.post(createUG, map[string]any{"name": "Other", "ext": "keyed-1"}, "Idempotency-Key", "key-1")
	assert.Equal(t, []string{"BAD_USER_INPUT"}, other.codes(), "the same key with other input")
	assert.Nil(t, other.Data)
	assert.Equal(t, 1, k.Count(usergroupsemu.RouteCreate))

	fresh := e.post(createUG, vars, "Idempotency-Key", "key-2")
	require.Empty(t, fresh.Errors)
	assert.Equal(t, 2, k.Count(usergroupsemu.RouteCreate), "another key is another request")
}

func TestIdempotencyKeyWhileTheFirstRuns(t *testing.T) {
	e := setup(t, nil)
	k := e.usergroupsKit()
	k.Inject(usergroupsemu.RouteCreate, emukit.Fault{Latency: time.Second, Times: 1})
	vars := map[string]any{"name": "Slow", "ext": "slow-1"}
	done := make(chan gqlResponse, 1)
	go func() {
		r, err := e.send(createUG, vars, "Idempotency-Key", "slow-key")
		if err != nil {
			r.Errors = append(r.Errors, gqlError{Message: err.Error()})
		}
		done <- r
	}()
	require.Eventually(t, func() bool { return k.Count(usergroupsemu.RouteCreate) == 1 }, 10*time.Second, 5*time.Millisecond)

	r := e.post(createUG, vars, "Idempotency-Key", "slow-key")
	assert.Equal(t, []string{"CONFLICT"}, r.codes())
	assert.Equal(t, "1", r.Header.Get("Retry-After"))

	first := <-done
	require.Empty(t, first.Errors)
	r = e.post(createUG, vars, "Idempotency-Key", "slow-key")
	assert.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, dig(first.Data, "createUserGroup", "id"), dig(r.Data, "createUserGroup", "id"))
	assert.Equal(t, 1, k.Count(usergroupsemu.RouteCreate))
}

func TestIdempotencyKeyOnlyForMutationsThatRan(t *testing.T) {
	e := setup(t, nil)
	k := e.usergroupsKit()
	for range 2 {
		r := e.post(`{ userGroups(pageSize: 1) { pageSize } }`, nil, "Idempotency-Key", "query-key")
		require.Empty(t, r.Errors)
		assert.Empty(t, r.Header.Get("Idempotent-Replayed"))
	}
	assert.Equal(t, 2, k.Count(usergroupsemu.RouteSearch), "queries run every time")

	for range 2 {
		r := e.post(`mutation { createUserGroup(input: {name: "x"}) { nope } }`, nil, "Idempotency-Key", "refused-key")
		assert.Equal(t, []string{"GRAPHQL_VALIDATION_FAILED"}, r.codes())
		assert.Empty(t, r.Header.Get("Idempotent-Replayed"), "a request refused before execution is not kept")
	}

	r := e.post(`mutation { createUserGroup(input: {name: "x"}) { id } }`, nil, "Idempotency-Key", strings.Repeat("k", 256))
	assert.Equal(t, 400, r.Status)
	assert.Equal(t, []string{"BAD_REQUEST"}, r.codes())
	assert.Zero(t, k.Count(usergroupsemu.RouteCreate))
}
