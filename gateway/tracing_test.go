package gateway

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
)

// End-to-end tests of tracing (README "Operating it"), with an in-memory
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
