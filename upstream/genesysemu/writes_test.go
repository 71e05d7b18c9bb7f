package genesysemu

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream/demodata"
)

func TestBodiesTolerateUnknownKeysByDefault(t *testing.T) {
	e := setup(t)
	resp, body := e.call(http.MethodPost, "/api/v2/groups", map[string]any{"name": "Tolerated", "type": "official",
		"rulesVisible": true, "visibility": "public", "owner": "x", "NAME": "ignored"})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	g := decode(t, body)
	assert.Equal(t, "Tolerated", g["name"], "a miscased key is ignored, not matched")

	path := "/api/v2/groups/" + demodata.GroupID(3)
	version := number(e.get(path), "version")
	resp, body = e.call(http.MethodPut, path, map[string]any{"version": version, "type": "social"})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, "official", decode(t, body)["type"], "type is not a GroupUpdate member: ignored")

	resp, body = e.call(http.MethodPost, path+"/members",
		map[string]any{"memberIDs": []string{demodata.UserID(150)}, "memberIds": []string{demodata.UserID(151)}})
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
	members := ids(t, e.get(path+"/members?pageSize=100"), "entities")
	assert.Contains(t, members, demodata.UserID(151))
	assert.NotContains(t, members, demodata.UserID(150))

	resp, body = e.call(http.MethodPut, path, `{"version":1} {}`)
	assertError(t, resp, body, http.StatusBadRequest, "bad.request")
}

func TestVersionConflictForms(t *testing.T) {
	forms := []struct {
		status      int
		code        string
		messageHint string
	}{
		{0, "general.conflict", "does not match the current version"},
		{http.StatusConflict, "general.conflict", "does not match the current version"},
		{http.StatusBadRequest, "bad.request", "The version 1 does not match the current version 2"},
		{http.StatusRequestTimeout, "client.timeout", ""},
	}
	for _, f := range forms {
		t.Run(http.StatusText(f.status), func(t *testing.T) {
			e := setup(t)
			e.emu.SetWrites(Writes{ConflictStatus: f.status})
			path := "/api/v2/groups/" + demodata.GroupID(1) // version 2
			require.EqualValues(t, 2, e.get(path)["version"])
			want := f.status
			if want == 0 {
				want = http.StatusConflict
			}
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{http.MethodPut, path, map[string]any{"version": 1, "name": "x"}},
				{http.MethodPost, path + "/members", map[string]any{"memberIds": []string{demodata.UserID(150)}, "version": 1}},
			} {
				resp, body := e.call(c.method, c.path, c.body)
				assertError(t, resp, body, want, f.code)
				assert.Contains(t, decode(t, body)["message"], f.messageHint)
			}
			assert.EqualValues(t, 2, e.get(path)["version"], "nothing applied")
		})
	}
}

func TestPropagationDelay(t *testing.T) {
	e := setup(t)
	e.emu.SetWrites(Writes{PropagationDelay: 500 * time.Millisecond})
	path := "/api/v2/groups/" + demodata.GroupID(2)
	version := number(e.get(path), "version")
	leaving := memberIDs(2)[0]

	resp, body := e.call(http.MethodPost, path+"/members", map[string]any{"memberIds": []string{demodata.UserID(150)}, "version": version})
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
	resp, body = e.call(http.MethodDelete, path+"/members?ids="+leaving, nil)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
	assert.EqualValues(t, version+2, e.get(path)["version"], "the version moves at once")
	individuals := ids(t, e.get(path+"/individuals"), "entities")
	assert.NotContains(t, individuals, demodata.UserID(150), "the add is not visible yet")
	assert.Contains(t, individuals, leaving, "the removal is not visible yet")
	require.Eventually(t, func() bool {
		individuals := ids(t, e.get(path+"/individuals"), "entities")
		return slices.Contains(individuals, demodata.UserID(150)) && !slices.Contains(individuals, leaving)
	}, 10*time.Second, 10*time.Millisecond, "both changes become visible")

	resp, _ = e.call(http.MethodDelete, path, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	e.get(path) // still there right after the delete
	require.Eventually(t, func() bool {
		resp, _ := e.call(http.MethodGet, path, nil)
		return resp.StatusCode == http.StatusNotFound
	}, 10*time.Second, 10*time.Millisecond)
}

func TestDroppedDelete(t *testing.T) {
	e := setup(t)
	e.emu.SetWrites(Writes{DropDeletes: 1})
	path := "/api/v2/groups/" + demodata.GroupID(4)
	resp, body := e.call(http.MethodDelete, path, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Empty(t, body)
	e.get(path) // the delete was dropped
	resp, _ = e.call(http.MethodDelete, path, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body = e.call(http.MethodGet, path, nil)
	assertError(t, resp, body, http.StatusNotFound, "not.found")
}
