package guard

import (
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
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
