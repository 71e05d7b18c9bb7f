package upstream

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Body caps, from design/hardening.md.
const (
	// MaxSuccessBody caps a success body; a larger one is a TransportError.
	MaxSuccessBody = 5 << 20
	// MaxErrorBody caps how much of an error body is read.
	MaxErrorBody = 64 << 10
	// readBufferSize is each upstream connection's read buffer: an answer
	// of up to about this size (a page of 25 members is 17 KB) is read in
	// one system call rather than through net/http's default 4 KB buffer
	// (on the harness's W3, 0.9 reads per call instead of 1.8). It costs
	// 28 KB more per open connection (at most MaxConnsPerHost per host).
	readBufferSize = 32 << 10
)

// ClientOptions tunes NewHTTPClient. Zero values take the defaults.
type ClientOptions struct {
	// Timeout bounds one attempt, from dial to the end of the body (10 s).
	Timeout time.Duration
	// DialTimeout bounds connecting (3 s).
	DialTimeout time.Duration
	// MaxConnsPerHost bounds the connections to one upstream host (64).
	MaxConnsPerHost int
	// Transport, when set, wraps the pooled transport (metrics, tracing,
	// call accounting). It receives the base transport and returns the one
	// to use.
	Wrap func(http.RoundTripper) http.RoundTripper
	// Resilience, when set, goes around the (wrapped) transport: retries,
	// circuit breaker, rate limiter and concurrency bound, so Wrap sees
	// every attempt. Timeout then bounds each attempt rather than the whole
	// call.
	Resilience *Resilience
	// Outer, when set, wraps the whole stack, Resilience included. A layer
	// that can answer without a call (read sharing, a cache) belongs here,
	// so that what it saves costs no rate-limit token, concurrency slot or
	// retry.
	Outer func(http.RoundTripper) http.RoundTripper
}

// NewHTTPClient returns the HTTP client every upstream client uses: pooled
// keep-alive connections sized for concurrent fan-out, bounded timeouts, and
// redirects never followed (a 307/308 would re-send a POST body, credentials
// included, to another host; a 3xx answer surfaces as an error instead).
func NewHTTPClient(o ClientOptions) *http.Client {
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 3 * time.Second
	}
	if o.MaxConnsPerHost == 0 {
		o.MaxConnsPerHost = 64
	}
	dialer := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	var rt http.RoundTripper = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   o.DialTimeout,
		MaxIdleConns:          4 * o.MaxConnsPerHost,
		MaxIdleConnsPerHost:   o.MaxConnsPerHost,
		MaxConnsPerHost:       o.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: o.Timeout,
		ExpectContinueTimeout: time.Second,
		ReadBufferSize:        readBufferSize,
	}
	if o.Wrap != nil {
		rt = o.Wrap(rt)
	}
	timeout := o.Timeout
	if o.Resilience != nil {
		// http.Client.Timeout would bound every attempt and wait together.
		rt, timeout = o.Resilience.transport(rt, o.Timeout), 0
	}
	if o.Outer != nil {
		rt = o.Outer(rt)
	}
	return &http.Client{
		Transport: rt,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Send performs req with hc and rewrites any transport failure into a
// *TransportError that names upstream, method and path only. It records
// whether the request was written before the failure, so a write whose
// outcome is unknown is reported as such (OutcomeUnknown) and not retried.
// An *Error, *TransportError or *CallLimitError that the transport itself
// returned (a Resilience refusing the call) is returned as it is.
func Send(hc *http.Client, upstreamName string, req *http.Request) (*http.Response, error) {
	var wrote atomic.Bool
	if !idempotent(req.Method) {
		// Only a write's failure depends on whether the request went out:
		// a read is not traced (a request copy, a context and a trace less
		// per call).
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) }}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	}
	resp, err := hc.Do(req)
	if err == nil {
		return resp, nil
	}
	var ue *Error
	if errors.As(err, &ue) {
		return nil, ue
	}
	var refused *TransportError
	if errors.As(err, &refused) {
		return nil, refused
	}
	var capped *CallLimitError
	if errors.As(err, &capped) {
		return nil, capped
	}
	te := &TransportError{Upstream: upstreamName, Method: req.Method, Path: req.URL.Path, Kind: describe(err)}
	te.Timeout = isTimeout(err)
	te.OutcomeUnknown = wrote.Load() && !idempotent(req.Method)
	if ctxErr := req.Context().Err(); ctxErr != nil && errors.Is(ctxErr, context.Canceled) {
		te.Kind = "request cancelled"
	}
	return nil, te
}

// idempotent reports whether repeating method cannot change the outcome.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodDelete:
		return true
	}
	return false
}

// describe turns a transport error into a short fixed phrase. It never
// returns err.Error(), which for a *url.Error holds the full URL.
func describe(err error) string {
	switch {
	case isTimeout(err):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection reset"
	case errors.Is(err, context.Canceled):
		return "request cancelled"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "host not found"
	}
	var tlsErr *tls.CertificateVerificationError
	if errors.As(err, &tlsErr) {
		return "TLS certificate not trusted"
	}
	return "connection failed"
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ReadBody reads at most limit bytes of resp's body and closes it. A body
// longer than limit is an error (*TransportError with Kind "body too large").
// The bytes of an answer shared by ReadSharing are returned as they are,
// not copied: the caller must not modify them.
func ReadBody(upstreamName string, resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	length := resp.ContentLength
	if resp.Request.Method == http.MethodHead {
		length = 0 // a HEAD answer announces the length of a body it does not send
	}
	var b []byte
	var err error
	if sb, ok := resp.Body.(sharedBody); ok {
		b = sb.data
	} else {
		b, err = readAll(resp.Body, length, limit)
	}
	te := &TransportError{Upstream: upstreamName, Method: resp.Request.Method, Path: resp.Request.URL.Path, Status: resp.StatusCode}
	switch {
	case err != nil:
		te.Kind, te.Timeout = "reading the body: "+describe(err), isTimeout(err)
		return nil, te
	case int64(len(b)) > limit:
		te.Kind = "body too large"
		return nil, te
	}
	return b, nil
}

// readAll reads at most limit+1 bytes of r. When the length is announced it
// reads into one buffer of that size instead of growing one step by step
// (upstream pages are large: this was the gateway's largest allocation).
// When it is not (a compressed or chunked answer), it reads into a pooled
// buffer and returns a copy of the body's length: one allocation, where
// io.ReadAll's growth allocated and copied about twice the body.
func readAll(r io.Reader, length, limit int64) ([]byte, error) {
	if length < 0 || length > limit {
		buf := bodyBuffers.Get().(*bytes.Buffer)
		_, err := buf.ReadFrom(io.LimitReader(r, limit+1))
		b := bytes.Clone(buf.Bytes())
		if buf.Reset(); buf.Cap() <= maxPooledBody {
			bodyBuffers.Put(buf)
		}
		return b, err
	}
	b := make([]byte, length, length+1)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	// A body longer than announced is read on, within the limit (the
	// spare byte tells, without io.ReadAll's buffer for the common case).
	switch n, err := io.ReadFull(r, b[length:length+1]); {
	case n == 0 && err == io.EOF:
		return b, nil
	case err != nil:
		return nil, err
	}
	rest, err := io.ReadAll(io.LimitReader(r, limit-length))
	return append(b[:length+1], rest...), err
}

// bodyBuffers are readAll's buffers for bodies of unknown length.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer kept in bodyBuffers (a page of 100
// users is about 70 KB): a rare larger body's buffer is left to the GC.
const maxPooledBody = 256 << 10

// RetryAfter parses a Retry-After header in seconds or as an HTTP date.
// It returns zero when the header is absent or malformed.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
