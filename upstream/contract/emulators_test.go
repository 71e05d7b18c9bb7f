package contract_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/contract"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroups"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// The suite that `make smoke` runs against real upstreams, here against the
// emulators with writes on, so that it cannot rot between smoke runs.

func TestContractGenesysEmulator(t *testing.T) {
	emu := genesysemu.New(genesysemu.Options{ClientID: "contract", ClientSecret: "contract-secret"})
	// As the real API: conflicts in the 400 form, deletes and member changes
	// visible only after a while, the first delete silently dropped.
	emu.SetWrites(genesysemu.Writes{ConflictStatus: http.StatusBadRequest, PropagationDelay: 300 * time.Millisecond, DropDeletes: 1})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	hc := upstream.NewHTTPClient(upstream.ClientOptions{})
	c, err := genesys.New(srv.URL, hc, genesys.WithTokenSource(genesys.NewTokenSource(srv.URL, "contract", "contract-secret", hc)))
	require.NoError(t, err)
	contract.Genesys(t, c, contract.Options{Writes: true, Settle: 5 * time.Second})
}

func TestContractUsergroupsEmulator(t *testing.T) {
	emu := usergroupsemu.New(usergroupsemu.Options{Size: demodata.Demo})
	emu.SetUpdateEchoWithoutUsers(true) // as the vendor's PUT sample answers
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := usergroups.New(srv.URL, emu.CompanyID(), usergroupsemu.DemoIntegrationKey, upstream.NewHTTPClient(upstream.ClientOptions{}))
	require.NoError(t, err)
	contract.Usergroups(t, c, contract.Options{Writes: true, Settle: 5 * time.Second})
}
