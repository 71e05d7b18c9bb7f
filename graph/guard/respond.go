package guard

import (
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/groupdir/gateway/telemetry/requestid"
)

// Error codes of the refusals (the contract's extensions.code).
const (
	CodeBadRequest       = "BAD_REQUEST"
	CodePayloadTooLarge  = "PAYLOAD_TOO_LARGE"
	CodeParseFailed      = errcode.ParseFailed
	CodeValidationFailed = errcode.ValidationFailed
	CodeQueryTooComplex  = "QUERY_TOO_COMPLEX"
)

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
	allowedMethods       = "GET, POST, OPTIONS"
	// internalEncodingError is sent when an answer cannot be encoded.
	internalEncodingError = `{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`
)

// The fixed messages of refused HTTP requests. None repeats any part of the
// request.
const (
	msgMethod         = "use GET (queries) or POST (JSON body) on this endpoint"
	msgMediaType      = "a POST body must be JSON, with Content-Type: application/json"
	msgUnreadable     = "the request body could not be read"
	msgNotJSON        = "the request body is not valid JSON"
	msgBatch          = "batched requests (a JSON array) are not supported: send one operation per request"
	msgNotObject      = "the request body must be a JSON object {query, operationName, variables, extensions}"
	msgFieldTypes     = "query and operationName must be strings, variables and extensions JSON objects"
	msgTrailing       = "the request body holds data after its JSON object"
	msgDuplicateName  = "the request repeats a name, or has two names that differ only in case"
	msgNoQuery        = "the request has no query"
	msgQueryString    = "the query string could not be parsed"
	msgGETQueriesOnly = "GET serves queries only: send mutations with POST"
)

// refusal is a request refused before execution.
type refusal struct {
	// status is the HTTP status; zero means the GraphQL-over-HTTP rule for
	// documents refused before execution (400 or 200 by the Accept header).
	status int
	// allow is the Allow header of a 405.
	allow string
	// retryAfter, when positive, is the Retry-After header (seconds).
	retryAfter int
	errs       gqlerror.List
}

func badRequest(status int, msg string) *refusal {
	return &refusal{status: status, errs: gqlerror.List{coded(msg, CodeBadRequest)}}
}

func methodNotAllowed(allow, msg string) *refusal {
	r := badRequest(http.StatusMethodNotAllowed, msg)
	r.allow = allow
	return r
}

func tooLarge(limit int64) *refusal {
	msg := "the request body is larger than " + strconv.FormatInt(limit, 10) + " bytes"
	return &refusal{status: http.StatusRequestEntityTooLarge, errs: gqlerror.List{coded(msg, CodePayloadTooLarge)}}
}

// documentRefused is a document refused by the pre-validation pass: errs
// get code and keep their messages and locations.
func documentRefused(code string, errs ...*gqlerror.Error) *refusal {
	for _, e := range errs {
		if e.Extensions == nil {
			e.Extensions = map[string]any{}
		}
		e.Extensions["code"] = code
	}
	return &refusal{errs: errs}
}

// overLimit is a document over one of the limits: QUERY_TOO_COMPLEX with
// extensions.limit naming it and extensions.max its value.
func overLimit(limit string, max int, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": CodeQueryTooComplex, "limit": limit, "max": max}}
}

func coded(msg, code string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// errorResponse is a response with errors and, as GraphQL over HTTP wants
// for a request refused before execution, no data entry.
type errorResponse struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// refuse answers a refused request and logs its code at debug level.
func refuse(log *slog.Logger, w http.ResponseWriter, r *http.Request, media string, ref *refusal) {
	status := ref.status
	if status == 0 {
		status = statusBeforeExecution(media)
	}
	if ref.allow != "" {
		w.Header().Set("Allow", ref.allow)
	}
	if ref.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ref.retryAfter))
	}
	attrs := []slog.Attr{slog.Int("status", status), slog.Any("code", ref.errs[0].Extensions["code"])}
	if limit, ok := ref.errs[0].Extensions["limit"]; ok {
		attrs = append(attrs, slog.Any("limit", limit))
	}
	log.LogAttrs(r.Context(), slog.LevelDebug, "graphql request refused", attrs...)
	if id := requestid.From(r.Context()); id != "" {
		for _, e := range ref.errs {
			e.Extensions["requestId"] = id
		}
	}
	writeJSON(w, media, status, errorResponse{Errors: ref.errs})
}

// writeJSON sends v as the answer.
func writeJSON(w http.ResponseWriter, media string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(internalEncodingError)
	}
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// negotiate picks the response media type: application/graphql-response+json
// when the client accepts it, application/json otherwise (including when it
// sends no Accept header, as legacy clients do).
func negotiate(accept string) string {
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != mediaGraphQLResponse {
			continue
		}
		if q, err := strconv.ParseFloat(params["q"], 64); err == nil && q == 0 {
			continue
		}
		return mediaGraphQLResponse
	}
	return mediaJSON
}

// statusBeforeExecution is the status of a well-formed request whose
// document is refused before execution (parse, validation, limits).
func statusBeforeExecution(media string) int {
	if media == mediaGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}
