package genesys

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/groupdir/gateway/upstream"
)

// groupsPath is the collection of groups.
const groupsPath = "/api/v2/groups"

// GetGroupsOptions selects a page of groups (GetGroups, GetGroupProfiles).
// Zero values are not sent (the API defaults are page size 25, page 1,
// ascending).
type GetGroupsOptions struct {
	// IDs fetches these groups in bulk (each must be a UUID); unknown ids
	// are expected to be left out of the answer.
	IDs []string
	// JabberIDs fetches groups by chat jabberId; it cannot be combined with
	// IDs.
	JabberIDs []string
	// PageSize defaults, when IDs or JabberIDs are given, to their number, so
	// that one page holds every match.
	PageSize   int
	PageNumber int
	SortOrder  SortOrder
}

// query checks o and builds its query string: repeated id= or jabberId=
// keys, paging and sort order.
func (o GetGroupsOptions) query() (url.Values, error) {
	if len(o.IDs) > 0 && len(o.JabberIDs) > 0 {
		return nil, &upstream.InputError{Field: "jabberId", Reason: "cannot be combined with id"}
	}
	if err := upstream.CheckIDs("id", o.IDs); err != nil {
		return nil, err
	}
	if slices.Contains(o.JabberIDs, "") {
		return nil, &upstream.InputError{Field: "jabberId", Reason: "must not be empty"}
	}
	q := url.Values{}
	if len(o.IDs) > 0 {
		q["id"] = o.IDs
	}
	if len(o.JabberIDs) > 0 {
		q["jabberId"] = o.JabberIDs
	}
	size := o.PageSize
	if size == 0 {
		size = len(o.IDs) + len(o.JabberIDs)
	}
	return q, addPaging(q, size, o.PageNumber, o.SortOrder)
}

// addPaging checks and adds pageSize, pageNumber and sortOrder to q; zero
// values are left out.
func addPaging(q url.Values, size, number int, order SortOrder) error {
	switch {
	case size < 0:
		return &upstream.InputError{Field: "pageSize", Reason: "must not be negative"}
	case number < 0:
		return &upstream.InputError{Field: "pageNumber", Reason: "must not be negative"}
	case order != "" && order != SortAscending && order != SortDescending:
		return &upstream.InputError{Field: "sortOrder", Reason: "must be ascending or descending"}
	}
	if size > 0 {
		q.Set("pageSize", strconv.Itoa(size))
	}
	if number > 0 {
		q.Set("pageNumber", strconv.Itoa(number))
	}
	if order != "" {
		q.Set("sortOrder", string(order))
	}
	return nil
}

// groupPath is the path of group id followed by suffix ("" or "/members"
// ...), after checking that id is a UUID; the id is then safe to put in a
// path as it is.
func groupPath(id, suffix string) (string, error) {
	if err := upstream.CheckID("groupId", id); err != nil {
		return "", err
	}
	return groupsPath + "/" + id + suffix, nil
}

// GetGroup returns a group. A deleted group may come back with
// State StateDeleted instead of a 404.
//
// Upstream: GET /api/v2/groups/{groupId}
func (c *Client) GetGroup(ctx context.Context, id string) (*Group, error) {
	path, err := groupPath(id, "")
	if err != nil {
		return nil, err
	}
	return fetch[Group](ctx, c, http.MethodGet, path, nil, nil)
}

// GetGroups returns a page of groups, or the groups with the given ids or
// jabberIds.
//
// Upstream: GET /api/v2/groups
func (c *Client) GetGroups(ctx context.Context, opts GetGroupsOptions) (*GroupEntityListing, error) {
	q, err := opts.query()
	if err != nil {
		return nil, err
	}
	return fetch[GroupEntityListing](ctx, c, http.MethodGet, groupsPath, q, nil)
}

// CreateGroup creates a group and returns it (the API answers 200, not 201).
// The server ignores g.Description; set it with UpdateGroup.
//
// Upstream: POST /api/v2/groups
func (c *Client) CreateGroup(ctx context.Context, g GroupCreate) (*Group, error) {
	return fetch[Group](ctx, c, http.MethodPost, groupsPath, nil, g)
}

// UpdateGroup updates group id. u.Version must be the group's current
// version; a stale one is answered 409, 400 "… does not match the current
// version …" or 408, all upstream.ErrConflict.
//
// Upstream: PUT /api/v2/groups/{groupId}
func (c *Client) UpdateGroup(ctx context.Context, id string, u GroupUpdate) (*Group, error) {
	path, err := groupPath(id, "")
	if err != nil {
		return nil, err
	}
	g, err := fetch[Group](ctx, c, http.MethodPut, path, nil, u)
	return g, versioned(err)
}

// DeleteGroup deletes group id. The upstream completes the delete
// asynchronously: a later GetGroup may answer 404 or a group with
// StateDeleted, and rarely the group unchanged. Genesys sometimes answers a
// delete that meets a concurrent change with a version conflict
// (upstream.ErrConflict), as the writes that carry a version.
//
// Upstream: DELETE /api/v2/groups/{groupId}
func (c *Client) DeleteGroup(ctx context.Context, id string) error {
	path, err := groupPath(id, "")
	if err != nil {
		return err
	}
	return versioned(c.call(ctx, http.MethodDelete, path, nil, nil, nil))
}

// versioned marks err, the failure of one of the writes Genesys guards with
// the group's version, as upstream.Error.VersionedWrite (a 408 on it is then
// a version conflict).
func versioned(err error) error {
	var ue *upstream.Error
	if errors.As(err, &ue) {
		ue.VersionedWrite = true
	}
	return err
}
