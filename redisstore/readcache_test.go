package redisstore

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/internal/redistest"
	"github.com/groupdir/gateway/upstream"
)

// TestSharedReadsCarryInvalidations: a write on one replica ends the
// freshness of the other's entries of that resource and of its collection
// reads, and of a read it had in flight across the write; other resources
// stay fresh.
func TestSharedReadsCarryInvalidations(t *testing.T) {
	rs := redistest.Start(t)
	a := open(t, rs).SharedReads("genesys", upstream.NewMemoryReadStore(time.Minute))
	b := open(t, rs).SharedReads("genesys", upstream.NewMemoryReadStore(time.Minute))
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })

	now := time.Now()
	entry := func(resource string, requested time.Time) *upstream.CachedRead {
		return &upstream.CachedRead{Status: 200, Resource: resource, Requested: requested, Fetched: requested,
			Fresh: now.Add(time.Minute), Keep: now.Add(time.Minute)}
	}
	fresh := func(key string) bool {
		e, ok := b.Get(key)
		require.True(t, ok, key)
		return !e.Fresh.IsZero() && time.Now().Before(e.Fresh)
	}
	b.Put("g1", entry("g1", now))
	b.Put("g2", entry("g2", now))
	b.Put("list", entry("", now))
	inFlight := time.Now() // requested before the write, stored after the message

	time.Sleep(50 * time.Millisecond) // the subscriptions are up
	a.Invalidate("g1")
	require.Eventually(t, func() bool { return !fresh("g1") }, 5*time.Second, 5*time.Millisecond)
	assert.False(t, fresh("list"), "collection reads end with any write")
	assert.True(t, fresh("g2"), "another resource stays fresh")

	b.Put("g1-late", entry("g1", inFlight))
	assert.False(t, fresh("g1-late"), "a read in flight across the write is not fresh")
	b.Put("g1-new", entry("g1", time.Now()))
	assert.True(t, fresh("g1-new"), "a read sent after the write is")

	b.Invalidate("g2")
	assert.False(t, fresh("g2"), "a replica's own write applies at once")
}

// TestSharedReadsShareEntries: an answer one replica fetched is served by
// the other without a call of its own, unless a write came after it was
// requested (within the clock margin), or it is too large to share.
func TestSharedReadsShareEntries(t *testing.T) {
	rs := redistest.Start(t)
	a := open(t, rs).SharedReads("genesys", upstream.NewMemoryReadStore(time.Minute))
	b := open(t, rs).SharedReads("genesys", upstream.NewMemoryReadStore(time.Minute))
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	now := time.Now()
	entry := func(resource string, requested time.Time, body string) *upstream.CachedRead {
		return &upstream.CachedRead{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body),
			Resource: resource, Requested: requested, Fetched: requested, Fresh: now.Add(time.Minute), Keep: now.Add(time.Minute)}
	}

	_, ok := b.Get("g1")
	require.False(t, ok)
	a.Put("g1", entry("g1", now, `{"id":"g1"}`))
	e, ok := b.Get("g1")
	require.True(t, ok, "B finds what A fetched")
	assert.Equal(t, `{"id":"g1"}`, string(e.Body))
	assert.Equal(t, "application/json", e.Header.Get("Content-Type"))
	assert.True(t, time.Now().Before(e.Fresh))

	time.Sleep(50 * time.Millisecond) // the subscriptions are up
	a.Put("g2", entry("g2", time.Now(), `{"id":"g2"}`))
	b.Invalidate("g2") // B's write just after A's read: within the clock margin
	e, ok = b.Get("g2")
	require.True(t, ok)
	assert.False(t, time.Now().Before(e.Fresh), "an answer another replica requested just before a write is not fresh")
	require.Eventually(t, func() bool { e, ok = a.Get("g2"); return ok && !time.Now().Before(e.Fresh) }, 5*time.Second, 5*time.Millisecond,
		"nor on the replica that read it, once the write's message arrives")

	a.Put("big", entry("", now, strings.Repeat("x", maxSharedEntry+1)))
	_, ok = b.Get("big")
	assert.False(t, ok, "a large answer stays in the replica that read it")
}
