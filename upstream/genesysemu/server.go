package genesysemu

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
)

// CorrelationHeader is the response header carrying each answer's id; error
// bodies repeat it as contextId.
const CorrelationHeader = "ININ-Correlation-Id"

// Route patterns, as given to emukit.Kit.Handle: use them with Kit().Inject
// and Kit().Count.
const (
	RouteToken          = "POST /oauth/token"
	RouteUsersMe        = "GET /api/v2/users/me"
	RouteGetGroups      = "GET /api/v2/groups"
	RoutePostGroups     = "POST /api/v2/groups"
	RouteGetGroup       = "GET /api/v2/groups/{groupId}"
	RoutePutGroup       = "PUT /api/v2/groups/{groupId}"
	RouteDeleteGroup    = "DELETE /api/v2/groups/{groupId}"
	RouteGetMembers     = "GET /api/v2/groups/{groupId}/members"
	RoutePostMembers    = "POST /api/v2/groups/{groupId}/members"
	RouteDeleteMembers  = "DELETE /api/v2/groups/{groupId}/members"
	RouteGetIndividuals = "GET /api/v2/groups/{groupId}/individuals"
	RouteGetProfile     = "GET /api/v2/groups/{groupId}/profile"
	RouteGetProfiles    = "GET /api/v2/profiles/groups"
	RouteGetDynamic     = "GET /api/v2/groups/{groupId}/dynamicsettings"
	RoutePutDynamic     = "PUT /api/v2/groups/{groupId}/dynamicsettings"
	RouteDeleteDynamic  = "DELETE /api/v2/groups/{groupId}/dynamicsettings"
	RoutePreviewDynamic = "POST /api/v2/groups/dynamicsettings/preview"
	RoutePostSearch     = "POST /api/v2/groups/search"
	RouteGetSearch      = "GET /api/v2/groups/search"
	RouteGetFieldConfig = "GET /api/v2/fieldconfig"
)

// routeNotFound catches every path the API does not have.
const routeNotFound = "/"

// The permissions the operations document (caller tokens need them).
const (
	permissionGroupAdd    = "directory:group:add"
	permissionGroupEdit   = "directory:group:edit"
	permissionGroupDelete = "directory:group:delete"
	permissionGroupView   = "directory:group:view"
)

const (
	defaultTokenTTL = 24 * time.Hour
	// defaultRateLimitReport is the allowance inin-ratelimit-allowed
	// reports when Options.RateLimit is zero.
	defaultRateLimitReport = 300
)

// Options configures a Server.
type Options struct {
	// Size is the demodata set to seed; the zero value means demodata.Demo.
	Size demodata.Size
	// Tokens maps caller bearer tokens (as a caller of the gateway in
	// AUTH_MODE=genesys would hold) to their permissions. They are accepted
	// on every call, answer GET /api/v2/users/me, and the operations that
	// document a permission refuse them with 403 when they lack it
	// ("*" segments match anything, e.g. "directory:group:*").
	Tokens map[string][]string
	// ClientID and ClientSecret are the only credentials the token endpoint
	// accepts; when ClientID is empty no token can be obtained.
	ClientID, ClientSecret string
	// TokenTTL is the lifetime of issued tokens (expires_in); zero means
	// 24 hours, the Genesys default.
	TokenTTL time.Duration
	// Latency delays every answer (a client that goes away ends the wait).
	Latency time.Duration
	// RateLimit, when positive, is how many calls one token may make per
	// minute before it gets 429 too.many.requests.retry.after with
	// Retry-After. When zero nothing is refused, but the inin-ratelimit-*
	// headers still report usage against 300.
	RateLimit int
	// StrictBodies refuses request bodies with keys the operation's model
	// does not name, or names in another case (400 bad.request). Off, as
	// the real API is assumed to behave (audit 2.9: the strict rejection is
	// one of the rules "the real API does not document"), such keys are
	// ignored. Tests of the wire names turn it on.
	StrictBodies bool
}

// Writes is how the emulator answers and applies writes, changed at run
// time with Server.SetWrites. The zero value (demo mode) applies every
// write at once and answers a stale version with 409.
type Writes struct {
	// ConflictStatus is how a stale version (PUT group, POST members) is
	// answered, in one of the three forms Genesys uses (Terraform's
	// IsVersionMismatch): http.StatusConflict (also 0) 409
	// general.conflict; http.StatusBadRequest 400 bad.request "The version
	// 3 does not match the current version 4"; http.StatusRequestTimeout
	// 408 client.timeout.
	ConflictStatus int
	// PropagationDelay models the real API's asynchronous writes: a group
	// DELETE (answered 200) and POST/DELETE members (answered 202) become
	// visible to reads only after this delay. The version still moves at
	// once. Zero applies them at once.
	PropagationDelay time.Duration
	// DropDeletes is how many of the next group DELETEs are answered 200
	// and then silently not applied, as Terraform's provider says the real
	// one sometimes is ("Directory always returns a 200 on the delete and
	// then fails asynchronously").
	DropDeletes int
}

// Server is the emulator: an http.Handler serving the Genesys routes.
type Server struct {
	kit     *emukit.Kit
	opts    Options
	store   *store
	tokens  *tokenStore
	limiter *limiter
	now     func() time.Time

	writesMu sync.Mutex
	writes   Writes
}

type (
	correlationKey struct{}
	// strictKey marks the requests of a Server with Options.StrictBodies.
	strictKey struct{}
)

// New returns a Server seeded from opts.Size.
func New(opts Options) *Server {
	if opts.Size == (demodata.Size{}) {
		opts.Size = demodata.Demo
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = defaultTokenTTL
	}
	s := &Server{
		kit:     emukit.New(),
		opts:    opts,
		store:   newStore(opts.Size),
		tokens:  newTokenStore(),
		limiter: newLimiter(),
		now:     time.Now,
	}
	s.routes()
	return s
}

// SetWrites changes how the calls that follow are answered and applied.
func (s *Server) SetWrites(w Writes) {
	s.writesMu.Lock()
	defer s.writesMu.Unlock()
	s.writes = w
}

// currentWrites returns the Writes in force.
func (s *Server) currentWrites() Writes {
	s.writesMu.Lock()
	defer s.writesMu.Unlock()
	return s.writes
}

// takeDroppedDelete reports whether this group DELETE is one to drop, and
// counts it.
func (s *Server) takeDroppedDelete() bool {
	s.writesMu.Lock()
	defer s.writesMu.Unlock()
	if s.writes.DropDeletes <= 0 {
		return false
	}
	s.writes.DropDeletes--
	return true
}

// propagate applies a change to the store now, or after the propagation
// delay under the store's write lock. The caller holds that lock.
func (s *Server) propagate(apply func()) {
	d := s.currentWrites().PropagationDelay
	if d <= 0 {
		apply()
		return
	}
	time.AfterFunc(d, func() {
		s.store.mu.Lock()
		defer s.store.mu.Unlock()
		apply()
	})
}

// Kit returns the call accounting and fault injection of the Server's routes
// (named by the Route constants).
func (s *Server) Kit() *emukit.Kit { return s.kit }

// ServeHTTP gives the request a correlation id (response header and error
// bodies) and serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := uuid.NewString()
	w.Header().Set(CorrelationHeader, id)
	ctx := context.WithValue(r.Context(), correlationKey{}, id)
	if s.opts.StrictBodies {
		ctx = context.WithValue(ctx, strictKey{}, true)
	}
	s.kit.ServeHTTP(w, r.WithContext(ctx))
}

func (s *Server) routes() {
	s.kit.Handle(RouteToken, s.tokenEndpoint)
	s.kit.Handle(RouteUsersMe, s.api("", s.usersMe))
	s.kit.Handle(RouteGetGroups, s.api("", s.getGroups))
	s.kit.Handle(RoutePostGroups, s.api(permissionGroupAdd, s.postGroups))
	s.kit.Handle(RouteGetGroup, s.api("", s.getGroup))
	s.kit.Handle(RoutePutGroup, s.api(permissionGroupEdit, s.putGroup))
	s.kit.Handle(RouteDeleteGroup, s.api(permissionGroupDelete, s.deleteGroup))
	s.kit.Handle(RouteGetMembers, s.api("", s.getMembers))
	s.kit.Handle(RoutePostMembers, s.api("", s.postMembers))
	s.kit.Handle(RouteDeleteMembers, s.api("", s.deleteMembers))
	s.kit.Handle(RouteGetIndividuals, s.api("", s.getIndividuals))
	s.kit.Handle(RouteGetProfile, s.api("", s.getProfile))
	s.kit.Handle(RouteGetProfiles, s.api("", s.getProfiles))
	s.kit.Handle(RouteGetDynamic, s.api(permissionGroupView, s.getDynamic))
	s.kit.Handle(RoutePutDynamic, s.api(permissionGroupEdit, s.putDynamic))
	s.kit.Handle(RouteDeleteDynamic, s.api(permissionGroupDelete, s.deleteDynamic))
	s.kit.Handle(RoutePreviewDynamic, s.api(permissionGroupView, s.previewDynamic))
	s.kit.Handle(RoutePostSearch, s.api("", s.postSearch))
	s.kit.Handle(RouteGetSearch, s.api("", s.getSearch))
	s.kit.Handle(RouteGetFieldConfig, s.api("", s.getFieldConfig))
	s.kit.Handle(routeNotFound, s.api("", s.unknownRoute))
}

// unknownRoute answers every path the API does not have.
func (s *Server) unknownRoute(*http.Request) (int, any, error) {
	return 0, nil, notFound("no such resource")
}
