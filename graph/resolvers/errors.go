package resolvers

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/groupdir/gateway/upstream"
)

// Error codes of the contract (extensions.code).
const (
	CodeBadUserInput        = "BAD_USER_INPUT"
	CodeUnauthenticated     = "UNAUTHENTICATED"
	CodeForbidden           = "FORBIDDEN"
	CodeNotFound            = "NOT_FOUND"
	CodeConflict            = "CONFLICT"
	CodeRateLimited         = "RATE_LIMITED"
	CodeUpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	CodeUpstreamError       = "UPSTREAM_ERROR"
	CodeQueryTooComplex     = "QUERY_TOO_COMPLEX"
	CodeInternal            = "INTERNAL"
)

// internalMessage is all a caller learns of an unexpected failure.
const internalMessage = "internal error"

// ErrorPresenter returns the one function that turns every resolver error
// into a GraphQL error with the contract's extensions.code. Upstream errors
// also carry extensions.upstream, status, correlationId and, when the
// upstream asked for a wait, retryAfter (seconds). Anything unknown becomes
// INTERNAL with a generic message and is logged once with its path.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if _, ok := gerr.Extensions["code"]; ok && gerr.Err == nil {
			return gerr // produced by gqlgen itself (parse, validation)
		}
		cause := gerr.Err
		if cause == nil {
			cause = err
		}
		code, ext, msg := classify(cause)
		switch {
		case code == CodeInternal:
			log.LogAttrs(ctx, slog.LevelError, "internal error", slog.String("path", gerr.Path.String()), slog.String("error", cause.Error()))
		case ext["upstream"] != nil:
			// What the upstream said stays here, redacted (upstream.Error's
			// text); the caller gets the gateway's own words.
			log.LogAttrs(ctx, slog.LevelInfo, "upstream error detail", slog.String("path", gerr.Path.String()),
				slog.String("code", code), slog.String("detail", upstream.Redact(cause.Error())))
		}
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		for k, v := range ext {
			gerr.Extensions[k] = v
		}
		gerr.Extensions["code"] = code
		gerr.Message = msg
		return gerr
	}
}

// classify maps an error to its code, extensions and caller-safe message.
// Messages about upstream failures are written by the gateway (Public):
// the upstream's own text, which may echo a request, never reaches callers.
func classify(err error) (code string, ext map[string]any, msg string) {
	var (
		inErr  *upstream.InputError
		upErr  *upstream.Error
		trErr  *upstream.TransportError
		limErr *upstream.CallLimitError
		gqlErr *gqlerror.Error
	)
	switch {
	case errors.As(err, &inErr) && !errors.Is(err, upstream.ErrCredentials): // else a misconfiguration: INTERNAL
		return CodeBadUserInput, map[string]any{"field": inErr.Field}, inErr.Error()
	case errors.As(err, &upErr):
		ext := map[string]any{"upstream": upErr.Upstream, "status": upErr.Status}
		var vc *versionConflict
		if errors.As(err, &vc) {
			ext["currentVersion"] = vc.current
		}
		if c := upstream.SafeCode(upErr.Code); c != "" {
			ext["upstreamCode"] = c
		}
		if id := upstream.SafeCorrelationID(upErr.CorrelationID); id != "" {
			ext["correlationId"] = id
		}
		if upErr.RetryAfter > 0 {
			ext["retryAfter"] = int(math.Ceil(upErr.RetryAfter.Seconds()))
		}
		return credentials(err, upstreamCode(upErr), ext, upErr.Public())
	case errors.As(err, &trErr):
		ext := map[string]any{"upstream": trErr.Upstream}
		if trErr.Status != 0 {
			ext["status"] = trErr.Status
		}
		if id := upstream.SafeCorrelationID(trErr.CorrelationID); id != "" {
			ext["correlationId"] = id
		}
		if trErr.OutcomeUnknown {
			ext["outcome"] = "unknown"
		}
		return credentials(err, CodeUpstreamUnavailable, ext, trErr.Public())
	case errors.As(err, &limErr):
		return CodeQueryTooComplex, map[string]any{"maxUpstreamCalls": limErr.Max}, limErr.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return CodeUpstreamUnavailable, nil, "the operation ran out of time"
	case errors.Is(err, context.Canceled):
		return CodeUpstreamUnavailable, nil, "the request was cancelled"
	case errors.As(err, &gqlErr) && gqlErr.Extensions["code"] != nil:
		code, _ := gqlErr.Extensions["code"].(string)
		return code, gqlErr.Extensions, gqlErr.Message
	}
	return CodeInternal, nil, internalMessage
}

// credentials adjusts an upstream failure that happened while the gateway
// obtained its own credentials (upstream.ErrCredentials: the Genesys token
// endpoint): the caller did nothing wrong, so it is UPSTREAM_UNAVAILABLE
// when the endpoint was unreachable, failing or throttling, and
// UPSTREAM_ERROR when it refused the gateway's client (a misconfiguration),
// never BAD_USER_INPUT or UNAUTHENTICATED.
func credentials(err error, code string, ext map[string]any, msg string) (string, map[string]any, string) {
	if !errors.Is(err, upstream.ErrCredentials) {
		return code, ext, msg
	}
	msg = "the gateway could not obtain its access token: " + msg
	if errors.Is(err, upstream.ErrUnavailable) || errors.Is(err, upstream.ErrRateLimited) {
		return CodeUpstreamUnavailable, ext, msg
	}
	return CodeUpstreamError, ext, msg
}

// upstreamCode maps an upstream HTTP status to a contract code.
func upstreamCode(e *upstream.Error) string {
	switch {
	case errors.Is(e, upstream.ErrBadRequest):
		return CodeBadUserInput
	case errors.Is(e, upstream.ErrForbidden):
		return CodeForbidden
	case errors.Is(e, upstream.ErrNotFound):
		return CodeNotFound
	case errors.Is(e, upstream.ErrConflict):
		return CodeConflict
	case errors.Is(e, upstream.ErrRateLimited):
		return CodeRateLimited
	case e.Status >= http.StatusInternalServerError:
		return CodeUpstreamUnavailable
	}
	return CodeUpstreamError
}

// versionConflict is a CONFLICT after which the gateway read the object's
// current version: the caller gets it as extensions.currentVersion, to
// merge and retry without asking.
type versionConflict struct {
	err     error
	current int
}

func (e *versionConflict) Error() string { return e.err.Error() }
func (e *versionConflict) Unwrap() error { return e.err }

// Recover turns a panic in a resolver into an INTERNAL error; the panic
// value is logged, never shown to the caller.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.LogAttrs(ctx, slog.LevelError, "resolver panic", slog.Any("panic", v))
		return errors.New(internalMessage)
	}
}
