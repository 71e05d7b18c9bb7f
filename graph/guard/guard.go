// Package guard protects the GraphQL endpoint from hostile requests before
// gqlgen spends anything on them.
//
// Protect puts an HTTP middleware in front of a gqlgen server. The
// middleware enforces the HTTP rules of GraphQL over HTTP (JSON bodies on
// POST only, so no CSRF-able form or text/plain request runs; queries only
// on GET; no JSON-array batches; nothing after the JSON object; a body cap
// answered 413 before the body is read; CORS for the configured origins) and
// a cheap pre-validation pass over the document (a parser token limit,
// fragment cycles and unused fragments, then one walk capping depth,
// aliases, root fields, directives, fields and repeated fields per selection
// set, expanded selections, and the field comparisons of gqlparser's
// overlapping-fields check). Only then does gqlgen parse and validate the
// document, through the guard's own transport, which also owns the HTTP
// status of every answer. After validation a complexity limit weighs list
// fields by their page size or id count. Both the pre-pass and gqlgen's
// document cache (QueryCache) are keyed by the document's tokens, so a
// changed comment or layout hits them.
//
// Two admission middlewares act before the guard, on arrival: Shed bounds
// the requests in flight and their body bytes (503 when saturated), and
// CallerRate each caller's requests a minute (429), both RATE_LIMITED with
// Retry-After.
//
// Before the pre-validation pass it resolves persisted operations
// (automatic persisted queries and trusted documents, persisted.go); after
// execution its transport delivers @defer as multipart/mixed parts or one
// merged answer (deferred.go).
//
// Every refusal is a GraphQL response with errors[].extensions.code and no
// data: BAD_REQUEST (405, 415 or 400), PAYLOAD_TOO_LARGE (413), and
// GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED or QUERY_TOO_COMPLEX with
// HTTP 400 when the client accepts application/graphql-response+json and 200
// when it asks only for application/json. Refusals never echo the request
// body.
package guard

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Limits are the bounds a request must stay within. DefaultLimits returns
// the documented defaults; docs/limits.md explains each one.
type Limits struct {
	// MaxBodyBytes caps a POST body. A larger one is answered 413 without
	// being read past the cap.
	MaxBodyBytes int64
	// MaxTokens caps the lexical tokens of the document; the parser stops
	// there.
	MaxTokens int
	// MaxDepth caps field nesting (a root field is at depth 1). Introspection
	// (__schema, __type) is bounded by gqlparser's introspection depth rule
	// instead, so that an IDE's introspection query fits.
	MaxDepth int
	// MaxAliases caps the aliased fields of one operation, counted after
	// fragment expansion.
	MaxAliases int
	// MaxMutationAliases caps the aliased root fields of one mutation: each
	// one is another write.
	MaxMutationAliases int
	// MaxRootFields caps the distinct root field names of one operation.
	// Aliases of one field count once (batched lookups such as a hundred
	// group(id:) fields are bounded by MaxAliases and MaxComplexity).
	MaxRootFields int
	// MaxDirectives caps the directive uses of the document, counted after
	// fragment expansion.
	MaxDirectives int
	// MaxFieldsPerSet caps the fields of one selection set, including those
	// its fragments bring in.
	MaxFieldsPerSet int
	// MaxDuplicateFields caps how many fields of one selection set share a
	// response name (fragments included): gqlparser's overlapping-fields
	// check is quadratic in it.
	MaxDuplicateFields int
	// MaxSelections caps the selections of the whole document once every
	// fragment spread is expanded (fan-out bombs).
	MaxSelections int
	// MaxMergeComparisons caps the field comparisons gqlparser's
	// OverlappingFieldsCanBeMerged rule makes on an operation, as the
	// pre-pass estimates them: for each field, the fields met earlier at
	// the same response path (fragments expanded) times one plus the fields
	// it selects. Repeating a field at one path is quadratic in validation
	// even when each selection set stays under MaxDuplicateFields.
	MaxMergeComparisons int
	// MaxComplexity caps the complexity of the operation that runs: one per
	// field, the selections under a list counted once per item.
	MaxComplexity int
}

// Default limits (docs/limits.md, "Query and HTTP limits").
const (
	DefaultMaxBodyBytes        = 256 << 10
	DefaultMaxTokens           = 5000
	DefaultMaxDepth            = 10
	DefaultMaxAliases          = 100
	DefaultMaxMutationAliases  = 3
	DefaultMaxRootFields       = 10
	DefaultMaxDirectives       = 50
	DefaultMaxFieldsPerSet     = 200
	DefaultMaxDuplicateFields  = 20
	DefaultMaxSelections       = 2000
	DefaultMaxMergeComparisons = 2000
	DefaultMaxComplexity       = 10000
)

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes:        DefaultMaxBodyBytes,
		MaxTokens:           DefaultMaxTokens,
		MaxDepth:            DefaultMaxDepth,
		MaxAliases:          DefaultMaxAliases,
		MaxMutationAliases:  DefaultMaxMutationAliases,
		MaxRootFields:       DefaultMaxRootFields,
		MaxDirectives:       DefaultMaxDirectives,
		MaxFieldsPerSet:     DefaultMaxFieldsPerSet,
		MaxDuplicateFields:  DefaultMaxDuplicateFields,
		MaxSelections:       DefaultMaxSelections,
		MaxMergeComparisons: DefaultMaxMergeComparisons,
		MaxComplexity:       DefaultMaxComplexity,
	}
}

// Options configures Protect.
type Options struct {
	// Limits bound every request.
	Limits Limits
	// Introspection allows __schema, __type and the federation _service;
	// without it they are refused before execution.
	Introspection bool
	// Suggestions allows "Did you mean …?" hints in validation errors.
	Suggestions bool
	// ListSizes are the assumed item counts of list fields that take no size
	// argument, by "Type.field" (e.g. "Query.teams"); others count
	// DefaultListSize items.
	ListSizes map[string]int
	// CORSOrigins are the browser origins (scheme://host[:port]) allowed to
	// call the endpoint; scheme://host:* allows any port of host.
	CORSOrigins []string
	// CORSHeaders are the request headers a browser may send (nil:
	// DefaultCORSHeaders).
	CORSHeaders []string
	// PersistedStore keeps the queries registered through automatic
	// persisted queries (nil: an in-memory store of
	// DefaultPersistedEntries). Unused with TrustedDocuments.
	PersistedStore PersistedStore
	// TrustedDocuments, when set, are the only operations that run.
	TrustedDocuments *TrustedDocuments
	// DeferrableFields are the fields the executor defers under @defer, as
	// "Type.field" (graph.DeferrableFields): the executor writes null in
	// their place, which the guard removes from the initial payload.
	DeferrableFields map[string]bool
	// PersistedCDNMaxAge is how long shared caches may keep the answer to a
	// GET of a persisted query by hash (0: they revalidate).
	PersistedCDNMaxAge time.Duration
	// Log receives one debug line per refused request (its code and status,
	// never its content). Nil discards.
	Log *slog.Logger
}

// Protect configures srv to be served through the guard and returns the
// handler to mount in its place. srv must have no HTTP transport of its own:
// Protect adds the guard's transport, which serves only requests that passed
// the middleware. It also sets srv's parser token limit, its validation
// rules (without suggestions unless opts.Suggestions), the introspection
// extension when opts.Introspection, and the complexity limit. schema is
// srv's schema.
func Protect(srv *handler.Server, schema *ast.Schema, opts Options) http.Handler {
	srv.AddTransport(transport{schema: schema, deferrable: opts.DeferrableFields, cdnMaxAge: opts.PersistedCDNMaxAge})
	srv.SetParserTokenLimit(opts.Limits.MaxTokens)
	srv.SetDisableSuggestion(!opts.Suggestions)
	if !opts.Suggestions {
		srv.SetValidationRulesFn(rulesWithoutSuggestions)
	}
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(complexityLimit{max: opts.Limits.MaxComplexity, listSizes: opts.ListSizes})
	store := opts.PersistedStore
	if store == nil {
		store = NewMemoryPersistedStore(DefaultPersistedEntries, DefaultPersistedDocumentBytes)
	}
	if opts.TrustedDocuments != nil {
		store = nil
	}
	return &guard{
		next:      srv,
		limits:    opts.Limits,
		check:     newChecker(schema, opts.Limits, opts.Introspection),
		keys:      newDocKeys(opts.Limits.MaxTokens),
		cors:      newCORS(opts.CORSOrigins, opts.CORSHeaders),
		persisted: persisted{store: store, trusted: opts.TrustedDocuments},
		log:       orDiscard(opts.Log),
	}
}

// guard is the middleware in front of the gqlgen server.
type guard struct {
	next      http.Handler
	limits    Limits
	check     *checker
	keys      *docKeys
	cors      cors
	persisted persisted
	log       *slog.Logger
}

// ServeHTTP answers CORS preflights, reads and checks the request, and hands
// a request that passed to gqlgen with its decoded parameters.
func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := graphql.Now()
	allowedOrigin := g.cors.allow(w, r)
	if r.Method == http.MethodOptions {
		g.cors.preflight(w, r, allowedOrigin)
		return
	}
	media := negotiate(r.Header.Get("Accept"))
	req := &request{media: media}
	in, ref := g.read(w, r)
	if ref == nil {
		req.params = in.params
		req.persistedGET = r.Method == http.MethodGet && in.params.Query == ""
		req.register, ref = g.persisted.resolve(r.Context(), in.params, in.documentID)
	}
	if ref == nil {
		req.key, ref = g.checkDocument(r, req.params)
	}
	if ref != nil {
		if req.persistedGET {
			setPersistedCacheControl(w.Header(), r, true, 0)
		}
		refuse(g.log, w, r, media, ref)
		return
	}
	req.params.Headers = r.Header
	req.params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	g.next.ServeHTTP(w, r.WithContext(withRequest(r.Context(), req)))
}

// read decodes the request's GraphQL parameters from a GET query string or a
// POST JSON body.
func (g *guard) read(w http.ResponseWriter, r *http.Request) (*incoming, *refusal) {
	switch r.Method {
	case http.MethodGet:
		return readGET(r)
	case http.MethodPost:
		return readPOST(w, r, g.limits.MaxBodyBytes)
	}
	return nil, methodNotAllowed(allowedMethods, msgMethod)
}

// msgOperationNameRequired refuses a document of several named operations
// sent without operationName (gqlgen would say "operation  not found").
const msgOperationNameRequired = "the document has several operations: operationName is required to choose one"

// checkDocument runs the pre-validation pass; a GET may only name a query,
// and a document of several operations needs operationName (one anonymous
// operation among others is left to the validation rule that refuses it).
// It returns the document's cache key ("" when it is not cached).
func (g *guard) checkDocument(r *http.Request, params *graphql.RawParams) (string, *refusal) {
	key, _ := g.keys.key(params.Query)
	doc, ref := g.check.check(r.Context(), key, params.Query)
	if ref != nil {
		return "", ref
	}
	if _, anonymous := doc.operations[""]; params.OperationName == "" && len(doc.operations) > 1 && !anonymous {
		return "", documentRefused(CodeValidationFailed, coded(msgOperationNameRequired, CodeValidationFailed))
	}
	if op, ok := doc.operation(params.OperationName); r.Method == http.MethodGet && ok && op != ast.Query {
		return "", methodNotAllowed(http.MethodPost, msgGETQueriesOnly)
	}
	return key, nil
}

// rulesWithoutSuggestions are gqlparser's default validation rules with
// every rule that can add "Did you mean …?" replaced by its variant without
// suggestions, so that a production server does not reveal its schema.
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, quiet := range []validator.Rule{
		rules.FieldsOnCorrectTypeRuleWithoutSuggestions,
		rules.KnownArgumentNamesRuleWithoutSuggestions,
		rules.KnownTypeNamesRuleWithoutSuggestions,
		rules.ScalarLeafsRuleWithoutSuggestions,
		rules.ValuesOfCorrectTypeRuleWithoutSuggestions,
	} {
		r.RemoveRule(strings.TrimSuffix(quiet.Name, "WithoutSuggestions"))
		r.AddRule(quiet.Name, quiet.RuleFunc)
	}
	return r
}
