package genesysemu

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
)

func TestInjectedUnavailable(t *testing.T) {
	e := setup(t)
	e.emu.Kit().Inject(RouteGetGroup, emukit.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "2", Times: 1})
	path := "/api/v2/groups/" + demodata.GroupID(0)
	resp, _ := e.call(http.MethodGet, path, nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"))
	assertCorrelation(t, resp)
	resp, _ = e.call(http.MethodGet, path, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 2, e.emu.Kit().Count(RouteGetGroup))
}

func TestResetAfterApplyOnPostMembers(t *testing.T) {
	e := setup(t)
	path := "/api/v2/groups/" + demodata.GroupID(5)
	version := number(e.get(path), "version")
	e.emu.Kit().Inject(RoutePostMembers, emukit.Fault{ResetAfterApply: true, Times: 1})

	body := `{"memberIds":["` + demodata.UserID(150) + `"],"version":` + fmt.Sprint(version) + `}`
	req, err := http.NewRequest(http.MethodPost, e.url+path+"/members", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the connection is dropped")

	g := e.get(path)
	assert.EqualValues(t, version+1, g["version"], "the write was applied")
	assert.Contains(t, ids(t, e.get(path+"/members?pageSize=100"), "entities"), demodata.UserID(150))
}

func TestConcurrentReadsAndWrites(t *testing.T) {
	e := setup(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 10 {
				g := demodata.GroupID((w*10 + k) % demodata.Demo.Groups)
				for _, c := range []struct {
					method, path string
					body         any
				}{
					{http.MethodGet, "/api/v2/groups?id=" + g, nil},
					{http.MethodDelete, "/api/v2/groups/" + g + "/members?ids=" + demodata.UserID(k), nil},
					{http.MethodGet, "/api/v2/groups/" + g + "/members", nil},
					{http.MethodPost, "/api/v2/groups/search", query(crit("CONTAINS", []string{"name"}, "a"))},
				} {
					resp, body, err := e.do(e.token, c.method, c.path, c.body)
					if assert.NoError(t, err) {
						assert.Less(t, resp.StatusCode, 300, string(body))
					}
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 80, e.emu.Kit().Count(RouteDeleteMembers))
	assert.LessOrEqual(t, e.emu.Kit().MaxInFlight(), 8)
}

func TestLatencyEndsWhenClientLeaves(t *testing.T) {
	emu := New(Options{Latency: time.Hour, Tokens: map[string][]string{"t": nil}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodDelete,
		"/api/v2/groups/"+demodata.GroupID(0)+"/members?ids="+demodata.UserID(0), nil)
	req.Header.Set("Authorization", "Bearer t")
	rec := httptest.NewRecorder()
	emu.ServeHTTP(rec, req)
	assert.Empty(t, rec.Body.String(), "nothing is answered")
	err := emu.store.read(demodata.GroupID(0), func(g *group) error {
		assert.True(t, g.direct[demodata.Demo.MemberIndexes(0)[0]], "nothing is applied")
		return nil
	})
	require.NoError(t, err)
}
