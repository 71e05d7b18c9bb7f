package gateway

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

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
