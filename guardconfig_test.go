package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph/guard"
)

func TestGraphQLLimitsConfiguration(t *testing.T) {
	c, err := loadConfig(getenv(nil))
	require.NoError(t, err)
	assert.Equal(t, guard.DefaultLimits(), c.Limits)

	c, err = loadConfig(getenv(map[string]string{"GRAPHQL_MAX_ALIASES": "5", "GRAPHQL_MAX_BODY_BYTES": "2048", "GRAPHQL_MAX_MUTATION_ALIASES": "0"}))
	require.NoError(t, err)
	assert.Equal(t, 5, c.Limits.MaxAliases)
	assert.EqualValues(t, 2048, c.Limits.MaxBodyBytes)
	assert.Zero(t, c.Limits.MaxMutationAliases)

	_, err = loadConfig(getenv(map[string]string{"GRAPHQL_MAX_DEPTH": "deep", "GRAPHQL_MAX_COMPLEXITY": "0", "GRAPHQL_MAX_TOKENS": "-1"}))
	require.Error(t, err)
	for _, name := range []string{"GRAPHQL_MAX_DEPTH", "GRAPHQL_MAX_COMPLEXITY", "GRAPHQL_MAX_TOKENS"} {
		assert.Contains(t, err.Error(), name)
	}
}

func TestConfiguredLimitApplies(t *testing.T) {
	e := setup(t, map[string]string{"GRAPHQL_MAX_ALIASES": "2"})
	r := e.post(`{ a: __typename b: __typename }`, nil)
	require.Empty(t, r.Errors)
	r = e.post(`{ a: __typename b: __typename c: __typename }`, nil)
	assert.Equal(t, []string{codeTooComplex}, r.codes())
	assert.EqualValues(t, 2, r.Errors[0].Extensions["max"])
}
