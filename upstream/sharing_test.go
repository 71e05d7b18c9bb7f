package upstream

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sharingServer counts calls and, while hold is open, keeps GETs waiting.
type sharingServer struct {
	*httptest.Server
	calls   atomic.Int32
	release chan struct{}
}

func newSharingServer(t *testing.T) *sharingServer {
	s := &sharingServer{release: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		if r.Method == http.MethodGet {
			select {
			case <-s.release:
			case <-r.Context().Done():
				return
			}
		}
		_, _ = io.WriteString(w, `{"path":"`+r.URL.Path+`"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, rt http.RoundTripper, ctx context.Context, url, auth string) (string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", auth)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestReadSharingMakesConcurrentIdenticalReadsOnce(t *testing.T) {
	srv := newSharingServer(t)
	rt := NewReadSharing(http.DefaultTransport, ReadSharingOptions{})
	const callers = 20
	var entered atomic.Int32
	var wg sync.WaitGroup
	bodies := make([]string, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			entered.Add(1)
			body, err := get(t, rt, context.Background(), srv.URL+"/groups?id=1", "Bearer a")
			assert.NoError(t, err)
			bodies[i] = body
		}()
	}
	require.Eventually(t, func() bool { return entered.Load() == callers && srv.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let the last callers reach the shared read
	close(srv.release)
	wg.Wait()
	assert.EqualValues(t, 1, srv.calls.Load())
	for _, b := range bodies {
		assert.Equal(t, `{"path":"/groups"}`, b)
	}
}

func TestReadSharingNeverAcrossCredentials(t *testing.T) {
	srv := newSharingServer(t)
	close(srv.release)
	rt := NewReadSharing(http.DefaultTransport, ReadSharingOptions{TTL: time.Minute})
	for _, auth := range []string{"Bearer a", "Bearer b", "Bearer a"} {
		_, err := get(t, rt, context.Background(), srv.URL+"/groups", auth)
		require.NoError(t, err)
	}
	assert.EqualValues(t, 2, srv.calls.Load(), "the second read of credential a comes from the cache; b asks for itself")
}

func TestReadSharingWriteInvalidatesCache(t *testing.T) {
	srv := newSharingServer(t)
	close(srv.release)
	rt := NewReadSharing(http.DefaultTransport, ReadSharingOptions{TTL: time.Minute})
	_, err := get(t, rt, context.Background(), srv.URL+"/groups", "Bearer a")
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/groups", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	_, err = get(t, rt, context.Background(), srv.URL+"/groups", "Bearer a")
	require.NoError(t, err)
	assert.EqualValues(t, 3, srv.calls.Load(), "the read after the write goes upstream")
}

func TestReadSharingWithoutTTLDoesNotCache(t *testing.T) {
	srv := newSharingServer(t)
	close(srv.release)
	rt := NewReadSharing(http.DefaultTransport, ReadSharingOptions{})
	for range 3 {
		_, err := get(t, rt, context.Background(), srv.URL+"/groups", "Bearer a")
		require.NoError(t, err)
	}
	assert.EqualValues(t, 3, srv.calls.Load())
}

func TestReadSharingFollowerOutlivesCancelledLeader(t *testing.T) {
	srv := newSharingServer(t)
	rt := NewReadSharing(http.DefaultTransport, ReadSharingOptions{})
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderDone := make(chan error, 1)
	go func() {
		_, err := get(t, rt, leaderCtx, srv.URL+"/groups", "Bearer a")
		leaderDone <- err
	}()
	require.Eventually(t, func() bool { return srv.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	followerDone := make(chan string, 1)
	go func() {
		body, err := get(t, rt, context.Background(), srv.URL+"/groups", "Bearer a")
		assert.NoError(t, err)
		followerDone <- body
	}()
	time.Sleep(20 * time.Millisecond) // let the follower join the shared read
	cancelLeader()
	require.Error(t, <-leaderDone)
	close(srv.release)
	assert.Equal(t, `{"path":"/groups"}`, <-followerDone, "the follower asked for itself")
}

func TestReadBodyTakesASharedAnswerWithoutACopy(t *testing.T) {
	data := []byte(`{"entities":[]}`)
	a := &CachedRead{Status: http.StatusOK, Header: http.Header{}, Body: data}
	req := httptest.NewRequest(http.MethodGet, "http://upstream.test/api/v2/groups", nil)
	b, err := ReadBody(Genesys, a.response(req), MaxSuccessBody)
	require.NoError(t, err)
	assert.Equal(t, data, b)
	assert.Same(t, &data[0], &b[0], "the shared bytes, not a copy")
	_, err = ReadBody(Genesys, a.response(req), int64(len(data)-1))
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "body too large", te.Kind)
}

func TestReadSharingServesStaleRatherThanWaitForTheRateLimiter(t *testing.T) {
	srv := newSharingServer(t)
	close(srv.release)
	// 6 calls a minute: a burst of 1, then one call every 12 s.
	r := NewResilience(Genesys, ResilienceOptions{RatePerMinute: 6})
	client := NewHTTPClient(ClientOptions{Resilience: r, Outer: func(rt http.RoundTripper) http.RoundTripper {
		return NewReadSharing(rt, ReadSharingOptions{TTL: 50 * time.Millisecond, StaleFor: time.Minute})
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := get(t, client.Transport, ctx, srv.URL+"/groups", "Bearer a")
	require.NoError(t, err)
	time.Sleep(60 * time.Millisecond) // past the TTL
	calls := &Calls{}
	body, err := get(t, client.Transport, WithCalls(ctx, calls), srv.URL+"/groups", "Bearer a")
	require.NoError(t, err)
	assert.Equal(t, `{"path":"/groups"}`, body)
	assert.EqualValues(t, 1, srv.calls.Load(), "the limiter would hold the read 12 s: the stale answer is served instead")
	_, stale := calls.Stale()
	assert.True(t, stale, "the answer is marked stale")
}

// TestFlightsWaitersStopWithTheirContextAndAPanicFreesTheKey; the sharing
// itself is covered through ReadSharing above.
func TestFlightsWaitersStopWithTheirContextAndAPanicFreesTheKey(t *testing.T) {
	var f flights
	started, release := make(chan struct{}), make(chan struct{})
	leader := make(chan any, 1)
	go func() {
		v, _ := f.do(context.Background(), "k", func() (any, error) {
			close(started)
			<-release
			return "answer", nil
		})
		leader <- v
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.do(ctx, "k", func() (any, error) { return "own", nil })
	assert.ErrorIs(t, err, context.Canceled, "a waiter whose context ends stops waiting, without a call of its own")
	close(release)
	assert.Equal(t, "answer", <-leader)

	panicked := make(chan struct{})
	go func() {
		defer func() { _ = recover(); close(panicked) }()
		_, _ = f.do(context.Background(), "p", func() (any, error) { panic("boom") })
	}()
	<-panicked
	v, err := f.do(context.Background(), "p", func() (any, error) { return "after", nil })
	require.NoError(t, err, "the key is free again after a panic")
	assert.Equal(t, "after", v)
}

// TestReadSharingKeyNamesTheRequest: requests that differ in anything sent
// (method, scheme, host, path as sent, query, credential, Accept, body)
// never share a key; the same request always does.
func TestReadSharingKeyNamesTheRequest(t *testing.T) {
	s := &ReadSharing{}
	key := func(method, url, auth, accept, body string) string {
		req, err := http.NewRequest(method, url, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", auth)
		req.Header.Set("Accept", accept)
		return s.key(req, []byte(body))
	}
	const u = "https://api.example.com/api/v2/groups/a%2Fb/members?pageSize=25"
	base := key("GET", u, "Bearer x", "application/json", "")
	assert.Equal(t, base, key("GET", u, "Bearer x", "application/json", ""))
	seen := map[string]string{base: "base"}
	for name, k := range map[string]string{
		"method":  key("POST", u, "Bearer x", "application/json", ""),
		"scheme":  key("GET", "http://api.example.com/api/v2/groups/a%2Fb/members?pageSize=25", "Bearer x", "application/json", ""),
		"host":    key("GET", "https://api2.example.com/api/v2/groups/a%2Fb/members?pageSize=25", "Bearer x", "application/json", ""),
		"rawPath": key("GET", "https://api.example.com/api/v2/groups/a/b/members?pageSize=25", "Bearer x", "application/json", ""),
		"query":   key("GET", "https://api.example.com/api/v2/groups/a%2Fb/members?pageSize=26", "Bearer x", "application/json", ""),
		"auth":    key("GET", u, "Bearer y", "application/json", ""),
		"accept":  key("GET", u, "Bearer x", "text/plain", ""),
		"body":    key("GET", u, "Bearer x", "application/json", "{}"),
	} {
		assert.NotContains(t, seen, k, name)
		seen[k] = name
	}
}
