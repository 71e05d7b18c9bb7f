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

	"golang.org/x/sync/singleflight"
)

// ReadSharing is an http.RoundTripper that spends fewer upstream calls on
// reads, across requests:
//
//   - identical GET requests in flight at the same moment (same URL, same
//     credential) are sent once and every caller gets a copy of the answer
//     (golang.org/x/sync/singleflight);
//   - optionally, successful GET answers are kept for a short TTL.
//
// The key of both is a hash of the URL (which carries the Usergroup API's
// credentials) and the Authorization header (the Genesys token), so data is
// never shared across credentials. Any other method sent through the same
// transport (a write) starts a new generation: later reads neither join a
// read that began before the write nor see a cached answer from before it,
// so the gateway always reads its own writes.
type ReadSharing struct {
	next  http.RoundTripper
	ttl   time.Duration
	group singleflight.Group
	gen   atomic.Uint64

	mu    sync.Mutex
	cache map[string]sharedAnswer
}

// sharedAnswer is a read answer held in memory.
type sharedAnswer struct {
	status  int
	header  http.Header
	body    []byte
	expires time.Time
	gen     uint64
}

// maxCached bounds the cached answers; past it the cache is emptied.
const maxCached = 10_000

// NewReadSharing wraps next. With ttl > 0 successful reads are also cached
// for ttl (off by default in the gateway: see the README's staleness note).
func NewReadSharing(next http.RoundTripper, ttl time.Duration) *ReadSharing {
	return &ReadSharing{next: next, ttl: ttl, cache: map[string]sharedAnswer{}}
}

// RoundTrip implements http.RoundTripper.
func (s *ReadSharing) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		resp, err := s.next.RoundTrip(req)
		s.invalidate()
		return resp, err
	}
	gen := s.gen.Load()
	key := s.key(req, gen)
	if a, ok := s.cached(key); ok {
		return a.response(req), nil
	}
	ch := s.group.DoChan(key, func() (any, error) { return s.fetch(req, gen, key) })
	select {
	case res := <-ch:
		if res.Err != nil {
			if errors.Is(res.Err, context.Canceled) && req.Context().Err() == nil {
				// The caller that led the shared read went away; this one
				// did not, so it asks for itself.
				return s.next.RoundTrip(req)
			}
			return nil, res.Err
		}
		return res.Val.(*sharedAnswer).response(req), nil
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
}

// fetch performs the read once for every caller sharing key.
func (s *ReadSharing) fetch(req *http.Request, gen uint64, key string) (*sharedAnswer, error) {
	resp, err := s.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readAll(resp.Body, resp.ContentLength, MaxSuccessBody) // only GETs get here
	if err != nil {
		return nil, err
	}
	a := &sharedAnswer{status: resp.StatusCode, header: resp.Header, body: body, gen: gen}
	if s.ttl > 0 && resp.StatusCode >= 200 && resp.StatusCode < 300 && len(body) <= MaxSuccessBody {
		a.expires = time.Now().Add(s.ttl)
		s.store(key, *a)
	}
	return a, nil
}

func (s *ReadSharing) cached(key string) (sharedAnswer, bool) {
	if s.ttl <= 0 {
		return sharedAnswer{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.cache[key]
	if !ok || time.Now().After(a.expires) {
		delete(s.cache, key)
		return sharedAnswer{}, false
	}
	return a, true
}

func (s *ReadSharing) store(key string, a sharedAnswer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.gen != s.gen.Load() {
		return // a write happened while this read was in flight
	}
	if len(s.cache) >= maxCached {
		clear(s.cache)
	}
	s.cache[key] = a
}

// invalidate starts a new generation after a write.
func (s *ReadSharing) invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen.Add(1)
	clear(s.cache)
}

// key hashes what identifies a read and its credential, so that no
// credential is kept in clear as a map key.
func (s *ReadSharing) key(req *http.Request, gen uint64) string {
	h := sha256.New()
	_, _ = io.WriteString(h, req.URL.String())
	_, _ = h.Write([]byte{0})
	_, _ = io.WriteString(h, req.Header.Get("Authorization"))
	_, _ = h.Write([]byte{0})
	_, _ = io.WriteString(h, req.Header.Get("Accept"))
	return strconv.FormatUint(gen, 10) + ":" + hex.EncodeToString(h.Sum(nil))
}

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
func (a *sharedAnswer) response(req *http.Request) *http.Response {
	return &http.Response{
		Status:        strconv.Itoa(a.status) + " " + http.StatusText(a.status),
		StatusCode:    a.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        a.header.Clone(),
		Body:          sharedBody{bytes.NewReader(a.body), a.body},
		ContentLength: int64(len(a.body)),
		Request:       req,
	}
}
