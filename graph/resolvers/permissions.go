package resolvers

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/groupdir/gateway/auth"
	"github.com/groupdir/gateway/upstream/genesys"
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

// DefaultMembershipPermission is the permission @membershipPermission asks
// of a caller for whom the gateway's own Genesys credentials act.
const DefaultMembershipPermission = "directory:group:edit"

// MembershipPermission implements the schema's @membershipPermission
// directive. The Genesys membership operations document no permission:
// Genesys checks the group's ownership against the token it receives. With
// the caller's own token (AUTH_MODE=genesys, genesys.UsesCallerToken) that
// is the caller's business and the field runs; with the gateway's token
// (AUTH_MODE=jwt or none) Genesys would check the gateway, so the caller must
// hold permission, as for @hasPermission (in AUTH_MODE=none every caller
// holds every permission). Wire it as
// graph.DirectiveRoot{MembershipPermission: resolvers.MembershipPermission(p)}.
func MembershipPermission(permission string) func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
	anyOf := []string{permission}
	return func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
		if genesys.UsesCallerToken(ctx) {
			return next(ctx)
		}
		return HasPermission(ctx, obj, next, anyOf)
	}
}
