package idempotency

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// Errors a Store's Reserve returns.
var (
	// ErrInProgress: another request holds the key and has not finished.
	ErrInProgress = errors.New("idempotency: a request with this key is still running")
	// ErrMismatch: the key was used for a request with other input.
	ErrMismatch = errors.New("idempotency: the key was used with other input")
	// ErrFull: the store cannot take another key now.
	ErrFull = errors.New("idempotency: store full")
	// ErrResumed: the key is now held by the caller, like a (nil, nil)
	// answer, but an earlier request held it and died before it finished
	// (a shared store detects that with a lease). That request may have
	// changed something: the caller runs the request again with Resumed
	// set on its context, so that it reconciles before sending anything.
	ErrResumed = errors.New("idempotency: an interrupted request with this key is resumed")
)

// Record is the stored answer to a request.
type Record struct {
	// Status is the HTTP status code.
	Status int
	// ContentType is the answer's Content-Type.
	ContentType string
	// Body is the answer's body.
	Body []byte
}

// Store keeps the first answer given to each key. A shared implementation
// (so that every gateway instance sees the same keys) must make Reserve
// atomic, e.g. a Redis SET NX with the fingerprint, and expire records after
// the TTL. Implementations are safe for concurrent use.
type Store interface {
	// Reserve claims key for a request whose input has the given
	// fingerprint. It returns (nil, nil) when the key was free and is now
	// held by the caller, who must then call Complete or Release (also
	// after ErrResumed, see there); the
	// stored record when an earlier request with the same input finished;
	// ErrMismatch when the key was used with another fingerprint (checked
	// first); ErrInProgress when a request with the key is still running.
	Reserve(ctx context.Context, key, fingerprint string) (*Record, error)
	// Complete stores rec as the answer to the held key.
	Complete(ctx context.Context, key string, rec Record) error
	// Release frees the held key without an answer, so that the request
	// may be sent again (it was refused before it could change anything).
	Release(ctx context.Context, key string) error
}

// Defaults of MemoryOptions.
const (
	DefaultTTL        = 24 * time.Hour
	DefaultMaxEntries = 10_000
	DefaultMaxBytes   = 64 << 20
)

// MemoryOptions bounds a MemoryStore. Zero values take the defaults.
type MemoryOptions struct {
	// TTL is how long an answer is kept after it was stored (24 h).
	TTL time.Duration
	// MaxEntries bounds the keys held (10,000).
	MaxEntries int
	// MaxBytes bounds the stored answer bodies together (64 MiB).
	MaxBytes int
	// Now is the clock (time.Now); tests set it.
	Now func() time.Time
}

// MemoryStore is a Store in the process's memory, bounded in keys and
// bytes. When full it forgets the oldest answers first (before their TTL);
// the keys of running requests are never forgotten.
type MemoryStore struct {
	opts MemoryOptions

	mu    sync.Mutex
	byKey map[string]*entry
	done  *list.List // of *entry: the completed ones, oldest first
	bytes int
}

// entry is one key: running while rec is nil.
type entry struct {
	key, fingerprint string
	rec              *Record
	expires          time.Time
	el               *list.Element // in done, once completed
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(o MemoryOptions) *MemoryStore {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &MemoryStore{opts: o, byKey: map[string]*entry{}, done: list.New()}
}

// Reserve implements Store.
func (s *MemoryStore) Reserve(_ context.Context, key, fingerprint string) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	if e, ok := s.byKey[key]; ok {
		switch {
		case e.fingerprint != fingerprint:
			return nil, ErrMismatch
		case e.rec == nil:
			return nil, ErrInProgress
		}
		rec := *e.rec
		return &rec, nil
	}
	if !s.makeRoom(1, nil) {
		return nil, ErrFull
	}
	s.byKey[key] = &entry{key: key, fingerprint: fingerprint}
	return nil, nil
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, key string, rec Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byKey[key]
	if !ok || e.rec != nil {
		return errors.New("idempotency: complete of a key not held")
	}
	rec.Body = append([]byte(nil), rec.Body...)
	e.rec, e.expires = &rec, s.opts.Now().Add(s.opts.TTL)
	e.el = s.done.PushBack(e)
	s.bytes += len(rec.Body)
	s.makeRoom(0, e)
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byKey[key]; ok && e.rec == nil {
		delete(s.byKey, key)
	}
	return nil
}

// Len returns the number of keys held, running or completed.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey)
}

// expire forgets the answers whose TTL is over (they expire in completion
// order, so from the front).
func (s *MemoryStore) expire() {
	now := s.opts.Now()
	for el := s.done.Front(); el != nil && !now.Before(el.Value.(*entry).expires); el = s.done.Front() {
		s.forget(el.Value.(*entry))
	}
}

// makeRoom forgets the oldest answers (never keep) until newKeys more keys
// fit in the bounds, and reports whether they do.
func (s *MemoryStore) makeRoom(newKeys int, keep *entry) bool {
	for len(s.byKey)+newKeys > s.opts.MaxEntries || s.bytes > s.opts.MaxBytes {
		el := s.done.Front()
		if el == nil || el.Value.(*entry) == keep {
			return false
		}
		s.forget(el.Value.(*entry))
	}
	return true
}

// forget drops a completed entry.
func (s *MemoryStore) forget(e *entry) {
	s.bytes -= len(e.rec.Body)
	s.done.Remove(e.el)
	delete(s.byKey, e.key)
}
