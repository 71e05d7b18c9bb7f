package telemetry

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/groupdir/gateway/upstream"
)

// UpstreamTransport returns the upstream.ClientOptions.Wrap of the upstream
// called name. Every attempt through it is counted in its request's
// upstream.Calls, counted and timed by operation and status, and, when
// tracing, made in a client span whose context goes to the upstream as a
// W3C traceparent header. Token requests are also counted apart.
func (t *Telemetry) UpstreamTransport(name string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return upstream.CountCalls(name, &upstreamTransport{t: t, name: name, next: next, series: map[seriesKey]series{}})
	}
}

type upstreamTransport struct {
	t    *Telemetry
	name string
	next http.RoundTripper

	// series are the metric series of each operation and outcome, looked
	// up once rather than by label values at every attempt.
	mu     sync.RWMutex
	series map[seriesKey]series
}

// seriesKey is an operation (a bounded label) and an attempt's outcome.
type seriesKey struct {
	op     string
	status int
	failed bool
}

// series are the request counter and the duration histogram of one
// seriesKey.
type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// seriesOf returns the series of op's attempt that ended with status or
// err.
func (u *upstreamTransport) seriesOf(op string, status int, err error) series {
	k := seriesKey{op, status, err != nil}
	u.mu.RLock()
	s, ok := u.series[k]
	u.mu.RUnlock()
	if ok {
		return s
	}
	m := u.t.metrics
	s = series{m.upstreamRequests.WithLabelValues(u.name, op, statusLabel(status, err)),
		m.upstreamDuration.WithLabelValues(u.name, op)}
	u.mu.Lock()
	u.series[k] = s
	u.mu.Unlock()
	return s
}

// RoundTrip implements http.RoundTripper.
func (u *upstreamTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := upstreamOperation(req)
	if !u.t.upstreamOp.admit(u.name + " " + op) {
		op = labelOther
	}
	req, span := u.startSpan(req, op)
	start := time.Now()
	resp, err := u.next.RoundTrip(req)
	elapsed := time.Since(start)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	s := u.seriesOf(op, status, err)
	s.requests.Inc()
	s.duration.Observe(elapsed.Seconds())
	if isTokenRequest(op) {
		result := "failure"
		if err == nil && status >= 200 && status < 300 {
			result = "success"
		}
		u.t.metrics.tokenRequests.WithLabelValues(result).Inc()
	}
	if span != nil {
		endClientSpan(span, status, err)
	}
	return resp, err
}

// startSpan starts the client span of an attempt, when tracing, and
// returns a copy of req whose headers carry its context. The span's
// attributes name the operation's path template, never the URL (the
// Usergroup API's credentials travel in its query string).
func (u *upstreamTransport) startSpan(req *http.Request, op string) (*http.Request, trace.Span) {
	if u.t.tracer == nil {
		return req, nil
	}
	ctx, span := u.t.tracer.Start(req.Context(), op, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("http.request.method", req.Method), attribute.String("server.address", req.URL.Hostname()),
		attribute.String("peer.service", u.name)))
	req = req.Clone(ctx)
	u.t.propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))
	return req, span
}

// endClientSpan records an attempt's result on its span and ends it.
func endClientSpan(span trace.Span, status int, err error) {
	switch {
	case err != nil:
		span.SetStatus(codes.Error, "no answer")
	case status >= http.StatusInternalServerError:
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	if status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", status))
	}
	span.End()
}
