package resolvers

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
)

// Selection-aware fetching: a group whose selection needs nothing but its
// id and a members page is answered from the members call alone (a 404
// there means no such group), so `group(id:) { id members { … } }` costs
// one upstream call, not two.

// membersOnlyFields are the Group fields that need no group fetch.
var membersOnlyFields = map[string]bool{"id": true, "__typename": true, "source": true, "members": true}

// group resolves group(id:).
func (r *Resolver) group(ctx context.Context, id string) (*model.Group, error) {
	if err := upstream.CheckID("id", id); err != nil {
		return nil, err
	}
	ld := loaders.For(ctx)
	oc := graphql.GetOperationContext(ctx)
	if key, ok := membersOnly(oc, graphql.GetFieldContext(ctx).Field.Selections, id); ok {
		_, err := ld.Members(ctx, key)
		switch {
		case errors.Is(err, upstream.ErrNotFound):
			return nil, nil
		case err != nil:
			return nil, err
		}
		return &model.Group{ID: id}, nil
	}
	g, err := ld.Group(ctx, id)
	return groupFromAPI(g), err
}

// membersOnly reports whether a group field's selection set asks for
// nothing of a Group but membersOnlyFields, with at least one members field,
// and returns the key of the first members page it asks for.
func membersOnly(oc *graphql.OperationContext, set ast.SelectionSet, groupID string) (loaders.MembersKey, bool) {
	if asksGroupData(set) {
		return loaders.MembersKey{}, false
	}
	fields := graphql.CollectFields(oc, set, []string{"Group"})
	var first *graphql.CollectedField
	for i, f := range fields {
		if !membersOnlyFields[f.Name] {
			return loaders.MembersKey{}, false
		}
		if f.Name == "members" && first == nil {
			first = &fields[i]
		}
	}
	if first == nil {
		return loaders.MembersKey{}, false
	}
	return membersFieldKey(oc, *first, groupID)
}

// asksGroupData reports, without collecting the selection, that it
// certainly needs the group itself: a field outside membersOnlyFields
// selected directly, with no @skip/@include. The common case (a group's
// name) is then decided without a CollectFields per group field.
func asksGroupData(set ast.SelectionSet) bool {
	for _, s := range set {
		if f, ok := s.(*ast.Field); ok && len(f.Directives) == 0 && !membersOnlyFields[f.Name] {
			return true
		}
	}
	return false
}

// membersFieldKey reads the arguments of a members field as the members
// resolver will see them; false when they cannot be read or are invalid
// (the resolver then reports the error itself).
func membersFieldKey(oc *graphql.OperationContext, f graphql.CollectedField, groupID string) (loaders.MembersKey, bool) {
	args := f.ArgumentMap(oc.Variables)
	pageSize, ok1 := intArg(args["pageSize"])
	pageNumber, ok2 := intArg(args["pageNumber"])
	order, ok3 := enumArg[model.SortOrder](args["sortOrder"])
	expand, ok4 := listArg[model.MemberExpand](args["expand"])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return loaders.MembersKey{}, false
	}
	expand = withSelectedExpands(oc, f.Selections, expand, "entities")
	key, err := membersKey(groupID, pageSize, pageNumber, order, expand)
	return key, err == nil
}

// membersField names a members field for Loaders.MembersKeyOf: the field
// of the document and the selection it was collected with (the items of a
// list share both, and so their arguments and selected expands).
type membersField struct {
	field *ast.Field
	sel   *ast.Selection
	n     int
}

// membersKeyOf is the key of the members page the members field in ctx
// asks for, for group groupID: its arguments and selected expands are
// worked out once per field in a request (Loaders.MembersKeyOf).
func membersKeyOf(ctx context.Context, groupID string, pageSize, pageNumber *int, order *model.SortOrder,
	expand []model.MemberExpand) (loaders.MembersKey, error) {
	fc := graphql.GetFieldContext(ctx)
	field := membersField{fc.Field.Field, unsafe.SliceData(fc.Field.Selections), len(fc.Field.Selections)}
	key, err := loaders.For(ctx).MembersKeyOf(field, func() (loaders.MembersKey, error) {
		return membersKey("", pageSize, pageNumber, order, fieldExpands(ctx, expand, "entities"))
	})
	key.GroupID = groupID
	return key, err
}

// membersKey validates the members arguments; the members field and the
// group resolver build the same key, so the page is fetched once.
func membersKey(groupID string, pageSize, pageNumber *int, order *model.SortOrder, expand []model.MemberExpand) (loaders.MembersKey, error) {
	size, number, err := page(pageSize, pageNumber, defaultPageSize, maxPageSize)
	if err != nil {
		return loaders.MembersKey{}, err
	}
	return loaders.MembersKey{GroupID: groupID, PageSize: size, PageNumber: number, SortOrder: sortOrderToAPI(order),
		Expand: strings.Join(memberExpands(expand), ",")}, nil
}

// intArg reads an optional Int argument as gqlparser hands it over.
func intArg(v any) (*int, bool) {
	var n int
	switch x := v.(type) {
	case nil:
		return nil, true
	case int:
		n = x
	case int64:
		n = int(x)
	case float64:
		n = int(x)
		if float64(n) != x {
			return nil, false
		}
	case json.Number:
		i, err := x.Int64()
		if err != nil {
			return nil, false
		}
		n = int(i)
	default:
		return nil, false
	}
	return &n, true
}

// enumArg reads an optional enum argument.
func enumArg[T ~string](v any) (*T, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case string:
		e := T(x)
		return &e, true
	}
	return nil, false
}

// listArg reads an optional list-of-enum argument.
func listArg[T ~string](v any) ([]T, bool) {
	if v == nil {
		return nil, true
	}
	items, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]T, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, false
		}
		out[i] = T(s)
	}
	return out, true
}
