package genesys

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/groupdir/gateway/upstream"
)

// hostileIDs could change the path, query or host of a request if they were
// put into a URL as they are.
var hostileIDs = []string{
	"../users/me", "..", ".", "a/b", "x?y=1", "%2e%2e", "%2F", groupID + "/../x", groupID + "?id=1", groupID + "#x",
	"line\r\nX-Injected: 1", "\n", strings.Repeat("a", 10000), "", " " + groupID, groupID + " ",
	"@evil.example.com", "//evil.example.com", "5d3b0c2e-8a41-4c7e-9f0a-1b2c3d4e5f6", "5d3b0c2e_8a41_4c7e_9f0a_1b2c3d4e5f60",
}

// idCall is a call that puts an id in a path or an ids list, and the path
// and query it must send for an accepted id.
type idCall struct {
	name  string
	call  func(ctx context.Context, c *Client, id string) error
	path  func(id string) string
	query func(id string) url.Values
}

func idCalls() []idCall {
	group := func(suffix string) func(string) string {
		return func(id string) string { return "/api/v2/groups/" + id + suffix }
	}
	fixed := func(path string) func(string) string { return func(string) string { return path } }
	none := func(string) url.Values { return url.Values{} }
	return []idCall{
		{"GetGroup", func(ctx context.Context, c *Client, id string) error { _, err := c.GetGroup(ctx, id); return err },
			group(""), none},
		{"UpdateGroup", func(ctx context.Context, c *Client, id string) error {
			_, err := c.UpdateGroup(ctx, id, GroupUpdate{Version: 1})
			return err
		}, group(""), none},
		{"DeleteGroup", func(ctx context.Context, c *Client, id string) error { return c.DeleteGroup(ctx, id) },
			group(""), none},
		{"GetGroupMembers", func(ctx context.Context, c *Client, id string) error {
			_, err := c.GetGroupMembers(ctx, id, MembersOptions{})
			return err
		}, group("/members"), none},
		{"GetGroupIndividuals", func(ctx context.Context, c *Client, id string) error {
			_, err := c.GetGroupIndividuals(ctx, id)
			return err
		}, group("/individuals"), none},
		{"AddGroupMembers/group", func(ctx context.Context, c *Client, id string) error {
			return c.AddGroupMembers(ctx, id, GroupMembersUpdate{MemberIDs: []string{userA}})
		}, group("/members"), none},
		{"AddGroupMembers/member", func(ctx context.Context, c *Client, id string) error {
			return c.AddGroupMembers(ctx, groupID, GroupMembersUpdate{MemberIDs: []string{userA, id}})
		}, fixed("/api/v2/groups/" + groupID + "/members"), none},
		{"RemoveGroupMembers/group", func(ctx context.Context, c *Client, id string) error {
			return c.RemoveGroupMembers(ctx, id, []string{userA})
		}, group("/members"), func(string) url.Values { return url.Values{"ids": {userA}} }},
		{"RemoveGroupMembers/member", func(ctx context.Context, c *Client, id string) error {
			return c.RemoveGroupMembers(ctx, groupID, []string{id, userA})
		}, fixed("/api/v2/groups/" + groupID + "/members"), func(id string) url.Values { return url.Values{"ids": {id + "," + userA}} }},
		{"GetDynamicSettings", func(ctx context.Context, c *Client, id string) error {
			_, err := c.GetDynamicSettings(ctx, id)
			return err
		}, group("/dynamicsettings"), none},
		{"PutDynamicSettings", func(ctx context.Context, c *Client, id string) error {
			return c.PutDynamicSettings(ctx, id, dynamicQuery)
		}, group("/dynamicsettings"), none},
		{"DeleteDynamicSettings", func(ctx context.Context, c *Client, id string) error {
			return c.DeleteDynamicSettings(ctx, id)
		}, group("/dynamicsettings"), none},
		{"GetGroupProfile", func(ctx context.Context, c *Client, id string) error {
			_, err := c.GetGroupProfile(ctx, id, nil)
			return err
		}, group("/profile"), none},
		{"GetGroups", func(ctx context.Context, c *Client, id string) error {
			_, err := c.GetGroups(ctx, GetGroupsOptions{IDs: []string{groupID, id}})
			return err
		}, fixed("/api/v2/groups"), func(id string) url.Values { return url.Values{"id": {groupID, id}, "pageSize": {"2"}} }},
		{"GetGroupProfiles", func(ctx context.Context, c *Client, id string) error {
			_, err := c.GetGroupProfiles(ctx, GetGroupsOptions{IDs: []string{id}})
			return err
		}, fixed("/api/v2/profiles/groups"), func(id string) url.Values { return url.Values{"id": {id}, "pageSize": {"1"}} }},
	}
}

// countingTokens counts how often the gateway's token is asked for.
type countingTokens struct{ n atomic.Int64 }

func (s *countingTokens) Token() (*oauth2.Token, error) {
	s.n.Add(1)
	return &oauth2.Token{AccessToken: testToken}, nil
}

// TestInvalidIDsSendNothing: a hostile id is an InputError and neither the
// API nor the token source is asked anything.
func TestInvalidIDsSendNothing(t *testing.T) {
	c, mux := setup(t)
	requests := countRequests(t, mux)
	tokens := &countingTokens{}
	WithTokenSource(tokens)(c)
	for _, ic := range idCalls() {
		for _, id := range hostileIDs {
			err := ic.call(context.Background(), c, id)
			var ie *upstream.InputError
			if assert.ErrorAs(t, err, &ie, "%s(%q)", ic.name, id) {
				assert.ErrorIs(t, err, upstream.ErrInvalidInput)
				assert.NotEmpty(t, ie.Field)
			}
		}
	}
	assert.Zero(t, requests.Load())
	assert.Zero(t, tokens.n.Load())
}

// TestInputErrors: arguments the API would reject, or that the client
// cannot send faithfully, cost no request.
func TestInputErrors(t *testing.T) {
	fiftyOne := make([]string, MaxMembersPerRequest+1)
	for i := range fiftyOne {
		fiftyOne[i] = userA
	}
	ctx := context.Background()
	tests := map[string]func(*Client) error{
		"id with jabberId": func(c *Client) error {
			_, err := c.GetGroups(ctx, GetGroupsOptions{IDs: []string{groupID}, JabberIDs: []string{"j@x"}})
			return err
		},
		"empty jabberId": func(c *Client) error {
			_, err := c.GetGroupProfiles(ctx, GetGroupsOptions{JabberIDs: []string{""}})
			return err
		},
		"negative page size": func(c *Client) error {
			_, err := c.GetGroups(ctx, GetGroupsOptions{PageSize: -1})
			return err
		},
		"negative page number": func(c *Client) error {
			_, err := c.GetGroupMembers(ctx, groupID, MembersOptions{PageNumber: -1})
			return err
		},
		"unknown sort order": func(c *Client) error {
			_, err := c.GetGroups(ctx, GetGroupsOptions{SortOrder: "ASC"})
			return err
		},
		"51 members added": func(c *Client) error {
			return c.AddGroupMembers(ctx, groupID, GroupMembersUpdate{MemberIDs: fiftyOne})
		},
		"no member added":         func(c *Client) error { return c.AddGroupMembers(ctx, groupID, GroupMembersUpdate{}) },
		"51 members removed":      func(c *Client) error { return c.RemoveGroupMembers(ctx, groupID, fiftyOne) },
		"no member removed":       func(c *Client) error { return c.RemoveGroupMembers(ctx, groupID, nil) },
		"field config type":       func(c *Client) error { _, err := c.GetFieldConfig(ctx, "user"); return err },
		"empty field config type": func(c *Client) error { _, err := c.GetFieldConfig(ctx, ""); return err },
		"profile field with comma": func(c *Client) error {
			_, err := c.GetGroupProfile(ctx, groupID, []string{"name,x"})
			return err
		},
		"empty profile field": func(c *Client) error { _, err := c.GetGroupProfile(ctx, groupID, []string{""}); return err },
		"empty q64":           func(c *Client) error { _, err := c.SearchGroupsByCursor(ctx, "", nil); return err },
		"q64 with query": func(c *Client) error {
			_, err := c.SearchGroupsByCursor(ctx, "abc&expand=x", nil)
			return err
		},
		"percent-encoded q64": func(c *Client) error { _, err := c.SearchGroupsByCursor(ctx, "abc%3D", nil); return err },
		"huge q64": func(c *Client) error {
			_, err := c.SearchGroupsByCursor(ctx, strings.Repeat("A", maxQ64+1), nil)
			return err
		},
		"empty expand": func(c *Client) error { _, err := c.SearchGroupsByCursor(ctx, "abc", []string{""}); return err },
		"search criterion without type": func(c *Client) error {
			_, err := c.SearchGroups(ctx, GroupSearchRequest{Query: []GroupSearchCriteria{{Fields: []string{"name"}, Value: "x"}}})
			return err
		},
		"nested search criterion without type": func(c *Client) error {
			_, err := c.SearchGroups(ctx, GroupSearchRequest{Query: []GroupSearchCriteria{{Type: CriteriaMatchAll,
				Group: []GroupSearchCriteria{{Type: CriteriaExact, Fields: []string{"name"}, Value: "x"}, {Value: "y"}}}}})
			return err
		},
		"body over the request limit": func(c *Client) error {
			_, err := c.CreateGroup(ctx, GroupCreate{Name: strings.Repeat("n", MaxRequestBody)})
			return err
		},
	}
	c, mux := setup(t)
	requests := countRequests(t, mux)
	for name, call := range tests {
		t.Run(name, func(t *testing.T) {
			err := call(c)
			var ie *upstream.InputError
			require.ErrorAs(t, err, &ie)
			assert.ErrorIs(t, err, upstream.ErrInvalidInput)
		})
	}
	assert.Zero(t, requests.Load())
}

// recorder is a RoundTripper that records request URLs and answers {}.
type recorder struct{ urls []*url.URL }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.urls = append(r.urls, req.URL)
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: req}, nil
}

// FuzzPathBuilder: for any id the client accepts, every request goes to the
// expected path under the base URL, on the same host, with exactly the query
// the operation defines; an id it rejects sends nothing.
func FuzzPathBuilder(f *testing.F) {
	for _, id := range append(hostileIDs, groupID, strings.ToUpper(groupID)) {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		rec := &recorder{}
		c, err := New("https://api.example.test/base", &http.Client{Transport: rec},
			WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})))
		require.NoError(t, err)
		accepted := upstream.CheckID("id", id) == nil
		for _, ic := range idCalls() {
			rec.urls = nil
			err := ic.call(context.Background(), c, id)
			if !accepted {
				assert.ErrorIs(t, err, upstream.ErrInvalidInput, ic.name)
				assert.Empty(t, rec.urls, ic.name)
				continue
			}
			require.NoError(t, err, ic.name)
			require.Len(t, rec.urls, 1, ic.name)
			u := rec.urls[0]
			assert.Equal(t, "https", u.Scheme, ic.name)
			assert.Equal(t, "api.example.test", u.Host, ic.name)
			assert.Nil(t, u.User, ic.name)
			assert.Empty(t, u.Fragment, ic.name)
			assert.Equal(t, "/base"+ic.path(id), u.EscapedPath(), ic.name)
			assert.Equal(t, ic.query(id), u.Query(), ic.name)
		}
	})
}
