package gateway

import (
	"context"
	"log/slog"
	"math"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/klauspost/compress/gzhttp"

	"github.com/groupdir/gateway/auth"
	"github.com/groupdir/gateway/graph"
	"github.com/groupdir/gateway/graph/guard"
	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/graph/quota"
	"github.com/groupdir/gateway/graph/resolvers"
	"github.com/groupdir/gateway/ide"
	"github.com/groupdir/gateway/idempotency"
	"github.com/groupdir/gateway/redisstore"
	"github.com/groupdir/gateway/telemetry"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// queryCacheSize is how many parsed and validated documents are kept.
const queryCacheSize = 1000

// Gateway is the wired gateway: the upstream clients and everything the
// HTTP surface needs, built by New.
type Gateway struct {
	cfg        Config
	log        *slog.Logger
	genesys    *genesys.Client
	usergroups *usergroups.Client
	telemetry  *telemetry.Telemetry
	ready      *readiness
	// resilience protects each upstream, by name (breaker state, in-flight calls).
	resilience map[string]*upstream.Resilience
	// demo is set in demo mode: the in-process emulators.
	demo *demo
	// authn authenticates the callers of /query (AUTH_MODE).
	authn auth.Authenticator
	// direct runs supported queries on the direct executor (graph.Direct).
	direct bool
	// shared is the Redis the replicas share (REDIS_URL), or nil.
	shared *redisstore.Store
	// closers end what uses shared (subscriptions) before it closes.
	closers []func() error
}

// Handler returns the gateway's HTTP surface: /query, /, /healthz, /readyz
// and /metrics.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	idempotent := idempotency.Middleware(g.idempotencyStore(),
		idempotency.Options{MaxBody: g.cfg.Limits.MaxBodyBytes, Scope: callerScope, MaxRun: g.cfg.OperationTimeout})
	authenticate := auth.Middleware(g.authn, auth.Options{Log: g.log, CORSOrigins: g.cfg.CORSOrigins})
	shed := g.cfg.Shed
	shed.Log, shed.CORSOrigins = g.log, g.cfg.CORSOrigins
	callerRate := guard.CallerRate(guard.CallerRateOptions{PerMinute: g.cfg.CallerRequestsPerMinute, Caller: callerScope,
		CORSOrigins: g.cfg.CORSOrigins, Log: g.log})
	mux.Handle("/query", g.telemetry.Middleware(guard.Shed(shed)(authenticate(callerRate(gzhttp.GzipHandler(idempotent(
		g.httpCache(g.perRequest(quota.Middleware(g.graphQL()))))))))))
	if g.cfg.IDE {
		mux.Handle("GET /{$}", ide.Handler(ide.Options{Title: "Directory gateway", Endpoint: "/query"}))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", g.ready.serve)
	mux.Handle("GET /metrics", g.telemetry.MetricsHandler())
	return mux
}

// graphQL builds the gqlgen server with only the extensions chosen here
// (handler.NewDefaultServer would switch on more), behind the guard, which
// owns its HTTP transport, limits, introspection and suggestion settings.
func (g *Gateway) graphQL() http.Handler {
	cfg := graph.Config{Resolvers: resolvers.New(g.genesys, g.usergroups,
		append(g.sharedResolverOptions(), resolvers.WithMaxMemberIDs(g.cfg.MaxMemberIDs),
			resolvers.WithDeleteConfirmTimeout(g.cfg.DeleteConfirmTimeout))...),
		Directives: graph.DirectiveRoot{HasPermission: resolvers.HasPermission,
			MembershipPermission: resolvers.MembershipPermission(g.cfg.MembershipPermission)}}
	if !g.cfg.Federation {
		cfg.Schema = graph.PlainSchema() // no _entities, _service or federation types
	}
	es := graph.NewExecutableSchema(cfg)
	if g.direct {
		es = graph.Direct(es, g.telemetry.ObserveExecutor, resolvers.Pending)
	}
	srv := handler.New(es)
	srv.SetQueryCache(guard.NewQueryCache(queryCacheSize, es.Schema(), g.cfg.Limits.MaxTokens))
	srv.SetErrorPresenter(resolvers.ErrorPresenter(g.log))
	srv.SetRecoverFunc(resolvers.Recover(g.log))
	g.telemetry.Instrument(srv)
	srv.AroundResponses(reportCost)
	srv.AroundOperations(resolvers.Prefetch)
	if g.cfg.Federation {
		srv.AroundFields(resolvers.CheckEntities)
	}
	srv.AroundOperations(freshReadsForMutations)
	h := guard.Protect(srv, es.Schema(), guard.Options{
		Limits: g.cfg.Limits, Introspection: g.cfg.Introspection, Suggestions: g.cfg.Suggestions,
		ListSizes: listSizes, DeferrableFields: graph.DeferrableFields(es.Schema()), CORSOrigins: g.cfg.CORSOrigins, CORSHeaders: g.cfg.CORSHeaders,
		TrustedDocuments: g.cfg.TrustedDocuments, PersistedStore: g.persistedStore(), PersistedCDNMaxAge: g.cfg.PersistedCDNMaxAge,
		Log: g.log,
	})
	// After the guard's complexity limit: a refused document costs no quota.
	q := quota.New(quota.Options{PerMinute: g.cfg.CallerRatePerMinute, SharedPerMinute: g.cfg.sharedRatePerMinute(),
		MaxSharePercent: g.cfg.CallerMaxSharePercent, MaxCalls: g.cfg.MaxUpstreamCalls, ListSizes: listSizes,
		Shared: g.sharedQuota()})
	if q.PerMinute() < g.cfg.CallerRatePerMinute {
		g.log.Warn("AUTH_RATE_LIMIT_PER_MINUTE lowered to the callers' share of the shared upstream budget (AUTH_RATE_LIMIT_MAX_SHARE)",
			"configured", g.cfg.CallerRatePerMinute, "applied", q.PerMinute(), "shared_per_minute", g.cfg.sharedRatePerMinute())
	}
	srv.Use(q.Extension())
	return h
}

// listSizes are the item counts the complexity limit and the call estimate
// assume for the long lists that take no size argument: teams lists up to
// 100 teams of each directory (the estimate counts a fragment on one of
// them by its own 100).
var listSizes = map[string]int{"Query.teams": 200, "Query.teams.Group": 100, "Query.teams.UserGroup": 100}

// perRequest gives each request its operation deadline and its own loaders
// (telemetry.Middleware, around it, gives it its upstream call counter).
func (g *Gateway) perRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), g.cfg.OperationTimeout)
		defer cancel()
		ctx = loaders.With(ctx, loaders.New(g.genesys, g.usergroups, loaders.Options{ObserveBatch: g.telemetry.ObserveBatch}))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// reportCost adds the upstream calls the operation made to the response's
// extensions, e.g. {"cost":{"upstreamCalls":{"genesys":1,"usergroups":0}}},
// and, when part of the answer was served stale from the read cache, the
// age of its oldest part: {"stale":{"ageSeconds":12}}.
func reportCost(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	noteAnswer(ctx, resp)
	calls := upstream.CallsFrom(ctx)
	if resp == nil || calls == nil {
		return resp
	}
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	resp.Extensions["cost"] = map[string]any{"upstreamCalls": map[string]int64{
		upstream.Genesys: calls.Genesys(), upstream.Usergroups: calls.Usergroups(),
	}}
	if age, ok := calls.Stale(); ok {
		resp.Extensions["stale"] = map[string]any{"ageSeconds": int(math.Ceil(age.Seconds()))}
	}
	return resp
}
