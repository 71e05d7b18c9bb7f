package telemetry

import (
	"context"
	"net/http"
	"testing"

	"github.com/groupdir/gateway/upstream"
)

// answered is a RoundTripper that answers every request with 200 at once.
type answered struct{}

func (answered) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Request: req, Body: http.NoBody}, nil
}

// BenchmarkUpstreamTransport is the telemetry's cost per upstream attempt
// (metrics, no tracing): a members page's request answered at once.
func BenchmarkUpstreamTransport(b *testing.B) {
	rt := New(Options{}).UpstreamTransport(upstream.Genesys)(answered{})
	ctx := upstream.WithCalls(context.Background(), &upstream.Calls{})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"http://127.0.0.1/api/v2/groups/6a0f0000-0000-4000-8000-000000000001/members?pageSize=25", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}
