package guard

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// transport is the gqlgen transport of a protected server. It serves only
// requests the middleware passed, from their decoded parameters (the body is
// not read twice), and answers a request gqlgen refuses before execution
// (validation, variables, complexity) with the status rule of GraphQL over
// HTTP instead of gqlgen's 422. It registers an APQ query once it passed
// validation.
type transport struct {
	schema *ast.Schema
	// deferrable are the fields the executor defers (Options).
	deferrable map[string]bool
	// cdnMaxAge is the shared caches' lifetime of answers to GETs of
	// persisted queries.
	cdnMaxAge time.Duration
}

var _ graphql.Transport = transport{}

// Supports reports whether the middleware passed the request.
func (transport) Supports(r *http.Request) bool {
	_, ok := requestFrom(r.Context())
	return ok
}

// Do runs the operation.
func (t transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	req, _ := requestFrom(r.Context())
	ctx := r.Context()
	opCtx, errs := exec.CreateOperationContext(ctx, req.params)
	if errs != nil {
		if req.persistedGET {
			setPersistedCacheControl(w.Header(), r, true, 0)
		}
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeJSON(w, req.media, statusBeforeExecution(req.media), errorResponse{Errors: resp.Errors, Extensions: resp.Extensions})
		return
	}
	if req.register != nil {
		req.register()
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if req.persistedGET {
		setPersistedCacheControl(w.Header(), r, resp == nil || len(resp.Errors) > 0, t.cdnMaxAge)
	}
	if resp != nil && resp.HasNext != nil {
		deliverDeferred(ctx, w, r, req, &shape{opCtx: opCtx, schema: t.schema, deferrable: t.deferrable}, resp, responses)
		return
	}
	writeResponse(w, req.media, resp)
}

// writeResponse sends an executed operation's response. Its data is already
// JSON written by gqlgen's marshalers, so it is copied as it is: encoding it
// with encoding/json would scan all of it again (json.RawMessage is
// re-validated and compacted), which was a tenth of the CPU of a request
// answering 100 members.
func writeResponse(w http.ResponseWriter, media string, resp *graphql.Response) {
	if resp == nil {
		writeJSON(w, media, http.StatusOK, resp)
		return
	}
	// The errors and extensions are encoded first (a failure falls back to
	// writeJSON), then the answer is written in three parts: the data as
	// it is, without a copy into a buffer of the answer's size.
	var errs, ext []byte
	if len(resp.Errors) > 0 {
		var err error
		if errs, err = json.Marshal(resp.Errors); err != nil {
			writeJSON(w, media, http.StatusOK, resp)
			return
		}
	}
	if len(resp.Extensions) > 0 {
		var err error
		if ext, err = json.Marshal(resp.Extensions); err != nil {
			writeJSON(w, media, http.StatusOK, resp)
			return
		}
	}
	head := make([]byte, 0, len(`{"errors":,"data":`)+len(errs))
	head = append(head, '{')
	if errs != nil {
		head = append(append(append(head, `"errors":`...), errs...), ',')
	}
	head = append(head, `"data":`...)
	data := []byte(resp.Data)
	if len(data) == 0 {
		data = []byte("null")
	}
	tail := make([]byte, 0, len(`,"extensions":}`)+len(ext))
	if ext != nil {
		tail = append(append(tail, `,"extensions":`...), ext...)
	}
	tail = append(tail, '}')
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	for _, part := range [][]byte{head, data, tail} {
		if _, err := w.Write(part); err != nil {
			return
		}
	}
}
