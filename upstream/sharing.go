package upstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ReadSharingOptions configures NewReadSharing. The zero value shares
// in-flight reads and caches nothing.
type ReadSharingOptions struct {
	// TTL is how long a successful read is served from the cache as is
	// (0: no cache).
	TTL time.Duration
	// NegativeTTL is how long a 404 answer is served from the cache (at
	// most TTL; 0: not cached).
	NegativeTTL time.Duration
	// StaleFor is how long past TTL a successful read is still kept, to be
	// served marked stale when the upstream cannot be asked: the rate
	// limiter would make the read wait, or the upstream answered 429 or 5xx
	// or could not be reached (0: never served stale).
	StaleFor time.Duration
	// Store holds the cached reads (nil: in memory, NewMemoryReadStore).
	Store ReadStore
	// ReadPOST reports the POSTs that only read (searches, previews):
	// they are shared and cached as reads, keyed by their body too, and
	// invalidate nothing. Nil: every POST is a write.
	ReadPOST func(*http.Request) bool
	// Resource names the one resource a request reads or writes (e.g. a
	// group id, spelled one way), or "" for a read of a collection and for
	// a write that creates. body is the request's body (nil for GET and
	// DELETE). A write invalidates the collection reads and the reads of
	// its resource. Nil: every read is a collection read, so every write
	// invalidates every read.
	Resource func(req *http.Request, body []byte) string
	// Scope names the credential a request reads with, as far as what it
	// may see is concerned: answers are shared only within one scope (nil:
	// the Authorization header, so every token is a scope of its own).
	// Replicas that each fetch their own token of the same OAuth client
	// share answers only when Scope names the client rather than the token.
	Scope func(req *http.Request) string
	// Batched describes the lookups of several resources by id that are
	// cached entity by entity (nil: none; only with a TTL).
	Batched *BatchedReads
}

// ReadSharing is an http.RoundTripper that spends fewer upstream calls on
// reads, across requests:
//
//   - identical reads in flight at the same moment (same URL, body and
//     credential) are sent once and every caller gets a copy of the answer
//     (flights: like golang.org/x/sync/singleflight, with the first caller
//     making the read on its own goroutine);
//   - with a TTL, successful reads are cached for TTL and 404 answers for
//     NegativeTTL; past TTL, a read is kept StaleFor longer and served,
//     marked stale in the request's Calls (Calls.MarkStale), when the rate
//     limiter, a 429, a 5xx or a transport failure would fail it.
//
// The key of both is a hash of the URL (which carries the Usergroup API's
// credentials), the body of a read POST and the credential's scope (Scope:
// by default the Authorization header, the Genesys token), so data is never
// shared across credentials. Any other request (a write) invalidates the
// collection reads and the reads of the resource it names (Resource) once
// it is answered (ReadStore.Invalidate: they are no longer fresh), and
// starts a new generation: later reads never join a read that began before
// the write, and a read in flight across a write is not cached, so the
// gateway reads its own writes (unless the upstream cannot be asked: then
// the answer from before the write is served marked stale). Reads made with
// a context from WithFreshReads skip the cache (mutations read the current
// version, without joining reads in flight). Batched lookups of several
// resources by id (ReadSharingOptions.Batched) are cached entity by entity
// (see BatchedReads).
type ReadSharing struct {
	next    http.RoundTripper
	opts    ReadSharingOptions
	store   ReadStore
	flights flights
	gen     atomic.Uint64
	// batched remembers the ids each batched lookup family served lately.
	batched *batchedState
}

// maxReadPOSTBody bounds the body of a read POST the cache keys on; larger
// ones are sent without sharing.
const maxReadPOSTBody = 64 << 10

// NewReadSharing wraps next.
func NewReadSharing(next http.RoundTripper, o ReadSharingOptions) *ReadSharing {
	o.NegativeTTL = min(o.NegativeTTL, o.TTL)
	s := &ReadSharing{next: next, opts: o, store: o.Store}
	if s.store == nil && o.TTL > 0 {
		s.store = NewMemoryReadStore(o.TTL + o.StaleFor)
	}
	if o.TTL <= 0 {
		s.opts.Batched = nil
	}
	if s.opts.Batched != nil {
		s.batched = newBatchedState()
	}
	return s
}

// RoundTrip implements http.RoundTripper.
func (s *ReadSharing) RoundTrip(req *http.Request) (*http.Response, error) {
	read := req.Method == http.MethodGet || (req.Method == http.MethodPost && s.opts.ReadPOST != nil && s.opts.ReadPOST(req))
	body, err := s.body(req, read)
	if err != nil {
		return nil, err
	}
	if !read {
		resp, err := s.next.RoundTrip(req)
		s.gen.Add(1)
		if s.store != nil {
			s.store.Invalidate(s.resource(req, body))
		}
		return resp, err
	}
	if s.opts.Batched != nil && req.Method == http.MethodGet {
		if ids, ok := s.opts.Batched.IDs(req); ok && len(ids) > 0 && len(ids) <= s.opts.Batched.MaxIDs {
			return s.roundTripBatched(req, ids)
		}
	}
	if req.Method == http.MethodPost {
		req = req.WithContext(context.WithValue(req.Context(), readPOSTKey{}, true))
		if body == nil {
			return s.next.RoundTrip(req) // too large to key on
		}
	}
	gen := s.gen.Load()
	key := s.key(req, body)
	if freshReads(req.Context()) {
		// A mutation's read joins no read in flight: that one may be
		// waiting behind the write reserve the mutation may spend.
		e, err := s.fetch(req, body, gen, key)
		if err != nil {
			return nil, err
		}
		return e.response(req), nil
	}
	var stale *CachedRead
	if e, ok := s.cached(req.Context(), key); ok {
		if time.Now().Before(e.Fresh) {
			return e.response(req), nil
		}
		stale = e
		req = req.WithContext(context.WithValue(req.Context(), preferStaleKey{}, true))
	}
	v, err := s.flights.do(req.Context(), strconv.FormatUint(gen, 10)+":"+key, func() (any, error) {
		return s.fetch(req, body, gen, key)
	})
	if err != nil {
		if errors.Is(err, context.Canceled) && req.Context().Err() == nil {
			// The caller that led the shared read went away; this one
			// did not, so it asks for itself.
			return s.next.RoundTrip(req)
		}
		if stale != nil && unavailable(err) {
			return s.serveStale(req, stale), nil
		}
		return nil, err
	}
	a := v.(*CachedRead)
	if stale != nil && retryableStatus(a.Status) {
		return s.serveStale(req, stale), nil
	}
	return a.response(req), nil
}

// flights shares the reads in flight: the first caller of a key makes the
// read on its own goroutine (golang.org/x/sync/singleflight's DoChan would
// start one more goroutine per read: about a tenth of the CPU of a page of
// 25 groups' members), and the callers that ask for the same key meanwhile
// wait for its answer, or for their own context to end.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

// flight is one read in flight; done is closed once val and err are set.
type flight struct {
	done chan struct{}
	val  any
	err  error
}

// errFlightPanicked is what the callers waiting for a read whose first
// caller panicked get (the panic goes on in that caller).
var errFlightPanicked = errors.New("upstream: a shared read panicked")

// do returns fn's result for key, calling fn only when no call of key is in
// flight.
func (f *flights) do(ctx context.Context, key string, fn func() (any, error)) (any, error) {
	f.mu.Lock()
	if fl, ok := f.m[key]; ok {
		f.mu.Unlock()
		select {
		case <-fl.done:
			return fl.val, fl.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.m == nil {
		f.m = map[string]*flight{}
	}
	fl := &flight{done: make(chan struct{}), err: errFlightPanicked}
	f.m[key] = fl
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.m, key)
		f.mu.Unlock()
		close(fl.done)
	}()
	fl.val, fl.err = fn()
	return fl.val, fl.err
}

// body reads the body of a read POST (nil when it is larger than
// maxReadPOSTBody) or of a write that Resource may need, and gives req a
// copy to send.
func (s *ReadSharing) body(req *http.Request, read bool) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody || (!read && s.opts.Resource == nil) {
		return nil, nil
	}
	if read && req.ContentLength > maxReadPOSTBody {
		return nil, nil
	}
	b, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	if read && len(b) > maxReadPOSTBody {
		return nil, nil
	}
	return b, nil
}

// resource is the resource req is about ("" without Resource).
func (s *ReadSharing) resource(req *http.Request, body []byte) string {
	if s.opts.Resource == nil {
		return ""
	}
	return s.opts.Resource(req, body)
}

// cached returns the entry of key, unless reads of ctx must be fresh.
func (s *ReadSharing) cached(ctx context.Context, key string) (*CachedRead, bool) {
	if s.store == nil || freshReads(ctx) {
		return nil, false
	}
	return s.store.Get(key)
}

// serveStale answers req with e, and marks the request's answer stale.
func (s *ReadSharing) serveStale(req *http.Request, e *CachedRead) *http.Response {
	CallsFrom(req.Context()).MarkStale(time.Since(e.Fetched))
	return e.response(req)
}

// unavailable reports the failures a stale answer may stand in for: a
// refusal of the gateway's own rate limiter or an open breaker (no call
// made), a transport failure, a 429 or 5xx answer.
func unavailable(err error) bool {
	var te *TransportError
	var ue *Error
	return errors.As(err, &te) || (errors.As(err, &ue) && retryableStatus(ue.Status))
}

// fetch performs the read once for every caller sharing it.
func (s *ReadSharing) fetch(req *http.Request, reqBody []byte, gen uint64, key string) (*CachedRead, error) {
	requested := time.Now()
	resp, err := s.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readAll(resp.Body, resp.ContentLength, MaxSuccessBody) // only reads get here
	if err != nil {
		return nil, err
	}
	now := time.Now()
	e := &CachedRead{Status: resp.StatusCode, Header: resp.Header, Body: body, Requested: requested, Fetched: now}
	switch {
	case s.store == nil, len(body) > MaxSuccessBody:
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		e.Fresh, e.Keep = now.Add(s.opts.TTL), now.Add(s.opts.TTL+s.opts.StaleFor)
		s.put(req, reqBody, gen, key, e)
	case resp.StatusCode == http.StatusNotFound && s.opts.NegativeTTL > 0:
		e.Fresh = now.Add(s.opts.NegativeTTL)
		e.Keep = e.Fresh
		s.put(req, reqBody, gen, key, e)
	}
	return e, nil
}

// put stores e unless a write happened while its read was in flight.
func (s *ReadSharing) put(req *http.Request, reqBody []byte, gen uint64, key string, e *CachedRead) {
	e.Resource = s.resource(req, reqBody)
	if gen == s.gen.Load() {
		s.store.Put(key, e)
	}
}

// key hashes what identifies a read and its credential, so that no
// credential is kept in clear as a map key.
//
// The URL enters by its parts (Path and RawPath, as the request line is
// made from them), not by URL.String, which built the whole URL again for
// every call: about 4 % of the CPU of a fan-out of 26 calls (W3).
func (s *ReadSharing) key(req *http.Request, body []byte) string {
	u := req.URL
	return digest(body, req.Method, u.Scheme, u.Host, u.Path, u.RawPath, u.RawQuery, s.scope(req), req.Header.Get("Accept"))
}

// scope is the credential req reads with (ReadSharingOptions.Scope).
func (s *ReadSharing) scope(req *http.Request) string {
	if s.opts.Scope != nil {
		return s.opts.Scope(req)
	}
	return req.Header.Get("Authorization")
}

// digest is the hex SHA-256 of parts, each followed by a NUL byte, and then
// of tail.
//
// The bytes are gathered in a pooled buffer: a streaming hash allocated
// several times a key, and a buffer on the stack made the goroutines that
// make upstream calls grow their stacks (5 % of W3's CPU in copystack).
func digest(tail []byte, parts ...string) string {
	bp := digestBufs.Get().(*[]byte)
	b := (*bp)[:0]
	for _, part := range parts {
		b = append(append(b, part...), 0)
	}
	b = append(b, tail...)
	sum := sha256.Sum256(b)
	if cap(b) <= maxDigestBuf {
		*bp = b
		digestBufs.Put(bp)
	}
	return hex.EncodeToString(sum[:])
}

// maxDigestBuf is the largest buffer digest puts back in its pool.
const maxDigestBuf = 64 << 10

// digestBufs are digest's buffers.
var digestBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

type (
	freshReadsKey  struct{}
	preferStaleKey struct{}
	readPOSTKey    struct{}
)

// readPOST reports a POST ReadSharing knows only reads: the rate limiter's
// write reserve is not for it.
func readPOST(ctx context.Context) bool { return ctx.Value(readPOSTKey{}) != nil }

// WithFreshReads returns a context whose reads skip the read cache and
// join no read in flight (they still refresh the cache): a mutation reads
// the current state, without waiting behind reads.
func WithFreshReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, freshReadsKey{}, true)
}

func freshReads(ctx context.Context) bool { return ctx.Value(freshReadsKey{}) != nil }

// preferStale reports whether a read of ctx has a stale answer to fall back
// on: the rate limiter then refuses it at once rather than make it wait,
// and a 429 is not retried.
func preferStale(ctx context.Context) bool { return ctx.Value(preferStaleKey{}) != nil }

// sharedBody is the body of a shared answer: a reader of the answer's
// bytes, which ReadBody hands over without a copy (every caller only reads
// them: the answer was already read once off the connection).
type sharedBody struct {
	*bytes.Reader
	data []byte
}

// Close implements io.Closer.
func (sharedBody) Close() error { return nil }

// response gives one caller its own response of a shared answer.
func (e *CachedRead) response(req *http.Request) *http.Response {
	return &http.Response{
		Status:        strconv.Itoa(e.Status) + " " + http.StatusText(e.Status),
		StatusCode:    e.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        e.Header.Clone(),
		Body:          sharedBody{bytes.NewReader(e.Body), e.Body},
		ContentLength: int64(len(e.Body)),
		Request:       req,
	}
}
