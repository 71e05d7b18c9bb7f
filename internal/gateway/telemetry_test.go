package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/groupdir/gateway/telemetry/requestid"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
)

// End-to-end tests of /metrics (docs/operating.md): after a scripted
// set of queries against the emulators, the expected series exist with the
// expected labels, and no label holds an id.

// scriptedRun drives the gateway through what an operator watches: named
// and anonymous queries on both upstreams, a batched lookup, a read retried
// after a 503, an upstream refusal, bad input and a refused document.
func scriptedRun(t *testing.T, e *testEnv) {
	t.Helper()
	ok := func(query string, vars map[string]any) {
		t.Helper()
		r := e.post(query, vars)
		require.Empty(t, r.Errors, string(r.Raw))
	}
	ok(`query ListGroups { groups(pageSize: 5) { entities { id name } } }`, nil)
	ok(`query TwoGroups($a: ID!, $b: ID!) { a: group(id: $a) { name } b: group(id: $b) { name } }`,
		map[string]any{"a": demodata.GroupID(1), "b": demodata.GroupID(2)})
	ok(`{ userGroups(pageSize: 3) { entities { name group { name } } } }`, nil)
	e.genesysKit().Inject("GET /api/v2/groups", emukit.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	ok(`query Retried { groups(pageSize: 2) { entities { id } } }`, nil)

	e.genesysKit().Inject("GET /api/v2/groups", emukit.Fault{Status: http.StatusForbidden, Times: 1})
	r := e.post(`query Forbidden($id: ID!) { group(id: $id) { name } }`, map[string]any{"id": demodata.GroupID(3)})
	require.Equal(t, []string{"FORBIDDEN"}, r.codes())
	r = e.post(`query BadInput { group(id: "not-a-uuid") { name } }`, nil)
	require.Equal(t, []string{"BAD_USER_INPUT"}, r.codes())
	r = e.post(`{ groups { `, nil)
	require.Equal(t, []string{"GRAPHQL_PARSE_FAILED"}, r.codes())
}

// scrape reads /metrics.
func (e *testEnv) scrape() map[string]*dto.MetricFamily {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + "/metrics")
	require.NoError(e.t, err)
	defer resp.Body.Close()
	require.Equal(e.t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(e.t, err)
	return fams
}

// sample finds the series of family name whose labels include want.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		if hasLabels(m, want) {
			return m
		}
	}
	return nil
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

// value is a counter's or gauge's value, or a histogram's sample count;
// -1 when the series does not exist.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	m := sample(fams, name, labels)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

func TestMetricsAfterAScriptedRun(t *testing.T) {
	e := setup(t, nil)
	scriptedRun(t, e)
	fams := e.scrape()

	tests := []struct {
		name   string
		labels map[string]string
		want   float64 // -2: at least one
	}{
		{"gateway_graphql_requests_total", map[string]string{"operation": "ListGroups", "outcome": "success"}, 1},
		{"gateway_graphql_requests_total", map[string]string{"operation": "anonymous", "outcome": "success"}, 1},
		{"gateway_graphql_requests_total", map[string]string{"operation": "Forbidden", "outcome": "partial"}, 1},
		{"gateway_graphql_requests_total", map[string]string{"operation": "unknown", "outcome": "refused"}, 1},
		{"gateway_graphql_request_duration_seconds", map[string]string{"operation": "TwoGroups"}, 1},
		{"gateway_graphql_errors_total", map[string]string{"code": "FORBIDDEN"}, 1},
		{"gateway_graphql_errors_total", map[string]string{"code": "BAD_USER_INPUT"}, 1},
		{"gateway_graphql_errors_total", map[string]string{"code": "GRAPHQL_PARSE_FAILED"}, 1},
		{"gateway_graphql_errors_total", map[string]string{"code": "INTERNAL"}, 0},
		{"gateway_graphql_upstream_calls", map[string]string{"upstream": "genesys"}, 7},
		{"gateway_http_requests_total", map[string]string{"method": "POST", "code": "200"}, 7},
		{"gateway_http_requests_in_flight", nil, 0},
		{"gateway_upstream_requests_total", map[string]string{"upstream": "genesys", "operation": "GET /api/v2/groups", "status": "503"}, 1},
		{"gateway_upstream_requests_total", map[string]string{"upstream": "genesys", "operation": "GET /api/v2/groups", "status": "403"}, 1},
		{"gateway_upstream_requests_total", map[string]string{"upstream": "genesys", "operation": "GET /api/v2/groups", "status": "200"}, -2},
		{"gateway_upstream_requests_total", map[string]string{"upstream": "usergroups", "operation": "GET /api/v2/usergroup/search", "status": "200"}, -2},
		{"gateway_upstream_request_duration_seconds", map[string]string{"upstream": "genesys", "operation": "POST /oauth/token"}, 1},
		{"gateway_upstream_retries_total", map[string]string{"upstream": "genesys", "reason": "503"}, 1},
		{"gateway_upstream_token_requests_total", map[string]string{"result": "success"}, 1},
		{"gateway_upstream_token_requests_total", map[string]string{"result": "failure"}, 0},
		{"gateway_upstream_breaker_state", map[string]string{"upstream": "genesys"}, 0},
		{"gateway_upstream_breaker_transitions_total", map[string]string{"upstream": "genesys", "state": "open"}, 0},
		{"gateway_upstream_in_flight", map[string]string{"upstream": "usergroups"}, 0},
		{"gateway_upstream_rate_limit_per_minute", map[string]string{"upstream": "genesys"}, 0},
		{"gateway_upstream_rate_limit_wait_seconds", map[string]string{"upstream": "genesys"}, 0},
		{"gateway_upstream_rate_limit_rejections_total", map[string]string{"upstream": "usergroups"}, 0},
		{"gateway_loader_batch_size", map[string]string{"loader": "group"}, -2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.name, tt.labels), func(t *testing.T) {
			got := value(fams, tt.name, tt.labels)
			if tt.want == -2 {
				assert.Positive(t, got)
				return
			}
			assert.InDelta(t, tt.want, got, 0)
		})
	}
	batch := sample(fams, "gateway_loader_batch_size", map[string]string{"loader": "group"})
	require.NotNil(t, batch)
	assert.Greater(t, batch.GetHistogram().GetSampleSum(), float64(batch.GetHistogram().GetSampleCount()),
		"batches hold several keys (both ids of TwoGroups in one)")
}

var idPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func TestMetricLabelsAreBounded(t *testing.T) {
	e := setup(t, nil)
	scriptedRun(t, e)
	for i := range 110 {
		r := e.post(fmt.Sprintf("query Op%d { __typename }", i), nil)
		require.Empty(t, r.Errors)
	}
	fams := e.scrape()

	operations := map[string]bool{}
	for _, m := range fams["gateway_graphql_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "operation" {
				operations[l.GetValue()] = true
			}
		}
	}
	assert.True(t, operations["other"], "names past the first hundred share one label")
	assert.LessOrEqual(t, len(operations), 100+3, "at most 100 names, anonymous, unknown and other")
	// ListGroups, TwoGroups, Retried, Forbidden, BadInput and Op0…Op94 fill
	// the hundred names.
	assert.InDelta(t, 15, value(fams, "gateway_graphql_requests_total", map[string]string{"operation": "other"}), 0)

	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				assert.NotRegexp(t, idPattern, l.GetValue(), "%s{%s} holds an id", name, l.GetName())
			}
		}
	}
}

// End-to-end tests of the structured logs and request ids (README
// "Operating it").

// logLines parses every line logged so far as JSON.
func (e *testEnv) logLines() []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(e.log.String()), "\n") {
		var m map[string]any
		require.NoError(e.t, json.Unmarshal([]byte(line), &m), "a log line that is not JSON: %s", line)
		out = append(out, m)
	}
	return out
}

// linesOf returns the log lines with message msg and request id id.
func linesOf(lines []map[string]any, msg, id string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["msg"] == msg && l["request_id"] == id {
			out = append(out, l)
		}
	}
	return out
}

func TestOneLogLinePerRequestWithTheCallersRequestID(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`query TwoGroups($a: ID!) { group(id: $a) { name } userGroups(pageSize: 1) { entities { name } } }`,
		map[string]any{"a": demodata.GroupID(1)}, requestid.Header, "caller-req.42")
	require.Empty(t, r.Errors)
	assert.Equal(t, "caller-req.42", r.Header.Get(requestid.Header), "a sane incoming id is kept")

	lines := linesOf(e.logLines(), "request", "caller-req.42")
	require.Len(t, lines, 1)
	l := lines[0]
	assert.Equal(t, "INFO", l["level"])
	assert.Equal(t, "TwoGroups", l["operation"])
	assert.Equal(t, "query", l["operation_type"])
	assert.Equal(t, "success", l["outcome"])
	assert.Equal(t, "POST", l["method"])
	assert.InDelta(t, http.StatusOK, l["status"], 0)
	assert.Contains(t, l, "duration_ms")
	assert.Equal(t, map[string]any{"genesys": float64(1), "usergroups": float64(1)}, l["upstream_calls"],
		"the group lookup and the search (the token request belongs to no request)")
	assert.Empty(t, l["error_codes"])
}

func TestErrorsCarryTheRequestIDAndUpstreamErrorsAreLoggedWithTheirCorrelationID(t *testing.T) {
	e := setup(t, nil)
	e.warmUp()
	e.genesysKit().Inject("GET /api/v2/groups", emukit.Fault{Status: http.StatusForbidden, Times: 1})
	r := e.post(`query Denied($id: ID!) { group(id: $id) { name } }`, map[string]any{"id": demodata.GroupID(2)},
		requestid.Header, "bad id with spaces")
	require.Equal(t, []string{"FORBIDDEN"}, r.codes())

	id := r.Header.Get(requestid.Header)
	require.NotEmpty(t, id)
	assert.NotEqual(t, "bad id with spaces", id, "an insane incoming id is replaced")
	assert.Equal(t, id, r.Errors[0].Extensions["requestId"])

	lines := e.logLines()
	warn := linesOf(lines, "upstream error", id)
	require.Len(t, warn, 1)
	assert.Equal(t, "WARN", warn[0]["level"])
	assert.Equal(t, "FORBIDDEN", warn[0]["code"])
	assert.Equal(t, "genesys", warn[0]["upstream"])
	assert.InDelta(t, http.StatusForbidden, warn[0]["status"], 0)
	assert.Equal(t, r.Errors[0].Extensions["correlationId"], warn[0]["correlationId"])
	assert.NotEmpty(t, warn[0]["correlationId"])
	req := linesOf(lines, "request", id)
	require.Len(t, req, 1)
	assert.Equal(t, []any{"FORBIDDEN"}, req[0]["error_codes"])
	assert.Equal(t, "partial", req[0]["outcome"])
	e.assertNoSecrets(r, e.canaries())
}

func TestRefusedRequestsAreLoggedWithTheirCode(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`{ groups { `, nil)
	require.Equal(t, []string{"GRAPHQL_PARSE_FAILED"}, r.codes())
	id := r.Header.Get(requestid.Header)
	require.NotEmpty(t, id)
	req := linesOf(e.logLines(), "request", id)
	require.Len(t, req, 1)
	assert.Equal(t, "refused", req[0]["outcome"])
	assert.Equal(t, "unknown", req[0]["operation"])
	assert.Equal(t, []any{"GRAPHQL_PARSE_FAILED"}, req[0]["error_codes"])
}

// End-to-end tests of tracing (docs/operating.md), with an in-memory
// exporter in place of OTLP.

// incomingTrace is the caller's W3C trace context.
const (
	incomingTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	incomingParent  = "00f067aa0ba902b7"
)

// spanNamed returns the one span called name.
func spanNamed(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans called %q", name)
	return found[0]
}

// upstreamCall returns the one call the emulator recorded on route.
func upstreamCall(t *testing.T, kit *emukit.Kit, route string) emukit.Call {
	t.Helper()
	var found []emukit.Call
	for _, c := range kit.Calls() {
		if c.Route == route {
			found = append(found, c)
		}
	}
	require.Len(t, found, 1, "calls on %q", route)
	return found[0]
}

func TestTraceHasOperationResolverAndUpstreamSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	e := setupSized(t, nil, demodata.Demo, WithTracerProvider(tp))

	r := e.post(`query ListGroups { groups(pageSize: 2) { entities { id name } } }`, nil,
		"Traceparent", "00-"+incomingTraceID+"-"+incomingParent+"-01")
	require.Empty(t, r.Errors, string(r.Raw))

	spans := exp.GetSpans()
	server := spanNamed(t, spans, "POST /query")
	operation := spanNamed(t, spans, "query ListGroups")
	resolver := spanNamed(t, spans, "Query.groups")
	call := spanNamed(t, spans, "GET /api/v2/groups")

	assert.Equal(t, incomingTraceID, server.SpanContext.TraceID().String(), "the caller's trace goes on")
	assert.Equal(t, incomingParent, server.Parent.SpanID().String())
	assert.Equal(t, trace.SpanKindServer, server.SpanKind)
	assert.Equal(t, server.SpanContext.SpanID(), operation.Parent.SpanID(), "operation under the request")
	assert.Equal(t, operation.SpanContext.SpanID(), resolver.Parent.SpanID(), "resolver under the operation")
	assert.Equal(t, resolver.SpanContext.SpanID(), call.Parent.SpanID(), "upstream call under the resolver")
	assert.Equal(t, trace.SpanKindClient, call.SpanKind)
	for _, s := range []tracetest.SpanStub{operation, resolver, call} {
		assert.Equal(t, incomingTraceID, s.SpanContext.TraceID().String())
	}
	for _, s := range spans {
		assert.NotEqual(t, "Group.id", s.Name, "trivial fields get no span")
	}

	got := upstreamCall(t, e.genesysKit(), "GET /api/v2/groups").Header.Get("Traceparent")
	assert.Equal(t, "00-"+incomingTraceID+"-"+call.SpanContext.SpanID().String()+"-01", got,
		"the emulator saw the trace id, with the upstream span as parent")
}

func TestWithoutTracingNoTraceparentIsSent(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`{ groups(pageSize: 1) { entities { id } } }`, nil,
		"Traceparent", "00-"+incomingTraceID+"-"+incomingParent+"-01")
	require.Empty(t, r.Errors)
	assert.Empty(t, upstreamCall(t, e.genesysKit(), "GET /api/v2/groups").Header.Get("Traceparent"))
}

func TestRefusedRequestsCarryTheRequestID(t *testing.T) {
	e := setup(t, nil)
	r := e.post(`{ groups { total `, nil, "X-Request-Id", "req-refused-1")
	require.Len(t, r.Errors, 1)
	assert.Equal(t, "GRAPHQL_PARSE_FAILED", r.Errors[0].Extensions["code"])
	assert.Equal(t, "req-refused-1", r.Errors[0].Extensions["requestId"])
	assert.Zero(t, e.genesysKit().Count(""))
}
