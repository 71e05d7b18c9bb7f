package resolvers

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
)

// Relay object identification (see the schema's Node). The rule: an object
// an upstream names keeps that upstream id (a Group its Genesys UUID, a
// UserGroup the platform's id, a Member its user UUID); an object that is a
// view of another one gets "<TypeName>:<owner's id>". Upstream ids never
// hold ':' (UUIDs; opaque ids are letters, digits, '-' and '_'), so the
// prefix alone tells a derived id, and no two types share an id.

// Type names that prefix derived ids.
const (
	typeDynamicDefinition = "DynamicDefinition"
	typeGroupProfile      = "GroupProfile"
	typeDeletePayload     = "DeletePayload"
)

// dynamicViewPermissions are the permissions of Group.dynamicDefinition
// (its @hasPermission), which node(id:) asks for a dynamic definition too.
var dynamicViewPermissions = []string{"directory:group:view"}

// derivedID is the global id of the typeName view of the object ownerID.
func derivedID(typeName, ownerID string) string { return typeName + ":" + ownerID }

// nodeKind is what a global id names.
type nodeKind uint8

const (
	nodeGroup nodeKind = iota
	nodeUserGroup
	nodeDynamicDefinition
)

// parseNodeID reads a global id given as argument field: a UUID is a
// Genesys group, `DynamicDefinition:<uuid>` a group's rules, any other
// opaque id a user group. It returns the upstream id to look up.
func parseNodeID(field, id string) (nodeKind, string, error) {
	typeName, owner, derived := strings.Cut(id, ":")
	switch {
	case !derived && upstream.CheckID(field, id) == nil:
		return nodeGroup, id, nil
	case !derived:
		return nodeUserGroup, id, upstream.CheckOpaqueID(field, id)
	case typeName == typeDynamicDefinition:
		return nodeDynamicDefinition, owner, upstream.CheckID(field, owner)
	}
	return 0, "", badInput(field, "is not the id of an object node(id:) can fetch (Group, UserGroup, DynamicDefinition)")
}

// node resolves node(id:).
func (r *Resolver) node(ctx context.Context, id string) (model.Node, error) {
	kind, key, err := parseNodeID("id", id)
	if err != nil {
		return nil, err
	}
	return r.fetchNode(ctx, kind, key)
}

// fetchNode looks one parsed id up; a nil Node (never a typed nil) when
// nothing has it.
func (r *Resolver) fetchNode(ctx context.Context, kind nodeKind, key string) (model.Node, error) {
	switch kind {
	case nodeGroup:
		g, err := loaders.For(ctx).Group(ctx, key)
		if g == nil || err != nil {
			return nil, err
		}
		return groupFromAPI(g), nil
	case nodeUserGroup:
		ug, err := loaders.For(ctx).UserGroup(ctx, key)
		if ug == nil || err != nil {
			return nil, err
		}
		return userGroup(ug), nil
	}
	d, err := HasPermission(ctx, nil, func(ctx context.Context) (any, error) {
		return r.dynamicDefinitionOf(ctx, key)
	}, dynamicViewPermissions)
	if dd, _ := d.(*model.DynamicDefinition); dd != nil && err == nil {
		return dd, nil
	}
	return nil, err
}

// nodes resolves nodes(ids:): every id is checked first (one bad id fails
// the field with no upstream call), the group ids are looked up together
// (one call per 100), the others concurrently. An id whose lookup fails is
// null, with its error at its index.
func (r *Resolver) nodes(ctx context.Context, ids []string) ([]model.Node, error) {
	if len(ids) > maxIDsPerList {
		return nil, badInput("ids", "at most "+strconv.Itoa(maxIDsPerList)+" ids")
	}
	kinds := make([]nodeKind, len(ids))
	keys := make([]string, len(ids))
	var groupIDs []string
	for i, id := range ids {
		var err error
		if kinds[i], keys[i], err = parseNodeID("ids", id); err != nil {
			return nil, err
		}
		if kinds[i] == nodeGroup {
			groupIDs = append(groupIDs, keys[i])
		}
	}
	loaders.For(ctx).PrefetchGroups(ctx, groupIDs)
	out := make([]model.Node, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() { out[i], errs[i] = r.fetchNode(ctx, kinds[i], keys[i]) })
	}
	wg.Wait()
	path := graphql.GetPath(ctx)
	for i, err := range errs {
		if err != nil {
			graphql.AddError(ctx, &gqlerror.Error{Err: err, Message: internalMessage, // the presenter words it
				Path: append(append(ast.Path{}, path...), ast.PathIndex(i))})
		}
	}
	return out, nil
}

// Cursor connections over the upstreams' page-number paging. A cursor is
// the opaque encoding of an item's absolute offset in the list; a window
// (first/after, last/before) is read through the one upstream page that
// holds it when some page size up to the API's largest does (pageFor), else
// through two consecutive pages of the window's size.

// cursorPrefix starts every decoded cursor.
const cursorPrefix = "offset:"

// maxOffset bounds the offsets a cursor may hold (the upstreams refuse page
// numbers beyond 1,000,000 anyway).
const maxOffset = 100_000_000

// encodeCursor is the cursor of the item at offset.
func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(offset)))
}

// decodeCursor reads a cursor given as argument field.
func decodeCursor(field, c string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if n, ok := strings.CutPrefix(string(raw), cursorPrefix); ok && err == nil {
		if offset, err := strconv.Atoi(n); err == nil && offset >= 0 && offset < maxOffset {
			return offset, nil
		}
	}
	return 0, badInput(field, "is not a cursor of this connection")
}

// window is the item range a connection's arguments ask for.
type window struct {
	start, count int
	// fromEnd: last without before, the window ends at the list's end,
	// which a first call must count.
	fromEnd bool
	// bounded: before was given, so items follow the window.
	bounded bool
}

// connectionWindow validates first/after/last/before (exactly one of first
// and last, 1 to limit) and returns the window. lastNeedsBefore refuses
// last without before (for a list without totals).
func connectionWindow(first *int, after *string, last *int, before *string, limit int, lastNeedsBefore bool) (window, error) {
	var w window
	if (first == nil) == (last == nil) {
		return w, badInput("first", "give one of first and last")
	}
	n, field := first, "first"
	if last != nil {
		n, field = last, "last"
	}
	if *n < 1 || *n > limit {
		return w, badInput(field, "must be between 1 and "+strconv.Itoa(limit))
	}
	lo, hi := 0, maxOffset
	if after != nil {
		a, err := decodeCursor("after", *after)
		if err != nil {
			return w, err
		}
		lo = a + 1
	}
	if before != nil {
		b, err := decodeCursor("before", *before)
		if err != nil {
			return w, err
		}
		hi, w.bounded = b, true
	}
	switch {
	case first != nil:
		w.start, w.count = lo, min(*first, hi-lo)
	case before != nil:
		w.start = max(lo, hi-*last)
		w.count = hi - w.start
	case lastNeedsBefore:
		return w, badInput("before", "is needed with last (the list reports no total)")
	default:
		w.start, w.count, w.fromEnd = lo, *last, true
	}
	w.count = max(w.count, 0)
	return w, nil
}

// pager reads one upstream page (size items, 1-based number) and returns
// its items and the list's total (-1 when the upstream reports none).
type pager[T any] func(ctx context.Context, size, number int) ([]T, int, error)

// pageFor picks the page that holds [start, start+count): the smallest size
// from count up to maxPage for which one page does (pages 1), else pages of
// size count from the one holding start (pages 2).
func pageFor(start, count, maxPage int) (size, number, pages int) {
	for s := max(count, 1); s <= maxPage; s++ {
		if start/s == (start+max(count, 1)-1)/s {
			return s, start/s + 1, 1
		}
	}
	return count, start/count + 1, 2
}

// readWindow reads window w through fetch, whose pages hold at most maxPage
// items, and returns the window's items, its start and the total (-1 when
// unknown).
func readWindow[T any](ctx context.Context, w window, maxPage int, fetch pager[T]) ([]T, int, int, error) {
	if w.fromEnd { // the first page tells the total, and may hold the window already
		items, total, err := fetch(ctx, w.count, 1)
		if err != nil {
			return nil, 0, 0, err
		}
		w.start = max(w.start, total-w.count)
		w.count = max(total-w.start, 0)
		if total <= len(items) {
			from := min(w.start, len(items))
			return items[from:], from, total, nil
		}
	}
	size, number, pages := pageFor(w.start, w.count, maxPage)
	var items []T
	total := -1
	for p := range pages {
		got, t, err := fetch(ctx, size, number+p)
		if err != nil {
			return nil, 0, 0, err
		}
		items, total = append(items, got...), t
		if len(got) < size {
			break // the last page
		}
	}
	from := min(w.start-(number-1)*size, len(items))
	return items[from:min(from+w.count, len(items))], w.start, total, nil
}

// pageInfo describes the window of n items read from start.
func pageInfo(w window, start, n, total int) *model.PageInfo {
	p := &model.PageInfo{HasPreviousPage: start > 0}
	switch {
	case total >= 0:
		p.HasNextPage = start+n < total
	default:
		p.HasNextPage = w.bounded || n > 0 && n == w.count
	}
	if n > 0 {
		s, e := encodeCursor(start), encodeCursor(start+n-1)
		p.StartCursor, p.EndCursor = &s, &e
	}
	return p
}

// groupsConnection resolves groupsConnection.
func (r *Resolver) groupsConnection(ctx context.Context, first *int, after *string, last *int, before *string, order *model.SortOrder) (*model.GroupConnection, error) {
	w, err := connectionWindow(first, after, last, before, maxPageSize, false)
	if err != nil {
		return nil, err
	}
	items, start, total, err := readWindow(ctx, w, maxPageSize, func(ctx context.Context, size, number int) ([]genesys.Group, int, error) {
		l, err := r.genesys.GetGroups(ctx, genesys.GetGroupsOptions{PageSize: size, PageNumber: number, SortOrder: sortOrderToAPI(order)})
		if err != nil {
			return nil, 0, err
		}
		loaders.For(ctx).PrimeGroups(ctx, l.Entities)
		return l.Entities, int(l.Total), nil
	})
	if err != nil {
		return nil, err
	}
	return groupConnection(w, items, start, total), nil
}

// searchGroupsConnection resolves searchGroupsConnection.
func (r *Resolver) searchGroupsConnection(ctx context.Context, query []model.GroupSearchCriterionInput, sort []model.SearchSortInput,
	first *int, after *string, last *int, before *string) (*model.GroupConnection, error) {
	w, err := connectionWindow(first, after, last, before, maxPageSize, false)
	if err != nil {
		return nil, err
	}
	req, err := searchToAPI(model.GroupSearchInput{Query: graphql.OmittableOf(query), Sort: graphql.OmittableOf(sort)})
	if err != nil {
		return nil, err
	}
	items, start, total, err := readWindow(ctx, w, maxPageSize, func(ctx context.Context, size, number int) ([]genesys.Group, int, error) {
		req.PageSize, req.PageNumber = size, number
		res, err := r.genesys.SearchGroups(ctx, req)
		if err != nil {
			return nil, 0, err
		}
		loaders.For(ctx).PrimeGroups(ctx, res.Results)
		return res.Results, int(res.Total), nil
	})
	if err != nil {
		return nil, err
	}
	return groupConnection(w, items, start, total), nil
}

// groupConnection builds the connection of the window w read from start.
func groupConnection(w window, items []genesys.Group, start, total int) *model.GroupConnection {
	edges := make([]model.GroupEdge, len(items))
	for i := range items {
		edges[i] = model.GroupEdge{Cursor: encodeCursor(start + i), Node: groupFromAPI(&items[i])}
	}
	return &model.GroupConnection{Edges: edges, PageInfo: pageInfo(w, start, len(items), total), TotalCount: max(total, 0)}
}

// membersConnection resolves Group.membersConnection. Its pages go through
// the members loader, keyed as the members field's, with the expand list
// the selection needs added.
func (r *Resolver) membersConnection(ctx context.Context, groupID string, first *int, after *string, last *int, before *string,
	order *model.SortOrder, expand []model.MemberExpand) (*model.MemberConnection, error) {
	w, err := connectionWindow(first, after, last, before, maxPageSize, false)
	if err != nil {
		return nil, err
	}
	expand = fieldExpands(ctx, expand, "edges", "node")
	items, start, total, err := readWindow(ctx, w, maxPageSize, func(ctx context.Context, size, number int) ([]genesys.User, int, error) {
		key, err := membersKey(groupID, &size, &number, order, expand)
		if err != nil {
			return nil, 0, err
		}
		l, err := loaders.For(ctx).Members(ctx, key)
		if err != nil {
			return nil, 0, err
		}
		return l.Entities, int(l.Total), nil
	})
	if err != nil {
		return nil, err
	}
	edges := make([]model.MemberEdge, len(items))
	for i := range items {
		m := member(&items[i])
		edges[i] = model.MemberEdge{Cursor: encodeCursor(start + i), Node: &m}
	}
	return &model.MemberConnection{Edges: edges, PageInfo: pageInfo(w, start, len(items), total), TotalCount: max(total, 0)}, nil
}

// userGroupsConnection resolves userGroupsConnection: pages of the
// Usergroup search (no totals: last needs before).
func (r *Resolver) userGroupsConnection(ctx context.Context, name, externalID *string, first *int, after *string, last *int, before *string) (*model.UserGroupConnection, error) {
	w, err := connectionWindow(first, after, last, before, maxUserGroupPageSize, true)
	if err != nil {
		return nil, err
	}
	opts, err := userGroupSearch(name, externalID, nil, nil)
	if err != nil {
		return nil, err
	}
	items, start, _, err := readWindow(ctx, w, maxUserGroupPageSize, func(ctx context.Context, size, number int) ([]model.UserGroup, int, error) {
		opts.PageNo, opts.PageSize = number-1, size
		res, err := r.usergroups.Search(ctx, opts)
		if err != nil {
			return nil, 0, err
		}
		return userGroupList(res.UserGroups), -1, nil
	})
	if err != nil {
		return nil, err
	}
	edges := make([]model.UserGroupEdge, len(items))
	for i := range items {
		edges[i] = model.UserGroupEdge{Cursor: encodeCursor(start + i), Node: &items[i]}
	}
	return &model.UserGroupConnection{Edges: edges, PageInfo: pageInfo(w, start, len(items), -1)}, nil
}

// fieldExpands is withSelectedExpands for the selection of the field ctx
// resolves.
func fieldExpands(ctx context.Context, explicit []model.MemberExpand, path ...string) []model.MemberExpand {
	return withSelectedExpands(graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx).Field.Selections, explicit, path...)
}

// withSelectedExpands adds to explicit the expand values of the Member
// fields that set selects under path (fragments included), so that a
// selected field Genesys sends only on request is requested: its null then
// means "none", never "not asked for". The result is in the schema's order,
// each value once, so equal needs make equal loader keys.
func withSelectedExpands(oc *graphql.OperationContext, set ast.SelectionSet, explicit []model.MemberExpand, path ...string) []model.MemberExpand {
	want := make(map[model.MemberExpand]bool, len(explicit))
	for _, e := range explicit {
		want[e] = true
	}
	set, _ = selectionAt(oc, set, path...)
	for _, f := range graphql.CollectFields(oc, set, []string{"Member"}) {
		for e, field := range memberExpandNames {
			if field == f.Name {
				want[e] = true
			}
		}
	}
	if len(want) == 0 {
		return explicit
	}
	out := make([]model.MemberExpand, 0, len(want))
	for _, e := range model.AllMemberExpand {
		if want[e] {
			out = append(out, e)
		}
	}
	return out
}
