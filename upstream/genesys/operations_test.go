package genesys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
)

// operation is one client call, the exact request it must send and a
// realistic success answer.
type operation struct {
	name   string
	call   func(context.Context, *Client) (any, error)
	method string
	path   string
	query  url.Values // nil: no query string
	body   string     // expected JSON body; "": none
	status int
	answer string
	// check spot-checks the decoded result (nil for error-only calls).
	check func(*testing.T, any)
}

const groupJSON = `{"id":"` + groupID + `","name":"Support EMEA","description":"Tier 1 support",` +
	`"dateModified":"2026-03-01T10:00:00.000Z","memberCount":12,"state":"active","version":3,"type":"official",` +
	`"images":[{"resolution":"x96","imageUri":"https://cdn.example.com/g.png"}],` +
	`"addresses":[{"address":"+35312345678","display":"+353 1 234 5678","type":"GROUPRING","mediaType":"PHONE"}],` +
	`"rulesVisible":true,"visibility":"public","rolesEnabled":true,"includeOwners":false,"callsEnabled":true,` +
	`"owners":[{"id":"` + userA + `","name":"Ann Smith","selfUri":"/api/v2/users/` + userA + `"}],` +
	`"selfUri":"/api/v2/groups/` + groupID + `"}`

const userJSON = `{"id":"` + userA + `","name":"Ann Smith",` +
	`"division":{"id":"a1b2c3d4-0000-4000-8000-000000000001","name":"Home","selfUri":"/api/v2/authorization/divisions/a1b2c3d4-0000-4000-8000-000000000001"},` +
	`"chat":{"jabberId":"5f1@example.orgspan.com"},"department":"Support","email":"ann@example.com",` +
	`"primaryContactInfo":[{"address":"ann@example.com","mediaType":"EMAIL","type":"PRIMARY"}],` +
	`"addresses":[{"display":"+1 317-555-0100","mediaType":"PHONE","type":"WORK","countryCode":"US"}],` +
	`"state":"active","title":"Agent","username":"ann@example.com",` +
	`"manager":{"id":"` + userB + `","selfUri":"/api/v2/users/` + userB + `"},` +
	`"images":[{"resolution":"x48","imageUri":"https://cdn.example.com/u.png"}],"version":7,` +
	`"certifications":["ITIL"],"biography":{"biography":"Hi","interests":["chess"],"hobbies":["run"],"spouse":"Bo","education":[{"school":"TCD"}]},` +
	`"employerInfo":{"officialName":"Ann Smith","employeeId":"E1","employeeType":"Full-time","dateHire":"2020-01-06"},` +
	`"preferredName":"Annie","routingStatus":{"status":"IDLE"},"presence":{"presenceDefinition":{"systemPresence":"Available"}},` +
	`"profileSkills":["Irish"],"locations":[{"id":"l1"}],"skills":[{"id":"s1","proficiency":4}],"languages":[{"id":"g1"}],` +
	`"acdAutoAnswer":false,"languagePreference":"en-us","dateLastLogin":"2026-03-01T09:00:00.000Z","selfUri":"/api/v2/users/` + userA + `"}`

const pageJSON = `"pageSize":25,"pageNumber":1,"total":1,"pageCount":1,` +
	`"firstUri":"/api/v2/x?pageSize=25&pageNumber=1","selfUri":"/api/v2/x?pageSize=25&pageNumber=1","lastUri":"/api/v2/x?pageSize=25&pageNumber=1"`

const searchJSON = `{"total":1,"pageCount":1,"pageSize":25,"pageNumber":1,` +
	`"previousPage":"/api/v2/groups/search?q64=H4sIAAAAAAAAAKtW%3D","currentPage":"/api/v2/groups/search?q64=H4sIAAAAAAAAAKtW%3D",` +
	`"types":["groups"],"results":[` + groupJSON + `]}`

const dynamicQueryJSON = `{"skillConditions":[{"routingSkillConditions":[{"routingSkill":"Series 6","comparator":"GreaterThanOrEqualTo","proficiency":3,` +
	`"childConditions":[{"routingSkillConditions":[],"languageSkillConditions":[{"languageSkill":"Irish","comparator":"EqualTo","proficiency":0}],"operation":"Or"}]}],` +
	`"languageSkillConditions":[],"operation":"And"}]}`

var dynamicQuery = DynamicGroupQuery{SkillConditions: []DynamicGroupSkillCondition{{
	RoutingSkillConditions: []DynamicGroupRoutingSkillCondition{{
		RoutingSkill: "Series 6", Comparator: GreaterThanOrEqualTo, Proficiency: 3,
		ChildConditions: []DynamicGroupSkillCondition{{
			LanguageSkillConditions: []DynamicGroupLanguageSkillCondition{{LanguageSkill: "Irish", Comparator: EqualTo}},
			Operation:               OperationOr,
		}},
	}},
	Operation: OperationAnd,
}}}

func ptr[T any](v T) *T { return &v }

func operations() []operation {
	return []operation{
		{
			name:   "GetGroup",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetGroup(ctx, groupID) },
			method: http.MethodGet, path: "/api/v2/groups/" + groupID,
			status: http.StatusOK, answer: groupJSON,
			check: func(t *testing.T, v any) {
				g := v.(*Group)
				assert.Equal(t, groupID, g.ID)
				assert.Equal(t, 3, g.Version)
				assert.Equal(t, GroupTypeOfficial, g.Type)
				assert.Equal(t, VisibilityPublic, g.Visibility)
				assert.Equal(t, ptr(false), g.IncludeOwners)
				assert.Equal(t, GroupContactRing, g.Addresses[0].Type)
				assert.Equal(t, userA, g.Owners[0].ID)
			},
		},
		{
			name: "GetGroups by ids",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.GetGroups(ctx, GetGroupsOptions{IDs: []string{groupID, group2ID}})
			},
			method: http.MethodGet, path: "/api/v2/groups",
			query:  url.Values{"id": {groupID, group2ID}, "pageSize": {"2"}},
			status: http.StatusOK, answer: `{"entities":[` + groupJSON + `],` + pageJSON + `}`,
			check: func(t *testing.T, v any) {
				l := v.(*GroupEntityListing)
				require.Len(t, l.Entities, 1)
				assert.Equal(t, groupID, l.Entities[0].ID)
				assert.Equal(t, int64(1), l.Total)
			},
		},
		{
			name: "GetGroups page",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.GetGroups(ctx, GetGroupsOptions{PageSize: 100, PageNumber: 3, SortOrder: SortDescending})
			},
			method: http.MethodGet, path: "/api/v2/groups",
			query:  url.Values{"pageSize": {"100"}, "pageNumber": {"3"}, "sortOrder": {"descending"}},
			status: http.StatusOK, answer: `{"entities":[],` + pageJSON + `}`,
			check: func(t *testing.T, v any) { assert.Empty(t, v.(*GroupEntityListing).Entities) },
		},
		{
			name: "GetGroups by jabberIds",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.GetGroups(ctx, GetGroupsOptions{JabberIDs: []string{"a@conference.x", "b&c=d@x"}, PageSize: 10})
			},
			method: http.MethodGet, path: "/api/v2/groups",
			query:  url.Values{"jabberId": {"a@conference.x", "b&c=d@x"}, "pageSize": {"10"}},
			status: http.StatusOK, answer: `{"entities":[` + groupJSON + `],` + pageJSON + `}`,
			check: func(t *testing.T, v any) { assert.Len(t, v.(*GroupEntityListing).Entities, 1) },
		},
		{
			name: "CreateGroup",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateGroup(ctx, GroupCreate{Name: "Support EMEA", Type: GroupTypeOfficial, RulesVisible: true,
					Visibility: VisibilityPublic, OwnerIDs: []string{userA}, IncludeOwners: ptr(false)})
			},
			method: http.MethodPost, path: "/api/v2/groups",
			body:   `{"name":"Support EMEA","type":"official","rulesVisible":true,"visibility":"public","ownerIds":["` + userA + `"],"includeOwners":false}`,
			status: http.StatusOK, answer: groupJSON,
			check: func(t *testing.T, v any) { assert.Equal(t, groupID, v.(*Group).ID) },
		},
		{
			name: "UpdateGroup",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdateGroup(ctx, groupID, GroupUpdate{Version: 3, Name: ptr("Support"), RulesVisible: ptr(false),
					Visibility: ptr(VisibilityOwners), OwnerIDs: []string{userA, userB}})
			},
			method: http.MethodPut, path: "/api/v2/groups/" + groupID,
			body:   `{"version":3,"name":"Support","rulesVisible":false,"visibility":"owners","ownerIds":["` + userA + `","` + userB + `"]}`,
			status: http.StatusOK, answer: groupJSON,
			check: func(t *testing.T, v any) { assert.Equal(t, 3, v.(*Group).Version) },
		},
		{
			name: "UpdateGroup clearing addresses and images",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdateGroup(ctx, groupID, GroupUpdate{Version: 3, Addresses: []GroupContact{}, Images: []Image{}})
			},
			method: http.MethodPut, path: "/api/v2/groups/" + groupID,
			body:   `{"version":3,"addresses":[],"images":[]}`,
			status: http.StatusOK, answer: groupJSON,
			check: func(t *testing.T, v any) { assert.Equal(t, 3, v.(*Group).Version) },
		},
		{
			name: "UpdateGroup replacing addresses, keeping images",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdateGroup(ctx, groupID, GroupUpdate{Version: 3, Addresses: []GroupContact{
					{Address: "+35312345678", Type: GroupContactRing, MediaType: MediaTypePhone}}})
			},
			method: http.MethodPut, path: "/api/v2/groups/" + groupID,
			body:   `{"version":3,"addresses":[{"address":"+35312345678","type":"GROUPRING","mediaType":"PHONE"}]}`,
			status: http.StatusOK, answer: groupJSON,
			check: func(t *testing.T, v any) { assert.Equal(t, 3, v.(*Group).Version) },
		},
		{
			name:   "DeleteGroup",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteGroup(ctx, groupID) },
			method: http.MethodDelete, path: "/api/v2/groups/" + groupID,
			status: http.StatusOK,
		},
		{
			name: "GetGroupMembers",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.GetGroupMembers(ctx, groupID, MembersOptions{PageSize: 50, PageNumber: 2, SortOrder: SortAscending,
					Expand: []string{"presence", "routingStatus"}})
			},
			method: http.MethodGet, path: "/api/v2/groups/" + groupID + "/members",
			query: url.Values{"pageSize": {"50"}, "pageNumber": {"2"}, "sortOrder": {"ascending"},
				"expand": {"presence", "routingStatus"}},
			status: http.StatusOK, answer: `{"entities":[` + userJSON + `],` + pageJSON + `}`,
			check: func(t *testing.T, v any) {
				u := v.(*UserEntityListing).Entities[0]
				assert.Equal(t, "5f1@example.orgspan.com", u.Chat.JabberID)
				assert.Equal(t, "Home", u.Division.Name)
				assert.Equal(t, userB, u.Manager.ID)
				assert.Equal(t, ptr(false), u.AcdAutoAnswer)
				assert.JSONEq(t, `{"presenceDefinition":{"systemPresence":"Available"}}`, string(u.Expansions.Presence))
				assert.Equal(t, "E1", u.Expansions.EmployerInfo.EmployeeID)
			},
		},
		{
			name:   "GetGroupIndividuals",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetGroupIndividuals(ctx, groupID) },
			method: http.MethodGet, path: "/api/v2/groups/" + groupID + "/individuals",
			status: http.StatusOK, answer: `{"entities":[` + userJSON + `],` + pageJSON + `}`,
			check: func(t *testing.T, v any) { assert.Equal(t, userA, v.(*UserEntityListing).Entities[0].ID) },
		},
		{
			name: "AddGroupMembers",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.AddGroupMembers(ctx, groupID, GroupMembersUpdate{MemberIDs: []string{userA, userB}, Version: ptr(3)})
			},
			method: http.MethodPost, path: "/api/v2/groups/" + groupID + "/members",
			body:   `{"memberIds":["` + userA + `","` + userB + `"],"version":3}`,
			status: http.StatusAccepted, answer: `{}`,
		},
		{
			name: "AddGroupMembers without version, empty 202",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.AddGroupMembers(ctx, groupID, GroupMembersUpdate{MemberIDs: []string{userA}})
			},
			method: http.MethodPost, path: "/api/v2/groups/" + groupID + "/members",
			body:   `{"memberIds":["` + userA + `"]}`,
			status: http.StatusAccepted,
		},
		{
			name: "RemoveGroupMembers",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.RemoveGroupMembers(ctx, groupID, []string{userA, userB})
			},
			method: http.MethodDelete, path: "/api/v2/groups/" + groupID + "/members",
			query:  url.Values{"ids": {userA + "," + userB}},
			status: http.StatusAccepted, answer: `{}`,
		},
		{
			name:   "GetDynamicSettings",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetDynamicSettings(ctx, groupID) },
			method: http.MethodGet, path: "/api/v2/groups/" + groupID + "/dynamicsettings",
			status: http.StatusOK,
			answer: `{"group":{"id":"` + groupID + `","selfUri":"/api/v2/groups/` + groupID + `"},"dateModified":"2026-02-01T08:00:00Z",` +
				`"query":` + dynamicQueryJSON + `,"selfUri":"/api/v2/groups/` + groupID + `/dynamicsettings"}`,
			check: func(t *testing.T, v any) {
				d := v.(*DynamicGroupDefinition)
				assert.Equal(t, groupID, d.Group.ID)
				assert.Equal(t, dynamicQuery.SkillConditions[0].Operation, d.Query.SkillConditions[0].Operation)
				assert.Equal(t, "Series 6", d.Query.SkillConditions[0].RoutingSkillConditions[0].RoutingSkill)
			},
		},
		{
			name: "PutDynamicSettings",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.PutDynamicSettings(ctx, groupID, dynamicQuery)
			},
			method: http.MethodPut, path: "/api/v2/groups/" + groupID + "/dynamicsettings",
			body: dynamicQueryJSON, status: http.StatusNoContent,
		},
		{
			name:   "DeleteDynamicSettings",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteDynamicSettings(ctx, groupID) },
			method: http.MethodDelete, path: "/api/v2/groups/" + groupID + "/dynamicsettings",
			status: http.StatusNoContent,
		},
		{
			name:   "PreviewDynamicGroup",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.PreviewDynamicGroup(ctx, dynamicQuery) },
			method: http.MethodPost, path: "/api/v2/groups/dynamicsettings/preview",
			body: dynamicQueryJSON, status: http.StatusOK, answer: `{"userCount":17}`,
			check: func(t *testing.T, v any) { assert.Equal(t, 17, v.(*DynamicGroupQueryPreview).UserCount) },
		},
		{
			name: "SearchGroups",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SearchGroups(ctx, GroupSearchRequest{PageSize: 25, PageNumber: 1, SortOrder: SearchSortAscending, SortBy: "name",
					Query: []GroupSearchCriteria{{Type: CriteriaExact, Fields: []string{"name"}, Value: "Support EMEA"},
						{Type: CriteriaStartsWith, Fields: []string{"name"}, Value: "Sup", Operator: OperatorOr}}})
			},
			method: http.MethodPost, path: "/api/v2/groups/search",
			body: `{"sortOrder":"ASC","sortBy":"name","pageSize":25,"pageNumber":1,"query":[` +
				`{"type":"EXACT","fields":["name"],"value":"Support EMEA"},{"type":"STARTS_WITH","fields":["name"],"value":"Sup","operator":"OR"}]}`,
			status: http.StatusOK, answer: searchJSON,
			check: func(t *testing.T, v any) {
				r := v.(*GroupsSearchResponse)
				assert.Equal(t, int64(1), r.Total)
				assert.Equal(t, "H4sIAAAAAAAAAKtW=", CursorQ64(r.CurrentPage))
				assert.Equal(t, groupID, r.Results[0].ID)
			},
		},
		{
			name: "SearchGroupsByCursor",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SearchGroupsByCursor(ctx, "H4sIAAAAAAAAAKtW-_=", []string{"owners", "images"})
			},
			method: http.MethodGet, path: "/api/v2/groups/search",
			query:  url.Values{"q64": {"H4sIAAAAAAAAAKtW-_="}, "expand": {"owners", "images"}},
			status: http.StatusOK, answer: searchJSON,
			check: func(t *testing.T, v any) { assert.Equal(t, []string{"groups"}, v.(*GroupsSearchResponse).Types) },
		},
		{
			name:   "GetFieldConfig",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetFieldConfig(ctx, EntityGroup) },
			method: http.MethodGet, path: "/api/v2/fieldconfig",
			query:  url.Values{"type": {"group"}},
			status: http.StatusOK,
			answer: `{"id":"group","name":"group","entityType":"group","state":"active","version":"4","schemaVersion":"1",` +
				`"sections":[{"key":"contactInfo","state":"active","instructionText":"Contact",` +
				`"fieldList":[{"key":"groupName","type":"TEXT","labelKeys":["name"],"params":{"maxLength":200},"required":true,"repeatable":true,"gdpr":true,"customLabels":true,"state":"active","instructionText":"Name"}]}],` +
				`"selfUri":"/api/v2/fieldconfig"}`,
			check: func(t *testing.T, v any) {
				f := v.(*FieldConfig)
				assert.Equal(t, EntityGroup, f.EntityType)
				assert.Equal(t, "groupName", f.Sections[0].FieldList[0].Key)
				assert.JSONEq(t, `200`, string(f.Sections[0].FieldList[0].Params["maxLength"]))
			},
		},
		{
			name: "GetGroupProfile",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.GetGroupProfile(ctx, groupID, []string{"name", "description"})
			},
			method: http.MethodGet, path: "/api/v2/groups/" + groupID + "/profile",
			query:  url.Values{"fields": {"name,description"}},
			status: http.StatusOK,
			answer: `{"id":"` + groupID + `","name":"Support EMEA","state":"active","dateModified":"2026-03-01T10:00:00.000Z","version":3,"selfUri":"/api/v2/groups/` + groupID + `/profile"}`,
			check:  func(t *testing.T, v any) { assert.Equal(t, 3, v.(*GroupProfile).Version) },
		},
		{
			name: "GetGroupProfiles",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.GetGroupProfiles(ctx, GetGroupsOptions{IDs: []string{groupID}, SortOrder: SortAscending})
			},
			method: http.MethodGet, path: "/api/v2/profiles/groups",
			query:  url.Values{"id": {groupID}, "pageSize": {"1"}, "sortOrder": {"ascending"}},
			status: http.StatusOK,
			answer: `{"entities":[{"id":"` + groupID + `","name":"Support EMEA","state":"active","version":3}],` + pageJSON + `}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, StateActive, v.(*GroupProfileEntityListing).Entities[0].State)
			},
		},
		{
			name:   "GetUserMe",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetUserMe(ctx) },
			method: http.MethodGet, path: "/api/v2/users/me",
			query:  url.Values{"expand": {"authorization"}},
			status: http.StatusOK,
			answer: `{"id":"` + userA + `","name":"Ann Smith","authorization":{"roles":[{"id":"r1","name":"Admin"}],` +
				`"permissions":["directory:group:add","directory:group:edit"]}}`,
			check: func(t *testing.T, v any) {
				me := v.(*UserMe)
				assert.Equal(t, []string{"directory:group:add", "directory:group:edit"}, me.Authorization.Permissions)
				assert.Equal(t, "Admin", me.Authorization.Roles[0].Name)
			},
		},
	}
}

// captured is what the fake API saw of a request.
type captured struct {
	method, path string
	query        url.Values
	rawQuery     string
	header       http.Header
	body         []byte
}

func capture(t *testing.T, r *http.Request) captured {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return captured{method: r.Method, path: r.URL.Path, query: r.URL.Query(), rawQuery: r.URL.RawQuery, header: r.Header.Clone(), body: b}
}

// TestRequestsAndAnswers: every method sends exactly the documented request
// and decodes a realistic answer field for field.
func TestRequestsAndAnswers(t *testing.T) {
	for _, op := range operations() {
		t.Run(op.name, func(t *testing.T) {
			c, mux := setup(t)
			countRequests(t, mux)
			var got captured
			mux.HandleFunc(op.method+" "+op.path, func(w http.ResponseWriter, r *http.Request) {
				got = capture(t, r)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(op.status)
				fmt.Fprint(w, op.answer)
			})

			v, err := op.call(context.Background(), c)
			require.NoError(t, err)

			assert.Equal(t, op.method, got.method)
			assert.Equal(t, op.path, got.path)
			if op.query == nil {
				assert.Empty(t, got.rawQuery)
			} else {
				assert.Equal(t, op.query, got.query)
			}
			assert.Equal(t, "Bearer "+testToken, got.header.Get("Authorization"))
			assert.Equal(t, "application/json", got.header.Get("Accept"))
			assert.Equal(t, DefaultUserAgent, got.header.Get("User-Agent"))
			if op.body == "" {
				assert.Empty(t, got.body)
				assert.Empty(t, got.header.Get("Content-Type"))
			} else {
				assert.JSONEq(t, op.body, string(got.body))
				assert.Equal(t, "application/json", got.header.Get("Content-Type"))
			}
			if op.check == nil {
				return
			}
			// Round trip: every field of the answer has a home in the model.
			// json v2, as the client decodes (User.Expansions is inlined,
			// which encoding/json does not know), with encoding/json's
			// omitempty.
			b, err := jsonv2.Marshal(v, jsonv1.OmitEmptyWithLegacySemantics(true))
			require.NoError(t, err)
			assert.JSONEq(t, op.answer, string(b))
			op.check(t, v)
		})
	}
}

// TestErrorMapping: every method maps every error status to the right
// sentinel and keeps status, code, correlation id and Retry-After.
func TestErrorMapping(t *testing.T) {
	sentinels := []error{upstream.ErrBadRequest, upstream.ErrUnauthorized, upstream.ErrForbidden, upstream.ErrNotFound,
		upstream.ErrConflict, upstream.ErrRateLimited, upstream.ErrUnavailable}
	statuses := []struct {
		status     int
		code       string
		want       error
		retryAfter string
	}{
		{http.StatusBadRequest, "bad.request", upstream.ErrBadRequest, ""},
		{http.StatusUnauthorized, "authentication.required", upstream.ErrUnauthorized, ""},
		{http.StatusForbidden, "missing.any.permissions", upstream.ErrForbidden, ""},
		{http.StatusNotFound, "not.found", upstream.ErrNotFound, ""},
		{http.StatusConflict, "general.conflict", upstream.ErrConflict, ""},
		{http.StatusTooManyRequests, "too.many.requests.retry.after", upstream.ErrRateLimited, "7"},
		{http.StatusInternalServerError, "internal.server.error", upstream.ErrUnavailable, ""},
		{http.StatusServiceUnavailable, "service.unavailable", upstream.ErrUnavailable, "2"},
	}
	for _, op := range operations() {
		for _, st := range statuses {
			t.Run(fmt.Sprintf("%s/%d", op.name, st.status), func(t *testing.T) {
				c, mux := setup(t)
				mux.HandleFunc(op.method+" "+op.path, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("ININ-Correlation-Id", "corr-"+st.code)
					if st.retryAfter != "" {
						w.Header().Set("Retry-After", st.retryAfter)
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(st.status)
					fmt.Fprintf(w, `{"message":"failed","code":%q,"status":%d,"contextId":"corr-%s","details":[],"errors":[]}`,
						st.code, st.status, st.code)
				})

				_, err := op.call(context.Background(), c)
				require.Error(t, err)
				for _, s := range sentinels {
					assert.Equal(t, s == st.want, errors.Is(err, s), "errors.Is(err, %v)", s)
				}
				var ue *upstream.Error
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, upstream.Genesys, ue.Upstream)
				assert.Equal(t, op.method, ue.Method)
				assert.Equal(t, op.path, ue.Path)
				assert.Equal(t, st.status, ue.Status)
				assert.Equal(t, st.code, ue.Code)
				assert.Equal(t, "failed", ue.Message)
				assert.Equal(t, "corr-"+st.code, ue.CorrelationID)
				wantWait := map[string]time.Duration{"": 0, "7": 7 * time.Second, "2": 2 * time.Second}[st.retryAfter]
				assert.Equal(t, wantWait, ue.RetryAfter)
				assert.NotContains(t, err.Error(), testToken)
			})
		}
	}
}
