package genesys

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/groupdir/gateway/upstream"
)

// MaxMembersPerRequest is how many user ids one AddGroupMembers or
// RemoveGroupMembers call may carry (the API's documented limit).
const MaxMembersPerRequest = 50

// MembersOptions selects a page of group members. Zero values are not sent
// (the API defaults are page size 25, page 1).
type MembersOptions struct {
	PageSize   int
	PageNumber int
	SortOrder  SortOrder
	// Expand names user parts to include, e.g. "presence", "routingStatus",
	// "skills"; each is sent as its own expand= key.
	Expand []string
}

// GetGroupMembers returns a page of the group's members: individuals,
// owners (when the group includes them) and dynamically included users.
//
// Upstream: GET /api/v2/groups/{groupId}/members
func (c *Client) GetGroupMembers(ctx context.Context, id string, opts MembersOptions) (*UserEntityListing, error) {
	path, err := groupPath(id, "/members")
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if err := addPaging(q, opts.PageSize, opts.PageNumber, opts.SortOrder); err != nil {
		return nil, err
	}
	if len(opts.Expand) > 0 {
		q["expand"] = opts.Expand
	}
	return fetch[UserEntityListing](ctx, c, http.MethodGet, path, q, nil)
}

// GetGroupIndividuals returns the users added to the group directly (the
// API has no paging for it).
//
// Upstream: GET /api/v2/groups/{groupId}/individuals
func (c *Client) GetGroupIndividuals(ctx context.Context, id string) (*UserEntityListing, error) {
	path, err := groupPath(id, "/individuals")
	if err != nil {
		return nil, err
	}
	return fetch[UserEntityListing](ctx, c, http.MethodGet, path, nil, nil)
}

// AddGroupMembers adds 1 to MaxMembersPerRequest users to the group. A stale
// u.Version is upstream.ErrConflict (409, 400 "… does not match the current
// version …" or 408). u.Version is optional since SDK 247 (2026-01-12). The
// API answers 202: the change may not be visible at once.
//
// Upstream: POST /api/v2/groups/{groupId}/members
func (c *Client) AddGroupMembers(ctx context.Context, id string, u GroupMembersUpdate) error {
	path, err := groupPath(id, "/members")
	if err != nil {
		return err
	}
	if err := checkMemberIDs("memberIds", u.MemberIDs); err != nil {
		return err
	}
	return versioned(c.call(ctx, http.MethodPost, path, nil, u, nil))
}

// RemoveGroupMembers removes 1 to MaxMembersPerRequest users from the group.
// It carries no version, yet Genesys may answer it with a version conflict
// (upstream.ErrConflict) when the group changes meanwhile. The API answers
// 202: the change may not be visible at once.
//
// Upstream: DELETE /api/v2/groups/{groupId}/members
func (c *Client) RemoveGroupMembers(ctx context.Context, id string, memberIDs []string) error {
	path, err := groupPath(id, "/members")
	if err != nil {
		return err
	}
	if err := checkMemberIDs("ids", memberIDs); err != nil {
		return err
	}
	return versioned(c.call(ctx, http.MethodDelete, path, url.Values{"ids": {strings.Join(memberIDs, ",")}}, nil, nil))
}

// checkMemberIDs accepts 1 to MaxMembersPerRequest UUIDs.
func checkMemberIDs(field string, ids []string) error {
	if len(ids) == 0 || len(ids) > MaxMembersPerRequest {
		return &upstream.InputError{Field: field, Reason: "must hold 1 to 50 user ids"}
	}
	return upstream.CheckIDs(field, ids)
}
