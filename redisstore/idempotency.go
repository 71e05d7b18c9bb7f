package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/groupdir/gateway/idempotency"
)

// leaseMargin is how much longer than a run (IdempotencyOptions.MaxRun) a
// lease lasts: the time to store the answer after the run's deadline.
const leaseMargin = 5 * time.Second

// IdempotencyOptions configures Store.Idempotency.
type IdempotencyOptions struct {
	// TTL is how long a record is kept (idempotency.DefaultTTL).
	TTL time.Duration
	// MaxRun is the longest a keyed request runs (the middleware's
	// Options.MaxRun). A running key's lease lasts MaxRun plus a margin.
	MaxRun time.Duration
}

// Idempotency is an idempotency.Store in Redis, shared by every replica.
// A record is a hash under gw:idem:{digest}: the request's fingerprint, the
// id of the reservation that holds it and, once complete, the answer. A
// running reservation also holds a lease key with a TTL of the longest
// run plus a margin, so a reservation whose lease is gone belongs to a
// gateway that died while running it: Reserve then hands the key to the
// new request with idempotency.ErrResumed.
//
// The lease is not renewed by a heartbeat on purpose: the owner's run ends
// at its own deadline (MaxRun), before its lease does, so a live owner can
// never lose its key to a second runner, even when a stalled Redis or
// network would have delayed a heartbeat.
type Idempotency struct {
	s          *Store
	ttl, lease time.Duration

	mu   sync.Mutex
	held map[string]string // key → id of the reservation this process holds
}

var _ idempotency.Store = (*Idempotency)(nil)

// Idempotency returns the shared idempotency store.
func (s *Store) Idempotency(o IdempotencyOptions) *Idempotency {
	if o.TTL <= 0 {
		o.TTL = idempotency.DefaultTTL
	}
	if o.MaxRun <= 0 {
		o.MaxRun = idempotency.DefaultMaxRun
	}
	return &Idempotency{s: s, ttl: o.TTL, lease: o.MaxRun + leaseMargin, held: map[string]string{}}
}

// reserveScript answers a Reserve atomically: KEYS record, lease; ARGV
// fingerprint, reservation id, TTL ms, lease ms. Running it twice with the
// same reservation id (a retried call) answers "reserved" again.
var reserveScript = redis.NewScript(`
local fp = redis.call('HGET', KEYS[1], 'fp')
if not fp then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'owner', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4])
  return {'reserved'}
end
if fp ~= ARGV[1] then return {'mismatch'} end
local h = redis.call('HMGET', KEYS[1], 'owner', 'status', 'ctype', 'body')
if h[2] then return {'done', h[2], h[3], h[4]} end
if h[1] == ARGV[2] then return {'reserved'} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'running'} end
redis.call('HSET', KEYS[1], 'owner', ARGV[2])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4])
return {'resumed'}
`)

// completeScript stores the answer when the reservation still holds the
// key: KEYS record, lease; ARGV id, status, content type, body, TTL ms.
var completeScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'ctype', ARGV[3], 'body', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('DEL', KEYS[2])
return 1
`)

// releaseScript frees a key the reservation holds and has not completed:
// KEYS record, lease; ARGV id.
var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HEXISTS', KEYS[1], 'status') == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
end
return 1
`)

// keys returns the record and lease keys of key (one hash slot, for a
// Redis Cluster).
func keys(key string) []string {
	rec := "gw:idem:{" + key + "}"
	return []string{rec, rec + ":lease"}
}

// Reserve implements idempotency.Store.
func (st *Idempotency) Reserve(ctx context.Context, key, fingerprint string) (*idempotency.Record, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	ctx, cancel := st.s.bound(ctx)
	defer cancel()
	res, err := reserveScript.Run(ctx, st.s.client, keys(key), fingerprint, id,
		st.ttl.Milliseconds(), st.lease.Milliseconds()).StringSlice()
	if err != nil {
		return nil, err
	}
	switch res[0] {
	case "mismatch":
		return nil, idempotency.ErrMismatch
	case "running":
		return nil, idempotency.ErrInProgress
	case "done":
		if len(res) < 4 {
			return nil, errors.New("redisstore: malformed idempotency record")
		}
		status, err := strconv.Atoi(res[1])
		if err != nil {
			return nil, errors.New("redisstore: malformed idempotency record")
		}
		return &idempotency.Record{Status: status, ContentType: res[2], Body: []byte(res[3])}, nil
	}
	st.mu.Lock()
	st.held[key] = id
	st.mu.Unlock()
	if res[0] == "resumed" {
		return nil, idempotency.ErrResumed
	}
	return nil, nil
}

// Complete implements idempotency.Store. It forgets the reservation even
// when storing fails, so that the middleware's Release after a failed
// Complete frees nothing: the mutation ran, and its key must stay held
// until its lease runs out and a repeat resumes (and reconciles) it.
func (st *Idempotency) Complete(ctx context.Context, key string, rec idempotency.Record) error {
	id := st.take(key)
	ctx, cancel := st.s.bound(ctx)
	defer cancel()
	ok, err := completeScript.Run(ctx, st.s.client, keys(key), id, rec.Status, rec.ContentType, rec.Body,
		st.ttl.Milliseconds()).Int()
	if err == nil && ok != 1 {
		err = errors.New("redisstore: complete of a key not held")
	}
	return err
}

// Release implements idempotency.Store.
func (st *Idempotency) Release(ctx context.Context, key string) error {
	id := st.take(key)
	ctx, cancel := st.s.bound(ctx)
	defer cancel()
	return releaseScript.Run(ctx, st.s.client, keys(key), id).Err()
}

// take returns and forgets the id of the reservation held on key.
func (st *Idempotency) take(key string) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	id := st.held[key]
	delete(st.held, key)
	return id
}

// newID returns a random reservation id.
func newID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
