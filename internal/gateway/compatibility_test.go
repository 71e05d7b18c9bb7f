package gateway

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/groupdir/gateway/graph"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesysemu"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestSchemaGolden keeps the printed schemas in testdata, so that every
// change to the public contract shows up in review: the schema served by
// default, and the one served with GATEWAY_FEDERATION=true (with the
// federation fields, types and directives).
func TestSchemaGolden(t *testing.T) {
	for golden, schema := range map[string]*ast.Schema{
		"schema.golden.graphql":            graph.PlainSchema(),
		"schema.federation.golden.graphql": graph.NewExecutableSchema(graph.Config{}).Schema(),
	} {
		var buf bytes.Buffer
		formatter.NewFormatter(&buf, formatter.WithComments()).FormatSchema(schema)
		golden = filepath.Join(repoRoot, "testdata", golden)
		if *update {
			require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err, "run go test ./internal/gateway -run TestSchemaGolden -update")
		assert.Equal(t, string(want), buf.String(), "the schema changed: review it, then go test ./internal/gateway -run TestSchemaGolden -update")
	}
}

// The direct executor (graph.Direct) must answer exactly as gqlgen's
// generated executor: the same data bytes, the same errors (by path,
// message and code) and the same upstream calls. These tests send the same
// operations to two gateways on identical emulators, one of each.

const (
	allMemberFields = `id name division { id name } chat { jabberId } department email
		primaryContactInfo { address display mediaType type extension countryCode }
		addresses { address display mediaType type extension countryCode } state title username
		manager { id name email } images { resolution imageUri } version acdAutoAnswer preferredName selfUri
		routingStatus { status startTime } presence { systemPresence modifiedDate } dateLastLogin
		outOfOffice { active startDate endDate } certifications
		employerInfo { officialName employeeId employeeType dateHire }
		biography { biography interests hobbies spouse }`
	allGroupFields = `id name description dateModified memberCount state version type
		images { resolution imageUri } addresses { address extension display type mediaType }
		rulesVisible visibility rolesEnabled includeOwners callsEnabled owners { id name } selfUri source`
)

// differentialCase is one operation sent to both executors.
type differentialCase struct {
	name   string
	query  string
	vars   map[string]any
	faults map[string]emukit.Fault // injected into both Genesys emulators
	direct bool                    // the direct executor must run it (not fall back)
}

// Documents whose collected fields depend on a variable ($x).
const (
	includeBy = `query($id: ID!, $x: Boolean!) { group(id: $id) { id name @include(if: $x) description @skip(if: $x)
		members(pageSize: 2) { total @include(if: $x) entities { id } } } }`
	includeInFragment = `query($id: ID!, $x: Boolean!) { g: group(id: $id) { ...parts } h: group(id: $id) { ... on Group { id } ...parts } }
		fragment parts on Group { id ... @include(if: $x) { name } ...more @skip(if: $x) }
		fragment more on Group { memberCount }`
)

func differentialCases() []differentialCase {
	g0, g1, g9 := demodata.GroupID(0), demodata.GroupID(1), demodata.GroupID(9)
	unknown := "6a0f0000-0000-4000-8000-ffffffffffff"
	return []differentialCase{
		{name: "every group and member field", direct: true,
			query: `query($id: ID!) { group(id: $id) { ` + allGroupFields + ` members(pageSize: 5) { total pageNumber pageSize pageCount entities { ` + allMemberFields + ` } } } }`,
			vars:  map[string]any{"id": g0}},
		{name: "aliases, typename, unknown and duplicate ids", direct: true,
			query: `query($a: ID!, $b: ID!, $u: ID!) { a: group(id: $a) { __typename id name } b: group(id: $b) { id n: name }
				u: group(id: $u) { id } again: group(id: $a) { id memberCount } }`,
			vars: map[string]any{"a": g0, "b": g1, "u": unknown}},
		{name: "fragments and skip/include", direct: true,
			query: `fragment M on Member { id email } fragment G on Group { id ... on Team { name } }
				query($id: ID!, $yes: Boolean!, $no: Boolean!) { group(id: $id) { ...G state @include(if: $yes) version @skip(if: $yes)
				members(pageSize: 3, sortOrder: DESC) { entities { ...M ... on Member { title @include(if: $no) name } } } } }`,
			vars: map[string]any{"id": g1, "yes": true, "no": false}},
		{name: "groups page with member pages (W3 shape)", direct: true,
			query: `{ groups(pageSize: 7, pageNumber: 2) { total pageCount entities { id name members(pageSize: 4) { entities { id name email } } } } }`},
		{name: "members only (one call)", direct: true,
			query: `query($id: ID!) { group(id: $id) { id members(pageSize: 100, pageNumber: 1) { entities { id name chat { jabberId } division { id name } } } } }`,
			vars:  map[string]any{"id": g9}},
		{name: "user groups with their groups and back", direct: true,
			query: `{ userGroups(pageSize: 12) { pageNumber pageSize hasNextPage entities { id name externalId userIds memberCount source
				group { id name userGroups { id name } individuals { total entities { id } } } } } }`},
		{name: "user group by id, jabber id, search", direct: true,
			query: `query($ug: ID!, $j: String!) { userGroup(id: $ug) { id name group { id } } groupByJabberId(jabberId: $j) { id name }
				searchGroups(input: {query: [{type: CONTAINS, fields: ["name"], value: "o"}], pageSize: 3}) { total pageCount pageNumber pageSize currentPage nextPage previousPage results { id name } } }`,
			vars: map[string]any{"ug": demodata.UserGroupID(3), "j": demodata.GroupJabberID(2)}},
		{name: "invalid arguments: errors with paths, siblings kept", direct: true,
			query: `query($id: ID!) { bad: group(id: "nope") { id } ok: group(id: $id) { id members(pageSize: 1000) { total } } }`,
			vars:  map[string]any{"id": g0}},
		{name: "ids given as a number and as a string literal", direct: true,
			query: `{ num: group(id: 12345) { id } lit: group(id: "` + g1 + `") { id name } }`},
		{name: "invalid nested argument on every element: non-null propagation", direct: true,
			query: `{ groups(pageSize: 3) { entities { id members(pageNumber: 0) { total } } } }`},
		{name: "upstream failure on every member page", direct: true,
			query:  `{ groups(pageSize: 3) { total entities { id members { entities { id } } } } }`,
			faults: map[string]emukit.Fault{genesysemu.RouteGetMembers: {Status: http.StatusServiceUnavailable}}},
		{name: "upstream failure on a root field keeps the others", direct: true,
			query:  `query($id: ID!) { group(id: $id) { id } userGroups(pageSize: 2) { entities { id } } }`,
			vars:   map[string]any{"id": g0},
			faults: map[string]emukit.Fault{genesysemu.RouteGetGroups: {Status: http.StatusNotFound}}},
		{name: "cursor connections", direct: true,
			query: `query($id: ID!) { groupsConnection(first: 3) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
				edges { cursor node { id name membersConnection(last: 2, before: "b2Zmc2V0OjU") { totalCount edges { cursor node { id presence { modifiedDate } } } } } } }
				userGroupsConnection(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { id group { id } } } }
				searchGroupsConnection(query: [{type: CONTAINS, fields: ["name"], value: "o"}], first: 2) { totalCount edges { node { id } } }
				group(id: $id) { membersConnection(first: 0) { totalCount } } }`,
			vars: map[string]any{"id": g0}},
		// The same document twice with other variables: the second run must
		// not reuse the fields collected for the first (graph.directSchema's
		// shared collections keep only selections without directives).
		{name: "@include and @skip by variable, true", direct: true, query: includeBy, vars: map[string]any{"id": g0, "x": true}},
		{name: "@include and @skip by variable, false", direct: true, query: includeBy, vars: map[string]any{"id": g0, "x": false}},
		{name: "@include and @skip in a fragment, false", direct: true, query: includeInFragment, vars: map[string]any{"id": g0, "x": false}},
		{name: "@include and @skip in a fragment, true", direct: true, query: includeInFragment, vars: map[string]any{"id": g0, "x": true}},
		{name: "a field with a directive falls back", direct: false,
			query: `query($id: ID!) { group(id: $id) { id dynamicDefinition { __typename } } }`,
			vars:  map[string]any{"id": g0}},
		{name: "interfaces fall back", direct: false,
			query: `{ teams(nameContains: "1") { __typename id name source } }`},
		{name: "introspection falls back", direct: false,
			query: `{ __type(name: "Group") { name } group(id: "6a0f0000-0000-4000-8000-000000000000") { id } }`},
	}
}

func TestDirectExecutorAnswersAsGqlgen(t *testing.T) {
	direct := setupSized(t, nil, demodata.Demo)
	generated := setupSized(t, nil, demodata.Demo, withGeneratedExecutor())
	search := direct.post(`{ searchGroups(input: {query: [{type: CONTAINS, fields: ["name"], value: "a"}], pageSize: 2}) { nextPage } }`, nil)
	cursor, ok := dig(search.Data, "searchGroups", "nextPage").(string)
	require.True(t, ok, "a second search page: %v", search.Data)
	cases := append(differentialCases(), differentialCase{name: "search cursor", direct: true,
		query: `query($c: String!) { searchGroupsByCursor(q64: $c) { pageNumber results { id name } } }`,
		vars:  map[string]any{"c": cursor}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := generated.differentialRun(tc)
			got := direct.differentialRun(tc)
			assert.JSONEq(t, string(want.Data), string(got.Data), "data")
			assert.Equal(t, string(want.Data), string(got.Data), "data bytes (field order, escaping)")
			assert.Equal(t, want.errors(t), got.errors(t), "errors")
			assert.Equal(t, string(want.Extensions["cost"]), string(got.Extensions["cost"]), "upstream calls")
			assert.Equal(t, tc.direct, got.direct, "ran on the direct executor")
		})
	}
}

// rawResponse keeps data and extensions as sent.
type rawResponse struct {
	Data       json.RawMessage            `json:"data"`
	Errors     []map[string]any           `json:"errors"`
	Extensions map[string]json.RawMessage `json:"extensions"`
	direct     bool
}

// correlationID is how an upstream error message quotes its correlation id.
var correlationID = regexp.MustCompile(`correlation id [0-9a-f-]+`)

// errors are the response's errors without what differs from call to call
// (request and correlation ids), sorted: concurrent fields report in any order.
func (r rawResponse) errors(t *testing.T) []string {
	out := make([]string, 0, len(r.Errors))
	for _, e := range r.Errors {
		if ext, ok := e["extensions"].(map[string]any); ok {
			delete(ext, "correlationId")
			delete(ext, "requestId")
		}
		if m, ok := e["message"].(string); ok {
			e["message"] = correlationID.ReplaceAllString(m, "correlation id …")
		}
		b, err := json.Marshal(e)
		require.NoError(t, err)
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

// differentialRun sends the case's operation with its faults injected, and
// tells (from /metrics) whether the direct executor ran it.
func (e *testEnv) differentialRun(tc differentialCase) rawResponse {
	kit := e.genesysKit()
	for route, f := range tc.faults {
		kit.Inject(route, f)
	}
	defer kit.ClearFaults()
	before := e.directExecutions()
	body, err := json.Marshal(map[string]any{"query": tc.query, "variables": tc.vars})
	require.NoError(e.t, err)
	resp, err := http.Post(e.srv.URL+"/query", "application/json", bytes.NewReader(body))
	require.NoError(e.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	var r rawResponse
	require.NoError(e.t, json.Unmarshal(raw, &r), string(raw))
	r.direct = e.directExecutions() != before
	return r
}

// directExecutions reads gateway_graphql_executions_total{executor="direct"}.
func (e *testEnv) directExecutions() string {
	resp, err := http.Get(e.srv.URL + "/metrics")
	require.NoError(e.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, `gateway_graphql_executions_total{executor="direct"} `); ok {
			return v
		}
	}
	e.t.Fatal("no gateway_graphql_executions_total in /metrics")
	return ""
}

// TestDirectExecutorRandomSelections sends generated selections (random
// fields of every object type below the read root fields, aliases,
// fragments, @include/@skip, __typename; seeded, so a failure repeats)
// through both executors, every other one over drifted upstream answers.
func TestDirectExecutorRandomSelections(t *testing.T) {
	direct := setupSized(t, nil, demodata.Demo)
	generated := setupSized(t, nil, demodata.Demo, withGeneratedExecutor())
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	roots := []string{
		`group(id: "` + demodata.GroupID(3) + `")`, `groups(pageSize: 3, pageNumber: 2)`, `userGroups(pageSize: 4)`,
		`searchGroups(input: {query: [{type: CONTAINS, fields: ["name"], value: "e"}], pageSize: 3})`,
	}
	rng := rand.New(rand.NewPCG(20261123, 5))
	for i := range 40 {
		g := selectionGen{schema: schema, rng: rng}
		var q strings.Builder
		q.WriteString("query($yes: Boolean!) {")
		for _, root := range roots {
			if rng.IntN(2) == 0 {
				continue
			}
			name := root[:strings.IndexByte(root, '(')]
			fmt.Fprintf(&q, " r%d: %s %s", rng.IntN(1000), root, g.selection(schema.Query.Fields.ForName(name).Type.Name(), 0))
		}
		q.WriteString(" t: __typename @skip(if: $yes) __typename }")
		tc := differentialCase{name: fmt.Sprint(i), query: q.String(), vars: map[string]any{"yes": rng.IntN(2) == 0}, direct: true}
		if i%2 == 1 {
			// Every other selection reads drifted upstream answers.
			tc.faults = driftFaults(demodata.GroupID(3))
		}
		want, got := generated.differentialRun(tc), direct.differentialRun(tc)
		require.Equal(t, string(want.Data), string(got.Data), tc.query)
		require.Equal(t, want.errors(t), got.errors(t), tc.query)
		require.True(t, got.direct, "%s\n%v", tc.query, got.Errors)
	}
}

// selectionGen writes random selection sets of the read types.
type selectionGen struct {
	schema  *ast.Schema
	rng     *rand.Rand
	aliases int // aliases are unique: two alike would conflict
}

func (g *selectionGen) selection(typ string, depth int) string {
	def := g.schema.Types[typ]
	var b strings.Builder
	b.WriteString("{ __typename")
	for _, f := range def.Fields {
		if g.rng.IntN(3) != 0 || strings.HasPrefix(f.Name, "__") || len(f.Directives) > 0 && f.Directives[0].Name == "hasPermission" {
			continue
		}
		child := g.schema.Types[f.Type.Name()]
		if child.Kind == ast.Interface || child.Kind == ast.Object && depth >= 2 || f.Name == "individuals" && depth > 0 {
			continue
		}
		field := f.Name
		if f.Name == "members" {
			field += "(pageSize: 2)"
		}
		switch g.rng.IntN(5) {
		case 0:
			g.aliases++
			field = fmt.Sprintf("a%d: %s", g.aliases, field)
		case 1:
			field += " @include(if: $yes)"
		case 2:
			field += " @skip(if: $yes)"
		}
		if child.Kind == ast.Object {
			field += " " + g.selection(child.Name, depth+1)
		}
		if g.rng.IntN(4) == 0 {
			field = fmt.Sprintf("... on %s { %s __typename }", typ, field)
		}
		b.WriteString(" " + field)
	}
	b.WriteString(" }")
	return b.String()
}

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

// expandedMembers is a member page as sent with every expand: a user with
// every expanded part (those the schema does not show too), one whose
// parts are null or empty, a plain one.
const expandedMembers = `{"entities":[` +
	`{"id":"7b1e0000-0000-4000-8000-000000000001","name":"Ann","email":"ann@x","state":"active","version":4,` +
	`"manager":{"id":"7b1e0000-0000-4000-8000-000000000009","name":"Boss","presence":{"presenceDefinition":{"systemPresence":"Busy"}}},` +
	`"certifications":["Level 1","Level 2"],"biography":{"biography":"Bio","interests":["chess"],"hobbies":["go"],"spouse":"S","education":[{"school":"E"}]},` +
	`"employerInfo":{"officialName":"Ann Smith","employeeId":"E00001","employeeType":"Full-time","dateHire":"2020-01-02"},` +
	`"routingStatus":{"status":"IDLE","startTime":"2026-01-01T09:00:00.000Z"},` +
	`"presence":{"source":"PURECLOUD","modifiedDate":"2026-01-01T08:00:00.000Z","presenceDefinition":{"id":"p","systemPresence":"Available"}},` +
	`"integrationPresence":{"source":"x"},"conversationSummary":{"call":{"contactCenter":{"active":1}}},` +
	`"outOfOffice":{"active":true,"startDate":"2026-02-01T00:00:00.000Z","endDate":"2026-02-08T00:00:00.000Z"},` +
	`"geolocation":{"city":"Paris"},"station":{"id":"s"},"authorization":{"roles":[]},"profileSkills":["ps"],` +
	`"locations":[{"id":"l"}],"groups":[{"id":"g","name":"G"}],"team":{"id":"t"},"workPlanBidRanks":{"rank":1},` +
	`"skills":[{"id":"sk","proficiency":4.5}],"languages":[],"languagePreference":"fr-FR","lastTokenIssued":{"dateIssued":"2026-01-01"},` +
	`"dateLastLogin":"2026-01-03T00:00:00.000Z","dateWelcomeSent":"2026-01-04T00:00:00.000Z"},` +
	`{"id":"7b1e0000-0000-4000-8000-000000000002","name":"Bob","routingStatus":null,"presence":null,"outOfOffice":{},` +
	`"certifications":[],"biography":null,"employerInfo":{},"dateLastLogin":null},` +
	`{"id":"7b1e0000-0000-4000-8000-000000000003","name":"Cy","email":"cy@x","state":"inactive","version":1}],` +
	`"pageSize":25,"pageNumber":1,"total":3,"pageCount":1}`

// TestExpandedMembersGolden: a member page carrying every expansion, some
// of them null, comes out as testdata/members-expanded.golden.json (the
// answer of the gateway before the expansions moved behind a pointer).
func TestExpandedMembersGolden(t *testing.T) {
	e := setup(t, nil)
	g0 := demodata.GroupID(0)
	r := e.differentialRun(differentialCase{
		query: `query($id: ID!) { group(id: $id) { members { total entities { ` + allMemberFields +
			` boss: manager { presence { systemPresence } } } } } }`,
		vars:   map[string]any{"id": g0},
		faults: map[string]emukit.Fault{genesysemu.RouteGetMembers: {Status: http.StatusOK, Body: expandedMembers}},
	})
	require.Empty(t, r.errors(t))
	var got bytes.Buffer
	require.NoError(t, json.Indent(&got, r.Data, "", "  "))
	golden := filepath.Join(repoRoot, "testdata", "members-expanded.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, got.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./internal/gateway -run TestExpandedMembersGolden -update")
	assert.Equal(t, string(want), got.String())
}
