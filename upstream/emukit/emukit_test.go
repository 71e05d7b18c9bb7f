package emukit

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func setup(t *testing.T) (*Kit, *httptest.Server, *atomic.Int32) {
	t.Helper()
	k := New()
	var applied atomic.Int32
	k.Handle("POST /things", func(w http.ResponseWriter, r *http.Request) {
		applied.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"1","name":"thing"}`)
	})
	k.Handle("GET /things", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"entities":[]}`)
	})
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	return k, srv, &applied
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name        string
		fault       Fault
		wantStatus  int
		wantErr     bool
		wantApplied int32
		wantBody    string
	}{
		{"status with retry-after", Fault{Status: 429, RetryAfter: "3"}, 429, false, 0, `"status":429`},
		{"reset before apply", Fault{ResetBeforeApply: true}, 0, true, 0, ""},
		{"reset after apply", Fault{ResetAfterApply: true}, 0, true, 1, ""},
		{"truncate", Fault{Truncate: true}, 200, false, 1, `{"id":"1","n`},
		{"html", Fault{HTML: true}, 200, false, 0, "<html>"},
		{"oversize", Fault{OversizeBytes: 1000}, 200, false, 0, strings.Repeat("x", 1000)},
		{"redirect", Fault{RedirectTo: "http://127.0.0.1:1/elsewhere"}, 307, false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, srv, applied := setup(t)
			k.Inject("POST /things", tt.fault)
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Post(srv.URL+"/things?id=a,b&id=c", "application/json", strings.NewReader(`{}`))
			if tt.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, tt.wantStatus, resp.StatusCode)
				assert.Contains(t, string(b), tt.wantBody)
			}
			assert.Equal(t, tt.wantApplied, applied.Load())
			assert.Equal(t, 1, k.Count("POST /things"))
			calls := k.Calls()
			require.Len(t, calls, 1)
			assert.Equal(t, 3, calls[0].IDs)
			assert.Equal(t, "{}", string(calls[0].Body))
		})
	}
}

func TestFaultTimesThenNormal(t *testing.T) {
	k, srv, applied := setup(t)
	k.Inject("POST /things", Fault{Status: 503, Times: 2})
	var statuses []int
	for range 3 {
		resp, err := http.Post(srv.URL+"/things", "application/json", nil)
		require.NoError(t, err)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	assert.Equal(t, []int{503, 503, 200}, statuses)
	assert.Equal(t, int32(1), applied.Load())
	assert.Equal(t, map[string]int{"POST /things": 3}, k.CountsByRoute())
	k.Reset()
	assert.Zero(t, k.Count(""))
}

func TestMaxInFlight(t *testing.T) {
	k, srv, _ := setup(t)
	release := make(chan struct{})
	k.Handle("GET /slow", func(w http.ResponseWriter, r *http.Request) { <-release })
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + "/slow")
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	require.Eventually(t, func() bool { return k.Count("GET /slow") == 5 }, 5e9, 1e6)
	close(release)
	wg.Wait()
	assert.Equal(t, 5, k.MaxInFlight())
}

func TestKeepDetailsOff(t *testing.T) {
	k, srv, _ := setup(t)
	k.KeepDetails(false)
	resp, err := http.Get(srv.URL + "/things")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Empty(t, k.Calls())
	assert.Equal(t, 1, k.Count("GET /things"), "counts are kept")
}
