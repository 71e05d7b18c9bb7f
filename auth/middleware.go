package auth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/groupdir/gateway/graph/guard/origins"
	"github.com/groupdir/gateway/telemetry/requestid"
)

// Error codes of refused requests (the contract's extensions.code).
const (
	CodeUnauthenticated     = "UNAUTHENTICATED"
	CodeRateLimited         = "RATE_LIMITED"
	CodeUpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
)

// Authenticator checks the credential of a request.
type Authenticator interface {
	// Authenticate returns r's context with the caller (WithCaller) and
	// whatever the caller's upstream calls need, or an *Error.
	Authenticate(r *http.Request) (context.Context, error)
}

// Error is a request refused by an Authenticator: what the caller is told.
// Its text never holds the credential.
type Error struct {
	// Status is the HTTP status: 401, or 429 / 503 when the identity
	// provider (Genesys) could not be asked.
	Status int
	// Code is the extensions.code of the answer.
	Code string
	// Message is safe to show to the caller.
	Message string
	// RetryAfter, when positive, is sent as the Retry-After header.
	RetryAfter time.Duration
	// Err is the cause, for the log only.
	Err error
}

// Error returns the message shown to the caller.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// unauthenticated is a 401 with message msg, caused by err.
func unauthenticated(msg string, err error) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: msg, Err: err}
}

// Messages of 401 answers.
const (
	msgMissing = "this endpoint needs a credential: send Authorization: Bearer <token>"
	msgInvalid = "the bearer token is invalid or expired"
)

// errMissing is the answer to a request without a bearer token.
var errMissing = unauthenticated(msgMissing, nil)

// bearer returns the token of an "Authorization: Bearer <token>" header
// (the scheme is case-insensitive), or "".
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// Options configures Middleware.
type Options struct {
	// Log receives one debug line per refused request (its status, code and
	// cause, never the credential). Nil discards.
	Log *slog.Logger
	// CORSOrigins are the browser origins allowed to call the endpoint
	// (CORS_ALLOWED_ORIGINS): a refusal carries Access-Control-Allow-Origin
	// for them, so that a browser application can read the 401 and log in
	// again.
	CORSOrigins []string
}

// Middleware returns the handler wrapper that authenticates every request
// with a before passing it on. OPTIONS requests (CORS preflights, which
// carry no credential and run nothing) pass unauthenticated.
func Middleware(a Authenticator, o Options) func(http.Handler) http.Handler {
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	allowed := origins.New(o.CORSOrigins)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions {
				next.ServeHTTP(w, r)
				return
			}
			ctx, err := a.Authenticate(r)
			if err != nil {
				refuse(w, r, log, allowed, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// refuse answers a refused request: its status, a GraphQL error body with
// extensions.code, WWW-Authenticate on a 401 and Retry-After when known.
func refuse(w http.ResponseWriter, r *http.Request, log *slog.Logger, allowed origins.Origins, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = unauthenticated(msgInvalid, err)
	}
	attrs := []slog.Attr{slog.Int("status", e.Status), slog.String("code", e.Code)}
	if e.Err != nil {
		attrs = append(attrs, slog.String("cause", e.Err.Error()))
	}
	log.LogAttrs(r.Context(), slog.LevelDebug, "request refused by authentication", attrs...)
	h := w.Header()
	if origin := r.Header.Get("Origin"); !allowed.Empty() {
		h.Add("Vary", "Origin")
		if origin != "" && allowed.Allows(origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", origins.ExposeHeaders)
		}
	}
	if e.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", challenge(e))
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	ext := map[string]any{"code": e.Code}
	if id := requestid.From(r.Context()); id != "" {
		ext["requestId"] = id
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"errors": []any{map[string]any{"message": e.Message, "extensions": ext}}})
}

// challenge is the WWW-Authenticate value of a 401 (RFC 6750): a bare
// challenge when no credential was sent, invalid_token otherwise.
func challenge(e *Error) string {
	if e == errMissing {
		return `Bearer realm="graphql"`
	}
	return `Bearer realm="graphql", error="invalid_token", error_description="` + e.Message + `"`
}
