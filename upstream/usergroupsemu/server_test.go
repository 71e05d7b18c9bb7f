package usergroupsemu

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
)

// testKey is a canary: no answer may ever contain it.
const testKey = "canary-integration-key-7f3c9e21"

const base = "/api/v2/usergroup"

type fixture struct {
	t   *testing.T
	emu *Server
	srv *httptest.Server
}

func setup(t *testing.T) *fixture {
	t.Helper()
	emu := New(Options{Size: demodata.Demo, IntegrationKey: testKey})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &fixture{t: t, emu: emu, srv: srv}
}

// reply is an answer, with its JSON body decoded when it is JSON.
type reply struct {
	status      int
	contentType string
	raw         string
	body        map[string]any
}

// do sends a request and checks that the answer never contains the key.
func (fx *fixture) do(method, path string, q url.Values, contentType, body string) reply {
	fx.t.Helper()
	req, err := http.NewRequest(method, fx.srv.URL+path+"?"+q.Encode(), strings.NewReader(body))
	require.NoError(fx.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := fx.srv.Client().Do(req)
	require.NoError(fx.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(fx.t, err)
	assert.NotContains(fx.t, string(raw), testKey, "the IntegrationKey must never be echoed")
	rp := reply{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), raw: string(raw)}
	if strings.HasPrefix(rp.contentType, "application/json") {
		require.NoError(fx.t, json.Unmarshal(raw, &rp.body), "body: %s", raw)
	}
	return rp
}

// query returns a JSON query with good credentials plus kv pairs.
func query(kv ...string) url.Values {
	q := url.Values{"format": {"json"}, "CompanyId": {strconv.FormatInt(demodata.CompanyID, 10)}, "IntegrationKey": {testKey}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

// writeBody returns a JSON body with good credentials plus fields.
func writeBody(t *testing.T, fields map[string]any) string {
	t.Helper()
	m := map[string]any{"CompanyId": demodata.CompanyID, "IntegrationKey": testKey}
	for k, v := range fields {
		m[k] = v
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func (fx *fixture) get(id string) reply {
	return fx.do(http.MethodGet, base, query("Id", id), "", "")
}

func (fx *fixture) post(fields map[string]any) reply {
	return fx.do(http.MethodPost, base, query(), "application/json", writeBody(fx.t, fields))
}

func (fx *fixture) put(fields map[string]any) reply {
	return fx.do(http.MethodPut, base, query(), "application/json", writeBody(fx.t, fields))
}

func (fx *fixture) search(kv ...string) reply {
	return fx.do(http.MethodGet, base+"/search", query(kv...), "", "")
}

func group(t *testing.T, rp reply) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, rp.status, rp.raw)
	g, ok := rp.body["UserGroup"].(map[string]any)
	require.True(t, ok, "no UserGroup in %s", rp.raw)
	return g
}

func groups(t *testing.T, rp reply) []any {
	t.Helper()
	require.Equal(t, http.StatusOK, rp.status, rp.raw)
	list, ok := rp.body["UserGroups"].([]any)
	require.True(t, ok, "no UserGroups in %s", rp.raw)
	return list
}

// errorCode returns ResponseStatus.ErrorCode of a JSON or XML answer.
func errorCode(rp reply) string {
	if rp.body == nil {
		var doc struct {
			Code string `xml:"ResponseStatus>ErrorCode"`
		}
		_ = xml.Unmarshal([]byte(rp.raw), &doc)
		return doc.Code
	}
	rs, _ := rp.body["ResponseStatus"].(map[string]any)
	code, _ := rs["ErrorCode"].(string)
	return code
}

func TestSeed(t *testing.T) {
	fx := setup(t)
	snap := fx.emu.Snapshot()
	require.Len(t, snap, demodata.Demo.UserGroups)
	for i, g := range snap {
		assert.Equal(t, demodata.UserGroupID(i), g.ID)
		assert.Equal(t, demodata.UserGroupName(i), g.Name)
		assert.Equal(t, demodata.Demo.UserGroupExternalID(i), g.ExternalID)
		assert.Equal(t, demodata.CompanyID, g.CompanyID)
		assert.Len(t, g.UserIDs, i%4)
	}
	assert.Equal(t, []string{demodata.UserID(15), demodata.UserID(16), demodata.UserID(17)}, snap[3].UserIDs)
	assert.Equal(t, 1, fx.emu.UserGroupsByExternalID(demodata.GroupID(0)))
	assert.Equal(t, demodata.CompanyID, fx.emu.CompanyID())
}

func TestGet(t *testing.T) {
	fx := setup(t)
	g := group(t, fx.get(demodata.UserGroupID(3)))
	assert.Equal(t, map[string]any{
		"Id":         demodata.UserGroupID(3),
		"Name":       demodata.UserGroupName(3),
		"ExternalId": demodata.GroupID(3),
		"UserIds":    []any{demodata.UserID(15), demodata.UserID(16), demodata.UserID(17)},
		"CompanyId":  float64(demodata.CompanyID),
	}, g)

	g = group(t, fx.get(demodata.UserGroupID(4)))
	assert.NotContains(t, g, "ExternalId", "a group without ExternalId omits it")

	g = group(t, fx.get(demodata.UserGroupID(0)))
	assert.Equal(t, []any{}, g["UserIds"], "no members is [], not null")

	upper := strings.ToUpper(demodata.UserGroupID(3))
	assert.Equal(t, demodata.UserGroupID(3), group(t, fx.get(upper))["Id"], "GUIDs match in any spelling")
	u := uuid.MustParse(demodata.UserGroupID(3))
	assert.Equal(t, demodata.UserGroupID(3), group(t, fx.get(u.String()))["Id"], "hyphenated too, answered as stored")

	lower := fx.do(http.MethodGet, base, url.Values{"format": {"json"}, "companyid": {"61234"},
		"integrationkey": {testKey}, "id": {demodata.UserGroupID(3)}}, "", "")
	assert.Equal(t, demodata.UserGroupID(3), group(t, lower)["Id"], "parameter names bind case-insensitively")
}

func TestGetErrors(t *testing.T) {
	fx := setup(t)
	tests := []struct {
		name   string
		id     string
		status int
		code   string
	}{
		{"unknown", "00000000-0000-4000-8000-000000000000", http.StatusNotFound, codeNotFound},
		{"missing", "", http.StatusBadRequest, codeNotEmpty},
		{"not a GUID", "../users/me", http.StatusNotFound, codeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := fx.get(tt.id)
			assert.Equal(t, tt.status, rp.status)
			assert.Equal(t, tt.code, errorCode(rp))
			assert.NotContains(t, rp.body, "UserGroup")
		})
	}
}

// operations lists one valid request per route, for the cross-cutting tests.
func operations() []struct {
	name, method, path, contentType string
	query                           url.Values
	body                            map[string]any
} {
	id := demodata.UserGroupID(1)
	return []struct {
		name, method, path, contentType string
		query                           url.Values
		body                            map[string]any
	}{
		{"create", http.MethodPost, base, "application/json", url.Values{}, map[string]any{"Name": "x"}},
		{"get", http.MethodGet, base, "", url.Values{"Id": {id}}, nil},
		{"update", http.MethodPut, base, "application/json", url.Values{}, map[string]any{"Id": id, "Name": "y"}},
		{"delete", http.MethodDelete, base, "", url.Values{"Id": {id}}, nil},
		{"search", http.MethodGet, base + "/search", "", url.Values{}, nil},
	}
}

func TestCredentials(t *testing.T) {
	creds := []struct {
		name      string
		companyID any
		key       any
	}{
		{"wrong company", demodata.CompanyID + 1, testKey},
		{"wrong key", demodata.CompanyID, testKey + "x"},
		{"key prefix", demodata.CompanyID, testKey[:5]},
		{"missing key", demodata.CompanyID, nil},
		{"missing company", nil, testKey},
		{"missing both", nil, nil},
	}
	for _, op := range operations() {
		for _, c := range creds {
			t.Run(op.name+"/"+c.name, func(t *testing.T) {
				fx := setup(t)
				q := url.Values{"format": {"json"}}
				for k, v := range op.query {
					q[k] = v
				}
				var body string
				if op.body != nil {
					m := map[string]any{}
					for k, v := range op.body {
						m[k] = v
					}
					putCred(m, "CompanyId", c.companyID)
					putCred(m, "IntegrationKey", c.key)
					b, err := json.Marshal(m)
					require.NoError(t, err)
					body = string(b)
				} else {
					putCredQuery(q, "CompanyId", c.companyID)
					putCredQuery(q, "IntegrationKey", c.key)
				}
				rp := fx.do(op.method, op.path, q, op.contentType, body)
				assert.Equal(t, http.StatusUnauthorized, rp.status)
				assert.Equal(t, codeUnauthorized, errorCode(rp))
				assert.Equal(t, demodata.Demo.UserGroups, len(fx.emu.Snapshot()), "nothing applied")
				assert.Equal(t, demodata.UserGroupName(1), fx.emu.Snapshot()[1].Name, "nothing applied")
			})
		}
	}
}

func putCred(m map[string]any, k string, v any) {
	if v != nil {
		m[k] = v
	}
}

func putCredQuery(q url.Values, k string, v any) {
	switch v := v.(type) {
	case string:
		q.Set(k, v)
	case int64:
		q.Set(k, strconv.FormatInt(v, 10))
	}
}

func TestCredentialsInQueryAreNotEnoughForWrites(t *testing.T) {
	fx := setup(t)
	rp := fx.do(http.MethodPost, base, query(), "application/json", `{"Name":"x"}`)
	assert.Equal(t, http.StatusUnauthorized, rp.status, "POST credentials travel in the body")
}

func TestNonIntegerCompanyIDIsABindingError(t *testing.T) {
	fx := setup(t)
	q := query("Id", demodata.UserGroupID(1))
	q.Set("CompanyId", "abc")
	rp := fx.do(http.MethodGet, base, q, "", "")
	assert.Equal(t, http.StatusBadRequest, rp.status)
	assert.Equal(t, codeBinding, errorCode(rp))
}

func TestCreate(t *testing.T) {
	fx := setup(t)
	g := group(t, fx.post(map[string]any{
		"Name": "Another_Test_Group", "ExternalId": "grp_test2",
		"UserIds": []string{demodata.UserID(1), strings.ToUpper(demodata.UserID(2)), demodata.UserID(1)},
		"Id":      demodata.UserGroupID(0),
	}))
	id, _ := g["Id"].(string)
	assert.Regexp(t, `^[0-9a-f]{32}$`, id, "a new id is a GUID in the platform's N form")
	assert.NotEqual(t, demodata.UserGroupID(0), id, "a body Id is ignored on create")
	assert.Equal(t, "Another_Test_Group", g["Name"])
	assert.Equal(t, "grp_test2", g["ExternalId"])
	assert.Equal(t, []any{demodata.UserID(1), strings.ToUpper(demodata.UserID(2))}, g["UserIds"], "as given, deduplicated")
	assert.Equal(t, float64(demodata.CompanyID), g["CompanyId"])
	assert.Equal(t, g, group(t, fx.get(id)))

	minimal := group(t, fx.post(map[string]any{"Name": "Minimal"}))
	assert.NotContains(t, minimal, "ExternalId")
	assert.Equal(t, []any{}, minimal["UserIds"])
}

func TestCreateAllowsDuplicates(t *testing.T) {
	fx := setup(t)
	first := group(t, fx.post(map[string]any{"Name": "Twin", "ExternalId": "ext-twin"}))
	second := group(t, fx.post(map[string]any{"Name": "Twin", "ExternalId": "ext-twin"}))
	assert.NotEqual(t, first["Id"], second["Id"])
	assert.Equal(t, 2, fx.emu.UserGroupsByExternalID("ext-twin"))
	assert.Len(t, groups(t, fx.search("ExternalId", "ext-twin")), 2)
}

func TestCreateErrors(t *testing.T) {
	fx := setup(t)
	good := writeBody(t, map[string]any{"Name": "ok"})
	tests := []struct {
		name, contentType, body string
		code                    string
		field                   string
	}{
		{"missing name", "application/json", writeBody(t, map[string]any{"ExternalId": "e"}), codeNotEmpty, "Name"},
		{"blank name", "application/json", writeBody(t, map[string]any{"Name": "  "}), codeNotEmpty, "Name"},
		{"null name", "application/json", writeBody(t, map[string]any{"Name": nil}), codeNotEmpty, "Name"},
		{"truncated JSON holding the key", "application/json", good[:len(good)-3], codeSerialization, ""},
		{"JSON sent without content type", "", good, codeSerialization, ""},
		{"CompanyId as text", "application/json", `{"CompanyId":"x","IntegrationKey":"` + testKey + `","Name":"n"}`, codeSerialization, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(fx.emu.Snapshot())
			rp := fx.do(http.MethodPost, base, query(), tt.contentType, tt.body)
			assert.Equal(t, http.StatusBadRequest, rp.status)
			assert.Equal(t, tt.code, errorCode(rp))
			if tt.field != "" {
				rs, _ := rp.body["ResponseStatus"].(map[string]any)
				errs, _ := rs["Errors"].([]any)
				require.Len(t, errs, 1)
				assert.Equal(t, tt.field, errs[0].(map[string]any)["FieldName"])
			}
			assert.Len(t, fx.emu.Snapshot(), before, "nothing created")
		})
	}
}

func TestUpdate(t *testing.T) {
	id := demodata.UserGroupID(3)
	seeded := []any{demodata.UserID(15), demodata.UserID(16), demodata.UserID(17)}
	tests := []struct {
		name    string
		fields  map[string]any
		want    map[string]any
		without string
	}{
		{"full replace", map[string]any{"Name": "New", "ExternalId": "ext-new", "UserIds": []string{demodata.UserID(9)}},
			map[string]any{"Name": "New", "ExternalId": "ext-new", "UserIds": []any{demodata.UserID(9)}}, ""},
		{"omitted members kept", map[string]any{"Name": "Renamed"},
			map[string]any{"Name": "Renamed", "ExternalId": demodata.GroupID(3), "UserIds": seeded}, ""},
		{"null members kept", map[string]any{"UserIds": nil, "ExternalId": nil},
			map[string]any{"Name": demodata.UserGroupName(3), "ExternalId": demodata.GroupID(3), "UserIds": seeded}, ""},
		{"empty list clears members", map[string]any{"UserIds": []string{}},
			map[string]any{"Name": demodata.UserGroupName(3), "UserIds": []any{}}, ""},
		{"empty ExternalId clears it", map[string]any{"ExternalId": ""},
			map[string]any{"Name": demodata.UserGroupName(3), "UserIds": seeded}, "ExternalId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := setup(t)
			tt.fields["Id"] = id
			g := group(t, fx.put(tt.fields))
			for k, v := range tt.want {
				assert.Equal(t, v, g[k], k)
			}
			if tt.without != "" {
				assert.NotContains(t, g, tt.without)
			}
			assert.Equal(t, id, g["Id"])
			assert.Equal(t, g, group(t, fx.get(id)), "the update is stored")
		})
	}
}

func TestUpdateMovesExternalIDIndex(t *testing.T) {
	fx := setup(t)
	group(t, fx.put(map[string]any{"Id": demodata.UserGroupID(1), "ExternalId": "moved"}))
	assert.Zero(t, fx.emu.UserGroupsByExternalID(demodata.GroupID(1)))
	assert.Equal(t, 1, fx.emu.UserGroupsByExternalID("moved"))
	list := groups(t, fx.search("ExternalId", "moved"))
	require.Len(t, list, 1)
	assert.Equal(t, demodata.UserGroupID(1), list[0].(map[string]any)["Id"])
	assert.Empty(t, groups(t, fx.search("ExternalId", demodata.GroupID(1))))
}

func TestUpdateErrors(t *testing.T) {
	fx := setup(t)
	tests := []struct {
		name   string
		fields map[string]any
		status int
		code   string
	}{
		{"missing id", map[string]any{"Name": "n"}, http.StatusBadRequest, codeNotEmpty},
		{"id no group has", map[string]any{"Id": "x/../y", "Name": "n"}, http.StatusNotFound, codeNotFound},
		{"unknown id", map[string]any{"Id": "00000000-0000-4000-8000-000000000000", "Name": "n"}, http.StatusNotFound, codeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := fx.put(tt.fields)
			assert.Equal(t, tt.status, rp.status)
			assert.Equal(t, tt.code, errorCode(rp))
		})
	}
	assert.Equal(t, demodata.UserGroupName(1), fx.emu.Snapshot()[1].Name, "nothing applied")
}

func TestDelete(t *testing.T) {
	fx := setup(t)
	id := demodata.UserGroupID(5)
	del := func() reply { return fx.do(http.MethodDelete, base, query("Id", id), "", "") }

	rp := del()
	require.Equal(t, http.StatusOK, rp.status, rp.raw)
	assert.JSONEq(t, `{}`, rp.raw)

	assert.Equal(t, http.StatusNotFound, fx.get(id).status)
	again := del()
	assert.Equal(t, http.StatusNotFound, again.status)
	assert.Equal(t, codeNotFound, errorCode(again))
	_, ok := fx.emu.UserGroup(id)
	assert.False(t, ok)
	assert.Zero(t, fx.emu.UserGroupsByExternalID(demodata.GroupID(5)))
	assert.Len(t, groups(t, fx.search("PageSize", "250")), demodata.Demo.UserGroups-1)

	other := fx.do(http.MethodDelete, base, query("Id", "nope"), "", "")
	assert.Equal(t, http.StatusNotFound, other.status, "an id of another shape is just unknown")
}

func ids(t *testing.T, list []any) []string {
	t.Helper()
	out := make([]string, len(list))
	for i, g := range list {
		out[i], _ = g.(map[string]any)["Id"].(string)
	}
	return out
}

func seededIDs(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, demodata.UserGroupID(i))
	}
	return out
}

func TestSearchPaging(t *testing.T) {
	fx := setup(t)
	n := demodata.Demo.UserGroups
	tests := []struct {
		name string
		kv   []string
		want []string
	}{
		{"defaults", nil, seededIDs(0, n)},
		{"first page", []string{"PageSize", "10"}, seededIDs(0, 10)},
		{"second page", []string{"PageSize", "10", "PageNo", "1"}, seededIDs(10, 20)},
		{"last partial page", []string{"PageSize", "7", "PageNo", "4"}, seededIDs(28, 30)},
		{"past the end", []string{"PageSize", "10", "PageNo", "3"}, []string{}},
		{"huge page number", []string{"PageSize", "250", "PageNo", "2147483647"}, []string{}},
		{"max page size", []string{"PageSize", "250"}, seededIDs(0, n)},
		{"zero page size is the default", []string{"PageSize", "0"}, seededIDs(0, n)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(t, groups(t, fx.search(tt.kv...)))
			if len(tt.want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSearchDefaultPageSize(t *testing.T) {
	emu := New(Options{Size: demodata.Bench, IntegrationKey: testKey})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	fx := &fixture{t: t, emu: emu, srv: srv}
	assert.Len(t, groups(t, fx.search()), DefaultPageSize)
	assert.Len(t, groups(t, fx.search("PageSize", "250")), MaxPageSize)
}

func TestSearchAnswerHasOnlyUserGroups(t *testing.T) {
	fx := setup(t)
	rp := fx.search("PageSize", "1")
	assert.Len(t, rp.body, 1, "no paging metadata: %s", rp.raw)
	assert.JSONEq(t, `{"UserGroups":[{"Id":"`+demodata.UserGroupID(0)+`","Name":"Forms team 001","ExternalId":"`+
		demodata.GroupID(0)+`","UserIds":[],"CompanyId":61234}]}`, rp.raw)
}

func TestSearchErrors(t *testing.T) {
	fx := setup(t)
	tests := []struct {
		name string
		kv   []string
		code string
	}{
		{"page not a number", []string{"PageNo", "one"}, codeBinding},
		{"page beyond int32", []string{"PageNo", "2147483648"}, codeBinding},
		{"size not a number", []string{"PageSize", "1e2"}, codeBinding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := fx.search(tt.kv...)
			assert.Equal(t, http.StatusBadRequest, rp.status)
			assert.Equal(t, tt.code, errorCode(rp))
		})
	}
}

// TestTolerance: where the real API is not known to refuse something, the
// emulator accepts it.
func TestTolerance(t *testing.T) {
	fx := setup(t)
	t.Run("user ids of any shape, as given", func(t *testing.T) {
		g := group(t, fx.post(map[string]any{"Name": "n", "UserIds": []string{"nope", "ABCDEF", "nope"}}))
		assert.Equal(t, []any{"nope", "ABCDEF"}, g["UserIds"])
		g = group(t, fx.put(map[string]any{"Id": g["Id"], "UserIds": []string{"1", demodata.UserID(1)}}))
		assert.Equal(t, []any{"1", demodata.UserID(1)}, g["UserIds"])
	})
	t.Run("blank name on update", func(t *testing.T) {
		g := group(t, fx.put(map[string]any{"Id": demodata.UserGroupID(1), "Name": ""}))
		assert.Equal(t, "", g["Name"])
	})
	t.Run("paging out of range", func(t *testing.T) {
		all := len(fx.emu.Snapshot())
		assert.Len(t, groups(t, fx.search("PageSize", "251")), all, "read as the maximum")
		assert.Len(t, groups(t, fx.search("PageSize", "-1")), min(all, DefaultPageSize), "read as the default")
		assert.Equal(t, seededIDs(0, 2), ids(t, groups(t, fx.search("PageNo", "-1", "PageSize", "2"))))
	})
}

// TestUpdateEchoWithoutUsers: the vendor's PUT sample answers "UserIds": []
// after setting one user; the emulator can answer so, while storing (and
// answering GET with) the members it was sent.
func TestUpdateEchoWithoutUsers(t *testing.T) {
	fx := setup(t)
	id := demodata.UserGroupID(2)
	fx.emu.SetUpdateEchoWithoutUsers(true)
	g := group(t, fx.put(map[string]any{"Id": id, "UserIds": []string{demodata.UserID(7)}}))
	assert.Equal(t, []any{}, g["UserIds"])
	assert.Equal(t, []any{demodata.UserID(7)}, group(t, fx.get(id))["UserIds"])

	fx.emu.SetUpdateEchoWithoutUsers(false)
	g = group(t, fx.put(map[string]any{"Id": id, "Name": "n"}))
	assert.Equal(t, []any{demodata.UserID(7)}, g["UserIds"])
}

func TestSearchFilters(t *testing.T) {
	fx := setup(t)
	group(t, fx.post(map[string]any{"Name": "Night Shift", "ExternalId": demodata.GroupID(0)}))
	tests := []struct {
		name string
		kv   []string
		want []string
	}{
		{"name contains, any case", []string{"Name", "FORMS TEAM 01"}, seededIDs(9, 19)},
		{"exact name", []string{"Name", demodata.UserGroupName(20)}, seededIDs(20, 21)},
		{"name matches nothing", []string{"Name", "zzz"}, nil},
		{"external id", []string{"ExternalId", demodata.GroupID(7)}, seededIDs(7, 8)},
		{"external id is exact", []string{"ExternalId", demodata.GroupID(7)[:10]}, nil},
		{"external id is case-sensitive", []string{"ExternalId", strings.ToUpper(demodata.GroupID(7))}, nil},
		{"both filters", []string{"ExternalId", demodata.GroupID(0), "Name", "forms"}, seededIDs(0, 1)},
		{"empty filters match all", []string{"ExternalId", "", "Name", "", "PageSize", "3"}, seededIDs(0, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(t, groups(t, fx.search(tt.kv...)))
			if tt.want == nil {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
	shared := groups(t, fx.search("ExternalId", demodata.GroupID(0)))
	require.Len(t, shared, 2, "duplicate ExternalIds are all found, oldest first")
	assert.Equal(t, "Night Shift", shared[1].(map[string]any)["Name"])
}

func TestXML(t *testing.T) {
	fx := setup(t)
	noFormat := url.Values{"CompanyId": {"61234"}, "IntegrationKey": {testKey}, "Id": {demodata.UserGroupID(3)}}
	xmlFormat := query("Id", demodata.UserGroupID(3), "format", "xml")
	for name, q := range map[string]url.Values{"no format": noFormat, "format=xml": xmlFormat} {
		t.Run(name, func(t *testing.T) {
			rp := fx.do(http.MethodGet, base, q, "", "")
			require.Equal(t, http.StatusOK, rp.status, rp.raw)
			assert.True(t, strings.HasPrefix(rp.contentType, "application/xml"), rp.contentType)
			assert.True(t, strings.HasPrefix(rp.raw, "<?xml"), rp.raw)
			var doc struct {
				XMLName   xml.Name
				UserGroup struct {
					CompanyID int64    `xml:"CompanyId"`
					ID        string   `xml:"Id"`
					Name      string   `xml:"Name"`
					UserIDs   []string `xml:"UserIds>string"`
				}
			}
			require.NoError(t, xml.Unmarshal([]byte(rp.raw), &doc))
			assert.Equal(t, "UserGroupResponse", doc.XMLName.Local)
			assert.Equal(t, demodata.UserGroupID(3), doc.UserGroup.ID)
			assert.Equal(t, demodata.CompanyID, doc.UserGroup.CompanyID)
			assert.Equal(t, []string{demodata.UserID(15), demodata.UserID(16), demodata.UserID(17)}, doc.UserGroup.UserIDs)
			assert.Contains(t, rp.raw, `xmlns:i="`+xmlnsInstance+`"`)
			assert.Contains(t, rp.raw, `<UserIds xmlns:d2p1="`+xmlnsArrays+`"><d2p1:string>`)
			assert.Contains(t, rp.raw, "<CompanyId>61234</CompanyId><ExternalId>", "alphabetical order")
		})
	}
}

func TestXMLAnswers(t *testing.T) {
	fx := setup(t)
	xq := func(kv ...string) url.Values { return query(append(kv, "format", "xml")...) }
	tests := []struct {
		name, method, path string
		q                  url.Values
		status             int
		want               string
	}{
		{"search", http.MethodGet, base + "/search", xq("PageSize", "1"), 200,
			"<UserGroupSearchResponse xmlns:i=\"" + xmlnsInstance + "\"><UserGroups><UserGroup><CompanyId>"},
		{"empty search", http.MethodGet, base + "/search", xq("Name", "zzz"), 200, "<UserGroups></UserGroups>"},
		{"delete", http.MethodDelete, base, xq("Id", demodata.UserGroupID(2)), 200, "<DeleteUserGroupResponse"},
		{"error", http.MethodGet, base, xq("Id", ""), 400,
			"<ResponseStatus><ErrorCode>NotEmpty</ErrorCode><Errors><ResponseError><ErrorCode>"},
		{"unauthorized", http.MethodGet, base, url.Values{"Id": {demodata.UserGroupID(1)}}, 401,
			"<ErrorResponse xmlns:i=\"" + xmlnsInstance + "\"><ResponseStatus><ErrorCode>Unauthorized</ErrorCode>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := fx.do(tt.method, tt.path, tt.q, "", "")
			assert.Equal(t, tt.status, rp.status)
			assert.Contains(t, rp.raw, tt.want)
			assert.NoError(t, xml.Unmarshal([]byte(rp.raw), new(struct{})), "well-formed XML")
		})
	}
}

func TestXMLRequestBody(t *testing.T) {
	fx := setup(t)
	body := `<UserGroup xmlns:i="` + xmlnsInstance + `">` +
		`<CompanyId>61234</CompanyId><ExternalId>grp_ops</ExternalId><IntegrationKey>` + testKey + `</IntegrationKey>` +
		`<Name>Operations</Name><UserIds xmlns:d2p1="` + xmlnsArrays + `"><d2p1:string>` + demodata.UserID(4) +
		`</d2p1:string></UserIds></UserGroup>`
	for name, contentType := range map[string]string{"no content type": "", "application/xml": "application/xml"} {
		t.Run(name, func(t *testing.T) {
			g := group(t, fx.do(http.MethodPost, base, query(), contentType, body))
			assert.Equal(t, "Operations", g["Name"])
			assert.Equal(t, "grp_ops", g["ExternalId"])
			assert.Equal(t, []any{demodata.UserID(4)}, g["UserIds"])
		})
	}
	id := demodata.UserGroupID(3)
	clear := `<UserGroup><CompanyId>61234</CompanyId><Id>` + id + `</Id><IntegrationKey>` + testKey +
		`</IntegrationKey><UserIds/></UserGroup>`
	g := group(t, fx.do(http.MethodPut, base, query(), "application/xml", clear))
	assert.Equal(t, []any{}, g["UserIds"], "an empty <UserIds/> clears the members")
	assert.Equal(t, demodata.UserGroupName(3), g["Name"], "an omitted element is kept")
}

func TestUnknownRoutes(t *testing.T) {
	fx := setup(t)
	tests := []struct{ method, path string }{
		{http.MethodPatch, base},
		{http.MethodGet, "/api/v2/usergroups"},
		{http.MethodPost, base + "/search"},
		{http.MethodGet, "/api/v1/usergroup"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rp := fx.do(tt.method, tt.path, query(), "", "")
			assert.Equal(t, http.StatusMethodNotAllowed, rp.status)
			assert.Equal(t, codeNoRoute, errorCode(rp))
		})
	}
}

func TestResetAfterApplyCreatesExactlyOneGroup(t *testing.T) {
	fx := setup(t)
	fx.emu.Kit().Inject(RouteCreate, emukit.Fault{ResetAfterApply: true, Times: 1})
	body := writeBody(t, map[string]any{"Name": "Once", "ExternalId": "ext-once"})
	resp, err := fx.srv.Client().Post(fx.srv.URL+base+"?format=json", "application/json", strings.NewReader(body))
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the connection is closed without an answer")
	assert.Equal(t, 1, fx.emu.UserGroupsByExternalID("ext-once"))
	assert.Len(t, fx.emu.Snapshot(), demodata.Demo.UserGroups+1)
	assert.Equal(t, 1, fx.emu.Kit().Count(RouteCreate))

	list := groups(t, fx.search("ExternalId", "ext-once"))
	require.Len(t, list, 1, "the client can reconcile by ExternalId")
	assert.Equal(t, "Once", list[0].(map[string]any)["Name"])
}

func TestInjectedStatus(t *testing.T) {
	fx := setup(t)
	fx.emu.Kit().Inject(RouteGet, emukit.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	assert.Equal(t, http.StatusServiceUnavailable, fx.get(demodata.UserGroupID(1)).status)
	assert.Equal(t, http.StatusOK, fx.get(demodata.UserGroupID(1)).status)
	assert.Equal(t, 2, fx.emu.Kit().Count(RouteGet))
	calls := fx.emu.Kit().Calls()
	require.Len(t, calls, 2)
	assert.Equal(t, 1, calls[0].IDs)
}

func TestLatency(t *testing.T) {
	emu := New(Options{Size: demodata.Demo, IntegrationKey: testKey, Latency: time.Hour})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+base+"/search?"+query().Encode(), nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
	}
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the answer waits for the latency")
}

func TestDefaults(t *testing.T) {
	emu := New(Options{})
	assert.Empty(t, emu.Snapshot())
	assert.Equal(t, demodata.CompanyID, emu.CompanyID())
	assert.Nil(t, emu.authorize(demodata.CompanyID, DemoIntegrationKey))

	noGroups := New(Options{Size: demodata.Size{UserGroups: 3}})
	for _, g := range noGroups.Snapshot() {
		assert.Empty(t, g.ExternalID)
		assert.Empty(t, g.UserIDs)
	}
}

func TestHelpersReturnCopies(t *testing.T) {
	fx := setup(t)
	g, ok := fx.emu.UserGroup(strings.ToUpper(demodata.UserGroupID(3)))
	require.True(t, ok)
	g.UserIDs[0] = "changed"
	fx.emu.Snapshot()[3].UserIDs[1] = "changed"
	assert.Equal(t, []any{demodata.UserID(15), demodata.UserID(16), demodata.UserID(17)},
		group(t, fx.get(demodata.UserGroupID(3)))["UserIds"])
	_, ok = fx.emu.UserGroup("not-a-guid")
	assert.False(t, ok)
}

func TestConcurrentUse(t *testing.T) {
	fx := setup(t)
	const workers, perWorker = 8, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				body := writeBody(t, map[string]any{"Name": "c", "ExternalId": "ext-concurrent"})
				resp, err := fx.srv.Client().Post(fx.srv.URL+base+"?format=json", "application/json", strings.NewReader(body))
				if assert.NoError(t, err) {
					resp.Body.Close()
				}
				id := demodata.UserGroupID((w + i) % demodata.Demo.UserGroups)
				upd := writeBody(t, map[string]any{"Id": id, "UserIds": []string{demodata.UserID(w)}})
				req, _ := http.NewRequest(http.MethodPut, fx.srv.URL+base+"?format=json", strings.NewReader(upd))
				req.Header.Set("Content-Type", "application/json")
				if resp, err := fx.srv.Client().Do(req); assert.NoError(t, err) {
					resp.Body.Close()
				}
				if resp, err := fx.srv.Client().Get(fx.srv.URL + base + "/search?" + query("PageSize", "250").Encode()); assert.NoError(t, err) {
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, workers*perWorker, fx.emu.UserGroupsByExternalID("ext-concurrent"))
	assert.Len(t, groups(t, fx.search("ExternalId", "ext-concurrent", "PageSize", "250")), workers*perWorker)
}

func TestRateLimitRefusesCallsOverTheKeysBudget(t *testing.T) {
	emu := New(Options{Size: demodata.Demo, IntegrationKey: testKey, RateLimit: 2})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	fx := &fixture{t: t, emu: emu, srv: srv}
	for range 2 {
		assert.Equal(t, http.StatusOK, fx.get(demodata.UserGroupID(3)).status)
	}
	r := fx.get(demodata.UserGroupID(3))
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	rs, _ := r.body["ResponseStatus"].(map[string]any)
	assert.Equal(t, "TooManyRequests", rs["ErrorCode"])
}
