package genesysemu_test

// The contract test between the typed client (upstream/genesys) and the
// emulator: every client method against the emulator over HTTP. Both were
// written from the reference independently, so a mapping bug on either side
// fails here.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/genesysemu"
)

const (
	clientID     = "contract-client"
	clientSecret = "contract-secret"
	callerToken  = "contract-caller"
)

// setupClient serves an emulator that refuses unknown or miscased body keys
// (Options.StrictBodies), so that a wrong JSON name in the client fails here.
func setupClient(t *testing.T) (*genesys.Client, *genesysemu.Server) {
	t.Helper()
	emu := genesysemu.New(genesysemu.Options{ClientID: clientID, ClientSecret: clientSecret, StrictBodies: true,
		Tokens: map[string][]string{callerToken: {"directory:group:view", "directory:group:edit"}}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	hc := upstream.NewHTTPClient(upstream.ClientOptions{})
	c, err := genesys.New(srv.URL, hc,
		genesys.WithTokenSource(genesys.NewTokenSource(srv.URL, clientID, clientSecret, hc)))
	require.NoError(t, err)
	return c, emu
}

func memberIDs(g int) []string {
	var out []string
	for _, u := range demodata.Demo.MemberIndexes(g) {
		out = append(out, demodata.UserID(u))
	}
	return out
}

func entityIDs[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for k, it := range items {
		out[k] = id(it)
	}
	return out
}

func groupID(g genesys.Group) string { return g.ID }

func TestClientGroups(t *testing.T) {
	c, emu := setupClient(t)
	ctx := context.Background()

	g, err := c.GetGroup(ctx, demodata.GroupID(1))
	require.NoError(t, err)
	assert.Equal(t, demodata.GroupName(1), g.Name)
	assert.EqualValues(t, demodata.Demo.MembersPerGroup, g.MemberCount)
	assert.Equal(t, genesys.StateActive, g.State)
	assert.NotNil(t, g.IncludeOwners)
	require.Len(t, g.Owners, 1)
	assert.Equal(t, memberIDs(1)[0], g.Owners[0].ID)

	_, err = c.GetGroup(ctx, "6a0f0000-0000-4000-8000-ffffffffffff")
	assert.ErrorIs(t, err, upstream.ErrNotFound)
	var ue *upstream.Error
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "not.found", ue.Code)
	assert.NotEmpty(t, ue.CorrelationID)

	page, err := c.GetGroups(ctx, genesys.GetGroupsOptions{PageSize: 10, PageNumber: 2, SortOrder: genesys.SortDescending})
	require.NoError(t, err)
	assert.Len(t, page.Entities, 10)
	assert.EqualValues(t, demodata.Demo.Groups, page.Total)
	assert.Equal(t, 4, page.PageCount)
	assert.NotEmpty(t, page.NextURI)
	assert.NotEmpty(t, page.PreviousURI)

	want := []string{demodata.GroupID(3), demodata.GroupID(30)}
	byID, err := c.GetGroups(ctx, genesys.GetGroupsOptions{IDs: append(want, "6a0f0000-0000-4000-8000-ffffffffffff")})
	require.NoError(t, err)
	assert.ElementsMatch(t, want, entityIDs(byID.Entities, groupID))

	byJabber, err := c.GetGroups(ctx, genesys.GetGroupsOptions{JabberIDs: []string{demodata.GroupJabberID(3), demodata.GroupJabberID(30)}})
	require.NoError(t, err)
	assert.ElementsMatch(t, want, entityIDs(byJabber.Entities, groupID))

	_, err = c.GetGroups(ctx, genesys.GetGroupsOptions{IDs: want, JabberIDs: []string{demodata.GroupJabberID(3)}})
	assert.Error(t, err, "id and jabberId together are refused (by the client or the emulator)")
	assert.Positive(t, emu.Kit().Count(genesysemu.RouteGetGroups))
}

func TestClientGroupLifecycle(t *testing.T) {
	c, _ := setupClient(t)
	ctx := context.Background()
	yes := true
	created, err := c.CreateGroup(ctx, genesys.GroupCreate{Name: "Contract Crew", Type: genesys.GroupTypeSocial,
		RulesVisible: true, Visibility: genesys.VisibilityOwners, Description: "ignored", IncludeOwners: &yes,
		OwnerIDs:  []string{demodata.UserID(42)},
		Addresses: []genesys.GroupContact{{Address: "+13175550100", Type: genesys.GroupContactPhone, MediaType: genesys.MediaTypePhone}}})
	require.NoError(t, err)
	assert.Equal(t, 1, created.Version)
	assert.Empty(t, created.Description)
	assert.Equal(t, genesys.VisibilityOwners, created.Visibility)
	assert.EqualValues(t, 1, created.MemberCount)

	name, desc := "Contract Crew II", "set after create"
	updated, err := c.UpdateGroup(ctx, created.ID, genesys.GroupUpdate{Version: created.Version, Name: &name, Description: &desc})
	require.NoError(t, err)
	assert.Equal(t, name, updated.Name)
	assert.Equal(t, desc, updated.Description)
	assert.Equal(t, 2, updated.Version)
	assert.Equal(t, genesys.GroupTypeSocial, updated.Type)
	assert.Equal(t, created.Addresses, updated.Addresses)

	_, err = c.UpdateGroup(ctx, created.ID, genesys.GroupUpdate{Version: created.Version, Name: &name})
	assert.ErrorIs(t, err, upstream.ErrConflict)

	cleared, err := c.UpdateGroup(ctx, created.ID, genesys.GroupUpdate{Version: updated.Version, OwnerIDs: []string{" "}})
	require.NoError(t, err)
	assert.Empty(t, cleared.Owners)

	_, err = c.CreateGroup(ctx, genesys.GroupCreate{Name: "No type", RulesVisible: true, Visibility: genesys.VisibilityPublic})
	assert.ErrorIs(t, err, upstream.ErrBadRequest)

	require.NoError(t, c.DeleteGroup(ctx, created.ID))
	_, err = c.GetGroup(ctx, created.ID)
	assert.ErrorIs(t, err, upstream.ErrNotFound)
}

func TestClientMembers(t *testing.T) {
	c, emu := setupClient(t)
	ctx := context.Background()
	id := demodata.GroupID(2)

	members, err := c.GetGroupMembers(ctx, id, genesys.MembersOptions{PageSize: 5, PageNumber: 1,
		SortOrder: genesys.SortAscending, Expand: []string{"presence", "dateLastLogin"}})
	require.NoError(t, err)
	assert.Len(t, members.Entities, 5)
	assert.EqualValues(t, demodata.Demo.MembersPerGroup, members.Total)
	u := members.Entities[0]
	assert.NotEmpty(t, u.Email)
	require.NotNil(t, u.Chat)
	assert.NotEmpty(t, u.Chat.JabberID)
	require.NotNil(t, u.Expansions)
	assert.NotEmpty(t, u.Expansions.Presence)
	assert.NotEmpty(t, u.DateLastLogin)

	individuals, err := c.GetGroupIndividuals(ctx, id)
	require.NoError(t, err)
	assert.ElementsMatch(t, memberIDs(2), entityIDs(individuals.Entities, func(u genesys.User) string { return u.ID }))

	g, err := c.GetGroup(ctx, id)
	require.NoError(t, err)
	v := g.Version
	require.NoError(t, c.AddGroupMembers(ctx, id, genesys.GroupMembersUpdate{MemberIDs: []string{demodata.UserID(190)}, Version: &v}))
	err = c.AddGroupMembers(ctx, id, genesys.GroupMembersUpdate{MemberIDs: []string{demodata.UserID(191)}, Version: &v})
	assert.ErrorIs(t, err, upstream.ErrConflict)
	require.NoError(t, c.RemoveGroupMembers(ctx, id, []string{demodata.UserID(190), memberIDs(2)[1]}))

	g, err = c.GetGroup(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, v+2, g.Version)
	assert.EqualValues(t, demodata.Demo.MembersPerGroup-1, g.MemberCount)
	assert.Equal(t, 1, emu.Kit().Count(genesysemu.RouteDeleteMembers))
}

func TestClientDynamicSettings(t *testing.T) {
	c, _ := setupClient(t)
	ctx := context.Background()
	def, err := c.GetDynamicSettings(ctx, demodata.GroupID(demodata.DynamicGroup))
	require.NoError(t, err)
	require.NotNil(t, def.Group)
	assert.Equal(t, demodata.GroupID(demodata.DynamicGroup), def.Group.ID)
	require.Len(t, def.Query.SkillConditions, 1)
	assert.Equal(t, genesys.OperationAnd, def.Query.SkillConditions[0].Operation)

	_, err = c.GetDynamicSettings(ctx, demodata.GroupID(0))
	assert.ErrorIs(t, err, upstream.ErrNotFound)

	q := genesys.DynamicGroupQuery{SkillConditions: []genesys.DynamicGroupSkillCondition{{
		Operation: genesys.OperationOr,
		RoutingSkillConditions: []genesys.DynamicGroupRoutingSkillCondition{
			{RoutingSkill: "Sales", Comparator: genesys.GreaterThan, Proficiency: 0}},
	}}}
	require.NoError(t, c.PutDynamicSettings(ctx, demodata.GroupID(0), q))
	got, err := c.GetDynamicSettings(ctx, demodata.GroupID(0))
	require.NoError(t, err)
	assert.Equal(t, q.SkillConditions[0].RoutingSkillConditions, got.Query.SkillConditions[0].RoutingSkillConditions)

	preview, err := c.PreviewDynamicGroup(ctx, q)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, preview.UserCount, 0)

	q.SkillConditions[0].RoutingSkillConditions[0].Proficiency = 9
	err = c.PutDynamicSettings(ctx, demodata.GroupID(0), q)
	assert.ErrorIs(t, err, upstream.ErrBadRequest)

	require.NoError(t, c.DeleteDynamicSettings(ctx, demodata.GroupID(0)))
	err = c.DeleteDynamicSettings(ctx, demodata.GroupID(0))
	assert.ErrorIs(t, err, upstream.ErrNotFound)
}

func TestClientSearch(t *testing.T) {
	c, _ := setupClient(t)
	ctx := context.Background()
	first, err := c.SearchGroups(ctx, genesys.GroupSearchRequest{PageSize: 3, SortOrder: genesys.SearchSortAscending,
		SortBy: "name", Query: []genesys.GroupSearchCriteria{
			{Type: genesys.CriteriaStartsWith, Fields: []string{"name"}, Value: "Sales"},
			{Type: genesys.CriteriaExact, Fields: []string{"state"}, Value: "inactive", Operator: genesys.OperatorNot},
		}})
	require.NoError(t, err)
	assert.EqualValues(t, 4, first.Total)
	assert.Equal(t, 2, first.PageCount)
	assert.Equal(t, []string{"groups"}, first.Types)
	assert.Len(t, first.Results, 3)
	require.NotEmpty(t, first.NextPage)

	second, err := c.SearchGroupsByCursor(ctx, genesys.CursorQ64(first.NextPage), []string{"owners"})
	require.NoError(t, err)
	assert.Equal(t, 2, second.PageNumber)
	assert.Len(t, second.Results, 1)
	assert.NotEmpty(t, second.NextPage, "the last page carries a next page, as the official sample does")

	_, err = c.SearchGroups(ctx, genesys.GroupSearchRequest{Query: []genesys.GroupSearchCriteria{
		{Type: "FUZZY", Fields: []string{"name"}, Value: "x"}}})
	assert.ErrorIs(t, err, upstream.ErrBadRequest)
	_, err = c.SearchGroupsByCursor(ctx, "AAAA", nil)
	assert.ErrorIs(t, err, upstream.ErrBadRequest)
}

func TestClientProfilesAndFieldConfig(t *testing.T) {
	c, _ := setupClient(t)
	ctx := context.Background()
	fc, err := c.GetFieldConfig(ctx, genesys.EntityGroup)
	require.NoError(t, err)
	assert.Equal(t, genesys.EntityGroup, fc.EntityType)
	require.NotEmpty(t, fc.Sections)
	key := fc.Sections[0].FieldList[0].Key
	for _, typ := range []genesys.EntityType{genesys.EntityPerson, genesys.EntityOrg, genesys.EntityExternalContact} {
		other, err := c.GetFieldConfig(ctx, typ)
		require.NoError(t, err)
		assert.Equal(t, typ, other.EntityType)
	}

	const g = 5 // the seeded version of group g is 1 + g%5
	p, err := c.GetGroupProfile(ctx, demodata.GroupID(g), []string{key})
	require.NoError(t, err)
	assert.Equal(t, demodata.GroupName(g), p.Name)
	assert.Equal(t, 1+g%5, p.Version)

	_, err = c.GetGroupProfile(ctx, demodata.GroupID(5), []string{"shoeSize"})
	assert.ErrorIs(t, err, upstream.ErrBadRequest)

	ps, err := c.GetGroupProfiles(ctx, genesys.GetGroupsOptions{IDs: []string{demodata.GroupID(5), demodata.GroupID(6)}})
	require.NoError(t, err)
	assert.Len(t, ps.Entities, 2)
	ps, err = c.GetGroupProfiles(ctx, genesys.GetGroupsOptions{PageSize: 7})
	require.NoError(t, err)
	assert.Len(t, ps.Entities, 7)
	assert.EqualValues(t, demodata.Demo.Groups, ps.Total)
}

func TestClientUserMeAndTokens(t *testing.T) {
	c, emu := setupClient(t)
	ctx := context.Background()
	me, err := c.GetUserMe(genesys.WithCallerToken(ctx, callerToken))
	require.NoError(t, err)
	assert.NotEmpty(t, me.ID)
	assert.ElementsMatch(t, []string{"directory:group:view", "directory:group:edit"}, me.Authorization.Permissions)

	_, err = c.GetGroup(genesys.WithCallerToken(ctx, "stolen"), demodata.GroupID(0))
	assert.ErrorIs(t, err, upstream.ErrUnauthorized)

	_, err = c.GetGroup(ctx, demodata.GroupID(0))
	require.NoError(t, err)
	_, err = c.GetGroup(ctx, demodata.GroupID(1))
	require.NoError(t, err)
	assert.Equal(t, 1, emu.IssuedTokens(), "the token is reused")
}

func TestClientErrorsFromFaults(t *testing.T) {
	c, emu := setupClient(t)
	ctx := context.Background()
	emu.Kit().Inject(genesysemu.RouteGetGroup, emukit.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "3", Times: 1})
	_, err := c.GetGroup(ctx, demodata.GroupID(0))
	assert.ErrorIs(t, err, upstream.ErrUnavailable)
	var ue *upstream.Error
	require.True(t, errors.As(err, &ue))
	assert.Equal(t, http.StatusServiceUnavailable, ue.Status)
	assert.Positive(t, ue.RetryAfter)

	emu.Kit().Inject(genesysemu.RoutePostMembers, emukit.Fault{ResetAfterApply: true, Times: 1})
	g, err := c.GetGroup(ctx, demodata.GroupID(0))
	require.NoError(t, err)
	v := g.Version
	err = c.AddGroupMembers(ctx, demodata.GroupID(0), genesys.GroupMembersUpdate{MemberIDs: []string{demodata.UserID(180)}, Version: &v})
	require.Error(t, err)
	var te *upstream.TransportError
	assert.ErrorAs(t, err, &te)
	g, err = c.GetGroup(ctx, demodata.GroupID(0))
	require.NoError(t, err)
	assert.Equal(t, v+1, g.Version, "the write was applied before the connection dropped")
}

// TestClientVersionConflictForms: each form in which the emulator answers a
// stale version reaches the client as upstream.ErrConflict, never as
// ErrBadRequest.
func TestClientVersionConflictForms(t *testing.T) {
	for _, status := range []int{http.StatusConflict, http.StatusBadRequest, http.StatusRequestTimeout} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			c, emu := setupClient(t)
			emu.SetWrites(genesysemu.Writes{ConflictStatus: status})
			ctx := context.Background()
			id := demodata.GroupID(3)
			g, err := c.GetGroup(ctx, id)
			require.NoError(t, err)
			stale := g.Version - 1
			name := "Stale"
			_, err = c.UpdateGroup(ctx, id, genesys.GroupUpdate{Version: stale, Name: &name})
			assert.ErrorIs(t, err, upstream.ErrConflict)
			assert.NotErrorIs(t, err, upstream.ErrBadRequest)
			err = c.AddGroupMembers(ctx, id, genesys.GroupMembersUpdate{MemberIDs: []string{demodata.UserID(180)}, Version: &stale})
			assert.ErrorIs(t, err, upstream.ErrConflict)
			assert.NotErrorIs(t, err, upstream.ErrBadRequest)
		})
	}
}
