// Package gateway wires the GraphQL gateway: it reads the configuration
// from the environment (LoadConfig), builds the upstream clients, their
// resilience and telemetry, the authenticator, the shared Redis stores and,
// in demo mode, the in-process emulators (New), and serves the HTTP surface
// (Gateway.Handler, Gateway.Server). The command at the repository root
// only runs it.
//
// It is internal: the command's wiring, not a library. (A folder named
// gateway at the root would also take the name `go build` gives the
// binary.)
package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"go.opentelemetry.io/otel/trace"

	"github.com/groupdir/gateway/telemetry"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// defaultGCPercent is the GOGC the gateway runs with unless GOGC is set.
// Request handling allocates many short-lived objects over a small live
// heap; collecting less often cut the CPU per request by about a third in
// the member-heavy benchmarks (W3, W4) for a few more MB of heap; the soft
// memory limit (setMemoryLimit) bounds what that costs.
const defaultGCPercent = 400

// Soft memory limit (runtime/debug.SetMemoryLimit) defaults.
const (
	// cgroupMemoryShare is the share of the cgroup's memory limit the soft
	// limit takes, leaving the rest for memory the Go runtime does not
	// manage (as the Kubernetes manifests do with GOMEMLIMIT).
	cgroupMemoryShare = 0.9
	// defaultMemoryLimit is the soft limit without a cgroup memory limit.
	// With GOGC=400 and no limit, 100 concurrent requests at the body cap
	// raised the RSS by up to 199 MiB (red team case 58; the budget is 100).
	// Measured with BenchmarkMaxBodyMemory, the peak rise follows the
	// limit once it binds: 105-125 MiB at 128 MiB, 77-90 MiB at 96 MiB,
	// 133-223 MiB without a limit.
	defaultMemoryLimit = 96 << 20
)

// TuneRuntime sets the garbage collector as the gateway runs: GOGC
// defaultGCPercent unless GOGC is set, and the soft memory limit
// (setMemoryLimit). It returns the memory limit in force. Call it once,
// first thing in main.
func TuneRuntime() (int64, error) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	return setMemoryLimit(memlimit.FromCgroup)
}

// setMemoryLimit sets the soft memory limit: cgroupMemoryShare of the limit
// cgroup reports (github.com/KimMachineGun/automemlimit reads cgroup v1 and
// v2, nested hierarchies included), or defaultMemoryLimit when it reports
// none or there is no cgroup. An explicit GOMEMLIMIT (or AUTOMEMLIMIT=off)
// wins and leaves the limit as the runtime set it. It returns the limit in
// force.
func setMemoryLimit(cgroup memlimit.Provider) (int64, error) {
	return memlimit.Set(memlimit.WithRatio(1), memlimit.WithProvider(memlimit.ApplyFallback(
		memlimit.ApplyRatio(cgroup, cgroupMemoryShare), memlimit.Limit(defaultMemoryLimit))))
}

// Inbound server limits (design/hardening.md).
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 35 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

// Server returns the HTTP server of Handler, with the inbound limits
// (timeouts, header size) and the gateway's logger for its errors.
func (g *Gateway) Server() *http.Server {
	return &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
}

// NewLogger returns the logger cfg asks for (LOG_LEVEL, LOG_FORMAT),
// writing to w; the lines logged per failing field are sampled
// (telemetry.NewSampledHandler).
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(telemetry.NewSampledHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(telemetry.NewSampledHandler(slog.NewTextHandler(w, opts)))
}

// options are New's settings that do not come from the environment.
type options struct {
	// tracerProvider, when set, turns tracing on.
	tracerProvider trace.TracerProvider
	// readyTTL is how long /readyz trusts a passed check.
	readyTTL time.Duration
	// demoSize is the demo emulators' data set (demodata.Demo).
	demoSize demodata.Size
	// demoDetails keeps the details of every call the demo emulators
	// answer (tests read them; a long demo session must not accumulate
	// them).
	demoDetails bool
	// demoTokenTTL is the lifetime of the demo Genesys emulator's tokens
	// (zero: its default, 24 hours).
	demoTokenTTL time.Duration
	// callerTokens are the Genesys user tokens the demo emulator accepts,
	// with their permissions (nil: demoCallerTokens).
	callerTokens map[string][]string
	// generatedOnly runs every operation on gqlgen's generated executor
	// (the differential tests compare it with the direct executor).
	generatedOnly bool
}

// Option sets one of New's settings that do not come from the environment.
type Option func(*options)

// WithTracerProvider turns tracing on with tp (telemetry.StartTracing's,
// or in tests an in-memory exporter's).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracerProvider = tp }
}

// withReadyTTL sets how long /readyz trusts a passed check (zero: never).
func withReadyTTL(d time.Duration) Option {
	return func(o *options) { o.readyTTL = d }
}

// withDemo seeds the demo emulators with size and keeps the details of
// every call they answer, for the tests to read.
func withDemo(size demodata.Size) Option {
	return func(o *options) { o.demoSize, o.demoDetails = size, true }
}

// withDemoTokenTTL sets the lifetime of the demo emulator's tokens; below
// genesys.TokenEarlyExpiry every token use asks for a new one.
func withDemoTokenTTL(d time.Duration) Option {
	return func(o *options) { o.demoTokenTTL = d }
}

// withCallerTokens sets the Genesys user tokens the demo emulator accepts
// (AUTH_MODE=genesys), with their permissions.
func withCallerTokens(tokens map[string][]string) Option {
	return func(o *options) { o.callerTokens = tokens }
}

// withGeneratedExecutor turns the direct executor off (graph.Direct).
func withGeneratedExecutor() Option {
	return func(o *options) { o.generatedOnly = true }
}

// New wires the gateway from cfg, logging to log. In demo mode it first
// starts the emulators and says so in the first log line. Close releases
// what it started.
func New(cfg Config, log *slog.Logger, opts ...Option) (*Gateway, error) {
	o := options{readyTTL: defaultReadyTTL, demoSize: demodata.Demo}
	for _, opt := range opts {
		opt(&o)
	}
	log = slog.New(telemetry.LogHandler(log.Handler()))
	g := &Gateway{cfg: cfg, log: log, resilience: map[string]*upstream.Resilience{}, direct: !o.generatedOnly,
		telemetry: telemetry.New(telemetry.Options{Log: log, TracerProvider: o.tracerProvider})}
	mode := "upstream"
	if cfg.Demo {
		d, err := startDemo(&g.cfg, o.demoSize, o.demoTokenTTL, o.callerTokens)
		if err != nil {
			return nil, fmt.Errorf("demo mode: %w", err)
		}
		if !o.demoDetails {
			d.quiet()
		}
		g.demo, mode = d, "demo"
		log.Info("demo mode: serving in-memory emulators of the Genesys and Usergroup APIs with sample data; set GENESYS_* and USERGROUP_* to use real upstreams",
			"genesys", d.GenesysURL, "usergroups", d.UsergroupURL)
	}
	cfg = g.cfg
	if err := g.openShared(); err != nil {
		return nil, err
	}
	genesysHTTP := upstream.NewHTTPClient(g.clientOptions(upstream.Genesys, cfg.GenesysResilience))
	// The token endpoint is called outside the API's resilience stack: the
	// token source has its own breaker and makes one fetch for all waiters.
	tokenHTTP := upstream.NewHTTPClient(upstream.ClientOptions{Timeout: cfg.AttemptTimeout,
		Wrap: g.telemetry.UpstreamTransport(upstream.Genesys)})
	tokens := genesys.NewTokenSource(cfg.GenesysLoginURL, cfg.GenesysClientID, cfg.GenesysSecret, tokenHTTP)
	var err error
	if g.genesys, err = genesys.New(cfg.GenesysAPIURL, genesysHTTP, genesys.WithTokenSource(tokens),
		genesys.WithDriftObserver(g.telemetry.DriftObserver())); err != nil {
		return nil, fmt.Errorf("GENESYS_API_URL: %w", err)
	}
	ugHTTP := upstream.NewHTTPClient(g.clientOptions(upstream.Usergroups, cfg.UsergroupResilience))
	if g.usergroups, err = usergroups.New(cfg.UsergroupURL, cfg.UsergroupCompanyID, cfg.UsergroupKey, ugHTTP); err != nil {
		return nil, fmt.Errorf("USERGROUP_API_URL: %w", err)
	}
	if g.authn, err = g.newAuthenticator(); err != nil {
		return nil, err
	}
	checks := map[string]readyCheck{
		upstream.Genesys: {what: "token", breaker: g.resilience[upstream.Genesys].BreakerState, live: true,
			check: func(ctx context.Context) error {
				ctx, cancel := context.WithTimeout(ctx, readyTokenWait)
				defer cancel()
				_, err := tokens.TokenContext(ctx)
				return err
			}},
		upstream.Usergroups: {what: "credentials", breaker: g.resilience[upstream.Usergroups].BreakerState,
			check: func(ctx context.Context) error {
				_, err := g.usergroups.Search(ctx, usergroups.SearchOptions{PageSize: 1})
				return err
			}},
	}
	if g.shared != nil {
		checks["redis"] = g.redisReadiness()
	}
	g.ready = newReadiness(mode, o.readyTTL, checks)
	return g, nil
}

// clientOptions is the stack every call to one upstream goes through,
// outermost first: read sharing (identical reads in flight made once, and
// the optional read cache), then resilience (retries, breaker, rate limit,
// concurrency bound: what sharing saves costs none of them), then
// telemetry (metrics, client span, per-request call counting) of every
// attempt, then the pooled transport.
func (g *Gateway) clientOptions(name string, o upstream.ResilienceOptions) upstream.ClientOptions {
	o.Observer = g.telemetry.Observer()
	o.SharedRate = g.sharedRate()
	r := upstream.NewResilience(name, o)
	g.resilience[name] = r
	g.telemetry.WatchUpstream(name, r, o.RatePerMinute)
	return upstream.ClientOptions{
		Timeout: g.cfg.AttemptTimeout,
		// As many pooled connections as calls may be in flight, so a
		// fan-out never waits for a connection the bound already allows.
		MaxConnsPerHost: o.MaxConcurrency,
		Wrap:            g.telemetry.UpstreamTransport(name),
		Resilience:      r,
		Outer: func(rt http.RoundTripper) http.RoundTripper {
			return g.readSharing(name, rt)
		},
	}
}

// Close stops what New started: the authenticator's background work, the
// demo emulators, the shared read caches' subscriptions and the Redis
// connection.
func (g *Gateway) Close() {
	g.closeAuthenticator()
	if g.demo != nil {
		g.demo.close()
	}
	for _, c := range g.closers {
		_ = c()
	}
	if g.shared != nil {
		_ = g.shared.Close()
	}
}
