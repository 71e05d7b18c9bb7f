package telemetry

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/groupdir/gateway/upstream"
)

// ErrorCodes are the contract's extensions.code values (design/contract.md
// §5); any other code is counted as labelOther.
var ErrorCodes = []string{
	"BAD_USER_INPUT", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "RATE_LIMITED",
	"UPSTREAM_UNAVAILABLE", "UPSTREAM_ERROR", "QUERY_TOO_COMPLEX", "INTERNAL",
	"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_REQUEST", "PAYLOAD_TOO_LARGE",
}

// Outcomes of a GraphQL request (the outcome label).
const (
	// OutcomeSuccess is an answer without errors.
	OutcomeSuccess = "success"
	// OutcomePartial is an answer with data and errors.
	OutcomePartial = "partial"
	// OutcomeError is an executed operation that answered errors and no data.
	OutcomeError = "error"
	// OutcomeRefused is a request refused before execution (malformed,
	// parse or validation failure, a limit).
	OutcomeRefused = "refused"
	// OutcomeReplayed is a repeated mutation answered from the idempotency
	// store.
	OutcomeReplayed = "replayed"
)

// breakerStates maps a breaker state to the value of
// gateway_upstream_breaker_state.
var breakerStates = map[string]float64{"closed": 0, "disabled": 0, "half-open": 1, "open": 2}

// Histogram buckets.
var (
	latencyBuckets = prometheus.ExponentialBuckets(0.005, 2, 12) // 5 ms to about 10 s
	countBuckets   = []float64{0, 1, 2, 3, 5, 10, 25, 50, 100, 250}
	batchBuckets   = []float64{1, 2, 5, 10, 25, 50, 100}
)

// metrics are the gateway's Prometheus collectors, in their own registry.
type metrics struct {
	registry *prometheus.Registry

	httpRequests     *prometheus.CounterVec
	inFlight         prometheus.Gauge
	requests         *prometheus.CounterVec
	duration         *prometheus.HistogramVec
	errors           *prometheus.CounterVec
	callsPerRequest  *prometheus.HistogramVec
	upstreamRequests *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
	retries          *prometheus.CounterVec
	limiterWaits     *prometheus.HistogramVec
	limiterRejected  *prometheus.CounterVec
	breakerChanges   *prometheus.CounterVec
	batchSize        *prometheus.HistogramVec
	tokenRequests    *prometheus.CounterVec
	executors        *prometheus.CounterVec
	decodeDrift      *prometheus.CounterVec
}

func counter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

func histogram(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		httpRequests: counter("gateway_http_requests_total",
			"HTTP requests to /query by method and status code.", "method", "code"),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gateway_http_requests_in_flight",
			Help: "Requests to /query being served."}),
		requests: counter("gateway_graphql_requests_total",
			"GraphQL requests by operation name (bounded: anonymous, unknown, other) and outcome (success, partial, error, refused, replayed).",
			"operation", "outcome"),
		duration: histogram("gateway_graphql_request_duration_seconds",
			"GraphQL request latency, from the request to the end of the answer.", latencyBuckets, "operation"),
		errors: counter("gateway_graphql_errors_total",
			"GraphQL errors by extensions.code.", "code"),
		callsPerRequest: histogram("gateway_graphql_upstream_calls",
			"Upstream calls one GraphQL request made, by upstream.", countBuckets, "upstream"),
		upstreamRequests: counter("gateway_upstream_requests_total",
			"Upstream call attempts by upstream, operation (method and path template) and status (the HTTP status, or error when there was no answer).",
			"upstream", "operation", "status"),
		upstreamDuration: histogram("gateway_upstream_request_duration_seconds",
			"Upstream call latency (to the answer's headers), by upstream and operation.", latencyBuckets, "upstream", "operation"),
		retries: counter("gateway_upstream_retries_total",
			"Reads sent again, by upstream and reason (the status that caused it, or transport).", "upstream", "reason"),
		limiterWaits: histogram("gateway_upstream_rate_limit_wait_seconds",
			"How long the gateway's rate limiter held calls back, by upstream.", latencyBuckets, "upstream"),
		limiterRejected: counter("gateway_upstream_rate_limit_rejections_total",
			"Calls the gateway's rate limiter refused (RATE_LIMITED, no call made), by upstream.", "upstream"),
		breakerChanges: counter("gateway_upstream_breaker_transitions_total",
			"Circuit breaker state changes, by upstream and new state.", "upstream", "state"),
		batchSize: histogram("gateway_loader_batch_size",
			"Keys per dataloader batch, by loader.", batchBuckets, "loader"),
		tokenRequests: counter("gateway_upstream_token_requests_total",
			"Genesys OAuth token requests (refreshes) by result (success, failure).", "result"),
		executors: counter("gateway_graphql_executions_total",
			"Executed operations by executor: direct (plain-data queries) or generated (gqlgen's, everything else).",
			"executor"),
		decodeDrift: counter("gateway_upstream_decode_drift_total",
			"Upstream answer members of an unexpected JSON type or value (read as absent, as the number a string holds, or as UNKNOWN), by upstream and member name.",
			"upstream", "field"),
	}
	m.registry.MustRegister(m.httpRequests, m.inFlight, m.requests, m.duration, m.errors, m.callsPerRequest,
		m.upstreamRequests, m.upstreamDuration, m.retries, m.limiterWaits, m.limiterRejected, m.breakerChanges,
		m.batchSize, m.tokenRequests, m.executors, m.decodeDrift,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, code := range ErrorCodes {
		m.errors.WithLabelValues(code)
	}
	m.executors.WithLabelValues("direct")
	m.executors.WithLabelValues("generated")
	for _, result := range []string{"success", "failure"} {
		m.tokenRequests.WithLabelValues(result)
	}
	return m
}

// watchUpstream adds the gauges read from one upstream's protection and
// starts its counters at zero.
func (m *metrics) watchUpstream(name string, r *upstream.Resilience, ratePerMinute int) {
	labels := prometheus.Labels{"upstream": name}
	budget := prometheus.NewGauge(prometheus.GaugeOpts{Name: "gateway_upstream_rate_limit_per_minute",
		Help: "The call budget per credential and minute the gateway's rate limiter enforces (0: none).", ConstLabels: labels})
	budget.Set(float64(ratePerMinute))
	m.registry.MustRegister(budget,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gateway_upstream_breaker_state",
			Help: "Circuit breaker state: 0 closed (or disabled), 1 half-open, 2 open.", ConstLabels: labels},
			func() float64 { return breakerStates[r.BreakerState()] }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gateway_upstream_in_flight",
			Help: "Upstream calls holding a concurrency slot.", ConstLabels: labels},
			func() float64 { return float64(r.InFlight()) }))
	m.limiterWaits.WithLabelValues(name)
	m.limiterRejected.WithLabelValues(name)
	for _, state := range []string{"closed", "half-open", "open"} {
		m.breakerChanges.WithLabelValues(name, state)
	}
	m.callsPerRequest.WithLabelValues(name)
}

// observer is the upstream.ResilienceObserver that feeds the metrics.
type observer struct{ m *metrics }

// Retried implements upstream.ResilienceObserver.
func (o observer) Retried(name, reason string) { o.m.retries.WithLabelValues(name, reason).Inc() }

// RateLimitWaited implements upstream.ResilienceObserver.
func (o observer) RateLimitWaited(name string, d time.Duration) {
	o.m.limiterWaits.WithLabelValues(name).Observe(d.Seconds())
}

// RateLimitRejected implements upstream.ResilienceObserver.
func (o observer) RateLimitRejected(name string) { o.m.limiterRejected.WithLabelValues(name).Inc() }

// BreakerChanged implements upstream.ResilienceObserver.
func (o observer) BreakerChanged(name, _, to string) {
	o.m.breakerChanges.WithLabelValues(name, to).Inc()
}

// statusLabel is the status label of an upstream attempt.
func statusLabel(status int, err error) string {
	if err != nil {
		return "error"
	}
	return strconv.Itoa(status)
}
