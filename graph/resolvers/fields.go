package resolvers

import (
	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/groupdir/gateway/upstream/genesys"
)

// Selective decoding: a query reads few of the members of the users and
// groups the Genesys API answers (W3 shows a member's id, name and email of
// the 25 the API sends), so the operation tells the client which it can
// read (genesys.WithFields) and the others are skipped, not decoded.

// memberFields and groupFields classify the fields of Member and Group:
// true for a field read from the upstream member of the same JSON name,
// false for one that reads none (computed, or its own call). A field in
// neither (a field added to the schema and not here) makes the operation
// decode every member of that type.
var (
	memberFields = map[string]bool{"__typename": false, "id": true, "name": true, "division": true, "chat": true,
		"department": true, "email": true, "primaryContactInfo": true, "addresses": true, "state": true,
		"title": true, "username": true, "manager": true, "images": true, "version": true, "acdAutoAnswer": true,
		"preferredName": true, "selfUri": true, "routingStatus": true, "presence": true, "dateLastLogin": true,
		"outOfOffice": true, "certifications": true, "employerInfo": true, "biography": true}
	groupFields = map[string]bool{"__typename": false, "id": true, "name": true, "description": true,
		"dateModified": true, "memberCount": true, "state": true, "version": true, "type": true, "images": true,
		"addresses": true, "rulesVisible": true, "visibility": true, "rolesEnabled": true, "includeOwners": true,
		"callsEnabled": true, "owners": true, "selfUri": true, "source": false, "members": false,
		"individuals": false, "dynamicDefinition": false, "userGroups": false, "membersConnection": false}
)

// selectedFields returns the members of users and groups that the
// operation can read: every field of Member and of Group (or of the Team
// interface) it names anywhere, fragments included, whatever their
// @skip/@include.
func selectedFields(oc *graphql.OperationContext) genesys.Fields {
	if f, ok := operationFields.Get(oc.Operation); ok {
		return f
	}
	w := fieldWalk{users: []string{}, groups: []string{}}
	w.walk(oc.Operation.SelectionSet)
	f := genesys.NewFields(w.users, w.groups)
	operationFields.Add(oc.Operation, f)
	return f
}

// operationFields remembers the selectedFields of the operations met
// lately. They depend on the operation alone, and gqlgen's query cache
// (guard.QueryCache) hands a repeated document over as the same
// *ast.OperationDefinition, so the 100 aliased group fields of a batch
// lookup are walked once, not on every request.
var operationFields, _ = lru.New[*ast.OperationDefinition, genesys.Fields](256) // only fails for a size <= 0

// fieldWalk collects the JSON members; a nil list means every member.
type fieldWalk struct {
	users, groups []string
	fragments     map[string]bool // walked already
}

func (w *fieldWalk) walk(set ast.SelectionSet) {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			w.field(s)
			w.walk(s.SelectionSet)
		case *ast.InlineFragment:
			w.walk(s.SelectionSet)
		case *ast.FragmentSpread:
			if s.Definition == nil {
				w.users, w.groups = nil, nil
				continue
			}
			if !w.fragments[s.Name] {
				if w.fragments == nil {
					w.fragments = map[string]bool{}
				}
				w.fragments[s.Name] = true
				w.walk(s.Definition.SelectionSet)
			}
		}
	}
}

func (w *fieldWalk) field(f *ast.Field) {
	if f.ObjectDefinition == nil {
		return
	}
	switch f.ObjectDefinition.Name {
	case "Member":
		w.users = add(w.users, memberFields, f.Name)
	case "Group", "Team":
		w.groups = add(w.groups, groupFields, f.Name)
	}
}

// add adds a field's JSON member to names (nil: all, and it stays so).
func add(names []string, fields map[string]bool, name string) []string {
	upstream, known := fields[name]
	switch {
	case names == nil || !known:
		return nil
	case upstream:
		return append(names, name)
	}
	return names
}
