package graph

import (
	"bytes"
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// execDeferred runs a query with deferred fragments as the generated Exec
// does, except that waiting for the next deferred payload ends with the
// request's context.
//
// The generated response handler waits for the next payload on its channel
// unconditionally, while gqlgen drops a payload that completes after the
// context ended (its send gives up on ctx.Done). A request cancelled (client
// gone, deadline passed) with payloads pending could so leave its reader
// blocked forever: a goroutine and the operation's data leaked per request,
// which a client could repeat at will. Here both sides give up on the same
// context.
//
// It leaves out the generated Exec's input-unmarshaler index, which only
// graphql.UnmarshalNamedInputFromContext reads and nothing here calls.
func (s *directSchema) execDeferred(opCtx *graphql.OperationContext) graphql.ResponseHandler {
	ec := newExecutionContext(opCtx, s.executableSchema, make(chan graphql.DeferredResult))
	first := true
	return func(ctx context.Context) *graphql.Response {
		var response graphql.Response
		var data graphql.Marshaler
		if first {
			first = false
			data = ec._Query(ctx, opCtx.Operation.SelectionSet)
		} else {
			if atomic.LoadInt32(&ec.PendingDeferred) == 0 {
				return nil
			}
			select {
			case result := <-ec.DeferredResults:
				atomic.AddInt32(&ec.PendingDeferred, -1)
				data = result.Result
				response.Path, response.Label, response.Errors = result.Path, result.Label, result.Errors
			case <-ctx.Done():
				return nil
			}
		}
		var buf bytes.Buffer
		data.MarshalGQL(&buf)
		response.Data = buf.Bytes()
		if atomic.LoadInt32(&ec.Deferred) > 0 {
			hasNext := atomic.LoadInt32(&ec.PendingDeferred) > 0
			response.HasNext = &hasNext
		}
		return &response
	}
}

// hasDefer reports whether a selection set uses @defer, in its fragments
// too (depth bounds the walk; the guard has refused fragment cycles).
func hasDefer(doc *ast.QueryDocument, set ast.SelectionSet, depth int) bool {
	if depth > maxDeferSearchDepth {
		return false
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if hasDefer(doc, s.SelectionSet, depth+1) {
				return true
			}
		case *ast.InlineFragment:
			if s.Directives.ForName("defer") != nil || hasDefer(doc, s.SelectionSet, depth+1) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Directives.ForName("defer") != nil {
				return true
			}
			if def := doc.Fragments.ForName(s.Name); def != nil && hasDefer(doc, def.SelectionSet, depth+1) {
				return true
			}
		}
	}
	return false
}

// maxDeferSearchDepth is far deeper than any document the guard's depth
// limit lets through.
const maxDeferSearchDepth = 1000
