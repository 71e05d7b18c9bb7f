package redisstore

import (
	"context"
	"time"
)

// Persisted keeps the queries registered through automatic persisted
// queries for every replica (guard.PersistedStore): the document under
// "apq:<sha256>", its TTL renewed on each hit, so queries in use stay and
// the others expire. A Redis failure is a miss: the client then sends the
// query again with its hash, and the operation still runs.
type Persisted struct {
	s        *Store
	ttl      time.Duration
	maxBytes int
}

// Persisted returns the store of persisted queries: each kept ttl after its
// last use, none longer than maxBytes (a longer one still runs, it is just
// not kept).
func (s *Store) Persisted(ttl time.Duration, maxBytes int) *Persisted {
	return &Persisted{s: s, ttl: ttl, maxBytes: maxBytes}
}

func persistedKey(hash string) string { return "apq:" + hash }

// Get returns the query registered under hash (GETEX renews its TTL).
func (p *Persisted) Get(ctx context.Context, hash string) (string, bool) {
	ctx, cancel := p.s.bound(ctx)
	defer cancel()
	q, err := p.s.client.GetEx(ctx, persistedKey(hash), p.ttl).Result()
	return q, err == nil
}

// Add registers query under hash (the guard verified that hash is the
// query's SHA-256 and that the query is valid).
func (p *Persisted) Add(ctx context.Context, hash, query string) {
	if len(query) > p.maxBytes {
		return
	}
	ctx, cancel := p.s.bound(ctx)
	defer cancel()
	_ = p.s.client.Set(ctx, persistedKey(hash), query, p.ttl).Err() // counted by errorHook; a miss later
}
