package genesys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
)

// TestRevokedTokenRenewedOnce: many calls refused with a revoked token (401)
// cause one token request, and each is made once more with the new token.
func TestRevokedTokenRenewedOnce(t *testing.T) {
	const callers = 50
	var tokenCalls atomic.Int64
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if tokenCalls.Add(1) == 1 {
			tokenAnswer(w, "revoked-token", 86400)
			return
		}
		time.Sleep(20 * time.Millisecond) // let the refused calls pile up
		tokenAnswer(w, testToken, 86400)
	}))
	t.Cleanup(login.Close)
	api, apiCalls := groupAPI(t, testToken)
	c := newAuthClient(t, api.URL, login.URL, time.Minute)

	for _, err := range getGroupConcurrently(c, callers) {
		assert.NoError(t, err)
	}
	assert.Equal(t, int64(2), tokenCalls.Load(), "one renewal for every refused call")
	assert.LessOrEqual(t, apiCalls.Load(), int64(2*callers), "each call made at most twice")
}

// TestTokenWaitEndsWithTheCallersContext: while the token endpoint hangs,
// a call gives up at its own deadline; the fetch goes on for the others.
func TestTokenWaitEndsWithTheCallersContext(t *testing.T) {
	release := make(chan struct{})
	var tokenCalls atomic.Int64
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tokenCalls.Add(1)
		<-release
		tokenAnswer(w, testToken, 86400)
	}))
	t.Cleanup(login.Close)
	api, _ := groupAPI(t, testToken)
	c := newAuthClient(t, api.URL, login.URL, time.Minute)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetGroup(ctx, groupID)
	var te *upstream.TransportError
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Timeout)
	assert.ErrorIs(t, err, upstream.ErrCredentials)

	done := make(chan error, 1)
	go func() {
		_, err := c.GetGroup(context.Background(), groupID)
		done <- err
	}()
	close(release)
	require.NoError(t, <-done)
	assert.Equal(t, int64(1), tokenCalls.Load(), "the second call joined the fetch the first one started")
}

// TestTokenBreakerIgnoresRefusals: a refused client (400/401) does not open
// the token breaker; an unavailable endpoint does, after TokenBreakerFailures.
func TestTokenBreakerIgnoresRefusals(t *testing.T) {
	var status atomic.Int64
	status.Store(http.StatusUnauthorized)
	var tokenCalls atomic.Int64
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tokenCalls.Add(1)
		w.WriteHeader(int(status.Load()))
		fmt.Fprint(w, `{"error":"invalid_client"}`)
	}))
	t.Cleanup(login.Close)
	api, _ := groupAPI(t, testToken)
	c := newAuthClient(t, api.URL, login.URL, time.Minute)

	for range TokenBreakerFailures + 2 {
		_, err := c.GetGroup(context.Background(), groupID)
		assert.ErrorIs(t, err, upstream.ErrUnauthorized)
	}
	assert.Equal(t, int64(TokenBreakerFailures+2), tokenCalls.Load())

	status.Store(http.StatusServiceUnavailable)
	tokenCalls.Store(0)
	for range TokenBreakerFailures + 2 {
		_, err := c.GetGroup(context.Background(), groupID)
		assert.True(t, errors.Is(err, upstream.ErrUnavailable) && errors.Is(err, upstream.ErrCredentials), err)
	}
	assert.Equal(t, int64(TokenBreakerFailures), tokenCalls.Load(), "then the open breaker answers")
}
