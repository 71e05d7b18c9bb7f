//go:build smoke

package contract_test

import (
	"cmp"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/contract"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/usergroups"
)

// TestSmoke runs the contract suite against the real upstreams named by the
// gateway's own variables (GENESYS_REGION or GENESYS_API_URL and
// GENESYS_LOGIN_URL, GENESYS_CLIENT_ID, GENESYS_CLIENT_SECRET;
// USERGROUP_API_URL, USERGROUP_COMPANY_ID, USERGROUP_INTEGRATION_KEY).
// Reads only, unless SMOKE_WRITES=1. Run it with `make smoke`.
func TestSmoke(t *testing.T) {
	o := contract.Options{Writes: os.Getenv("SMOKE_WRITES") == "1", Prefix: os.Getenv("SMOKE_PREFIX")}
	ran := false
	if id := os.Getenv("GENESYS_CLIENT_ID"); id != "" {
		ran = true
		t.Run("genesys", func(t *testing.T) { contract.Genesys(t, genesysClient(t, id), o) })
	}
	if os.Getenv("USERGROUP_API_URL") != "" {
		ran = true
		t.Run("usergroups", func(t *testing.T) { contract.Usergroups(t, usergroupsClient(t), o) })
	}
	if !ran {
		t.Skip("no real upstream configured: set GENESYS_REGION (or GENESYS_API_URL and GENESYS_LOGIN_URL), " +
			"GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET, and/or USERGROUP_API_URL, USERGROUP_COMPANY_ID and " +
			"USERGROUP_INTEGRATION_KEY; add SMOKE_WRITES=1 to create, change and delete objects named " + contract.DefaultPrefix + "…")
	}
}

func genesysClient(t *testing.T, clientID string) *genesys.Client {
	api, login := os.Getenv("GENESYS_API_URL"), os.Getenv("GENESYS_LOGIN_URL")
	if region := os.Getenv("GENESYS_REGION"); region != "" {
		a, l, err := genesys.RegionURLs(region)
		require.NoError(t, err, "GENESYS_REGION")
		api, login = cmp.Or(api, a), cmp.Or(login, l)
	}
	require.NotEmpty(t, api, "GENESYS_API_URL or GENESYS_REGION")
	require.NotEmpty(t, login, "GENESYS_LOGIN_URL or GENESYS_REGION")
	secret := os.Getenv("GENESYS_CLIENT_SECRET")
	require.NotEmpty(t, secret, "GENESYS_CLIENT_SECRET")
	hc := upstream.NewHTTPClient(upstream.ClientOptions{})
	c, err := genesys.New(api, hc, genesys.WithTokenSource(genesys.NewTokenSource(login, clientID, secret, hc)))
	require.NoError(t, err, "GENESYS_API_URL")
	return c
}

func usergroupsClient(t *testing.T) *usergroups.Client {
	company, err := strconv.ParseInt(os.Getenv("USERGROUP_COMPANY_ID"), 10, 64)
	require.NoError(t, err, "USERGROUP_COMPANY_ID must be a positive integer")
	key := os.Getenv("USERGROUP_INTEGRATION_KEY")
	require.NotEmpty(t, key, "USERGROUP_INTEGRATION_KEY")
	c, err := usergroups.New(os.Getenv("USERGROUP_API_URL"), company, key, upstream.NewHTTPClient(upstream.ClientOptions{}))
	require.NoError(t, err, "USERGROUP_API_URL")
	return c
}
