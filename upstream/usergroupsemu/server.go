// Package usergroupsemu is an in-memory emulator of the forms platform's
// Usergroup API (/api/v2/usergroup: create, get, update, delete, search),
// written from the design reference (reference/usergroup-api.md) independently of the
// typed client in upstream/usergroups, so that a contract test between the
// two can catch a misreading on either side.
//
// It behaves like the ServiceStack service the reference infers:
//
//   - Credentials (CompanyId + IntegrationKey) travel in the query string of
//     GET and DELETE and in the body of POST and PUT. Missing or wrong ones
//     are a 401; the key is never echoed.
//
//   - The answer is JSON only with ?format=json; any other format, or none,
//     answers XML (DataContract style: alphabetical elements, xmlns:i,
//     d2p1:string arrays), so a client that forgets format=json fails
//     visibly. A request body is JSON when Content-Type is application/json
//     and is read as XML otherwise (the documented default).
//
//   - Errors are {"ResponseStatus":{"ErrorCode","Message","Errors":[...]}}
//     with 400 (missing required member or parameter, a parameter or body
//     that cannot be bound), 401, 404 (an Id no group has) and 405 (unknown
//     route).
//
//   - Query parameter names match case-insensitively, as ServiceStack binds
//     them.
//
//   - Binding problems (a body that cannot be read, a CompanyId, PageNo or
//     PageSize that is not an integer) are a 400 before the credentials are
//     checked; validation (a missing Name on create, a missing Id) comes
//     after them.
//
//   - Ids are opaque: new groups get a GUID spelled as the platform spells
//     it (32 lower-case hex digits, no hyphens); a group Id and the UserIds
//     are stored and answered as given, never re-spelled; an Id that spells
//     a stored GUID another way still finds its group.
//
//   - It refuses only what the reference confirms the real API refuses
//     (missing credentials or required members, malformed bodies, unknown
//     routes); where the real behaviour is unknown it tolerates the input.
//
// Choices where the reference marks the behaviour unknown are documented on
// the handlers (create, update, get, remove, search); the gateway must not
// depend on them beyond what the reference confirms.
package usergroupsemu

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
)

// DemoIntegrationKey is the IntegrationKey the emulator accepts when
// Options.IntegrationKey is empty. It is a demo value, not a secret.
const DemoIntegrationKey = "demo-usergroups-integration-key"

// Paging limits of the search.
const (
	// DefaultPageSize is the page size when PageSize is omitted, 0 or
	// negative. The real default is not documented: the audit calls this 50
	// "invented".
	DefaultPageSize = 50
	// MaxPageSize is the documented maximum PageSize; a larger one reads as
	// this one (whether the real API refuses it is not documented).
	MaxPageSize = 250
)

// Route patterns, usable with Kit().Inject and Kit().Count.
const (
	// RouteCreate creates a group (body: Name, ExternalId, UserIds).
	RouteCreate = "POST /api/v2/usergroup"
	// RouteGet reads one group (?Id=).
	RouteGet = "GET /api/v2/usergroup"
	// RouteUpdate changes a group (Id in the body).
	RouteUpdate = "PUT /api/v2/usergroup"
	// RouteDelete deletes a group (?Id=).
	RouteDelete = "DELETE /api/v2/usergroup"
	// RouteSearch lists groups (Name, ExternalId, PageNo, PageSize).
	RouteSearch = "GET /api/v2/usergroup/search"
	// RouteUnknown catches every other method and path and answers 405,
	// as the vendor documents for endpoints that do not exist.
	RouteUnknown = "/"
)

// Options configures an emulator. Zero values take the defaults noted.
type Options struct {
	// Size is the demo data set the emulator is seeded with (user groups
	// 0..Size.UserGroups-1); the zero Size seeds nothing.
	Size demodata.Size
	// CompanyID is the only company accepted (demodata.CompanyID).
	CompanyID int64
	// IntegrationKey is the only key accepted (DemoIntegrationKey).
	IntegrationKey string
	// Latency delays every answer (zero: none).
	Latency time.Duration
	// RateLimit, when positive, is how many calls the integration key may
	// make per minute (fixed one-minute windows, as a budget the vendor
	// does not document might work); further calls are answered 429
	// TooManyRequests with Retry-After, the seconds left in the window.
	RateLimit int
}

// Server is the emulator, an http.Handler serving /api/v2/usergroup.
// It is safe for concurrent use.
type Server struct {
	kit       *emukit.Kit
	store     *store
	companyID int64
	key       string
	latency   time.Duration
	rate      rateWindow
	// echoWithoutUsers: see SetUpdateEchoWithoutUsers.
	echoWithoutUsers atomic.Bool
}

// New returns an emulator seeded from opts.Size.
func New(opts Options) *Server {
	if opts.CompanyID == 0 {
		opts.CompanyID = demodata.CompanyID
	}
	if opts.IntegrationKey == "" {
		opts.IntegrationKey = DemoIntegrationKey
	}
	s := &Server{
		kit:       emukit.New(),
		store:     newStore(seed(opts.Size, opts.CompanyID)),
		companyID: opts.CompanyID,
		key:       opts.IntegrationKey,
		latency:   opts.Latency,
		rate:      rateWindow{limit: opts.RateLimit},
	}
	s.handle(RouteCreate, s.create)
	s.handle(RouteGet, s.get)
	s.handle(RouteUpdate, s.update)
	s.handle(RouteDelete, s.remove)
	s.handle(RouteSearch, s.search)
	s.handle(RouteUnknown, unknownRoute)
	return s
}

// ServeHTTP serves the Usergroup API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.kit.ServeHTTP(w, r) }

// Kit returns the emulator's call accounting and fault injection; routes are
// the Route* constants.
func (s *Server) Kit() *emukit.Kit { return s.kit }

// CompanyID returns the company the emulator accepts.
func (s *Server) CompanyID() int64 { return s.companyID }

// Snapshot returns a copy of every user group, in creation order.
func (s *Server) Snapshot() []UserGroup { return s.store.snapshot() }

// UserGroup returns a copy of the group with the given id (any GUID
// spelling), and whether it exists.
func (s *Server) UserGroup(id string) (UserGroup, bool) {
	g, ok := s.store.get(id)
	return g.clone(), ok
}

// SetUpdateEchoWithoutUsers makes every later PUT answer "UserIds": [],
// whatever it stored, as the vendor's own PUT sample does after setting one
// user (the audit: the PUT echo "should not be trusted for membership");
// false restores the faithful echo. GET answers are not affected.
func (s *Server) SetUpdateEchoWithoutUsers(on bool) { s.echoWithoutUsers.Store(on) }

// UserGroupsByExternalID returns how many groups have this ExternalId.
func (s *Server) UserGroupsByExternalID(ext string) int { return s.store.countExternal(ext) }

// handle registers op on the Kit, behind the configured latency.
func (s *Server) handle(route string, op operation) {
	s.kit.Handle(route, func(w http.ResponseWriter, r *http.Request) {
		if !s.wait(r) {
			return
		}
		if f := s.rate.take(w, time.Now()); f != nil {
			writeAnswer(w, r, f.status, f)
			return
		}
		a, f := op(r)
		if f != nil {
			writeAnswer(w, r, f.status, f)
			return
		}
		writeAnswer(w, r, http.StatusOK, a)
	})
}

// wait sleeps for the configured latency; false when the client went away.
func (s *Server) wait(r *http.Request) bool {
	if s.latency <= 0 {
		return true
	}
	t := time.NewTimer(s.latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
