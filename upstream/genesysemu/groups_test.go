package genesysemu

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

var groupKeys = []string{"id", "name", "description", "dateModified", "memberCount", "state", "version", "type",
	"addresses", "rulesVisible", "visibility", "rolesEnabled", "includeOwners", "callsEnabled", "owners", "selfUri"}

func TestGetGroup(t *testing.T) {
	e := setup(t)
	resp, body := e.call(http.MethodGet, "/api/v2/groups/"+demodata.GroupID(1), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assertCorrelation(t, resp)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	g := decode(t, body)
	for _, k := range groupKeys {
		assert.Contains(t, g, k)
	}
	assert.Equal(t, demodata.GroupID(1), g["id"])
	assert.Equal(t, demodata.GroupName(1), g["name"])
	assert.EqualValues(t, demodata.Demo.MembersPerGroup, g["memberCount"])
	assert.Equal(t, "/api/v2/groups/"+demodata.GroupID(1), g["selfUri"])
	assert.Equal(t, "2025-01-15T07:30:00.000Z", g["dateModified"])

	tests := []struct {
		name, id, code string
		status         int
	}{
		{"unknown", "6a0f0000-0000-4000-8000-ffffffffffff", "not.found", http.StatusNotFound},
		{"not a uuid", "not-a-uuid", "bad.request", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.call(http.MethodGet, "/api/v2/groups/"+tt.id, nil)
			assertError(t, resp, body, tt.status, tt.code)
		})
	}
}

func TestUnknownRoute(t *testing.T) {
	e := setup(t)
	resp, body := e.call(http.MethodGet, "/api/v2/nothing", nil)
	assertError(t, resp, body, http.StatusNotFound, "not.found")
}

func TestGetGroupsPaging(t *testing.T) {
	e := setup(t)
	first := e.get("/api/v2/groups")
	assert.EqualValues(t, 25, first["pageSize"])
	assert.EqualValues(t, 1, first["pageNumber"])
	assert.EqualValues(t, demodata.Demo.Groups, first["total"])
	assert.EqualValues(t, 2, first["pageCount"])
	assert.NotContains(t, first, "previousUri")
	assert.Len(t, ids(t, first, "entities"), 25)
	for _, k := range []string{"firstUri", "selfUri", "nextUri", "lastUri"} {
		assert.True(t, strings.HasPrefix(first[k].(string), "/api/v2/groups?"), k)
	}
	second := e.get(first["nextUri"].(string))
	assert.EqualValues(t, 2, second["pageNumber"])
	assert.NotContains(t, second, "nextUri")
	assert.Equal(t, first["selfUri"], second["previousUri"])
	assert.Equal(t, first["lastUri"], second["selfUri"])
	all := append(ids(t, first, "entities"), ids(t, second, "entities")...)
	assert.Len(t, all, demodata.Demo.Groups)

	names := func(m map[string]any) []string {
		var out []string
		for _, g := range m["entities"].([]any) {
			out = append(out, g.(map[string]any)["name"].(string))
		}
		return out
	}
	asc := names(e.get("/api/v2/groups?pageSize=100"))
	assert.True(t, slices.IsSorted(asc))
	desc := names(e.get("/api/v2/groups?pageSize=100&sortOrder=descending"))
	slices.Reverse(desc)
	assert.Equal(t, asc, desc)

	past := e.get("/api/v2/groups?pageNumber=9")
	assert.Empty(t, past["entities"])

	for _, q := range []string{"pageSize=501", "pageSize=0", "pageNumber=0", "pageSize=x", "sortOrder=sideways"} {
		resp, body := e.call(http.MethodGet, "/api/v2/groups?"+q, nil)
		assertError(t, resp, body, http.StatusBadRequest, "invalid.value")
	}
}

func TestGetGroupsByID(t *testing.T) {
	e := setup(t)
	unknown := "6a0f0000-0000-4000-8000-ffffffffffff"
	want := []string{demodata.GroupID(2), demodata.GroupID(5)}
	tests := []struct{ name, query string }{
		{"repeated", "id=" + want[0] + "&id=" + unknown + "&id=" + want[1]},
		{"comma joined", "id=" + want[0] + "," + unknown + "," + want[1]},
		{"mixed with duplicate", "id=" + want[0] + "," + unknown + "&id=" + want[1] + "&id=" + want[0]},
		{"jabber repeated", "jabberId=" + url.QueryEscape(demodata.GroupJabberID(2)) + "&jabberId=nobody%40x&jabberId=" +
			url.QueryEscape(demodata.GroupJabberID(5))},
		{"jabber comma joined", "jabberId=" + url.QueryEscape(demodata.GroupJabberID(2)+",nobody@x,"+demodata.GroupJabberID(5))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := e.get("/api/v2/groups?" + tt.query)
			got := ids(t, m, "entities")
			assert.ElementsMatch(t, want, got)
			assert.EqualValues(t, 2, m["total"])
			assert.Contains(t, m["selfUri"], "pageNumber=1")
		})
	}

	t.Run("paged like any listing", func(t *testing.T) {
		m := e.get("/api/v2/groups?pageSize=1&id=" + strings.Join(want, ","))
		assert.Len(t, ids(t, m, "entities"), 1)
		assert.EqualValues(t, 2, m["pageCount"])
	})

	many := make([]string, 101)
	for k := range many {
		many[k] = demodata.GroupID(k)
	}
	bad := []struct{ name, query string }{
		{"id with jabberId", "id=" + want[0] + "&jabberId=" + url.QueryEscape(demodata.GroupJabberID(1))},
		{"too many ids", "id=" + strings.Join(many, ",")},
		{"malformed id", "id=../users/me"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.call(http.MethodGet, "/api/v2/groups?"+tt.query, nil)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))
			assertCorrelation(t, resp)
		})
	}
}

func TestProfiles(t *testing.T) {
	e := setup(t)
	p := e.get("/api/v2/groups/" + demodata.GroupID(4) + "/profile?fields=name,description")
	assert.Equal(t, map[string]any{"id": demodata.GroupID(4), "name": demodata.GroupName(4), "state": "active",
		"dateModified": "2025-01-15T04:30:00.000Z", "version": 5.0,
		"selfUri": "/api/v2/groups/" + demodata.GroupID(4) + "/profile"}, p)

	resp, body := e.call(http.MethodGet, "/api/v2/groups/"+demodata.GroupID(4)+"/profile?fields=shoeSize", nil)
	assertError(t, resp, body, http.StatusBadRequest, "invalid.value")
	resp, body = e.call(http.MethodGet, "/api/v2/groups/6a0f0000-0000-4000-8000-ffffffffffff/profile", nil)
	assertError(t, resp, body, http.StatusNotFound, "not.found")

	list := e.get("/api/v2/profiles/groups?pageSize=10&pageNumber=2")
	assert.Len(t, ids(t, list, "entities"), 10)
	assert.True(t, strings.HasPrefix(list["nextUri"].(string), "/api/v2/profiles/groups?"))
	byJabber := e.get("/api/v2/profiles/groups?jabberId=" + url.QueryEscape(demodata.GroupJabberID(7)))
	assert.Equal(t, []string{demodata.GroupID(7)}, ids(t, byJabber, "entities"))
	entity := byJabber["entities"].([]any)[0].(map[string]any)
	assert.NotContains(t, entity, "memberCount", "a profile is not a group")
}

func TestCreateGroup(t *testing.T) {
	e := setup(t, strict)
	valid := func() map[string]any {
		return map[string]any{"name": "Night Shift", "type": "social", "rulesVisible": false, "visibility": "members",
			"description": "dropped on create", "ownerIds": []string{demodata.UserID(10)}, "includeOwners": true}
	}
	resp, body := e.call(http.MethodPost, "/api/v2/groups", valid())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	g := decode(t, body)
	for _, k := range groupKeys {
		if k != "description" && k != "addresses" {
			assert.Contains(t, g, k)
		}
	}
	assert.NotContains(t, g, "description", "description is ignored on create")
	assert.EqualValues(t, 1, g["version"])
	assert.Equal(t, "active", g["state"])
	assert.Equal(t, "social", g["type"])
	assert.EqualValues(t, 1, g["memberCount"], "the owner counts as a member with includeOwners")
	id := g["id"].(string)
	assert.Equal(t, g, e.get("/api/v2/groups/"+id))
	assert.Contains(t, ids(t, e.get("/api/v2/groups?pageSize=100"), "entities"), id)

	tests := []struct {
		name   string
		change func(map[string]any)
		code   string
	}{
		{"no name", func(m map[string]any) { delete(m, "name") }, "invalid.value"},
		{"blank name", func(m map[string]any) { m["name"] = "  " }, "invalid.value"},
		{"no type", func(m map[string]any) { delete(m, "type") }, "invalid.value"},
		{"bad type", func(m map[string]any) { m["type"] = "secret" }, "invalid.value"},
		{"no rulesVisible", func(m map[string]any) { delete(m, "rulesVisible") }, "invalid.value"},
		{"no visibility", func(m map[string]any) { delete(m, "visibility") }, "invalid.value"},
		{"unknown owner", func(m map[string]any) { m["ownerIds"] = []string{"7b1e0000-0000-4000-8000-ffffffffffff"} }, "invalid.value"},
		{"unknown field", func(m map[string]any) { m["owner"] = "x" }, "bad.request"},
		{"bad address", func(m map[string]any) { m["addresses"] = []any{map[string]any{"address": "+1", "type": "FAX"}} }, "invalid.value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			tt.change(m)
			resp, body := e.call(http.MethodPost, "/api/v2/groups", m)
			assertError(t, resp, body, http.StatusBadRequest, tt.code)
		})
	}
}

func TestUpdateGroup(t *testing.T) {
	e := setup(t, strict)
	path := "/api/v2/groups/" + demodata.GroupID(6)
	before := e.get(path)
	version := number(before, "version")

	resp, body := e.call(http.MethodPut, path, map[string]any{"version": version, "description": "new words"})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	after := decode(t, body)
	assert.Equal(t, "new words", after["description"])
	assert.EqualValues(t, version+1, after["version"])
	for _, k := range []string{"name", "type", "visibility", "rulesVisible", "owners", "memberCount", "addresses"} {
		assert.Equal(t, before[k], after[k], "omitted %s is kept", k)
	}
	assert.NotEqual(t, before["dateModified"], after["dateModified"])

	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"stale version", map[string]any{"version": version, "name": "x"}, http.StatusConflict, "general.conflict"},
		{"no version", map[string]any{"name": "x"}, http.StatusBadRequest, "invalid.value"},
		{"type is immutable", map[string]any{"version": version + 1, "type": "social"}, http.StatusBadRequest, "bad.request"},
		{"bad state", map[string]any{"version": version + 1, "state": "gone"}, http.StatusBadRequest, "invalid.value"},
		{"bad visibility", map[string]any{"version": version + 1, "visibility": "ownerIds"}, http.StatusBadRequest, "invalid.value"},
		{"invalid json", `{"version":`, http.StatusBadRequest, "bad.request"},
		{"two values", `{"version":1} {}`, http.StatusBadRequest, "bad.request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.call(http.MethodPut, path, tt.body)
			assertError(t, resp, body, tt.status, tt.code)
		})
	}
	resp, body = e.call(http.MethodPut, "/api/v2/groups/6a0f0000-0000-4000-8000-ffffffffffff", map[string]any{"version": 1})
	assertError(t, resp, body, http.StatusNotFound, "not.found")

	resp, body = e.call(http.MethodPut, path, map[string]any{"version": version + 1, "ownerIds": []string{" "}, "name": "Aardvarks"})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	g := decode(t, body)
	assert.NotContains(t, g, "owners", `["  "] clears the owners`)
	assert.Equal(t, demodata.GroupID(6), ids(t, e.get("/api/v2/groups"), "entities")[0], "renamed group sorts first")
}

func TestDeleteGroup(t *testing.T) {
	e := setup(t)
	path := "/api/v2/groups/" + demodata.GroupID(8)
	resp, body := e.call(http.MethodDelete, path, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body)
	assertCorrelation(t, resp)
	resp, body = e.call(http.MethodGet, path, nil)
	assertError(t, resp, body, http.StatusNotFound, "not.found")
	resp, body = e.call(http.MethodDelete, path, nil)
	assertError(t, resp, body, http.StatusNotFound, "not.found")
	m := e.get("/api/v2/groups?jabberId=" + url.QueryEscape(demodata.GroupJabberID(8)))
	assert.Empty(t, m["entities"])
	assert.EqualValues(t, demodata.Demo.Groups-1, e.get("/api/v2/groups")["total"])
}

func TestFieldConfig(t *testing.T) {
	e := setup(t)
	for _, typ := range []string{"person", "group", "org", "externalContact"} {
		t.Run(typ, func(t *testing.T) {
			fc := e.get("/api/v2/fieldconfig?type=" + typ)
			assert.Equal(t, typ, fc["entityType"])
			assert.IsType(t, "", fc["version"], "version is a string")
			sections := fc["sections"].([]any)
			require.NotEmpty(t, sections)
			first := sections[0].(map[string]any)
			assert.NotEmpty(t, first["key"])
			assert.NotEmpty(t, first["fieldList"])
		})
	}
	for _, q := range []string{"?type=robot", ""} {
		resp, body := e.call(http.MethodGet, "/api/v2/fieldconfig"+q, nil)
		assertError(t, resp, body, http.StatusBadRequest, "bad.entity.type")
	}
}

func TestRequestLimits(t *testing.T) {
	e := setup(t)
	big := `{"name":"` + strings.Repeat("x", maxRequestBytes) + `"}`
	resp, body := e.call(http.MethodPost, "/api/v2/groups", big)
	assertError(t, resp, body, http.StatusRequestEntityTooLarge, "request.bytes.max")

	req, err := http.NewRequest(http.MethodPost, e.url+"/api/v2/groups/search", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "text/plain")
	resp, body = e.send(req)
	assertError(t, resp, body, http.StatusUnsupportedMediaType, "unsupported.media.type")
}
