package genesysemu

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

func validQuery() map[string]any {
	return map[string]any{"skillConditions": []any{map[string]any{
		"operation": "Or",
		"routingSkillConditions": []any{map[string]any{"routingSkill": "Sales", "comparator": "GreaterThan", "proficiency": 2,
			"childConditions": []any{map[string]any{"operation": "Not", "languageSkillConditions": []any{
				map[string]any{"languageSkill": "French", "comparator": "LessThan", "proficiency": 0}}}}}},
		"languageSkillConditions": []any{},
	}}}
}

func TestGetDynamicSettings(t *testing.T) {
	e := setup(t)
	id := demodata.GroupID(demodata.DynamicGroup)
	d := e.get("/api/v2/groups/" + id + "/dynamicsettings")
	assert.Equal(t, map[string]any{"id": id, "selfUri": "/api/v2/groups/" + id}, d["group"])
	assert.Equal(t, "/api/v2/groups/"+id+"/dynamicsettings", d["selfUri"])
	assert.NotEmpty(t, d["dateModified"])
	conds := d["query"].(map[string]any)["skillConditions"].([]any)
	require.Len(t, conds, 1)
	assert.Equal(t, "And", conds[0].(map[string]any)["operation"])

	resp, body := e.call(http.MethodGet, "/api/v2/groups/"+demodata.GroupID(0)+"/dynamicsettings", nil)
	assertError(t, resp, body, http.StatusNotFound, "not.found")
}

func TestPutDeleteDynamicSettings(t *testing.T) {
	e := setup(t)
	path := "/api/v2/groups/" + demodata.GroupID(0) + "/dynamicsettings"
	resp, body := e.call(http.MethodPut, path, validQuery())
	require.Equal(t, http.StatusNoContent, resp.StatusCode, string(body))
	assertCorrelation(t, resp)
	d := e.get(path)
	cond := d["query"].(map[string]any)["skillConditions"].([]any)[0].(map[string]any)
	assert.Equal(t, "Or", cond["operation"])
	assert.Equal(t, []any{}, cond["languageSkillConditions"])
	child := cond["routingSkillConditions"].([]any)[0].(map[string]any)["childConditions"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{}, child["routingSkillConditions"], "absent lists come back empty")

	resp, _ = e.call(http.MethodDelete, path, nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, body = e.call(http.MethodGet, path, nil)
	assertError(t, resp, body, http.StatusNotFound, "not.found")
	resp, body = e.call(http.MethodDelete, path, nil)
	assertError(t, resp, body, http.StatusNotFound, "not.found")
}

func TestDynamicQueryValidation(t *testing.T) {
	e := setup(t)
	first := func(q map[string]any) map[string]any {
		return q["skillConditions"].([]any)[0].(map[string]any)
	}
	routing := func(q map[string]any) map[string]any {
		return first(q)["routingSkillConditions"].([]any)[0].(map[string]any)
	}
	tests := []struct {
		name   string
		change func(map[string]any)
	}{
		{"no skillConditions", func(q map[string]any) { delete(q, "skillConditions") }},
		{"bad operation", func(q map[string]any) { first(q)["operation"] = "AND" }},
		{"bad comparator", func(q map[string]any) { routing(q)["comparator"] = "Equals" }},
		{"proficiency 6", func(q map[string]any) { routing(q)["proficiency"] = 6 }},
		{"proficiency -1", func(q map[string]any) { routing(q)["proficiency"] = -1 }},
		{"no proficiency", func(q map[string]any) { delete(routing(q), "proficiency") }},
		{"no skill", func(q map[string]any) { delete(routing(q), "routingSkill") }},
		{"bad nested", func(q map[string]any) {
			routing(q)["childConditions"] = []any{map[string]any{"operation": "Maybe"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := validQuery()
			tt.change(q)
			for _, route := range []struct{ method, path string }{
				{http.MethodPut, "/api/v2/groups/" + demodata.GroupID(0) + "/dynamicsettings"},
				{http.MethodPost, "/api/v2/groups/dynamicsettings/preview"},
			} {
				resp, body := e.call(route.method, route.path, q)
				assertError(t, resp, body, http.StatusBadRequest, "invalid.value")
			}
		})
	}
	resp, body := e.call(http.MethodPut, "/api/v2/groups/6a0f0000-0000-4000-8000-ffffffffffff/dynamicsettings", validQuery())
	assertError(t, resp, body, http.StatusNotFound, "not.found")
}

func TestPreviewDynamic(t *testing.T) {
	e := setup(t)
	preview := func(q map[string]any) int {
		resp, body := e.call(http.MethodPost, "/api/v2/groups/dynamicsettings/preview", q)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		m := decode(t, body)
		require.Contains(t, m, "userCount")
		return number(m, "userCount")
	}
	a := preview(validQuery())
	assert.Equal(t, a, preview(validQuery()), "deterministic")
	assert.True(t, a >= 0 && a <= demodata.Demo.Users)
}
