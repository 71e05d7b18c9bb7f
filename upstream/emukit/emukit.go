// Package emukit is what the in-memory emulators of the upstream APIs share:
// call accounting (calls per route, ids per call, most in flight at once, the
// headers each call carried) and programmable fault injection per route
// (status with Retry-After, latency, connection reset before or after a write
// is applied, truncated, non-JSON or oversized bodies, redirects).
//
// An emulator registers its handlers through Kit.Handle with Go ServeMux
// patterns such as "GET /api/v2/groups/{groupId}"; that pattern is the route
// name used for accounting and faults.
package emukit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxRecorded bounds the calls kept for inspection.
const maxRecorded = 100_000

// Fault is a programmed answer for one route. Exactly one of the behaviours
// is normally set; Latency combines with any of them.
type Fault struct {
	// Status, when non-zero, answers with this status and Body instead of
	// running the handler (the write is not applied).
	Status int
	// RetryAfter, when set, is sent as the Retry-After header with Status.
	RetryAfter string
	// Body is sent with Status; when empty a JSON error body is made. Each
	// EchoRequest in it is replaced by the request, as an upstream that
	// echoes it would: method, URL with its query, Authorization header and
	// body, escaped for a JSON string.
	Body string
	// Latency delays the answer (or the fault). The wait ends early when the
	// client goes away.
	Latency time.Duration
	// ResetBeforeApply closes the connection without answering and without
	// running the handler.
	ResetBeforeApply bool
	// ResetAfterApply runs the handler (the write is applied) and then closes
	// the connection without answering.
	ResetAfterApply bool
	// Truncate runs the handler and sends only the first half of its body.
	Truncate bool
	// HTML runs nothing and answers 200 with an HTML page.
	HTML bool
	// OversizeBytes, when positive, answers 200 with a JSON body this long.
	OversizeBytes int
	// RedirectTo answers 307 with this Location.
	RedirectTo string
	// Times is how many calls the fault applies to; zero means every call.
	Times int
}

// Call is one request the emulator received.
type Call struct {
	// Route is the ServeMux pattern that matched, e.g. "GET /api/v2/groups".
	Route  string
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	// IDs is the number of ids the call named (repeated or comma-separated
	// id, jabberId, ids and Id query parameters).
	IDs int
	// Body is the request body (at most 1 MiB kept).
	Body []byte
}

// Kit holds the accounting and the faults of one emulator. Its zero value is
// not usable: call New.
type Kit struct {
	mux *http.ServeMux

	mu          sync.Mutex
	faults      map[string][]*Fault
	calls       []Call
	noDetails   bool
	perRoute    map[string]int
	inFlight    int
	maxInFlight int
}

// New returns an empty Kit.
func New() *Kit {
	return &Kit{mux: http.NewServeMux(), faults: map[string][]*Fault{}, perRoute: map[string]int{}}
}

// Handle registers h for the ServeMux pattern, wrapped with accounting and
// fault injection.
func (k *Kit) Handle(pattern string, h http.HandlerFunc) {
	k.mux.Handle(pattern, k.wrap(pattern, h))
}

// ServeHTTP serves the registered routes.
func (k *Kit) ServeHTTP(w http.ResponseWriter, r *http.Request) { k.mux.ServeHTTP(w, r) }

// Inject programs f for route (a pattern given to Handle). Faults of one
// route apply in the order they were injected.
func (k *Kit) Inject(route string, f Fault) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fc := f
	k.faults[route] = append(k.faults[route], &fc)
}

// ClearFaults removes every programmed fault.
func (k *Kit) ClearFaults() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.faults = map[string][]*Fault{}
}

// Reset forgets the recorded calls and the in-flight maximum.
func (k *Kit) Reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls, k.perRoute, k.maxInFlight = nil, map[string]int{}, k.inFlight
}

// KeepDetails says whether each call's details (headers, query, body) are
// kept for Calls; counts are always kept. A long-running emulator (demo
// mode) turns it off, so it holds no bearer token and grows no memory.
func (k *Kit) KeepDetails(keep bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.noDetails = !keep
	if !keep {
		k.calls = nil
	}
}

// Calls returns a copy of the recorded calls, oldest first.
func (k *Kit) Calls() []Call {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Call(nil), k.calls...)
}

// Count returns the calls received on route; with route "" every call.
func (k *Kit) Count(route string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if route == "" {
		n := 0
		for _, c := range k.perRoute {
			n += c
		}
		return n
	}
	return k.perRoute[route]
}

// CountsByRoute returns the calls received per route.
func (k *Kit) CountsByRoute() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := make(map[string]int, len(k.perRoute))
	for r, c := range k.perRoute {
		m[r] = c
	}
	return m
}

// MaxInFlight returns the most calls that were being served at once since
// the last Reset.
func (k *Kit) MaxInFlight() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.maxInFlight
}

func (k *Kit) wrap(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := k.record(route, r)
		defer k.done()
		r.Body = readCloser{bytes.NewReader(body)}
		f := k.nextFault(route)
		if f == nil {
			h(w, r)
			return
		}
		if f.Latency > 0 {
			select {
			case <-time.After(f.Latency):
			case <-r.Context().Done():
				return
			}
		}
		apply(f, w, r, h)
	})
}

// apply answers r according to f.
func apply(f *Fault, w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	switch {
	case f.ResetBeforeApply:
		reset(w)
	case f.ResetAfterApply:
		h(httptest.NewRecorder(), r)
		reset(w)
	case f.Status != 0:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		body := strings.ReplaceAll(f.Body, EchoRequest, echo(r))
		if body == "" {
			body = `{"message":"injected fault","code":"injected.fault","status":` + strconv.Itoa(f.Status) + `}`
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(body))
	case f.Truncate:
		rec := httptest.NewRecorder()
		h(rec, r)
		b := rec.Body.Bytes()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(b[:len(b)/2])
	case f.HTML:
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body><h1>Service temporarily unavailable</h1></body></html>"))
	case f.OversizeBytes > 0:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"pad":"` + strings.Repeat("x", f.OversizeBytes) + `"}`))
	case f.RedirectTo != "":
		http.Redirect(w, r, f.RedirectTo, http.StatusTemporaryRedirect)
	default:
		h(w, r)
	}
}

// EchoRequest is the placeholder of Fault.Body replaced by the request.
const EchoRequest = "{{request}}"

// echo is r as text (the body was kept by record), escaped for a JSON string.
func echo(r *http.Request) string {
	body, _ := io.ReadAll(r.Body)
	text, _ := json.Marshal(r.Method + " " + r.URL.RequestURI() + " Authorization: " + r.Header.Get("Authorization") +
		" " + string(body))
	return string(text[1 : len(text)-1])
}

// reset closes the client connection without an answer.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func (k *Kit) nextFault(route string) *Fault {
	k.mu.Lock()
	defer k.mu.Unlock()
	fs := k.faults[route]
	if len(fs) == 0 {
		return nil
	}
	f := fs[0]
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			k.faults[route] = fs[1:]
		}
	}
	return f
}

func (k *Kit) record(route string, r *http.Request) []byte {
	var buf bytes.Buffer
	if r.Body != nil {
		_, _ = buf.ReadFrom(http.MaxBytesReader(nil, r.Body, 1<<20))
	}
	c := Call{Route: route, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Header: r.Header.Clone(), IDs: countIDs(r.URL.Query()), Body: buf.Bytes()}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.noDetails && len(k.calls) < maxRecorded {
		k.calls = append(k.calls, c)
	}
	k.perRoute[route]++
	k.inFlight++
	k.maxInFlight = max(k.maxInFlight, k.inFlight)
	return c.Body
}

func (k *Kit) done() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.inFlight--
}

// countIDs counts the ids a query names, in repeated or comma-joined form.
func countIDs(q url.Values) int {
	n := 0
	for _, key := range []string{"id", "jabberId", "ids", "Id"} {
		for _, v := range q[key] {
			if v != "" {
				n += strings.Count(v, ",") + 1
			}
		}
	}
	return n
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
