package resolvers

import (
	"context"
	"errors"
	"slices"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/idempotency"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// Writes are sent once. When a create's answer is lost, the gateway finds
// out by reading whether it happened instead of sending it again; so it
// does before a create that resumes an interrupted keyed request.

// createUserGroup creates a user group. When the create's outcome is
// unknown (the connection broke after the request was sent, or the answer
// could not be read) and an ExternalId was given, the user groups with that
// ExternalId are searched: exactly one that matches what was sent is the
// answer; otherwise the error keeps its unknown outcome.
func (r *Resolver) createUserGroup(ctx context.Context, input model.CreateUserGroupInput) (*model.UserGroup, error) {
	req, err := createUserGroupToAPI(input)
	if err != nil {
		return nil, err
	}
	if idempotency.Resumed(ctx) {
		ug, found, err := r.resumedUserGroup(ctx, req)
		if err != nil {
			return nil, err
		}
		if found {
			return userGroup(ug), nil
		}
	}
	ug, err := r.usergroups.Create(ctx, req)
	if outcomeUnknown(err) && req.ExternalID != nil && *req.ExternalID != "" {
		ug, err = r.findCreatedUserGroup(ctx, req, err)
	}
	if err != nil {
		return nil, err
	}
	loaders.For(ctx).ForgetUserGroup(ctx, ug.ID)
	return userGroup(ug), nil
}

// findCreatedUserGroup looks for the user group a create whose outcome is
// unknown would have made. It returns cause when it cannot tell: the search
// failed, or no or several user groups match.
//
// Upstream: GET /api/v2/usergroup/search?ExternalId= (one page of the
// API's maximum size).
func (r *Resolver) findCreatedUserGroup(ctx context.Context, req usergroups.CreateRequest, cause error) (*usergroups.UserGroup, error) {
	found, err := r.matchingUserGroups(ctx, req)
	if err != nil || len(found) != 1 {
		return nil, cause
	}
	return &found[0], nil
}

// resumedUserGroup looks, before anything is sent, for the user group an
// interrupted request with the same Idempotency-Key may have created
// (idempotency.Resumed: the gateway that ran it died before it stored the
// answer). found is false when the create must be sent: no user group
// with the ExternalId matches. Without an ExternalId nothing can tell, and
// the answer is a CONFLICT rather than a second user group.
//
// Upstream: as findCreatedUserGroup.
func (r *Resolver) resumedUserGroup(ctx context.Context, req usergroups.CreateRequest) (ug *usergroups.UserGroup, found bool, err error) {
	if req.ExternalID == nil || *req.ExternalID == "" {
		return nil, false, interruptedCreate()
	}
	matches, err := r.matchingUserGroups(ctx, req)
	switch {
	case err != nil:
		return nil, false, err
	case len(matches) == 1:
		return &matches[0], true, nil
	case len(matches) > 1:
		return nil, false, interruptedCreate()
	}
	return nil, false, nil
}

// interruptedCreate is the error of a resumed create whose first run may or
// may not have created the object, when the gateway cannot find out.
func interruptedCreate() error {
	return &gqlerror.Error{Message: "an earlier request with this Idempotency-Key was interrupted and may have created the object; " +
		"look for it before creating it again with a new key", Extensions: map[string]any{"code": CodeConflict, "outcome": "unknown"}}
}

// matchingUserGroups returns the user groups that hold what req asks for,
// found by its ExternalId.
func (r *Resolver) matchingUserGroups(ctx context.Context, req usergroups.CreateRequest) ([]usergroups.UserGroup, error) {
	res, err := r.usergroups.Search(ctx, usergroups.SearchOptions{ExternalID: *req.ExternalID, PageSize: usergroups.MaxPageSize})
	if err != nil {
		return nil, err
	}
	var found []usergroups.UserGroup
	for _, ug := range res.UserGroups {
		if sameUserGroup(ug, req) {
			found = append(found, ug)
		}
	}
	return found, nil
}

// sameUserGroup reports whether ug holds what req asked for: name, external
// id and the same set of users.
func sameUserGroup(ug usergroups.UserGroup, req usergroups.CreateRequest) bool {
	if ug.Name != req.Name || ug.ExternalID == nil || *ug.ExternalID != *req.ExternalID {
		return false
	}
	return slices.Equal(sortedUserKeys(ug.UserIDs), sortedUserKeys(req.UserIDs))
}

// sortedUserKeys returns the distinct upstream.OpaqueIDKey of ids, sorted.
func sortedUserKeys(ids []string) []string {
	out := make([]string, 0, len(ids))
	for id := range userSet(ids) {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// outcomeUnknown reports whether err says a write may or may not have been
// applied.
func outcomeUnknown(err error) bool {
	var te *upstream.TransportError
	return errors.As(err, &te) && te.OutcomeUnknown
}
