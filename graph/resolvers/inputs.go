package resolvers

import (
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// enumTo maps a schema enum value to the upstream's lower-case spelling.
func enumTo[T ~string, E ~string](e *E) *T {
	if e == nil {
		return nil
	}
	v := T(strings.ToLower(string(*e)))
	return &v
}

// deref returns the value of p, or zero when p is nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func addressesToAPI(in []model.GroupAddressInput) []genesys.GroupContact {
	out := make([]genesys.GroupContact, len(in))
	for i, a := range in {
		out[i] = genesys.GroupContact{Address: deref(a.Address.Value()), Extension: deref(a.Extension.Value()),
			Type: genesys.GroupContactType(a.Type), MediaType: genesys.MediaTypePhone}
	}
	return out
}

func createGroupToAPI(in model.CreateGroupInput) (genesys.GroupCreate, error) {
	if err := groupEnumsKnown(in.Type.Value(), in.Visibility.Value(), nil, in.Addresses.Value()); err != nil {
		return genesys.GroupCreate{}, err
	}
	if err := text("name", in.Name); err != nil {
		return genesys.GroupCreate{}, err
	}
	owners := in.OwnerIds.Value()
	if err := idList("ownerIds", owners); err != nil {
		return genesys.GroupCreate{}, err
	}
	typ := deref(enumTo[genesys.GroupType](in.Type.Value()))
	if typ == "" {
		typ = genesys.GroupTypeOfficial
	}
	vis := deref(enumTo[genesys.Visibility](in.Visibility.Value()))
	if vis == "" {
		vis = genesys.VisibilityPublic
	}
	rules := in.RulesVisible.Value()
	return genesys.GroupCreate{
		Name: in.Name, Type: typ, Visibility: vis, RulesVisible: rules == nil || *rules,
		RolesEnabled: in.RolesEnabled.Value(), IncludeOwners: in.IncludeOwners.Value(), CallsEnabled: in.CallsEnabled.Value(),
		OwnerIDs: owners, Addresses: addressesToAPI(in.Addresses.Value()),
	}, nil
}

// updateGroupToAPI maps the fields the caller gave; version is filled in by
// the resolver.
func updateGroupToAPI(in model.UpdateGroupInput) (genesys.GroupUpdate, error) {
	if err := groupEnumsKnown(nil, in.Visibility.Value(), in.State.Value(), in.Addresses.Value()); err != nil {
		return genesys.GroupUpdate{}, err
	}
	u := genesys.GroupUpdate{
		State:         enumTo[genesys.State](in.State.Value()),
		Visibility:    enumTo[genesys.Visibility](in.Visibility.Value()),
		RulesVisible:  in.RulesVisible.Value(),
		RolesEnabled:  in.RolesEnabled.Value(),
		IncludeOwners: in.IncludeOwners.Value(),
		CallsEnabled:  in.CallsEnabled.Value(),
	}
	if name, ok := in.Name.ValueOK(); ok {
		if name == nil {
			return u, badInput("name", "cannot be null")
		}
		if err := text("name", *name); err != nil {
			return u, err
		}
		u.Name = name
	}
	if d, ok := in.Description.ValueOK(); ok {
		u.Description = &[]string{deref(d)}[0]
	}
	if owners, ok := in.OwnerIds.ValueOK(); ok {
		if err := idList("ownerIds", owners); err != nil {
			return u, err
		}
		u.OwnerIDs = owners
		if len(owners) == 0 {
			// Genesys clears owners only with one blank id (see the reference).
			u.OwnerIDs = []string{" "}
		}
	}
	if a, ok := in.Addresses.ValueOK(); ok {
		u.Addresses = addressesToAPI(a)
	}
	return u, nil
}

func searchToAPI(in model.GroupSearchInput) (genesys.GroupSearchRequest, error) {
	size, number, err := page(in.PageSize.Value(), in.PageNumber.Value(), defaultPageSize, maxPageSize)
	if err != nil {
		return genesys.GroupSearchRequest{}, err
	}
	req := genesys.GroupSearchRequest{PageSize: size, PageNumber: number}
	for _, s := range in.Sort.Value() {
		if err := text("sortBy", s.SortBy); err != nil {
			return req, err
		}
		order := genesys.SearchSortAscending
		if o := s.SortOrder.Value(); o != nil {
			order = genesys.SearchSortOrder(*o)
		}
		req.Sort = append(req.Sort, genesys.SearchSort{SortBy: s.SortBy, SortOrder: order})
	}
	req.Query, err = criteriaToAPI(in.Query.Value(), 0)
	return req, err
}

func criteriaToAPI(in []model.GroupSearchCriterionInput, depth int) ([]genesys.GroupSearchCriteria, error) {
	if depth > maxConditionDepth {
		return nil, badInput("group", "criteria nested too deeply")
	}
	if len(in) > maxIDsPerList {
		return nil, badInput("query", "too many criteria")
	}
	out := make([]genesys.GroupSearchCriteria, len(in))
	for i, c := range in {
		if err := stringList("fields", c.Fields.Value()); err != nil {
			return nil, err
		}
		if err := stringList("values", c.Values.Value()); err != nil {
			return nil, err
		}
		nested, err := criteriaToAPI(c.Group.Value(), depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = genesys.GroupSearchCriteria{Type: genesys.CriteriaType(c.Type), Fields: c.Fields.Value(),
			Value: deref(c.Value.Value()), Values: c.Values.Value(), Group: nested}
		if op := c.Operator.Value(); op != nil {
			out[i].Operator = genesys.CriteriaOperator(*op)
		}
	}
	return out, nil
}

func sortOrderToAPI(o *model.SortOrder) genesys.SortOrder {
	if o != nil && *o == model.SortOrderDesc {
		return genesys.SortDescending
	}
	return genesys.SortAscending
}

// externalID validates an optional external id.
func externalID(o graphql.Omittable[*string]) (*string, error) {
	v := o.Value()
	if v == nil || *v == "" {
		return v, nil
	}
	return v, text("externalId", *v)
}

func createUserGroupToAPI(in model.CreateUserGroupInput) (usergroups.CreateRequest, error) {
	if err := text("name", in.Name); err != nil {
		return usergroups.CreateRequest{}, err
	}
	ext, err := externalID(in.ExternalID)
	if err != nil {
		return usergroups.CreateRequest{}, err
	}
	users := in.UserIds.Value()
	if err := userIDs(users); err != nil {
		return usergroups.CreateRequest{}, err
	}
	return usergroups.CreateRequest{Name: in.Name, ExternalID: ext, UserIDs: users}, nil
}

// maxUserIDs bounds the member list of a user group write.
const maxUserIDs = 5000

func userIDs(ids []string) error {
	if len(ids) > maxUserIDs {
		return badInput("userIds", "too many ids")
	}
	return upstream.CheckIDs("userIds", ids)
}

// applyUserGroupUpdate applies the fields the caller gave to the current
// user group and returns the full object to PUT (the API replaces it whole).
func applyUserGroupUpdate(cur *usergroups.UserGroup, in model.UpdateUserGroupInput) (usergroups.UpdateRequest, error) {
	req := usergroups.UpdateRequest{ID: cur.ID, Name: cur.Name, ExternalID: cur.ExternalID, UserIDs: nonNil(cur.UserIDs)}
	if name, ok := in.Name.ValueOK(); ok {
		if name == nil {
			return req, badInput("name", "cannot be null")
		}
		if err := text("name", *name); err != nil {
			return req, err
		}
		req.Name = *name
	}
	if _, ok := in.ExternalID.ValueOK(); ok {
		ext, err := externalID(in.ExternalID)
		if err != nil {
			return req, err
		}
		if ext == nil {
			ext = new(string)
		}
		req.ExternalID = ext
	}
	if users, ok := in.UserIds.ValueOK(); ok {
		if err := userIDs(users); err != nil {
			return req, err
		}
		req.UserIDs = nonNil(users)
	}
	return req, nil
}
