package idempotency

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const mutationBody = `{"query":"mutation { m }"}`

// counting is a GraphQL handler stand-in: it counts its runs and answers
// with answer (and the body it was given).
type counting struct {
	runs   atomic.Int32
	status int
	answer string
	// gate, when set, is waited on before answering.
	gate chan struct{}
	// sawBody is the last body the handler read.
	sawBody atomic.Value
	// ctxErr is the context's error when the handler finished.
	ctxErr atomic.Value
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.runs.Add(1)
	b, _ := io.ReadAll(r.Body)
	c.sawBody.Store(string(b))
	if c.gate != nil {
		<-c.gate
	}
	c.ctxErr.Store(errString(r.Context().Err()))
	w.Header().Set("Content-Type", "application/graphql-response+json")
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, c.answer)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// serve sends one request through h.
func serve(h http.Handler, body string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func newHandler(next http.Handler, o Options) http.Handler {
	return Middleware(NewMemoryStore(MemoryOptions{}), o)(next)
}

func TestMiddlewareReplays(t *testing.T) {
	next := &counting{answer: `{"data":{"m":1}}`}
	h := newHandler(next, Options{})
	first := serve(h, mutationBody, HeaderKey, "k")
	assert.Equal(t, `{"data":{"m":1}}`, first.Body.String())
	assert.Empty(t, first.Header().Get(HeaderReplayed))
	assert.Equal(t, mutationBody, next.sawBody.Load(), "the handler reads the whole body")

	again := serve(h, mutationBody, HeaderKey, "k")
	assert.Equal(t, http.StatusOK, again.Code)
	assert.Equal(t, `{"data":{"m":1}}`, again.Body.String())
	assert.Equal(t, "true", again.Header().Get(HeaderReplayed))
	assert.Equal(t, "application/graphql-response+json", again.Header().Get("Content-Type"))
	assert.EqualValues(t, 1, next.runs.Load())
}

func TestMiddlewarePassesThrough(t *testing.T) {
	cases := map[string]struct {
		method, body string
		headers      []string
	}{
		"no key":              {http.MethodPost, mutationBody, nil},
		"a query":             {http.MethodPost, `{"query":"{ q }"}`, []string{HeaderKey, "k"}},
		"a GET":               {http.MethodGet, "", []string{HeaderKey, "k"}},
		"not GraphQL JSON":    {http.MethodPost, `mutation { m }`, []string{HeaderKey, "k"}},
		"a body over MaxBody": {http.MethodPost, `{"query":"mutation { m }","pad":"` + strings.Repeat("x", 200) + `"}`, []string{HeaderKey, "k"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			next := &counting{answer: `{"data":{}}`}
			h := newHandler(next, Options{MaxBody: 100})
			for range 2 {
				r := httptest.NewRequest(c.method, "/query", strings.NewReader(c.body))
				for i := 0; i+1 < len(c.headers); i += 2 {
					r.Header.Set(c.headers[i], c.headers[i+1])
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				assert.Empty(t, w.Header().Get(HeaderReplayed))
				assert.Equal(t, c.body, next.sawBody.Load(), "the body reaches the handler unchanged")
			}
			assert.EqualValues(t, 2, next.runs.Load())
		})
	}
}

func TestMiddlewareRefusals(t *testing.T) {
	next := &counting{answer: `{"data":{}}`}
	h := newHandler(next, Options{})
	serve(h, mutationBody, HeaderKey, "k")

	w := serve(h, `{"query":"mutation { other }"}`, HeaderKey, "k")
	assert.Equal(t, http.StatusOK, w.Code, "application/json clients get 200")
	assert.JSONEq(t, `{"errors":[{"message":"this Idempotency-Key was already used with another operation or other variables; use a new key","extensions":{"code":"BAD_USER_INPUT"}}]}`, w.Body.String())

	w = serve(h, `{"query":"mutation { other }"}`, HeaderKey, "k", "Accept", "application/graphql-response+json")
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
	assert.Contains(t, w.Header().Get("Content-Type"), "application/graphql-response+json")

	for _, key := range []string{strings.Repeat("k", 256), "with space", "tab\tkey", "é"} {
		w = serve(h, mutationBody, HeaderKey, key)
		assert.Equal(t, http.StatusBadRequest, w.Code, key)
		assert.Contains(t, w.Body.String(), "BAD_REQUEST")
	}
	assert.EqualValues(t, 1, next.runs.Load())
}

func TestMiddlewareConcurrentRepeat(t *testing.T) {
	next := &counting{answer: `{"data":{}}`, gate: make(chan struct{})}
	h := newHandler(next, Options{})
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serve(h, mutationBody, HeaderKey, "k") }()
	require.Eventually(t, func() bool { return next.runs.Load() == 1 }, 5*time.Second, time.Millisecond)

	w := serve(h, mutationBody, HeaderKey, "k", "Accept", "application/graphql-response+json")
	assert.Equal(t, http.StatusConflict, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Contains(t, w.Body.String(), `"CONFLICT"`)

	close(next.gate)
	assert.Equal(t, http.StatusOK, (<-done).Code)
	assert.Equal(t, "true", serve(h, mutationBody, HeaderKey, "k").Header().Get(HeaderReplayed))
}

func TestMiddlewareKeepsOnlyExecutedAnswers(t *testing.T) {
	for name, c := range map[string]struct {
		status int
		answer string
		kept   bool
	}{
		"executed":                   {http.StatusOK, `{"data":{"m":null},"errors":[{"message":"x"}]}`, true},
		"executed, data null":        {http.StatusOK, `{"data":null,"errors":[{"message":"x"}]}`, true},
		"refused before execution":   {http.StatusOK, `{"errors":[{"message":"x"}]}`, false},
		"refused with a 4xx":         {http.StatusBadRequest, `{"errors":[{"message":"x"}]}`, false},
		"not JSON":                   {http.StatusOK, `oops`, false},
		"too large to keep, but ran": {http.StatusOK, `{"data":{"pad":"` + strings.Repeat("x", 100) + `"}}`, true},
	} {
		t.Run(name, func(t *testing.T) {
			next := &counting{status: c.status, answer: c.answer}
			h := newHandler(next, Options{MaxRecord: 64})
			first := serve(h, mutationBody, HeaderKey, "k")
			assert.Equal(t, c.answer, first.Body.String(), "the first answer always goes out whole")
			second := serve(h, mutationBody, HeaderKey, "k")
			if !c.kept {
				assert.EqualValues(t, 2, next.runs.Load())
				return
			}
			assert.EqualValues(t, 1, next.runs.Load())
			if len(c.answer) > 64 {
				assert.Contains(t, second.Body.String(), `"CONFLICT"`, "a repeat learns that the mutation ran")
				return
			}
			assert.Equal(t, c.answer, second.Body.String())
		})
	}
}

func TestMiddlewareRunsOnWhenTheClientLeaves(t *testing.T) {
	next := &counting{answer: `{"data":{}}`, gate: make(chan struct{})}
	h := newHandler(next, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/query", strings.NewReader(mutationBody))
	r.Header.Set(HeaderKey, "k")
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), r)
		close(done)
	}()
	require.Eventually(t, func() bool { return next.runs.Load() == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	close(next.gate)
	<-done
	assert.Equal(t, "", next.ctxErr.Load(), "the mutation was not cancelled with the client")
	assert.Equal(t, "true", serve(h, mutationBody, HeaderKey, "k").Header().Get(HeaderReplayed))
}

func TestMiddlewareScopesKeys(t *testing.T) {
	next := &counting{answer: `{"data":{}}`}
	h := newHandler(next, Options{Scope: func(r *http.Request) string { return r.Header.Get("X-Caller") }})
	serve(h, mutationBody, HeaderKey, "k", "X-Caller", "alice")
	w := serve(h, mutationBody, HeaderKey, "k", "X-Caller", "bob")
	assert.Empty(t, w.Header().Get(HeaderReplayed), "bob's key is not alice's")
	w = serve(h, mutationBody, HeaderKey, "k", "X-Caller", "alice")
	assert.Equal(t, "true", w.Header().Get(HeaderReplayed))
	assert.EqualValues(t, 2, next.runs.Load())
}

func TestMiddlewareReleasesTheKeyOnPanic(t *testing.T) {
	store := NewMemoryStore(MemoryOptions{})
	h := Middleware(store, Options{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	assert.Panics(t, func() { serve(h, mutationBody, HeaderKey, "k") })
	assert.Zero(t, store.Len())
}

// scripted is a Store that answers every Reserve with err and records
// what the middleware did then.
type scripted struct {
	err                 error
	completed, released atomic.Int32
}

func (s *scripted) Reserve(context.Context, string, string) (*Record, error) { return nil, s.err }
func (s *scripted) Complete(context.Context, string, Record) error {
	s.completed.Add(1)
	return nil
}
func (s *scripted) Release(context.Context, string) error {
	s.released.Add(1)
	return nil
}

func TestAFailingStoreRefusesTheMutation(t *testing.T) {
	next := &counting{answer: `{"data":{"m":1}}`}
	h := Middleware(&scripted{err: io.ErrUnexpectedEOF}, Options{})(next)
	w := serve(h, mutationBody, HeaderKey, "k", "Accept", "application/graphql-response+json")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "2", w.Header().Get("Retry-After"))
	assert.JSONEq(t, `{"errors":[{"message":"the Idempotency-Key cannot be honoured now (its store is unavailable); nothing was run, retry later",
		"extensions":{"code":"UPSTREAM_UNAVAILABLE","retryAfter":2}}]}`, w.Body.String())
	assert.Zero(t, next.runs.Load(), "never run without its record")
}

func TestAResumedKeyRunsWithResumedSet(t *testing.T) {
	var resumed atomic.Bool
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resumed.Store(Resumed(r.Context()))
		_, _ = io.WriteString(w, `{"data":{"m":1}}`)
	})
	store := &scripted{err: ErrResumed}
	w := serve(Middleware(store, Options{})(next), mutationBody, HeaderKey, "k")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.True(t, resumed.Load(), "the mutation knows it resumes an interrupted run")
	assert.EqualValues(t, 1, store.completed.Load(), "its answer is kept")

	resumed.Store(true)
	serve(Middleware(&scripted{}, Options{})(next), mutationBody, HeaderKey, "k")
	assert.False(t, resumed.Load(), "a fresh key is no resumption")
}

func TestAKeyedRunNeverOutlivesMaxRun(t *testing.T) {
	var deadline atomic.Value
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := r.Context().Deadline()
		deadline.Store(d)
		_, _ = io.WriteString(w, `{"data":{"m":1}}`)
	})
	r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(mutationBody))
	r.Header.Set(HeaderKey, "k")
	ctx, cancel := context.WithTimeout(r.Context(), time.Hour)
	defer cancel()
	Middleware(&scripted{}, Options{MaxRun: time.Minute})(next).ServeHTTP(httptest.NewRecorder(), r.WithContext(ctx))
	assert.WithinDuration(t, time.Now().Add(time.Minute), deadline.Load().(time.Time), 10*time.Second,
		"the lease of a shared store outlives MaxRun, not the caller's longer deadline")
}
