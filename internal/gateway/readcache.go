package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/groupdir/gateway/auth"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
)

// Defaults of the upstream read cache (docs/batching.md, "Caching and the
// upstream budget", says why).
const (
	// defaultReadCacheTTL is how long a read is served as is: a change made
	// outside the gateway is visible within it.
	defaultReadCacheTTL = 5 * time.Second
	// defaultReadCacheStale is how long past its TTL a read may still be
	// served, marked stale, when the upstream cannot be asked.
	defaultReadCacheStale = 30 * time.Second
	// maxNegativeTTL bounds how long a 404 is served from the cache.
	maxNegativeTTL = 2 * time.Second
)

// readSharing is the read sharing and cache of the named upstream. With
// REDIS_URL its invalidations reach every replica (redisstore.SharedReads).
func (g *Gateway) readSharing(name string, next http.RoundTripper) http.RoundTripper {
	o := upstream.ReadSharingOptions{TTL: g.cfg.ReadCacheTTL, NegativeTTL: min(maxNegativeTTL, g.cfg.ReadCacheTTL),
		StaleFor: g.cfg.ReadCacheStale}
	if g.cfg.ReadCacheTTL <= 0 {
		o.StaleFor = 0
	}
	switch name {
	case upstream.Genesys:
		o.ReadPOST, o.Resource, o.Batched = genesysReadPOST, genesysResource, genesys.GroupLookups()
		if g.cfg.AuthMode != auth.ModeGenesys {
			// Every Genesys call carries a token of the gateway's own OAuth
			// client: its answers are the client's whatever the token, so
			// they outlive a token refresh and replicas share them.
			client := "client " + g.cfg.GenesysClientID
			o.Scope = func(*http.Request) string { return client }
		}
	case upstream.Usergroups:
		o.Resource = usergroupResource
	}
	if g.shared != nil && o.TTL > 0 {
		shared := g.shared.SharedReads(name, upstream.NewMemoryReadStore(o.TTL+o.StaleFor))
		g.closers = append(g.closers, shared.Close)
		o.Store = shared
	}
	return upstream.NewReadSharing(next, o)
}

// genesysReadPOST tells the Genesys POSTs that only read: the group search
// and the dynamic group preview.
func genesysReadPOST(req *http.Request) bool {
	switch req.URL.Path {
	case "/api/v2/groups/search", "/api/v2/groups/dynamicsettings/preview":
		return true
	}
	return false
}

// genesysResource is the group a Genesys call is about: the id after
// /api/v2/groups/ (the group, its members, its dynamic settings) or
// /api/v2/profiles/groups/, lower-cased; "" for lists, searches, batched
// lookups and creates.
func genesysResource(req *http.Request, _ []byte) string {
	for _, prefix := range []string{"/api/v2/groups/", "/api/v2/profiles/groups/"} {
		if rest, ok := strings.CutPrefix(req.URL.Path, prefix); ok {
			id, _, _ := strings.Cut(rest, "/")
			if id == "search" || id == "dynamicsettings" {
				return ""
			}
			return strings.ToLower(id)
		}
	}
	return ""
}

// usergroupResource is the user group a Usergroup API call is about: its
// Id query parameter (GET, DELETE; matched in any case, as the API binds
// it) or body member (PUT), in upstream.OpaqueIDKey form; "" for searches
// and creates.
func usergroupResource(req *http.Request, body []byte) string {
	for k, v := range req.URL.Query() {
		if strings.EqualFold(k, "Id") && len(v) > 0 {
			return upstream.OpaqueIDKey(v[0])
		}
	}
	if req.Method == http.MethodPut {
		var b struct {
			ID string `json:"Id"`
		}
		if json.Unmarshal(body, &b) == nil && b.ID != "" {
			return upstream.OpaqueIDKey(b.ID)
		}
		return upstream.EveryResource // an update whose group cannot be told
	}
	return ""
}

// freshReadsForMutations makes the reads of a mutation skip the read cache
// (upstream.WithFreshReads): a write reads the current version and reads
// back what it wrote, never an answer cached before.
func freshReadsForMutations(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
		ctx = upstream.WithFreshReads(ctx)
	}
	return next(ctx)
}
