package guard

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql"
)

// transport is the gqlgen transport of a protected server. It serves only
// requests the middleware passed, from their decoded parameters (the body is
// not read twice), and answers a request gqlgen refuses before execution
// (validation, variables, complexity) with the status rule of GraphQL over
// HTTP instead of gqlgen's 422.
type transport struct{}

var _ graphql.Transport = transport{}

// Supports reports whether the middleware passed the request.
func (transport) Supports(r *http.Request) bool {
	_, ok := requestFrom(r.Context())
	return ok
}

// Do runs the operation.
func (transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	req, _ := requestFrom(r.Context())
	ctx := r.Context()
	opCtx, errs := exec.CreateOperationContext(ctx, req.params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeJSON(w, req.media, statusBeforeExecution(req.media), errorResponse{Errors: resp.Errors, Extensions: resp.Extensions})
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeJSON(w, req.media, http.StatusOK, responses(ctx))
}
