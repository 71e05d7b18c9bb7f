package resolvers

import (
	"strconv"
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

// nullField is a field of an update input and whether it was given as null.
type nullField struct {
	name string
	null bool
}

// isNull reports a scalar or enum field given as null.
func isNull[T any](o graphql.Omittable[*T]) bool {
	v, ok := o.ValueOK()
	return ok && v == nil
}

// isNullList reports a list field given as null (not [] and not left out).
func isNullList[T any](o graphql.Omittable[[]T]) bool {
	v, ok := o.ValueOK()
	return ok && v == nil
}

// refuseNull fails on the first field given as null. On these fields null
// would read as "clear" to some clients and "keep" to others (genqlient's
// optional: pointer sends every unset field as null), and the upstream
// cannot store null there, so the gateway guesses neither: a field is kept
// by leaving it out, a list is cleared with [].
func refuseNull(fields ...nullField) error {
	for _, f := range fields {
		if f.null {
			return badInput(f.name, "must not be null: leave the field out to keep its value"+
				" (a list is cleared with [])")
		}
	}
	return nil
}

// optionalText validates a free string where "" means "none".
func optionalText(field, v string) error {
	if v == "" {
		return nil
	}
	return text(field, v)
}

// addressesToAPI maps phone addresses: each needs a number or an extension.
// The result is never nil, so that an empty list is sent as [] (clear).
func addressesToAPI(in []model.GroupAddressInput) ([]genesys.GroupContact, error) {
	if len(in) > maxIDsPerList {
		return nil, badInput("addresses", "at most "+strconv.Itoa(maxIDsPerList)+" addresses")
	}
	out := make([]genesys.GroupContact, len(in))
	for i, a := range in {
		addr, ext := deref(a.Address.Value()), deref(a.Extension.Value())
		if addr == "" && ext == "" {
			return nil, badInput("addresses", "each address needs an address or an extension")
		}
		if err := optionalText("address", addr); err != nil {
			return nil, err
		}
		if err := optionalText("extension", ext); err != nil {
			return nil, err
		}
		out[i] = genesys.GroupContact{Address: addr, Extension: ext,
			Type: genesys.GroupContactType(a.Type), MediaType: genesys.MediaTypePhone}
	}
	return out, nil
}

// createGroupToAPI maps a new group. Nothing exists yet to keep or clear, so
// a field given as null is the same as one left out (its default).
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
	addresses, err := addressesToAPI(in.Addresses.Value())
	if err != nil {
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
		OwnerIDs: owners, Addresses: addresses,
	}, nil
}

// updateGroupToAPI maps the fields the caller gave; version is filled in by
// the resolver. A field left out is not sent (Genesys keeps it), [] clears a
// list, null clears the description and is refused everywhere else.
func updateGroupToAPI(in model.UpdateGroupInput) (genesys.GroupUpdate, error) {
	if err := refuseNull(nullField{"name", isNull(in.Name)}, nullField{"state", isNull(in.State)},
		nullField{"visibility", isNull(in.Visibility)}, nullField{"rulesVisible", isNull(in.RulesVisible)},
		nullField{"rolesEnabled", isNull(in.RolesEnabled)}, nullField{"includeOwners", isNull(in.IncludeOwners)},
		nullField{"callsEnabled", isNull(in.CallsEnabled)}, nullField{"ownerIds", isNullList(in.OwnerIds)},
		nullField{"addresses", isNullList(in.Addresses)}); err != nil {
		return genesys.GroupUpdate{}, err
	}
	if err := groupEnumsKnown(nil, in.Visibility.Value(), in.State.Value(), in.Addresses.Value()); err != nil {
		return genesys.GroupUpdate{}, err
	}
	u := genesys.GroupUpdate{
		Name:          in.Name.Value(),
		State:         enumTo[genesys.State](in.State.Value()),
		Visibility:    enumTo[genesys.Visibility](in.Visibility.Value()),
		RulesVisible:  in.RulesVisible.Value(),
		RolesEnabled:  in.RolesEnabled.Value(),
		IncludeOwners: in.IncludeOwners.Value(),
		CallsEnabled:  in.CallsEnabled.Value(),
	}
	if u.Name != nil {
		if err := text("name", *u.Name); err != nil {
			return u, err
		}
	}
	if d, ok := in.Description.ValueOK(); ok {
		if d == nil {
			d = new(string) // Genesys clears the description with ""
		}
		if err := optionalText("description", *d); err != nil {
			return u, err
		}
		u.Description = d
	}
	if owners, ok := in.OwnerIds.ValueOK(); ok {
		if err := idList("ownerIds", owners); err != nil {
			return u, err
		}
		u.OwnerIDs = owners
		if len(owners) == 0 {
			// Genesys clears owners only with one blank id, as its Terraform
			// provider does (resource_genesyscloud_group.go, updateGroup).
			u.OwnerIDs = []string{" "}
		}
	}
	if a, ok := in.Addresses.ValueOK(); ok {
		var err error
		if u.Addresses, err = addressesToAPI(a); err != nil {
			return u, err
		}
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

// userIDs checks the member list of a user group write: the platform's
// user ids are opaque (upstream.CheckOpaqueID).
func userIDs(ids []string) error {
	if len(ids) > maxUserIDs {
		return badInput("userIds", "too many ids")
	}
	return upstream.CheckOpaqueIDs("userIds", ids)
}

// userGroupUpdate is a validated UpdateUserGroupInput; a nil field keeps
// its value.
type userGroupUpdate struct {
	name *string
	// externalID "" clears the external id.
	externalID *string
	// userIDs replaces the users; empty, not nil, clears them.
	userIDs []string
}

// userGroupUpdateFromInput validates an update before anything is read: a
// field left out keeps its value, [] clears the users, null clears the
// external id and is refused on name and userIds.
func userGroupUpdateFromInput(in model.UpdateUserGroupInput) (userGroupUpdate, error) {
	if err := refuseNull(nullField{"name", isNull(in.Name)}, nullField{"userIds", isNullList(in.UserIds)}); err != nil {
		return userGroupUpdate{}, err
	}
	u := userGroupUpdate{name: in.Name.Value()}
	if u.name != nil {
		if err := text("name", *u.name); err != nil {
			return u, err
		}
	}
	if _, ok := in.ExternalID.ValueOK(); ok {
		ext, err := externalID(in.ExternalID)
		if err != nil {
			return u, err
		}
		if ext == nil {
			ext = new(string)
		}
		u.externalID = ext
	}
	if users, ok := in.UserIds.ValueOK(); ok {
		if err := userIDs(users); err != nil {
			return u, err
		}
		u.userIDs = nonNil(users)
	}
	return u, nil
}

// apply applies the update to the current user group and returns the full
// object to PUT (the API replaces it whole).
func (u userGroupUpdate) apply(cur *usergroups.UserGroup) usergroups.UpdateRequest {
	req := usergroups.UpdateRequest{ID: cur.ID, Name: cur.Name, ExternalID: cur.ExternalID, UserIDs: nonNil(cur.UserIDs)}
	if u.name != nil {
		req.Name = *u.name
	}
	if u.externalID != nil {
		req.ExternalID = u.externalID
	}
	if u.userIDs != nil {
		req.UserIDs = u.userIDs
	}
	return req
}
