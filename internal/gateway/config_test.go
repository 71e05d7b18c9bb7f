package gateway

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph/guard"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDemoModeWhenNothingIsSet(t *testing.T) {
	c, err := LoadConfig(getenv(nil))
	require.NoError(t, err)
	assert.True(t, c.Demo)
	assert.Equal(t, envDevelopment, c.Env)
	assert.Equal(t, "none", c.AuthMode)
	assert.Equal(t, ":8080", c.ListenAddr)
	assert.True(t, c.IDE && c.Introspection && c.Suggestions)
}

func fullEnv() map[string]string {
	return map[string]string{
		"GENESYS_REGION": "mypurecloud.ie", "GENESYS_CLIENT_ID": "id", "GENESYS_CLIENT_SECRET": "canary-secret-1",
		"USERGROUP_API_URL": "https://forms.example.com", "USERGROUP_COMPANY_ID": "61234",
		"USERGROUP_INTEGRATION_KEY": "canary-key-2", "AUTH_MODE": "none",
	}
}

func TestRegionDerivesURLs(t *testing.T) {
	c, err := LoadConfig(getenv(fullEnv()))
	require.NoError(t, err)
	assert.False(t, c.Demo)
	assert.Equal(t, "https://api.mypurecloud.ie", c.GenesysAPIURL)
	assert.Equal(t, "https://login.mypurecloud.ie", c.GenesysLoginURL)
	assert.Equal(t, envProduction, c.Env)
	assert.False(t, c.IDE || c.Introspection || c.Suggestions, "production turns them off")

	env := fullEnv()
	env["GENESYS_API_URL"] = "https://proxy.example.com"
	env["GATEWAY_IDE"] = "true"
	c, err = LoadConfig(getenv(env))
	require.NoError(t, err)
	assert.Equal(t, "https://proxy.example.com", c.GenesysAPIURL, "an explicit URL overrides the region's")
	assert.Equal(t, "https://login.mypurecloud.ie", c.GenesysLoginURL)
	assert.True(t, c.IDE, "turned back on explicitly")
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name   string
		change map[string]string
		want   []string
	}{
		{"missing secret", map[string]string{"GENESYS_CLIENT_SECRET": ""}, []string{"GENESYS_CLIENT_SECRET"}},
		{"missing client id", map[string]string{"GENESYS_CLIENT_ID": ""}, []string{"GENESYS_CLIENT_ID"}},
		{"unknown region", map[string]string{"GENESYS_REGION": "example.org"}, []string{"GENESYS_REGION"}},
		{"no region or URLs", map[string]string{"GENESYS_REGION": ""}, []string{"GENESYS_API_URL", "GENESYS_LOGIN_URL"}},
		{"bad usergroup URL", map[string]string{"USERGROUP_API_URL": "forms.example.com"}, []string{"USERGROUP_API_URL"}},
		{"company id not a number", map[string]string{"USERGROUP_COMPANY_ID": "abc"}, []string{"USERGROUP_COMPANY_ID"}},
		{"missing key", map[string]string{"USERGROUP_INTEGRATION_KEY": ""}, []string{"USERGROUP_INTEGRATION_KEY"}},
		{"missing auth mode", map[string]string{"AUTH_MODE": ""}, []string{"AUTH_MODE"}},
		{"bad env", map[string]string{"GATEWAY_ENV": "staging"}, []string{"GATEWAY_ENV"}},
		{"bad log level", map[string]string{"LOG_LEVEL": "loud"}, []string{"LOG_LEVEL"}},
		{"bad origin", map[string]string{"CORS_ALLOWED_ORIGINS": "not an origin"}, []string{"CORS_ALLOWED_ORIGINS"}},
		{"redis URL of another scheme", map[string]string{"REDIS_URL": "http://:canary-secret-1@redis:6379/0"}, []string{"REDIS_URL"}},
		{"redis URL with a bad database", map[string]string{"REDIS_URL": "redis://:canary-secret-1@redis:6379/x"}, []string{"REDIS_URL"}},
		{"delete confirmation too long", map[string]string{"GATEWAY_DELETE_CONFIRM_TIMEOUT": "25s"}, []string{"GATEWAY_DELETE_CONFIRM_TIMEOUT"}},
		{"only one upstream set", map[string]string{"GENESYS_REGION": "", "GENESYS_CLIENT_ID": "", "GENESYS_CLIENT_SECRET": ""},
			[]string{"GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET", "GENESYS_API_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := fullEnv()
			for k, v := range tt.change {
				env[k] = v
			}
			_, err := LoadConfig(getenv(env))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "canary-secret-1")
			assert.NotContains(t, err.Error(), "canary-key-2")
		})
	}
}

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
