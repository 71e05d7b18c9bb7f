package guard

import (
	"net/http"
	"strings"

	"github.com/groupdir/gateway/graph/guard/origins"
)

// CORS answers. No wildcard and no credentials are ever allowed: callers
// authenticate with the Authorization header, which needs neither.
const (
	corsMethods = "GET, POST"
	corsMaxAge  = "600"
)

// DefaultCORSHeaders are the request headers a browser application may
// send: the JSON body and credentials, W3C trace context, Sentry's tracing
// headers, Apollo's client awareness and CSRF-prevention headers, and the
// gateway's own.
var DefaultCORSHeaders = []string{
	"Content-Type", "Authorization",
	"traceparent", "tracestate",
	"sentry-trace", "baggage",
	"apollographql-client-name", "apollographql-client-version", "apollo-require-preflight",
	"Idempotency-Key", "X-Request-Id",
}

// cors answers the CORS side of requests.
type cors struct {
	origins origins.Origins
	// headers is the Access-Control-Allow-Headers value.
	headers string
}

func newCORS(allowed, headers []string) cors {
	if headers == nil {
		headers = DefaultCORSHeaders
	}
	return cors{origins: origins.New(allowed), headers: strings.Join(headers, ", ")}
}

// allow marks a response as varying by Origin and, for an allowed origin,
// lets the browser read it and the headers of origins.ExposeHeaders.
func (c cors) allow(w http.ResponseWriter, r *http.Request) bool {
	if c.origins.Empty() {
		return false
	}
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || !c.origins.Allows(origin) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Expose-Headers", origins.ExposeHeaders)
	return true
}

// preflight answers an OPTIONS request: the allowed methods, and for a CORS
// preflight from an allowed origin the methods and headers it may use. A
// disallowed origin gets no CORS header, so the browser does not send the
// request.
func (c cors) preflight(w http.ResponseWriter, r *http.Request, allowedOrigin bool) {
	h := w.Header()
	h.Set("Allow", allowedMethods)
	if allowedOrigin && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", c.headers)
		h.Set("Access-Control-Max-Age", corsMaxAge)
	}
	w.WriteHeader(http.StatusNoContent)
}
