package graph

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/groupdir/gateway/graph/model"
)

// Plans: how the direct executor reads and writes each GraphQL object type.
// They are derived once from the schema and the Go model types (a field is
// the exported struct field or zero-argument method whose name matches the
// GraphQL name, as gqlgen binds them), so a schema or model change cannot
// make the two executors disagree silently: a field the plan cannot bind is
// marked unsupported, and an operation that selects it runs on gqlgen.

// objectPlan is one GraphQL object type bound to one Go struct type.
type objectPlan struct {
	name         string
	implementors []string // the type and its interfaces, for CollectFields
	goType       reflect.Type
	fields       map[string]*fieldPlan // nil entry: the field is not supported
}

// fieldPlan is how one field of an object is obtained and written.
type fieldPlan struct {
	name     string
	resolver *resolverField // set for fields that run a resolver
	index    []int          // struct field, when no resolver and no method
	method   int            // zero-argument method (index in the pointer's method set), or -1
	out      *valuePlan
}

// valuePlan writes a value of one GraphQL type held in one Go type.
type valuePlan struct {
	gqlType string // the declared type, e.g. "[Member!]!", for null errors
	nonNull bool
	ptr     bool       // the Go value is a pointer to dereference
	elem    *valuePlan // list element
	object  *objectPlan
	scalar  scalarKind
}

// scalarKind is how a leaf value is written.
type scalarKind uint8

const (
	notScalar scalarKind = iota
	stringScalar
	intScalar
	boolScalar
	enumScalar
)

// resolverField is a field that runs its resolver. fieldContext is the
// generated function that builds the field's context and coerces its
// arguments (errors reported as gqlgen does); resolve calls the resolver.
type resolverField struct {
	fieldContext func(*executionContext, context.Context, graphql.CollectedField) (*graphql.FieldContext, error)
	resolve      func(ctx context.Context, ec *executionContext, obj any, args map[string]any) (any, error)
	result       reflect.Type
}

// queryGroupFieldContext is fieldContext_Query_group for an id given as a
// string (a literal or a variable): the same field context, built without
// the two argument maps and the path context the generated code coerces
// the id through, which were a tenth of the CPU of 100 aliased lookups (the
// benchmark's W1). Anything else (a number, null, a schema that gives the
// field more arguments) goes the generated way, errors included.
func queryGroupFieldContext(ec *executionContext, ctx context.Context, f graphql.CollectedField) (*graphql.FieldContext, error) {
	if f.Definition != nil && len(f.Definition.Arguments) == 1 && len(f.Arguments) == 1 && f.Arguments[0].Name == "id" &&
		f.Arguments[0].Value != nil {
		if v, err := f.Arguments[0].Value.Value(ec.Variables); err == nil {
			if id, ok := v.(string); ok {
				return &graphql.FieldContext{Object: "Query", Field: f, IsMethod: true, IsResolver: true,
					Child: ec.childFields_Group, Args: map[string]any{"id": id}}, nil
			}
		}
	}
	return ec.fieldContext_Query_group(ctx, f)
}

// directResolvers are the resolver fields the direct executor runs: the read
// paths of groups, their members and the linked user groups. Fields with a
// directive (permissions) are never run here; see buildObject.
var directResolvers = map[string]map[string]*resolverField{
	"Query": {
		"group": {queryGroupFieldContext,
			func(ctx context.Context, ec *executionContext, _ any, a map[string]any) (any, error) {
				return ec.Resolvers.Query().Group(ctx, a["id"].(string))
			}, reflect.TypeFor[*model.Group]()},
		"groupByJabberId": {(*executionContext).fieldContext_Query_groupByJabberId,
			func(ctx context.Context, ec *executionContext, _ any, a map[string]any) (any, error) {
				return ec.Resolvers.Query().GroupByJabberID(ctx, a["jabberId"].(string))
			}, reflect.TypeFor[*model.Group]()},
		"groups": {(*executionContext).fieldContext_Query_groups,
			func(ctx context.Context, ec *executionContext, _ any, a map[string]any) (any, error) {
				return ec.Resolvers.Query().Groups(ctx, a["ids"].([]string), a["jabberIds"].([]string),
					a["pageSize"].(*int), a["pageNumber"].(*int), a["sortOrder"].(*model.SortOrder))
			}, reflect.TypeFor[*model.GroupPage]()},
		"searchGroups": {(*executionContext).fieldContext_Query_searchGroups,
			func(ctx context.Context, ec *executionContext, _ any, a map[string]any) (any, error) {
				return ec.Resolvers.Query().SearchGroups(ctx, a["input"].(model.GroupSearchInput))
			}, reflect.TypeFor[*model.GroupSearchResult]()},
		"searchGroupsByCursor": {(*executionContext).fieldContext_Query_searchGroupsByCursor,
			func(ctx context.Context, ec *executionContext, _ any, a map[string]any) (any, error) {
				return ec.Resolvers.Query().SearchGroupsByCursor(ctx, a["q64"].(string), a["expand"].([]string))
			}, reflect.TypeFor[*model.GroupSearchResult]()},
		"userGroup": {(*executionContext).fieldContext_Query_userGroup,
			func(ctx context.Context, ec *executionContext, _ any, a map[string]any) (any, error) {
				return ec.Resolvers.Query().UserGroup(ctx, a["id"].(string))
			}, reflect.TypeFor[*model.UserGroup]()},
		"userGroups": {(*executionContext).fieldContext_Query_userGroups,
			func(ctx context.Context, ec *executionContext, _ any, a map[string]any) (any, error) {
				return ec.Resolvers.Query().UserGroups(ctx, a["name"].(*string), a["externalId"].(*string),
					a["pageNumber"].(*int), a["pageSize"].(*int))
			}, reflect.TypeFor[*model.UserGroupPage]()},
		"groupsConnection": {(*executionContext).fieldContext_Query_groupsConnection,
			func(ctx context.Context, ec *executionContext, _ any, a map[string]any) (any, error) {
				return ec.Resolvers.Query().GroupsConnection(ctx, a["first"].(*int), a["after"].(*string),
					a["last"].(*int), a["before"].(*string), a["sortOrder"].(*model.SortOrder))
			}, reflect.TypeFor[*model.GroupConnection]()},
		"searchGroupsConnection": {(*executionContext).fieldContext_Query_searchGroupsConnection,
			func(ctx context.Context, ec *executionContext, _ any, a map[string]any) (any, error) {
				return ec.Resolvers.Query().SearchGroupsConnection(ctx, a["query"].([]model.GroupSearchCriterionInput),
					a["sort"].([]model.SearchSortInput), a["first"].(*int), a["after"].(*string), a["last"].(*int), a["before"].(*string))
			}, reflect.TypeFor[*model.GroupConnection]()},
		"userGroupsConnection": {(*executionContext).fieldContext_Query_userGroupsConnection,
			func(ctx context.Context, ec *executionContext, _ any, a map[string]any) (any, error) {
				return ec.Resolvers.Query().UserGroupsConnection(ctx, a["name"].(*string), a["externalId"].(*string),
					a["first"].(*int), a["after"].(*string), a["last"].(*int), a["before"].(*string))
			}, reflect.TypeFor[*model.UserGroupConnection]()},
	},
	"Group": {
		"members": {(*executionContext).fieldContext_Group_members,
			func(ctx context.Context, ec *executionContext, obj any, a map[string]any) (any, error) {
				return ec.Resolvers.Group().Members(ctx, obj.(*model.Group), a["pageSize"].(*int),
					a["pageNumber"].(*int), a["sortOrder"].(*model.SortOrder), a["expand"].([]model.MemberExpand))
			}, reflect.TypeFor[*model.MemberPage]()},
		"individuals": {(*executionContext).fieldContext_Group_individuals,
			func(ctx context.Context, ec *executionContext, obj any, _ map[string]any) (any, error) {
				return ec.Resolvers.Group().Individuals(ctx, obj.(*model.Group))
			}, reflect.TypeFor[*model.MemberPage]()},
		"userGroups": {(*executionContext).fieldContext_Group_userGroups,
			func(ctx context.Context, ec *executionContext, obj any, _ map[string]any) (any, error) {
				return ec.Resolvers.Group().UserGroups(ctx, obj.(*model.Group))
			}, reflect.TypeFor[[]model.UserGroup]()},
		"membersConnection": {(*executionContext).fieldContext_Group_membersConnection,
			func(ctx context.Context, ec *executionContext, obj any, a map[string]any) (any, error) {
				return ec.Resolvers.Group().MembersConnection(ctx, obj.(*model.Group), a["first"].(*int), a["after"].(*string),
					a["last"].(*int), a["before"].(*string), a["sortOrder"].(*model.SortOrder), a["expand"].([]model.MemberExpand))
			}, reflect.TypeFor[*model.MemberConnection]()},
	},
	"UserGroup": {
		"group": {(*executionContext).fieldContext_UserGroup_group,
			func(ctx context.Context, ec *executionContext, obj any, _ map[string]any) (any, error) {
				return ec.Resolvers.UserGroup().Group(ctx, obj.(*model.UserGroup))
			}, reflect.TypeFor[*model.Group]()},
	},
}

// planner builds the plans of every type reachable from Query.
type planner struct {
	schema  *ast.Schema
	objects map[string]*objectPlan
}

// buildPlans returns the Query plan; unsupported fields are nil entries.
func buildPlans(schema *ast.Schema) *objectPlan {
	p := &planner{schema: schema, objects: map[string]*objectPlan{}}
	root := &objectPlan{name: "Query", implementors: []string{"Query"}, fields: map[string]*fieldPlan{}}
	for _, f := range schema.Query.Fields {
		root.fields[f.Name], _ = p.field(root, f)
	}
	return root
}

// object returns the plan of def bound to the struct type t.
func (p *planner) object(def *ast.Definition, t reflect.Type) (*objectPlan, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%s: Go type %s is not a struct", def.Name, t)
	}
	if o, ok := p.objects[def.Name]; ok {
		if o.goType != t {
			return nil, fmt.Errorf("%s is bound to both %s and %s", def.Name, o.goType, t)
		}
		return o, nil
	}
	o := &objectPlan{name: def.Name, implementors: append([]string{def.Name}, def.Interfaces...), goType: t,
		fields: map[string]*fieldPlan{}}
	p.objects[def.Name] = o // before the fields: types refer to themselves (Member.manager)
	for _, f := range def.Fields {
		if !strings.HasPrefix(f.Name, "__") {
			o.fields[f.Name], _ = p.field(o, f)
		}
	}
	return o, nil
}

// field plans one field, or says why the direct executor cannot run it.
func (p *planner) field(o *objectPlan, f *ast.FieldDefinition) (*fieldPlan, error) {
	for _, d := range f.Directives {
		if d.Name != "deprecated" {
			return nil, fmt.Errorf("%s.%s has the directive @%s", o.name, f.Name, d.Name)
		}
	}
	fp := &fieldPlan{name: f.Name, resolver: directResolvers[o.name][f.Name], method: -1}
	var goType reflect.Type
	switch {
	case fp.resolver != nil:
		goType = fp.resolver.result
	case len(f.Arguments) > 0 || o.goType == nil:
		return nil, fmt.Errorf("%s.%s has no direct resolver", o.name, f.Name)
	default:
		var err error
		if goType, err = p.bind(o, fp); err != nil {
			return nil, err
		}
	}
	out, err := p.value(f.Type, goType)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w", o.name, f.Name, err)
	}
	fp.out = out
	return fp, nil
}

// bind finds the method or struct field a plain field reads, as gqlgen
// does: a method first, then a field, names matched case-insensitively
// (selfUri binds SelfURI).
func (p *planner) bind(o *objectPlan, fp *fieldPlan) (reflect.Type, error) {
	pt := reflect.PointerTo(o.goType)
	for i := range pt.NumMethod() {
		m := pt.Method(i)
		if strings.EqualFold(m.Name, fp.name) {
			if m.Type.NumIn() != 1 || m.Type.NumOut() != 1 {
				return nil, fmt.Errorf("%s.%s: method %s takes arguments or returns an error", o.name, fp.name, m.Name)
			}
			fp.method = i
			return m.Type.Out(0), nil
		}
	}
	for i := range o.goType.NumField() {
		sf := o.goType.Field(i)
		if sf.IsExported() && strings.EqualFold(sf.Name, fp.name) {
			fp.index = sf.Index
			return sf.Type, nil
		}
	}
	return nil, fmt.Errorf("%s.%s: no field or method of %s", o.name, fp.name, o.goType)
}

// value plans a value of the GraphQL type t held in the Go type gt.
func (p *planner) value(t *ast.Type, gt reflect.Type) (*valuePlan, error) {
	vp := &valuePlan{gqlType: t.String(), nonNull: t.NonNull}
	if gt.Kind() == reflect.Pointer {
		vp.ptr, gt = true, gt.Elem()
	}
	if t.Elem != nil {
		if gt.Kind() != reflect.Slice || t.Elem.Elem != nil {
			return nil, fmt.Errorf("list %s held in %s", t, gt)
		}
		elem, err := p.value(t.Elem, gt.Elem())
		vp.elem = elem
		return vp, err
	}
	def := p.schema.Types[t.NamedType]
	switch def.Kind {
	case ast.Object:
		o, err := p.object(def, gt)
		vp.object = o
		return vp, err
	case ast.Enum:
		vp.scalar = enumScalar
		return vp, want(gt, reflect.String)
	case ast.Scalar:
		return vp, p.scalar(vp, def.Name, gt)
	}
	return nil, fmt.Errorf("%s types (%s) are not supported", def.Kind, def.Name)
}

// scalar plans a built-in scalar, or DateTime (an RFC 3339 string).
func (p *planner) scalar(vp *valuePlan, name string, gt reflect.Type) error {
	if gt.Implements(reflect.TypeFor[graphql.Marshaler]()) || gt.Implements(reflect.TypeFor[graphql.ContextMarshaler]()) {
		return fmt.Errorf("%s has its own marshaler", gt)
	}
	switch name {
	case "ID", "String", "DateTime":
		vp.scalar = stringScalar
		return want(gt, reflect.String)
	case "Int":
		vp.scalar = intScalar
		return want(gt, reflect.Int, reflect.Int32, reflect.Int64)
	case "Boolean":
		vp.scalar = boolScalar
		return want(gt, reflect.Bool)
	}
	return fmt.Errorf("scalar %s is not supported", name)
}

// want checks that a Go type has one of the kinds.
func want(gt reflect.Type, kinds ...reflect.Kind) error {
	for _, k := range kinds {
		if gt.Kind() == k {
			return nil
		}
	}
	//lint:ignore ST1005 "Go" is a proper noun, not a capitalised sentence start
	return fmt.Errorf("Go type %s cannot hold this value", gt)
}
