// Package resolvers implements the GraphQL schema (graph/schema.graphqls) as
// thin adapters: read the arguments, check them, call a loader or an
// upstream client, map the answer to graph/model. HTTP, JSON, retries and
// logging live in the upstream clients and the server, never here.
package resolvers

import (
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// Resolver is the root resolver. It is built once, by New, and shared by
// every request; per-request state lives in graph/loaders.
type Resolver struct {
	genesys    *genesys.Client
	usergroups *usergroups.Client
}

// New returns the root resolver over the two upstream clients.
func New(g *genesys.Client, u *usergroups.Client) *Resolver {
	return &Resolver{genesys: g, usergroups: u}
}
