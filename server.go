// Command gateway serves one GraphQL API in front of the Genesys Cloud
// Groups API and a forms platform's Usergroup API.
//
// With no upstream configuration it starts in demo mode, on in-process
// emulators of both APIs. See README.md for configuration.
package main

//go:generate go tool gqlgen generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
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

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if _, err := setMemoryLimit(memlimit.FromCgroup); err != nil {
		fmt.Fprintln(os.Stderr, "gateway: memory limit:", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
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
	shutdownTimeout   = 20 * time.Second
)

// run starts the gateway and serves until ctx is cancelled, then shuts down
// gracefully. Logs go to stdout; a start-up error is returned.
func run(ctx context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(cfg, stdout)
	tp, err := telemetry.StartTracing(ctx, cfg.Tracing, log)
	if err != nil {
		return err
	}
	var opts []option
	if tp != nil {
		defer flushTraces(tp, log)
		opts = append(opts, withTracerProvider(tp))
		log.Info("tracing: exporting spans over OTLP", "protocol", cfg.Tracing.Protocol)
	}
	g, err := newGateway(cfg, log, demodata.Demo, opts...)
	if err != nil {
		return err
	}
	defer g.close()
	if g.demo != nil {
		g.demo.quiet()
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR: %w", err)
	}
	srv := &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "addr", ln.Addr().String(), "env", cfg.Env, "auth", cfg.AuthMode,
		"memoryLimitBytes", debug.SetMemoryLimit(-1))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// flushTraces sends the spans still buffered, on the way out.
func flushTraces(tp *sdktrace.TracerProvider, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		log.Warn("tracing: flushing spans failed", "error", err.Error())
	}
}

// options are newGateway's settings that do not come from the environment.
type options struct {
	// tracerProvider, when set, turns tracing on.
	tracerProvider trace.TracerProvider
	// readyTTL is how long /readyz trusts a passed check.
	readyTTL time.Duration
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

// option sets one of newGateway's options.
type option func(*options)

// withTracerProvider turns tracing on with tp (tests give an in-memory
// exporter's).
func withTracerProvider(tp trace.TracerProvider) option {
	return func(o *options) { o.tracerProvider = tp }
}

// withReadyTTL sets how long /readyz trusts a passed check (zero: never).
func withReadyTTL(d time.Duration) option {
	return func(o *options) { o.readyTTL = d }
}

// withDemoTokenTTL sets the lifetime of the demo emulator's tokens; below
// genesys.TokenEarlyExpiry every token use asks for a new one.
func withDemoTokenTTL(d time.Duration) option {
	return func(o *options) { o.demoTokenTTL = d }
}

// withCallerTokens sets the Genesys user tokens the demo emulator accepts
// (AUTH_MODE=genesys), with their permissions.
func withCallerTokens(tokens map[string][]string) option {
	return func(o *options) { o.callerTokens = tokens }
}

// withGeneratedExecutor turns the direct executor off (graph.Direct).
func withGeneratedExecutor() option {
	return func(o *options) { o.generatedOnly = true }
}

// newGateway wires the gateway from cfg. In demo mode it first starts the
// emulators, seeded with size, and says so in the first log line.
func newGateway(cfg Config, log *slog.Logger, size demodata.Size, opts ...option) (*gateway, error) {
	o := options{readyTTL: defaultReadyTTL}
	for _, opt := range opts {
		opt(&o)
	}
	log = slog.New(telemetry.LogHandler(log.Handler()))
	g := &gateway{cfg: cfg, log: log, resilience: map[string]*upstream.Resilience{}, direct: !o.generatedOnly,
		telemetry: telemetry.New(telemetry.Options{Log: log, TracerProvider: o.tracerProvider})}
	mode := "upstream"
	if cfg.Demo {
		d, err := startDemo(&g.cfg, size, o.demoTokenTTL, o.callerTokens)
		if err != nil {
			return nil, fmt.Errorf("demo mode: %w", err)
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
func (g *gateway) clientOptions(name string, o upstream.ResilienceOptions) upstream.ClientOptions {
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

func (g *gateway) close() {
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
