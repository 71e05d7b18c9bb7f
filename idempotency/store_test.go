package idempotency

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(MemoryOptions{})
	rec, err := s.Reserve(ctx, "k", "fp")
	require.NoError(t, err)
	assert.Nil(t, rec, "a free key is claimed")

	_, err = s.Reserve(ctx, "k", "fp")
	assert.ErrorIs(t, err, ErrInProgress)
	_, err = s.Reserve(ctx, "k", "other")
	assert.ErrorIs(t, err, ErrMismatch, "input is checked before progress")

	body := []byte(`{"data":{}}`)
	require.NoError(t, s.Complete(ctx, "k", Record{Status: 200, ContentType: "application/json", Body: body}))
	body[0] = 'X' // the store keeps its own copy
	rec, err = s.Reserve(ctx, "k", "fp")
	require.NoError(t, err)
	assert.Equal(t, &Record{Status: 200, ContentType: "application/json", Body: []byte(`{"data":{}}`)}, rec)
	_, err = s.Reserve(ctx, "k", "other")
	assert.ErrorIs(t, err, ErrMismatch)

	assert.Error(t, s.Complete(ctx, "k", Record{}), "a completed key is not held")
	assert.Error(t, s.Complete(ctx, "unknown", Record{}))
}

func TestMemoryStoreRelease(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(MemoryOptions{})
	_, err := s.Reserve(ctx, "k", "fp")
	require.NoError(t, err)
	require.NoError(t, s.Release(ctx, "k"))
	rec, err := s.Reserve(ctx, "k", "other")
	require.NoError(t, err, "a released key is free again, for any input")
	assert.Nil(t, rec)

	require.NoError(t, s.Complete(ctx, "k", Record{Status: 200}))
	require.NoError(t, s.Release(ctx, "k"))
	_, err = s.Reserve(ctx, "k", "fp")
	assert.ErrorIs(t, err, ErrMismatch, "release never drops a stored answer")
}

func TestMemoryStoreExpiresAfterTTL(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	s := NewMemoryStore(MemoryOptions{Now: c.Now})
	_, err := s.Reserve(ctx, "k", "fp")
	require.NoError(t, err)
	require.NoError(t, s.Complete(ctx, "k", Record{Status: 200}))

	c.advance(DefaultTTL - time.Second)
	rec, err := s.Reserve(ctx, "k", "fp")
	require.NoError(t, err)
	assert.NotNil(t, rec, "kept for 24 hours")

	c.advance(time.Second)
	rec, err = s.Reserve(ctx, "k", "other")
	require.NoError(t, err)
	assert.Nil(t, rec, "forgotten after 24 hours")
}

func TestMemoryStoreBounds(t *testing.T) {
	ctx := context.Background()
	t.Run("entries: the oldest answers go first, running keys stay", func(t *testing.T) {
		s := NewMemoryStore(MemoryOptions{MaxEntries: 3})
		_, err := s.Reserve(ctx, "running", "fp")
		require.NoError(t, err)
		for i := range 4 {
			key := fmt.Sprint("done-", i)
			_, err := s.Reserve(ctx, key, "fp")
			require.NoError(t, err)
			require.NoError(t, s.Complete(ctx, key, Record{Status: 200}))
		}
		assert.Equal(t, 3, s.Len())
		_, err = s.Reserve(ctx, "running", "fp")
		assert.ErrorIs(t, err, ErrInProgress)
		rec, err := s.Reserve(ctx, "done-0", "other")
		require.NoError(t, err, "done-0 was forgotten")
		assert.Nil(t, rec)
	})
	t.Run("entries: full of running keys", func(t *testing.T) {
		s := NewMemoryStore(MemoryOptions{MaxEntries: 2})
		for _, k := range []string{"a", "b"} {
			_, err := s.Reserve(ctx, k, "fp")
			require.NoError(t, err)
		}
		_, err := s.Reserve(ctx, "c", "fp")
		assert.ErrorIs(t, err, ErrFull)
	})
	t.Run("bytes", func(t *testing.T) {
		s := NewMemoryStore(MemoryOptions{MaxBytes: 10})
		for _, k := range []string{"a", "b"} {
			_, err := s.Reserve(ctx, k, "fp")
			require.NoError(t, err)
			require.NoError(t, s.Complete(ctx, k, Record{Body: []byte("123456")}))
		}
		assert.Equal(t, 1, s.Len(), "a was forgotten to make room for b")
		rec, err := s.Reserve(ctx, "b", "fp")
		require.NoError(t, err)
		assert.Equal(t, []byte("123456"), rec.Body)

		_, err = s.Reserve(ctx, "huge", "fp")
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, "huge", Record{Body: make([]byte, 20)}))
		rec, err = s.Reserve(ctx, "huge", "fp")
		require.NoError(t, err)
		assert.Len(t, rec.Body, 20, "an answer larger than the bound is still kept, alone")
	})
}

func TestMemoryStoreConcurrentReserve(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(MemoryOptions{})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		claimed int
	)
	for range 50 {
		wg.Go(func() {
			rec, err := s.Reserve(ctx, "k", "fp")
			if err == nil && rec == nil {
				mu.Lock()
				claimed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, claimed, "exactly one request runs")
}
