package resolvers

import (
	"context"
	"strconv"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
)

// Federation entities (GATEWAY_FEDERATION=true): a supergraph router asks
// Query._entities for Group and UserGroup representations ({__typename,
// id}). They are looked up as group(id:) and userGroup(id:) are: the
// Group ids of one _entities field cost one upstream call per 100, the
// user groups one call each (the Usergroup API has no call for several),
// and the fields of the entities resolve, with their permissions, as
// anywhere else.

// maxRepresentations bounds the representations of one _entities field,
// as maxIDsPerList bounds groups(ids:).
const maxRepresentations = maxIDsPerList

// entityIDs are the key checks of the entity types, by __typename.
var entityIDs = map[string]func(field, id string) error{
	"Group":     upstream.CheckID,
	"UserGroup": upstream.CheckOpaqueID,
}

// CheckEntities is a field middleware (handler.AroundFields) that refuses
// an _entities field whose representations are too many or malformed
// (no __typename of an entity type, no valid id) with BAD_USER_INPUT,
// before any of them is looked up: bad input costs no upstream call. Other
// fields pass through.
func CheckEntities(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc.Object != "Query" || fc.Field.Name != "_entities" {
		return next(ctx)
	}
	reps, _ := fc.Args["representations"].([]map[string]any)
	if err := checkRepresentations(reps); err != nil {
		return nil, err
	}
	return next(ctx)
}

// checkRepresentations validates the representations of one _entities field.
func checkRepresentations(reps []map[string]any) error {
	if len(reps) > maxRepresentations {
		return badInput("representations", "at most "+strconv.Itoa(maxRepresentations)+" representations")
	}
	for i, rep := range reps {
		field := "representations[" + strconv.Itoa(i) + "]"
		typeName, _ := rep["__typename"].(string)
		check := entityIDs[typeName]
		if check == nil {
			return badInput(field+".__typename", "must be Group or UserGroup")
		}
		id, ok := rep["id"].(string)
		if !ok {
			return badInput(field+".id", "must be a string")
		}
		if err := check(field+".id", id); err != nil {
			return err
		}
	}
	return nil
}

// groupEntities resolves Group representations: every id is looked up at
// once (one call per 100), each entity gets its own result or error.
func groupEntities(ctx context.Context, reps []*model.GroupByIDsInput) ([]*model.Group, error) {
	ld := loaders.For(ctx)
	ids := make([]string, len(reps))
	for i, rep := range reps {
		ids[i] = rep.ID
	}
	ld.PrefetchGroups(ctx, ids)
	out := make([]*model.Group, len(reps))
	errs := make(graphql.BatchErrorList, len(reps))
	failed := false
	for i, id := range ids {
		g, err := ld.Group(ctx, id)
		out[i], errs[i] = groupFromAPI(g), err
		failed = failed || err != nil
	}
	if failed {
		return out, errs
	}
	return out, nil
}

// userGroupEntities resolves UserGroup representations, concurrently (the
// upstream layer bounds the calls in flight).
func userGroupEntities(ctx context.Context, reps []*model.UserGroupByIDsInput) ([]*model.UserGroup, error) {
	ld := loaders.For(ctx)
	out := make([]*model.UserGroup, len(reps))
	errs := make(graphql.BatchErrorList, len(reps))
	var wg sync.WaitGroup
	for i, rep := range reps {
		wg.Go(func() {
			ug, err := ld.UserGroup(ctx, rep.ID)
			out[i], errs[i] = userGroup(ug), err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return out, errs
		}
	}
	return out, nil
}
