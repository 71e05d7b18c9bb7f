package genesysemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"time"
)

// maxRequestBytes is the documented request.bytes.max limit. The 413's code
// is the emulator's choice: the audit (section 2 item 9) lists "413 with
// code request.bytes.max" among the rules "the real API does not document";
// newer swaggers are said to list request.entity.too.large.
const maxRequestBytes = 512000

// handler serves one API operation: it returns the success status and body
// (nil for none; a json.RawMessage is sent as is) or an *apiError.
type handler func(r *http.Request) (status int, body any, err error)

// apiError is an answer with an ErrorBody.
type apiError struct {
	status  int
	code    string
	message string
	params  map[string]string
	details []detail
}

// Error implements error.
func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "bad.request", format, args...)
}

func invalidValue(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "invalid.value", format, args...)
}

func notFound(format string, args ...any) *apiError {
	return newError(http.StatusNotFound, "not.found", format, args...)
}

// versionConflict answers a stale version (sent) of group g in the form
// Writes.ConflictStatus selects.
func (s *Server) versionConflict(g *group, sent int) *apiError {
	switch s.currentWrites().ConflictStatus {
	case http.StatusBadRequest:
		return badRequest("The version %d does not match the current version %d", sent, g.version)
	case http.StatusRequestTimeout:
		return newError(http.StatusRequestTimeout, "client.timeout", "The request timed out")
	}
	return newError(http.StatusConflict, "general.conflict",
		"the version does not match the current version %d of group %s", g.version, g.id)
}

// api wraps an operation with what every API call goes through: the
// configured latency, bearer authentication, the permission check, rate
// limiting and the request size limit.
func (s *Server) api(permission string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.delay(r) {
			return
		}
		status, body, err := s.serve(w, r, permission, h)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, status, body)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, permission string, h handler) (int, any, error) {
	token, err := s.authenticate(r, permission)
	if err != nil {
		return 0, nil, err
	}
	if err := s.limit(w, token); err != nil {
		return 0, nil, err
	}
	if err := limitBody(r); err != nil {
		return 0, nil, err
	}
	return h(r)
}

// delay waits Options.Latency; it reports false when the client went away.
func (s *Server) delay(r *http.Request) bool {
	if s.opts.Latency <= 0 {
		return true
	}
	t := time.NewTimer(s.opts.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// limitBody refuses bodies over request.bytes.max with 413 and leaves the
// body readable again.
func limitBody(r *http.Request) error {
	tooLarge := newError(http.StatusRequestEntityTooLarge, "request.bytes.max",
		"the request is over the limit of %d bytes", maxRequestBytes)
	if r.ContentLength > maxRequestBytes {
		return tooLarge
	}
	if r.Body == nil {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		return badRequest("the request body could not be read")
	}
	if len(b) > maxRequestBytes {
		return tooLarge
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

// decodeBody reads a JSON request body into v: the content type must be
// JSON and the body one JSON value. Keys v does not name exactly are
// refused under Options.StrictBodies and ignored otherwise.
func decodeBody(r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return newError(http.StatusUnsupportedMediaType, "unsupported.media.type",
			"the request body must be application/json")
	}
	strict, _ := r.Context().Value(strictKey{}).(bool)
	return decodeValue(r.Body, v, "the request body", strict)
}

// decodeJSON reads exactly one JSON value from rd into v, refusing unknown
// fields and keys not spelt exactly as v's; what names the input in the
// error.
func decodeJSON(rd io.Reader, v any, what string) error {
	return decodeValue(rd, v, what, true)
}

// decodeValue reads exactly one JSON value from rd into v. Keys v does not
// name exactly (encoding/json would match them without regard to case) are
// refused when strict, else dropped before decoding.
func decodeValue(rd io.Reader, v any, what string, strict bool) error {
	dec := json.NewDecoder(rd)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return badRequest("%s is not valid JSON", what)
	}
	if err := dec.Decode(&json.RawMessage{}); !errors.Is(err, io.EOF) {
		return badRequest("%s holds more than one JSON value", what)
	}
	var generic any
	_ = json.Unmarshal(raw, &generic)
	if strict {
		if err := checkKeys(generic, reflect.TypeOf(v)); err != nil {
			return badRequest("%s is not valid: %v", what, err)
		}
	} else if dropUnknownKeys(generic, reflect.TypeOf(v)) {
		raw, _ = json.Marshal(generic)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return badRequest("%s is not valid: %v", what, err)
	}
	return nil
}

func correlationID(r *http.Request) string {
	id, _ := r.Context().Value(correlationKey{}).(string)
	return id
}

// writeError sends err as an ErrorBody.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = newError(http.StatusInternalServerError, "internal.server.error", "internal error")
	}
	details := ae.details
	if details == nil {
		details = []detail{}
	}
	writeJSON(w, ae.status, errorBody{
		Message: ae.message, Code: ae.code, Status: ae.status, MessageParams: ae.params,
		ContextID: correlationID(r), Details: details, Errors: []errorBody{},
	})
}

// writeJSON sends body with status; a nil body sends no content.
func writeJSON(w http.ResponseWriter, status int, body any) {
	if body == nil {
		w.WriteHeader(status)
		return
	}
	b, ok := body.(json.RawMessage)
	if !ok {
		var err error
		if b, err = json.Marshal(body); err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
