package upstream

import (
	"net/http"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// ReadStore holds the read answers ReadSharing caches. The in-memory store
// (NewMemoryReadStore) serves one process; a shared store (Redis) lets
// replicas share entries and must then also carry every Invalidate to the
// other replicas. Implementations are safe for concurrent use.
type ReadStore interface {
	// Get returns the entry stored under key, fresh or stale, if it is
	// still kept.
	Get(key string) (*CachedRead, bool)
	// Put stores e under key until e.Keep.
	Put(key string, e *CachedRead)
	// Invalidate ends the freshness of every entry of a collection read
	// (CachedRead.Resource "") and, when resource is not "", of every entry
	// of that resource (EveryResource: of every entry): the next read of
	// one goes upstream, and the entry is served, marked stale, only when
	// the upstream cannot be asked. Entries that are not a success (404s)
	// are dropped.
	Invalidate(resource string)
}

// EveryResource is the resource of a write that may have changed any
// resource (ReadSharingOptions.Resource): it invalidates every read.
const EveryResource = "*"

// CachedRead is a read answer held by a ReadStore.
type CachedRead struct {
	// Status, Header and Body are the upstream's answer.
	Status int
	Header http.Header
	Body   []byte
	// Resource names the one resource the read is about (e.g. a group id),
	// "" for a read of a collection (lists, searches, batched lookups).
	Resource string
	// Requested is when the read was sent: a store shared by replicas
	// treats an entry requested before the last invalidation of its
	// resource (or of the collections) as not fresh, whichever replica
	// invalidated.
	Requested time.Time
	// Fetched is when the answer arrived; it is served as is until Fresh,
	// and marked stale (when the upstream cannot be asked) until Keep.
	Fetched, Fresh, Keep time.Time
}

// maxCached bounds the entries of the in-memory store; the least recently
// used go first.
const maxCached = 10_000

// memoryReadStore is the in-memory ReadStore: an expiring LRU
// (hashicorp/golang-lru), bounded in entries and in time.
type memoryReadStore struct {
	lru *expirable.LRU[string, *CachedRead]
}

// NewMemoryReadStore returns an in-memory ReadStore keeping each entry at
// most keep (its own CachedRead.Keep may end it earlier).
func NewMemoryReadStore(keep time.Duration) ReadStore {
	return &memoryReadStore{lru: expirable.NewLRU[string, *CachedRead](maxCached, nil, keep)}
}

func (m *memoryReadStore) Get(key string) (*CachedRead, bool) {
	e, ok := m.lru.Get(key)
	if ok && time.Now().After(e.Keep) {
		m.lru.Remove(key)
		return nil, false
	}
	return e, ok
}

func (m *memoryReadStore) Put(key string, e *CachedRead) { m.lru.Add(key, e) }

func (m *memoryReadStore) Invalidate(resource string) {
	for _, k := range m.lru.Keys() {
		e, ok := m.lru.Peek(k)
		if !ok || (e.Resource != "" && e.Resource != resource && resource != EveryResource) {
			continue
		}
		if e.Status < 200 || e.Status >= 300 {
			m.lru.Remove(k)
			continue
		}
		expired := *e
		expired.Fresh = time.Time{}
		m.lru.Add(k, &expired)
	}
}
