package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesysemu"
)

// Upstream type drift (upstream.Tolerant) through the real handler: the
// Genesys emulator answers with drifted JSON (members of the wrong type,
// numbers as strings, unknown enum values, control characters, integers
// beyond GraphQL's Int), and both executors serve the rest of the answer,
// the drifted members null or UNKNOWN, as valid JSON.

// driftedGroup is a group as a drifting upstream might send it.
func driftedGroup(id string) string {
	return `{"id":"` + id + `","name":"Drift \u0007 \u001f\u007f \u2028 end","description":{"text":"d"},"version":"152",` +
		`"memberCount":99999999999,"state":"active\u0007","visibility":"SECRET","type":5,"rulesVisible":"yes",` +
		`"rolesEnabled":true,"owners":"nobody","addresses":[{"address":"+1","type":"FAX"},7],"selfUri":"/g"}`
}

const driftedMembers = `{"entities":[{"id":"7b1e0000-0000-4000-8000-000000000001","name":"Ann","email":5,"state":"suspended",` +
	`"version":"7","division":"Home","chat":{"jabberId":"a@x"},"primaryContactInfo":{"address":"x"},"manager":[1],` +
	`"presence":{"presenceDefinition":{"systemPresence":1}}},"oops",` +
	`{"id":"7b1e0000-0000-4000-8000-000000000002","name":"Bob","state":"ACTIVE","version":3}],` +
	`"pageSize":"25","pageNumber":1,"total":4294967296,"pageCount":1}`

// driftFaults answer the group lookups and pages (with group id among
// them), the member pages and the searches with drifted JSON.
func driftFaults(id string) map[string]emukit.Fault {
	return map[string]emukit.Fault{
		genesysemu.RouteGetGroups: {Status: http.StatusOK,
			Body: `{"entities":[` + driftedGroup(id) + `],"total":1,"pageSize":1,"pageNumber":1,"pageCount":1}`},
		genesysemu.RouteGetMembers: {Status: http.StatusOK, Body: driftedMembers},
		genesysemu.RoutePostSearch: {Status: http.StatusOK,
			Body: `{"total":"2","pageCount":1,"pageSize":25,"pageNumber":1,"types":["groups"],"results":[` + driftedGroup(id) +
				`,{"id":"` + demodata.GroupID(1) + `","name":"Fine","version":"3","state":"inactive","type":"social"}]}`},
	}
}

// driftCases read drifted groups, members and search pages.
func driftCases() []differentialCase {
	g0 := demodata.GroupID(0)
	return []differentialCase{
		{name: "drifted group", direct: true, faults: driftFaults(g0),
			query: `query($id: ID!) { group(id: $id) { ` + allGroupFields + ` } }`, vars: map[string]any{"id": g0}},
		{name: "drifted members", direct: true, faults: driftFaults(g0),
			query: `query($id: ID!) { group(id: $id) { id members { total pageSize pageNumber entities { ` + allMemberFields + ` } } } }`,
			vars:  map[string]any{"id": g0}},
		{name: "drifted search page", direct: true, faults: driftFaults(g0),
			query: `{ searchGroups(input: {query: [{type: CONTAINS, fields: ["name"], value: "a"}]}) { total pageCount results { ` + allGroupFields + ` } } }`},
	}
}

func TestDriftedAnswersServeTheRest(t *testing.T) {
	direct := setupSized(t, nil, demodata.Demo)
	generated := setupSized(t, nil, demodata.Demo, withGeneratedExecutor())
	answers := map[string]json.RawMessage{}
	for _, tc := range driftCases() {
		t.Run(tc.name, func(t *testing.T) {
			want := generated.differentialRun(tc)
			got := direct.differentialRun(tc)
			assert.Equal(t, string(want.Data), string(got.Data), "data bytes")
			assert.Empty(t, got.errors(t), "drift is no error")
			assert.Empty(t, want.errors(t))
			assert.True(t, got.direct)
			assert.True(t, json.Valid(got.Data) && json.Valid(want.Data))
			answers[tc.name] = got.Data
		})
	}

	var group map[string]any
	require.NoError(t, json.Unmarshal(answers["drifted group"], &group))
	assert.Equal(t, map[string]any{"id": demodata.GroupID(0), "name": "Drift \a \x1f\x7f \u2028 end", "description": nil,
		"dateModified": nil, "memberCount": nil, "state": "UNKNOWN", "version": float64(152), "type": nil,
		"images": []any{}, "addresses": []any{map[string]any{"address": "+1", "extension": nil, "display": nil, "type": "UNKNOWN", "mediaType": nil},
			map[string]any{"address": nil, "extension": nil, "display": nil, "type": nil, "mediaType": nil}},
		"rulesVisible": false, "visibility": "UNKNOWN", "rolesEnabled": true, "includeOwners": nil, "callsEnabled": nil,
		"owners": []any{}, "selfUri": "/g", "source": "GENESYS"}, group["group"])
	assert.Contains(t, string(answers["drifted group"]), `"Drift \u0007 \u001F`+"\x7f \u2028 end\"", "control characters escaped as gqlgen does")

	var members map[string]any
	require.NoError(t, json.Unmarshal(answers["drifted members"], &members))
	page := dig(members, "group", "members")
	assert.Equal(t, float64(0), dig(page, "total"), "beyond GraphQL's Int: absent")
	assert.Equal(t, float64(25), dig(page, "pageSize"), "a string holding a number")
	entities, _ := dig(page, "entities").([]any)
	require.Len(t, entities, 3, "an entity of the wrong type is an empty member, the others are kept")
	ann := entities[0]
	assert.Equal(t, "Ann", dig(ann, "name"))
	assert.Nil(t, dig(ann, "email"))
	assert.Equal(t, "UNKNOWN", dig(ann, "state"))
	assert.Equal(t, float64(7), dig(ann, "version"))
	assert.Nil(t, dig(ann, "division"))
	assert.Equal(t, "a@x", dig(ann, "chat", "jabberId"))
	assert.Equal(t, []any{}, dig(ann, "primaryContactInfo"))
	assert.Nil(t, dig(ann, "manager"))
	assert.Equal(t, map[string]any{"systemPresence": nil, "modifiedDate": nil}, dig(ann, "presence"))
	assert.Equal(t, "", dig(entities[1], "id"))
	assert.Equal(t, "ACTIVE", dig(entities[2], "state"))

	var search map[string]any
	require.NoError(t, json.Unmarshal(answers["drifted search page"], &search))
	assert.Equal(t, float64(2), dig(search, "searchGroups", "total"))
	assert.Equal(t, float64(152), dig(search, "searchGroups", "results", 0, "version"))
	assert.Equal(t, "UNKNOWN", dig(search, "searchGroups", "results", 0, "state"))
	assert.Equal(t, float64(3), dig(search, "searchGroups", "results", 1, "version"))
	assert.Equal(t, "SOCIAL", dig(search, "searchGroups", "results", 1, "type"))

	// Counted per member, warned once per member name.
	fams := direct.scrape()
	for field, n := range map[string]float64{"version": 4, "state": 4, "memberCount": 2, "owners": 2, "total": 2,
		"entities": 1, "pageSize": 1} {
		assert.InDelta(t, n, value(fams, "gateway_upstream_decode_drift_total", map[string]string{"upstream": "genesys", "field": field}), 0, field)
	}
	assert.Equal(t, 1, strings.Count(direct.log.String(), `"field":"version"`), "one warning per field")
}

func TestUnknownIsNeverAcceptedAsInput(t *testing.T) {
	e := setup(t, nil)
	g0 := demodata.GroupID(0)
	for name, tc := range map[string]struct {
		query string
		vars  map[string]any
		field string
	}{
		"create type": {query: `mutation { createGroup(input: {name: "n", type: UNKNOWN}) { id } }`, field: "type"},
		"update state (variable)": {query: `mutation($s: EntityState) { updateGroup(id: "` + g0 + `", input: {state: $s}) { id } }`,
			vars: map[string]any{"s": "UNKNOWN"}, field: "state"},
		"address type": {query: `mutation { createGroup(input: {name: "n", addresses: [{address: "+1", type: UNKNOWN}]}) { id } }`,
			field: "addresses.type"},
		"comparator": {query: `{ previewDynamicGroup(query: {skillConditions: [{operation: AND, languageSkillConditions: [],
			routingSkillConditions: [{routingSkill: "s", comparator: UNKNOWN, proficiency: 1}]}]}) { userCount } }`, field: "comparator"},
	} {
		t.Run(name, func(t *testing.T) {
			e.resetCalls()
			r := e.post(tc.query, tc.vars)
			require.Equal(t, []string{"BAD_USER_INPUT"}, r.codes(), string(r.Raw))
			assert.Equal(t, tc.field, r.Errors[0].Extensions["field"])
			assert.Zero(t, e.genesysKit().Count(""), "no upstream call")
		})
	}
}
