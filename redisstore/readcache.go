package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/groupdir/gateway/upstream"
)

// SharedReads is an upstream.ReadStore whose invalidations reach every
// replica. The entries stay in each replica's memory: a Redis round trip on
// every cached read would cost what the cache saves. A write's Invalidate is
// published on the upstream's channel, and every other replica applies it to
// its own entries on receipt and remembers when, so that a read it had in
// flight across the write (requested before the message arrived) is not
// served fresh either (CachedRead.Requested).
//
// While Redis cannot be reached, invalidations of other replicas' writes are
// lost: their entries stay fresh until their TTL ends (docs/operating.md, "Running
// several replicas"). The subscription reconnects by itself.
type SharedReads struct {
	local   upstream.ReadStore
	s       *Store
	channel string
	origin  string
	sub     interface{ Close() error }

	mu sync.Mutex
	// last is when each resource was last invalidated by another replica
	// (upstream.EveryResource: everything); anyAt is the last of all, which
	// ends the freshness of the collection reads.
	last  map[string]time.Time
	anyAt time.Time
}

// SharedReads returns the read store of the named upstream, keeping its
// entries in local and its invalidations in step with the other replicas.
// Close ends its subscription.
func (s *Store) SharedReads(name string, local upstream.ReadStore) *SharedReads {
	var id [8]byte
	_, _ = rand.Read(id[:])
	r := &SharedReads{local: local, s: s, channel: "readcache:" + name, origin: hex.EncodeToString(id[:]),
		last: map[string]time.Time{}}
	sub := s.client.Subscribe(context.Background(), r.channel)
	r.sub = sub
	go func() {
		for m := range sub.Channel() {
			origin, resource, ok := strings.Cut(m.Payload, "\x00")
			if ok && origin != r.origin {
				r.invalidated(resource)
			}
		}
	}()
	return r
}

// invalidated applies another replica's invalidation of resource.
func (r *SharedReads) invalidated(resource string) {
	now := time.Now()
	r.mu.Lock()
	r.anyAt = now
	if resource != "" {
		r.last[resource] = now
	}
	r.mu.Unlock()
	r.local.Invalidate(resource)
}

// Get implements upstream.ReadStore: an entry requested before the last
// invalidation that concerns it, by another replica, is not fresh.
func (r *SharedReads) Get(key string) (*upstream.CachedRead, bool) {
	e, ok := r.local.Get(key)
	if !ok || e.Fresh.IsZero() {
		return e, ok
	}
	r.mu.Lock()
	at := r.last[upstream.EveryResource]
	if e.Resource == "" {
		at = r.anyAt
	} else if t := r.last[e.Resource]; t.After(at) {
		at = t
	}
	r.mu.Unlock()
	if e.Requested.Before(at) {
		expired := *e
		expired.Fresh = time.Time{}
		return &expired, true
	}
	return e, true
}

// Put implements upstream.ReadStore.
func (r *SharedReads) Put(key string, e *upstream.CachedRead) { r.local.Put(key, e) }

// Invalidate implements upstream.ReadStore: here at once, and on the other
// replicas when they receive the message (a failed publish is counted and
// logged; their entries then stay fresh until their TTL ends).
func (r *SharedReads) Invalidate(resource string) {
	r.local.Invalidate(resource)
	ctx, cancel := r.s.bound(context.Background())
	defer cancel()
	if err := r.s.client.Publish(ctx, r.channel, r.origin+"\x00"+resource).Err(); err != nil {
		r.s.log.Warn("redis: a read cache invalidation did not reach the other replicas; their entries stay fresh until their TTL",
			"channel", r.channel)
	}
}

// Close ends the subscription.
func (r *SharedReads) Close() error { return r.sub.Close() }
