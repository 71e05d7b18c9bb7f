// Package upstream holds what the gateway's REST clients share: the error
// type every upstream failure is reported as, the sentinels callers match
// with errors.Is, the hardened HTTP client both clients are built on, and the
// id-shape check that keeps hostile path parameters away from the network.
//
// The per-API clients live in the sub-packages genesys and usergroups; their
// in-memory emulators live beside them.
package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Names of the upstreams, as reported in Error.Upstream and in the
// GraphQL errors' extensions.upstream.
const (
	Genesys    = "genesys"
	Usergroups = "usergroups"
)

// Sentinels that an *Error (or a *TransportError) matches with errors.Is.
var (
	ErrBadRequest   = errors.New("upstream: bad request")
	ErrUnauthorized = errors.New("upstream: unauthorized")
	ErrForbidden    = errors.New("upstream: forbidden")
	ErrNotFound     = errors.New("upstream: not found")
	ErrConflict     = errors.New("upstream: conflict")
	ErrRateLimited  = errors.New("upstream: rate limited")
	// ErrUnavailable matches 5xx answers, a 408 that is not a version
	// conflict (see Error.VersionedWrite), transport failures and answers
	// that could not be decoded: the upstream did not do its job.
	ErrUnavailable = errors.New("upstream: unavailable")
	// ErrInvalidInput is returned before any request is built when an
	// argument (an id in a path, a page size) has the wrong shape. It costs
	// no upstream call.
	ErrInvalidInput = errors.New("upstream: invalid input")
)

// Error is an answer from an upstream that was not a success. It is built in
// one place per client (checkResponse) and never carries a URL, a token or a
// credential: only what the upstream said about the failure.
type Error struct {
	// Upstream is Genesys or Usergroups.
	Upstream string
	// Method and Path name the operation (path without query string).
	Method, Path string
	// Status is the HTTP status code of the answer.
	Status int
	// Code is the upstream's machine-readable error code, if it gave one
	// (Genesys ErrorBody.code, Usergroup ResponseStatus.ErrorCode).
	Code string
	// Message is the upstream's human-readable message, truncated.
	Message string
	// CorrelationID is the upstream's id for this call, if it gave one.
	CorrelationID string
	// RetryAfter is the wait the upstream asked for (429, 503), or zero.
	RetryAfter time.Duration
	// VersionedWrite marks the answer to a write that Genesys guards with
	// the group's version and that its own Terraform provider retries on a
	// version mismatch: PUT group, POST and DELETE members, DELETE group.
	// On those (only) a 408 counts as a version conflict, as Terraform's
	// IsVersionMismatch counts it; elsewhere a 408 is ErrUnavailable.
	VersionedWrite bool
}

// versionMismatchText is what Genesys says when it answers a stale version
// with 400 instead of 409 ("The version 3 does not match the current
// version 4"); Terraform's IsVersionMismatch looks for the same text.
const versionMismatchText = "does not match the current version"

// versionMismatch reports a Genesys 400 that is a version conflict.
func (e *Error) versionMismatch() bool {
	return e.Upstream == Genesys && e.Status == http.StatusBadRequest && strings.Contains(e.Message, versionMismatchText)
}

// Error implements error.
func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s %s: HTTP %d", e.Upstream, e.Method, e.Path, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.CorrelationID != "" {
		s += " (correlation id " + e.CorrelationID + ")"
	}
	return s
}

// Is maps the HTTP status to the package sentinels. A version conflict
// comes in three forms (Genesys' Terraform provider, util_retries.go
// IsVersionMismatch): 409, 400 whose message says the version does not
// match, and 408 on a VersionedWrite. All three are ErrConflict, and the
// 400 form is not ErrBadRequest.
func (e *Error) Is(target error) bool {
	timeout := e.Status == http.StatusRequestTimeout
	switch target {
	case ErrBadRequest:
		return (e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity) && !e.versionMismatch()
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound || e.Status == http.StatusGone
	case ErrConflict:
		return e.Status == http.StatusConflict || e.Status == http.StatusPreconditionFailed ||
			e.versionMismatch() || (timeout && e.VersionedWrite)
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.Status >= 500 || e.Status < 200 || (e.Status >= 300 && e.Status < 400) || (timeout && !e.VersionedWrite)
	}
	return false
}

// TransportError is a call that got no usable HTTP answer: the connection
// failed, timed out or was reset, or the answer could not be read or decoded.
// Its text names the operation and the host, never the query string (where
// the Usergroup IntegrationKey travels) nor any header.
type TransportError struct {
	Upstream     string
	Method, Path string
	// Kind is a short fixed description: "timeout", "connection refused",
	// "connection reset", "body too large", "invalid response body", ...
	Kind string
	// OutcomeUnknown is true when the request may have reached the upstream
	// and been applied (the connection broke after the request was sent).
	// Writes with an unknown outcome must not be retried blindly.
	OutcomeUnknown bool
	// Timeout reports whether the failure was a deadline.
	Timeout bool
	// Status is the HTTP status, when an answer arrived but its body was
	// unusable; zero otherwise.
	Status int
	// CorrelationID is the upstream's id for this call, when known.
	CorrelationID string
}

// Error implements error.
func (e *TransportError) Error() string {
	s := fmt.Sprintf("%s: %s %s: %s", e.Upstream, e.Method, e.Path, e.Kind)
	if e.Status != 0 {
		s += " (HTTP " + strconv.Itoa(e.Status) + ")"
	}
	return s
}

// Is reports ErrUnavailable for every transport failure.
func (e *TransportError) Is(target error) bool { return target == ErrUnavailable }

// InputError is an argument rejected before any request was built.
type InputError struct {
	// Field names the argument, e.g. "groupId".
	Field string
	// Reason is a fixed, caller-safe description.
	Reason string
}

// Error implements error.
func (e *InputError) Error() string { return e.Field + ": " + e.Reason }

// Is reports ErrInvalidInput.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }
