package guard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallerRateIsPerCallerAndRefills(t *testing.T) {
	now := time.Unix(0, 0)
	var served int
	h := CallerRate(CallerRateOptions{PerMinute: 60, Caller: func(r *http.Request) string { return r.Header.Get("Caller") },
		Now: func() time.Time { return now }})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }))
	send := func(caller string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		req.Header.Set("Caller", caller)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for range 6 { // a burst of a tenth of a minute's requests
		require.Equal(t, http.StatusOK, send("a").Code)
	}
	rec := send("a")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Contains(t, rec.Body.String(), `"code":"RATE_LIMITED"`)
	assert.Equal(t, http.StatusOK, send("b").Code, "another caller has its own budget")
	now = now.Add(time.Second)
	assert.Equal(t, http.StatusOK, send("a").Code, "one request a second comes back")
	assert.Equal(t, 8, served)
}

func TestShedBoundsRequestsAndBodyBytes(t *testing.T) {
	entered, leave := make(chan struct{}), make(chan struct{})
	h := Shed(ShedOptions{MaxInFlight: 2, QueueWait: 10 * time.Millisecond, MaxBodyBytesInFlight: 100, MaxBodyBytes: 80})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Hold") != "" {
				entered <- struct{}{}
				<-leave
			}
		}))
	send := func(body string, length int64, hold bool) int {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.ContentLength = length
		if hold {
			req.Header.Set("Hold", "1")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	var wg sync.WaitGroup
	wg.Go(func() { send(strings.Repeat("x", 30), 30, true) })
	<-entered
	assert.Equal(t, http.StatusServiceUnavailable, send("x", -1, false), "unknown length weighs the 80-byte cap: 30+80 > 100")
	assert.Equal(t, http.StatusOK, send(strings.Repeat("x", 70), 70, false), "30+70 fits")
	assert.Equal(t, http.StatusOK, send("x", 1000, false), "over the cap: refused 413 unread later, weighs nothing")
	wg.Go(func() { send("", 0, true) })
	<-entered
	assert.Equal(t, http.StatusServiceUnavailable, send("", 0, false), "both slots taken")
	close(leave)
	wg.Wait()
	assert.Equal(t, http.StatusOK, send("x", -1, false))
}

func TestAdmissionRefusalsAreReadableByAllowedOriginsAndPreflightsPass(t *testing.T) {
	const origin = "https://app.example.com"
	h := CallerRate(CallerRateOptions{PerMinute: 1, Caller: func(*http.Request) string { return "" }, CORSOrigins: []string{origin}})(
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	send := func(method string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/", nil)
		req.Header.Set("Origin", origin)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	require.Equal(t, http.StatusNoContent, send(http.MethodGet).Code)
	rec := send(http.MethodGet)
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, origin, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Contains(t, rec.Header().Get("Access-Control-Expose-Headers"), "Retry-After")
	assert.Equal(t, http.StatusNoContent, send(http.MethodOptions).Code, "a preflight runs nothing and is not charged")
}
