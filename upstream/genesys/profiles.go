package genesys

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/groupdir/gateway/upstream"
)

// GetGroupProfile returns the profile of group id with the given fields
// (keys from GetFieldConfig(EntityGroup); none means the server's default).
// Deprecated upstream in favour of GetGroup.
//
// Upstream: GET /api/v2/groups/{groupId}/profile
func (c *Client) GetGroupProfile(ctx context.Context, id string, fields []string) (*GroupProfile, error) {
	path, err := groupPath(id, "/profile")
	if err != nil {
		return nil, err
	}
	var q url.Values
	if len(fields) > 0 {
		for _, f := range fields {
			if f == "" || strings.Contains(f, ",") {
				return nil, &upstream.InputError{Field: "fields", Reason: "each field must be a non-empty key without commas"}
			}
		}
		q = url.Values{"fields": {strings.Join(fields, ",")}}
	}
	return fetch[GroupProfile](ctx, c, http.MethodGet, path, q, nil)
}

// GetGroupProfiles returns a page of group profiles, or the profiles of the
// groups with the given ids or jabberIds. Deprecated upstream in favour of
// GetGroups.
//
// Upstream: GET /api/v2/profiles/groups
func (c *Client) GetGroupProfiles(ctx context.Context, opts GetGroupsOptions) (*GroupProfileEntityListing, error) {
	q, err := opts.query()
	if err != nil {
		return nil, err
	}
	return fetch[GroupProfileEntityListing](ctx, c, http.MethodGet, "/api/v2/profiles/groups", q, nil)
}
