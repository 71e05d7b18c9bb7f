package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesysemu"
)

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
