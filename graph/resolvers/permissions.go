package resolvers

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/groupdir/gateway/auth"
)

// HasPermission implements the schema's @hasPermission(any: [...])
// directive: the field runs only for a caller (auth.CallerFrom) holding one
// of the permissions; any other caller gets a FORBIDDEN error on the field,
// whose resolver, and so every upstream call it would make, never runs.
// Wire it as graph.DirectiveRoot{HasPermission: resolvers.HasPermission}.
func HasPermission(ctx context.Context, _ any, next graphql.Resolver, anyOf []string) (any, error) {
	if !auth.CallerFrom(ctx).HasAny(anyOf...) {
		return nil, &gqlerror.Error{
			Message:    "this field needs one of the permissions " + strings.Join(anyOf, ", "),
			Extensions: map[string]any{"code": CodeForbidden, "permissions": anyOf},
		}
	}
	return next(ctx)
}
