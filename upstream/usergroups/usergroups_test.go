package usergroups

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
)

// received is what the test server saw of one request.
type received struct {
	method, path string
	query        url.Values
	header       http.Header
	body         string
}

// record registers a handler that answers 200 with body; the function it
// returns gives the last request the server received.
func (f *fixture) record(t *testing.T, body string) func() received {
	t.Helper()
	var (
		mu  sync.Mutex
		got received
	)
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		assert.NoError(t, err)
		mu.Lock()
		got = received{method: r.Method, path: r.URL.Path, query: r.URL.Query(), header: r.Header.Clone(), body: string(b)}
		mu.Unlock()
		_, _ = io.WriteString(w, body)
	})
	return func() received {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// credentialsQuery is the query of every GET and DELETE, plus extra.
func credentialsQuery(extra url.Values) url.Values {
	q := url.Values{"format": {"json"}, "CompanyId": {"61234"}, "IntegrationKey": {testKey}}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

func ptr(s string) *string { return &s }

// Vendor samples (reference §4), with real-looking GUIDs.
const (
	createAnswer = `{"UserGroup":{"Id":"d5061e3a1b2c4d5e9f607a8b9c0d1e2f","Name":"Another_Test_Group","ExternalId":"grp_test2","UserIds":[],"CompanyId":61234}}`
	getAnswer    = `{"UserGroup":{"Id":"` + groupID + `","Name":"Testgroup","UserIds":["` + userID + `"],"CompanyId":61234}}`
	updateAnswer = `{"UserGroup":{"Id":"` + groupID + `","Name":"The_Updated_UserGroup_Name","ExternalId":"grp_the_updated_group_extid","UserIds":[],"CompanyId":61234},"ResponseStatus":{}}`
	searchAnswer = `{"UserGroups":[` +
		`{"Id":"` + groupID + `","Name":"Testgroup","UserIds":["` + userID + `"],"CompanyId":61234},` +
		`{"Id":"d5061e3a1b2c4d5e9f607a8b9c0d1e2f","Name":"Another_Test_Group","ExternalId":"grp_test2","UserIds":[],"CompanyId":61234}` +
		`],"TotalRows":2}`
)

func TestRequestsAndAnswers(t *testing.T) {
	tests := []struct {
		name      string
		call      func(context.Context, *Client) (any, error)
		answer    string
		wantReq   received // header is checked separately
		wantValue any
	}{
		{
			name: "Create",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Create(ctx, CreateRequest{Name: "Another_Test_Group", ExternalID: ptr("grp_test2")})
			},
			answer: createAnswer,
			wantReq: received{method: http.MethodPost, path: "/api/v2/usergroup", query: url.Values{"format": {"json"}},
				body: `{"Name":"Another_Test_Group","ExternalId":"grp_test2","UserIds":[],"CompanyId":61234,"IntegrationKey":"` + testKey + `"}`},
			wantValue: &UserGroup{ID: "d5061e3a1b2c4d5e9f607a8b9c0d1e2f", Name: "Another_Test_Group", ExternalID: ptr("grp_test2"),
				UserIDs: []string{}, CompanyID: testCompanyID},
		},
		{
			name: "Create with members, no external id",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Create(ctx, CreateRequest{Name: "Ops", UserIDs: []string{userID}})
			},
			answer: createAnswer,
			wantReq: received{method: http.MethodPost, path: "/api/v2/usergroup", query: url.Values{"format": {"json"}},
				body: `{"Name":"Ops","UserIds":["` + userID + `"],"CompanyId":61234,"IntegrationKey":"` + testKey + `"}`},
			wantValue: &UserGroup{ID: "d5061e3a1b2c4d5e9f607a8b9c0d1e2f", Name: "Another_Test_Group", ExternalID: ptr("grp_test2"),
				UserIDs: []string{}, CompanyID: testCompanyID},
		},
		{
			name:      "Get",
			call:      func(ctx context.Context, c *Client) (any, error) { return c.Get(ctx, groupID) },
			answer:    getAnswer,
			wantReq:   received{method: http.MethodGet, path: "/api/v2/usergroup", query: credentialsQuery(url.Values{"Id": {groupID}})},
			wantValue: &UserGroup{ID: groupID, Name: "Testgroup", UserIDs: []string{userID}, CompanyID: testCompanyID},
		},
		{
			name: "Update",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Update(ctx, UpdateRequest{ID: groupID, Name: "The_Updated_UserGroup_Name",
					ExternalID: ptr("grp_the_updated_group_extid"), UserIDs: []string{userID}})
			},
			answer: updateAnswer,
			wantReq: received{method: http.MethodPut, path: "/api/v2/usergroup", query: url.Values{"format": {"json"}},
				body: `{"Id":"` + groupID + `","Name":"The_Updated_UserGroup_Name","ExternalId":"grp_the_updated_group_extid",` +
					`"UserIds":["` + userID + `"],"CompanyId":61234,"IntegrationKey":"` + testKey + `"}`},
			wantValue: &UserGroup{ID: groupID, Name: "The_Updated_UserGroup_Name", ExternalID: ptr("grp_the_updated_group_extid"),
				UserIDs: []string{}, CompanyID: testCompanyID},
		},
		{
			name: "Update to no members",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Update(ctx, UpdateRequest{ID: groupID, Name: "Ops"})
			},
			answer: updateAnswer,
			wantReq: received{method: http.MethodPut, path: "/api/v2/usergroup", query: url.Values{"format": {"json"}},
				body: `{"Id":"` + groupID + `","Name":"Ops","UserIds":[],"CompanyId":61234,"IntegrationKey":"` + testKey + `"}`},
			wantValue: &UserGroup{ID: groupID, Name: "The_Updated_UserGroup_Name", ExternalID: ptr("grp_the_updated_group_extid"),
				UserIDs: []string{}, CompanyID: testCompanyID},
		},
		{
			name:    "Delete",
			call:    func(ctx context.Context, c *Client) (any, error) { return nil, c.Delete(ctx, groupID) },
			answer:  `{}`,
			wantReq: received{method: http.MethodDelete, path: "/api/v2/usergroup", query: credentialsQuery(url.Values{"Id": {groupID}})},
		},
		{
			name:    "Search without options",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.Search(ctx, SearchOptions{}) },
			answer:  searchAnswer,
			wantReq: received{method: http.MethodGet, path: "/api/v2/usergroup/search", query: credentialsQuery(nil)},
			wantValue: &SearchResult{UserGroups: []UserGroup{
				{ID: groupID, Name: "Testgroup", UserIDs: []string{userID}, CompanyID: testCompanyID},
				{ID: "d5061e3a1b2c4d5e9f607a8b9c0d1e2f", Name: "Another_Test_Group", ExternalID: ptr("grp_test2"), UserIDs: []string{}, CompanyID: testCompanyID},
			}},
		},
		{
			name: "Search with every option",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Search(ctx, SearchOptions{Name: "Ops & Sales/EU", ExternalID: "grp?x=1", PageNo: 2, PageSize: MaxPageSize})
			},
			answer: `{"UserGroups":[]}`,
			wantReq: received{method: http.MethodGet, path: "/api/v2/usergroup/search", query: credentialsQuery(url.Values{
				"Name": {"Ops & Sales/EU"}, "ExternalId": {"grp?x=1"}, "PageNo": {"2"}, "PageSize": {"250"}})},
			wantValue: &SearchResult{UserGroups: []UserGroup{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			last := f.record(t, tt.answer)

			v, err := tt.call(context.Background(), f.client)

			require.NoError(t, err)
			got := last()
			assert.Equal(t, tt.wantReq.method, got.method)
			assert.Equal(t, tt.wantReq.path, got.path)
			assert.Equal(t, tt.wantReq.query, got.query)
			assert.Equal(t, "application/json", got.header.Get("Accept"))
			assert.Equal(t, "application/json", got.header.Get("Content-Type"))
			if tt.wantReq.body == "" {
				assert.Empty(t, got.body)
			} else {
				assert.JSONEq(t, tt.wantReq.body, got.body)
			}
			if tt.wantValue != nil {
				assert.Equal(t, tt.wantValue, v)
			}
			assert.Equal(t, int64(1), f.calls.Load())
		})
	}
}

// TestUnknownID: the upstream's answer for an unknown id is not documented;
// a 404, an empty envelope, a null group and a 204 all match ErrNotFound.
func TestUnknownID(t *testing.T) {
	answers := []struct {
		name   string
		status int
		body   string
	}{
		{"404", http.StatusNotFound, `{"ResponseStatus":{"ErrorCode":"NotFound","Message":"UserGroup not found"}}`},
		{"404 without body", http.StatusNotFound, ""},
		{"empty envelope", http.StatusOK, `{}`},
		{"null group", http.StatusOK, `{"UserGroup":null}`},
		{"204", http.StatusNoContent, ""},
	}
	calls := map[string]func(*Client) error{
		"Get": func(c *Client) error {
			_, err := c.Get(context.Background(), groupID)
			return err
		},
		"Update": func(c *Client) error {
			_, err := c.Update(context.Background(), UpdateRequest{ID: groupID, Name: "Ops"})
			return err
		},
	}
	for _, a := range answers {
		for name, call := range calls {
			t.Run(a.name+"/"+name, func(t *testing.T) {
				f := setup(t)
				f.mux.HandleFunc("/", reply(a.status, a.body))

				err := call(f.client)

				var ue *upstream.Error
				require.ErrorAs(t, err, &ue)
				assert.ErrorIs(t, err, upstream.ErrNotFound)
				assert.Equal(t, "/api/v2/usergroup", ue.Path)
			})
		}
	}
}

func TestCreateAnswerWithoutGroup(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("/", reply(http.StatusOK, `{}`))

	_, err := f.client.Create(context.Background(), CreateRequest{Name: "Ops", ExternalID: ptr("grp_ops")})

	var te *upstream.TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "invalid response body", te.Kind)
	assert.True(t, te.OutcomeUnknown, "the group may have been made: reconcile by ExternalId")
	assert.Equal(t, http.StatusOK, te.Status)
}

func TestDeleteAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"empty object", http.StatusOK, `{}`},
		{"empty ResponseStatus", http.StatusOK, `{"ResponseStatus":{"ErrorCode":"","Message":""}}`},
		{"no content", http.StatusNoContent, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.mux.HandleFunc("/", reply(tt.status, tt.body))

			assert.NoError(t, f.client.Delete(context.Background(), groupID))
		})
	}
}

func TestInvalidIDs(t *testing.T) {
	ids := []string{
		"", "..", "../x", "a/b", "x?y=1", "%2e%2e", "../users/me",
		groupID + "\r\nX-Injected: 1", "\n", groupID + "&IntegrationKey=x", " " + groupID,
		strings.Repeat("a", 10_000), strings.Repeat("a", upstream.MaxOpaqueIDLen+1), "-", "a.b", "a%20b", "a b",
		"é", "{" + groupID + "}",
	}
	calls := map[string]func(*Client, string) error{
		"Get": func(c *Client, id string) error {
			_, err := c.Get(context.Background(), id)
			return err
		},
		"Update": func(c *Client, id string) error {
			_, err := c.Update(context.Background(), UpdateRequest{ID: id, Name: "Ops"})
			return err
		},
		"Delete": func(c *Client, id string) error { return c.Delete(context.Background(), id) },
	}
	f := setup(t)
	f.mux.HandleFunc("/", reply(http.StatusOK, getAnswer))
	for name, call := range calls {
		for _, id := range ids {
			t.Run(name+"/"+shorten(id), func(t *testing.T) {
				err := call(f.client, id)

				assert.ErrorIs(t, err, upstream.ErrInvalidInput)
				var ie *upstream.InputError
				require.ErrorAs(t, err, &ie)
				assert.Equal(t, "id", ie.Field)
			})
		}
	}
	assert.Zero(t, f.calls.Load(), "an invalid id costs no upstream call")
}

func TestInvalidArguments(t *testing.T) {
	tests := []struct {
		name      string
		call      func(context.Context, *Client) error
		wantField string
	}{
		{"page size 251", func(ctx context.Context, c *Client) error {
			_, err := c.Search(ctx, SearchOptions{PageSize: MaxPageSize + 1})
			return err
		}, "pageSize"},
		{"negative page size", func(ctx context.Context, c *Client) error {
			_, err := c.Search(ctx, SearchOptions{PageSize: -1})
			return err
		}, "pageSize"},
		{"negative page", func(ctx context.Context, c *Client) error {
			_, err := c.Search(ctx, SearchOptions{PageNo: -1})
			return err
		}, "pageNo"},
		{"create without name", func(ctx context.Context, c *Client) error {
			_, err := c.Create(ctx, CreateRequest{ExternalID: ptr("grp")})
			return err
		}, "name"},
		{"update without name", func(ctx context.Context, c *Client) error {
			_, err := c.Update(ctx, UpdateRequest{ID: groupID})
			return err
		}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.mux.HandleFunc("/", reply(http.StatusOK, searchAnswer))

			err := tt.call(context.Background(), f.client)

			var ie *upstream.InputError
			require.ErrorAs(t, err, &ie)
			assert.ErrorIs(t, err, upstream.ErrInvalidInput)
			assert.Equal(t, tt.wantField, ie.Field)
			assert.Zero(t, f.calls.Load())
		})
	}
}

// TestOpaqueIDs sends ids of every shape the platform may answer: each one
// lands, unchanged, in the Id parameter (Get, Delete) or the Id member of
// the body (Update).
func TestOpaqueIDs(t *testing.T) {
	for _, id := range []string{groupID, strings.ToUpper(groupID), "b42a6f0e-3c1d-4e5f-8a9b-0c1d2e3f4a5b", "grp_7", "42",
		strings.Repeat("f", upstream.MaxOpaqueIDLen)} {
		t.Run(shorten(id), func(t *testing.T) {
			f := setup(t)
			last := f.record(t, getAnswer)

			_, err := f.client.Get(context.Background(), id)
			require.NoError(t, err)
			assert.Equal(t, credentialsQuery(url.Values{"Id": {id}}), last().query)

			require.NoError(t, f.client.Delete(context.Background(), id))
			assert.Equal(t, credentialsQuery(url.Values{"Id": {id}}), last().query)

			_, err = f.client.Update(context.Background(), UpdateRequest{ID: id, Name: "Ops"})
			require.NoError(t, err)
			assert.Contains(t, last().body, `"Id":"`+id+`"`)
		})
	}
}

// FuzzOpaqueID proves that no id Get, Delete or Update accepts changes the
// host, the path or the query keys of the request: the id only ever lands
// in the Id parameter (or the body, for Update), and an id refused costs no
// request.
func FuzzOpaqueID(f *testing.F) {
	for _, s := range []string{groupID, "../x", "a/b", "x?y=1", "%2e%2e", "\r\n", groupID + "#f", strings.ToUpper(groupID),
		"b42a6f0e-3c1d-4e5f-8a9b-0c1d2e3f4a5b", "a&IntegrationKey=x", "a=b", "-", "_a_", "a\x00", "a;b", "..", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		var got []*http.Request
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			got = append(got, r)
			return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(getAnswer)), Request: r}, nil
		})}
		c, err := New("https://secure.formsonfire.com", testCompanyID, testKey, hc)
		require.NoError(t, err)
		ctx := context.Background()

		_, getErr := c.Get(ctx, id)
		delErr := c.Delete(ctx, id)
		_, updErr := c.Update(ctx, UpdateRequest{ID: id, Name: "Ops"})

		if upstream.CheckOpaqueID("id", id) != nil {
			for _, err := range []error{getErr, delErr, updErr} {
				assert.ErrorIs(t, err, upstream.ErrInvalidInput)
			}
			assert.Empty(t, got)
			return
		}
		for _, err := range []error{getErr, delErr, updErr} {
			require.NoError(t, err)
		}
		require.Len(t, got, 3)
		for i, r := range got {
			assert.Equal(t, "secure.formsonfire.com", r.URL.Host)
			assert.Equal(t, "/api/v2/usergroup", r.URL.Path)
			assert.Empty(t, r.URL.Fragment)
			want := credentialsQuery(url.Values{"Id": {id}})
			if i == 2 { // Update: the id is in the body
				want = url.Values{"format": {"json"}}
			}
			assert.Equal(t, want, r.URL.Query())
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// shorten keeps subtest names readable.
func shorten(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}
