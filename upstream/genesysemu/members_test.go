package genesysemu

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

var userKeys = []string{"id", "name", "division", "chat", "department", "email", "primaryContactInfo", "addresses",
	"state", "title", "username", "images", "version", "acdAutoAnswer", "selfUri"}

// memberIDs returns the demodata member ids of group g.
func memberIDs(g int) []string {
	var out []string
	for _, u := range demodata.Demo.MemberIndexes(g) {
		out = append(out, demodata.UserID(u))
	}
	return out
}

func TestGetMembers(t *testing.T) {
	e := setup(t)
	path := "/api/v2/groups/" + demodata.GroupID(2) + "/members"
	m := e.get(path)
	assert.ElementsMatch(t, memberIDs(2), ids(t, m, "entities"))
	assert.EqualValues(t, demodata.Demo.MembersPerGroup, m["total"])
	assert.EqualValues(t, 1, m["pageCount"])
	assert.NotContains(t, m, "nextUri")
	user := m["entities"].([]any)[0].(map[string]any)
	for _, k := range userKeys {
		assert.Contains(t, user, k)
	}
	assert.NotContains(t, user, "presence")
	u := demodata.Demo.MemberIndexes(2)
	idx := slices.Index(memberIDs(2), user["id"].(string))
	require.GreaterOrEqual(t, idx, 0)
	assert.Equal(t, map[string]any{"jabberId": demodata.JabberID(u[idx])}, user["chat"])
	assert.Equal(t, demodata.UserEmail(u[idx]), user["email"])

	expanded := e.get(path + "?expand=presence&expand=routingStatus,dateLastLogin&expand=noSuchThing")
	first := expanded["entities"].([]any)[0].(map[string]any)
	for _, k := range []string{"presence", "routingStatus", "dateLastLogin"} {
		assert.Contains(t, first, k)
	}

	page := e.get(path + "?pageSize=5&pageNumber=2&sortOrder=descending")
	assert.Len(t, ids(t, page, "entities"), 5)
	assert.EqualValues(t, 3, page["pageCount"])
	assert.Contains(t, page["nextUri"], "pageNumber=3")
	assert.Contains(t, page["previousUri"], "pageNumber=1")
	assert.Contains(t, page["nextUri"], "sortOrder=descending")
	names := func(m map[string]any) []string {
		var out []string
		for _, u := range m["entities"].([]any) {
			out = append(out, u.(map[string]any)["name"].(string))
		}
		return out
	}
	desc := names(page)
	assert.True(t, slices.IsSortedFunc(desc, func(a, b string) int { return strings.Compare(b, a) }))

	resp, body := e.call(http.MethodGet, path+"?pageSize=501", nil)
	assertError(t, resp, body, http.StatusBadRequest, "invalid.value")
	resp, body = e.call(http.MethodGet, "/api/v2/groups/6a0f0000-0000-4000-8000-ffffffffffff/members", nil)
	assertError(t, resp, body, http.StatusNotFound, "not.found")
}

func TestGetIndividuals(t *testing.T) {
	e := setup(t)
	m := e.get("/api/v2/groups/" + demodata.GroupID(9) + "/individuals")
	assert.ElementsMatch(t, memberIDs(9), ids(t, m, "entities"))
	assert.EqualValues(t, demodata.Demo.MembersPerGroup, m["total"])
	assert.EqualValues(t, 1, m["pageCount"])
	resp, body := e.call(http.MethodGet, "/api/v2/groups/nope/individuals", nil)
	assertError(t, resp, body, http.StatusBadRequest, "bad.request")
}

func TestOwnersAreMembersNotIndividuals(t *testing.T) {
	e := setup(t)
	owner := demodata.UserID(150)
	resp, body := e.call(http.MethodPost, "/api/v2/groups", map[string]any{"name": "Owners only", "type": "official",
		"rulesVisible": true, "visibility": "public", "ownerIds": []string{owner}, "includeOwners": true})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	id := decode(t, body)["id"].(string)
	assert.Equal(t, []string{owner}, ids(t, e.get("/api/v2/groups/"+id+"/members"), "entities"))
	assert.Empty(t, ids(t, e.get("/api/v2/groups/"+id+"/individuals"), "entities"))
}

func TestPostMembers(t *testing.T) {
	e := setup(t, strict)
	path := "/api/v2/groups/" + demodata.GroupID(0)
	version := number(e.get(path), "version")
	newcomers := []string{demodata.UserID(100), demodata.UserID(101), memberIDs(0)[0]}

	resp, body := e.call(http.MethodPost, path+"/members", map[string]any{"memberIds": newcomers, "version": version})
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
	assert.JSONEq(t, `{}`, string(body))
	assertCorrelation(t, resp)
	g := e.get(path)
	assert.EqualValues(t, version+1, g["version"])
	assert.EqualValues(t, demodata.Demo.MembersPerGroup+2, g["memberCount"], "an existing member is ignored")
	assert.Subset(t, ids(t, e.get(path+"/members?pageSize=100"), "entities"), newcomers)

	fifty := make([]string, 51)
	for k := range fifty {
		fifty[k] = demodata.UserID(k + 100)
	}
	unknown := "7b1e0000-0000-4000-8000-ffffffffffff"
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"stale version", map[string]any{"memberIds": []string{demodata.UserID(120)}, "version": version}, 409, "general.conflict"},
		{"51 ids", map[string]any{"memberIds": fifty, "version": version + 1}, 400, "invalid.value"},
		{"no ids", map[string]any{"memberIds": []string{}, "version": version + 1}, 400, "invalid.value"},
		{"unknown user", map[string]any{"memberIds": []string{demodata.UserID(120), unknown}, "version": version + 1}, 400, "invalid.value"},
		{"misspelt key", map[string]any{"memberIDs": []string{demodata.UserID(120)}, "version": version + 1}, 400, "bad.request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.call(http.MethodPost, path+"/members", tt.body)
			assertError(t, resp, body, tt.status, tt.code)
		})
	}
	resp, body = e.call(http.MethodPost, path+"/members",
		map[string]any{"memberIds": []string{demodata.UserID(120), unknown}, "version": version + 1})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, decode(t, body)["message"], unknown, "the 400 names the unknown users")
	assert.EqualValues(t, version+1, e.get(path)["version"], "refused changes apply nothing")

	resp, body = e.call(http.MethodPost, path+"/members", map[string]any{"memberIds": []string{demodata.UserID(120)}})
	require.Equal(t, http.StatusAccepted, resp.StatusCode, "the version is optional since SDK 247: %s", body)
	assert.Contains(t, ids(t, e.get(path+"/members?pageSize=100"), "entities"), demodata.UserID(120))
}

func TestDeleteMembers(t *testing.T) {
	e := setup(t)
	path := "/api/v2/groups/" + demodata.GroupID(1)
	version := number(e.get(path), "version")
	gone := memberIDs(1)[3:5]
	resp, body := e.call(http.MethodDelete, path+"/members?ids="+strings.Join(append(gone, demodata.UserID(199)), ","), nil)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
	assert.JSONEq(t, `{}`, string(body))
	g := e.get(path)
	assert.EqualValues(t, version+1, g["version"])
	assert.EqualValues(t, demodata.Demo.MembersPerGroup-2, g["memberCount"])
	left := ids(t, e.get(path+"/members"), "entities")
	for _, id := range gone {
		assert.NotContains(t, left, id)
	}

	many := make([]string, 51)
	for k := range many {
		many[k] = demodata.UserID(k)
	}
	for name, q := range map[string]string{"51 ids": "?ids=" + strings.Join(many, ","), "no ids": ""} {
		t.Run(name, func(t *testing.T) {
			resp, body := e.call(http.MethodDelete, path+"/members"+q, nil)
			assertError(t, resp, body, http.StatusBadRequest, "invalid.value")
		})
	}
}
