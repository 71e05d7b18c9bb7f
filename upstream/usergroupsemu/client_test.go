package usergroupsemu_test

// The contract test: every method of the typed client (upstream/usergroups)
// against the emulator, over real HTTP. The two were written independently
// from the reference, so a disagreement here is a misreading on one side.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/usergroups"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

const contractKey = "contract-canary-key-0b5d77e4"

func setupClient(t *testing.T, key string) (*usergroups.Client, *usergroupsemu.Server) {
	t.Helper()
	emu := usergroupsemu.New(usergroupsemu.Options{Size: demodata.Demo, IntegrationKey: contractKey})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := usergroups.New(srv.URL, demodata.CompanyID, key, upstream.NewHTTPClient(upstream.ClientOptions{}))
	require.NoError(t, err)
	return c, emu
}

func ptr(s string) *string { return &s }

func TestContractGet(t *testing.T) {
	c, emu := setupClient(t, contractKey)
	g, err := c.Get(context.Background(), demodata.UserGroupID(3))
	require.NoError(t, err)
	assert.Equal(t, &usergroups.UserGroup{
		ID: demodata.UserGroupID(3), Name: demodata.UserGroupName(3), ExternalID: ptr(demodata.GroupID(3)),
		UserIDs:   []string{demodata.UserID(15), demodata.UserID(16), demodata.UserID(17)},
		CompanyID: demodata.CompanyID,
	}, g)

	g, err = c.Get(context.Background(), demodata.UserGroupID(4))
	require.NoError(t, err)
	assert.Nil(t, g.ExternalID, "no ExternalId decodes as nil")
	assert.Empty(t, g.UserIDs)

	_, err = c.Get(context.Background(), "00000000-0000-4000-8000-000000000000")
	assert.ErrorIs(t, err, upstream.ErrNotFound)
	var ue *upstream.Error
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, http.StatusNotFound, ue.Status)
	assert.Equal(t, "NotFound", ue.Code)

	calls := emu.Kit().Calls()
	require.Len(t, calls, 3)
	assert.Equal(t, "json", calls[0].Query.Get("format"), "the client asks for JSON")
	assert.Equal(t, usergroupsemu.RouteGet, calls[0].Route)
}

func TestContractCreate(t *testing.T) {
	c, emu := setupClient(t, contractKey)
	g, err := c.Create(context.Background(), usergroups.CreateRequest{
		Name: "Another_Test_Group", ExternalID: ptr("grp_test2"), UserIDs: []string{demodata.UserID(1)},
	})
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{32}$`, g.ID, "the platform's N form")
	assert.Equal(t, "Another_Test_Group", g.Name)
	assert.Equal(t, ptr("grp_test2"), g.ExternalID)
	assert.Equal(t, []string{demodata.UserID(1)}, g.UserIDs)
	assert.Equal(t, demodata.CompanyID, g.CompanyID)

	stored, ok := emu.UserGroup(g.ID)
	require.True(t, ok)
	assert.Equal(t, "grp_test2", stored.ExternalID)

	bare, err := c.Create(context.Background(), usergroups.CreateRequest{Name: "Bare"})
	require.NoError(t, err)
	assert.Nil(t, bare.ExternalID)
	assert.Equal(t, []string{}, bare.UserIDs)
}

func TestContractCreateRejectedByUpstream(t *testing.T) {
	c, _ := setupClient(t, contractKey)
	_, err := c.Create(context.Background(), usergroups.CreateRequest{Name: "  "})
	assert.ErrorIs(t, err, upstream.ErrBadRequest)
	var ue *upstream.Error
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "NotEmpty", ue.Code)
}

func TestContractUpdate(t *testing.T) {
	c, emu := setupClient(t, contractKey)
	ctx := context.Background()
	id := demodata.UserGroupID(3)

	// Read-modify-write, as the reference recommends.
	g, err := c.Get(ctx, id)
	require.NoError(t, err)
	g.UserIDs = append(g.UserIDs, demodata.UserID(99))
	updated, err := c.Update(ctx, usergroups.UpdateRequest{ID: id, Name: "Renamed", ExternalID: g.ExternalID, UserIDs: g.UserIDs})
	require.NoError(t, err)
	assert.Equal(t, "Renamed", updated.Name)
	assert.Equal(t, ptr(demodata.GroupID(3)), updated.ExternalID)
	assert.Equal(t, []string{demodata.UserID(15), demodata.UserID(16), demodata.UserID(17), demodata.UserID(99)}, updated.UserIDs)

	cleared, err := c.Update(ctx, usergroups.UpdateRequest{ID: id, Name: "Renamed", ExternalID: ptr("")})
	require.NoError(t, err)
	assert.Nil(t, cleared.ExternalID, "an empty ExternalId clears it")
	assert.Empty(t, cleared.UserIDs, "a nil UserIDs is sent as [] and clears the members")
	assert.Zero(t, emu.UserGroupsByExternalID(demodata.GroupID(3)))

	_, err = c.Update(ctx, usergroups.UpdateRequest{ID: "00000000-0000-4000-8000-000000000000", Name: "x"})
	assert.ErrorIs(t, err, upstream.ErrNotFound)
}

func TestContractDelete(t *testing.T) {
	c, _ := setupClient(t, contractKey)
	ctx := context.Background()
	id := demodata.UserGroupID(7)
	require.NoError(t, c.Delete(ctx, id))
	_, err := c.Get(ctx, id)
	assert.ErrorIs(t, err, upstream.ErrNotFound)
	assert.ErrorIs(t, c.Delete(ctx, id), upstream.ErrNotFound, "deleting twice")
}

func TestContractSearch(t *testing.T) {
	c, _ := setupClient(t, contractKey)
	ctx := context.Background()

	// The safe paging loop of the reference: stop at a short page.
	var all []usergroups.UserGroup
	for page := 0; page < 100; page++ {
		res, err := c.Search(ctx, usergroups.SearchOptions{PageNo: page, PageSize: 7})
		require.NoError(t, err)
		all = append(all, res.UserGroups...)
		if len(res.UserGroups) < 7 {
			break
		}
	}
	require.Len(t, all, demodata.Demo.UserGroups)
	for i, g := range all {
		assert.Equal(t, demodata.UserGroupID(i), g.ID)
	}

	res, err := c.Search(ctx, usergroups.SearchOptions{ExternalID: demodata.GroupID(2)})
	require.NoError(t, err)
	require.Len(t, res.UserGroups, 1)
	assert.Equal(t, demodata.UserGroupID(2), res.UserGroups[0].ID)

	res, err = c.Search(ctx, usergroups.SearchOptions{Name: "forms team 02"})
	require.NoError(t, err)
	assert.Len(t, res.UserGroups, 10)

	res, err = c.Search(ctx, usergroups.SearchOptions{})
	require.NoError(t, err)
	assert.Len(t, res.UserGroups, demodata.Demo.UserGroups)

	res, err = c.Search(ctx, usergroups.SearchOptions{ExternalID: "no-such-group"})
	require.NoError(t, err)
	assert.Empty(t, res.UserGroups)
}

func TestContractWrongKey(t *testing.T) {
	c, emu := setupClient(t, contractKey+"-wrong")
	ctx := context.Background()
	id := demodata.UserGroupID(1)
	calls := map[string]func() error{
		"create": func() error { _, err := c.Create(ctx, usergroups.CreateRequest{Name: "n"}); return err },
		"get":    func() error { _, err := c.Get(ctx, id); return err },
		"update": func() error { _, err := c.Update(ctx, usergroups.UpdateRequest{ID: id, Name: "n"}); return err },
		"delete": func() error { return c.Delete(ctx, id) },
		"search": func() error { _, err := c.Search(ctx, usergroups.SearchOptions{}); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			assert.ErrorIs(t, err, upstream.ErrUnauthorized)
			assert.NotContains(t, err.Error(), contractKey)
		})
	}
	assert.Len(t, emu.Snapshot(), demodata.Demo.UserGroups, "nothing applied")
}

func TestContractFaults(t *testing.T) {
	c, emu := setupClient(t, contractKey)
	ctx := context.Background()

	emu.Kit().Inject(usergroupsemu.RouteSearch, emukit.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "2", Times: 1})
	_, err := c.Search(ctx, usergroups.SearchOptions{})
	assert.ErrorIs(t, err, upstream.ErrUnavailable)
	var ue *upstream.Error
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, 2*time.Second, ue.RetryAfter)

	emu.Kit().Inject(usergroupsemu.RouteGet, emukit.Fault{HTML: true, Times: 1})
	_, err = c.Get(ctx, demodata.UserGroupID(1))
	assert.ErrorIs(t, err, upstream.ErrUnavailable, "HTML with 200 is unusable")

	emu.Kit().Inject(usergroupsemu.RouteCreate, emukit.Fault{ResetAfterApply: true, Times: 1})
	_, err = c.Create(ctx, usergroups.CreateRequest{Name: "Once", ExternalID: ptr("ext-once")})
	var te *upstream.TransportError
	require.True(t, errors.As(err, &te), "got %v", err)
	assert.True(t, te.OutcomeUnknown, "a POST whose connection broke may have been applied")
	res, err := c.Search(ctx, usergroups.SearchOptions{ExternalID: "ext-once"})
	require.NoError(t, err)
	assert.Len(t, res.UserGroups, 1, "reconciling by ExternalId finds exactly one group")
	assert.Equal(t, 1, emu.UserGroupsByExternalID("ext-once"))
}
