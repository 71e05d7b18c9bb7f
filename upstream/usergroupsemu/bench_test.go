package usergroupsemu

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/groupdir/gateway/upstream/demodata"
)

// benchCases are the reads the gateway makes most, over the Bench data set;
// each makes the path of its i-th request.
var benchCases = []struct {
	name string
	path func(i int) string
}{
	{"get", func(i int) string {
		return base + "?" + query("Id", demodata.UserGroupID(i%demodata.Bench.UserGroups)).Encode()
	}},
	{"search-external-id", func(i int) string {
		return base + "/search?" + query("ExternalId", demodata.GroupID(i%demodata.Bench.Groups)).Encode()
	}},
	{"search-name", func(int) string {
		return base + "/search?" + query("Name", "team 99", "PageSize", "250").Encode()
	}},
	{"search-page-250", func(i int) string {
		return base + "/search?" + query("PageSize", "250", "PageNo", strconv.Itoa(i%4)).Encode()
	}},
}

// BenchmarkHTTP measures requests over real HTTP from parallel clients
// (network stack included).
func BenchmarkHTTP(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(New(Options{Size: demodata.Bench, IntegrationKey: testKey}))
			b.Cleanup(srv.Close)
			tr := srv.Client().Transport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = 256
			b.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr}
			var n atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(srv.URL + bc.path(int(n.Add(1))))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}

// BenchmarkHandler measures the emulator alone (no network), in parallel.
func BenchmarkHandler(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			emu := New(Options{Size: demodata.Bench, IntegrationKey: testKey})
			var n atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					emu.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, bc.path(int(n.Add(1))), nil))
					if rec.Code != http.StatusOK {
						b.Errorf("status %d", rec.Code)
						return
					}
				}
			})
		})
	}
}
