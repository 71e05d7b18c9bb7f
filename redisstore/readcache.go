package redisstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/groupdir/gateway/upstream"
)

// SharedReads is an upstream.ReadStore shared by the replicas, so that the
// upstream budget pays for a read once whichever replica asks:
//
//   - entries live in each replica's memory (no Redis round trip for a
//     fresh entry) and in Redis, for as long as they are kept; a replica
//     whose own entry is missing or no longer fresh looks in Redis before
//     the read goes upstream, and an answer it fetches is stored there too
//     (answers up to maxSharedEntry bytes);
//   - a write's Invalidate is published on the upstream's channel; every
//     replica applies it to its own entries on receipt and remembers when,
//     so that no entry requested before the write, whichever replica read
//     it, is served fresh (CachedRead.Requested; another replica's entries
//     count as requested clockSkew earlier, against clock differences).
//
// While Redis cannot be reached each replica keeps its own entries and
// invalidations of other replicas' writes are lost: their entries stay
// fresh until their TTL ends (docs/operating.md, "Running several
// replicas"). The subscription reconnects by itself.
type SharedReads struct {
	local   upstream.ReadStore
	s       *Store
	channel string
	prefix  string // of the entries' Redis keys
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
	r := &SharedReads{local: local, s: s, channel: "readcache:" + name, prefix: "readcache:" + name + ":",
		origin: hex.EncodeToString(id[:]), last: map[string]time.Time{}}
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

// Get implements upstream.ReadStore: the replica's own entry when it is
// fresh, else the one in Redis when it was fetched later (it is then kept
// here too). An entry requested before the last invalidation that concerns
// it is not fresh.
func (r *SharedReads) Get(key string) (*upstream.CachedRead, bool) {
	e, ok := r.local.Get(key)
	if ok {
		e = r.checked(e)
		if time.Now().Before(e.Fresh) {
			return e, true
		}
	}
	if s, found := r.shared(key); found && (!ok || s.Fetched.After(e.Fetched)) {
		r.local.Put(key, s)
		return r.checked(s), true
	}
	return e, ok
}

// checked returns e, or a copy that is not fresh when e was requested
// before the last invalidation that concerns it.
func (r *SharedReads) checked(e *upstream.CachedRead) *upstream.CachedRead {
	if e.Fresh.IsZero() {
		return e
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
		return &expired
	}
	return e
}

// Put implements upstream.ReadStore: here, and in Redis for the other
// replicas (a failed store is counted; they then read for themselves).
func (r *SharedReads) Put(key string, e *upstream.CachedRead) {
	r.local.Put(key, e)
	keep := time.Until(e.Keep)
	if keep <= 0 || len(e.Body) > maxSharedEntry {
		return
	}
	v, err := encodeEntry(r.origin, e)
	if err != nil {
		return
	}
	ctx, cancel := r.s.bound(context.Background())
	defer cancel()
	_ = r.s.client.Set(ctx, r.prefix+key, v, keep).Err()
}

// shared returns the entry of key in Redis, if there is one and Redis
// answers. Another replica's entry counts as requested clockSkew earlier.
func (r *SharedReads) shared(key string) (*upstream.CachedRead, bool) {
	ctx, cancel := r.s.bound(context.Background())
	defer cancel()
	v, err := r.s.client.Get(ctx, r.prefix+key).Bytes()
	if err != nil {
		return nil, false
	}
	origin, e, err := decodeEntry(v)
	if err != nil || !time.Now().Before(e.Keep) {
		return nil, false
	}
	if origin != r.origin {
		e.Requested = e.Requested.Add(-clockSkew)
	}
	return e, true
}

// Invalidate implements upstream.ReadStore: here at once (the entries in
// Redis included), and on the other replicas when they receive the message (a failed publish is counted and
// logged; their entries then stay fresh until their TTL ends).
func (r *SharedReads) Invalidate(resource string) {
	r.invalidated(resource) // also ends the freshness of the entries in Redis, for this replica
	ctx, cancel := r.s.bound(context.Background())
	defer cancel()
	if err := r.s.client.Publish(ctx, r.channel, r.origin+"\x00"+resource).Err(); err != nil {
		r.s.log.Warn("redis: a read cache invalidation did not reach the other replicas; their entries stay fresh until their TTL",
			"channel", r.channel)
	}
}

// Close ends the subscription.
func (r *SharedReads) Close() error { return r.sub.Close() }

// Limits of the entries kept in Redis.
const (
	// maxSharedEntry bounds the answer kept in Redis: larger ones stay in
	// the replica that read them.
	maxSharedEntry = 256 << 10
	// clockSkew is how much earlier than it says an entry another replica
	// requested counts, so that a difference between the replicas' clocks
	// never lets a read sent before a write pass as sent after it.
	clockSkew = time.Second
)

// entryMeta is what an entry in Redis holds besides its body.
type entryMeta struct {
	Origin                             string
	Status                             int
	Header                             http.Header
	Resource                           string
	Requested, Fetched, Fresh, KeepTil time.Time
}

// encodeEntry is e as kept in Redis: its metadata as JSON, a NUL byte (never
// in JSON), and its body.
func encodeEntry(origin string, e *upstream.CachedRead) ([]byte, error) {
	meta, err := json.Marshal(entryMeta{Origin: origin, Status: e.Status, Header: e.Header, Resource: e.Resource,
		Requested: e.Requested, Fetched: e.Fetched, Fresh: e.Fresh, KeepTil: e.Keep})
	if err != nil {
		return nil, err
	}
	return append(append(meta, 0), e.Body...), nil
}

// decodeEntry reads an entry encodeEntry wrote.
func decodeEntry(v []byte) (origin string, e *upstream.CachedRead, err error) {
	i := bytes.IndexByte(v, 0)
	if i < 0 {
		return "", nil, errors.New("redisstore: a read cache entry without its separator")
	}
	var m entryMeta
	if err := json.Unmarshal(v[:i], &m); err != nil {
		return "", nil, err
	}
	return m.Origin, &upstream.CachedRead{Status: m.Status, Header: m.Header, Body: v[i+1:], Resource: m.Resource,
		Requested: m.Requested, Fetched: m.Fetched, Fresh: m.Fresh, Keep: m.KeepTil}, nil
}
