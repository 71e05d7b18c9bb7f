package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/graph"
	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/genesysemu"
)

// The gateway as a subgraph of a real supergraph: composed with a second
// subgraph (clients/federation/supergraph.mjs: "channels", which adds
// Group.channel and lists featured groups by reference) by
// @theguild/federation-composition and served by Hive Gateway, all on
// loopback. Needs Node.js and `npm ci` in clients/federation: skipped
// without them, except under CI (CI=true), where it fails.

// federationDir holds the JavaScript side and its lockfile.
var federationDir = filepath.Join(repoRoot, "clients", "federation")

// startSupergraph starts supergraph.mjs in front of the gateway e, with
// the featured group ids, and returns the URL of Hive Gateway.
func startSupergraph(t *testing.T, node string, e *testEnv, featured []string) string {
	t.Helper()
	sdl := filepath.Join(t.TempDir(), "directory.graphql")
	require.NoError(t, os.WriteFile(sdl, []byte(graph.SubgraphSDL()), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, node, "supergraph.mjs", e.srv.URL+"/query", sdl, strings.Join(featured, ","))
	cmd.Dir = federationDir
	stderr := &syncBuffer{} // written by exec's copying goroutine
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe() // closed by the cleanup: the script exits
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close()
		cancel()
		_ = cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	select {
	case line := <-lines:
		var started struct{ Gateway string }
		require.NoError(t, json.Unmarshal([]byte(line), &started), "supergraph.mjs: %q, stderr: %s", line, stderr.String())
		require.True(t, strings.HasPrefix(started.Gateway, "http://127.0.0.1:"), started.Gateway)
		return started.Gateway
	case <-ctx.Done():
		t.Fatalf("supergraph.mjs did not start: %s", stderr.String())
		return ""
	}
}

func TestSupergraph(t *testing.T) {
	node := nodeWith(t, federationDir, "@graphql-hive/gateway/package.json")
	e := setupSized(t, federated, hundredGroups)
	featured := make([]string, 100)
	for i := range featured {
		featured[i] = demodata.GroupID(i)
	}
	gatewayURL := startSupergraph(t, node, e, featured)

	// Both subgraphs in one query, both ways: the directory's groups with
	// the channels' field, and the channels' 100 featured groups with the
	// directory's fields (one _entities request of 100 Group
	// representations).
	query := `{
		groups(pageSize: 3) { entities { id name channel } }
		featuredGroups { id name memberCount channel }
	}`
	e.resetCalls()
	body, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Post(gatewayURL, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	var r gqlResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	require.Empty(t, r.Errors)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	page, _ := dig(r.Data, "groups", "entities").([]any)
	require.Len(t, page, 3)
	for _, g := range page {
		id, _ := dig(g, "id").(string)
		require.Len(t, id, 36)
		assert.NotEmpty(t, dig(g, "name"))
		assert.Equal(t, "#team-"+id[32:], dig(g, "channel"))
	}
	groups, _ := dig(r.Data, "featuredGroups").([]any)
	require.Len(t, groups, 100)
	for i, g := range groups {
		assert.Equal(t, demodata.GroupID(i), dig(g, "id"))
		assert.Equal(t, demodata.GroupName(i), dig(g, "name"))
		assert.NotNil(t, dig(g, "memberCount"))
		assert.Equal(t, "#team-"+demodata.GroupID(i)[32:], dig(g, "channel"))
	}
	// The page of groups, and the 100 entities in one batched lookup.
	assert.Equal(t, 2, e.genesysKit().Count(genesysemu.RouteGetGroups), "%v", e.genesysKit().CountsByRoute())
	assert.Equal(t, 2, e.apiCalls())
}
