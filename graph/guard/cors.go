package guard

import (
	"net/http"
	"strings"
)

// CORS answers. No wildcard and no credentials are ever allowed: callers
// authenticate with the Authorization header, which needs neither.
const (
	corsMethods = "GET, POST"
	corsHeaders = "Content-Type, Authorization, Idempotency-Key, X-Request-Id"
	corsMaxAge  = "600"
)

// origins are the browser origins allowed to call the endpoint, lower-cased.
type origins map[string]bool

func newOrigins(list []string) origins {
	o := origins{}
	for _, s := range list {
		o[strings.ToLower(strings.TrimSuffix(s, "/"))] = true
	}
	return o
}

// allow marks a response as varying by Origin and, for an allowed origin,
// lets the browser read it.
func (o origins) allow(w http.ResponseWriter, r *http.Request) bool {
	if len(o) == 0 {
		return false
	}
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if !o[strings.ToLower(origin)] {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	return true
}

// preflight answers an OPTIONS request: the allowed methods, and for a CORS
// preflight from an allowed origin the methods and headers it may use. A
// disallowed origin gets no CORS header, so the browser does not send the
// request.
func preflight(w http.ResponseWriter, r *http.Request, allowedOrigin bool) {
	h := w.Header()
	h.Set("Allow", allowedMethods)
	if allowedOrigin && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
	}
	w.WriteHeader(http.StatusNoContent)
}
