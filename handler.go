package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/groupdir/gateway/graph"
	"github.com/groupdir/gateway/graph/guard"
	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/graph/resolvers"
	"github.com/groupdir/gateway/ide"
	"github.com/groupdir/gateway/idempotency"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// queryCacheSize is how many parsed and validated documents are kept.
const queryCacheSize = 1000

// gateway is the wired gateway: the upstream clients and everything the
// HTTP surface needs. server.go and every test build it with newGateway.
type gateway struct {
	cfg        Config
	log        *slog.Logger
	genesys    *genesys.Client
	usergroups *usergroups.Client
	metrics    *metrics
	ready      *readiness
	// resilience protects each upstream, by name (breaker state, in-flight calls).
	resilience map[string]*upstream.Resilience
	// demo is set in demo mode: the in-process emulators.
	demo *demo
}

// Handler returns the gateway's HTTP surface: /query, /, /healthz, /readyz
// and /metrics.
func (g *gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	idempotent := idempotency.Middleware(idempotency.NewMemoryStore(idempotency.MemoryOptions{}),
		idempotency.Options{MaxBody: g.cfg.Limits.MaxBodyBytes})
	mux.Handle("/query", g.metrics.instrument(gzhttp.GzipHandler(idempotent(g.perRequest(g.graphQL())))))
	if g.cfg.IDE {
		mux.Handle("GET /{$}", ide.Handler(ide.Options{Title: "Directory gateway", Endpoint: "/query"}))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", g.ready.serve)
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.metrics.registry, promhttp.HandlerOpts{}))
	return mux
}

// graphQL builds the gqlgen server with only the extensions chosen here
// (handler.NewDefaultServer would switch on more), behind the guard, which
// owns its HTTP transport, limits, introspection and suggestion settings.
func (g *gateway) graphQL() http.Handler {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: resolvers.New(g.genesys, g.usergroups,
		resolvers.WithMaxMemberIDs(g.cfg.MaxMemberIDs))})
	srv := handler.New(es)
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.SetErrorPresenter(resolvers.ErrorPresenter(g.log))
	srv.SetRecoverFunc(resolvers.Recover(g.log))
	srv.AroundResponses(reportCost)
	srv.AroundOperations(resolvers.Prefetch)
	return guard.Protect(srv, es.Schema(), guard.Options{
		Limits: g.cfg.Limits, Introspection: g.cfg.Introspection, Suggestions: g.cfg.Suggestions,
		ListSizes: listSizes, CORSOrigins: g.cfg.CORSOrigins, Log: g.log,
	})
}

// listSizes are the item counts the complexity limit assumes for the long
// lists that take no size argument: teams lists up to 100 teams of each
// directory.
var listSizes = map[string]int{"Query.teams": 200}

// perRequest gives each request its operation deadline and its own loaders
// and upstream call counter.
func (g *gateway) perRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), g.cfg.OperationTimeout)
		defer cancel()
		ctx = upstream.WithCalls(ctx, &upstream.Calls{})
		ctx = loaders.With(ctx, loaders.New(g.genesys, g.usergroups, loaders.Options{}))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// reportCost adds the upstream calls the operation made to the response's
// extensions, e.g. {"cost":{"upstreamCalls":{"genesys":1,"usergroups":0}}}.
func reportCost(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
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
	return resp
}

// readiness answers /readyz: ready once each upstream's credentials work.
// Results are cached briefly so probes cost (almost) no upstream calls.
type readiness struct {
	mode   string
	checks map[string]func(context.Context) error
	ttl    time.Duration

	cache chan readyState // one-slot: holds the last state
}

type readyState struct {
	at     time.Time
	states map[string]string
	ok     bool
}

func newReadiness(mode string, checks map[string]func(context.Context) error) *readiness {
	r := &readiness{mode: mode, checks: checks, ttl: 10 * time.Second, cache: make(chan readyState, 1)}
	r.cache <- readyState{}
	return r
}

func (r *readiness) state(ctx context.Context) readyState {
	st := <-r.cache
	defer func() { r.cache <- st }()
	if !st.at.IsZero() && time.Since(st.at) < r.ttl {
		return st
	}
	st = readyState{at: time.Now(), states: map[string]string{}, ok: true}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for name, check := range r.checks {
		if err := check(ctx); err != nil {
			st.states[name] = "unavailable: " + err.Error()
			st.ok = false
			continue
		}
		st.states[name] = "ok"
	}
	if !st.ok {
		st.at = time.Time{} // do not cache a failure: the next probe checks again
	}
	return st
}

func (r *readiness) serve(w http.ResponseWriter, req *http.Request) {
	st := r.state(req.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !st.ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ready": st.ok, "mode": r.mode, "upstreams": st.states})
}

// metrics are the gateway's Prometheus metrics, in their own registry.
type metrics struct {
	registry         *prometheus.Registry
	requests         *prometheus.CounterVec
	upstreamRequests *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total", Help: "GraphQL HTTP requests by method and status code.",
		}, []string{"method", "code"}),
		upstreamRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_upstream_requests_total", Help: "Calls to the upstream APIs by upstream, method and status code (0: no answer).",
		}, []string{"upstream", "method", "code"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_upstream_request_duration_seconds", Help: "Upstream call latency.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"upstream"}),
	}
	m.registry.MustRegister(m.requests, m.upstreamRequests, m.upstreamDuration,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) instrument(next http.Handler) http.Handler {
	return promhttp.InstrumentHandlerCounter(m.requests, next)
}

// upstreamTransport counts and times the calls to one upstream.
func (m *metrics) upstreamTransport(name string) func(http.RoundTripper) http.RoundTripper {
	return func(rt http.RoundTripper) http.RoundTripper {
		rt = promhttp.InstrumentRoundTripperCounter(m.upstreamRequests.MustCurryWith(prometheus.Labels{"upstream": name}), rt)
		rt = promhttp.InstrumentRoundTripperDuration(m.upstreamDuration.MustCurryWith(prometheus.Labels{"upstream": name}), rt)
		return upstream.CountCalls(name, rt)
	}
}
