package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/groupdir/gateway/telemetry/requestid"
	"github.com/groupdir/gateway/upstream"
)

func TestBoundedSetCollapsesNamesPastItsBound(t *testing.T) {
	s := newBoundedSet(2)
	assert.Equal(t, "a", s.label("a"))
	assert.Equal(t, "b", s.label("b"))
	assert.Equal(t, labelOther, s.label("c"))
	assert.Equal(t, "a", s.label("a"), "a value seen before keeps its label")
	assert.Equal(t, labelAnonymous, s.operationLabel(""))
	assert.Equal(t, labelOther, newBoundedSet(10).operationLabel(strings.Repeat("x", maxOperationNameLen+1)))
}

func TestUpstreamOperationReplacesIDsAndDropsTheQuery(t *testing.T) {
	tests := []struct{ method, url, want string }{
		{"GET", "https://api.example.com/api/v2/groups/6a0f0000-0000-4000-8000-000000000001/members?pageSize=5",
			"GET /api/v2/groups/{id}/members"},
		{"GET", "https://forms.example.com/base/api/v2/usergroup?CompanyId=1&IntegrationKey=secret", "GET /base/api/v2/usergroup"},
		{"DELETE", "https://forms.example.com/api/v2/usergroup/123", "DELETE /api/v2/usergroup/{id}"},
		{"POST", "https://login.example.com/oauth/token", "POST /oauth/token"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.url, nil)
		assert.Equal(t, tt.want, upstreamOperation(req))
	}
	assert.True(t, isTokenRequest("POST /oauth/token"))
	assert.False(t, isTokenRequest("GET /oauth/token"))
}

func TestSniffCodes(t *testing.T) {
	assert.Equal(t, []string{"BAD_REQUEST", "PAYLOAD_TOO_LARGE"},
		sniffCodes([]byte(`{"errors":[{"extensions":{"code":"BAD_REQUEST"}},{"extensions":{"code":"PAYLOAD_TOO_LARGE"}}]}`)))
	assert.Nil(t, sniffCodes([]byte(`{"errors":[{"extens`)), "a truncated answer yields nothing")
	assert.Nil(t, sniffCodes(nil))
	assert.Equal(t, labelOther, codeLabel("SOMETHING_ELSE"))
	assert.Equal(t, "NOT_FOUND", codeLabel("NOT_FOUND"))
}

func TestTracingConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    TracingConfig
		wantErr string
	}{
		{"nothing set: off", nil, TracingConfig{Protocol: protocolHTTP}, ""},
		{"endpoint: on over HTTP", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
			TracingConfig{Enabled: true, Protocol: protocolHTTP}, ""},
		{"traces endpoint and grpc", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			TracingConfig{Enabled: true, Protocol: protocolGRPC}, ""},
		{"SDK disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"},
			TracingConfig{Protocol: protocolHTTP}, ""},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"},
			TracingConfig{Protocol: protocolHTTP}, ""},
		{"unsupported protocol", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, TracingConfig{}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"unsupported exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, TracingConfig{}, "OTEL_TRACES_EXPORTER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TracingConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestStartTracingOffReturnsNoProvider(t *testing.T) {
	tp, err := StartTracing(context.Background(), TracingConfig{}, slog.Default())
	require.NoError(t, err)
	assert.Nil(t, tp)
}

func TestLogHandlerAddsRequestAndTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	h := LogHandler(slog.NewJSONHandler(&buf, nil))
	assert.Equal(t, h, LogHandler(h), "wrapping twice changes nothing")
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("t").Start(requestid.With(context.Background(), "req-1"), "s")
	defer span.End()
	slog.New(h).With("k", "v").InfoContext(ctx, "hello")
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, "req-1", line["request_id"])
	assert.Equal(t, span.SpanContext().TraceID().String(), line["trace_id"])
	assert.Equal(t, "v", line["k"])
}

// upstreamEcho answers 200, or the status in the "status" query parameter,
// and returns the traceparent it received in a header.
func upstreamEcho(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Got-Traceparent", r.Header.Get("Traceparent"))
		if s, err := strconv.Atoi(r.URL.Query().Get("status")); err == nil {
			w.WriteHeader(s)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func roundTrip(t *testing.T, rt http.RoundTripper, ctx context.Context, method, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp
}

func TestUpstreamTransportCountsAndTraces(t *testing.T) {
	srv := upstreamEcho(t)
	exp := tracetest.NewInMemoryExporter()
	tel := New(Options{TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))})
	rt := tel.UpstreamTransport(upstream.Genesys)(http.DefaultTransport)
	calls := &upstream.Calls{}
	ctx := upstream.WithCalls(context.Background(), calls)

	resp := roundTrip(t, rt, ctx, http.MethodGet, srv.URL+"/api/v2/groups/6a0f0000-0000-4000-8000-000000000001?status=503")
	roundTrip(t, rt, ctx, http.MethodPost, srv.URL+"/oauth/token")

	assert.EqualValues(t, 2, calls.Genesys())
	m := tel.metrics
	assert.InDelta(t, 1, testutil.ToFloat64(m.upstreamRequests.WithLabelValues(upstream.Genesys, "GET /api/v2/groups/{id}", "503")), 0)
	assert.InDelta(t, 1, testutil.ToFloat64(m.tokenRequests.WithLabelValues("success")), 0)
	spans := exp.GetSpans()
	require.Len(t, spans, 2)
	assert.Equal(t, "GET /api/v2/groups/{id}", spans[0].Name)
	sc := spans[0].SpanContext
	assert.Equal(t, "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-01", resp.Header.Get("Got-Traceparent"),
		"the upstream receives the client span's context")
}

func TestUpstreamTransportWithoutTracingSendsNoTraceparent(t *testing.T) {
	srv := upstreamEcho(t)
	rt := New(Options{}).UpstreamTransport(upstream.Usergroups)(http.DefaultTransport)
	resp := roundTrip(t, rt, context.Background(), http.MethodGet, srv.URL+"/api/v2/usergroup")
	assert.Empty(t, resp.Header.Get("Got-Traceparent"))
}

func TestMiddlewareKeepsSaneRequestIDsAndCountsRefusals(t *testing.T) {
	var logs bytes.Buffer
	tel := New(Options{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	refuse := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.NotNil(t, upstream.CallsFrom(r.Context()))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = w.Write([]byte(`{"errors":[{"message":"too large","extensions":{"code":"PAYLOAD_TOO_LARGE"}}]}`))
	})
	h := tel.Middleware(refuse)
	for _, tt := range []struct{ in, want string }{{"abc-123", "abc-123"}, {"bad id\n", ""}} {
		req := httptest.NewRequest(http.MethodPost, "/query", nil)
		req.Header.Set(requestid.Header, tt.in)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get(requestid.Header)
		if tt.want != "" {
			assert.Equal(t, tt.want, got)
		} else {
			assert.NotEqual(t, tt.in, got)
			assert.NotEmpty(t, got)
		}
	}
	m := tel.metrics
	assert.InDelta(t, 2, testutil.ToFloat64(m.errors.WithLabelValues("PAYLOAD_TOO_LARGE")), 0)
	assert.InDelta(t, 2, testutil.ToFloat64(m.requests.WithLabelValues(labelUnknown, OutcomeRefused)), 0)
	assert.InDelta(t, 2, testutil.ToFloat64(m.httpRequests.WithLabelValues(http.MethodPost, "413")), 0)
	line := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(logs.String(), "\n", 2)[0]), &line))
	assert.Equal(t, "abc-123", line["request_id"])
	assert.Equal(t, []any{"PAYLOAD_TOO_LARGE"}, line["error_codes"])
	assert.InDelta(t, 413, line["status"], 0)
}
