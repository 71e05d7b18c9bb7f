package usergroups

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/groupdir/gateway/upstream"
)

// Create makes a user group and returns it with its new ID. r.Name is
// required. A 2xx answer without a group is an *upstream.TransportError
// with OutcomeUnknown set: the group may exist (find it by ExternalId).
//
// Upstream: POST /api/v2/usergroup
func (c *Client) Create(ctx context.Context, r CreateRequest) (*UserGroup, error) {
	if r.Name == "" {
		return nil, &upstream.InputError{Field: "name", Reason: "must not be empty"}
	}
	r.UserIDs = members(r.UserIDs)
	req, err := c.newRequest(ctx, http.MethodPost, "", nil, createBody{CreateRequest: r, credentials: c.creds})
	if err != nil {
		return nil, err
	}
	return c.doGroup(req)
}

// Get returns the user group with the given id. Ids are opaque (the
// platform answers GUIDs as 32 hex digits without hyphens) and checked by
// upstream.CheckOpaqueID before any request; the id travels only as the
// query parameter Id. An unknown id is an error matching
// upstream.ErrNotFound, whether the upstream answers 404 or an envelope
// without a group.
//
// Upstream: GET /api/v2/usergroup
func (c *Client) Get(ctx context.Context, id string) (*UserGroup, error) {
	if err := upstream.CheckOpaqueID("id", id); err != nil {
		return nil, err
	}
	q := c.query()
	q.Set("Id", id)
	req, err := c.newRequest(ctx, http.MethodGet, "", q, nil)
	if err != nil {
		return nil, err
	}
	return c.doGroup(req)
}

// Update replaces the user group r.ID with r and returns the upstream's
// answer. Send the full object (see UpdateRequest): fields left empty may be
// cleared. r.Name is required; r.ID is checked as for Get. An unknown id
// matches upstream.ErrNotFound, as for Get. The answer is the upstream's
// echo, which need not show what was stored: the vendor's own sample answers
// "UserIds": [] to a PUT that set one user. Read the group with Get to learn
// its state.
//
// Upstream: PUT /api/v2/usergroup
func (c *Client) Update(ctx context.Context, r UpdateRequest) (*UserGroup, error) {
	if err := upstream.CheckOpaqueID("id", r.ID); err != nil {
		return nil, err
	}
	if r.Name == "" {
		return nil, &upstream.InputError{Field: "name", Reason: "must not be empty"}
	}
	r.UserIDs = members(r.UserIDs)
	req, err := c.newRequest(ctx, http.MethodPut, "", nil, updateBody{UpdateRequest: r, credentials: c.creds})
	if err != nil {
		return nil, err
	}
	return c.doGroup(req)
}

// Delete deletes the user group with the given id (checked as for Get). The upstream answers
// 200 with {}; whether deleting an unknown group fails is not documented (a
// 404 matches upstream.ErrNotFound).
//
// Upstream: DELETE /api/v2/usergroup
func (c *Client) Delete(ctx context.Context, id string) error {
	if err := upstream.CheckOpaqueID("id", id); err != nil {
		return err
	}
	q := c.query()
	q.Set("Id", id)
	req, err := c.newRequest(ctx, http.MethodDelete, "", q, nil)
	if err != nil {
		return err
	}
	_, err = c.do(req, &statusEnvelope{})
	return err
}

// Search returns one page of the company's user groups matching o; zero
// options list every group. PageNo is 0-based and PageSize at most
// MaxPageSize; a negative value or a larger size is an *upstream.InputError.
//
// Upstream: GET /api/v2/usergroup/search
func (c *Client) Search(ctx context.Context, o SearchOptions) (*SearchResult, error) {
	q, err := c.searchQuery(o)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, http.MethodGet, "/search", q, nil)
	if err != nil {
		return nil, err
	}
	var env searchEnvelope
	if _, err := c.do(req, &env); err != nil {
		return nil, err
	}
	return &env.SearchResult, nil
}

// searchQuery checks o and turns it into the search's query parameters.
func (c *Client) searchQuery(o SearchOptions) (url.Values, error) {
	switch {
	case o.PageNo < 0:
		return nil, &upstream.InputError{Field: "pageNo", Reason: "must not be negative"}
	case o.PageSize < 0 || o.PageSize > MaxPageSize:
		return nil, &upstream.InputError{Field: "pageSize", Reason: "must be between 0 and " + strconv.Itoa(MaxPageSize)}
	}
	q := c.query()
	set := func(key, value string, ok bool) {
		if ok {
			q.Set(key, value)
		}
	}
	set("Name", o.Name, o.Name != "")
	set("ExternalId", o.ExternalID, o.ExternalID != "")
	set("PageNo", strconv.Itoa(o.PageNo), o.PageNo > 0)
	set("PageSize", strconv.Itoa(o.PageSize), o.PageSize > 0)
	return q, nil
}

// doGroup sends req and returns the group of its {"UserGroup": ...} answer.
// An answer without a group is an unusable answer for a create, and for a
// get or an update the upstream's way of saying "not found" (how it reports
// an unknown id is not documented).
func (c *Client) doGroup(req *http.Request) (*UserGroup, error) {
	var env groupEnvelope
	resp, err := c.do(req, &env)
	switch {
	case err != nil:
		return nil, err
	case env.UserGroup != nil:
		return env.UserGroup, nil
	case req.Method == http.MethodPost:
		return nil, unusable(resp, errInvalidBody)
	}
	return nil, c.checkResponse(resp, &ResponseStatus{ErrorCode: "NotFound", Message: "the answer holds no user group"})
}

// members returns ids, or an empty list for nil, so that the body says []
// rather than null.
func members(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}
