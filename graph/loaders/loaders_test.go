package loaders_test

// The loaders against the emulators over real HTTP, through the real
// upstream clients: how lookups are batched and de-duplicated, how answers
// are mapped back to keys, what priming saves and that a failed lookup is
// asked again.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph/loaders"
	"github.com/groupdir/gateway/upstream"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesys"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroups"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// testWait bounds how long a test waits for concurrent lookups.
const testWait = 20 * time.Second

// fixture is both emulators behind httptest servers and the real clients
// on them (no retries: a fault is one failed call).
type fixture struct {
	genesys    *genesys.Client
	usergroups *usergroups.Client
	gk, uk     *emukit.Kit
	// batches are the batch sizes ObserveBatch heard, by loader.
	mu      sync.Mutex
	batches map[string][]int
}

func setup(t *testing.T) *fixture {
	t.Helper()
	gemu := genesysemu.New(genesysemu.Options{Size: demodata.Demo, ClientID: "loaders", ClientSecret: "loaders-secret"})
	gsrv := httptest.NewServer(gemu)
	t.Cleanup(gsrv.Close)
	uemu := usergroupsemu.New(usergroupsemu.Options{Size: demodata.Demo})
	usrv := httptest.NewServer(uemu)
	t.Cleanup(usrv.Close)
	hc := upstream.NewHTTPClient(upstream.ClientOptions{})
	g, err := genesys.New(gsrv.URL, hc, genesys.WithTokenSource(genesys.NewTokenSource(gsrv.URL, "loaders", "loaders-secret", hc)))
	require.NoError(t, err)
	u, err := usergroups.New(usrv.URL, demodata.CompanyID, usergroupsemu.DemoIntegrationKey, hc)
	require.NoError(t, err)
	return &fixture{genesys: g, usergroups: u, gk: gemu.Kit(), uk: uemu.Kit(), batches: map[string][]int{}}
}

// loaders returns a request's loaders with the given batch window (zero:
// the default).
func (f *fixture) loaders(wait time.Duration) *loaders.Loaders {
	return loaders.New(f.genesys, f.usergroups, loaders.Options{Wait: wait, ObserveBatch: func(name string, size int) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.batches[name] = append(f.batches[name], size)
	}})
}

func (f *fixture) observed(name string) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batches[name]...)
}

// groupIDs returns the ids of groups from .. to-1 (the demo data set has
// demodata.Demo.Groups; the others are well-formed ids of no group).
func groupIDs(from, to int) []string {
	ids := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		ids = append(ids, demodata.GroupID(i))
	}
	return ids
}

// loadGroups looks every id up concurrently and returns the answers by id.
func loadGroups(t *testing.T, ctx context.Context, l *loaders.Loaders, ids []string) map[string]*genesys.Group {
	t.Helper()
	type answer struct {
		id  string
		g   *genesys.Group
		err error
	}
	answers := make(chan answer, len(ids))
	for _, id := range ids {
		go func() {
			g, err := l.Group(ctx, id)
			answers <- answer{id, g, err}
		}()
	}
	out := map[string]*genesys.Group{}
	timeout := time.After(testWait)
	for range ids {
		select {
		case a := <-answers:
			require.NoError(t, a.err, a.id)
			out[a.id] = a.g
		case <-timeout:
			t.Fatal("lookups did not finish")
		}
	}
	return out
}

// idsPerCall is the number of ids each GET /api/v2/groups carried.
func idsPerCall(k *emukit.Kit) []int {
	var out []int
	for _, c := range k.Calls() {
		if c.Route == genesysemu.RouteGetGroups {
			out = append(out, c.IDs)
		}
	}
	return out
}

func TestGroupLookupsAreBatchedUpToMaxIDsPerCall(t *testing.T) {
	f := setup(t)
	// A long window: batches go out when full, the last when the window ends.
	l := f.loaders(200 * time.Millisecond)
	ids := groupIDs(0, 250)
	// Every id asked twice: the loader's cache makes one key of each.
	got := loadGroups(t, context.Background(), l, append(append([]string(nil), ids...), ids...))
	require.Len(t, got, 250)
	for i, id := range ids {
		if i < demodata.Demo.Groups {
			require.NotNil(t, got[id], id)
			assert.Equal(t, id, got[id].ID)
		} else {
			assert.Nil(t, got[id], "no group has %s", id)
		}
	}
	perCall := idsPerCall(f.gk)
	assert.GreaterOrEqual(t, len(perCall), 3, "250 ids need three calls at least")
	total := 0
	for _, n := range perCall {
		assert.LessOrEqual(t, n, loaders.MaxGroupIDsPerCall)
		total += n
	}
	assert.Equal(t, 250, total, "each id is sent once")
	assert.Equal(t, perCall, f.observed("group"), "ObserveBatch hears every batch")
}

func TestPrefetchGroupsSendsOneCallPerHundredIDs(t *testing.T) {
	f := setup(t)
	l := f.loaders(0)
	ctx := context.Background()
	ids := groupIDs(0, 250)
	l.PrefetchGroups(ctx, append(ids, ids[:10]...))
	l.PrefetchGroups(ctx, ids[100:110]) // already started: nothing new
	got := loadGroups(t, ctx, l, ids)
	assert.Equal(t, demodata.GroupID(7), got[demodata.GroupID(7)].ID)
	assert.ElementsMatch(t, []int{100, 100, 50}, idsPerCall(f.gk))
}

// TestAnswersAreMappedToKeysByID answers a full batch of 100 ids with a
// page whose entities are reordered, one duplicated and one missing: each
// key still gets its own group, or none.
func TestAnswersAreMappedToKeysByID(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	ids := groupIDs(0, loaders.MaxGroupIDsPerCall)
	real, err := f.genesys.GetGroups(ctx, genesys.GetGroupsOptions{IDs: groupIDs(0, 10), PageSize: 10})
	require.NoError(t, err)
	require.Len(t, real.Entities, 10)
	byID := map[string]genesys.Group{}
	for _, g := range real.Entities {
		byID[g.ID] = g
	}
	var entities []genesys.Group
	for i := 9; i >= 0; i-- { // reversed
		if i != 5 { // missing
			entities = append(entities, byID[demodata.GroupID(i)])
		}
	}
	entities = append(entities, byID[demodata.GroupID(2)]) // duplicated
	body, err := json.Marshal(genesys.GroupEntityListing{Entities: entities,
		Page: genesys.Page{PageSize: len(ids), PageNumber: 1, Total: int64(len(entities)), PageCount: 1}})
	require.NoError(t, err)
	f.gk.Reset()
	f.gk.Inject(genesysemu.RouteGetGroups, emukit.Fault{Status: http.StatusOK, Body: string(body), Times: 1})

	// A full batch goes out at once, whatever the window.
	got := loadGroups(t, ctx, f.loaders(time.Hour), ids)
	assert.Equal(t, []int{loaders.MaxGroupIDsPerCall}, idsPerCall(f.gk), "one call")
	for i, id := range ids {
		switch {
		case i == 5 || i >= 10:
			assert.Nil(t, got[id], "%s is not in the answer", id)
		default:
			require.NotNil(t, got[id], id)
			assert.Equal(t, id, got[id].ID)
			assert.Equal(t, demodata.GroupName(i), got[id].Name)
		}
	}
}

func TestMalformedGroupIDCostsNoCall(t *testing.T) {
	f := setup(t)
	l := f.loaders(0)
	g, err := l.Group(context.Background(), "../users/me")
	assert.Nil(t, g)
	require.Error(t, err)
	l.PrefetchGroups(context.Background(), []string{"a/b"})
	assert.Empty(t, f.gk.Calls())
}

func TestPrimedGroupsCostNoCall(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	l := f.loaders(0)
	page, err := f.genesys.GetGroups(ctx, genesys.GetGroupsOptions{IDs: groupIDs(0, 3), PageSize: 3})
	require.NoError(t, err)
	l.PrimeGroups(ctx, page.Entities)
	byJabber, err := l.GroupByJabberID(ctx, demodata.GroupJabberID(4))
	require.NoError(t, err)
	require.NotNil(t, byJabber)
	assert.Equal(t, demodata.GroupID(4), byJabber.ID)
	f.gk.Reset()

	for _, id := range groupIDs(0, 5) {
		if id == demodata.GroupID(3) {
			continue // not primed
		}
		g, err := l.Group(ctx, id)
		require.NoError(t, err)
		require.NotNil(t, g, id)
		assert.Equal(t, id, g.ID)
	}
	assert.Empty(t, f.gk.Calls(), "primed by the page and by the jabber-id lookup")

	l.ForgetGroup(ctx, demodata.GroupID(1))
	_, err = l.Group(ctx, demodata.GroupID(1))
	require.NoError(t, err)
	assert.Equal(t, []int{1}, idsPerCall(f.gk), "a forgotten group is asked again")
}

func TestFailedLookupsAreNotCached(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	l := f.loaders(0)
	id := demodata.GroupID(2)

	f.gk.Inject(genesysemu.RouteGetGroups, emukit.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	_, err := l.Group(ctx, id)
	require.Error(t, err)
	g, err := l.Group(ctx, id)
	require.NoError(t, err, "the failure was not cached")
	assert.Equal(t, id, g.ID)
	assert.Equal(t, 2, f.gk.Count(genesysemu.RouteGetGroups))

	// A failed prefetch: the lookup that waited for it fails, the next asks again.
	other := demodata.GroupID(3)
	f.gk.Inject(genesysemu.RouteGetGroups, emukit.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	l.PrefetchGroups(ctx, []string{other})
	_, err = l.Group(ctx, other)
	require.Error(t, err)
	g, err = l.Group(ctx, other)
	require.NoError(t, err)
	assert.Equal(t, other, g.ID)
	assert.Equal(t, 4, f.gk.Count(genesysemu.RouteGetGroups))

	ugID := demodata.UserGroupID(1)
	f.uk.Inject(usergroupsemu.RouteGet, emukit.Fault{Status: http.StatusInternalServerError, Times: 1})
	_, err = l.UserGroup(ctx, ugID)
	require.Error(t, err)
	ug, err := l.UserGroup(ctx, ugID)
	require.NoError(t, err)
	require.NotNil(t, ug)
	assert.Equal(t, 2, f.uk.Count(usergroupsemu.RouteGet))
}

func TestPerKeyLookupsShareOneCallPerKey(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	l := f.loaders(0)

	// User-group ids that differ only in case or hyphens are one lookup.
	id := demodata.UserGroupID(4)
	spelled := strings.ToUpper(id[:8]) + "-" + id[8:]
	for _, s := range []string{id, spelled, id} {
		ug, err := l.UserGroup(ctx, s)
		require.NoError(t, err)
		require.NotNil(t, ug)
	}
	assert.Equal(t, 1, f.uk.Count(usergroupsemu.RouteGet))
	missing, err := l.UserGroup(ctx, demodata.UserGroupID(9999))
	require.NoError(t, err, "no user group: nil, not an error")
	assert.Nil(t, missing)

	key := loaders.MembersKey{GroupID: demodata.GroupID(1), PageSize: 25, PageNumber: 1}
	l.PrefetchMembers(ctx, []loaders.MembersKey{key, key})
	for range 2 {
		page, err := l.Members(ctx, key)
		require.NoError(t, err)
		assert.Len(t, page.Entities, demodata.Demo.MembersPerGroup)
	}
	assert.Equal(t, 1, f.gk.Count(genesysemu.RouteGetMembers))

	ext := demodata.Demo.UserGroupExternalID(0)
	for range 2 {
		_, err := l.UserGroupsByExternalID(ctx, ext)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, f.uk.Count(usergroupsemu.RouteSearch))
	assert.Equal(t, []int{1}, f.observed("members"), "each key is its own batch")
}

func TestMembersPagesShareOneCallAndFailuresAreForgotten(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	l := f.loaders(0)

	// Askers of one page while its call is under way wait for that call.
	key := loaders.MembersKey{GroupID: demodata.GroupID(1), PageSize: 25, PageNumber: 1}
	f.gk.Inject(genesysemu.RouteGetMembers, emukit.Fault{Latency: 200 * time.Millisecond, Times: 1})
	l.PrefetchMembers(ctx, []loaders.MembersKey{key})
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() {
			_, err := l.Members(ctx, key)
			errs <- err
		}()
	}
	timeout := time.After(testWait)
	for range cap(errs) {
		select {
		case err := <-errs:
			require.NoError(t, err)
		case <-timeout:
			t.Fatal("lookups did not finish")
		}
	}
	assert.Equal(t, 1, f.gk.Count(genesysemu.RouteGetMembers))

	// A failed page is asked again, prefetched or not.
	other := loaders.MembersKey{GroupID: demodata.GroupID(2), PageSize: 25, PageNumber: 1}
	f.gk.Inject(genesysemu.RouteGetMembers, emukit.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	l.PrefetchMembers(ctx, []loaders.MembersKey{other})
	_, err := l.Members(ctx, other)
	require.Error(t, err)
	_, err = l.Members(ctx, other)
	require.Error(t, err)
	page, err := l.Members(ctx, other)
	require.NoError(t, err)
	assert.Len(t, page.Entities, demodata.Demo.MembersPerGroup)
	assert.Equal(t, 4, f.gk.Count(genesysemu.RouteGetMembers))
	assert.Equal(t, []int{1, 1, 1, 1}, f.observed("members"))
}
