package resolvers

import (
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph/model"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/genesys"
)

func TestUpstreamEnumsMapToKnownValuesOrUnknown(t *testing.T) {
	for in, want := range map[genesys.State]model.EntityState{
		"active": model.EntityStateActive, "ACTIVE": model.EntityStateActive, "deleted": model.EntityStateDeleted,
		"suspended": model.EntityStateUnknown, "active\a": model.EntityStateUnknown, "ACTIVE\x7f": model.EntityStateUnknown,
		"\xff": model.EntityStateUnknown, "unknown": model.EntityStateUnknown,
	} {
		got := entityState(in)
		require.NotNil(t, got, "%q", in)
		assert.Equal(t, want, *got, "%q", in)
	}
	assert.Nil(t, entityState(""), "absent stays null")
	assert.Equal(t, model.GroupTypeUnknown, *groupType("secret"))
	assert.Equal(t, model.GroupVisibilityUnknown, *visibility("hidden"))
	assert.Equal(t, model.GroupAddressTypeUnknown, *groupAddressType.of("FAX"))
	cond := conditionsFromAPI([]genesys.DynamicGroupSkillCondition{{Operation: "Xor",
		RoutingSkillConditions:  []genesys.DynamicGroupRoutingSkillCondition{{Comparator: "Near"}},
		LanguageSkillConditions: []genesys.DynamicGroupLanguageSkillCondition{{Comparator: genesys.EqualTo}}}})
	assert.Equal(t, model.DynamicOperationUnknown, cond[0].Operation)
	assert.Equal(t, model.SkillComparatorUnknown, cond[0].RoutingSkillConditions[0].Comparator)
	assert.Equal(t, model.SkillComparatorEqualTo, cond[0].LanguageSkillConditions[0].Comparator)
}

func TestKnownUpstreamValuesAreTheSchemas(t *testing.T) {
	// What the client counts as drift (upstream.Enum) is what maps to
	// UNKNOWN, and every value the schema knows has an upstream spelling.
	check := func(e upstream.Enum, mapped string) {
		t.Helper()
		assert.Equal(t, e.Known(), mapped != unknownEnum, "%q maps to %s", e, mapped)
	}
	for _, s := range []genesys.State{genesys.StateActive, genesys.StateInactive, genesys.StateDeleted, "archived"} {
		check(s, string(*entityState(s)))
	}
	for _, v := range []genesys.GroupType{genesys.GroupTypeOfficial, genesys.GroupTypeSocial, "secret"} {
		check(v, string(*groupType(v)))
	}
	for _, v := range []genesys.Visibility{genesys.VisibilityPublic, genesys.VisibilityOwners, genesys.VisibilityMembers, "x"} {
		check(v, string(*visibility(v)))
	}
	for _, v := range []genesys.GroupContactType{genesys.GroupContactRing, genesys.GroupContactPhone, "FAX"} {
		check(v, string(*groupAddressType.of(string(v))))
	}
	for _, v := range []genesys.ConditionOperation{genesys.OperationAnd, genesys.OperationOr, genesys.OperationNot, "Xor"} {
		check(v, string(fromAPI(operationsFromAPI, v)))
	}
	for c := range comparatorsFromAPI {
		check(c, string(fromAPI(comparatorsFromAPI, c)))
	}
	assert.Len(t, comparatorsFromAPI, len(model.AllSkillComparator)-1)
	assert.Len(t, operationsFromAPI, len(model.AllDynamicOperation)-1)
	for _, all := range [][]string{strs(model.AllEntityState), strs(model.AllGroupType), strs(model.AllGroupVisibility),
		strs(model.AllGroupAddressType), strs(model.AllDynamicOperation), strs(model.AllSkillComparator)} {
		assert.Contains(t, all, unknownEnum)
	}
}

func strs[E ~string](all []E) []string {
	out := make([]string, len(all))
	for i, e := range all {
		out[i] = string(e)
	}
	return out
}

func TestUnknownIsRefusedAsInput(t *testing.T) {
	unknownType, unknownState := model.GroupTypeUnknown, model.EntityStateUnknown
	_, err := createGroupToAPI(model.CreateGroupInput{Name: "n", Type: graphql.OmittableOf(&unknownType)})
	var ie *upstream.InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "type", ie.Field)
	_, err = updateGroupToAPI(model.UpdateGroupInput{State: graphql.OmittableOf(&unknownState)})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "state", ie.Field)
	_, err = dynamicQueryToAPI(model.DynamicGroupQueryInput{SkillConditions: []model.SkillConditionInput{{
		Operation: model.DynamicOperationAnd, RoutingSkillConditions: []model.RoutingSkillConditionInput{
			{RoutingSkill: "s", Comparator: model.SkillComparatorUnknown, Proficiency: 1}}}}})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "comparator", ie.Field)
}
