package upstream

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a ResilienceObserver that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	retries  []string
	waits    []time.Duration
	rejected int
	changes  []string
}

func (r *recorder) Retried(name, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = append(r.retries, name+" "+reason)
}

func (r *recorder) RateLimitWaited(_ string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
}

func (r *recorder) RateLimitRejected(string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rejected++
}

func (r *recorder) BreakerChanged(name, from, to string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, name+" "+from+"->"+to)
}

func observed(o ResilienceOptions) (*Resilience, *recorder) {
	rec := &recorder{}
	o.Observer = rec
	return NewResilience(Genesys, o), rec
}

func TestObserverHearsRetriesAndBreakerChanges(t *testing.T) {
	srv := newScripted(t, failFirst(3, http.StatusServiceUnavailable, ""))
	o := fastOptions()
	o.MaxRetries, o.BreakerFailures = 1, 2
	r, rec := observed(o)
	hc := client(r)

	status, err := send(t, context.Background(), hc, http.MethodGet, srv.URL, "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, []string{"genesys 503"}, rec.retries)
	assert.Equal(t, []string{"genesys closed->open"}, rec.changes)
	assert.Empty(t, rec.waits)
}

func TestObserverHearsRateLimitWaitsAndRefusals(t *testing.T) {
	srv := newScripted(t, failFirst(0, 0, ""))
	o := fastOptions()
	o.RatePerMinute = 600 // a burst of 50, then about 9 calls a second
	r, rec := observed(o)
	hc := client(r)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 52 {
		_, err := send(t, ctx, hc, http.MethodGet, srv.URL, "Bearer a")
		require.NoError(t, err)
	}
	require.NotEmpty(t, rec.waits, "calls beyond the burst waited")
	for _, d := range rec.waits {
		assert.Positive(t, d)
	}
	assert.Zero(t, rec.rejected)

	short, cancelShort := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancelShort()
	_, err := send(t, short, hc, http.MethodGet, srv.URL, "Bearer a")
	require.ErrorIs(t, err, ErrRateLimited)
	assert.Equal(t, 1, rec.rejected)
}
