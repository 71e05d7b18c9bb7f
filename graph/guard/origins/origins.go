// Package origins matches the browser origins allowed to call the gateway
// (CORS_ALLOWED_ORIGINS), for the guard's CORS answers and the
// authentication middleware's refusals alike.
package origins

import "strings"

// ExposeHeaders are the response headers browser code may read
// (Access-Control-Expose-Headers).
const ExposeHeaders = "X-Request-Id, Retry-After, Idempotent-Replayed, ETag, WWW-Authenticate"

// Origins are the browser origins allowed to call the endpoint: exact
// origins (scheme://host[:port]) and host patterns with any port
// (scheme://host:*).
type Origins struct {
	exact map[string]bool
	// anyPort are "scheme://host:" prefixes followed by any port.
	anyPort []string
}

// New returns the origins of list; entries ending in ":*" allow
// every port of their host.
func New(list []string) Origins {
	o := Origins{exact: map[string]bool{}}
	for _, s := range list {
		s = strings.ToLower(strings.TrimSuffix(s, "/"))
		if prefix, ok := strings.CutSuffix(s, ":*"); ok {
			o.anyPort = append(o.anyPort, prefix)
			continue
		}
		o.exact[s] = true
	}
	return o
}

// Empty reports whether no origin is allowed.
func (o Origins) Empty() bool { return len(o.exact) == 0 && len(o.anyPort) == 0 }

// Allows reports whether a request's Origin header names an allowed origin.
func (o Origins) Allows(origin string) bool {
	origin = strings.ToLower(origin)
	if o.exact[origin] {
		return true
	}
	for _, prefix := range o.anyPort {
		if rest, ok := strings.CutPrefix(origin, prefix); ok && (rest == "" || isPort(rest)) {
			return true
		}
	}
	return false
}

// isPort reports whether s is ":" followed by 1 to 5 digits.
func isPort(s string) bool {
	digits, ok := strings.CutPrefix(s, ":")
	if !ok || len(digits) == 0 || len(digits) > 5 {
		return false
	}
	return strings.Trim(digits, "0123456789") == ""
}
