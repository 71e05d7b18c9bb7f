package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// Prefetch is an operation middleware: before a query executes, it says
// which members of the Genesys users and groups the query can read (the
// others are not decoded: selectedFields), and it starts
// the lookup of every id named by its root group(id:) and node(id:) fields
// (aliases included), so that 100 of them cost one upstream call however the
// executor schedules the fields. Fields that select only id and members
// are left out: they need no group fetch (see membersOnly).
func Prefetch(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation != nil && oc.Operation.Operation == ast.Query {
		ctx = genesys.WithFields(ctx, selectedFields(oc))
		var ids []string
		for _, f := range rootFields(oc) {
			id, ok := argument(oc, f, "id").(string)
			switch f.Name {
			case "group":
				if _, skip := membersOnly(oc, f.Selections, id); ok && !skip {
					ids = append(ids, id)
				}
			case "node":
				if ok {
					ids = append(ids, id) // PrefetchGroups skips what is no group id
				}
			}
		}
		loaders.For(ctx).PrefetchGroups(ctx, ids)
	}
	return next(ctx)
}

// Pending tells the direct executor (graph.Pending) which resolvers read
// data fetched ahead: a root group(id:) field whose lookup PrefetchGroups
// started and whose selection reads the group (not only its members), and
// a Group's members field whose page prefetchMembers (or another field)
// started, and a user group's linked group (prefetchLinkedGroups). So W1's
// 100 aliased group fields, W2's 50 linked groups and W3's 25 members
// fields run one after the other once their calls are answered, not in a
// goroutine each that parks on them. Every other field: nil.
func Pending(ctx context.Context, obj any) <-chan struct{} {
	fc := graphql.GetFieldContext(ctx)
	switch {
	case fc == nil:
	case fc.Object == "Query" && fc.Field.Name == "group" && asksGroupData(fc.Field.Selections):
		id, _ := fc.Args["id"].(string)
		return loaders.For(ctx).GroupPending(id)
	case fc.Object == "Group" && fc.Field.Name == "members":
		g, _ := obj.(*model.Group)
		pageSize, ok1 := fc.Args["pageSize"].(*int)
		pageNumber, ok2 := fc.Args["pageNumber"].(*int)
		order, ok3 := fc.Args["sortOrder"].(*model.SortOrder)
		expand, ok4 := fc.Args["expand"].([]model.MemberExpand)
		if g == nil || !ok1 || !ok2 || !ok3 || !ok4 {
			return nil
		}
		key, err := membersKeyOf(ctx, g.ID, pageSize, pageNumber, order, expand)
		if err != nil {
			return nil
		}
		return loaders.For(ctx).MembersPending(key)
	case fc.Object == "UserGroup" && fc.Field.Name == "group":
		ug, _ := obj.(*model.UserGroup)
		switch {
		case ug == nil:
		case ug.ExternalID == nil || upstream.CheckID("externalId", *ug.ExternalID) != nil:
			return ready // the resolver answers null at once
		default:
			return loaders.For(ctx).GroupPending(*ug.ExternalID)
		}
	}
	return nil
}

// ready is a closed channel: for Pending, a field whose resolver needs no
// call at all.
var ready = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// rootFields are the operation's root fields as graphql.CollectFields
// collects them, for Prefetch. A root selection of plain fields without
// directives (W1's 100 aliased group fields) is taken as it is: collecting
// it compared every field with every other to merge repeated response
// names (about 4 % of W1's CPU), while here a repeated name is seen twice,
// which asks for the same group twice (PrefetchGroups asks once) and, as
// merging would, prefetches a group when any of its fields reads it.
func rootFields(oc *graphql.OperationContext) []graphql.CollectedField {
	set := oc.Operation.SelectionSet
	fields := make([]graphql.CollectedField, 0, len(set))
	for _, s := range set {
		f, ok := s.(*ast.Field)
		if !ok || len(f.Directives) > 0 {
			return graphql.CollectFields(oc, set, []string{"Query"})
		}
		fields = append(fields, graphql.CollectedField{Field: f, Selections: f.SelectionSet})
	}
	return fields
}

// argument returns the value of one argument of a field (nil when absent
// or not coercible), without building the map of all of them.
func argument(oc *graphql.OperationContext, f graphql.CollectedField, name string) any {
	arg := f.Arguments.ForName(name)
	if arg == nil || arg.Value == nil {
		return nil
	}
	v, err := arg.Value.Value(oc.Variables)
	if err != nil {
		return nil
	}
	return v
}

// prefetchLinkedGroups starts the lookup of the Genesys groups a page of
// user groups links to, when the selection asks for entities { group }.
func prefetchLinkedGroups(ctx context.Context, page []usergroups.UserGroup) {
	if !selects(ctx, "entities", "group") {
		return
	}
	ids := make([]string, 0, len(page))
	for _, ug := range page {
		if ug.ExternalID != nil {
			ids = append(ids, *ug.ExternalID)
		}
	}
	loaders.For(ctx).PrefetchGroups(ctx, ids)
}

// prefetchMembers starts, at once and together, the members page that the
// selection's entities { members(...) } asks for each group of a page, so
// that W3's 25 member pages go out concurrently however the executor
// schedules the list (the calls are bounded by the upstream layer).
func prefetchMembers(ctx context.Context, groups []genesys.Group) {
	oc := graphql.GetOperationContext(ctx)
	var members *graphql.CollectedField
	for _, e := range graphql.CollectFields(oc, graphql.GetFieldContext(ctx).Field.Selections, nil) {
		if e.Name != "entities" {
			continue
		}
		for _, f := range graphql.CollectFields(oc, e.Selections, []string{"Group"}) {
			if f.Name == "members" {
				members = &f
				break
			}
		}
	}
	if members == nil {
		return
	}
	// The arguments and the selection are the same for every group: the
	// key is made once, then given each group's id.
	key, ok := membersFieldKey(oc, *members, "")
	if !ok {
		return
	}
	keys := make([]loaders.MembersKey, len(groups))
	for i, g := range groups {
		keys[i] = key
		keys[i].GroupID = g.ID
	}
	loaders.For(ctx).PrefetchMembers(ctx, keys)
}

// selects reports whether the current field's selection contains the
// nested field path.
func selects(ctx context.Context, path ...string) bool {
	_, ok := selectionAt(graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx).Field.Selections, path...)
	return ok
}

// selectionAt is what set selects under the nested field path (the
// selections of every field of that name, aliases and fragments merged),
// and whether every step of the path is selected.
func selectionAt(oc *graphql.OperationContext, set ast.SelectionSet, path ...string) (ast.SelectionSet, bool) {
	for _, name := range path {
		var next ast.SelectionSet
		found := false
		for _, f := range graphql.CollectFields(oc, set, nil) {
			if f.Name == name {
				next, found = append(next, f.Selections...), true
			}
		}
		if !found {
			return nil, false
		}
		set = next
	}
	return set, true
}
