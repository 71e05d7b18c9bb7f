package auth

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestUnknownKeysAreSpaced: however many unknown kids arrive, fetches start
// at least gap apart, and a waiter gives up when its context ends.
func TestUnknownKeysAreSpaced(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var fetches atomic.Int32
	u := &unknownKeys{ctx: ctx, gap: time.Hour, fetch: func(context.Context, string) { fetches.Add(1) }}

	u.await(context.Background(), "first") // no fetch yet: starts at once
	assert.Equal(t, int32(1), fetches.Load())

	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			wctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			u.await(wctx, "forged-"+strconv.Itoa(i))
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), fetches.Load(), "the next fetch waits for the gap; waiters left at their deadline")
}
