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
		if code == CodeInternal {
			log.LogAttrs(ctx, slog.LevelError, "internal error", slog.String("path", gerr.Path.String()), slog.String("error", cause.Error()))
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
func classify(err error) (code string, ext map[string]any, msg string) {
	var (
		inErr  *upstream.InputError
		upErr  *upstream.Error
		trErr  *upstream.TransportError
		limErr *upstream.CallLimitError
		gqlErr *gqlerror.Error
	)
	switch {
	case errors.As(err, &inErr):
		return CodeBadUserInput, map[string]any{"field": inErr.Field}, inErr.Error()
	case errors.As(err, &upErr):
		ext := map[string]any{"upstream": upErr.Upstream, "status": upErr.Status}
		if upErr.CorrelationID != "" {
			ext["correlationId"] = upErr.CorrelationID
		}
		if upErr.RetryAfter > 0 {
			ext["retryAfter"] = int(math.Ceil(upErr.RetryAfter.Seconds()))
		}
		return upstreamCode(upErr), ext, upErr.Error()
	case errors.As(err, &trErr):
		ext := map[string]any{"upstream": trErr.Upstream}
		if trErr.Status != 0 {
			ext["status"] = trErr.Status
		}
		if trErr.CorrelationID != "" {
			ext["correlationId"] = trErr.CorrelationID
		}
		if trErr.OutcomeUnknown {
			ext["outcome"] = "unknown"
		}
		return CodeUpstreamUnavailable, ext, trErr.Error()
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

// Recover turns a panic in a resolver into an INTERNAL error; the panic
// value is logged, never shown to the caller.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.LogAttrs(ctx, slog.LevelError, "resolver panic", slog.Any("panic", v))
		return errors.New(internalMessage)
	}
}
