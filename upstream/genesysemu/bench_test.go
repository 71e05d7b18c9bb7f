package genesysemu

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/groupdir/gateway/upstream/demodata"
)

// benchServe runs path against an emulator of the Bench size, in parallel,
// straight through the handler (no network), and reports requests/s.
func benchServe(b *testing.B, path string) {
	emu := New(Options{Size: demodata.Bench, Tokens: map[string][]string{"bench": nil}})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Authorization", "Bearer bench")
			rec := httptest.NewRecorder()
			emu.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func BenchmarkGetGroupsByID(b *testing.B) {
	ids := make([]string, 100)
	for k := range ids {
		ids[k] = demodata.GroupID(k * 5)
	}
	benchServe(b, "/api/v2/groups?pageSize=100&id="+strings.Join(ids, ","))
}

func BenchmarkGetGroup(b *testing.B) {
	benchServe(b, "/api/v2/groups/"+demodata.GroupID(7))
}

func BenchmarkGetMembers(b *testing.B) {
	benchServe(b, "/api/v2/groups/"+demodata.GroupID(7)+"/members?pageSize=100")
}
