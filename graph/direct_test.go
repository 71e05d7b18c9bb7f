package graph

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The read types must stay fully supported by the direct executor: a field
// that loses its plan (a model or schema change gqlgen binds differently)
// would silently send every query that selects it back to the slower
// generated executor. The differential tests in the root package check
// that both executors answer alike.
func TestDirectPlansCoverTheReadTypes(t *testing.T) {
	root := buildPlans(NewExecutableSchema(Config{}).Schema())
	unsupported := map[string][]string{
		"Query": {"__schema", "__type", "previewDynamicGroup", "fieldConfig", "groupProfile", "groupProfiles", "teams"},
		"Group": {"dynamicDefinition"},
	}
	seen := map[string]bool{}
	var walk func(p *objectPlan)
	walk = func(p *objectPlan) {
		if seen[p.name] {
			return
		}
		seen[p.name] = true
		for name, fp := range p.fields {
			if fp == nil {
				assert.Contains(t, unsupported[p.name], name, "%s.%s has no direct plan", p.name, name)
				continue
			}
			assert.NotContains(t, unsupported[p.name], name)
			if o := fp.out.objectType(); o != nil {
				walk(o)
			}
		}
	}
	walk(root)
	for _, typ := range []string{"Group", "GroupPage", "Member", "MemberPage", "UserGroup", "UserGroupPage", "GroupSearchResult",
		"Division", "Chat", "Contact", "Image", "GroupAddress", "RoutingStatus", "Presence", "OutOfOffice", "EmployerInfo", "Biography"} {
		assert.True(t, seen[typ], "%s is not reachable by the direct executor", typ)
	}
}

func TestAppendStringEscapesAsGqlgen(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          `"plain"`,
		`q"b\`:           `"q\"b\\"`,
		"t\tn\nr\r":      `"t\tn\nr\r"`,
		"\x01\x1f":       `"\u0001\u001f"`,
		"é <&> \u2028":   "\"é <&> \u2028\"",
		"bad \xff utf-8": "\"bad \xff utf-8\"",
	} {
		require.Equal(t, want, string(appendString(nil, in)), in)
	}
}
