package resolvers

import (
	"context"
	"errors"
	"strconv"

	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
)

// Dynamic group rules: the schema spells enums in GraphQL's upper case; the
// Genesys API spells them in mixed case ("And", "GreaterThanOrEqualTo").

var operations = map[model.DynamicOperation]genesys.ConditionOperation{
	model.DynamicOperationAnd: genesys.OperationAnd,
	model.DynamicOperationOr:  genesys.OperationOr,
	model.DynamicOperationNot: genesys.OperationNot,
}

var comparators = map[model.SkillComparator]genesys.Comparator{
	model.SkillComparatorEqualTo:              genesys.EqualTo,
	model.SkillComparatorNotEqualTo:           genesys.NotEqualTo,
	model.SkillComparatorLessThan:             genesys.LessThan,
	model.SkillComparatorGreaterThan:          genesys.GreaterThan,
	model.SkillComparatorGreaterThanOrEqualTo: genesys.GreaterThanOrEqualTo,
	model.SkillComparatorLessThanOrEqualTo:    genesys.LessThanOrEqualTo,
}

// maxConditionDepth bounds nested child conditions.
const maxConditionDepth = 5

func reverse[K, V comparable](m map[K]V) map[V]K {
	r := make(map[V]K, len(m))
	for k, v := range m {
		r[v] = k
	}
	return r
}

var (
	operationsFromAPI  = reverse(operations)
	comparatorsFromAPI = reverse(comparators)
)

// fromAPI maps an upstream enum value with a reverse table; a value the
// table does not hold (a newer upstream value, or none) is UNKNOWN.
func fromAPI[K ~string, V comparable](table map[V]K, v V) K {
	if k, ok := table[v]; ok {
		return k
	}
	return unknownEnum
}

// dynamicQueryToAPI validates and maps a dynamic query input.
func dynamicQueryToAPI(in model.DynamicGroupQueryInput) (genesys.DynamicGroupQuery, error) {
	if len(in.SkillConditions) == 0 {
		return genesys.DynamicGroupQuery{}, badInput("skillConditions", "at least one condition is required")
	}
	conds, err := conditionsToAPI(in.SkillConditions, 0)
	return genesys.DynamicGroupQuery{SkillConditions: conds}, err
}

func conditionsToAPI(in []model.SkillConditionInput, depth int) ([]genesys.DynamicGroupSkillCondition, error) {
	if depth > maxConditionDepth {
		return nil, badInput("childConditions", "nested more than "+strconv.Itoa(maxConditionDepth)+" levels")
	}
	out := make([]genesys.DynamicGroupSkillCondition, len(in))
	for i, c := range in {
		if err := refuseUnknown("operation", &c.Operation); err != nil {
			return nil, err
		}
		out[i].Operation = operations[c.Operation]
		for _, r := range c.RoutingSkillConditions {
			if err := refuseUnknown("comparator", &r.Comparator); err != nil {
				return nil, err
			}
			children, err := childrenToAPI(r.RoutingSkill, r.Proficiency, r.ChildConditions.Value(), depth)
			if err != nil {
				return nil, err
			}
			out[i].RoutingSkillConditions = append(out[i].RoutingSkillConditions, genesys.DynamicGroupRoutingSkillCondition{
				RoutingSkill: r.RoutingSkill, Comparator: comparators[r.Comparator], Proficiency: r.Proficiency, ChildConditions: children})
		}
		for _, l := range c.LanguageSkillConditions {
			if err := refuseUnknown("comparator", &l.Comparator); err != nil {
				return nil, err
			}
			children, err := childrenToAPI(l.LanguageSkill, l.Proficiency, l.ChildConditions.Value(), depth)
			if err != nil {
				return nil, err
			}
			out[i].LanguageSkillConditions = append(out[i].LanguageSkillConditions, genesys.DynamicGroupLanguageSkillCondition{
				LanguageSkill: l.LanguageSkill, Comparator: comparators[l.Comparator], Proficiency: l.Proficiency, ChildConditions: children})
		}
	}
	return out, nil
}

// childrenToAPI checks one skill condition's own values and maps its
// nested conditions.
func childrenToAPI(skill string, proficiency int, children []model.SkillConditionInput, depth int) ([]genesys.DynamicGroupSkillCondition, error) {
	if err := text("skill", skill); err != nil {
		return nil, err
	}
	if proficiency < 0 || proficiency > 5 {
		return nil, badInput("proficiency", "must be between 0 and 5")
	}
	if len(children) == 0 {
		return nil, nil
	}
	return conditionsToAPI(children, depth+1)
}

// dynamicDefinitionOf reads the dynamic membership rules of group groupID,
// nil when it has none.
func (r *Resolver) dynamicDefinitionOf(ctx context.Context, groupID string) (*model.DynamicDefinition, error) {
	d, err := r.genesys.GetDynamicSettings(ctx, groupID)
	if errors.Is(err, upstream.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return dynamicDefinition(groupID, d), nil
}

func dynamicDefinition(groupID string, d *genesys.DynamicGroupDefinition) *model.DynamicDefinition {
	if d.Group != nil && d.Group.ID != "" {
		groupID = d.Group.ID
	}
	return &model.DynamicDefinition{ID: derivedID(typeDynamicDefinition, groupID), GroupID: groupID, DateModified: str(d.DateModified), Query: dynamicQuery(d.Query)}
}

func dynamicQuery(q genesys.DynamicGroupQuery) *model.DynamicGroupQuery {
	return &model.DynamicGroupQuery{SkillConditions: conditionsFromAPI(q.SkillConditions)}
}

func conditionsFromAPI(in []genesys.DynamicGroupSkillCondition) []model.SkillCondition {
	out := make([]model.SkillCondition, len(in))
	for i, c := range in {
		out[i] = model.SkillCondition{Operation: fromAPI(operationsFromAPI, c.Operation),
			RoutingSkillConditions:  make([]model.RoutingSkillCondition, len(c.RoutingSkillConditions)),
			LanguageSkillConditions: make([]model.LanguageSkillCondition, len(c.LanguageSkillConditions))}
		for j, r := range c.RoutingSkillConditions {
			out[i].RoutingSkillConditions[j] = model.RoutingSkillCondition{RoutingSkill: r.RoutingSkill,
				Comparator: fromAPI(comparatorsFromAPI, r.Comparator), Proficiency: r.Proficiency, ChildConditions: conditionsFromAPI(r.ChildConditions)}
		}
		for j, l := range c.LanguageSkillConditions {
			out[i].LanguageSkillConditions[j] = model.LanguageSkillCondition{LanguageSkill: l.LanguageSkill,
				Comparator: fromAPI(comparatorsFromAPI, l.Comparator), Proficiency: l.Proficiency, ChildConditions: conditionsFromAPI(l.ChildConditions)}
		}
	}
	return out
}
