package gateway

import (
	"fmt"
	"testing"

	"github.com/groupdir/gateway/internal/redistest"
	"github.com/groupdir/gateway/upstream/demodata"
)

// peerEnv is the environment of a second gateway instance on a's
// emulators (as a replica on the same upstreams), with env on top. It
// leaves demo mode, so the limits demo mode turns off are turned off here
// too unless env sets them.
func peerEnv(a *testEnv, env map[string]string) map[string]string {
	c := a.gw.cfg
	out := map[string]string{
		"GENESYS_API_URL": c.GenesysAPIURL, "GENESYS_LOGIN_URL": c.GenesysLoginURL,
		"GENESYS_CLIENT_ID": c.GenesysClientID, "GENESYS_CLIENT_SECRET": c.GenesysSecret,
		"USERGROUP_API_URL": c.UsergroupURL, "USERGROUP_COMPANY_ID": fmt.Sprint(c.UsergroupCompanyID),
		"USERGROUP_INTEGRATION_KEY": c.UsergroupKey,
		"AUTH_MODE":                 "none", "GATEWAY_ENV": "development",
		"AUTH_RATE_LIMIT_PER_MINUTE": "0", "GENESYS_RATE_LIMIT_PER_MINUTE": "0", "USERGROUP_RATE_LIMIT_PER_MINUTE": "0",
	}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// setupPeer starts a second gateway on a's emulators, as setup does.
func setupPeer(t *testing.T, a *testEnv, env map[string]string) *testEnv {
	t.Helper()
	return setupSized(t, peerEnv(a, env), demodata.Demo)
}

// replicas starts two gateway instances, A (demo mode, with the
// emulators) and B (on A's emulators), sharing one Redis; env applies to
// both.
func replicas(t *testing.T, rs *redistest.Server, env map[string]string) (a, b *testEnv) {
	t.Helper()
	e := map[string]string{"REDIS_URL": rs.URL()}
	for k, v := range env {
		e[k] = v
	}
	a = setup(t, e)
	return a, setupPeer(t, a, e)
}
