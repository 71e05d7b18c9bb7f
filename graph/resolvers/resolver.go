// Package resolvers implements the GraphQL schema (graph/schema.graphqls) as
// thin adapters: read the arguments, check them, call a loader or an
// upstream client, map the answer to graph/model. HTTP, JSON, retries and
// logging live in the upstream clients and the server, never here.
package resolvers

import (
	"context"
	"time"

	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// DefaultMaxMemberIDs is how many ids one membership mutation may name
// unless WithMaxMemberIDs says otherwise.
const DefaultMaxMemberIDs = 500

// Resolver is the root resolver. It is built once, by New, and shared by
// every request; per-request state lives in graph/loaders.
type Resolver struct {
	genesys    *genesys.Client
	usergroups *usergroups.Client
	// maxMemberIDs bounds the ids of one membership mutation.
	maxMemberIDs int
	// deleteConfirmTimeout bounds deleteGroup's reading back.
	deleteConfirmTimeout time.Duration
	// userGroupLocks serialises the read-modify-write cycles on one user
	// group within the process.
	userGroupLocks *keyedLocks
	// sharedLock, when set, also serialises them across replicas.
	sharedLock SharedLock
}

// SharedLock takes the lock on key that every replica of the gateway
// honours, waiting until ctx ends. The lock must outlive ctx's deadline, so
// that the holder's writes (made under ctx) all happen while it holds it.
// check is the fencing check made before each write: an error when the
// lock is no longer held. unlock releases it.
type SharedLock func(ctx context.Context, key string) (check func(context.Context) error, unlock func(), err error)

// WithSharedLock serialises the changes to one user group across replicas
// with lock (REDIS_URL), besides the in-process lock.
func WithSharedLock(lock SharedLock) Option {
	return func(r *Resolver) { r.sharedLock = lock }
}

// Option configures a Resolver.
type Option func(*Resolver)

// WithMaxMemberIDs sets how many ids one membership mutation
// (addGroupMembers, removeGroupMembers, addUserGroupUsers,
// removeUserGroupUsers) may name; more is BAD_USER_INPUT with no upstream
// call. Values below 1 keep DefaultMaxMemberIDs.
func WithMaxMemberIDs(n int) Option {
	return func(r *Resolver) {
		if n > 0 {
			r.maxMemberIDs = n
		}
	}
}

// WithDeleteConfirmTimeout sets how long deleteGroup reads a deleted group
// back until it is gone (within the request's deadline); zero does not read
// it back (the payload says PENDING). Negative values keep
// DefaultDeleteConfirmTimeout.
func WithDeleteConfirmTimeout(d time.Duration) Option {
	return func(r *Resolver) {
		if d >= 0 {
			r.deleteConfirmTimeout = d
		}
	}
}

// New returns the root resolver over the two upstream clients.
func New(g *genesys.Client, u *usergroups.Client, opts ...Option) *Resolver {
	r := &Resolver{genesys: g, usergroups: u, maxMemberIDs: DefaultMaxMemberIDs,
		deleteConfirmTimeout: DefaultDeleteConfirmTimeout, userGroupLocks: newKeyedLocks()}
	for _, o := range opts {
		o(r)
	}
	return r
}
