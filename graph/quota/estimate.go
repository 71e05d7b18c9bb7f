package quota

import (
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/groupdir/gateway/graph/guard"
	"github.com/groupdir/gateway/upstream"
)

// Item counts the estimate assumes.
const (
	// DefaultPageSize is the items of a page whose size was not given: the
	// Genesys default page (the pages whose items cost calls are Genesys
	// group pages), unless pages names the field.
	DefaultPageSize = 25
	// DefaultListSize is the items of a list nothing sizes.
	DefaultListSize = 10
	// maxItems bounds the items of one page, unless pages names the field:
	// the largest Genesys page and id list (the resolvers refuse larger
	// ones with BAD_USER_INPUT before any upstream call, so counting more
	// would answer bad input QUERY_TOO_COMPLEX).
	maxItems = 100
	// batchSize is how many batched lookups one call serves.
	batchSize = 100
	// chunkSize is how many ids one membership write carries.
	chunkSize = 50
	// ceiling bounds the estimate (it only needs to exceed any budget).
	ceiling = 1 << 30
)

// callsPerItem are the upstream calls of the fields that call an upstream
// besides the root fields (which cost one each unless named here): per
// item of the list they are under.
var callsPerItem = map[string]int{
	"Query.teams":                   2, // both directories
	"Mutation.updateGroup":          2, // the current version, then the write
	"Mutation.updateUserGroup":      3, // read, write, read back (the PUT's echo is not trusted)
	"Mutation.deleteGroup":          2, // the delete, then usually one read confirming it
	"Mutation.addUserGroupUsers":    3, // read, write, verify
	"Mutation.removeUserGroupUsers": 3,
	"Mutation.addGroupMembers":      1, // the individuals read, plus the chunks
	"Mutation.removeGroupMembers":   1,
	"Group.members":                 1,
	// A connection's window lies in one upstream page or two; last without
	// before first counts the list (one more call).
	"Query.groupsConnection":          3,
	"Query.searchGroupsConnection":    3,
	"Query.userGroupsConnection":      2, // last needs before: no counting call
	"Group.membersConnection":         3,
	"Group.individuals":               1,
	"Group.dynamicDefinition":         1,
	"Group.userGroups":                1,
	"MembershipChangePayload.version": 1,
	"MembershipChangePayload.group":   1,
}

// batched are the fields whose lookups are collected into calls of
// batchSize ids (aliases included).
var batched = map[string]bool{"Query.group": true, "UserGroup.group": true}

// nodeFields are the Relay lookups by global id and their id argument: a
// group id is a batched lookup, any other id (a user group, a dynamic
// definition) one call.
var nodeFields = map[string]string{"Query.node": "id", "Query.nodes": "ids"}

// chunked are the mutations that send their ids in writes of chunkSize.
var chunked = map[string]bool{"Mutation.addGroupMembers": true, "Mutation.removeGroupMembers": true}

// page is the item count of a paged field: its default and largest page.
type page struct{ def, max int }

// pages are the paged fields whose pages differ from the Genesys ones
// (DefaultPageSize, maxItems), or whose size no argument of theirs names.
var pages = map[string]page{
	"Query.userGroups":   {def: 50, max: 250}, // the Usergroup search
	"Query.searchGroups": {def: 25, max: 100}, // sized by input.pageSize
	// The cursor carries the page size: count the largest page.
	"Query.searchGroupsByCursor": {def: maxItems, max: maxItems},
}

// Estimate returns the upstream calls op is expected to cost with vars: an
// upper bound for reads (every aliased field counts, fields under @skip and
// @include too, the lookups of Query.group, UserGroup.group and the Group
// representations of Query._entities count per batch of 100, a field under
// a list counts once per item of the list, sized by its own or the nearest
// enclosing size argument up to the field's largest page, else by the
// field's default page, listSizes or DefaultListSize; a fragment on one type
// of a list of several by listSizes["Type.field.OnType"] when it names it), and the usual cost of
// writes. Introspection is free.
func Estimate(op *ast.OperationDefinition, vars map[string]any, listSizes map[string]int) int {
	e := estimator{vars: vars, listSizes: listSizes}
	calls := e.selectionSet(op.SelectionSet, 1, 0)
	return min(calls+(e.lookups+batchSize-1)/batchSize, ceiling)
}

type estimator struct {
	vars      map[string]any
	listSizes map[string]int
	// lookups counts the batched lookups.
	lookups int
}

// selectionSet sums the calls of set, whose fields run items times; size
// is the item count an enclosing size argument left for a list below.
func (e *estimator) selectionSet(set ast.SelectionSet, items, size int) int {
	total := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			total += e.field(s, items, size)
		case *ast.InlineFragment:
			total += e.selectionSet(s.SelectionSet, items, size)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				total += e.selectionSet(s.Definition.SelectionSet, items, size)
			}
		}
		total = min(total, ceiling)
	}
	return total
}

func (e *estimator) field(f *ast.Field, items, size int) int {
	if f.Definition == nil || f.ObjectDefinition == nil || strings.HasPrefix(f.Name, "__") {
		return 0 // introspection, __typename
	}
	c := costOf(f)
	ids := e.size(f)
	if n := c.pageItems(ids); n > 0 {
		size = n
	}
	calls := e.own(f, c, items, ids)
	if f.Definition.Type.Elem != nil {
		n, sized := size, size > 0
		if !sized {
			n = e.listSize(c.name)
		}
		if !sized {
			return min(calls+e.listOfTypes(f, items, n), ceiling)
		}
		items, size = min(items*n, ceiling), 0
	}
	return min(calls+e.selectionSet(f.SelectionSet, items, size), ceiling)
}

// listOfTypes sums the calls of the selections of list f, run items times
// with n items each, where listSizes may size the items of one type apart
// ("Query.teams.Group": a fragment on Group runs that many times per item
// of the list's parent, not n).
func (e *estimator) listOfTypes(f *ast.Field, items, n int) int {
	all := min(items*n, ceiling)
	total := 0
	for _, sel := range f.SelectionSet {
		set, on := ast.SelectionSet{sel}, ""
		switch s := sel.(type) {
		case *ast.InlineFragment:
			set, on = s.SelectionSet, s.TypeCondition
		case *ast.FragmentSpread:
			if s.Definition != nil {
				set, on = s.Definition.SelectionSet, s.Definition.TypeCondition
			}
		}
		runs := all
		if m, ok := e.listSizes[f.ObjectDefinition.Name+"."+f.Name+"."+on]; ok && on != "" {
			runs = min(items*m, ceiling)
		}
		total = min(total+e.selectionSet(set, runs, 0), ceiling)
	}
	return total
}

// own is the calls f itself makes, run items times; ids is its size
// argument's count.
func (e *estimator) own(f *ast.Field, c *fieldCost, items, ids int) int {
	switch {
	case c.node != "":
		return e.nodes(f, c.node, items)
	case c.batched:
		e.lookups = min(e.lookups+items, ceiling)
		return 0
	case c.entities:
		return e.entities(f, items)
	}
	per := c.per
	if c.chunked {
		per += (ids + chunkSize - 1) / chunkSize
	}
	return min(items*per, ceiling)
}

// nodes counts the lookups of a node or nodes field run items times: its
// group ids join the batched lookups, every other id is one call.
func (e *estimator) nodes(f *ast.Field, arg string, items int) int {
	var ids []any
	if a := f.Arguments.ForName(arg); a != nil && a.Value != nil {
		switch v, _ := a.Value.Value(e.vars); x := v.(type) {
		case string:
			ids = []any{x}
		case []any:
			ids = x
		}
	}
	calls := 0
	for _, id := range ids {
		if s, _ := id.(string); upstream.CheckID("id", s) == nil {
			e.lookups = min(e.lookups+items, ceiling)
		} else {
			calls = min(calls+items, ceiling)
		}
	}
	return calls
}

// entities is the calls of a federation _entities field run items times:
// its Group representations are batched lookups, like Query.group; each
// UserGroup representation is one call, like Query.userGroup. Each kind
// counts up to maxItems (more representations are refused as bad input
// before any call).
func (e *estimator) entities(f *ast.Field, items int) int {
	arg := f.Arguments.ForName("representations")
	if arg == nil || arg.Value == nil {
		return 0
	}
	v, err := arg.Value.Value(e.vars)
	if err != nil {
		return 0
	}
	reps, _ := v.([]any)
	groups, others := 0, 0
	for _, r := range reps {
		if rep, _ := r.(map[string]any); rep["__typename"] == "Group" {
			groups++
		} else {
			others++
		}
	}
	e.lookups = min(e.lookups+items*min(groups, maxItems), ceiling)
	return min(items*min(others, maxItems), ceiling)
}

func (e *estimator) listSize(name string) int {
	if n, ok := e.listSizes[name]; ok {
		return n
	}
	return DefaultListSize
}

// fieldCost is what the estimate reads of one field of the schema, worked
// out once per field definition (costOf) rather than by name for every
// field of every operation.
type fieldCost struct {
	// name is "Type.field", the key of listSizes.
	name string
	// node is the id argument of a Relay lookup (nodeFields), else "".
	node string
	// batched, entities and chunked: the field is in batched, is
	// Query._entities, is in chunked.
	batched, entities, chunked bool
	// per is the calls the field makes per item (callsPerItem; 1 for the
	// other root fields).
	per int
	// page is the field's page when paged.
	page  page
	paged bool
}

// fieldCosts holds the fieldCost of every field definition met, by
// definition (a field definition belongs to one type of the schema, which
// is parsed once per process, so the map stays as small as the schema).
var fieldCosts sync.Map // *ast.FieldDefinition -> *fieldCost

// costOf returns f's fieldCost (f has a Definition and an ObjectDefinition
// and is no introspection field).
func costOf(f *ast.Field) *fieldCost {
	if c, ok := fieldCosts.Load(f.Definition); ok {
		return c.(*fieldCost)
	}
	name := f.ObjectDefinition.Name + "." + f.Name
	c := &fieldCost{name: name, node: nodeFields[name], batched: batched[name], entities: name == "Query._entities",
		chunked: chunked[name]}
	var ok bool
	if c.per, ok = callsPerItem[name]; !ok && (f.ObjectDefinition.Name == "Query" || f.ObjectDefinition.Name == "Mutation") {
		c.per = 1
	}
	if c.page, c.paged = pages[name]; !c.paged {
		c.page = page{def: DefaultPageSize, max: maxItems}
		c.paged = f.Definition.Arguments.ForName("pageSize") != nil
	}
	actual, _ := fieldCosts.LoadOrStore(f.Definition, c)
	return actual.(*fieldCost)
}

// pageItems is the items of the field's page, given the count ids of its
// size arguments: that count up to the field's largest page, else the
// field's default page; 0 for a field that is no page and has no size
// argument.
func (c *fieldCost) pageItems(ids int) int {
	switch {
	case ids > 0:
		return min(ids, c.page.max)
	case c.paged:
		return c.page.def
	}
	return 0
}

// size is the largest item count f's size arguments give; 0 when it has
// none (the same reading as the complexity limit's, without its clamp).
func (e *estimator) size(f *ast.Field) int { return guard.ListSize(f, e.vars, ceiling) }
