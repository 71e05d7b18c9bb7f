package guard

import (
	"context"
	"errors"
	"strconv"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// checkedCacheSize is how many documents that passed the pre-pass are
// remembered (keyed by documentKey, a hash of their tokens, so the cache
// holds no query and a changed comment does not miss it).
const checkedCacheSize = 1000

// Names of the limits, as extensions.limit reports them.
const (
	limitDepth            = "depth"
	limitAliases          = "aliases"
	limitMutationAliases  = "mutationAliases"
	limitRootFields       = "rootFields"
	limitDirectives       = "directives"
	limitFieldsPerSet     = "fieldsPerSelectionSet"
	limitDuplicateFields  = "duplicateFields"
	limitSelections       = "selections"
	limitMergeComparisons = "mergeComparisons"
	limitComplexity       = "complexity"
)

// document is what the pre-pass keeps of a document that passed: the kind
// of each operation, by name.
type document struct {
	operations map[string]ast.Operation
}

// operation returns the kind of the operation a request names (the only one
// when name is empty); false when there is no such operation, which gqlgen
// then reports.
func (d *document) operation(name string) (ast.Operation, bool) {
	if name == "" && len(d.operations) == 1 {
		for _, op := range d.operations {
			return op, true
		}
	}
	op, ok := d.operations[name]
	return op, ok
}

// checker runs the pre-validation pass.
type checker struct {
	schema        *ast.Schema
	limits        Limits
	introspection bool
	// rules are the only validation rules run before the walk: the walk
	// needs an acyclic document, and every fragment used, so that walking
	// the operations reaches all of them.
	rules *rules.Rules
	cache *lru.LRU[*document]
}

func newChecker(schema *ast.Schema, limits Limits, introspection bool) *checker {
	return &checker{
		schema:        schema,
		limits:        limits,
		introspection: introspection,
		rules:         rules.NewRules(rules.NoFragmentCyclesRule, rules.NoUnusedFragmentsRule),
		cache:         lru.New[*document](checkedCacheSize),
	}
}

// check parses query within the token limit, rejects fragment cycles and
// unused fragments, and walks every operation against the limits. A
// document that passed once is not checked again: the result is cached
// under key (documentKey's; "" caches nothing).
func (c *checker) check(ctx context.Context, key, query string) (*document, *refusal) {
	if key != "" {
		if d, ok := c.cache.Get(ctx, key); ok {
			return d, nil
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, c.limits.MaxTokens)
	if err != nil {
		var gqlErr *gqlerror.Error
		if !errors.As(err, &gqlErr) {
			gqlErr = &gqlerror.Error{Message: "the document could not be parsed"}
		}
		return nil, documentRefused(CodeParseFailed, gqlErr)
	}
	if errs := validator.ValidateWithRules(c.schema, doc, c.rules); len(errs) > 0 {
		return nil, documentRefused(CodeValidationFailed, errs...)
	}
	w := newWalker(doc, c.limits, c.introspection)
	d := &document{operations: make(map[string]ast.Operation, len(doc.Operations))}
	for _, op := range doc.Operations {
		if gqlErr := w.operation(op); gqlErr != nil {
			return nil, &refusal{errs: gqlerror.List{gqlErr}}
		}
		d.operations[op.Name] = op.Operation
	}
	if key != "" {
		c.cache.Add(ctx, key, d)
	}
	return d, nil
}

// walker walks the operations of one document with every fragment spread
// expanded, counting against the limits; it stops at the first one
// exceeded, so its work is bounded by the limits, not by the document.
type walker struct {
	limits        Limits
	introspection bool
	fragments     map[string]*ast.FragmentDefinition

	// document totals
	selections, directives int
	// the operation being walked
	mutation                 bool
	aliases, mutationAliases int
	rootNames                map[string]bool
	// paths numbers the response paths of the operation, by the number of
	// the parent path and the response name; fieldsAt counts the fields at
	// each path (merged from every selection set that reaches it).
	paths    map[pathKey]int
	fieldsAt []int
	// comparisons estimates the work of gqlparser's
	// OverlappingFieldsCanBeMerged rule on the operation.
	comparisons int
	// introspecting is set inside a root __schema or __type field.
	introspecting bool
}

func newWalker(doc *ast.QueryDocument, limits Limits, introspection bool) *walker {
	w := &walker{limits: limits, introspection: introspection, fragments: make(map[string]*ast.FragmentDefinition, len(doc.Fragments))}
	for _, f := range doc.Fragments {
		w.fragments[f.Name] = f
	}
	return w
}

func (w *walker) operation(op *ast.OperationDefinition) *gqlerror.Error {
	w.mutation = op.Operation == ast.Mutation
	w.aliases, w.mutationAliases, w.rootNames = 0, 0, map[string]bool{}
	w.paths, w.fieldsAt, w.comparisons = map[pathKey]int{}, []int{0}, 0
	if err := w.countDirectives(op.Directives); err != nil {
		return err
	}
	for _, v := range op.VariableDefinitions {
		if err := w.countDirectives(v.Directives); err != nil {
			return err
		}
	}
	return w.selectionSet(op.SelectionSet, 1, &objectFields{})
}

// objectFields counts the fields selected on one response object, those its
// fragments bring in included: all of them, and those of each response name.
// path numbers the object's response path (0: the operation's root).
type objectFields struct {
	path   int
	total  int
	byName map[string]int
}

// pathKey names a response path: its parent path and its last response
// name.
type pathKey struct {
	parent int
	name   string
}

// selectionSet walks set, whose fields are at depth and belong to the
// response object fields counts.
func (w *walker) selectionSet(set ast.SelectionSet, depth int, fields *objectFields) *gqlerror.Error {
	for _, sel := range set {
		if w.selections++; w.selections > w.limits.MaxSelections {
			return overLimit(limitSelections, w.limits.MaxSelections,
				"the document has more than "+strconv.Itoa(w.limits.MaxSelections)+" selections once its fragments are expanded")
		}
		var err *gqlerror.Error
		switch s := sel.(type) {
		case *ast.Field:
			err = w.field(s, depth, fields)
		case *ast.InlineFragment:
			err = w.fragment(s.Directives, nil, s.SelectionSet, depth, fields)
		case *ast.FragmentSpread:
			if def := w.fragments[s.Name]; def != nil {
				err = w.fragment(s.Directives, def.Directives, def.SelectionSet, depth, fields)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fragment walks the selections of an inline fragment or of a spread
// fragment as part of the enclosing selection set.
func (w *walker) fragment(use, def ast.DirectiveList, set ast.SelectionSet, depth int, fields *objectFields) *gqlerror.Error {
	if err := w.countDirectives(use); err != nil {
		return err
	}
	if err := w.countDirectives(def); err != nil {
		return err
	}
	return w.selectionSet(set, depth, fields)
}

func (w *walker) field(f *ast.Field, depth int, fields *objectFields) *gqlerror.Error {
	if err := w.countField(f, fields); err != nil {
		return err
	}
	if depth > w.limits.MaxDepth && !w.introspecting {
		return overLimit(limitDepth, w.limits.MaxDepth, "the document nests fields deeper than "+strconv.Itoa(w.limits.MaxDepth)+" levels")
	}
	if err := w.countDirectives(f.Directives); err != nil {
		return err
	}
	if err := w.countAlias(f, depth); err != nil {
		return err
	}
	if depth == 1 {
		if err := w.rootField(f); err != nil {
			return err
		}
	}
	return w.subSelections(f, depth, fields.path)
}

// subSelections walks the selection set of f, whose parent object has the
// response path parent, and counts the comparisons gqlparser's
// OverlappingFieldsCanBeMerged rule makes for f: that rule compares every
// two fields that share a response name under fields it compared (so every
// two fields at one response path, however many selection sets bring them
// in), and each comparison of two fields iterates over the fields selected
// under one of them. f is therefore charged, for each field already seen at
// its path, one plus the fields of its own selection set. Quadratic work in
// the validator thus stays under Limits.MaxMergeComparisons, even when every
// selection set stays within the per-set limits (red team case 57: members
// selected 20 times, each selecting entities 15 times).
func (w *walker) subSelections(f *ast.Field, depth, parent int) *gqlerror.Error {
	key := pathKey{parent: parent, name: f.Alias}
	if key.name == "" {
		key.name = f.Name
	}
	path, ok := w.paths[key]
	if !ok {
		path = len(w.fieldsAt)
		w.paths[key] = path
		w.fieldsAt = append(w.fieldsAt, 0)
	}
	earlier := w.fieldsAt[path]
	w.fieldsAt[path]++
	children := &objectFields{path: path}
	if len(f.SelectionSet) > 0 {
		if err := w.selectionSet(f.SelectionSet, depth+1, children); err != nil {
			return err
		}
	}
	if w.comparisons += earlier * (1 + children.total); w.comparisons > w.limits.MaxMergeComparisons {
		return overLimit(limitMergeComparisons, w.limits.MaxMergeComparisons,
			"the document selects the same fields at one response path too often: checking that they merge takes more than "+
				strconv.Itoa(w.limits.MaxMergeComparisons)+" comparisons")
	}
	return nil
}

// countField counts f among the fields of its response object.
func (w *walker) countField(f *ast.Field, fields *objectFields) *gqlerror.Error {
	if fields.total++; fields.total > w.limits.MaxFieldsPerSet {
		return overLimit(limitFieldsPerSet, w.limits.MaxFieldsPerSet,
			"a selection set has more than "+strconv.Itoa(w.limits.MaxFieldsPerSet)+" fields")
	}
	if fields.byName == nil {
		fields.byName = map[string]int{}
	}
	name := f.Alias
	if name == "" {
		name = f.Name
	}
	if fields.byName[name]++; fields.byName[name] > w.limits.MaxDuplicateFields {
		return overLimit(limitDuplicateFields, w.limits.MaxDuplicateFields,
			"a selection set repeats one field more than "+strconv.Itoa(w.limits.MaxDuplicateFields)+" times")
	}
	return nil
}

// rootField counts distinct root field names and enters introspection.
func (w *walker) rootField(f *ast.Field) *gqlerror.Error {
	if w.rootNames[f.Name] = true; len(w.rootNames) > w.limits.MaxRootFields {
		return overLimit(limitRootFields, w.limits.MaxRootFields,
			"the operation selects more than "+strconv.Itoa(w.limits.MaxRootFields)+" distinct root fields")
	}
	isIntrospection := f.Name == "__schema" || f.Name == "__type"
	// The federation _service answers the whole schema: introspection too.
	if (isIntrospection || f.Name == "_service") && !w.introspection {
		return coded("introspection is disabled on this server", CodeValidationFailed)
	}
	w.introspecting = isIntrospection
	return nil
}

func (w *walker) countAlias(f *ast.Field, depth int) *gqlerror.Error {
	if f.Alias == "" || f.Alias == f.Name {
		return nil
	}
	if w.aliases++; w.aliases > w.limits.MaxAliases {
		return overLimit(limitAliases, w.limits.MaxAliases, "the operation has more than "+strconv.Itoa(w.limits.MaxAliases)+" aliased fields")
	}
	if w.mutation && depth == 1 {
		if w.mutationAliases++; w.mutationAliases > w.limits.MaxMutationAliases {
			return overLimit(limitMutationAliases, w.limits.MaxMutationAliases,
				"the mutation has more than "+strconv.Itoa(w.limits.MaxMutationAliases)+" aliased fields")
		}
	}
	return nil
}

func (w *walker) countDirectives(list ast.DirectiveList) *gqlerror.Error {
	if w.directives += len(list); w.directives > w.limits.MaxDirectives {
		return overLimit(limitDirectives, w.limits.MaxDirectives, "the document uses more than "+strconv.Itoa(w.limits.MaxDirectives)+" directives")
	}
	return nil
}
