package resolvers

import (
	"context"
	"errors"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/idempotency"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// The resolvers' multi-step operations, kept out of schema.resolvers.go
// (gqlgen rewrites that file).

var fieldConfigTypes = map[model.FieldConfigType]genesys.EntityType{
	model.FieldConfigTypePerson:          genesys.EntityPerson,
	model.FieldConfigTypeGroup:           genesys.EntityGroup,
	model.FieldConfigTypeOrg:             genesys.EntityOrg,
	model.FieldConfigTypeExternalContact: genesys.EntityExternalContact,
}

var memberExpandNames = map[model.MemberExpand]string{
	model.MemberExpandRoutingStatus:  "routingStatus",
	model.MemberExpandPresence:       "presence",
	model.MemberExpandDateLastLogin:  "dateLastLogin",
	model.MemberExpandOutOfOffice:    "outOfOffice",
	model.MemberExpandCertifications: "certifications",
	model.MemberExpandEmployerInfo:   "employerInfo",
	model.MemberExpandBiography:      "biography",
}

func memberExpands(in []model.MemberExpand) []string {
	out := make([]string, 0, len(in))
	for _, e := range in {
		out = append(out, memberExpandNames[e])
	}
	return out
}

// listOptions validates the arguments of groups and groupProfiles.
func listOptions(ids, jabberIDs []string, pageSize, pageNumber *int, order *model.SortOrder) (genesys.GetGroupsOptions, error) {
	if len(ids) > 0 && len(jabberIDs) > 0 {
		return genesys.GetGroupsOptions{}, badInput("jabberIds", "cannot be combined with ids")
	}
	if err := idList("ids", ids); err != nil {
		return genesys.GetGroupsOptions{}, err
	}
	if err := stringList("jabberIds", jabberIDs); err != nil {
		return genesys.GetGroupsOptions{}, err
	}
	size, number, err := page(pageSize, pageNumber, defaultPageSize, maxPageSize)
	if err != nil {
		return genesys.GetGroupsOptions{}, err
	}
	return genesys.GetGroupsOptions{IDs: ids, JabberIDs: jabberIDs, PageSize: size, PageNumber: number,
		SortOrder: sortOrderToAPI(order)}, nil
}

// deleted turns the answer of a delete the upstream completes before
// answering (a dynamic definition, a user group) into its payload: the
// success answer confirms it, and a delete that finds the object already
// gone succeeds with ALREADY_DELETED.
func deleted(id string, err error) (*model.DeletePayload, error) {
	switch {
	case errors.Is(err, upstream.ErrNotFound):
		return deletePayload(id, model.DeleteStatusAlreadyDeleted), nil
	case err != nil:
		return nil, err
	}
	return deletePayload(id, model.DeleteStatusConfirmed), nil
}

// createGroup creates a group. Genesys ignores the description on create,
// so a description is set by a follow-up update. A create that resumes an
// interrupted keyed request is refused: a Genesys group has no key to find
// the one the first run may have made.
func (r *Resolver) createGroup(ctx context.Context, input model.CreateGroupInput) (*model.Group, error) {
	req, err := createGroupToAPI(input)
	if err != nil {
		return nil, err
	}
	if idempotency.Resumed(ctx) {
		return nil, interruptedCreate()
	}
	desc := input.Description.Value()
	if desc != nil {
		if err := text("description", *desc); err != nil {
			return nil, err
		}
	}
	g, err := r.genesys.CreateGroup(ctx, req)
	if err != nil {
		return nil, err
	}
	if desc != nil && *desc != g.Description {
		updated, err := r.genesys.UpdateGroup(ctx, g.ID, genesys.GroupUpdate{Version: g.Version, Description: desc})
		if err != nil {
			return nil, err
		}
		g = updated
	}
	loaders.For(ctx).PrimeGroups(ctx, []genesys.Group{*g})
	return groupFromAPI(g), nil
}

// updateGroup changes a group. Without a version the current one is read
// first and, after a version conflict, read again and the change re-sent
// (last writer wins); with one, a stale version is a CONFLICT.
func (r *Resolver) updateGroup(ctx context.Context, id string, input model.UpdateGroupInput) (*model.Group, error) {
	if err := upstream.CheckID("id", id); err != nil {
		return nil, err
	}
	upd, err := updateGroupToAPI(input)
	if err != nil {
		return nil, err
	}
	ld := loaders.For(ctx)
	ld.ForgetGroup(ctx, id)
	g, err := r.putGroup(ctx, id, upd, input.Version.Value())
	if err != nil {
		return nil, err
	}
	ld.PrimeGroups(ctx, []genesys.Group{*g})
	return groupFromAPI(g), nil
}

// putGroup sends upd with the version given, or, when none is, with the
// group's current version, read before each attempt. After a version
// conflict (409, 400 "does not match the current version", 408: see
// upstream.Error.Is) it tries again, at most maxConflictRetries times: at
// once with a re-read version when none was given; with the given one only
// when a re-read shows it is still current (the conflict was a 408 that had
// nothing to do with the version), else the conflict is the caller's.
func (r *Resolver) putGroup(ctx context.Context, id string, upd genesys.GroupUpdate, given *int) (*genesys.Group, error) {
	for attempt := 0; ; attempt++ {
		if given != nil {
			upd.Version = *given
		} else {
			cur, err := r.genesys.GetGroup(ctx, id)
			if err != nil {
				return nil, err
			}
			upd.Version = cur.Version
		}
		g, err := r.genesys.UpdateGroup(ctx, id, upd)
		if err == nil || !errors.Is(err, upstream.ErrConflict) || attempt >= maxConflictRetries {
			return g, err
		}
		if given != nil {
			cur, rerr := r.genesys.GetGroup(ctx, id)
			switch {
			case rerr != nil:
				return nil, err
			case cur.Version != *given:
				return nil, &versionConflict{err: err, current: cur.Version}
			}
		}
	}
}

// updateUserGroup reads the user group, applies the given fields, writes
// the whole object back (the Usergroup API's PUT replaces it) and answers
// with the user group as a read after the write shows it: the PUT's echo is
// not trusted (the vendor's own sample answers "UserIds": [] to a PUT that
// set one user).
//
// Upstream: GET, PUT, GET /api/v2/usergroup.
func (r *Resolver) updateUserGroup(ctx context.Context, id string, input model.UpdateUserGroupInput) (*model.UserGroup, error) {
	if err := upstream.CheckOpaqueID("id", id); err != nil {
		return nil, err
	}
	change, err := userGroupUpdateFromInput(input)
	if err != nil {
		return nil, err
	}
	cur, err := r.usergroups.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	defer loaders.For(ctx).ForgetUserGroup(ctx, id)
	if _, err := r.usergroups.Update(ctx, change.apply(cur)); err != nil {
		return nil, err
	}
	ug, err := r.usergroups.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return userGroup(ug), nil
}

// userGroups lists user groups; the gateway's pages are 1-based, the
// Usergroup API's PageNo is 0-based.
func (r *Resolver) userGroups(ctx context.Context, name, externalID *string, pageNumber, pageSize *int) (*model.UserGroupPage, error) {
	opts, err := userGroupSearch(name, externalID, pageNumber, pageSize)
	if err != nil {
		return nil, err
	}
	res, err := r.usergroups.Search(ctx, opts)
	if err != nil {
		return nil, err
	}
	prefetchLinkedGroups(ctx, res.UserGroups)
	return &model.UserGroupPage{Entities: userGroupList(res.UserGroups), PageNumber: opts.PageNo + 1, PageSize: opts.PageSize,
		HasNextPage: len(res.UserGroups) >= opts.PageSize}, nil
}

// userGroupSearch validates the arguments of userGroups and
// userGroupsConnection.
func userGroupSearch(name, externalID *string, pageNumber, pageSize *int) (usergroups.SearchOptions, error) {
	size, number, err := page(pageSize, pageNumber, defaultUGPageSize, maxUserGroupPageSize)
	if err != nil {
		return usergroups.SearchOptions{}, err
	}
	opts := usergroups.SearchOptions{PageNo: number - 1, PageSize: size}
	if name != nil {
		if err := text("name", *name); err != nil {
			return opts, err
		}
		opts.Name = *name
	}
	if externalID != nil {
		if err := text("externalId", *externalID); err != nil {
			return opts, err
		}
		opts.ExternalID = *externalID
	}
	return opts, nil
}

// teamsPageSize is how many teams each directory contributes to teams.
const teamsPageSize = 100

// teams asks both directories at once. A failing directory fails the field
// (its error says which); the other's data is not presented as complete.
func (r *Resolver) teams(ctx context.Context, nameContains *string) ([]model.Team, error) {
	var (
		gs  []genesys.Group
		ugs []usergroups.UserGroup
		eg  errgroup.Group
	)
	filter := ""
	if nameContains != nil {
		if err := text("nameContains", *nameContains); err != nil {
			return nil, err
		}
		filter = *nameContains
	}
	eg.Go(func() error {
		req := genesys.GroupSearchRequest{PageSize: teamsPageSize, PageNumber: 1,
			Sort: []genesys.SearchSort{{SortBy: "name", SortOrder: genesys.SearchSortAscending}}}
		if filter != "" {
			req.Query = []genesys.GroupSearchCriteria{{Type: genesys.CriteriaContains, Fields: []string{"name"}, Value: filter}}
		}
		res, err := r.genesys.SearchGroups(ctx, req)
		if err == nil {
			gs = res.Results
		}
		return err
	})
	eg.Go(func() error {
		res, err := r.usergroups.Search(ctx, usergroups.SearchOptions{Name: filter, PageSize: teamsPageSize})
		if err == nil {
			ugs = res.UserGroups
		}
		return err
	})
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	loaders.For(ctx).PrimeGroups(ctx, gs)
	out := make([]model.Team, 0, len(gs)+len(ugs))
	for i := range gs {
		out = append(out, groupFromAPI(&gs[i]))
	}
	lower := strings.ToLower(filter)
	for i := range ugs {
		if strings.Contains(strings.ToLower(ugs[i].Name), lower) {
			out = append(out, userGroup(&ugs[i]))
		}
	}
	return out, nil
}
