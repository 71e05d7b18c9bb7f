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
	"regexp"
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
	// ErrCredentials marks a failure to obtain the gateway's own
	// credentials for an upstream (the Genesys token endpoint failed or
	// refused the client): a gateway or upstream problem, never the caller's.
	// The *Error or *TransportError of the failure is wrapped with it.
	ErrCredentials = errors.New("upstream: the gateway's credentials could not be obtained")
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

// Error implements error. The text is for logs: it holds the upstream's
// own code and message, passed through Redact; callers get Public.
func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s %s: HTTP %d", e.Upstream, e.Method, e.Path, e.Status)
	if e.Code != "" {
		s += " " + Redact(e.Code)
	}
	if e.Message != "" {
		s += ": " + Redact(e.Message)
	}
	if e.CorrelationID != "" {
		s += " (correlation id " + Redact(e.CorrelationID) + ")"
	}
	return s
}

// Public describes the failure for the gateway's callers in the gateway's
// own words: the upstream, what its status means, the status and the
// upstream's code (when it has the shape of one, see SafeCode). It never
// holds the upstream's message, a path or a query.
func (e *Error) Public() string {
	if e.Code == LocalRateLimitCode {
		return "the gateway's own rate limiter holds calls to " + e.Upstream + " back (no call made)"
	}
	meaning := statusMeaning(e.Upstream, e.Status)
	if e.Is(ErrConflict) {
		// The 400 and 408 forms of a version conflict (see Is).
		meaning = "reported a conflict with the current state"
	}
	s := e.Upstream + " " + meaning + " (HTTP " + strconv.Itoa(e.Status)
	if code := SafeCode(e.Code); code != "" {
		s += " " + code
	}
	return s + ")"
}

// statusMeaning is the fixed phrase for an upstream's error status.
func statusMeaning(upstream string, status int) string {
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return "rejected the request as invalid"
	case status == http.StatusUnauthorized:
		return "did not accept the credentials"
	case status == http.StatusForbidden:
		return "refused the operation"
	case status == http.StatusNotFound || status == http.StatusGone:
		if upstream == Usergroups {
			return "found no such user group"
		}
		return "found no such resource"
	case status == http.StatusConflict || status == http.StatusPreconditionFailed:
		return "reported a conflict with the current state"
	case status == http.StatusTooManyRequests:
		return "is rate limiting the gateway"
	case status >= 300 && status < 400:
		return "answered with a redirect, which the gateway does not follow"
	case status >= 500:
		return "failed to handle the request"
	}
	return "rejected the request"
}

// codePattern is the shape of a machine-readable upstream code
// ("general.conflict", "ArgumentException").
var codePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,63}$`)

// correlationPattern is the shape of an upstream correlation id (a UUID or
// another opaque token).
var correlationPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$`)

// SafeCode returns code when it has the shape of a machine-readable code
// (a letter, then at most 63 letters, digits, '.', '_' or '-'), else "":
// an echoing upstream cannot pass text to callers through it.
func SafeCode(code string) string {
	if codePattern.MatchString(code) {
		return code
	}
	return ""
}

// SafeCorrelationID returns id when it has the shape of a correlation id
// (letters, digits, '.', '_', ':' or '-', at most 100), else "".
func SafeCorrelationID(id string) string {
	if correlationPattern.MatchString(id) {
		return id
	}
	return ""
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

// Public describes the failure for the gateway's callers: the upstream
// and the fixed phrase of Kind, never a path.
func (e *TransportError) Public() string {
	s := e.Upstream + " could not be used: " + e.Kind
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
