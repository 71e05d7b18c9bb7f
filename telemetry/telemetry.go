// Package telemetry is what an operator sees of the gateway: Prometheus
// metrics, OpenTelemetry traces, one structured log line per request and
// the request id that ties them together.
//
// One Telemetry value serves one gateway. Its Middleware goes around
// /query (request id, upstream call counting, the server span, the log line
// and the request metrics); Instrument adds its gqlgen extensions (operation
// name, outcome and error codes, requestId on every error, operation and
// resolver spans); UpstreamTransport, Observer and DriftObserver instrument
// the upstream clients; ObserveBatch hears the dataloaders. Labels are bounded: no ids,
// no query text, operation names past the first hundred share "other".
//
// Tracing is off unless a tracer provider is given (StartTracing builds one
// from the standard OTEL_* variables): then no span is started, no
// traceparent is sent and no field is intercepted.
package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"
	"io"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/groupdir/gateway/upstream"
)

// instrumentationName names the gateway's tracer.
const instrumentationName = "github.com/groupdir/gateway"

// Options configures New.
type Options struct {
	// Log receives the request lines and upstream error warnings. Nil
	// discards.
	Log *slog.Logger
	// TracerProvider, when set, turns tracing on.
	TracerProvider trace.TracerProvider
}

// Telemetry instruments one gateway. It is safe for concurrent use.
type Telemetry struct {
	log        *slog.Logger
	metrics    *metrics
	operations *boundedSet
	upstreamOp *boundedSet
	drift      *driftObserver
	// tracer is nil when tracing is off.
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// New returns the telemetry of one gateway, with its own metrics registry.
func New(o Options) *Telemetry {
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	t := &Telemetry{
		log:        slog.New(LogHandler(log.Handler())),
		metrics:    newMetrics(),
		operations: newBoundedSet(maxOperationNames),
		upstreamOp: newBoundedSet(maxUpstreamOperations),
		// Only the W3C trace context crosses to the upstreams: a caller's
		// baggage is not theirs to read.
		propagator: propagation.TraceContext{},
	}
	t.drift = newDriftObserver(t)
	if o.TracerProvider != nil {
		t.tracer = o.TracerProvider.Tracer(instrumentationName)
	}
	return t
}

// Registerer is the gateway's metrics registry, for collectors owned
// elsewhere (the shared Redis store's error counter).
func (t *Telemetry) Registerer() prometheus.Registerer { return t.metrics.registry }

// MetricsHandler serves the metrics in the Prometheus text format.
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.metrics.registry, promhttp.HandlerOpts{})
}

// Observer returns the upstream.ResilienceObserver that counts retries,
// rate-limiter waits and refusals, and breaker state changes.
func (t *Telemetry) Observer() upstream.ResilienceObserver { return observer{t.metrics} }

// WatchUpstream exports the state of one upstream's protection: breaker
// state, calls in flight, and the configured rate limit (calls per minute
// and credential, 0 for none).
func (t *Telemetry) WatchUpstream(name string, r *upstream.Resilience, ratePerMinute int) {
	t.metrics.watchUpstream(name, r, ratePerMinute)
}

// ObserveExecutor counts one executed operation by the executor that ran
// it (graph.Direct's observer).
func (t *Telemetry) ObserveExecutor(direct bool) {
	name := "generated"
	if direct {
		name = "direct"
	}
	t.metrics.executors.WithLabelValues(name).Inc()
}

// ObserveBatch records the size of one dataloader batch (loaders.Options).
func (t *Telemetry) ObserveBatch(loader string, size int) {
	t.metrics.batchSize.WithLabelValues(loader).Observe(float64(size))
}
