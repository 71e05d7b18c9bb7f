package graph

import (
	"reflect"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// DeferrableFields returns the fields gqlgen's executor really defers under
// @defer, as "Type.field": the fields of object types that run a resolver
// (the methods of the *Resolver interfaces of ResolverRoot). Root fields are
// never deferred, and a field without a resolver is written in place even
// inside a deferred fragment. The guard needs them to tell a deferred
// field's placeholder from a field that is null.
func DeferrableFields(schema *ast.Schema) map[string]bool {
	out := map[string]bool{}
	root := reflect.TypeFor[ResolverRoot]()
	for i := range root.NumMethod() {
		m := root.Method(i)
		def := schema.Types[m.Name]
		// Entity holds the federation plugin's entity finders, which _entities
		// calls directly: they are never selected, so never deferred.
		if def == nil || def == schema.Query || def == schema.Mutation || def == schema.Subscription || def.Name == "Entity" ||
			m.Type.NumOut() != 1 {
			continue
		}
		resolvers := m.Type.Out(0)
		for j := range resolvers.NumMethod() {
			name := resolvers.Method(j).Name
			for _, f := range def.Fields {
				// gqlgen's Go names differ from the GraphQL names in case only
				// (ID, JabberID) and underscores.
				if strings.EqualFold(strings.ReplaceAll(f.Name, "_", ""), name) {
					out[def.Name+"."+f.Name] = true
				}
			}
		}
	}
	return out
}
