package guard

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/groupdir/gateway/graph"
	"github.com/groupdir/gateway/graph/resolvers"
)

// testGroupID is a well-formed group id; nothing resolves it here.
const testGroupID = "6a0f0000-0000-4000-8000-000000000001"

// env is a protected server over the gateway's real schema, with a query
// cache as the gateway has, whose operations never run: an operation middleware counts the operations that reached
// execution and answers {"executed":true}.
type env struct {
	t        testing.TB
	srv      *httptest.Server
	executed atomic.Int64
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	e := &env{t: t}
	e.srv = httptest.NewServer(e.handler(opts))
	t.Cleanup(e.srv.Close)
	return e
}

// handler is the protected gqlgen server of e.
func (e *env) handler(opts Options) http.Handler {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: resolvers.New(nil, nil)})
	srv := handler.New(es)
	srv.SetQueryCache(NewQueryCache(100, es.Schema(), opts.Limits.MaxTokens))
	srv.AroundOperations(func(context.Context, graphql.OperationHandler) graphql.ResponseHandler {
		e.executed.Add(1)
		return graphql.OneShot(&graphql.Response{Data: json.RawMessage(`{"executed":true}`)})
	})
	return Protect(srv, es.Schema(), opts)
}

// defaults are the options of a development server with the default limits.
func defaults() Options {
	return Options{Limits: DefaultLimits(), Introspection: true, Suggestions: true}
}

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// code is the extensions.code of the first error, or "".
func (a answer) code() string {
	errs, _ := a.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	first, _ := errs[0].(map[string]any)
	ext, _ := first["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	return code
}

// extension is extensions[key] of the first error.
func (a answer) extension(key string) any {
	errs, _ := a.body["errors"].([]any)
	if len(errs) == 0 {
		return nil
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	return ext[key]
}

// do sends a request; headers are name, value pairs.
func (e *env) do(method, target string, body io.Reader, headers ...string) answer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+target, body)
	require.NoError(e.t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		require.NoError(e.t, json.Unmarshal(raw, &a.body), string(raw))
	}
	return a
}

// query POSTs a GraphQL request as JSON.
func (e *env) query(query string, vars map[string]any, headers ...string) answer {
	e.t.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(e.t, err)
	return e.do(http.MethodPost, "/", strings.NewReader(string(b)), append([]string{"Content-Type", "application/json"}, headers...)...)
}

func newDebugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newEnvSchema is the gateway's schema.
func newEnvSchema() *ast.Schema {
	return graph.NewExecutableSchema(graph.Config{Resolvers: resolvers.New(nil, nil)}).Schema()
}

// introspectionQuery is the query GraphiQL sends (graphql-js
// getIntrospectionQuery with descriptions, specifiedByURL, isOneOf and
// deprecated input values), with TypeRef nine levels deep.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    description
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL isOneOf
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}`
