package genesysemu

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

// search posts a search and requires 200.
func (e *env) search(body any) map[string]any {
	e.t.Helper()
	resp, raw := e.call(http.MethodPost, "/api/v2/groups/search", body)
	require.Equal(e.t, http.StatusOK, resp.StatusCode, string(raw))
	return decode(e.t, raw)
}

func crit(typ string, fields []string, value string) map[string]any {
	return map[string]any{"type": typ, "fields": fields, "value": value}
}

func query(cs ...map[string]any) map[string]any {
	return map[string]any{"query": cs, "pageSize": 100}
}

func TestSearchCriteria(t *testing.T) {
	e := setup(t)
	name := []string{"name"}
	// Demo names are "<Team> NN": the 12 team names cycle over 40 groups.
	tests := []struct {
		name string
		body map[string]any
		want []string
	}{
		{"exact, case-insensitive", query(crit("EXACT", name, "support 01")), []string{demodata.GroupID(0)}},
		{"starts with", query(crit("STARTS_WITH", name, "Sales")), []string{demodata.GroupID(1), demodata.GroupID(13),
			demodata.GroupID(25), demodata.GroupID(37)}},
		{"contains", query(crit("CONTAINS", name, "ales 1")), []string{demodata.GroupID(13)}},
		{"term", query(crit("TERM", name, "14")), []string{demodata.GroupID(13)}},
		{"terms", query(map[string]any{"type": "TERMS", "fields": name, "values": []string{"01", "02"}}),
			[]string{demodata.GroupID(0), demodata.GroupID(1)}},
		{"regex", query(crit("REGEX", name, `billing \d+`)), []string{demodata.GroupID(2), demodata.GroupID(14),
			demodata.GroupID(26), demodata.GroupID(38)}},
		{"id field", query(crit("EXACT", []string{"id"}, demodata.GroupID(7))), []string{demodata.GroupID(7)}},
		{"and", query(crit("STARTS_WITH", name, "Sales"), crit("CONTAINS", name, "3")),
			[]string{demodata.GroupID(37)}},
		{"or", query(map[string]any{"type": "EXACT", "fields": name, "value": "Sales 02", "operator": "OR"}, map[string]any{"type": "EXACT", "fields": name,
			"value": "Quality 09", "operator": "OR"}, map[string]any{"type": "EXACT", "fields": name,
			"value": "Billing 03", "operator": "OR"}), []string{demodata.GroupID(1), demodata.GroupID(2), demodata.GroupID(8)}},
		{"and with or", query(crit("STARTS_WITH", name, "Sales"), map[string]any{"type": "EXACT", "fields": name,
			"value": "Sales 02", "operator": "OR"}, map[string]any{"type": "EXACT", "fields": name,
			"value": "Billing 03", "operator": "OR"}), []string{demodata.GroupID(1)}},
		{"not", query(crit("STARTS_WITH", name, "Sales"), map[string]any{"type": "TERM", "fields": name,
			"value": "02", "operator": "NOT"}), []string{demodata.GroupID(13), demodata.GroupID(25), demodata.GroupID(37)}},
		{"nested group", query(crit("STARTS_WITH", name, "Sales"), map[string]any{"type": "MATCH_ALL", "group": []any{
			map[string]any{"type": "EXACT", "fields": name, "value": "Sales 14", "operator": "OR"}, map[string]any{"type": "EXACT", "fields": name, "value": "Sales 26", "operator": "OR"},
		}}), []string{demodata.GroupID(13), demodata.GroupID(25)}},
		{"several fields", query(crit("EXACT", []string{"description", "type"}, "social")),
			[]string{demodata.GroupID(4), demodata.GroupID(9), demodata.GroupID(14), demodata.GroupID(19),
				demodata.GroupID(24), demodata.GroupID(29), demodata.GroupID(34), demodata.GroupID(39)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := e.search(tt.body)
			assert.ElementsMatch(t, tt.want, ids(t, m, "results"))
			assert.EqualValues(t, len(tt.want), m["total"])
		})
	}
}

func TestSearchShapeAndPaging(t *testing.T) {
	e := setup(t)
	body := map[string]any{"query": []any{map[string]any{"type": "MATCH_ALL"}}, "pageSize": 15,
		"sortOrder": "DESC", "sortBy": "name"}
	first := e.search(body)
	for _, k := range []string{"total", "pageCount", "pageSize", "pageNumber", "previousPage", "currentPage", "nextPage",
		"types", "results"} {
		assert.Contains(t, first, k)
	}
	assert.Equal(t, []any{"groups"}, first["types"])
	assert.EqualValues(t, demodata.Demo.Groups, first["total"])
	assert.EqualValues(t, 3, first["pageCount"])
	assert.Equal(t, first["currentPage"], first["previousPage"], "page 1 repeats itself as previous")
	assert.True(t, strings.HasPrefix(first["currentPage"].(string), "/api/v2/groups/search?q64="))
	assert.Contains(t, first["currentPage"], "%3D", "the base64 padding is percent-encoded")
	results := first["results"].([]any)
	assert.Equal(t, "Workforce 34", results[0].(map[string]any)["name"])
	for _, k := range groupKeys {
		assert.Contains(t, results[0], k)
	}

	third := e.get(e.get(first["nextPage"].(string))["nextPage"].(string))
	assert.EqualValues(t, 3, third["pageNumber"])
	assert.Len(t, third["results"], 10)
	past := e.get(third["nextPage"].(string))
	assert.EqualValues(t, 4, past["pageNumber"], "the last page still carries a next page, as the official sample does")
	assert.Equal(t, []any{}, past["results"])
	body["pageNumber"] = 3
	assert.Equal(t, e.search(body), third, "replaying the cursor equals posting the page")

	again := e.get(first["currentPage"].(string) + "&expand=owners")
	assert.Equal(t, first, again)

	none := e.search(query(crit("EXACT", []string{"name"}, "nobody")))
	assert.EqualValues(t, 0, none["total"])
	assert.Equal(t, []any{}, none["results"])
	assert.Contains(t, none, "nextPage")
}

func TestSearchCursorFormat(t *testing.T) {
	e := setup(t)
	m := e.search(map[string]any{"query": []any{crit("CONTAINS", []string{"name"}, "Sales")}})
	u, err := url.Parse(m["currentPage"].(string))
	require.NoError(t, err)
	raw, err := base64.URLEncoding.DecodeString(u.Query().Get("q64"))
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	js, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.JSONEq(t, `{"types":["groups"],"pageSize":25,"pageNumber":1,
		"query":[{"type":"CONTAINS","fields":["name"],"value":"Sales"}]}`, string(js))
}

func TestSearchErrors(t *testing.T) {
	e := setup(t)
	tests := []struct {
		name string
		body any
	}{
		{"page too large", map[string]any{"pageSize": 101}},
		{"page zero", map[string]any{"pageNumber": 0}},
		{"unknown type", query(crit("FUZZY", []string{"name"}, "x"))},
		{"range type", query(crit("RANGE", []string{"name"}, "x"))},
		{"unknown field", query(crit("EXACT", []string{"shoeSize"}, "x"))},
		{"no fields", query(map[string]any{"type": "EXACT", "value": "x"})},
		{"no value", query(crit("EXACT", []string{"name"}, ""))},
		{"bad operator", query(map[string]any{"type": "MATCH_ALL", "operator": "XOR"})},
		{"no type", query(map[string]any{"fields": []string{"name"}, "value": "x"})},
		{"group without type", query(map[string]any{"group": []any{crit("EXACT", []string{"name"}, "x")}})},
		{"nested criterion without type", query(map[string]any{"type": "MATCH_ALL",
			"group": []any{map[string]any{"fields": []string{"name"}, "value": "x"}}})},
		{"bad regex", query(crit("REGEX", []string{"name"}, "("))},
		{"bad sort", map[string]any{"sortBy": "memberCount"}},
		{"bad sort order", map[string]any{"sort": []any{map[string]any{"sortBy": "name", "sortOrder": "UP"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.call(http.MethodPost, "/api/v2/groups/search", tt.body)
			assertError(t, resp, body, http.StatusBadRequest, "invalid.value")
		})
	}
	deep := map[string]any{"type": "MATCH_ALL"}
	for range maxCriteriaDepth + 2 {
		deep = map[string]any{"group": []any{deep}}
	}
	resp, body := e.call(http.MethodPost, "/api/v2/groups/search", query(deep))
	assertError(t, resp, body, http.StatusBadRequest, "invalid.value")

	for _, q := range []string{"", "?q64=!!!", "?q64=" + base64.URLEncoding.EncodeToString([]byte("not gzip"))} {
		resp, body := e.call(http.MethodGet, "/api/v2/groups/search"+q, nil)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
		assertCorrelation(t, resp)
		assert.NotEmpty(t, decode(t, body)["code"])
	}
}

func TestSearchRequiredFieldsAndSort(t *testing.T) {
	e := setup(t)
	all := e.search(map[string]any{"query": []any{map[string]any{"type": "REQUIRED_FIELDS",
		"fields": []string{"name", "description"}}}, "pageSize": 5,
		"sort": []any{map[string]any{"sortBy": "type", "sortOrder": "DESC"}, map[string]any{"sortBy": "id"}}})
	assert.EqualValues(t, demodata.Demo.Groups, all["total"])
	assert.Equal(t, demodata.GroupID(4), ids(t, all, "results")[0], "social before official, then by id")
	score := e.search(map[string]any{"sortOrder": "SCORE", "pageSize": 1})
	assert.Equal(t, "Back Office 11", score["results"].([]any)[0].(map[string]any)["name"], "SCORE falls back to name")
}

func TestSearchFindsCreatedGroup(t *testing.T) {
	e := setup(t)
	resp, body := e.call(http.MethodPost, "/api/v2/groups", map[string]any{"name": "Brand New", "type": "official",
		"rulesVisible": true, "visibility": "public"})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	m := e.search(query(crit("EXACT", []string{"name"}, "Brand New")))
	assert.Equal(t, []string{decode(t, body)["id"].(string)}, ids(t, m, "results"))
}
