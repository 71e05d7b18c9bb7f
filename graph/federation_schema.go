package graph

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Apollo Federation v2 (gqlgen's federation plugin, gqlgen.yml): the
// generated schema always holds the subgraph fields Query._entities and
// Query._service and the types and directives they need (_Any, _Entity,
// FieldSet, @key, @link...). The gateway serves them only with
// GATEWAY_FEDERATION=true; otherwise it serves PlainSchema, which leaves
// them out, so that introspection, the IDE and the schema golden show the
// plain API and a request naming _entities fails validation.

// PlainSchema returns the generated schema without what the federation
// plugin adds (its Query fields, types and directives, and the schema's
// @link). The result shares the unchanged definitions with the generated
// schema; neither may be modified.
func PlainSchema() *ast.Schema { return plainSchema }

var plainSchema = withoutFederation(parsedSchema)

// SubgraphSDL returns the subgraph SDL that Query._service answers: the
// schema file as written (with its @key and @link directives), without the
// definitions the federation plugin injects.
func SubgraphSDL() string {
	var sdl []string
	for _, src := range sources {
		if !src.BuiltIn {
			sdl = append(sdl, src.Input)
		}
	}
	return strings.Join(sdl, "\n")
}

// fromFederation reports whether a definition comes from a source the
// federation plugin injected (the generated sources that are built in).
func fromFederation(pos *ast.Position) bool {
	if pos == nil || pos.Src == nil {
		return false
	}
	for _, src := range sources {
		if src == pos.Src {
			return src.BuiltIn
		}
	}
	return false
}

// withoutFederation returns a copy of s without the federation additions.
func withoutFederation(s *ast.Schema) *ast.Schema {
	out := *s
	out.Types = make(map[string]*ast.Definition, len(s.Types))
	for name, def := range s.Types {
		if !fromFederation(def.Position) {
			out.Types[name] = withoutFederationDirectives(def)
		}
	}
	query := *out.Types[s.Query.Name]
	query.Fields = nil
	for _, f := range s.Query.Fields {
		if !fromFederation(f.Position) {
			query.Fields = append(query.Fields, f)
		}
	}
	out.Query = &query
	out.Types[query.Name] = &query
	out.Directives = make(map[string]*ast.DirectiveDefinition, len(s.Directives))
	for name, d := range s.Directives {
		if !fromFederation(d.Position) {
			out.Directives[name] = d
		}
	}
	out.SchemaDirectives = plainDirectives(s.SchemaDirectives)
	out.PossibleTypes = filterTypes(s.PossibleTypes, out.Types)
	out.Implements = filterTypes(s.Implements, out.Types)
	return &out
}

// withoutFederationDirectives returns def, or a copy of it without the
// federation directives applied to it (@key).
func withoutFederationDirectives(def *ast.Definition) *ast.Definition {
	plain := plainDirectives(def.Directives)
	if len(plain) == len(def.Directives) {
		return def
	}
	out := *def
	out.Directives = plain
	return &out
}

// plainDirectives returns the directives of list that are not federation
// directives.
func plainDirectives(list ast.DirectiveList) ast.DirectiveList {
	var out ast.DirectiveList
	for _, d := range list {
		if d.Definition == nil || !fromFederation(d.Definition.Position) {
			out = append(out, d)
		}
	}
	return out
}

// filterTypes keeps the entries of m (type name to types) whose key and
// types are in kept.
func filterTypes(m map[string][]*ast.Definition, kept map[string]*ast.Definition) map[string][]*ast.Definition {
	out := make(map[string][]*ast.Definition, len(m))
	for name, defs := range m {
		if kept[name] == nil {
			continue
		}
		var in []*ast.Definition
		for _, d := range defs {
			if kept[d.Name] != nil {
				in = append(in, kept[d.Name])
			}
		}
		out[name] = in
	}
	return out
}
