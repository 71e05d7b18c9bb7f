package guard

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// List sizes of the complexity calculation.
const (
	// DefaultPageSize is the item count assumed for the page of a field that
	// takes a page size but was given none: the largest default page of the
	// upstreams (the Usergroup search's 50).
	DefaultPageSize = 50
	// DefaultListSize is the item count assumed for any other list no
	// argument sizes (owners, images, skill conditions…: data embedded in
	// one upstream answer), unless Options.ListSizes names it.
	DefaultListSize = 10
	// MaxListSize bounds every size argument: the largest page any field
	// accepts (the Usergroup search's 250). A larger page size or id list of
	// a read is refused by the resolvers before any upstream call, so it
	// never costs more; a request with 10,000 ids is therefore answered
	// BAD_USER_INPUT, not QUERY_TOO_COMPLEX. (Membership mutations accept up
	// to GATEWAY_MAX_MEMBER_IDS ids; their per-id results count 250 at most,
	// their writes are bounded by that setting and MaxMutationAliases.)
	MaxListSize = 250
)

// sizeArguments are the arguments that size a list: a page size (first and
// last size a connection's edges), or a list of keys whose length is the
// item count (representations: the entities of a federation _entities
// field). They are also looked up one level down in input objects
// (searchGroups(input: {pageSize: …})).
var sizeArguments = map[string]bool{
	"pageSize": true, "first": true, "last": true, "ids": true, "jabberIds": true, "memberIds": true, "userIds": true,
	"representations": true,
}

// complexityLimit is the gqlgen extension that refuses an operation whose
// complexity exceeds max. It runs after gqlgen validated the document and
// coerced the variables, on a document the pre-pass already bounded (so the
// walk below is linear in at most Limits.MaxSelections selections).
type complexityLimit struct {
	max       int
	listSizes map[string]int
}

var (
	_ graphql.HandlerExtension        = complexityLimit{}
	_ graphql.OperationContextMutator = complexityLimit{}
)

// ExtensionName names the extension in gqlgen's stats.
func (complexityLimit) ExtensionName() string { return "GuardComplexityLimit" }

// Validate accepts every schema.
func (complexityLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses the operation when it is too complex.
func (l complexityLimit) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if complexity(op.Operation, op.Variables, l.listSizes, l.max) > l.max {
		return overLimit(limitComplexity, l.max, "the operation's complexity is over "+strconv.Itoa(l.max))
	}
	return nil
}

// complexity is the operation's cost: one per field, and the selections
// under a list once per item. The item count of a list comes from its own
// size argument or the nearest enclosing one not yet used by another list
// (so groups(pageSize: 100) { entities { … } } counts entities' selections
// 100 times); from DefaultPageSize when that enclosing field takes a page
// size but got none; else from listSizes ("Type.field") or DefaultListSize.
// Introspection counts one. The result is exact up to ceiling; above it, it
// is only known to be over.
func complexity(op *ast.OperationDefinition, vars map[string]any, listSizes map[string]int, ceiling int) int {
	return costs{vars: vars, listSizes: listSizes, ceiling: ceiling}.selectionSet(op.SelectionSet, 0)
}

type costs struct {
	vars      map[string]any
	listSizes map[string]int
	ceiling   int
}

// selectionSet sums the costs of set; size is the unused item count from an
// enclosing size argument (0: none).
func (c costs) selectionSet(set ast.SelectionSet, size int) int {
	total := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			total += c.field(s, size)
		case *ast.InlineFragment:
			total += c.selectionSet(s.SelectionSet, size)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				total += c.selectionSet(s.Definition.SelectionSet, size)
			}
		}
		if total > c.ceiling {
			return total
		}
	}
	return total
}

func (c costs) field(f *ast.Field, size int) int {
	if len(f.SelectionSet) == 0 || f.Name == "__schema" || f.Name == "__type" {
		return 1
	}
	if f.Definition == nil {
		return 1 // not in the schema: gqlgen's validation refused it already
	}
	if n := c.size(f); n > 0 {
		size = n
	} else if f.Definition.Arguments.ForName("pageSize") != nil {
		size = DefaultPageSize
	}
	items := 1
	if f.Definition.Type.Elem != nil {
		items, size = size, 0
		if items == 0 {
			items = c.listSize(f)
		}
	}
	children := c.selectionSet(f.SelectionSet, size)
	if children > (c.ceiling+1)/items {
		return c.ceiling + 1
	}
	return 1 + items*children
}

// listSize is the assumed item count of an unsized list.
func (c costs) listSize(f *ast.Field) int {
	if f.ObjectDefinition != nil {
		if n, ok := c.listSizes[f.ObjectDefinition.Name+"."+f.Name]; ok {
			return n
		}
	}
	return DefaultListSize
}

// size is the largest item count f's size arguments give, clamped to
// [1, MaxListSize]; 0 when it has none.
func (c costs) size(f *ast.Field) int { return ListSize(f, c.vars, MaxListSize) }

// ListSize is the largest item count a field's size arguments give
// (pageSize, first, last, or the length of ids, jabberIds, memberIds,
// userIds, representations, also inside an input object), clamped to [1,
// limit]; 0 when it has none.
// The per-caller quota sizes its estimate with it too.
func ListSize(f *ast.Field, vars map[string]any, limit int) int {
	largest := 0
	for _, arg := range f.Arguments {
		if !sizeArguments[arg.Name] && !mayHoldSizes(arg.Value) {
			continue // group(id: $id): nothing to evaluate
		}
		var v any = len(arg.Value.Children) // a literal list: its length, without building it
		if arg.Value.Kind != ast.ListValue {
			var err error
			if v, err = arg.Value.Value(vars); err != nil {
				continue
			}
		}
		largest = max(largest, sizeOf(arg.Name, v, limit))
		if obj, ok := v.(map[string]any); ok {
			for name, inner := range obj {
				largest = max(largest, sizeOf(name, inner, limit))
			}
		}
	}
	return largest
}

// mayHoldSizes reports whether an argument value not itself named as a size
// may hold one: an input object, or a value validation did not type.
func mayHoldSizes(v *ast.Value) bool {
	return v.Definition == nil || v.Definition.Kind == ast.InputObject
}

// sizeOf is the item count an argument value gives: a number (a page size,
// or the length of a literal list), or the length of a list.
func sizeOf(name string, v any, limit int) int {
	if !sizeArguments[name] || v == nil {
		return 0
	}
	var n int64 = 1
	switch x := v.(type) {
	case []any:
		n = int64(len(x))
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64:
		n = int64(min(x, float64(limit)))
	case json.Number:
		if i, err := x.Int64(); err == nil {
			n = i
		}
	}
	return int(min(max(n, 1), int64(limit)))
}
