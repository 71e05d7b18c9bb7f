// Package auth tells who calls the gateway and what the caller may do.
//
// An Authenticator checks the credential of a request; Middleware runs it
// in front of the GraphQL endpoint, answers a missing, expired or forged
// credential with HTTP 401 and code UNAUTHENTICATED before any other work,
// and puts the Caller in the request's context (CallerFrom). There is one
// Authenticator per AUTH_MODE:
//
//   - None: every caller holds every permission; the subject is the client
//     IP address.
//   - JWT: a Bearer JWT verified against a JWKS (issuer, audience, expiry
//     with a small clock skew, asymmetric algorithms only); the permissions
//     come from a configured claim and the space-separated scope.
//   - Genesys: the caller's own Genesys access token, whose user and
//     permissions come from GET /api/v2/users/me?expand=authorization
//     (cached briefly, keyed by a hash of the token); the request's Genesys
//     calls are then made with that token (genesys.WithCallerToken), never
//     with the gateway's.
//
// No token is ever logged, kept in clear as a map key, or repeated in an
// error.
package auth

import (
	"context"
	"slices"
	"strings"
)

// The authentication modes (AUTH_MODE).
const (
	ModeNone    = "none"
	ModeJWT     = "jwt"
	ModeGenesys = "genesys"
)

// Caller is the authenticated sender of a request.
type Caller struct {
	// Subject identifies the caller for per-caller limits and idempotency
	// keys: the JWT sub, the Genesys user id, or the client IP address.
	Subject string
	// permissions are the permissions the caller holds, possibly with "*"
	// segments ("directory:group:*", "directory:*:*").
	permissions []string
	// all is true when the caller holds every permission (AUTH_MODE=none).
	all bool
}

// NewCaller returns a caller holding exactly permissions.
func NewCaller(subject string, permissions []string) *Caller {
	return &Caller{Subject: subject, permissions: slices.Clone(permissions)}
}

// Anyone returns a caller holding every permission (AUTH_MODE=none).
func Anyone(subject string) *Caller {
	return &Caller{Subject: subject, all: true}
}

// Permissions returns the permissions the caller holds (nil for a caller
// made by Anyone, which holds them all).
func (c *Caller) Permissions() []string { return slices.Clone(c.permissions) }

// HasAny reports whether the caller holds at least one of wanted. A held
// permission matches a wanted one segment by segment (segments split at
// ':'), where a held "*" segment matches any segment; a held "*" alone
// matches everything.
func (c *Caller) HasAny(wanted ...string) bool {
	if c == nil {
		return false
	}
	if c.all {
		return true
	}
	for _, w := range wanted {
		for _, p := range c.permissions {
			if grants(p, w) {
				return true
			}
		}
	}
	return false
}

// grants reports whether the held permission p grants w.
func grants(p, w string) bool {
	if p == "*" || p == w {
		return true
	}
	ps, ws := strings.Split(p, ":"), strings.Split(w, ":")
	if len(ps) != len(ws) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != ws[i] {
			return false
		}
	}
	return true
}

type callerKey struct{}

// WithCaller returns a context carrying c.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller WithCaller put in ctx, or nil when the
// request was not authenticated (a nil *Caller holds no permission).
func CallerFrom(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerKey{}).(*Caller)
	return c
}
