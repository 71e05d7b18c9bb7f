package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// BatchedReads describes the reads that look up several resources by id in
// one call (Genesys' GET /api/v2/groups?id=..&id=..). ReadSharing caches
// their answers entity by entity, so that a lookup reuses the entities of
// any earlier lookup, whatever other ids it named:
//
//   - it asks the upstream only for the ids it does not hold fresh, and
//     answers from the cached and the fetched entities;
//   - a call it has to make anyway also carries the ids it served lately
//     whose entities are half-way to going stale (up to MaxIDs): one call of
//     the upstream's budget refreshes them all, so the popular entities of a
//     busy gateway cost about one call per TTL between them rather than one
//     each;
//   - each entity is a read of its own resource: a write to a resource ends
//     the freshness of that entity only, an id the answer leaves out is
//     cached as not found (NegativeTTL), and an entity is served marked
//     stale, as any read, when the upstream cannot be asked.
type BatchedReads struct {
	// IDs returns the ids req looks up, as it spells them, and false when
	// req is not a batched lookup ReadSharing may split (another parameter
	// it does not know, say).
	IDs func(req *http.Request) (ids []string, ok bool)
	// WithIDs returns the query of a lookup of ids, other parameters kept.
	WithIDs func(q url.Values, ids []string) url.Values
	// Entities splits a success answer into its entities (raw JSON) and
	// their ids; an error makes ReadSharing pass the answer on uncached.
	Entities func(body []byte) (ids []string, entities [][]byte, err error)
	// Answer builds the answer body of a lookup from its entities.
	Answer func(entities [][]byte) []byte
	// ResourceOf names the resource of an entity id, spelled as
	// ReadSharingOptions.Resource spells the resource of a write.
	ResourceOf func(id string) string
	// MaxIDs bounds the ids of one call.
	MaxIDs int
}

// hotIDs is how many recently served ids of one lookup family (path,
// parameters and credential) ReadSharing keeps to refresh along with the
// calls it makes; hotFamilies bounds the families it tracks.
const (
	hotIDs      = 256
	hotFamilies = 1024
)

// batchedState is ReadSharing's memory of the batched lookups: the ids each
// family served lately (most recent first), to add to its next call.
type batchedState struct {
	mu  sync.Mutex
	hot *lru.Cache[string, *lru.Cache[string, string]] // family → resource → id as spelled
}

func newBatchedState() *batchedState {
	hot, _ := lru.New[string, *lru.Cache[string, string]](hotFamilies) // the size is a positive constant
	return &batchedState{hot: hot}
}

// touch records that family served ids.
func (b *batchedState) touch(family string, resources, ids []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ids2, ok := b.hot.Get(family)
	if !ok {
		ids2, _ = lru.New[string, string](hotIDs)
		b.hot.Add(family, ids2)
	}
	for i, r := range resources {
		ids2.Add(r, ids[i])
	}
}

// recent returns the resources and ids family served lately, most recent
// first.
func (b *batchedState) recent(family string) (resources, ids []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.hot.Get(family)
	if !ok {
		return nil, nil
	}
	resources = c.Keys()
	slices.Reverse(resources) // Keys lists the oldest first
	ids = make([]string, len(resources))
	for i, r := range resources {
		ids[i], _ = c.Peek(r)
	}
	return resources, ids
}

// batchedLookup is one batched read being answered.
type batchedLookup struct {
	req       *http.Request
	family    string
	ids       []string      // as asked, without repeats
	resources []string      // the resource of each id
	have      []*CachedRead // the cached entry of each id, if any
	build     func(entities [][]byte) []byte
}

// roundTripBatched answers a batched lookup of ids (BatchedReads).
func (s *ReadSharing) roundTripBatched(req *http.Request, asked []string) (resp *http.Response, err error) {
	b := s.opts.Batched
	l := &batchedLookup{req: req, family: s.family(req), build: b.Answer}
	seen := make(map[string]bool, len(asked))
	for _, id := range asked {
		r := b.ResourceOf(id)
		if !seen[r] {
			seen[r] = true
			l.ids, l.resources = append(l.ids, id), append(l.resources, r)
		}
	}
	l.have = make([]*CachedRead, len(l.ids))
	now := time.Now()
	var missing []int // indexes of the ids to ask for
	fallback := true  // every id to ask for has an entry to serve stale
	for i, r := range l.resources {
		if e, ok := s.cached(req.Context(), l.family+r); ok {
			l.have[i] = e
			if now.Before(e.Fresh) {
				continue
			}
		} else {
			fallback = false
		}
		missing = append(missing, i)
	}
	s.batched.touch(l.family, l.resources, l.ids)
	if len(missing) == 0 {
		return l.answer(nil, false), nil
	}
	if fallback {
		req = req.WithContext(context.WithValue(req.Context(), preferStaleKey{}, true))
	}
	gen := s.gen.Load()
	ask, asked := make([]string, len(missing)), make([]string, len(missing))
	for j, i := range missing {
		ask[j], asked[j] = l.ids[i], l.resources[i]
	}
	slices.Sort(asked) // the same groups in any order share one call
	flight := l.family + "\x00" + strings.Join(asked, "\x00")
	fetch := func() (any, error) { return s.fetchBatched(req, l.family, ask, gen) }
	var v any
	if freshReads(req.Context()) {
		v, err = fetch() // a mutation's read joins no read in flight
	} else {
		v, err = s.flights.do(req.Context(), "b"+flight, fetch)
		if err != nil && errors.Is(err, context.Canceled) && req.Context().Err() == nil {
			v, err = fetch() // the caller that led the shared read went away
		}
	}
	if err != nil {
		if fallback && unavailable(err) {
			return l.answer(nil, true), nil
		}
		return nil, err
	}
	got := v.(*batchedAnswer)
	if got.failed != nil {
		if fallback && retryableStatus(got.failed.Status) {
			return l.answer(nil, true), nil
		}
		return got.failed.response(req), nil
	}
	return l.answer(got.entities, false), nil
}

// batchedAnswer is a batched call's answer: its entities by resource (nil
// for an id the answer left out), or the answer itself when it was not a
// success ReadSharing could split.
type batchedAnswer struct {
	entities map[string]*CachedRead
	failed   *CachedRead
}

// answer builds the lookup's answer from fetched (by resource) and the
// cached entries; with stale, the cached entries stand in for what could
// not be fetched, and the request's answer is marked stale.
func (l *batchedLookup) answer(fetched map[string]*CachedRead, stale bool) *http.Response {
	var entities [][]byte
	var oldest time.Time
	now := time.Now()
	for i, r := range l.resources {
		e, ok := fetched[r]
		if !ok {
			e = l.have[i]
			if stale && !now.Before(e.Fresh) && (oldest.IsZero() || e.Fetched.Before(oldest)) {
				oldest = e.Fetched
			}
		}
		if e != nil && e.Status >= 200 && e.Status < 300 {
			entities = append(entities, e.Body)
		}
	}
	if !oldest.IsZero() {
		CallsFrom(l.req.Context()).MarkStale(time.Since(oldest))
	}
	a := &CachedRead{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: l.build(entities)}
	return a.response(l.req)
}

// fetchBatched asks for ask, plus the ids of the family due for a refresh,
// and caches the entities of the answer.
func (s *ReadSharing) fetchBatched(req *http.Request, family string, ask []string, gen uint64) (*batchedAnswer, error) {
	b := s.opts.Batched
	ask = s.widen(family, ask)
	out := req.Clone(req.Context())
	u := *req.URL
	u.RawQuery = b.WithIDs(req.URL.Query(), ask).Encode()
	out.URL = &u
	requested := time.Now()
	resp, err := s.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readAll(resp.Body, resp.ContentLength, MaxSuccessBody)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	whole := &CachedRead{Status: resp.StatusCode, Header: resp.Header, Body: body, Requested: requested, Fetched: now}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 || len(body) > MaxSuccessBody {
		return &batchedAnswer{failed: whole}, nil
	}
	ids, entities, err := b.Entities(body)
	if err != nil {
		return &batchedAnswer{failed: whole}, nil // passed on as is: the client reports it
	}
	got := make(map[string]*CachedRead, len(ask))
	for i, id := range ids {
		got[b.ResourceOf(id)] = &CachedRead{Status: http.StatusOK, Body: entities[i], Requested: requested, Fetched: now,
			Fresh: now.Add(s.opts.TTL), Keep: now.Add(s.opts.TTL + s.opts.StaleFor)}
	}
	for _, id := range ask {
		r := b.ResourceOf(id)
		if _, ok := got[r]; !ok {
			got[r] = &CachedRead{Status: http.StatusNotFound, Requested: requested, Fetched: now,
				Fresh: now.Add(s.opts.NegativeTTL), Keep: now.Add(s.opts.NegativeTTL)}
		}
	}
	if s.store != nil && gen == s.gen.Load() {
		for r, e := range got {
			if e.Status == http.StatusOK || s.opts.NegativeTTL > 0 {
				e.Resource = r
				s.store.Put(family+r, e)
			}
		}
	}
	return &batchedAnswer{entities: got}, nil
}

// widen adds to ask the ids family served lately whose entities are cached
// and past half their TTL, up to MaxIDs.
func (s *ReadSharing) widen(family string, ask []string) []string {
	room := s.opts.Batched.MaxIDs - len(ask)
	if room <= 0 || s.store == nil {
		return ask
	}
	asked := make(map[string]bool, len(ask))
	for _, id := range ask {
		asked[s.opts.Batched.ResourceOf(id)] = true
	}
	due := time.Now().Add(s.opts.TTL / 2)
	resources, ids := s.batched.recent(family)
	for i, r := range resources {
		if room == 0 {
			break
		}
		if asked[r] {
			continue
		}
		if e, ok := s.store.Get(family + r); ok && e.Status == http.StatusOK && e.Fresh.Before(due) {
			ask = append(ask, ids[i])
			room--
		}
	}
	return ask
}

// family keys a batched lookup without its ids: method, host, path, the
// other parameters and the credential's scope, hashed as key hashes a read,
// followed by a separator the resource is appended to.
func (s *ReadSharing) family(req *http.Request) string {
	q := s.opts.Batched.WithIDs(req.URL.Query(), nil)
	return "batched:" + digest(nil, req.Method, req.URL.Host, req.URL.Path, q.Encode(), s.scope(req), req.Header.Get("Accept")) + ":"
}
