package auth

import (
	"context"
	"net"
	"net/http"
	"strings"
)

// None is the Authenticator of AUTH_MODE=none: every request is let
// through, its caller holds every permission and is named by its client IP
// address (the subject of the per-caller limits).
type None struct {
	// TrustedProxyHops is how many proxies in front of the gateway append
	// to X-Forwarded-For. Zero (the default) ignores the header, which any
	// client can forge, and takes the connection's address; n takes the
	// n-th address from the right of the header, the one the outermost
	// trusted proxy saw.
	TrustedProxyHops int
}

var _ Authenticator = None{}

// Authenticate returns r's context with a caller that may do everything.
func (n None) Authenticate(r *http.Request) (context.Context, error) {
	return WithCaller(r.Context(), Anyone(ClientIP(r, n.TrustedProxyHops))), nil
}

// ClientIP returns the address of the client that sent r: the connection's
// peer, or, behind hops trusted proxies, the address they saw (see
// None.TrustedProxyHops). When the header has fewer entries than hops, the
// leftmost one is taken.
func ClientIP(r *http.Request, hops int) string {
	if hops > 0 {
		var addrs []string
		for _, h := range r.Header.Values("X-Forwarded-For") {
			for a := range strings.SplitSeq(h, ",") {
				addrs = append(addrs, strings.TrimSpace(a))
			}
		}
		if len(addrs) > 0 {
			return addrs[max(len(addrs)-hops, 0)]
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
