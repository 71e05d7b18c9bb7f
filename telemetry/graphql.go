package telemetry

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/groupdir/gateway/telemetry/requestid"
)

// Bounds of what one request logs.
const (
	// maxUpstreamErrorLogs bounds its upstream error lines.
	maxUpstreamErrorLogs = 10
	// maxLoggedNameLen is the longest operation name logged as it is; a
	// longer one is logged as its label.
	maxLoggedNameLen = 128
)

// Instrument adds the telemetry extensions to srv. Call it before any
// operation middleware that starts upstream calls (a prefetch), so that
// their spans belong to the operation's.
func (t *Telemetry) Instrument(srv *handler.Server) {
	srv.Use(operations{t})
	if t.tracer != nil {
		srv.Use(resolverSpans{t.tracer})
	}
}

// operations is the gqlgen extension that reports each operation: its name,
// outcome and error codes to the request's exchange, extensions.requestId
// on every error, a warning per upstream error (with its correlation id),
// and, when tracing, a span around the operation.
type operations struct{ t *Telemetry }

var (
	_ graphql.HandlerExtension     = operations{}
	_ graphql.OperationInterceptor = operations{}
	_ graphql.ResponseInterceptor  = operations{}
)

// ExtensionName implements graphql.HandlerExtension.
func (operations) ExtensionName() string { return "Telemetry" }

// Validate implements graphql.HandlerExtension.
func (operations) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation implements graphql.OperationInterceptor: it names the
// operation and, when tracing, runs it in a span.
func (o operations) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	name, opType := "", ""
	if oc.Operation != nil {
		name, opType = oc.Operation.Name, string(oc.Operation.Operation)
	}
	if x := exchangeFrom(ctx); x != nil {
		x.mu.Lock()
		x.executed, x.opType, x.label = true, opType, o.t.operations.operationLabel(name)
		if len(name) <= maxLoggedNameLen {
			x.name = name
		}
		x.mu.Unlock()
	}
	if o.t.tracer == nil {
		return next(ctx)
	}
	ctx, span := o.t.tracer.Start(ctx, first(opType+" "+name, opType), trace.WithAttributes(
		attribute.String("graphql.operation.type", opType), attribute.String("graphql.operation.name", name)))
	handle := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := handle(ctx)
		if resp != nil && len(resp.Errors) > 0 {
			span.SetStatus(codes.Error, "the answer has errors")
			span.SetAttributes(attribute.Int("graphql.errors", len(resp.Errors)))
		}
		span.End()
		return resp
	}
}

// InterceptResponse implements graphql.ResponseInterceptor: it sees every
// answer gqlgen gives, refusals of parse and validation included.
func (o operations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	x := exchangeFrom(ctx)
	if resp == nil || x == nil {
		return resp
	}
	id := requestid.From(ctx)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.handled = true
	if !x.executed {
		x.label = labelUnknown
	}
	x.outcome = outcome(x.executed, resp)
	for _, e := range resp.Errors {
		if e.Extensions == nil {
			e.Extensions = map[string]any{}
		}
		e.Extensions["requestId"] = id
		code, _ := e.Extensions["code"].(string)
		x.codes = append(x.codes, code)
		if _, ok := e.Extensions["upstream"]; ok && x.upstreamN < maxUpstreamErrorLogs {
			x.upstreamN++
			o.t.logUpstreamError(ctx, e, code)
		}
	}
	return resp
}

// outcome classifies an answer.
func outcome(executed bool, resp *graphql.Response) string {
	switch {
	case !executed:
		return OutcomeRefused
	case len(resp.Errors) == 0:
		return OutcomeSuccess
	case len(resp.Data) == 0 || string(resp.Data) == "null":
		return OutcomeError
	}
	return OutcomePartial
}

// logUpstreamError logs an error an upstream caused, at warn, with what
// lets its operator find the call: upstream, status, correlation id.
func (t *Telemetry) logUpstreamError(ctx context.Context, e *gqlerror.Error, code string) {
	attrs := []slog.Attr{slog.String("code", code), slog.String("path", e.Path.String())}
	for _, k := range []string{"upstream", "status", "correlationId", "retryAfter", "outcome"} {
		if v, ok := e.Extensions[k]; ok {
			attrs = append(attrs, slog.Any(k, v))
		}
	}
	t.log.LogAttrs(ctx, slog.LevelWarn, "upstream error", attrs...)
}

// resolverSpans is the gqlgen extension that runs each resolver field (a
// field that may call an upstream) in a span. It is used only when tracing.
type resolverSpans struct{ tracer trace.Tracer }

var (
	_ graphql.HandlerExtension = resolverSpans{}
	_ graphql.FieldInterceptor = resolverSpans{}
)

// ExtensionName implements graphql.HandlerExtension.
func (resolverSpans) ExtensionName() string { return "ResolverSpans" }

// Validate implements graphql.HandlerExtension.
func (resolverSpans) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptField implements graphql.FieldInterceptor.
func (r resolverSpans) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver {
		return next(ctx)
	}
	ctx, span := r.tracer.Start(ctx, fc.Object+"."+fc.Field.Name, trace.WithAttributes(
		attribute.String("graphql.field.name", fc.Field.Name), attribute.String("graphql.field.path", fc.Path().String())))
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		span.SetStatus(codes.Error, "the resolver failed")
	}
	return res, err
}
