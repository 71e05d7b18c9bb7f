package telemetry

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/groupdir/gateway/idempotency"
	"github.com/groupdir/gateway/telemetry/requestid"
	"github.com/groupdir/gateway/upstream"
)

// maxSniff is how much of an answer gqlgen did not write (a refusal by a
// middleware in front of it) is kept to read its error codes.
const maxSniff = 4 << 10

// exchange is what is learnt about one request while it is served: the
// gqlgen extension fills in the operation, Middleware reads it at the end.
type exchange struct {
	calls *upstream.Calls

	mu        sync.Mutex
	handled   bool   // gqlgen produced the answer
	executed  bool   // an operation ran
	name      string // the operation's name, as the document gives it
	label     string // its bounded label
	opType    string // query or mutation
	outcome   string
	codes     []string
	sniffed   []byte // the start of an answer gqlgen did not write
	upstreamN int    // upstream errors logged
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// Middleware instruments each request to the GraphQL endpoint: it keeps a
// sane incoming X-Request-Id or makes one, returns it in the response
// header, counts the request's upstream calls (upstream.WithCalls), starts
// the server span when tracing, and at the end logs one line and records
// the request metrics.
func (t *Telemetry) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestid.Pick(r.Header.Get(requestid.Header))
		w.Header().Set(requestid.Header, id)
		x := &exchange{calls: &upstream.Calls{}}
		ctx := context.WithValue(requestid.With(r.Context(), id), exchangeKey{}, x)
		ctx = upstream.WithCalls(ctx, x.calls)
		ctx, span := t.startServerSpan(ctx, r)
		t.metrics.inFlight.Inc()
		defer t.metrics.inFlight.Dec()
		rw := &recorder{ResponseWriter: w, x: x, status: http.StatusOK}
		next.ServeHTTP(rw, r.WithContext(ctx))
		t.finish(ctx, r, rw, time.Since(start))
		if span != nil {
			span.SetAttributes(attribute.Int("http.response.status_code", rw.status))
			if rw.status >= http.StatusInternalServerError {
				span.SetStatus(codes.Error, http.StatusText(rw.status))
			}
			span.End()
		}
	})
}

// startServerSpan continues the caller's trace (W3C traceparent) with a
// server span, when tracing is on.
func (t *Telemetry) startServerSpan(ctx context.Context, r *http.Request) (context.Context, trace.Span) {
	if t.tracer == nil {
		return ctx, nil
	}
	ctx = t.propagator.Extract(ctx, propagation.HeaderCarrier(r.Header))
	return t.tracer.Start(ctx, r.Method+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
}

// finish records the request's metrics and logs its line.
func (t *Telemetry) finish(ctx context.Context, r *http.Request, rw *recorder, d time.Duration) {
	m := t.metrics
	m.httpRequests.WithLabelValues(r.Method, statusLabel(rw.status, nil)).Inc()
	x := rw.x
	x.mu.Lock()
	defer x.mu.Unlock()
	x.settle(rw.Header())
	if x.codes == nil {
		x.codes = []string{} // logged as [], not null
	}
	calls := map[string]int64{upstream.Genesys: x.calls.Genesys(), upstream.Usergroups: x.calls.Usergroups()}
	attrs := []slog.Attr{
		slog.String("method", r.Method), slog.Int("status", rw.status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.Group("upstream_calls", slog.Int64(upstream.Genesys, calls[upstream.Genesys]),
			slog.Int64(upstream.Usergroups, calls[upstream.Usergroups])),
	}
	if x.outcome != "" { // a GraphQL answer (not a CORS preflight)
		m.recordGraphQL(x, calls, d)
		attrs = append(attrs, slog.String("operation", first(x.name, x.label)), slog.String("operation_type", x.opType),
			slog.String("outcome", x.outcome), slog.Any("error_codes", x.codes))
	}
	t.log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}

// recordGraphQL records one GraphQL request's metrics. x.mu is held.
func (m *metrics) recordGraphQL(x *exchange, calls map[string]int64, d time.Duration) {
	m.requests.WithLabelValues(x.label, x.outcome).Inc()
	m.duration.WithLabelValues(x.label).Observe(d.Seconds())
	for name, n := range calls {
		m.callsPerRequest.WithLabelValues(name).Observe(float64(n))
	}
	for _, code := range x.codes {
		m.errors.WithLabelValues(codeLabel(code)).Inc()
	}
}

// settle fills in an answer gqlgen did not give: a replay of a stored
// answer (its errors were counted the first time), or a refusal by a
// middleware, whose codes are read from the answer; anything else (a CORS
// preflight) keeps no outcome. x.mu is held.
func (x *exchange) settle(h http.Header) {
	switch {
	case x.handled:
	case h.Get(idempotency.HeaderReplayed) == "true":
		x.label, x.outcome = labelUnknown, OutcomeReplayed
	default:
		if x.codes = sniffCodes(x.sniffed); len(x.codes) > 0 {
			x.label, x.outcome = labelUnknown, OutcomeRefused
		}
	}
}

// codeLabel is the label of an error code: the code when the contract
// names it, labelOther otherwise.
func codeLabel(code string) string {
	for _, c := range ErrorCodes {
		if c == code {
			return code
		}
	}
	return labelOther
}

// sniffCodes reads the extensions.code of each error of a JSON answer.
func sniffCodes(body []byte) []string {
	var resp struct {
		Errors []struct {
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if len(body) == 0 || json.Unmarshal(body, &resp) != nil {
		return nil
	}
	out := make([]string, 0, len(resp.Errors))
	for _, e := range resp.Errors {
		out = append(out, e.Extensions.Code)
	}
	return out
}

// recorder keeps the status of the answer and, when gqlgen did not write
// it, its first bytes.
type recorder struct {
	http.ResponseWriter
	x           *exchange
	status      int
	wroteHeader bool
}

// WriteHeader implements http.ResponseWriter.
func (w *recorder) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (w *recorder) Write(b []byte) (int, error) {
	w.wroteHeader = true
	w.x.mu.Lock()
	if !w.x.handled && w.Header().Get("Content-Encoding") == "" && len(w.x.sniffed) < maxSniff {
		w.x.sniffed = append(w.x.sniffed, b[:min(len(b), maxSniff-len(w.x.sniffed))]...)
	}
	w.x.mu.Unlock()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements http.Flusher, so that the compressing writer inside it
// can push each part of an incremental (@defer) response to the client.
func (w *recorder) Flush() {
	w.wroteHeader = true
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}
