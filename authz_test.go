package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/genesysemu"
)

// Membership mutations under each AUTH_MODE (@membershipPermission): the
// gateway's own Genesys token must not change memberships for a caller who
// may not (red-team case 49).

// membershipVars names group 5 and a user who is not one of its members.
var membershipVars = map[string]any{"g": demodata.GroupID(5), "ids": []string{demodata.UserID(150)}}

func TestMembershipMutationsNeedThePermissionWithTheGatewaysToken(t *testing.T) {
	idp := newIDP(t)
	e := setup(t, idp.env())
	for _, m := range []struct{ name, query string }{{"addGroupMembers", addMembers}, {"removeGroupMembers", removeMembers}} {
		t.Run(m.name+" refused to a reader", func(t *testing.T) {
			e.resetCalls()
			r := e.post(m.query, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:view")))...)
			require.Equal(t, http.StatusOK, r.Status)
			assert.Equal(t, []string{codeForbid}, r.codes())
			assert.Equal(t, []any{m.name}, r.Errors[0].Path)
			assert.Equal(t, []any{"directory:group:edit"}, r.Errors[0].Extensions["permissions"])
			assert.Nil(t, dig(r.Data, m.name))
			assert.Zero(t, e.upstreamCalls())
		})
	}
	t.Run("allowed with directory:group:edit", func(t *testing.T) {
		e.resetCalls()
		r := e.post(addMembers, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:*")))...)
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, "COMPLETE", dig(r.Data, "addGroupMembers", "status"))
		assert.Equal(t, 1, e.genesysKit().Count(genesysemu.RoutePostMembers))
		r = e.post(removeMembers, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:edit")))...)
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, "COMPLETE", dig(r.Data, "removeGroupMembers", "status"))
	})
}

func TestMembershipPermissionIsConfigurable(t *testing.T) {
	idp := newIDP(t)
	e := setup(t, idp.env("GATEWAY_MEMBERSHIP_PERMISSION", "directory:membership:edit"))
	r := e.post(addMembers, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:group:edit")))...)
	assert.Equal(t, []string{codeForbid}, r.codes())
	assert.Equal(t, []any{"directory:membership:edit"}, r.Errors[0].Extensions["permissions"])
	assert.Zero(t, e.upstreamCalls())
	r = e.post(addMembers, membershipVars, bearerHeader(idp.token("ec-1", claims("alice", "directory:membership:edit")))...)
	require.Empty(t, r.Errors, string(r.Raw))

	_, err := loadConfig(func(k string) string {
		return map[string]string{"GATEWAY_MEMBERSHIP_PERMISSION": "edit members"}[k]
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GATEWAY_MEMBERSHIP_PERMISSION")
}

func TestMembershipMutationsInOtherModes(t *testing.T) {
	t.Run("none: every caller holds every permission", func(t *testing.T) {
		e := setup(t, nil)
		r := e.post(addMembers, membershipVars)
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, "COMPLETE", dig(r.Data, "addGroupMembers", "status"))
	})
	t.Run("genesys: the caller's token goes to Genesys, which decides", func(t *testing.T) {
		e := setupSized(t, map[string]string{"AUTH_MODE": "genesys"}, demodata.Demo,
			withCallerTokens(map[string][]string{"caller-reader-token": {"directory:group:view"}}))
		r := e.post(addMembers, membershipVars, bearerHeader("caller-reader-token")...)
		require.Empty(t, r.Errors, string(r.Raw))
		assert.Equal(t, "COMPLETE", dig(r.Data, "addGroupMembers", "status"))
		calls := e.genesysKit().Calls()
		require.Equal(t, 1, e.genesysKit().Count(genesysemu.RoutePostMembers))
		for _, c := range calls {
			assert.Equal(t, "Bearer caller-reader-token", c.Header.Get("Authorization"), c.Route)
		}
	})
}

func TestSeveralOperationsNeedOperationName(t *testing.T) {
	e := setup(t, nil)
	doc := `query A { groups(pageSize: 1) { total } } query B { __typename }`
	r := e.timedPost(t, doc, nil, "Accept", mediaGraphQLResponse)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, []string{codeValidationFailed}, r.codes())
	assert.Contains(t, r.Errors[0].Message, "operationName is required", "says what the client must send")
	e.assertNoUpstreamCall(t)

	get := e.raw(t, http.MethodGet, "/query?query="+urlEncode(doc), nil)
	require.Equal(t, []string{codeValidationFailed}, get.codes())
	assert.Contains(t, get.Errors[0].Message, "operationName is required")

	r = e.post(`query { __typename } query B { __typename }`, nil)
	assert.Equal(t, []string{codeValidationFailed}, r.codes(), "an anonymous operation among others: the GraphQL rule")
	assert.NotContains(t, r.Errors[0].Message, "operationName")

	body, err := json.Marshal(map[string]any{"query": doc, "operationName": "B"})
	require.NoError(t, err)
	r = e.raw(t, http.MethodPost, "/query", bytes.NewReader(body), "Content-Type", "application/json")
	assert.Empty(t, r.Errors)
	assert.Equal(t, "Query", dig(r.Data, "__typename"))
}
