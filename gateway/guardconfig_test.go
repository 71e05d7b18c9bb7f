package gateway

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph/guard"
)

func TestGraphQLLimitsConfiguration(t *testing.T) {
	c, err := LoadConfig(getenv(nil))
	require.NoError(t, err)
	assert.Equal(t, guard.DefaultLimits(), c.Limits)

	c, err = LoadConfig(getenv(map[string]string{"GRAPHQL_MAX_ALIASES": "5", "GRAPHQL_MAX_BODY_BYTES": "2048", "GRAPHQL_MAX_MUTATION_ALIASES": "0"}))
	require.NoError(t, err)
	assert.Equal(t, 5, c.Limits.MaxAliases)
	assert.EqualValues(t, 2048, c.Limits.MaxBodyBytes)
	assert.Zero(t, c.Limits.MaxMutationAliases)

	_, err = LoadConfig(getenv(map[string]string{"GRAPHQL_MAX_DEPTH": "deep", "GRAPHQL_MAX_COMPLEXITY": "0", "GRAPHQL_MAX_TOKENS": "-1"}))
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

func TestAdmissionConfiguration(t *testing.T) {
	c, err := LoadConfig(getenv(fullEnv()))
	require.NoError(t, err)
	assert.Equal(t, defaultMaxInFlight, c.Shed.MaxInFlight)
	assert.Equal(t, defaultQueueWait, c.Shed.QueueWait)
	assert.EqualValues(t, defaultMaxBodyBytesInFlight, c.Shed.MaxBodyBytesInFlight)
	assert.Equal(t, c.Limits.MaxBodyBytes, c.Shed.MaxBodyBytes)
	assert.Equal(t, defaultCallerRequestsPerMinute, c.CallerRequestsPerMinute)

	c, err = LoadConfig(getenv(nil))
	require.NoError(t, err)
	assert.Zero(t, c.CallerRequestsPerMinute, "demo mode: no per-caller request rate unless set")

	c, err = LoadConfig(getenv(map[string]string{"GRAPHQL_MAX_BODY_BYTES": "16777216"}))
	require.NoError(t, err)
	assert.EqualValues(t, 16<<20, c.Shed.MaxBodyBytesInFlight, "the default budget holds at least one body at the cap")

	_, err = LoadConfig(getenv(map[string]string{"GATEWAY_MAX_BODY_BYTES_IN_FLIGHT": "1000", "GATEWAY_MAX_IN_FLIGHT": "0",
		"GATEWAY_QUEUE_WAIT": "1h", "GATEWAY_CALLER_REQUESTS_PER_MINUTE": "-1"}))
	require.Error(t, err)
	for _, name := range []string{"GATEWAY_MAX_BODY_BYTES_IN_FLIGHT", "GATEWAY_MAX_IN_FLIGHT", "GATEWAY_QUEUE_WAIT", "GATEWAY_CALLER_REQUESTS_PER_MINUTE"} {
		assert.Contains(t, err.Error(), name)
	}
}
