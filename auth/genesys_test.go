package auth

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/genesysemu"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// genesysSetup serves an emulator that knows two user tokens and returns an
// authenticator asking it, with its clock.
func genesysSetup(t *testing.T) (*Genesys, *genesysemu.Server, *fakeClock) {
	t.Helper()
	emu := genesysemu.New(genesysemu.Options{Tokens: map[string][]string{
		"token-admin": {"directory:*:*"}, "token-reader": {"directory:group:view"},
	}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	client, err := genesys.New(srv.URL, upstream.NewHTTPClient(upstream.ClientOptions{}))
	require.NoError(t, err)
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	return NewGenesys(GenesysOptions{Client: client, Now: clock.Now}), emu, clock
}

func requestWith(token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/query", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

func TestGenesysCallerAndCache(t *testing.T) {
	a, emu, clock := genesysSetup(t)
	ctx, err := a.Authenticate(requestWith("token-reader"))
	require.NoError(t, err)
	c := CallerFrom(ctx)
	require.NotNil(t, c)
	assert.NotEmpty(t, c.Subject, "the Genesys user id")
	assert.True(t, c.HasAny("directory:group:view"))
	assert.False(t, c.HasAny("directory:group:edit"))

	_, err = a.Authenticate(requestWith("token-reader"))
	require.NoError(t, err)
	assert.Equal(t, 1, emu.Kit().Count(genesysemu.RouteUsersMe), "the second request is served from the cache")
	calls := emu.Kit().Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, "Bearer token-reader", calls[0].Header.Get("Authorization"), "asked with the caller's own token")
	assert.Equal(t, []string{"authorization"}, calls[0].Query["expand"])

	ctx, err = a.Authenticate(requestWith("token-admin"))
	require.NoError(t, err)
	assert.True(t, CallerFrom(ctx).HasAny("directory:group:delete"), "each token has its own entry")
	assert.Equal(t, 2, emu.Kit().Count(genesysemu.RouteUsersMe))

	clock.Advance(DefaultGenesysCacheTTL + time.Second)
	_, err = a.Authenticate(requestWith("token-reader"))
	require.NoError(t, err)
	assert.Equal(t, 3, emu.Kit().Count(genesysemu.RouteUsersMe), "asked again once the entry expired")
}

func TestGenesysConcurrentRequestsAskOnce(t *testing.T) {
	a, emu, _ := genesysSetup(t)
	emu.Kit().Inject(genesysemu.RouteUsersMe, emukit.Fault{Latency: 50 * time.Millisecond})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := a.Authenticate(requestWith("token-admin"))
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, emu.Kit().Count(genesysemu.RouteUsersMe))
}

func TestGenesysRefusals(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		fault      *emukit.Fault
		status     int
		code       string
		retryAfter time.Duration
	}{
		{"no token", "", nil, http.StatusUnauthorized, CodeUnauthenticated, 0},
		{"unknown token", "forged", nil, http.StatusUnauthorized, CodeUnauthenticated, 0},
		{"no user behind the token", "token-admin", &emukit.Fault{Status: http.StatusBadRequest, Times: 1}, http.StatusUnauthorized,
			CodeUnauthenticated, 0},
		{"Genesys rate limited", "token-admin", &emukit.Fault{Status: http.StatusTooManyRequests, RetryAfter: "30", Times: 1},
			http.StatusTooManyRequests, CodeRateLimited, 30 * time.Second},
		{"Genesys down", "token-admin", &emukit.Fault{Status: http.StatusNotImplemented, Times: 1}, http.StatusServiceUnavailable,
			CodeUpstreamUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, emu, _ := genesysSetup(t)
			if tt.fault != nil {
				emu.Kit().Inject(genesysemu.RouteUsersMe, *tt.fault)
			}
			_, err := a.Authenticate(requestWith(tt.token))
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.status, e.Status)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.retryAfter, e.RetryAfter)
			if tt.token != "" {
				assert.NotContains(t, e.Error(), tt.token)
			}
			_, err = a.Authenticate(requestWith("token-admin"))
			assert.NoError(t, err, "a failure is not cached")
		})
	}
}
