package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph/quota"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesysemu"
)

const routeUGPut = "PUT /api/v2/usergroup"

// groupState is what an update must not lose by surprise.
const groupState = `query($id: ID!) { group(id: $id) { name description state visibility rulesVisible rolesEnabled
	includeOwners callsEnabled owners { id } addresses { address extension type } } }`

// readGroup returns the group as groupState selects it.
func readGroup(t *testing.T, e *testEnv, id string) map[string]any {
	t.Helper()
	r := e.post(groupState, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	g, ok := dig(r.Data, "group").(map[string]any)
	require.True(t, ok, "group %s exists", id)
	return g
}

// putBody returns the JSON body of the last PUT of a group.
func putBody(t *testing.T, e *testEnv) map[string]any {
	t.Helper()
	puts := callsOn(e.genesysKit(), routePutGroup)
	require.NotEmpty(t, puts)
	var body map[string]any
	require.NoError(t, json.Unmarshal(puts[len(puts)-1].Body, &body))
	return body
}

// TestUpdateGroupAddresses: [] reaches the wire as [] and clears the
// addresses; an update that leaves them out keeps them.
func TestUpdateGroupAddresses(t *testing.T) {
	e := setup(t, nil)
	id := demodata.GroupID(3)
	before := readGroup(t, e, id)
	require.Len(t, before["addresses"], 1, "demo groups have one phone address")

	r := e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {name: "Renamed"}) { name addresses { address } } }`,
		map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.NotContains(t, putBody(t, e), "addresses", "left out: not sent")
	assert.Equal(t, before["addresses"], readGroup(t, e, id)["addresses"], "left out: kept")

	r = e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {addresses: []}) { addresses { address } } }`,
		map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Equal(t, []any{}, putBody(t, e)["addresses"], "[] is sent as []")
	assert.Equal(t, []any{}, dig(r.Data, "updateGroup", "addresses"))
	after := readGroup(t, e, id)
	assert.Equal(t, []any{}, after["addresses"], "[] clears")
	assert.Equal(t, "Renamed", after["name"])

	r = e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {addresses: [{extension: "4021", type: GROUPRING}]}) {
		addresses { extension type } } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Equal(t, []any{map[string]any{"extension": "4021", "type": "GROUPRING"}}, dig(r.Data, "updateGroup", "addresses"),
		"a list replaces the addresses")
}

// TestUpdateNullIsRefused: null on a field the upstream requires or on a
// list is BAD_USER_INPUT naming the field, with no upstream call (not even
// the read of the current object) and nothing changed.
func TestUpdateNullIsRefused(t *testing.T) {
	e := setup(t, nil)
	gid, ugid := demodata.GroupID(2), demodata.UserGroupID(2)
	group := readGroup(t, e, gid)
	require.NotEmpty(t, group["owners"])
	ugQuery := `query($id: ID!) { userGroup(id: $id) { name externalId userIds } }`
	r := e.post(ugQuery, map[string]any{"id": ugid})
	require.Empty(t, r.Errors)
	userGroup := dig(r.Data, "userGroup")
	require.NotEmpty(t, dig(userGroup, "userIds"))

	const updateGroup = `mutation($id: ID!, $in: UpdateGroupInput!) { updateGroup(id: $id, input: $in) { id } }`
	const updateUserGroup = `mutation($id: ID!, $in: UpdateUserGroupInput!) { updateUserGroup(id: $id, input: $in) { id } }`
	tests := []struct {
		name, query, id, field string
		input                  map[string]any
	}{
		{"ownerIds", updateGroup, gid, "ownerIds", map[string]any{"ownerIds": nil}},
		{"addresses", updateGroup, gid, "addresses", map[string]any{"addresses": nil}},
		{"name", updateGroup, gid, "name", map[string]any{"name": nil}},
		{"visibility", updateGroup, gid, "visibility", map[string]any{"visibility": nil}},
		{"state", updateGroup, gid, "state", map[string]any{"state": nil}},
		{"rulesVisible", updateGroup, gid, "rulesVisible", map[string]any{"rulesVisible": nil}},
		{"rolesEnabled", updateGroup, gid, "rolesEnabled", map[string]any{"rolesEnabled": nil}},
		{"includeOwners", updateGroup, gid, "includeOwners", map[string]any{"includeOwners": nil}},
		{"callsEnabled", updateGroup, gid, "callsEnabled", map[string]any{"callsEnabled": nil}},
		// What a genqlient client with optional: pointer sends for a rename.
		{"rename with every other field null", updateGroup, gid, "state", map[string]any{"name": "Renamed",
			"version": nil, "description": nil, "state": nil, "visibility": nil, "rulesVisible": nil, "rolesEnabled": nil,
			"includeOwners": nil, "callsEnabled": nil, "ownerIds": nil, "addresses": nil}},
		{"userIds", updateUserGroup, ugid, "userIds", map[string]any{"userIds": nil}},
		{"user group name", updateUserGroup, ugid, "name", map[string]any{"name": nil}},
		{"user group rename with every other field null", updateUserGroup, ugid, "userIds",
			map[string]any{"name": "Renamed", "externalId": nil, "userIds": nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.resetCalls()
			r := e.post(tc.query, map[string]any{"id": tc.id, "in": tc.input})
			require.Equal(t, []string{"BAD_USER_INPUT"}, r.codes())
			assert.Equal(t, tc.field, r.Errors[0].Extensions["field"])
			require.Len(t, r.Errors[0].Path, 1)
			assert.Zero(t, e.genesysKit().Count(""), "no Genesys call")
			assert.Zero(t, e.usergroupsKit().Count(""), "no Usergroup call")
		})
	}
	assert.Equal(t, group, readGroup(t, e, gid), "nothing lost")
	r = e.post(ugQuery, map[string]any{"id": ugid})
	require.Empty(t, r.Errors)
	assert.Equal(t, userGroup, dig(r.Data, "userGroup"), "nothing lost")
}

// TestUpdateNullLiteralAndUnsetVariable: null written in the document is
// refused too; a declared variable the request leaves out leaves the field
// out (GraphQL's rule), so the owners are kept.
func TestUpdateNullLiteralAndUnsetVariable(t *testing.T) {
	e := setup(t, nil)
	id := demodata.GroupID(4)
	before := readGroup(t, e, id)
	require.NotEmpty(t, before["owners"])
	e.resetCalls()
	r := e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {ownerIds: null}) { id } }`, map[string]any{"id": id})
	require.Equal(t, []string{"BAD_USER_INPUT"}, r.codes())
	assert.Equal(t, "ownerIds", r.Errors[0].Extensions["field"])
	assert.Zero(t, e.genesysKit().Count(""))

	r = e.post(`mutation($id: ID!, $owners: [ID!]) { updateGroup(id: $id, input: {name: "Renamed", ownerIds: $owners}) { id } }`,
		map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.NotContains(t, putBody(t, e), "ownerIds")
	before["name"] = "Renamed"
	assert.Equal(t, before, readGroup(t, e, id))
}

// TestUpdateGroupKeepsAndClears: an update changes only what it names;
// description null clears the description, ownerIds [] every owner.
func TestUpdateGroupKeepsAndClears(t *testing.T) {
	e := setup(t, nil)
	id := demodata.GroupID(5)
	before := readGroup(t, e, id)
	require.NotEmpty(t, before["description"])
	require.NotEmpty(t, before["owners"])

	r := e.post(`mutation($id: ID!, $in: UpdateGroupInput!) { updateGroup(id: $id, input: $in) { name } }`,
		map[string]any{"id": id, "in": map[string]any{"name": "Renamed"}})
	require.Empty(t, r.Errors)
	assert.Equal(t, map[string]any{"version": putBody(t, e)["version"], "name": "Renamed"}, putBody(t, e),
		"only the named field is sent")
	after := readGroup(t, e, id)
	before["name"] = "Renamed"
	assert.Equal(t, before, after, "a rename loses nothing")

	r = e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {description: null}) { description } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Nil(t, dig(r.Data, "updateGroup", "description"))
	assert.Nil(t, readGroup(t, e, id)["description"], "description: null clears")

	r = e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {ownerIds: []}) { owners { id } } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	assert.Equal(t, []any{" "}, putBody(t, e)["ownerIds"], "owners are cleared the way Terraform does")
	after = readGroup(t, e, id)
	assert.Equal(t, []any{}, after["owners"], "ownerIds: [] clears")
	assert.Equal(t, before["addresses"], after["addresses"])
}

// TestUpdateUserGroupKeepsAndClears: userIds [] removes every user,
// externalId null clears the external id, and neither touches the name.
func TestUpdateUserGroupKeepsAndClears(t *testing.T) {
	e := setup(t, nil)
	id := demodata.UserGroupID(2)
	const q = `mutation($id: ID!, $in: UpdateUserGroupInput!) { updateUserGroup(id: $id, input: $in) { name externalId userIds } }`
	r := e.post(`query($id: ID!) { userGroup(id: $id) { name externalId userIds } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors)
	name := dig(r.Data, "userGroup", "name")
	require.NotEmpty(t, dig(r.Data, "userGroup", "userIds"))
	require.NotNil(t, dig(r.Data, "userGroup", "externalId"))

	r = e.post(q, map[string]any{"id": id, "in": map[string]any{"userIds": []string{}}})
	require.Empty(t, r.Errors)
	assert.Equal(t, []any{}, dig(r.Data, "updateUserGroup", "userIds"))
	assert.NotNil(t, dig(r.Data, "updateUserGroup", "externalId"), "left out: kept")

	r = e.post(q, map[string]any{"id": id, "in": map[string]any{"externalId": nil}})
	require.Empty(t, r.Errors)
	assert.Nil(t, dig(r.Data, "updateUserGroup", "externalId"), "externalId: null clears")
	assert.Equal(t, name, dig(r.Data, "updateUserGroup", "name"))
	assert.Equal(t, 2, e.usergroupsKit().Count(routeUGPut))
}

// TestInputBadAddressCostsNoCall: an address with neither a number nor an
// extension is refused before any call.
func TestInputBadAddressCostsNoCall(t *testing.T) {
	e := setup(t, nil)
	e.resetCalls()
	r := e.post(`mutation($id: ID!) { updateGroup(id: $id, input: {addresses: [{type: GROUPRING}]}) { id }
		createGroup(input: {name: "x", addresses: [{address: null, extension: null, type: GROUPPHONE}]}) { id } }`,
		map[string]any{"id": demodata.GroupID(1)})
	assert.Equal(t, []string{"BAD_USER_INPUT", "BAD_USER_INPUT"}, r.codes())
	assert.Zero(t, e.genesysKit().Count(""))
}

// Codes of requests refused before execution (contract §5).
const (
	codeParseFailed      = "GRAPHQL_PARSE_FAILED"
	codeValidationFailed = "GRAPHQL_VALIDATION_FAILED"
	codeTooComplex       = "QUERY_TOO_COMPLEX"
	codeBadRequest       = "BAD_REQUEST"
	codePayloadTooLarge  = "PAYLOAD_TOO_LARGE"
	codeBadUserInput     = "BAD_USER_INPUT"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// Hostile documents shared with the child-process test.
var (
	// selfSpreadingFragment is trap 1 of design/hardening.md: a fragment
	// spreading itself inside nested selections (through UserGroup.group).
	selfSpreadingFragment = `{ group(id: "` + demodata.GroupID(1) + `") { ...F } } fragment F on Group { userGroups { group { ...F } } }`
	// fragmentCycleAB is an A→B→A cycle.
	fragmentCycleAB = `{ group(id: "` + demodata.GroupID(1) + `") { ...A } } fragment A on Group { userGroups { ...B } } fragment B on UserGroup { group { ...A } }`
)

// assertNoUpstreamCall checks that neither emulator was called.
func (e *testEnv) assertNoUpstreamCall(t *testing.T) {
	t.Helper()
	assert.Zero(t, e.genesysKit().Count(""), "genesys calls: %v", e.genesysKit().CountsByRoute())
	assert.Zero(t, e.usergroupsKit().Count(""), "usergroups calls: %v", e.usergroupsKit().CountsByRoute())
}

// timedPost is post, logging how long the answer took (reported, never
// asserted).
func (e *testEnv) timedPost(t *testing.T, query string, vars map[string]any, headers ...string) gqlResponse {
	t.Helper()
	start := time.Now()
	r := e.post(query, vars, headers...)
	t.Logf("answered %d in %v", r.Status, time.Since(start))
	return r
}

// fragmentFanOut is trap 4: levels chained fragments, each spreading the
// next twice (2^levels expanded selections).
func fragmentFanOut(levels int) string {
	var b strings.Builder
	b.WriteString(`{ group(id: "` + demodata.GroupID(1) + `") { ...F0 } } `)
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Group { ...F%d ...F%d } ", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Group { id }", levels)
	return b.String()
}

// aliasedLookups is n aliased group(id:) fields over n variables, and the
// variables: n distinct ids, of which the first demodata.Demo.Groups name
// demo groups.
func aliasedLookups(n int) (string, map[string]any) {
	var defs, fields strings.Builder
	vars := map[string]any{}
	for i := range n {
		fmt.Fprintf(&defs, "$id%d: ID! ", i)
		fmt.Fprintf(&fields, "g%d: group(id: $id%d) { id name memberCount } ", i, i)
		vars[fmt.Sprintf("id%d", i)] = demodata.GroupID(i)
	}
	return "query Lookups(" + defs.String() + ") { " + fields.String() + "}", vars
}

// aliasedDeletes is a mutation of n aliased deleteGroup fields.
func aliasedDeletes(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `d%d: deleteGroup(id: "%s") { deleted } `, i, demodata.GroupID(i))
	}
	return "mutation { " + b.String() + "}"
}

func manyIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = demodata.GroupID(i)
	}
	return ids
}

func TestHostileDocumentsAreRefusedWithoutUpstreamCalls(t *testing.T) {
	tests := []struct {
		name  string
		query string
		code  string
		limit string
	}{
		{"self-spreading fragment", selfSpreadingFragment, codeValidationFailed, ""},
		{"A→B→A fragment cycle", fragmentCycleAB, codeValidationFailed, ""},
		{"nesting bomb (60,000 levels)", strings.Repeat("{a", 60_000) + strings.Repeat("}", 60_000), codeParseFailed, ""},
		{"nesting bomb within the token limit", strings.Repeat("{ groups { entities { members { entities { manager ", 100) +
			"{ id }" + strings.Repeat(" } } } } }", 100), codeTooComplex, "depth"},
		{"directive flood", `{ group(id: "` + demodata.GroupID(1) + `") { id ` + strings.Repeat("@skip(if: false) ", 600) + "} }", codeTooComplex, "directives"},
		{"5,000 duplicate fields", `{ group(id: "` + demodata.GroupID(1) + `") { ` + strings.Repeat("id ", 5000) + "} }", codeParseFailed, ""},
		{"1,000 duplicate fields", `{ group(id: "` + demodata.GroupID(1) + `") { ` + strings.Repeat("id ", 1000) + "} }", codeTooComplex, "duplicateFields"},
		{"fragment fan-out bomb (24 levels)", fragmentFanOut(24), codeTooComplex, "duplicateFields"},
		{"members ×20 { entities ×15 } (red team case 57)", `{ group(id: "` + demodata.GroupID(1) + `") { ` +
			strings.Repeat("members(pageSize: 1) { "+strings.Repeat("entities { id name email title username } ", 15)+"} ", 20) + "} }",
			codeTooComplex, "mergeComparisons"},
		{"manager ×20 { manager ×20 } (red team case 57)", `{ group(id: "` + demodata.GroupID(1) + `") { members(pageSize: 1) { entities { ` +
			strings.Repeat("manager { "+strings.Repeat("manager { manager { id } } ", 20)+"} ", 20) + "} } } }",
			codeTooComplex, "mergeComparisons"},
		{"complexity", `{ groups(pageSize: 100) { entities { members(pageSize: 100) { entities { id name } } } } }`, codeTooComplex, "complexity"},
		{"4 aliased mutation fields", aliasedDeletes(4), codeTooComplex, "mutationAliases"},
		{"10,000 inline ids", `{ groups(ids: [` + strings.Repeat(`"x" `, 10_000) + `]) { total } }`, codeParseFailed, ""},
	}
	e := setup(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.timedPost(t, tt.query, nil, "Accept", mediaGraphQLResponse)
			assert.Equal(t, 400, r.Status)
			assert.Equal(t, []string{tt.code}, r.codes())
			if tt.limit != "" {
				assert.Equal(t, tt.limit, r.Errors[0].Extensions["limit"])
			}
			assert.Nil(t, r.Data)
			e.assertNoUpstreamCall(t)
		})
	}
}

func TestAliasedLookupsAreCappedAt100(t *testing.T) {
	e := setup(t, nil)
	query, vars := aliasedLookups(100)
	r := e.timedPost(t, query, vars)
	require.Empty(t, r.Errors)
	last := demodata.Demo.Groups - 1
	assert.Equal(t, demodata.GroupName(last), dig(r.Data, fmt.Sprintf("g%d", last), "name"))
	assert.Contains(t, r.Data, "g99")
	assert.Nil(t, r.Data["g99"], "no such group")
	calls := callsOn(e.genesysKit(), routeGroups)
	require.Len(t, calls, 1, "100 lookups, one upstream call")
	assert.Equal(t, 100, calls[0].IDs)
	assert.EqualValues(t, 1, dig(r.Extensions, "cost", "upstreamCalls", "genesys"))

	e.resetCalls()
	query, vars = aliasedLookups(101)
	r = e.timedPost(t, query, vars)
	assert.Equal(t, []string{codeTooComplex}, r.codes())
	assert.Equal(t, "aliases", r.Errors[0].Extensions["limit"])
	assert.EqualValues(t, 100, r.Errors[0].Extensions["max"])
	e.assertNoUpstreamCall(t)
}

func TestTenThousandIDs(t *testing.T) {
	query := `query($ids: [ID!]) { groups(ids: $ids) { total entities { id } } }`
	vars := map[string]any{"ids": manyIDs(10_000)}
	t.Run("within a raised body cap: BAD_USER_INPUT", func(t *testing.T) {
		e := setup(t, map[string]string{"GRAPHQL_MAX_BODY_BYTES": "1048576"})
		r := e.timedPost(t, query, vars)
		assert.Equal(t, []string{codeBadUserInput}, r.codes())
		assert.Equal(t, []any{"groups"}, r.Errors[0].Path)
		e.assertNoUpstreamCall(t)
	})
	t.Run("over the default body cap: 413", func(t *testing.T) {
		e := setup(t, nil)
		r := e.timedPost(t, query, vars)
		assert.Equal(t, 413, r.Status)
		assert.Equal(t, []string{codePayloadTooLarge}, r.codes())
		e.assertNoUpstreamCall(t)
	})
}

func TestHostileIDs(t *testing.T) {
	ids := map[string]string{
		"traversal":       "../users/me",
		"dot dot":         "..",
		"slash":           "a/b",
		"query string":    "x?y=1",
		"encoded dot dot": "%2e%2e",
		"CR/LF":           "a\r\nb",
		"10,000 chars":    strings.Repeat("a", 10_000),
	}
	e := setup(t, nil)
	for name, id := range ids {
		t.Run(name, func(t *testing.T) {
			r := e.timedPost(t, `query($id: ID!) { group(id: $id) { id } userGroup(id: $id) { id } groupProfile(groupId: $id) { id } }`,
				map[string]any{"id": id})
			assert.Equal(t, []string{codeBadUserInput, codeBadUserInput, codeBadUserInput}, r.codes())
			e.assertNoUpstreamCall(t)
		})
	}
}

// createGroupBody is a JSON request that would create a group if it ran.
const createGroupBody = `{"query":"mutation { createGroup(input: {name: \"csrf\"}) { id } }"}`

// raw sends a request with the given body and headers (name, value pairs)
// and logs how long the answer took.
func (e *testEnv) raw(t *testing.T, method, target string, body io.Reader, headers ...string) gqlResponse {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+target, body)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	r := e.do(req)
	t.Logf("answered %d in %v", r.Status, time.Since(start))
	return r
}

func TestHTTPRulesRefuseWithoutUpstreamCalls(t *testing.T) {
	getMutation := "/query?query=" + url.QueryEscape(`mutation { deleteGroup(id: "`+demodata.GroupID(1)+`") { deleted } }`)
	tests := []struct {
		name        string
		method      string
		target      string
		contentType string
		body        string
		status      int
	}{
		{"JSON array batch", http.MethodPost, "/query", "application/json", "[" + createGroupBody + "]", 400},
		{"text/plain (CSRF)", http.MethodPost, "/query", "text/plain", createGroupBody, 415},
		{"form (CSRF)", http.MethodPost, "/query", "application/x-www-form-urlencoded",
			"query=" + url.QueryEscape(`mutation { createGroup(input: {name: "csrf"}) { id } }`), 415},
		{"multipart (CSRF)", http.MethodPost, "/query", "multipart/form-data; boundary=b",
			"--b\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" + createGroupBody + "\r\n--b--\r\n", 415},
		{"GET carrying a mutation", http.MethodGet, getMutation, "", "", 405},
		{"trailing data", http.MethodPost, "/query", "application/json", createGroupBody + "{}", 400},
		{"PUT", http.MethodPut, "/query", "application/json", createGroupBody, 405},
		// Case 22: a proxy reading the first query member sees { __typename }.
		{"duplicate query member", http.MethodPost, "/query", "application/json",
			`{"query":"{ __typename }","query":"{ groups(pageSize: 1) { total } }"}`, 400},
		{"case-variant query member", http.MethodPost, "/query", "application/json",
			`{"query":"{ __typename }","QUERY":"{ groups(pageSize: 1) { total } }"}`, 400},
		{"duplicate variable", http.MethodPost, "/query", "application/json",
			`{"query":"query($p: Int) { groups(pageSize: $p) { total } }","variables":{"p":1,"p":2}}`, 400},
		{"repeated GET query parameter", http.MethodGet,
			"/query?query=" + url.QueryEscape("{ __typename }") + "&query=" + url.QueryEscape("{ groups(pageSize: 1) { total } }"), "", "", 400},
	}
	e := setup(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.contentType != "" {
				headers = []string{"Content-Type", tt.contentType}
			}
			r := e.raw(t, tt.method, tt.target, strings.NewReader(tt.body), headers...)
			assert.Equal(t, tt.status, r.Status)
			assert.Equal(t, []string{codeBadRequest}, r.codes())
			assert.Nil(t, r.Data)
			e.assertNoUpstreamCall(t)
		})
	}
}

// countingBody counts the bytes a handler read from request bodies.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestBodyOverTheCapIsRefusedUnread(t *testing.T) {
	const bodySize = 8 << 20
	e := setup(t, nil)
	var read atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = countingBody{ReadCloser: r.Body, n: &read}
		e.gw.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	for _, withLength := range []bool{true, false} {
		t.Run(map[bool]string{true: "with Content-Length", false: "chunked"}[withLength], func(t *testing.T) {
			read.Store(0)
			body := strings.NewReader(`{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", bodySize) + `"}}`)
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/query", io.NopCloser(body))
			require.NoError(t, err)
			if withLength {
				req.ContentLength = body.Size()
			}
			req.Header.Set("Content-Type", "application/json")
			start := time.Now()
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			t.Logf("answered %d in %v; the gateway read %d of %d bytes", resp.StatusCode, time.Since(start), read.Load(), bodySize)
			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
			assert.Contains(t, string(raw), codePayloadTooLarge)
			assert.LessOrEqual(t, read.Load(), int64(256<<10+1), "never read past the cap")
			e.assertNoUpstreamCall(t)
		})
	}
}

func TestMalformedBodyWithASecret(t *testing.T) {
	const secret = "canary-secret-Q9x7"
	e := setup(t, nil)
	body := `{"query":"{ __typename }","variables":{"clientSecret":"` + secret + `"` +
		strings.Repeat(`, "k": "`+secret+`"`, 4000) + ` oops`
	require.Greater(t, len(body), 100_000)
	r := e.raw(t, http.MethodPost, "/query", strings.NewReader(body), "Content-Type", "application/json")
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, []string{codeBadRequest}, r.codes())
	assert.Less(t, len(r.Raw), 200, "a small fixed answer")
	assert.NotContains(t, string(r.Raw), secret)
	assert.NotContains(t, e.log.String(), secret)
	e.assertNoUpstreamCall(t)
}

func TestRefusedBeforeExecutionStatusFollowsAccept(t *testing.T) {
	e := setup(t, nil)
	for accept, status := range map[string]int{mediaGraphQLResponse: 400, "application/json": 200} {
		t.Run(accept, func(t *testing.T) {
			r := e.timedPost(t, `{ nope }`, nil, "Accept", accept)
			assert.Equal(t, status, r.Status)
			assert.Equal(t, []string{codeValidationFailed}, r.codes())
			assert.NotContains(t, string(r.Raw), `"data"`)
			e.assertNoUpstreamCall(t)
		})
	}
}

func TestProductionDefaults(t *testing.T) {
	prod := setup(t, map[string]string{"GATEWAY_ENV": "production", "AUTH_MODE": "none"})
	dev := setup(t, nil)
	t.Run("introspection refused", func(t *testing.T) {
		r := prod.timedPost(t, `{ __schema { queryType { name } } }`, nil)
		assert.Equal(t, []string{codeValidationFailed}, r.codes())
		r = dev.timedPost(t, `{ __schema { queryType { name } } }`, nil)
		require.Empty(t, r.Errors)
		assert.Equal(t, "Query", dig(r.Data, "__schema", "queryType", "name"))
	})
	t.Run("no field suggestions", func(t *testing.T) {
		query := `query($id: ID!) { group(id: $id) { nmae } }`
		vars := map[string]any{"id": demodata.GroupID(1)}
		r := prod.timedPost(t, query, vars)
		assert.Equal(t, []string{codeValidationFailed}, r.codes())
		assert.NotContains(t, r.Errors[0].Message, "Did you mean")
		r = dev.timedPost(t, query, vars)
		assert.Contains(t, r.Errors[0].Message, "Did you mean")
	})
	t.Run("no IDE", func(t *testing.T) {
		resp, err := prod.srv.Client().Get(prod.srv.URL + "/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
	t.Run("each turned back on", func(t *testing.T) {
		e := setup(t, map[string]string{"GATEWAY_ENV": "production", "AUTH_MODE": "none", "GATEWAY_INTROSPECTION": "true"})
		r := e.timedPost(t, `{ __type(name: "Group") { name } }`, nil)
		require.Empty(t, r.Errors)
		assert.Equal(t, "Group", dig(r.Data, "__type", "name"))
	})
	prod.assertNoUpstreamCall(t)
}

func TestCORSEndToEnd(t *testing.T) {
	const origin = "https://app.example.com"
	e := setup(t, map[string]string{"CORS_ALLOWED_ORIGINS": origin + ", https://admin.example.com"})
	req, err := http.NewRequest(http.MethodOptions, e.srv.URL+"/query", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Idempotency-Key")
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))

	for o, want := range map[string]string{origin: origin, "https://evil.example.com": ""} {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/query", strings.NewReader(`{"query":"{ __typename }"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", o)
		resp, err := e.srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.Header.Get("Access-Control-Allow-Origin"), o)
		assert.Contains(t, resp.Header.Values("Vary"), "Origin")
	}
	e.assertNoUpstreamCall(t)
}

const codeRateLimited = "RATE_LIMITED"

// holdOneRequest sends a group page query whose Genesys call hangs (until
// release is called) and returns once the emulator received that call, so
// the request is in flight with its body budget held.
func (e *testEnv) holdOneRequest(t *testing.T) (release func()) {
	t.Helper()
	e.genesysKit().Inject(routeGroups, emukit.Fault{Latency: time.Minute, Times: 1})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/query",
			strings.NewReader(`{"query":"{ groups(pageSize: 1) { total } }"}`))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			_, _ = roundTrip(req)
		}
	})
	release = func() {
		cancel()
		wg.Wait()
	}
	for i := 0; e.genesysKit().Count(routeGroups) == 0; i++ {
		if i == 500 {
			release()
			t.Fatal("the held request never reached the emulator")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return release
}

// plain GETs path and returns its status.
func (e *testEnv) plainStatus(t *testing.T, path string) int {
	t.Helper()
	resp, err := http.Get(e.srv.URL + path)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestSaturatedGatewayShedsLoadAndStaysHealthy(t *testing.T) {
	e := setup(t, map[string]string{"GATEWAY_MAX_IN_FLIGHT": "1", "GATEWAY_QUEUE_WAIT": "20ms"})
	release := e.holdOneRequest(t)
	defer release()

	r := e.post(`{ groups(pageSize: 1) { total } }`, nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status, string(r.Raw))
	assert.Equal(t, []string{codeRateLimited}, r.codes())
	assert.Equal(t, "1", r.Header.Get("Retry-After"))
	assert.EqualValues(t, 1, r.Errors[0].Extensions["retryAfter"])
	assert.Nil(t, r.Data)
	assert.Equal(t, 1, e.genesysKit().Count(routeGroups), "the refused request made no upstream call")
	assert.Equal(t, http.StatusOK, e.plainStatus(t, "/healthz"), "/healthz is never behind the limit")
	assert.Equal(t, http.StatusOK, e.plainStatus(t, "/metrics"), "/metrics is never behind the limit")

	release()
	r = e.post(`{ groups(pageSize: 1) { total } }`, nil)
	assert.Empty(t, r.Errors, "a slot is free again")
}

func TestBodyBudgetRefusesBeyondItsWeight(t *testing.T) {
	e := setup(t, map[string]string{"GRAPHQL_MAX_BODY_BYTES": "2048", "GATEWAY_MAX_BODY_BYTES_IN_FLIGHT": "2048", "GATEWAY_QUEUE_WAIT": "20ms"})
	release := e.holdOneRequest(t) // holds its 45 bytes of the 2,048
	defer release()

	// A body of unknown length weighs the whole cap: it does not fit.
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/query",
		io.MultiReader(strings.NewReader(`{"query":"{ __typename }"}`))) // no length: sent chunked
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	r := e.do(req)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status, string(r.Raw))
	assert.Equal(t, []string{codeRateLimited}, r.codes())
	assert.Equal(t, "1", r.Header.Get("Retry-After"))

	// A declared body within what is left is served.
	r = e.post(`{ __typename }`, nil)
	assert.Empty(t, r.Errors, string(r.Raw))
	assert.Equal(t, 1, e.genesysKit().Count(routeGroups), "only the held request called upstream")
}

func TestCallerRequestRateIsChargedBeforeTheDocumentIsRead(t *testing.T) {
	// 10 a minute: a burst of 1, then one every 6 s.
	e := setup(t, map[string]string{"GATEWAY_CALLER_REQUESTS_PER_MINUTE": "10"})
	r := e.post(`{ __typename }`, nil)
	require.Empty(t, r.Errors, string(r.Raw))

	// Even a document that does not parse is refused by the rate first.
	r = e.post(`{ group(id: `, nil)
	assert.Equal(t, http.StatusTooManyRequests, r.Status, string(r.Raw))
	assert.Equal(t, []string{codeRateLimited}, r.codes())
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
	assert.NotNil(t, r.Errors[0].Extensions["retryAfter"])
	e.assertNoUpstreamCall(t)
}

// The bounds on upstream calls: per operation (GATEWAY_MAX_UPSTREAM_CALLS,
// red-team case 55) and per caller (AUTH_RATE_LIMIT_PER_MINUTE and its
// share of the shared budget, case 59).

// hundredGroups is the demo data with 100 groups, so that a page of 100
// groups is full.
var hundredGroups = demodata.Size{Groups: 100, Users: 200, MembersPerGroup: 12, UserGroups: 30}

// fanOut is red-team case 55: n aliased pages of 100 groups, each group with
// a distinct page of its members (about 3,300 calls for n = 33).
func fanOut(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, " p%d: groups(pageSize: 100) { entities { members(pageSize: 1, pageNumber: %d) { total } } }", i, i)
	}
	return b.String() + " }"
}

// membersOfPage is one page of n groups with one member page each: n+1
// calls.
func membersOfPage(n int) string {
	return `{ groups(pageSize: ` + strconv.Itoa(n) + `) { entities { id members(pageSize: 1) { total } } } }`
}

// estimatedAt is an operation estimated at n upstream calls: aliased pages
// of up to 100 groups with a member page each, and a user group lookup for
// a last single call.
func estimatedAt(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; n > 0; i++ {
		if n == 1 {
			b.WriteString(` u: userGroup(id: "` + demodata.UserGroupID(1) + `") { id }`)
			break
		}
		k := min(n-1, 100)
		fmt.Fprintf(&b, " p%d: groups(pageSize: %d) { entities { members(pageSize: 1) { total } } }", i, k)
		n -= k + 1
	}
	return b.String() + " }"
}

// apiCalls returns the calls both emulators received, token requests
// excluded.
func (e *testEnv) apiCalls() int {
	return e.genesysKit().Count("") - e.genesysKit().Count(genesysemu.RouteToken) + e.usergroupsKit().Count("")
}

// requireRefusedOver checks that r is the refusal of an operation estimated
// at estimate calls by the bound max named limit.
func requireRefusedOver(t *testing.T, r gqlResponse, estimate, max int, limit string) {
	t.Helper()
	require.Equal(t, []string{codeTooComplex}, r.codes(), string(r.Raw))
	assert.Nil(t, r.Data)
	ext := r.Errors[0].Extensions
	assert.Equal(t, float64(estimate), ext["upstreamCalls"])
	assert.Equal(t, float64(max), ext["maxUpstreamCalls"])
	assert.Equal(t, limit, ext["limit"])
}

func TestFanOutIsRefusedBeforeAnyUpstreamCall(t *testing.T) {
	e := setupSized(t, nil, hundredGroups)
	e.resetCalls()
	r := e.post(fanOut(33), nil)
	assert.Equal(t, http.StatusOK, r.Status, "refused before execution, for a client that accepts only application/json")
	requireRefusedOver(t, r, 33*101, quota.DefaultMaxCalls, quota.LimitUpstreamCalls)
	assert.Zero(t, e.genesysKit().Count("")+e.usergroupsKit().Count(""))

	r = e.post(fanOut(2), nil)
	requireRefusedOver(t, r, 2*101, quota.DefaultMaxCalls, quota.LimitUpstreamCalls)
	assert.Zero(t, e.genesysKit().Count("")+e.usergroupsKit().Count(""))
}

func TestOperationsUnderTheCapRun(t *testing.T) {
	t.Run("default cap", func(t *testing.T) {
		e := setupSized(t, nil, hundredGroups)
		for _, tt := range []struct {
			name, query string
			vars        map[string]any
			calls       int
		}{
			{"a page of 25 groups with their members (W3)", w3Query, w3Vars(0), 26},
			{"a full page of 100 groups with a member page each", membersOfPage(100), nil, 101},
			// Estimated at 2 + 100 (the groups of teams), not 2 + 200 (all its teams).
			{"the members of every group of teams", `{ teams { ... on Group { members(pageSize: 1) { total } } } }`, nil, 2 + 100},
		} {
			e.resetCalls()
			r := e.post(tt.query, tt.vars)
			require.Empty(t, r.Errors, tt.name)
			assert.Equal(t, tt.calls, e.apiCalls(), tt.name)
		}
	})
	t.Run("at the configured cap", func(t *testing.T) {
		e := setup(t, map[string]string{"GATEWAY_MAX_UPSTREAM_CALLS": "6"})
		e.resetCalls()
		r := e.post(membersOfPage(5), nil)
		require.Empty(t, r.Errors)
		assert.Equal(t, 6, e.apiCalls())

		e.resetCalls()
		r = e.post(membersOfPage(6), nil)
		requireRefusedOver(t, r, 7, 6, quota.LimitUpstreamCalls)
		assert.Zero(t, e.genesysKit().Count("")+e.usergroupsKit().Count(""))
	})
}

// TestBackstopStopsCallsAtTheCap runs an operation whose estimate fits the
// cap exactly while execution needs more than it: two of its reads are
// answered 503 once, and their retries are calls the estimate does not
// count. The cap stops the operation at 6 calls, and the fields that needed
// more fail QUERY_TOO_COMPLEX, the others keep their data.
func TestBackstopStopsCallsAtTheCap(t *testing.T) {
	e := setup(t, map[string]string{"GATEWAY_MAX_UPSTREAM_CALLS": "6"})
	e.resetCalls()
	e.genesysKit().Inject(genesysemu.RouteGetDynamic, emukit.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	r := e.post(`{ groups(pageSize: 5) { entities { id dynamicDefinition { groupId } } } }`, nil)

	assert.Equal(t, 6, e.apiCalls(), "1 page + 5 definitions, no retry")
	assert.Equal(t, 5, e.genesysKit().Count(genesysemu.RouteGetDynamic))
	assert.Equal(t, float64(6), dig(r.Extensions, "cost", "upstreamCalls", "genesys"))
	require.Equal(t, []string{codeTooComplex, codeTooComplex}, r.codes(), string(r.Raw))
	for _, err := range r.Errors {
		require.Len(t, err.Path, 4)
		assert.Equal(t, []any{"groups", "entities"}, err.Path[:2])
		assert.Equal(t, "dynamicDefinition", err.Path[3])
		assert.Equal(t, float64(6), err.Extensions["maxUpstreamCalls"])
	}
	for i := range 5 {
		assert.NotEmpty(t, dig(r.Data, "groups", "entities", i, "id"), "the other fields keep their data")
	}
}

// TestOversizeOperationOfOneCallerLeavesOthersServed is red-team case 59
// with the default budgets: caller A (120 calls a minute) sends the 33 × 100
// fan-out while Genesys allows the gateway 300 calls a minute. It is
// refused up front, costs nothing, and bystander B is served.
func TestOversizeOperationOfOneCallerLeavesOthersServed(t *testing.T) {
	e := setupSized(t, map[string]string{
		"AUTH_RATE_LIMIT_PER_MINUTE": "120", "GENESYS_RATE_LIMIT_PER_MINUTE": "300", "USERGROUP_RATE_LIMIT_PER_MINUTE": "600",
		"AUTH_TRUSTED_PROXY_HOPS": "1", "GATEWAY_MAX_UPSTREAM_CALLS": "5000", // the caller's budget refuses it, not the cap
	}, hundredGroups)
	callerA, callerB := []string{"X-Forwarded-For", "203.0.113.7"}, []string{"X-Forwarded-For", "198.51.100.20"}
	e.resetCalls()
	r := e.post(fanOut(33), nil, callerA...)
	assert.Equal(t, http.StatusOK, r.Status, "it can never run: waiting would not help")
	assert.Empty(t, r.Header.Get("Retry-After"))
	requireRefusedOver(t, r, 33*101, 120, quota.LimitCallerBudget)
	assert.Zero(t, e.genesysKit().Count("")+e.usergroupsKit().Count(""))

	for range 5 {
		r := e.post(`{ groups(pageSize: 25) { entities { id name } } }`, nil, callerB...)
		require.Empty(t, r.Errors)
		assert.Len(t, dig(r.Data, "groups", "entities"), 25)
	}
}

// TestCallerBudgetIsChargedBeforeAndAfter checks that an operation is
// charged its estimate before it runs and the calls it made beyond it
// afterwards, and that one the budget cannot pay for now is refused with
// RATE_LIMITED while another caller is served.
func TestCallerBudgetIsChargedBeforeAndAfter(t *testing.T) {
	e := setup(t, map[string]string{"AUTH_RATE_LIMIT_PER_MINUTE": "10", "AUTH_TRUSTED_PROXY_HOPS": "1"})
	callerA, callerB := []string{"X-Forwarded-For", "203.0.113.7"}, []string{"X-Forwarded-For", "198.51.100.20"}

	r := e.post(membersOfPage(10), nil, callerA...)
	requireRefusedOver(t, r, 11, 10, quota.LimitCallerBudget)

	// 6 estimated, 8 made (two reads answered 503 once are retried): 2 left.
	e.genesysKit().Inject(genesysemu.RouteGetMembers, emukit.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	e.resetCalls()
	r = e.post(membersOfPage(5), nil, callerA...)
	require.Empty(t, r.Errors)
	require.Equal(t, 8, e.apiCalls())

	e.resetCalls()
	r = e.post(membersOfPage(3), nil, callerA...) // 4 calls
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, []string{codeLimited}, r.codes())
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.Positive(t, secs)
	assert.Equal(t, float64(secs), r.Errors[0].Extensions["retryAfter"])
	assert.Zero(t, e.apiCalls())

	r = e.post(membersOfPage(3), nil, callerB...)
	require.Empty(t, r.Errors, "another caller has its own budget")
	assert.Equal(t, 4, e.apiCalls())
}

// TestCallerBudgetIsAShareOfTheSharedBudget checks that a caller's budget
// is lowered to AUTH_RATE_LIMIT_MAX_SHARE of the smallest upstream budget
// the callers share, so that one caller never holds the whole of it.
func TestCallerBudgetIsAShareOfTheSharedBudget(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		max  int
	}{
		{"40 % of Genesys's 300", map[string]string{"GENESYS_RATE_LIMIT_PER_MINUTE": "300"}, 120},
		{"a configured share", map[string]string{"GENESYS_RATE_LIMIT_PER_MINUTE": "300", "AUTH_RATE_LIMIT_MAX_SHARE": "10"}, 30},
		{"the smaller budget", map[string]string{"GENESYS_RATE_LIMIT_PER_MINUTE": "300", "USERGROUP_RATE_LIMIT_PER_MINUTE": "100"}, 40},
		{"genesys mode: each caller's own Genesys budget is not shared",
			map[string]string{"AUTH_MODE": "genesys", "GENESYS_RATE_LIMIT_PER_MINUTE": "300", "USERGROUP_RATE_LIMIT_PER_MINUTE": "600"}, 240},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"AUTH_RATE_LIMIT_PER_MINUTE": "1000", "GATEWAY_MAX_UPSTREAM_CALLS": "5000"}
			for k, v := range tt.env {
				env[k] = v
			}
			var headers []string
			opts := []Option{}
			if env["AUTH_MODE"] == "genesys" {
				opts = append(opts, withCallerTokens(map[string][]string{"token-one": nil}))
				headers = bearerHeader("token-one")
			}
			e := setupSized(t, env, hundredGroups, opts...)
			assert.Contains(t, e.log.String(), `"applied":`+strconv.Itoa(tt.max))
			e.resetCalls()
			r := e.post(estimatedAt(tt.max+1), nil, headers...)
			requireRefusedOver(t, r, tt.max+1, tt.max, quota.LimitCallerBudget)
			assert.Zero(t, e.apiCalls()-e.genesysKit().Count(genesysemu.RouteUsersMe), "no call but the caller's authentication")
		})
	}
}

func TestUpstreamCallBoundsConfiguration(t *testing.T) {
	cfg, err := LoadConfig(getenv(map[string]string{}))
	require.NoError(t, err)
	assert.Equal(t, quota.DefaultMaxCalls, cfg.MaxUpstreamCalls)
	assert.Equal(t, quota.DefaultMaxSharePercent, cfg.CallerMaxSharePercent)
	for _, bad := range []map[string]string{
		{"GATEWAY_MAX_UPSTREAM_CALLS": "0"}, {"GATEWAY_MAX_UPSTREAM_CALLS": "many"},
		{"AUTH_RATE_LIMIT_MAX_SHARE": "51"}, {"AUTH_RATE_LIMIT_MAX_SHARE": "0"},
	} {
		_, err := LoadConfig(getenv(bad))
		for name := range bad {
			require.ErrorContains(t, err, name)
		}
	}
}

// Fragment cycles once crashed gqlgen with a fatal stack overflow that no
// recover() catches (design/hardening.md, trap 1). The gateway that answers
// them runs in a child process (this test binary, re-executed), so that a
// regression fails this test instead of killing the test binary.
const (
	cycleChildEnv  = "GATEWAY_FRAGMENT_CYCLE_CHILD"
	cycleAddrLine  = "FRAGMENT-CYCLE-CHILD "
	cycleCallsPath = "/test/upstream-calls"
)

func TestFragmentCyclesInAChildProcess(t *testing.T) {
	if os.Getenv(cycleChildEnv) != "" {
		t.Skip("this is the child")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFragmentCycleChildServer$", "-test.count=1")
	child.Env = append(os.Environ(), cycleChildEnv+"=1")
	stdin, err := child.StdinPipe()
	require.NoError(t, err)
	stdout, err := child.StdoutPipe()
	require.NoError(t, err)
	var stderr syncBuffer
	child.Stderr = &stderr
	require.NoError(t, child.Start())
	exited := make(chan error, 1)
	base := childAddress(t, stdout, exited, child)

	for name, query := range map[string]string{"self-spreading": selfSpreadingFragment, "A→B→A": fragmentCycleAB} {
		start := time.Now()
		status, body := childPost(t, base+"/query", query)
		t.Logf("%s: answered %d in %v", name, status, time.Since(start))
		assert.Equal(t, http.StatusBadRequest, status, body)
		assert.Contains(t, body, codeValidationFailed)
	}
	status, body := childPost(t, base+"/query", "{ __typename }")
	assert.Equal(t, http.StatusOK, status, "the child still serves: %s", body)
	assert.JSONEq(t, `{"genesys":0,"usergroups":0}`, childGet(t, base+cycleCallsPath), "no upstream call")
	select {
	case err := <-exited:
		t.Fatalf("the child died: %v\n%s", err, stderr.String())
	default:
	}

	require.NoError(t, stdin.Close()) // the child stops when its stdin closes
	select {
	case err := <-exited:
		require.NoError(t, err, stderr.String())
	case <-ctx.Done():
		t.Fatal("the child did not stop")
	}
}

// childAddress reads the child's base URL from its first line of output and
// then waits for it to exit in the background (into exited).
func childAddress(t testing.TB, stdout io.Reader, exited chan error, child *exec.Cmd) string {
	t.Helper()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), cycleAddrLine); ok {
				lines <- addr
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		exited <- child.Wait()
	}()
	select {
	case addr := <-lines:
		return addr
	case err := <-exited:
		t.Fatalf("the child exited before serving: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the child did not start")
	}
	return ""
}

func childPost(t *testing.T, url, query string) (int, string) {
	t.Helper()
	b, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(b)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", mediaGraphQLResponse)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "the child must answer")
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(raw)
}

func childGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(raw)
}

// TestFragmentCycleChildServer is the child of
// TestFragmentCyclesInAChildProcess: a demo gateway on loopback, plus the
// emulators' call counts at cycleCallsPath, serving until stdin closes.
func TestFragmentCycleChildServer(t *testing.T) {
	if os.Getenv(cycleChildEnv) == "" {
		t.Skip("runs only as the child of TestFragmentCyclesInAChildProcess")
	}
	e := setup(t, nil)
	mux := http.NewServeMux()
	mux.Handle("/", e.gw.Handler())
	mux.HandleFunc(cycleCallsPath, func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]int{"genesys": e.genesysKit().Count(""), "usergroups": e.usergroupsKit().Count("")})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	fmt.Println(cycleAddrLine + srv.URL)
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil && !errors.Is(err, os.ErrClosed) {
		t.Log(err)
	}
}

func TestMemoryLimit(t *testing.T) {
	previous := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(previous) })
	const cgroupLimit = 1 << 30
	tests := []struct {
		name     string
		env      string // GOMEMLIMIT
		cgroup   memlimit.Provider
		want     int64
		provided bool
	}{
		{"cgroup limit", "", memlimit.Limit(cgroupLimit), cgroupLimit * 9 / 10, true},
		{"cgroup without a limit", "", func() (uint64, error) { return 0, memlimit.ErrNoLimit }, defaultMemoryLimit, true},
		{"no cgroup", "", func() (uint64, error) { return 0, errors.New("no cgroup mount") }, defaultMemoryLimit, true},
		{"GOMEMLIMIT wins", "100MiB", memlimit.Limit(cgroupLimit), 77 << 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", tt.env)
			t.Setenv("AUTOMEMLIMIT", "") // restored after the test
			require.NoError(t, os.Unsetenv("AUTOMEMLIMIT"))
			debug.SetMemoryLimit(77 << 20) // as the runtime would have set it from GOMEMLIMIT
			called := false
			limit, err := setMemoryLimit(func() (uint64, error) {
				called = true
				return tt.cgroup()
			})
			require.NoError(t, err)
			assert.Equal(t, tt.want, limit)
			assert.Equal(t, tt.want, debug.SetMemoryLimit(-1))
			assert.Equal(t, tt.provided, called)
		})
	}
}

// maxBodyChildEnv marks the child process of BenchmarkMaxBodyMemory.
const maxBodyChildEnv = "GATEWAY_MAX_BODY_MEMORY_CHILD"

// maxBodyRequest is a request of about the default body cap (262,088
// bytes, as the red team's case 58): 6,700 ids for groups(ids:), coerced as
// a variable and refused BAD_USER_INPUT by the resolver without an upstream
// call.
func maxBodyRequest() []byte {
	ids := make([]string, 6700)
	for i := range ids {
		ids[i] = fmt.Sprintf("6a0f0000-0000-4000-8000-%012d", i)
	}
	b, _ := json.Marshal(map[string]any{"query": "query($ids: [ID!]!) { groups(ids: $ids) { total } }", "variables": map[string]any{"ids": ids}})
	return b
}

// BenchmarkMaxBodyMemory measures red team case 58: each iteration sends
// 100 concurrent requests of about 256 KiB to a gateway in a child process
// started as main starts it (TuneRuntime: GOGC=400, setMemoryLimit), and reports the
// child's peak RSS (VmHWM) above its RSS before the first round, and how
// many requests the body budget refused (503). "defaults" runs with the
// default limits; "unbounded" without a soft memory limit or body budget
// (GOMEMLIMIT=off, as the gateway was before). Linux only (/proc).
//
//	go test -run '^$' -bench BenchmarkMaxBodyMemory -benchtime 5x ./internal/gateway
func BenchmarkMaxBodyMemory(b *testing.B) {
	body := maxBodyRequest()
	for name, env := range map[string][]string{
		"defaults":  nil,
		"unbounded": {"GOMEMLIMIT=off", "GATEWAY_MAX_BODY_BYTES_IN_FLIGHT=1099511627776", "GATEWAY_MAX_IN_FLIGHT=100000"},
	} {
		b.Run(name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			child := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMaxBodyMemoryChild$", "-test.count=1")
			child.Env = append(append(os.Environ(), maxBodyChildEnv+"=1"), env...)
			stdin, err := child.StdinPipe()
			require.NoError(b, err)
			stdout, err := child.StdoutPipe()
			require.NoError(b, err)
			require.NoError(b, child.Start())
			exited := make(chan error, 1)
			base := childAddress(b, stdout, exited, child)
			defer func() {
				_ = stdin.Close()
				<-exited
			}()
			before := procStatusKiB(b, child.Process.Pid, "VmRSS")
			var refused, other atomic.Int64
			for b.Loop() {
				var wg sync.WaitGroup
				for range 100 {
					wg.Go(func() {
						resp, err := http.Post(base+"/query", "application/json", bytes.NewReader(body))
						if err != nil {
							other.Add(1)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						_ = resp.Body.Close()
						switch resp.StatusCode {
						case http.StatusOK:
						case http.StatusServiceUnavailable:
							refused.Add(1)
						default:
							other.Add(1)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(procStatusKiB(b, child.Process.Pid, "VmHWM")-before)/1024, "MiB-peak-rise")
			b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
			require.Zero(b, other.Load(), "every request answered 200 or 503")
		})
	}
}

// procStatusKiB reads a kB field of /proc/<pid>/status.
func procStatusKiB(b *testing.B, pid int, field string) int64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(b, err)
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			require.NoError(b, err)
			return n
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestMaxBodyMemoryChild is the child of BenchmarkMaxBodyMemory: a demo
// gateway with main's memory settings and the GATEWAY_* limits of its
// environment, on loopback, serving until stdin closes. It prints its
// address as the fragment-cycle child does (childAddress reads it).
func TestMaxBodyMemoryChild(t *testing.T) {
	if os.Getenv(maxBodyChildEnv) == "" {
		t.Skip("runs only as the child of BenchmarkMaxBodyMemory")
	}
	_, err := TuneRuntime()
	require.NoError(t, err)
	env := map[string]string{}
	for _, name := range []string{"GATEWAY_MAX_BODY_BYTES_IN_FLIGHT", "GATEWAY_MAX_IN_FLIGHT"} {
		env[name] = os.Getenv(name)
	}
	e := setup(t, env)
	fmt.Println(cycleAddrLine + e.srv.URL)
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil && !errors.Is(err, os.ErrClosed) {
		t.Log(err)
	}
}
