// Package idempotency makes a repeated GraphQL mutation request safe. A
// client that sends an Idempotency-Key header with a mutation gets the
// first answer to that key replayed for every repeat with the same
// operation and variables, with no upstream call (the replay carries the
// header Idempotent-Replayed: true). The same key with other input is
// BAD_USER_INPUT; a repeat while the first request still runs is CONFLICT.
// Queries with the header run as usual.
//
// The answers live in a Store: MemoryStore keeps them 24 hours in the
// process; a shared store (redisstore.Idempotency, REDIS_URL) keeps them
// where every instance of the gateway sees the same keys, and detects a key
// whose instance died while running it (ErrResumed: the request runs again
// with Resumed set, to reconcile). A store that fails refuses keyed
// mutations with UPSTREAM_UNAVAILABLE rather than run them unprotected.
// Keys are scoped by Options.Scope, the caller's identity, so that two
// callers' keys never meet.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names.
const (
	// HeaderKey is the request header carrying the client's key.
	HeaderKey = "Idempotency-Key"
	// HeaderReplayed marks a replayed answer.
	HeaderReplayed = "Idempotent-Replayed"
)

// Defaults of Options.
const (
	// DefaultMaxBody bounds the request body read to fingerprint it.
	DefaultMaxBody = 1 << 20
	// DefaultMaxRecord bounds a stored answer.
	DefaultMaxRecord = 1 << 20
	// DefaultMaxRun bounds a keyed request that has no deadline of its own.
	DefaultMaxRun = time.Minute
	// maxKeyLength bounds the key (the IETF draft suggests a UUID).
	maxKeyLength = 255
)

// Options configures Middleware. Zero values take the defaults.
type Options struct {
	// Scope returns the identity of the caller of r; keys are only ever
	// matched within one scope. The default puts every caller in one scope,
	// which is right only while the gateway has no caller authentication.
	Scope func(r *http.Request) string
	// MaxBody bounds the request body read (1 MiB); set it to the GraphQL
	// handler's own body cap. A request with a larger body is passed on
	// unread, for that cap to refuse.
	MaxBody int64
	// MaxRecord bounds a stored answer (1 MiB). A larger answer is sent
	// once; its repeats get a CONFLICT saying the mutation ran.
	MaxRecord int
	// MaxRun bounds a keyed mutation (1 min), however long its context's
	// deadline: a shared store's lease on a running key must outlive it.
	MaxRun time.Duration
}

// Middleware returns the handler wrapper that applies store to keyed
// mutations.
func Middleware(store Store, o Options) func(http.Handler) http.Handler {
	if o.Scope == nil {
		o.Scope = func(*http.Request) string { return "" }
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxRecord <= 0 {
		o.MaxRecord = DefaultMaxRecord
	}
	if o.MaxRun <= 0 {
		o.MaxRun = DefaultMaxRun
	}
	return func(next http.Handler) http.Handler {
		return &middleware{store: store, opts: o, next: next}
	}
}

type middleware struct {
	store Store
	opts  Options
	next  http.Handler
}

// ServeHTTP implements http.Handler.
func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get(HeaderKey)
	if key == "" || r.Method != http.MethodPost || r.ContentLength > m.opts.MaxBody {
		m.next.ServeHTTP(w, r)
		return
	}
	if !validKey(key) {
		writeError(w, r, http.StatusBadRequest, "BAD_REQUEST", "the Idempotency-Key header must be 1 to 255 visible ASCII characters", 0)
		return
	}
	body, complete := readBody(r, m.opts.MaxBody)
	req, ok := parseRequest(body)
	if !complete || !ok || !req.isMutation() {
		m.next.ServeHTTP(w, r)
		return
	}
	fp, ok := req.fingerprint()
	if !ok {
		m.next.ServeHTTP(w, r)
		return
	}
	m.serveKeyed(w, r, storeKey(m.opts.Scope(r), key), fp)
}

// serveKeyed answers a keyed mutation: from the store, or by running it.
func (m *middleware) serveKeyed(w http.ResponseWriter, r *http.Request, key, fp string) {
	rec, err := m.store.Reserve(r.Context(), key, fp)
	switch {
	case errors.Is(err, ErrMismatch):
		writeError(w, r, http.StatusUnprocessableEntity, "BAD_USER_INPUT",
			"this Idempotency-Key was already used with another operation or other variables; use a new key", 0)
	case errors.Is(err, ErrInProgress):
		writeError(w, r, http.StatusConflict, "CONFLICT", "a request with this Idempotency-Key is still running; repeat it later", 1)
	case errors.Is(err, ErrResumed):
		m.run(w, r.WithContext(context.WithValue(r.Context(), resumedKey{}, true)), key)
	case err != nil:
		// Running the mutation without its record could run it twice.
		writeError(w, r, http.StatusServiceUnavailable, "UPSTREAM_UNAVAILABLE",
			"the Idempotency-Key cannot be honoured now (its store is unavailable); nothing was run, retry later", unavailableRetryAfter)
	case rec != nil:
		replay(w, rec)
	default:
		m.run(w, r, key)
	}
}

// unavailableRetryAfter is the Retry-After, in seconds, of a keyed request
// refused because the store failed.
const unavailableRetryAfter = 2

type resumedKey struct{}

// Resumed reports whether the request of ctx resumes an earlier request
// with the same Idempotency-Key that died before it finished (ErrResumed):
// that request may have been applied upstream, so a mutation that would
// make a second object must first look for the one it may have made.
func Resumed(ctx context.Context) bool {
	v, _ := ctx.Value(resumedKey{}).(bool)
	return v
}

// run executes the mutation that holds key and stores its answer when it
// ran. A request refused before execution (no "data" in the answer)
// releases the key: nothing changed, so it may be sent again. The mutation
// runs to its end even when the client goes away, so that the client's
// repeat finds its answer.
func (m *middleware) run(w http.ResponseWriter, r *http.Request, key string) {
	kept := context.WithoutCancel(r.Context()) // for the store, after the run's deadline too
	// Never beyond MaxRun: a shared store's lease outlives a run by no more.
	deadline := time.Now().Add(m.opts.MaxRun)
	if d, ok := r.Context().Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(kept, deadline)
	defer cancel()
	rw := &recorder{ResponseWriter: w, limit: m.opts.MaxRecord}
	stored := false
	defer func() {
		if !stored {
			_ = m.store.Release(kept, key)
		}
	}()
	m.next.ServeHTTP(rw, r.WithContext(ctx))
	if rw.executed() {
		stored = m.store.Complete(kept, key, rw.record()) == nil
	}
}

// replay writes a stored answer.
func replay(w http.ResponseWriter, rec *Record) {
	w.Header().Set("Content-Type", rec.ContentType)
	w.Header().Set(HeaderReplayed, "true")
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

// recorder passes an answer through and keeps a copy of up to limit bytes.
type recorder struct {
	http.ResponseWriter
	limit    int
	status   int
	body     bytes.Buffer
	overflow bool
}

// WriteHeader implements http.ResponseWriter.
func (rw *recorder) WriteHeader(status int) {
	if rw.status == 0 {
		rw.status = status
	}
	rw.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (rw *recorder) Write(p []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	if !rw.overflow && rw.body.Len()+len(p) <= rw.limit {
		rw.body.Write(p)
	} else {
		rw.overflow = true
	}
	return rw.ResponseWriter.Write(p)
}

// Unwrap gives http.ResponseController the underlying writer.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// executed reports whether the answer is one of an operation that ran: a
// 200 whose JSON has "data" (a request refused before execution has none).
// An answer too large to keep counts as executed.
func (rw *recorder) executed() bool {
	if rw.status != http.StatusOK {
		return false
	}
	if rw.overflow {
		return true
	}
	var out struct {
		Data json.RawMessage `json:"data"`
	}
	return json.Unmarshal(rw.body.Bytes(), &out) == nil && out.Data != nil
}

// tooLarge is what repeats get when the first answer was too large to keep.
var tooLarge = []byte(`{"errors":[{"message":"this Idempotency-Key's mutation ran; its answer was too large to keep. Read the current state instead.","extensions":{"code":"CONFLICT"}}],"data":null}`)

// record is the answer to store.
func (rw *recorder) record() Record {
	if rw.overflow {
		return Record{Status: http.StatusOK, ContentType: "application/json", Body: tooLarge}
	}
	return Record{Status: rw.status, ContentType: rw.Header().Get("Content-Type"), Body: rw.body.Bytes()}
}

// readBody reads up to limit bytes of r's body and puts back a body that
// yields the same bytes (and the same error) to the next handler. complete
// is false when the body was longer than limit or could not be read.
func readBody(r *http.Request, limit int64) (body []byte, complete bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	return b, err == nil && int64(len(b)) <= limit
}

// storeKey is the store's key for a client's key within scope: a digest,
// so that stored keys have one size and never hold the client's text.
func storeKey(scope, key string) string {
	sum := sha256.Sum256([]byte(scope + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

// validKey accepts 1 to maxKeyLength visible ASCII characters.
func validKey(k string) bool {
	if len(k) > maxKeyLength {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return false
		}
	}
	return k != ""
}

// writeError answers a request refused before execution the way the
// GraphQL-over-HTTP specification says: status with the
// application/graphql-response+json media type when the client accepts it,
// else 200 with application/json. BAD_REQUEST is always a 400.
// A positive retryAfter (seconds) is sent as the Retry-After header and as
// extensions.retryAfter.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string, retryAfter int) {
	ct := "application/graphql-response+json"
	if !strings.Contains(r.Header.Get("Accept"), ct) {
		ct = "application/json"
		if code != "BAD_REQUEST" {
			status = http.StatusOK
		}
	}
	ext := map[string]any{"code": code}
	if retryAfter > 0 {
		ext["retryAfter"] = retryAfter
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	b, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{"message": msg, "extensions": ext}}})
	w.Header().Set("Content-Type", ct+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
